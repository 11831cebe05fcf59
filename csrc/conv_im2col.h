/* im2col + GEMM, forward and backward (per dtype, included by conv_impl.h): the lowering of
 * darknet, Caffe and Chainer, and the path every shape can take.
 *   forward:  y_g (C_out_g x P) = W_g (C_out_g x K) @ col_g (K x P), col = im2col(x_g),
 *             K = C_in_g*kH*kW, P = OH*OW; bias and activation on the way out
 *   backward: dW_g += dY_g @ col_g^T;  dcol = W_g^T @ dY_g;  dX_g = col2im(dcol)
 * It takes what the per-image paths leave (conv_dispatch.h): a single image (its GEMM then
 * splits the columns between the threads), groups of fewer than 8 outputs, and the dX that
 * those paths do not compute. Images too small to give the GEMM enough columns are lowered
 * several side by side into one column matrix (block_images); at stride 1 with short rows the
 * columns come from zero-padded "wide" rows, one contiguous copy per column row. The same
 * block drivers run the direct loops of conv_direct.h where the taps are few (use_direct).
 * Threads split the batch in blocks fixed by the shape, so results do not depend on the
 * thread count (dW: per-thread partial sums added in thread order). Scratch: mn_workspace
 * slot WS_CONV, one request per thread per call. */

/* The GEMM of this path. Called from a chunk of our batch jobs it runs serially in that
 * thread (mn_parallel runs nested jobs inline); called outside one it gets the threads. */
static int FN(gemm_in_team)(int ta, int tb, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, DT alpha,
                            const DT *a, ptrdiff_t lda, const DT *b, ptrdiff_t ldb, DT beta, DT *c,
                            ptrdiff_t ldc, const DT *bias, int act, int isa, int n_threads)
{
    return FN(mn_gemm)(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, act, isa,
                       mn_in_parallel() ? 1 : n_threads);
}

/* [*j0, *j1): the output columns j < OW whose input column col0 + j*sw lies inside [0, W)
 * (empty, j0 == j1, when every tap of the column falls in the padding). */
static inline void FN(col_range)(ptrdiff_t col0, ptrdiff_t sw, ptrdiff_t W, ptrdiff_t OW,
                                 ptrdiff_t *j0, ptrdiff_t *j1)
{
    ptrdiff_t a = 0, b = OW;
    if (col0 < 0)
        a = (-col0 + sw - 1) / sw;
    if (col0 + (OW - 1) * sw >= W)
        b = (W - 1 - col0) >= 0 ? (W - 1 - col0) / sw + 1 : 0;
    if (a > OW)
        a = OW;
    if (b < a)
        b = a;
    *j0 = a;
    *j1 = b;
}

/* col_kp[(c*kh + p)*kw + q][i*ow + j] (rows ldc apart) :=
 *     x_chw[c, i*sh - pad_t + p*dh, j*sw - pad_l + q*dw]
 * for the c_n channels starting at x_chw (zero outside the image). Chainer's im2col_cpu as a
 * loop: rows are unit-stride in j when sw == 1, so the inner copy is a memcpy-like run. */
static void FN(im2col)(const DT *x_chw, ptrdiff_t c_n, const mn_conv2d_geom *g, DT *col_kp,
                       ptrdiff_t ldc)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    DT *out = col_kp;
    for (ptrdiff_t c = 0; c < c_n; c++) {
        const DT *xc = x_chw + c * H * W;
        for (ptrdiff_t p = 0; p < g->kh; p++) {
            for (ptrdiff_t q = 0; q < g->kw; q++) {
                const ptrdiff_t col0 = q * g->dw - g->pad_l;
                ptrdiff_t j0, j1;
                FN(col_range)(col0, g->sw, W, OW, &j0, &j1);
                for (ptrdiff_t i = 0; i < OH; i++) {
                    const ptrdiff_t r = i * g->sh - g->pad_t + p * g->dh;
                    DT *o = out + i * OW;
                    if (r < 0 || r >= H) {
                        for (ptrdiff_t j = 0; j < OW; j++)
                            o[j] = 0;
                        continue;
                    }
                    const DT *xr = xc + r * W + col0;
                    for (ptrdiff_t j = 0; j < j0; j++)
                        o[j] = 0;
                    if (g->sw == 1) {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            o[j] = xr[j];
                    } else {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            o[j] = xr[j * g->sw];
                    }
                    for (ptrdiff_t j = j1; j < OW; j++)
                        o[j] = 0;
                }
                out += ldc;
            }
        }
    }
}

/* dx_chw[c, r, s] += sum of the col_kp entries that im2col copied from (c, r, s). */
static void FN(col2im)(const DT *col_kp, ptrdiff_t c_n, const mn_conv2d_geom *g, DT *dx_chw,
                       ptrdiff_t ldc)
{
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow;
    const DT *in = col_kp;
    for (ptrdiff_t c = 0; c < c_n; c++) {
        DT *xc = dx_chw + c * H * W;
        for (ptrdiff_t p = 0; p < g->kh; p++) {
            for (ptrdiff_t q = 0; q < g->kw; q++) {
                const ptrdiff_t col0 = q * g->dw - g->pad_l;
                ptrdiff_t j0, j1;
                FN(col_range)(col0, g->sw, W, OW, &j0, &j1);
                for (ptrdiff_t i = 0; i < OH; i++) {
                    const ptrdiff_t r = i * g->sh - g->pad_t + p * g->dh;
                    if (r < 0 || r >= H)
                        continue;
                    DT *xr = xc + r * W + col0;
                    const DT *o = in + i * OW;
                    if (g->sw == 1) {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            xr[j] += o[j];
                    } else {
                        for (ptrdiff_t j = j0; j < j1; j++)
                            xr[j * g->sw] += o[j];
                    }
                }
                in += ldc;
            }
        }
    }
}

/* Images per GEMM: a 14x14 or 7x7 image gives the GEMM only 196 or 49 columns, too few to
 * amortise packing W and the call; lowering several images side by side into one column
 * matrix (K x nb*P, kept under ~1 MiB of L2) makes one wider GEMM. Blocks are fixed by the
 * shape, not by the thread count, so results do not depend on it. */
static ptrdiff_t FN(block_images)(const mn_conv2d_geom *g)
{
    const ptrdiff_t K = (g->c_in / g->groups) * g->kh * g->kw, P = g->oh * g->ow;
    ptrdiff_t nb = (mn_conv2d_block_cols + P - 1) / P;
    while (nb > 1 && (size_t)(K * nb * P) * sizeof(DT) > ((size_t)1 << 20))
        nb--;
    return nb < 1 ? 1 : nb;
}

/* Stride 1, "wide" columns: each image is zero-padded once into rows of Wp = OW + (kW-1)*dW,
 * and the GEMM computes OH x Wp outputs per image, Wp - OW of each row garbage (dropped on the
 * way out). A column row (c, p, q) is then ONE contiguous copy of OH*Wp elements from the
 * padded plane at offset p*dH*Wp + q*dW, instead of OH bounds-checked copies of OW elements,
 * which dominate im2col/col2im on 7x7 and 14x14 images; the extra GEMM columns (9/7, 16/14)
 * cost less than they save. */

/* Pad channels [c0, c0 + c_n) of one image into xp (c_n planes of Hp x Wp). */
static void FN(pad_planes)(const DT *x_chw, ptrdiff_t c_n, const mn_conv2d_geom *g, ptrdiff_t Hp,
                           ptrdiff_t Wp, DT *xp)
{
    for (ptrdiff_t c = 0; c < c_n; c++) {
        const DT *xc = x_chw + c * g->h * g->w;
        DT *pc = xp + c * Hp * Wp;
        memset(pc, 0, (size_t)(Hp * Wp) * sizeof(DT));
        for (ptrdiff_t r = 0; r < g->h && r + g->pad_t < Hp; r++) {
            const ptrdiff_t n = g->w + g->pad_l <= Wp ? g->w : Wp - g->pad_l;
            if (n > 0)
                memcpy(pc + (r + g->pad_t) * Wp + g->pad_l, xc + r * g->w, (size_t)n * sizeof(DT));
        }
    }
}

/* col_wide rows (c, p, q), each Lw = OH*Wp long at col + i*Lw with row stride ld. */
static void FN(im2col_wide)(const DT *xp, ptrdiff_t c_n, const mn_conv2d_geom *g, ptrdiff_t Hp,
                            ptrdiff_t Wp, DT *col, ptrdiff_t ld)
{
    const ptrdiff_t Lw = g->oh * Wp;
    for (ptrdiff_t c = 0; c < c_n; c++)
        for (ptrdiff_t p = 0; p < g->kh; p++)
            for (ptrdiff_t q = 0; q < g->kw; q++) {
                memcpy(col, xp + c * Hp * Wp + p * g->dh * Wp + q * g->dw,
                       (size_t)Lw * sizeof(DT));
                col += ld;
            }
}

/* Elements of the wide forward's per-thread scratch for blocks of nb images. */
static size_t FN(wide_fwd_scratch)(const mn_conv2d_geom *g, ptrdiff_t nb)
{
    const ptrdiff_t Hp = g->oh + (g->kh - 1) * g->dh, Wp = g->ow + (g->kw - 1) * g->dw;
    const ptrdiff_t cin_g = g->c_in / g->groups, cout_g = g->c_out / g->groups;
    const ptrdiff_t K = cin_g * g->kh * g->kw, ld = nb * g->oh * Wp;
    return (size_t)(cin_g * Hp * Wp + g->kw * g->dw + K * ld + cout_g * ld);
}

/* ---- forward ---------------------------------------------------------------------------- */

/* conv_fwd_block (below) over wide rows, at stride 1 (use_wide). */
static int FN(conv_fwd_block_wide)(const DT *x, const DT *w, const DT *b, DT *y,
                                   const mn_conv2d_geom *g, int act, int isa, int gemm_threads,
                                   ptrdiff_t n0, ptrdiff_t nb)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    const ptrdiff_t Hp = g->oh + (g->kh - 1) * g->dh, Wp = g->ow + (g->kw - 1) * g->dw;
    const ptrdiff_t OH = g->oh, OW = g->ow, Lw = OH * Wp, ld = nb * Lw;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, xpn = cin_g * Hp * Wp + g->kw * g->dw;
    DT *xp = (DT *)mn_workspace(WS_CONV, FN(wide_fwd_scratch)(g, nb) * sizeof(DT));
    if (!xp)
        return -1;
    DT *col = xp + xpn, *yt = col + K * ld;
    memset(xp + cin_g * Hp * Wp, 0, (size_t)(g->kw * g->dw) * sizeof(DT));
    for (ptrdiff_t gi = 0; gi < G; gi++) {
        for (ptrdiff_t i = 0; i < nb; i++) {
            FN(pad_planes)(x + (n0 + i) * xs + gi * cin_g * HW, cin_g, g, Hp, Wp, xp);
            FN(im2col_wide)(xp, cin_g, g, Hp, Wp, col + i * Lw, ld);
        }
        if (GEMM(0, 0, cout_g, ld, K, 1, w + gi * cout_g * K, K, col, ld, 0, yt, ld, NULL, 0, isa,
                 gemm_threads))
            return -1;
        for (ptrdiff_t i = 0; i < nb; i++)
            for (ptrdiff_t o = 0; o < cout_g; o++) {
                const DT bo = b ? b[gi * cout_g + o] : 0;
                DT *row = y + (n0 + i) * ys + (gi * cout_g + o) * P;
                for (ptrdiff_t r = 0; r < OH; r++)
                    FN(bias_act_row)(yt + o * ld + i * Lw + r * Wp, row + r * OW, OW, bo,
                                     act == MN_ACT_RELU);
            }
    }
    return 0;
}

/* Images n0 .. n0+nb-1 of the forward: per group, y_g (C_out_g x nb*P) =
 * W_g (C_out_g x K) @ col_g (K x nb*P), then bias and activation while copying each image's
 * rows out (nb == 1: the GEMM writes y in place). */
static int FN(conv_fwd_block)(const DT *x, const DT *w, const DT *b, DT *y,
                              const mn_conv2d_geom *g, int act, int isa, int gemm_threads,
                              ptrdiff_t n0, ptrdiff_t nb)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, ld = nb * P;
    if (FN(use_direct)(g)) {
        for (ptrdiff_t i = 0; i < nb; i++)
            if (FN(direct_fwd_isa)(x + (n0 + i) * xs, w, b, y + (n0 + i) * ys, g, act,
                                   mn_effective_isa(isa)))
                return -1;
        return 0;
    }
    if (FN(use_wide)(g))
        return FN(conv_fwd_block_wide)(x, w, b, y, g, act, isa, gemm_threads, n0, nb);
    const int pw = nb == 1 && FN(is_pointwise)(g);
    DT *col = NULL, *yt = NULL;
    if (!pw) {
        /* K x nb*P: block_images bounds nb, not P, so a single large image takes its whole
         * column matrix here (C_in_g*kH*kW*OH*OW elements) */
        col = (DT *)mn_workspace(WS_CONV,
                                 (size_t)(K * ld + (nb > 1 ? cout_g * ld : 0)) * sizeof(DT));
        if (!col)
            return -1;
        yt = col + K * ld;
    }
    for (ptrdiff_t gi = 0; gi < G; gi++) {
        const DT *bmat = x + n0 * xs + gi * cin_g * HW;
        if (!pw) {
            for (ptrdiff_t i = 0; i < nb; i++)
                FN(im2col)(x + (n0 + i) * xs + gi * cin_g * HW, cin_g, g, col + i * P, ld);
            bmat = col;
        }
        DT *dst = nb == 1 ? y + n0 * ys + gi * cout_g * P : yt;
        if (GEMM(0, 0, cout_g, ld, K, 1, w + gi * cout_g * K, K, bmat, ld, 0, dst, ld, NULL, 0,
                 isa, gemm_threads))
            return -1;
        if (nb == 1 && !b && !act)
            continue;
        for (ptrdiff_t i = 0; i < nb; i++) {
            for (ptrdiff_t o = 0; o < cout_g; o++) {
                const DT *src = dst + o * ld + (nb == 1 ? 0 : i * P);
                DT *row = y + (n0 + i) * ys + (gi * cout_g + o) * P;
                const DT bo = b ? b[gi * cout_g + o] : 0;
                FN(bias_act_row)(src, row, P, bo, act == MN_ACT_RELU);
            }
        }
    }
    return 0;
}

/* ---- backward --------------------------------------------------------------------------- */

/* Elements of per-image scratch the backward needs (col, or the direct path's wide planes). */
static size_t FN(bwd_scratch)(const mn_conv2d_geom *g)
{
    if (FN(use_direct)(g))
        return g->sh == 1 && g->sw == 1 ? FN(wide_scratch)(g, 1) : 1;
    if (FN(is_pointwise)(g))
        return 1;
    return (size_t)((g->c_in / g->groups) * g->kh * g->kw * g->oh * g->ow);
}

/* One image of the backward. dw_acc (C_out x K), when given, accumulates dY_g col_g^T
 * (beta = first ? 0 : 1); dx_chw, when given, is overwritten with col2im(W_g^T dY_g). */
static int FN(conv_bwd_image)(const DT *dy_chw, const DT *x_chw, const DT *w, const DT *wt,
                              DT *dx_chw, DT *dw_acc, int first, const mn_conv2d_geom *g, int isa,
                              int gemm_threads, DT *col)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    if (FN(use_direct)(g)) {
        return FN(direct_bwd_isa)(dy_chw, x_chw, w, dx_chw, dw_acc, first, g,
                                  mn_effective_isa(isa), col);
    }
    const int pw = FN(is_pointwise)(g);
    if (dx_chw && !pw)
        memset(dx_chw, 0, (size_t)(g->c_in * HW) * sizeof(DT));
    for (ptrdiff_t gi = 0; gi < G; gi++) {
        const DT *dyg = dy_chw + gi * cout_g * P;
        const DT *wg = w + gi * cout_g * K;
        if (dw_acc) {
            const DT *xg = x_chw + gi * cin_g * HW;
            const DT *bmat = xg;
            if (!pw) {
                FN(im2col)(xg, cin_g, g, col, P);
                bmat = col;
            }
            /* dW_g (C_out_g x K) += dY_g (C_out_g x P) @ col_g^T (P x K) */
            if (GEMM(0, 1, cout_g, K, P, 1, dyg, P, bmat, P, first ? 0 : 1,
                     dw_acc + gi * cout_g * K, K, NULL, 0, isa, gemm_threads))
                return -1;
        }
        if (dx_chw) {
            DT *dxg = dx_chw + gi * cin_g * HW;
            /* dcol (K x P) = W_g^T (K x C_out_g) @ dY_g (C_out_g x P); 1x1: dcol is dx_g.
             * W^T was transposed once per call (wt): the GEMM packs a transposed A slowly. */
            DT *dcol = pw ? dxg : col;
            (void)wg;
            if (GEMM(0, 0, K, P, cout_g, 1, wt + gi * K * cout_g, cout_g, dyg, P, 0, dcol, P, NULL,
                     0, isa, gemm_threads))
                return -1;
            if (!pw)
                FN(col2im)(col, cin_g, g, dxg, P);
        }
    }
    return 0;
}

/* bwd_blocked over wide rows (see use_wide): dY's rows gathered with zeros in the garbage
 * columns, so they add nothing to dW and give exact zeros in dcol's garbage columns; col2im
 * is one contiguous add per column row into the padded plane, cropped into dx. */
static int FN(bwd_blocked_wide)(const DT *dy, const DT *x, const DT *wt, DT *dx, DT *acc,
                                ptrdiff_t lo, ptrdiff_t hi, const mn_conv2d_geom *g, int isa,
                                int gemm_threads, DT *scratch)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    const ptrdiff_t Hp = g->oh + (g->kh - 1) * g->dh, Wp = g->ow + (g->kw - 1) * g->dw;
    const ptrdiff_t OH = g->oh, OW = g->ow, Lw = OH * Wp, slack = g->kw * g->dw;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, xpn = cin_g * Hp * Wp + slack;
    const ptrdiff_t nbmax = FN(block_images)(g);
    for (ptrdiff_t n0 = lo; n0 < hi; n0 += nbmax) {
        const ptrdiff_t nb = hi - n0 < nbmax ? hi - n0 : nbmax, ld = nb * Lw;
        DT *xp = scratch, *col = scratch + xpn, *dyb = col + K * ld;
        for (ptrdiff_t gi = 0; gi < G; gi++) {
            for (ptrdiff_t i = 0; i < nb; i++)
                for (ptrdiff_t o = 0; o < cout_g; o++) {
                    const DT *src = dy + (n0 + i) * ys + (gi * cout_g + o) * P;
                    DT *dst = dyb + o * ld + i * Lw;
                    for (ptrdiff_t r = 0; r < OH; r++) {
                        memcpy(dst + r * Wp, src + r * OW, (size_t)OW * sizeof(DT));
                        for (ptrdiff_t j = OW; j < Wp; j++)
                            dst[r * Wp + j] = 0;
                    }
                }
            if (acc) {
                memset(xp + cin_g * Hp * Wp, 0, (size_t)slack * sizeof(DT));
                for (ptrdiff_t i = 0; i < nb; i++) {
                    FN(pad_planes)(x + (n0 + i) * xs + gi * cin_g * HW, cin_g, g, Hp, Wp, xp);
                    FN(im2col_wide)(xp, cin_g, g, Hp, Wp, col + i * Lw, ld);
                }
                if (GEMM(0, 1, cout_g, K, ld, 1, dyb, ld, col, ld, n0 == lo ? 0 : 1,
                         acc + gi * cout_g * K, K, NULL, 0, isa, gemm_threads))
                    return -1;
            }
            if (dx) {
                if (GEMM(0, 0, K, ld, cout_g, 1, wt + gi * K * cout_g, cout_g, dyb, ld, 0, col, ld,
                         NULL, 0, isa, gemm_threads))
                    return -1;
                for (ptrdiff_t i = 0; i < nb; i++) {
                    memset(xp, 0, (size_t)xpn * sizeof(DT));
                    const DT *dc = col + i * Lw;
                    for (ptrdiff_t c = 0; c < cin_g; c++)
                        for (ptrdiff_t p = 0; p < g->kh; p++)
                            for (ptrdiff_t q = 0; q < g->kw; q++) {
                                DT *restrict d = xp + c * Hp * Wp + p * g->dh * Wp + q * g->dw;
                                const DT *restrict sr = dc;
                                for (ptrdiff_t t = 0; t < Lw; t++)
                                    d[t] += sr[t];
                                dc += ld;
                            }
                    DT *dxi = dx + (n0 + i) * xs + gi * cin_g * HW;
                    for (ptrdiff_t c = 0; c < cin_g; c++)
                        for (ptrdiff_t r = 0; r < g->h; r++)
                            for (ptrdiff_t s2 = 0; s2 < g->w; s2++)
                                dxi[(c * g->h + r) * g->w + s2] =
                                    (r + g->pad_t < Hp && s2 + g->pad_l < Wp)
                                        ? xp[c * Hp * Wp + (r + g->pad_t) * Wp + s2 + g->pad_l]
                                        : (DT)0;
                }
            }
        }
    }
    return 0;
}

/* Backward of images lo..hi-1 on the im2col path, in blocks of nb images side by side:
 * dY's rows gathered into dyb (C_out_g x nb*P), then per group
 *   dW_g += dyb @ col^T        (k = nb*P instead of P per call)
 *   dcol  = W_g^T @ dyb        (W^T transposed once per call: wt), col2im'd into dx
 * acc (may be NULL) receives dW (beta 0 on the first block), dx (may be NULL) dX. */
static int FN(bwd_blocked)(const DT *dy, const DT *x, const DT *wt, DT *dx, DT *acc, ptrdiff_t lo,
                           ptrdiff_t hi, const mn_conv2d_geom *g, int isa, int gemm_threads,
                           DT *scratch)
{
    if (FN(use_wide)(g))
        return FN(bwd_blocked_wide)(dy, x, wt, dx, acc, lo, hi, g, isa, gemm_threads, scratch);
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, P = g->oh * g->ow, HW = g->h * g->w;
    const ptrdiff_t xs = g->c_in * HW, ys = g->c_out * P, nbmax = FN(block_images)(g);
    if (dx)
        memset(dx + lo * xs, 0, (size_t)((hi - lo) * xs) * sizeof(DT));
    for (ptrdiff_t n0 = lo; n0 < hi; n0 += nbmax) {
        const ptrdiff_t nb = hi - n0 < nbmax ? hi - n0 : nbmax, ld = nb * P;
        DT *col = scratch, *dyb = scratch + K * ld;
        for (ptrdiff_t gi = 0; gi < G; gi++) {
            for (ptrdiff_t i = 0; i < nb; i++)
                for (ptrdiff_t o = 0; o < cout_g; o++)
                    memcpy(dyb + o * ld + i * P, dy + (n0 + i) * ys + (gi * cout_g + o) * P,
                           (size_t)P * sizeof(DT));
            if (acc) {
                for (ptrdiff_t i = 0; i < nb; i++)
                    FN(im2col)(x + (n0 + i) * xs + gi * cin_g * HW, cin_g, g, col + i * P, ld);
                if (GEMM(0, 1, cout_g, K, ld, 1, dyb, ld, col, ld, n0 == lo ? 0 : 1,
                         acc + gi * cout_g * K, K, NULL, 0, isa, gemm_threads))
                    return -1;
            }
            if (dx) {
                if (GEMM(0, 0, K, ld, cout_g, 1, wt + gi * K * cout_g, cout_g, dyb, ld, 0, col, ld,
                         NULL, 0, isa, gemm_threads))
                    return -1;
                for (ptrdiff_t i = 0; i < nb; i++)
                    FN(col2im)(col + i * P, cin_g, g, dx + (n0 + i) * xs + gi * cin_g * HW, ld);
            }
        }
    }
    return 0;
}

/* bwd_classic's batch job: chunk t of T takes images [N*t/T, N*(t+1)/T). */
typedef struct {
    const DT *dy, *x, *w, *wt;
    DT *dx, *dw, *parts; /* parts: the partial dW of chunks 1.., wsz apart */
    const mn_conv2d_geom *g;
    int isa;
    ptrdiff_t n, wsz;
    size_t colsz;
    int blocked, err;
} FN(bwd_job);

static void FN(bwd_chunk)(void *ctx, int t, int T)
{
    FN(bwd_job) *j = ctx;
    const mn_conv2d_geom *g = j->g;
    const ptrdiff_t xs = g->c_in * g->h * g->w, ys = g->c_out * g->oh * g->ow;
    const ptrdiff_t lo = j->n * t / T, hi = j->n * (t + 1) / T;
    DT *acc = j->dw ? (t == 0 ? j->dw : j->parts + (t - 1) * j->wsz) : NULL;
    if (acc && hi == lo)
        memset(acc, 0, (size_t)j->wsz * sizeof(DT));
    if (hi == lo)
        return;
    DT *col = (DT *)mn_workspace(WS_CONV, j->colsz * sizeof(DT));
    int err = !col;
    if (j->blocked && !err)
        err = FN(bwd_blocked)(j->dy, j->x, j->wt, j->dx, acc, lo, hi, g, j->isa, 1, col) ? 1 : 0;
    for (ptrdiff_t n = lo; n < hi && !err && !j->blocked; n++)
        err |= FN(conv_bwd_image)(j->dy + n * ys, j->x + n * xs, j->w, j->wt,
                                  j->dx ? j->dx + n * xs : NULL, acc, n == lo, g, j->isa, 1, col);
    if (err)
        __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
}

/* dw += the partials, in chunk order; each chunk a slice of the weight */
static void FN(bwd_dw_sum_chunk)(void *ctx, int t, int T)
{
    const FN(bwd_job) *j = ctx;
    const ptrdiff_t a = j->wsz * t / T, e = j->wsz * (t + 1) / T;
    for (int u = 1; u < T; u++) {
        const DT *pu = j->parts + (u - 1) * j->wsz;
        for (ptrdiff_t i = a; i < e; i++)
            j->dw[i] += pu[i];
    }
}

/* dx and/or dw (not both NULL, N > 0) on the im2col or direct path. */
static int FN(bwd_classic)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw,
                           const mn_conv2d_geom *g, int isa, int n_threads)
{
    const ptrdiff_t xs = g->c_in * g->h * g->w, ys = g->c_out * g->oh * g->ow;
    const ptrdiff_t P = g->oh * g->ow, N = g->n, CO = g->c_out;
    const ptrdiff_t wsz = CO * (g->c_in / g->groups) * g->kh * g->kw;
    int err = 0;
    /* dX as a forward convolution of dY (stride 1, padding at most the dilated kernel's
     * reach): dx[n, c] = sum_o corr(dy[n, o], flip(w[o, c])) with padding (kh-1)*dh - pad_t
     * and output H x W. It runs the forward's blocked im2col GEMMs (k = C_out_g*kH*kW) and
     * needs no col2im scatter: faster than W^T dY + col2im one image at a time, but slower
     * than the blocked W^T dY + col2im below (its GEMM has m = C_in), so off by default. */
    if (mn_conv2d_dx_as_conv && dx && !FN(use_direct)(g) && g->sh == 1 && g->sw == 1 &&
        g->pad_t <= (g->kh - 1) * g->dh && g->pad_l <= (g->kw - 1) * g->dw &&
        !FN(is_pointwise)(g)) {
        const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = CO / G;
        const ptrdiff_t kh = g->kh, kw = g->kw;
        DT *wf = (DT *)malloc((size_t)wsz * sizeof(DT)); /* weight-sized: small */
        if (!wf)
            return -1;
        /* wf[(gi*cin_g + c), o, p, q] = w[(gi*cout_g + o), c, kh-1-p, kw-1-q] */
        for (ptrdiff_t gi = 0; gi < G; gi++)
            for (ptrdiff_t c = 0; c < cin_g; c++)
                for (ptrdiff_t o = 0; o < cout_g; o++)
                    for (ptrdiff_t p = 0; p < kh; p++)
                        for (ptrdiff_t q = 0; q < kw; q++)
                            wf[(((gi * cin_g + c) * cout_g + o) * kh + p) * kw + q] =
                                w[(((gi * cout_g + o) * cin_g + c) * kh + kh - 1 - p) * kw + kw -
                                  1 - q];
        mn_conv2d_geom gt = *g;
        gt.c_in = CO;
        gt.h = g->oh;
        gt.w = g->ow;
        gt.c_out = g->c_in;
        gt.oh = g->h;
        gt.ow = g->w;
        gt.pad_t = (kh - 1) * g->dh - g->pad_t;
        gt.pad_l = (kw - 1) * g->dw - g->pad_l;
        const int rc = FN(mn_conv2d_fwd)(dy, wf, NULL, dx, &gt, 0, isa, n_threads);
        free(wf);
        if (rc)
            return -1;
        dx = NULL;
        if (!dw)
            return 0;
    }
    /* W_g^T (K x C_out_g) per group, once per call */
    DT *wt = NULL;
    if (dx && !FN(use_direct)(g)) {
        const ptrdiff_t G = g->groups, cout_g = CO / G, K = wsz / CO;
        wt = (DT *)malloc((size_t)wsz * sizeof(DT));
        if (!wt)
            return -1;
        for (ptrdiff_t gi = 0; gi < G; gi++)
            for (ptrdiff_t o = 0; o < cout_g; o++)
                for (ptrdiff_t k = 0; k < K; k++)
                    wt[gi * K * cout_g + k * cout_g + o] = w[(gi * cout_g + o) * K + k];
    }
    const int blocked = !FN(use_direct)(g);
    const size_t colsz =
        !blocked ? FN(bwd_scratch)(g)
        : FN(use_wide)(g)
            ? FN(wide_fwd_scratch)(g, FN(block_images)(g))
            : (size_t)(((g->c_in + CO) / g->groups * g->kh * g->kw) * FN(block_images)(g) * P);
    if (n_threads == 1 || N < n_threads) {
        DT *col = (DT *)mn_workspace(WS_CONV, colsz * sizeof(DT));
        if (!col)
            err = 1;
        if (blocked && !err)
            err = FN(bwd_blocked)(dy, x, wt, dx, dw, 0, N, g, isa, n_threads, col) ? 1 : 0;
        for (ptrdiff_t n = 0; n < N && !err && !blocked; n++)
            err |= FN(conv_bwd_image)(dy + n * ys, x + n * xs, w, wt, dx ? dx + n * xs : NULL, dw,
                                      n == 0, g, isa, n_threads, col);
        free(wt);
        return err ? -1 : 0;
    }
    /* Each chunk accumulates dW over a contiguous block of images (chunk 0 straight into dw,
     * the others into their slice of a shared buffer: a thread's workspace holds only its
     * chunk's columns), then a second job adds the partial sums in chunk order. */
    const int nt = n_threads > 256 ? 256 : n_threads;
    DT *parts =
        dw ? (DT *)mn_workspace(WS_CONV_PART, (size_t)((nt - 1) * wsz) * sizeof(DT) + 1) : NULL;
    if (dw && !parts) {
        free(wt);
        return -1;
    }
    FN(bwd_job) job = {dy, x, w, wt, dx, dw, parts, g, isa, N, wsz, colsz, blocked, 0};
    mn_parallel(nt, nt, FN(bwd_chunk), &job);
    if (dw && !job.err)
        mn_parallel(nt, nt, FN(bwd_dw_sum_chunk), &job);
    free(wt);
    return job.err ? -1 : 0;
}
