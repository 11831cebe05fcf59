/* Direct convolution for few taps per output (C_in/groups * kH * kW small: the 1-channel
 * first layer, depthwise layers), where an im2col GEMM has k = 9 and its packing and call
 * overheads dominate. Each weight tap is one pass of y_row += w * x_row over the output plane
 * (unit stride when the convolution's stride is 1, so it vectorises), and the plane stays in L1.
 * Instantiated by conv_isa.h per dtype and ISA: DT, DFN(name), DATTR; DFN(wide_fwd) is
 * wide_fwd_{avx512,avx2,generic}_{f32,f64}. Called through direct_fwd_isa/direct_bwd_isa. */

/* Stride 1: zero-pad the image once into rows of width Wp = W + pads, then every tap is ONE
 * flat loop over the OH x Wp output "wide" plane: y_wide[t] += w * xp[t + p*dh*Wp + q*dw].
 * Columns j >= OW of a wide row are garbage (they would wrap into the next row) and are
 * dropped when copying out; the valid ones never wrap. Long unit-stride loops instead of
 * OH loops of OW (28) elements, whose remainder handling cost more than their FMAs. */
DATTR static void DFN(pad_image)(const DT *x_chw, ptrdiff_t c_n, const mn_conv2d_geom *g,
                                 ptrdiff_t Hp, ptrdiff_t Wp, DT *xp)
{
    for (ptrdiff_t c = 0; c < c_n; c++) {
        const DT *xc = x_chw + c * g->h * g->w;
        DT *pc = xp + c * Hp * Wp;
        for (ptrdiff_t t = 0; t < Hp * Wp; t++)
            pc[t] = 0;
        /* rows/columns past Hp/Wp feed no output (possible when padding after exceeds the
         * kernel's reach, as in the transposed geometry of conv2d_bwd): skip them */
        for (ptrdiff_t r = 0; r < g->h && r + g->pad_t < Hp; r++)
            for (ptrdiff_t s = 0; s < g->w && s + g->pad_l < Wp; s++)
                pc[(r + g->pad_t) * Wp + s + g->pad_l] = xc[r * g->w + s];
    }
}

DATTR static void DFN(wide_fwd)(const DT *x_chw, const DT *w, const DT *b, DT *y_chw,
                                const mn_conv2d_geom *g, int act, DT *scratch)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t OH = g->oh, OW = g->ow, kh = g->kh, kw = g->kw;
    const ptrdiff_t Hp = OH + (kh - 1) * g->dh, Wp = OW + (kw - 1) * g->dw, L = OH * Wp;
    DT *xp = scratch, *yw = scratch + g->c_in * Hp * Wp + kw * g->dw;
    DFN(pad_image)(x_chw, g->c_in, g, Hp, Wp, xp);
    for (ptrdiff_t t = g->c_in * Hp * Wp; t < g->c_in * Hp * Wp + kw * g->dw; t++)
        xp[t] = 0; /* read only into dropped columns, but never leave them stale */
    for (ptrdiff_t o = 0; o < g->c_out; o++) {
        const DT bo = b ? b[o] : (DT)0;
        for (ptrdiff_t t = 0; t < L; t++)
            yw[t] = bo;
        const ptrdiff_t gi = o / cout_g;
        for (ptrdiff_t c = 0; c < cin_g; c++) {
            const DT *pc = xp + (gi * cin_g + c) * Hp * Wp;
            const DT *wc = w + (o * cin_g + c) * kh * kw;
            for (ptrdiff_t p = 0; p < kh; p++)
                for (ptrdiff_t q = 0; q < kw; q++) {
                    const DT wv = wc[p * kw + q];
                    const DT *restrict xs = pc + p * g->dh * Wp + q * g->dw;
                    DT *restrict yr = yw;
                    for (ptrdiff_t t = 0; t < L; t++)
                        yr[t] += wv * xs[t];
                }
        }
        DT *yo = y_chw + o * OH * OW;
        for (ptrdiff_t i = 0; i < OH; i++)
            for (ptrdiff_t j = 0; j < OW; j++) {
                const DT v = yw[i * Wp + j];
                yo[i * OW + j] = (act == MN_ACT_RELU && v < 0) ? (DT)0 : v;
            }
    }
}

DATTR static void DFN(wide_bwd)(const DT *dy_chw, const DT *x_chw, const DT *w, DT *dx_chw,
                                DT *dw_acc, int first, const mn_conv2d_geom *g, DT *scratch)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t OH = g->oh, OW = g->ow, kh = g->kh, kw = g->kw;
    const ptrdiff_t Hp = OH + (kh - 1) * g->dh, Wp = OW + (kw - 1) * g->dw, L = OH * Wp;
    const ptrdiff_t img = g->c_in * Hp * Wp + kw * g->dw;
    DT *dyw = scratch, *xp = scratch + g->c_out * L + kw * g->dw, *dxp = xp + img;
    /* dy in wide rows, zero in the garbage columns: they then add nothing anywhere */
    for (ptrdiff_t o = 0; o < g->c_out; o++)
        for (ptrdiff_t i = 0; i < OH; i++) {
            DT *row = dyw + o * L + i * Wp;
            const DT *src = dy_chw + (o * OH + i) * OW;
            for (ptrdiff_t j = 0; j < OW; j++)
                row[j] = src[j];
            for (ptrdiff_t j = OW; j < Wp; j++)
                row[j] = 0;
        }
    for (ptrdiff_t t = g->c_out * L; t < g->c_out * L + kw * g->dw; t++)
        dyw[t] = 0;
    if (dw_acc) {
        DFN(pad_image)(x_chw, g->c_in, g, Hp, Wp, xp);
        /* the last tap's rows read kw*dw elements past the last plane, against dY's zero
         * garbage columns: zero them too, since 0 * a stale NaN or inf from an earlier call's
         * scratch is NaN (found by tests/fuzz) */
        for (ptrdiff_t t = g->c_in * Hp * Wp; t < img; t++)
            xp[t] = 0;
    }
    if (dx_chw)
        for (ptrdiff_t t = 0; t < img; t++)
            dxp[t] = 0;
    for (ptrdiff_t o = 0; o < g->c_out; o++) {
        const DT *restrict dyo = dyw + o * L;
        const ptrdiff_t gi = o / cout_g;
        for (ptrdiff_t c = 0; c < cin_g; c++) {
            const ptrdiff_t ci = gi * cin_g + c;
            const ptrdiff_t widx = (o * cin_g + c) * kh * kw;
            for (ptrdiff_t p = 0; p < kh; p++)
                for (ptrdiff_t q = 0; q < kw; q++) {
                    const ptrdiff_t off = ci * Hp * Wp + p * g->dh * Wp + q * g->dw;
                    if (dw_acc) {
                        const DT *restrict xs = xp + off;
                        DT s = 0;
#pragma omp simd reduction(+ : s)
                        for (ptrdiff_t t = 0; t < L; t++)
                            s += dyo[t] * xs[t];
                        DT *d = dw_acc + widx + p * kw + q;
                        *d = first ? s : *d + s;
                    }
                    if (dx_chw) {
                        const DT wv = w[widx + p * kw + q];
                        DT *restrict ds = dxp + off;
                        for (ptrdiff_t t = 0; t < L; t++)
                            ds[t] += wv * dyo[t];
                    }
                }
        }
    }
    if (dx_chw)
        for (ptrdiff_t c = 0; c < g->c_in; c++)
            for (ptrdiff_t r = 0; r < g->h; r++)
                for (ptrdiff_t s = 0; s < g->w; s++)
                    dx_chw[(c * g->h + r) * g->w + s] =
                        (r + g->pad_t < Hp && s + g->pad_l < Wp)
                            ? dxp[c * Hp * Wp + (r + g->pad_t) * Wp + s + g->pad_l]
                            : (DT)0;
}

/* y_chw (C_out x OH x OW) of one image := act(b + direct conv of x_chw), any stride. */
DATTR static void DFN(direct_fwd)(const DT *x_chw, const DT *w, const DT *b, DT *y_chw,
                                  const mn_conv2d_geom *g, int act)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, P = OH * OW, sw = g->sw;
    for (ptrdiff_t o = 0; o < g->c_out; o++) {
        DT *yo = y_chw + o * P;
        const DT bo = b ? b[o] : (DT)0;
        for (ptrdiff_t t = 0; t < P; t++)
            yo[t] = bo;
        const ptrdiff_t gi = o / cout_g;
        for (ptrdiff_t c = 0; c < cin_g; c++) {
            const DT *xc = x_chw + (gi * cin_g + c) * H * W;
            const DT *wc = w + (o * cin_g + c) * g->kh * g->kw;
            for (ptrdiff_t p = 0; p < g->kh; p++) {
                for (ptrdiff_t q = 0; q < g->kw; q++) {
                    const DT wv = wc[p * g->kw + q];
                    const ptrdiff_t col0 = q * g->dw - g->pad_l;
                    ptrdiff_t j0 = 0, j1 = OW;
                    if (col0 < 0)
                        j0 = (-col0 + sw - 1) / sw;
                    if (col0 + (OW - 1) * sw >= W)
                        j1 = (W - 1 - col0) >= 0 ? (W - 1 - col0) / sw + 1 : 0;
                    for (ptrdiff_t i = 0; i < OH; i++) {
                        const ptrdiff_t r = i * g->sh - g->pad_t + p * g->dh;
                        if (r < 0 || r >= H)
                            continue;
                        const DT *restrict xr = xc + r * W + col0;
                        DT *restrict yr = yo + i * OW;
                        if (sw == 1) {
                            for (ptrdiff_t j = j0; j < j1; j++)
                                yr[j] += wv * xr[j];
                        } else {
                            for (ptrdiff_t j = j0; j < j1; j++)
                                yr[j] += wv * xr[j * sw];
                        }
                    }
                }
            }
        }
        if (act == MN_ACT_RELU)
            for (ptrdiff_t t = 0; t < P; t++)
                yo[t] = yo[t] > 0 ? yo[t] : (DT)0;
    }
}

/* One image's backward: dx_chw := direct transpose conv of dy (when dx_chw), and
 * dw_acc += per-tap dot products of dy rows with shifted x rows (beta: 0 overwrites). */
DATTR static void DFN(direct_bwd)(const DT *dy_chw, const DT *x_chw, const DT *w, DT *dx_chw,
                                  DT *dw_acc, int first, const mn_conv2d_geom *g)
{
    const ptrdiff_t G = g->groups, cin_g = g->c_in / G, cout_g = g->c_out / G;
    const ptrdiff_t H = g->h, W = g->w, OH = g->oh, OW = g->ow, P = OH * OW, sw = g->sw;
    if (dx_chw)
        for (ptrdiff_t t = 0; t < g->c_in * H * W; t++)
            dx_chw[t] = 0;
    for (ptrdiff_t o = 0; o < g->c_out; o++) {
        const DT *dyo = dy_chw + o * P;
        const ptrdiff_t gi = o / cout_g;
        for (ptrdiff_t c = 0; c < cin_g; c++) {
            const ptrdiff_t ci = gi * cin_g + c;
            const DT *xc = x_chw + ci * H * W;
            DT *dxc = dx_chw ? dx_chw + ci * H * W : NULL;
            const ptrdiff_t widx = (o * cin_g + c) * g->kh * g->kw;
            for (ptrdiff_t p = 0; p < g->kh; p++) {
                for (ptrdiff_t q = 0; q < g->kw; q++) {
                    const DT wv = w[widx + p * g->kw + q];
                    const ptrdiff_t col0 = q * g->dw - g->pad_l;
                    ptrdiff_t j0 = 0, j1 = OW;
                    if (col0 < 0)
                        j0 = (-col0 + sw - 1) / sw;
                    if (col0 + (OW - 1) * sw >= W)
                        j1 = (W - 1 - col0) >= 0 ? (W - 1 - col0) / sw + 1 : 0;
                    DT acc = 0;
                    for (ptrdiff_t i = 0; i < OH; i++) {
                        const ptrdiff_t r = i * g->sh - g->pad_t + p * g->dh;
                        if (r < 0 || r >= H)
                            continue;
                        const DT *restrict dyr = dyo + i * OW;
                        if (dw_acc) {
                            const DT *restrict xr = xc + r * W + col0;
                            DT s = 0;
                            /* omp simd: let the sum vectorise (a fixed order per image, so
                             * results do not depend on the thread count) */
                            if (sw == 1) {
#pragma omp simd reduction(+ : s)
                                for (ptrdiff_t j = j0; j < j1; j++)
                                    s += dyr[j] * xr[j];
                            } else {
#pragma omp simd reduction(+ : s)
                                for (ptrdiff_t j = j0; j < j1; j++)
                                    s += dyr[j] * xr[j * sw];
                            }
                            acc += s;
                        }
                        if (dxc) {
                            DT *restrict dxr = dxc + r * W + col0;
                            if (sw == 1) {
                                for (ptrdiff_t j = j0; j < j1; j++)
                                    dxr[j] += wv * dyr[j];
                            } else {
                                for (ptrdiff_t j = j0; j < j1; j++)
                                    dxr[j * sw] += wv * dyr[j];
                            }
                        }
                    }
                    if (dw_acc) {
                        DT *d = dw_acc + widx + p * g->kw + q;
                        *d = first ? acc : *d + acc;
                    }
                }
            }
        }
    }
}
