/* Implicit GEMM over zero-bordered planes, forward and backward (per dtype, included by
 * conv_impl.h): the driver of the micro-kernels in conv_implicit.h, and of conv_rowtile.h's
 * row tiles where they apply.
 *   forward:  y_g := act(b + W_g @ im2col(x_g)), the im2col matrix never built: its row
 *             k = (c, p, q) is the padded planes read from offset off[k] (ik_offsets)
 *   backward: dX (stride 1) the same product over dY's planes with the flipped, transposed
 *             weight, or the strided phases (conv_dx_strided.h); dW^T += im2col(x) @ dY^T
 * Why: on 16-64-channel layers the im2col copy and the GEMM's packing of it cost more than
 * the multiply; register tiles of W @ im2col read their pixels from the planes in place.
 * Strides split the padded input into phase planes where every tap is contiguous again
 * (ik_planes). Chosen (use_implicit) for groups of 8+ output channels when the batch gives
 * every thread an image; threads split the batch and results do not depend on their number. */

/* Pack the weight rows (c_out_g of them per group, each of K taps) into IMR-row micro-panels,
 * k-major, zero rows past the last: wp[(gi*Mp + ob)*K + k*mr + r] = w(gi, ob + r, k), where
 * w(gi, o, k) = src[(gi*rows + o)*K + k] (the forward), or, for the input gradient (flip),
 * the flipped transposed weight: row c, tap k = (o, p, q) -> w[gi*cout_g + o, c, kh-1-p,
 * kw-1-q]. */
static void FN(ik_pack)(const DT *w, const mn_conv2d_geom *g, int flip, ptrdiff_t mr, DT *wp)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t kh = g->kh, kw = g->kw, khw = kh * kw;
    const ptrdiff_t rows = flip ? cin_g : cout_g, K = (flip ? cout_g : cin_g) * khw;
    const ptrdiff_t Mp = FN(round_up)(rows, mr);
    for (ptrdiff_t gi = 0; gi < G; gi++)
        for (ptrdiff_t ob = 0; ob < Mp; ob += mr)
            for (ptrdiff_t k = 0; k < K; k++)
                for (ptrdiff_t r = 0; r < mr; r++) {
                    const ptrdiff_t row = ob + r;
                    DT v = 0;
                    if (row < rows && !flip)
                        v = w[(gi * cout_g + row) * K + k];
                    else if (row < rows) {
                        const ptrdiff_t o = k / khw, pq = khw - 1 - k % khw;
                        v = w[((gi * cout_g + o) * cin_g + row) * khw + pq];
                    }
                    wp[(gi * Mp + ob) * K + k * mr + r] = v;
                }
}

/* Strides: the padded input split into sh x sw phase planes, plane (a, b) holding the
 * padded pixels (i*sh + a, j*sw + b). Tap (p, q) of output (i, j) reads padded pixel
 * (i*sh + p*dh, j*sw + q*dw), which is pixel (i + p*dh / sh, j + q*dw / sw) of phase
 * (p*dh % sh, q*dw % sw): contiguous in j again, so the stride-1 kernels apply unchanged over
 * planes of Hp x Wp = (OH + (kh-1)*dh / sh) x (OW + (kw-1)*dw / sw), laid out [a][b][c].
 * With stride 1 this is the one zero-bordered plane per channel. */
static void FN(ik_planes)(const mn_conv2d_geom *g, ptrdiff_t *Hp, ptrdiff_t *Wp)
{
    *Hp = g->oh + (g->kh - 1) * g->dh / g->sh;
    *Wp = g->ow + (g->kw - 1) * g->dw / g->sw;
}

/* off[(c*kh + p)*kw + q]: where row k of the implicit im2col matrix starts in the c_n
 * channels' planes (c*Hp*Wp + p*dh*Wp + q*dw at stride 1). */
static void FN(ik_offsets)(ptrdiff_t c_n, const mn_conv2d_geom *g, ptrdiff_t Hp, ptrdiff_t Wp,
                           ptrdiff_t *off)
{
    for (ptrdiff_t c = 0; c < c_n; c++)
        for (ptrdiff_t p = 0; p < g->kh; p++)
            for (ptrdiff_t q = 0; q < g->kw; q++) {
                const ptrdiff_t rr = p * g->dh, cc = q * g->dw;
                const ptrdiff_t phase = (rr % g->sh) * g->sw + cc % g->sw;
                *off++ = (phase * c_n + c) * Hp * Wp + rr / g->sh * Wp + cc / g->sw;
            }
}

/* The planes of one image: stride 1 copies the interior (border zeroed once per call),
 * strides rewrite the phase planes. */
static void FN(ik_fill)(const FN(ik_t) *ik, const DT *x_chw, ptrdiff_t c_n,
                        const mn_conv2d_geom *g, ptrdiff_t Hp, ptrdiff_t Wp, DT *xp)
{
    if (g->sh == 1 && g->sw == 1)
        FN(ik_pad)(ik, x_chw, c_n, g, Hp, Wp, xp);
    else
        ik->phases(x_chw, c_n, g->h, g->w, g->sh, g->sw, g->pad_t, g->pad_l, Hp, Wp, xp);
}

/* Where each vector of wide pixels goes in the output (AVX-512 tile store): ybase[u] = the
 * output index of the first valid pixel at or after t = u*lanes (pixels before it: full
 * rows times OW, plus the valid columns of its row), msk[u] = which lanes are valid
 * (t < T, column t % Wp < OW). */
static void FN(ik_masks)(ptrdiff_t T, ptrdiff_t Tp, ptrdiff_t Wp, ptrdiff_t OW, ptrdiff_t lanes,
                         ptrdiff_t *ybase, unsigned *msk)
{
    for (ptrdiff_t u = 0; u < Tp / lanes; u++) {
        const ptrdiff_t tv = u * lanes;
        ybase[u] = tv / Wp * OW + (tv % Wp < OW ? tv % Wp : OW);
        unsigned m = 0;
        for (ptrdiff_t l = 0; l < lanes; l++)
            if (tv + l < T && (tv + l) % Wp < OW)
                m |= 1u << l;
        msk[u] = m;
    }
}

/* One image's product: out rows 0..rows-1 (row stride ldy, OH x OW pixels each) :=
 * act(bias + wp-panels @ implicit im2col of the padded planes xp), T = OH*Wp wide pixels
 * padded to Tp. With the AVX-512 store the tiles go straight to out; otherwise through yw
 * (Mp x Tp) and a crop. */
static void FN(ik_image)(const FN(ik_t) *ik, ptrdiff_t K, ptrdiff_t rows, ptrdiff_t Tp,
                         ptrdiff_t OH, ptrdiff_t OW, ptrdiff_t Wp, const DT *wp, const DT *xp,
                         const ptrdiff_t *off, ptrdiff_t kw, ptrdiff_t dwid, DT *out,
                         ptrdiff_t ldy, const DT *bias, int relu, const ptrdiff_t *ybase,
                         const unsigned *msk, DT *yw)
{
    const ptrdiff_t nr = 2 * ik->lanes, mr = ik->mr, Mp = FN(round_up)(rows, mr);
    const ptrdiff_t dw3 = kw == 3 ? dwid : 0;
    /* a column tile's k x nr block of the planes stays in L1 across the row blocks */
    if (ik->st) {
        for (ptrdiff_t t0 = 0; t0 < Tp; t0 += nr)
            for (ptrdiff_t ob = 0; ob < Mp; ob += mr)
                ik->st(K, wp + ob * K, xp + t0, off, dw3, out + ob * ldy, ldy,
                       (int)(rows - ob < mr ? rows - ob : mr), ybase + t0 / ik->lanes,
                       msk + t0 / ik->lanes, bias ? bias + ob : NULL, relu);
        return;
    }
    for (ptrdiff_t t0 = 0; t0 < Tp; t0 += nr)
        for (ptrdiff_t ob = 0; ob < Mp; ob += mr)
            ik->fwd(K, wp + ob * K, xp + t0, off, dw3, yw + ob * Tp + t0, Tp);
    for (ptrdiff_t o = 0; o < rows; o++) {
        const DT bo = bias ? bias[o] : 0;
        for (ptrdiff_t i = 0; i < OH; i++)
            FN(bias_act_row)(yw + o * Tp + i * Wp, out + o * ldy + i * OW, OW, bo, relu);
    }
}

/* implicit_fwd's batch job: chunk t of T takes images [N*t/T, N*(t+1)/T) with the scratch
 * of its thread (mn_workspace slot WS_CONV). */
typedef struct {
    const FN(ik_t) *ik;
    const DT *x, *w, *b;
    DT *y;
    uint8_t *code;
    const mn_conv2d_geom *g;
    int act, rt;
    ptrdiff_t K, Mp, Tp, Hp, Wp, hr, wr, xpn, slack;
    const DT *wp;
    const ptrdiff_t *off, *ybase;
    const unsigned *msk;
    int err;
} FN(ifwd_job);

static void FN(ifwd_chunk)(void *ctx, int t, int nth)
{
    FN(ifwd_job) *j = ctx;
    const FN(ik_t) ik = *j->ik;
    const mn_conv2d_geom *g = j->g;
    const ptrdiff_t N = g->n, G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t OH = g->oh, OW = g->ow, P = OH * OW, K = j->K, Mp = j->Mp, Tp = j->Tp;
    const ptrdiff_t Hp = j->Hp, Wp = j->Wp, xpn = j->xpn, slack = j->slack;
    const ptrdiff_t xs = g->c_in * g->h * g->w, ys = g->c_out * P;
    const DT *x = j->x, *b = j->b, *wp = j->wp;
    DT *y = j->y;
    uint8_t *code = j->code;
    const int act = j->act;
    const ptrdiff_t lo = N * t / nth, hi = N * (t + 1) / nth;
    if (hi == lo)
        return;
    const size_t need = (size_t)(xpn + slack + (ik.st ? 0 : Mp * Tp) + (code ? ys : 0));
    DT *xp = (DT *)mn_workspace(WS_CONV, need * sizeof(DT));
    if (!xp) {
        __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
        return;
    }
    /* pooled: the image's output stays in this scratch, pooled from cache into y */
    DT *yimg = code ? xp + need - ys : NULL;
    memset(xp, 0, (size_t)(xpn + slack) * sizeof(DT)); /* the border, once */
    for (ptrdiff_t n = lo; n < hi; n++) {
        DT *yn = code ? yimg : y + n * ys;
        for (ptrdiff_t gi = 0; gi < G; gi++) {
#if MN_X86 && DT_F32
            if (j->rt) {
                FN(ik_pad)(&ik, x + n * xs + gi * cin_g * g->h * g->w, cin_g, g, j->hr, j->wr, xp);
                rowtile_image(cin_g, g->kh, g->kw, wp + gi * Mp * K, K, cout_g, j->rt, (int)g->sh,
                              xp, j->hr, j->wr, OH, OW, yn + gi * cout_g * P, P,
                              b ? b + gi * cout_g : NULL, act == MN_ACT_RELU);
                continue;
            }
#endif
            FN(ik_fill)(&ik, x + n * xs + gi * cin_g * g->h * g->w, cin_g, g, Hp, Wp, xp);
            FN(ik_image)(&ik, K, cout_g, Tp, OH, OW, Wp, wp + gi * Mp * K, xp, j->off, g->kw,
                         g->sw == 1 ? g->dw : 0, yn + gi * cout_g * P, P,
                         b ? b + gi * cout_g : NULL, act == MN_ACT_RELU, j->ybase, j->msk,
                         xp + xpn + slack);
        }
        if (code) {
            const ptrdiff_t pq = g->c_out * (OH / 2) * (OW / 2);
            FN(mn_relu_maxpool2x2_fwd)(yimg, g->c_out, OH, OW, y + n * pq, code + n * pq, ik.isa);
        }
    }
}

/* Forward, images split between the threads. Per image and group: pad the channels into
 * wide planes, yw = W_g @ im2col (implicit), then crop the valid columns into y, adding
 * the bias and applying the activation on the way. Returns 0, or -1 on OOM. */
static int FN(implicit_fwd)(const DT *x, const DT *w, const DT *b, DT *y, uint8_t *code,
                            const mn_conv2d_geom *g, int act, int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t K = cin_g * g->kh * g->kw, OH = g->oh, OW = g->ow;
    ptrdiff_t Hp, Wp;
    FN(ik_planes)(g, &Hp, &Wp);
    const ptrdiff_t T = OH * Wp, Tp = FN(round_up)(T, 2 * ik.lanes);
    const int rt = FN(rowtile_nv)(g, cout_g, cin_g, isa, 1); /* row tiles of rt channels */
#if MN_X86 && DT_F32
    /* their planes at stride 2: the padded input itself (rows of 2*OW + 1), not phases */
    const ptrdiff_t Hr = g->sh * (OH - 1) + g->kh, Wr = g->sw * (OW - 1) + g->kw;
#endif
    const ptrdiff_t mr = rt ? rt : ik.mr;
    const ptrdiff_t Mp = FN(round_up)(cout_g, mr), xpn = g->sh * g->sw * cin_g * Hp * Wp;
    /* a tile reads up to Tp - T + (kw-1)*dw/sw elements past the last plane: zeros */
    const ptrdiff_t slack = FN(round_up)(Tp - T + (g->kw - 1) * g->dw / g->sw + 1, 16);
    DT *wp = (DT *)malloc((size_t)(G * Mp * K) * sizeof(DT));
    ptrdiff_t *off = (ptrdiff_t *)malloc((size_t)(K + Tp) * sizeof(ptrdiff_t));
    unsigned *msk = (unsigned *)malloc((size_t)Tp * sizeof(unsigned));
    ptrdiff_t *ybase = off ? off + K : NULL;
    int err = !wp || !off || !msk;
    if (err) {
        free(wp);
        free(off);
        free(msk);
        return -1;
    }
    FN(ik_pack)(w, g, 0, mr, wp);
    FN(ik_offsets)(cin_g, g, Hp, Wp, off);
    FN(ik_masks)(T, Tp, Wp, OW, ik.lanes, ybase, msk);
    const int nt = (int)(N < n_threads ? (N > 0 ? N : 1) : n_threads);
    FN(ifwd_job) job = {&ik, x,  w, b, y,   code,  g,  act, rt,    K,   Mp, Tp,
                        Hp,  Wp, 0, 0, xpn, slack, wp, off, ybase, msk, 0};
#if MN_X86 && DT_F32
    job.hr = Hr;
    job.wr = Wr;
#endif
    mn_parallel(nt, nt, FN(ifwd_chunk), &job);
    err = job.err;
    free(msk);
    free(wp);
    free(off);
    return err ? -1 : 0;
}

/* implicit_bwd's jobs: chunk t of T takes images [N*t/T, N*(t+1)/T) with the scratch of its
 * thread (slot WS_CONV) and sums their dW^T into parts + t*dwtn; then the second job adds
 * the partials in chunk order. */
typedef struct {
    const FN(ik_t) *ik;
    const DT *dy, *x, *relu_y;
    const uint8_t *pool_code;
    DT *dx, *dw;
    const mn_conv2d_geom *g, *gt;
    const FN(dxs_plan) *plan;
    int dxgen, rt, rtw;
    ptrdiff_t K, Kq, Kp, Cp, Hq, Wq, Tqp, Mq, Hp, Wp, Hr, Wr, xpn, slp, slq, dypn, dxgn, dwtn,
        dymn;
    size_t need;
    const DT *wfp;
    const ptrdiff_t *offq, *off, *ybase;
    const unsigned *msk;
    double *dbn;
    DT *parts;
    int err;
} FN(ibwd_job);

static void FN(ibwd_chunk)(void *ctx, int t, int nth)
{
    FN(ibwd_job) *j = ctx;
    const FN(ik_t) ik = *j->ik;
    const mn_conv2d_geom *g = j->g;
    const ptrdiff_t N = g->n, G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t kh = g->kh, kw = g->kw, H = g->h, W = g->w, HW = H * W;
    const ptrdiff_t K = j->K, Kq = j->Kq, Kp = j->Kp, Cp = j->Cp, OH = g->oh, OW = g->ow;
    const ptrdiff_t Hq = j->Hq, Wq = j->Wq, Tqp = j->Tqp, Mq = j->Mq, Hp = j->Hp, Wp = j->Wp;
    const ptrdiff_t Hr = j->Hr, Wr = j->Wr, T = OH * Wp, xs = g->c_in * HW, nr = 2 * ik.lanes;
    const int dxgen = j->dxgen, rtw = j->rtw;
    (void)kh; /* (the row tiles' only, float32 on x86) */
    DT *dx = j->dx, *dw = j->dw;
    const ptrdiff_t lo = N * t / nth, hi = N * (t + 1) / nth;
    DT *dwt = dw ? j->parts + t * j->dwtn : NULL;
    if (dwt)
        memset(dwt, 0, (size_t)j->dwtn * sizeof(DT));
    if (hi == lo)
        return;
    DT *buf = (DT *)mn_workspace(WS_CONV, j->need * sizeof(DT));
    if (!buf) {
        __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
        return;
    }
    DT *dyp = buf, *dxw = dyp + (dxgen ? j->dxgn : dx ? j->dypn + j->slq : 0);
    DT *xp = dxgen ? buf + FN(dxs_scratch)(j->plan, cout_g) : dxw + (dx && !ik.st ? Mq * Tqp : 0);
    DT *dyt = xp + j->xpn + j->slp, *dym = buf + j->need - j->dymn;
    if (dx) /* the borders, once */
        memset(dyp, 0, (size_t)(dxgen ? j->dxgn : j->dypn + j->slq) * sizeof(DT));
    if (dw) {
        memset(xp, 0, (size_t)(j->xpn + j->slp) * sizeof(DT));
        memset(dyt, 0, (size_t)(T * Cp) * sizeof(DT));
    }
    for (ptrdiff_t n = lo; n < hi; n++)
        for (ptrdiff_t gi = 0; gi < G; gi++) {
            const DT *dyg =
                FN(dy_image)(&ik, j->dy, j->relu_y, j->pool_code, g, n, gi, dym, j->dbn);
            if (dxgen) {
                FN(dxs_image)(j->plan, &ik, dyg, g, gi, dx + n * xs + gi * cin_g * HW, dyp, dxw);
            } else if (dx) {
                FN(ik_pad)(&ik, dyg, cout_g, j->gt, Hq, Wq, dyp);
#if MN_X86 && DT_F32
                if (j->rt)
                    rowtile_image(cout_g, kh, kw, j->wfp + gi * Mq * Kq, Kq, cin_g, j->rt, 1, dyp,
                                  Hq, Wq, H, W, dx + n * xs + gi * cin_g * HW, HW, NULL, 0);
                else
#endif
                    FN(ik_image)(&ik, Kq, cin_g, Tqp, H, W, Wq, j->wfp + gi * Mq * Kq, dyp,
                                 j->offq, kw, g->dw, dx + n * xs + gi * cin_g * HW, HW, NULL, 0,
                                 j->ybase, j->msk, dxw);
            }
            if (dw) {
                if (rtw)
                    FN(ik_pad)(&ik, j->x + n * xs + gi * cin_g * HW, cin_g, g, Hr, Wr, xp);
                else
                    FN(ik_fill)(&ik, j->x + n * xs + gi * cin_g * HW, cin_g, g, Hp, Wp, xp);
                /* dY^T: garbage columns and padding channels zero */
                ik.dyt(dyg, cout_g, OH, OW, Wp, dyt, Cp);
                DT *dwg = dwt + gi * Kp * Cp;
#if MN_X86 && DT_F32
                if (rtw)
                    rowdw_image(cin_g, kh, (int)g->sh, OH, OW, xp, Hr, Wr, dyt, Wp, Cp, dwg,
                                rtw == 8);
                else
#endif
                    for (ptrdiff_t kb = 0; kb < Kp; kb += ik.kb) {
                        const DT *src[16];
                        for (ptrdiff_t kk = 0; kk < ik.kb; kk++)
                            src[kk] = xp + j->off[kb + kk < K ? kb + kk : K - 1];
                        ptrdiff_t ob = 0;
                        for (; ob + nr <= Cp; ob += nr)
                            ik.dw2(OH, OW, Wp, src, dyt + ob, Cp, dwg + kb * Cp + ob, Cp);
                        if (ob < Cp)
                            ik.dw1(OH, OW, Wp, src, dyt + ob, Cp, dwg + kb * Cp + ob, Cp);
                    }
            }
        }
}

/* dw[gi, o, k] = sum over chunks of their dwt[gi, k, o], in chunk order; each chunk a slice of
 * the rows (gi, o). (An index split per element would cost three divisions an element.) */
static void FN(ibwd_dw_sum_chunk)(void *ctx, int t, int nth)
{
    const FN(ibwd_job) *j = ctx;
    const mn_conv2d_geom *g = j->g;
    const ptrdiff_t cout_g = g->c_out / g->groups, K = j->K, Kp = j->Kp, Cp = j->Cp;
    const ptrdiff_t rows = g->groups * cout_g, a = rows * t / nth, e = rows * (t + 1) / nth;
    for (ptrdiff_t r = a; r < e; r++) {
        const ptrdiff_t gi = r / cout_g, o = r % cout_g;
        for (ptrdiff_t k = 0; k < K; k++) {
            const ptrdiff_t at = (gi * Kp + k) * Cp + o;
            DT s = 0;
            for (int u = 0; u < nth; u++)
                s += j->parts[u * j->dwtn + at];
            j->dw[r * K + k] = s;
        }
    }
}

/* Backward, images split between the threads, per image and group:
 *  - dX (stride 1) is a forward convolution of dY, padded by (kh-1)*dh - pad_t, with the
 *    flipped, transposed weight: the same implicit product, C_in_g rows, K = C_out_g*kh*kw.
 *  - dW^T (K x C_out_g) += im2col(x) @ dY^T, with dY transposed to pixel-major over the wide
 *    rows (zeros in the garbage columns) and x's wide planes read in place; each chunk sums
 *    its images into its own dW^T, and the partial sums are added in chunk order.
 *  - relu_y: dY masked per image (into the thread's scratch) before both; db (only then
 *    computed here) from per-image channel sums added in image order, so that it does not
 *    depend on the thread count.
 * Returns 0, or -1 on OOM. */
static int FN(implicit_bwd)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw, DT *db,
                            const DT *relu_y, const uint8_t *pool_code, const mn_conv2d_geom *g,
                            int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t kh = g->kh, kw = g->kw, H = g->h, W = g->w;
    const ptrdiff_t K = cin_g * kh * kw, OH = g->oh, OW = g->ow, P = OH * OW;
    const ptrdiff_t nr = 2 * ik.lanes;
    /* dX: dY padded into Hq x Wq planes, output H x Wq wide, rows cin_g (Mq padded) */
    mn_conv2d_geom gt = *g;
    gt.h = OH;
    gt.w = OW;
    gt.pad_t = (kh - 1) * g->dh - g->pad_t;
    gt.pad_l = (kw - 1) * g->dw - g->pad_l;
    const ptrdiff_t Hq = H + (kh - 1) * g->dh, Wq = W + (kw - 1) * g->dw, Kq = cout_g * kh * kw;
    const int rt = dx && FN(dx_is_flipped_conv)(g) ? FN(rowtile_nv)(g, cin_g, cout_g, isa, 0) : 0;
    /* dW by row tiles too (conv_rowtile.h: rowdw_image), same conditions with C_out_g rows */
    /* (rtw: the block's channels, as rt; the AVX2 dW tile (8) has stride 1 only) */
    const int rtn = dw && g->ow >= 2 && kw == 3 ? FN(rowtile_nv)(g, cout_g, cin_g, isa, 1) : 0;
    const int rtw = rtn == 8 && g->sh != 1 ? 0 : rtn;
    /* their planes: the padded input itself (rows of sw*(OW-1) + kw), not stride phases */
    const ptrdiff_t Hr = g->sh * (OH - 1) + kh, Wr = g->sw * (OW - 1) + kw;
    const ptrdiff_t mrq = rt ? rt : ik.mr;
    const ptrdiff_t Tq = H * Wq, Tqp = FN(round_up)(Tq, nr), Mq = FN(round_up)(cin_g, mrq);
    const ptrdiff_t dypn = cout_g * Hq * Wq;
    const ptrdiff_t slq = FN(round_up)(Tqp - Tq + (kw - 1) * g->dw + 1, 16);
    /* dW: x padded into Hp x Wp (phase) planes, dY^T over T = OH*Wp wide pixels x Cp channels */
    ptrdiff_t Hp, Wp;
    FN(ik_planes)(g, &Hp, &Wp);
    const ptrdiff_t T = OH * Wp;
    const ptrdiff_t Cp = FN(round_up)(cout_g, ik.lanes), Kp = FN(round_up)(K, ik.kb);
    const ptrdiff_t xpn = g->sh * g->sw * cin_g * Hp * Wp;
    const ptrdiff_t slp = FN(round_up)((kw - 1) * g->dw / g->sw + 1, 16);
    const ptrdiff_t dwtn = G * Kp * Cp;
    const int own_dy = relu_y || pool_code; /* dY made per image, in scratch */
    const ptrdiff_t dymn = own_dy ? cout_g * P : 0;
    const int dxgen = dx && !FN(dx_is_flipped_conv)(g);
    FN(dxs_plan) plan;
    if (dxgen && FN(dxs_make)(g, &ik, w, &plan))
        return -1;
    const ptrdiff_t dxgn = dxgen ? cout_g * plan.Hq * plan.Wq + plan.Tpmax + plan.Wq + 16 : 0;
    const size_t need = (size_t)((dxgen ? (ptrdiff_t)FN(dxs_scratch)(&plan, cout_g)
                                  : dx  ? dypn + slq + (ik.st ? 0 : Mq * Tqp)
                                        : 0) +
                                 (dw ? xpn + slp + T * Cp : 0) + dymn);
    double *dbn =
        (own_dy && db) ? (double *)malloc((size_t)(N * g->c_out) * sizeof(double)) : NULL;
    DT *wfp = dx && !dxgen ? (DT *)malloc((size_t)(G * Mq * Kq) * sizeof(DT)) : NULL;
    ptrdiff_t *offq = (ptrdiff_t *)malloc((size_t)(Kq + K + Tqp) * sizeof(ptrdiff_t));
    ptrdiff_t *off = offq ? offq + Kq : NULL, *ybase = offq ? offq + Kq + K : NULL;
    unsigned *msk = (unsigned *)malloc((size_t)Tqp * sizeof(unsigned));
    int err = (dx && !dxgen && !wfp) || !offq || !msk || (own_dy && db && !dbn);
    if (!err) {
        if (dx && !dxgen) {
            FN(ik_pack)(w, g, 1, mrq, wfp);
            FN(ik_offsets)(cout_g, g, Hq, Wq, offq);
            FN(ik_masks)(Tq, Tqp, Wq, W, ik.lanes, ybase, msk);
        }
        FN(ik_offsets)(cin_g, g, Hp, Wp, off);
    }
    const int nt = (int)(N < n_threads ? (N > 0 ? N : 1) : (n_threads > 256 ? 256 : n_threads));
    /* the chunks' partial dW^T, dwtn apart: read by the second job, after the chunks */
    DT *parts =
        dw && !err ? (DT *)mn_workspace(WS_CONV_PART, (size_t)(nt * dwtn) * sizeof(DT)) : NULL;
    err |= dw && !parts;
    FN(ibwd_job) job = {&ik, dy,   x,   relu_y, pool_code, dx,  dw,    g,    &gt,  &plan, dxgen,
                        rt,  rtw,  K,   Kq,     Kp,        Cp,  Hq,    Wq,   Tqp,  Mq,    Hp,
                        Wp,  Hr,   Wr,  xpn,    slp,       slq, dypn,  dxgn, dwtn, dymn,  need,
                        wfp, offq, off, ybase,  msk,       dbn, parts, err};
    if (!err)
        mn_parallel(nt, nt, FN(ibwd_chunk), &job);
    if (dw && !job.err)
        mn_parallel(nt, nt, FN(ibwd_dw_sum_chunk), &job);
    const int fail = job.err;
    if (dbn && !fail)
        for (ptrdiff_t o = 0; o < g->c_out; o++) {
            double sum = 0;
            for (ptrdiff_t n = 0; n < N; n++)
                sum += dbn[n * g->c_out + o];
            db[o] = (DT)sum;
        }
    free(wfp);
    free(offq);
    free(msk);
    free(dbn);
    if (dxgen)
        FN(dxs_free)(&plan);
    return fail ? -1 : 0;
}
