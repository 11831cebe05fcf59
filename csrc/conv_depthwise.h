/* Depthwise convolution at stride 1, C_in == groups (per dtype, included by conv_impl.h;
 * kernels dwise_plane and dwise_dw in conv_implicit.h):
 *   forward:  y[n, o] := act(b[o] + corr(x[n, group of o], w[o])), one output plane at a time
 *   backward: dX[n, c] := sum over the group's outputs o of corr(padded dY[n, o], flipped w[o]);
 *             dW[o] := sum_n corr(x[n, group of o], dY[n, o]);  db[o] := sum of dY[n, o]
 * Why: with one input channel, an implicit tile of 8 weight rows would use one in the dX and
 * its dW^T tiles would be mostly padding, and an im2col GEMM would have k = kH*kW. Here a
 * vector of one output row is computed at a time, every tap a load and an FMA from the
 * zero-bordered plane. Chosen (use_dwise, use_dwise_bwd) for the forward with fewer than 8
 * outputs per group, for the backward with any. Threads split the (image, group) planes. */

/* Forward: (image, group) planes split between the threads; each padded once into the
 * thread's zero-bordered plane, then every output channel of the group from it. */
static int FN(dwise_fwd)(const DT *x, const DT *w, const DT *b, DT *y, const mn_conv2d_geom *g,
                         int act, int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, cout_g = g->c_out / G, kh = g->kh, kw = g->kw;
    const ptrdiff_t OH = g->oh, OW = g->ow, P = OH * OW, HW = g->h * g->w;
    const ptrdiff_t Hp = OH + (kh - 1) * g->dh, Wp = OW + (kw - 1) * g->dw;
    const ptrdiff_t pn = Hp * Wp + 2 * ik.lanes, items = N * G;
    const int nt = (int)(items < n_threads ? (items > 0 ? items : 1) : n_threads);
    int err = 0;
#pragma omp parallel num_threads(nt) if (nt > 1) reduction(| : err)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
        const ptrdiff_t lo = items * t / nth, hi = items * (t + 1) / nth;
        DT *xp = hi > lo ? (DT *)mn_workspace(WS_CONV, (size_t)pn * sizeof(DT)) : NULL;
        if (hi > lo && !xp)
            err = 1;
        if (xp) {
            memset(xp, 0, (size_t)pn * sizeof(DT));
            for (ptrdiff_t it = lo; it < hi; it++) {
                const ptrdiff_t n = it / G, gi = it % G;
                FN(ik_pad)(&ik, x + (n * G + gi) * HW, 1, g, Hp, Wp, xp);
                for (ptrdiff_t o = 0; o < cout_g; o++) {
                    const ptrdiff_t oc = gi * cout_g + o;
                    ik.dwise(xp, 1, 0, Wp, OH, OW, w + oc * kh * kw, kh, kw, g->dh, g->dw,
                             b ? b[oc] : (DT)0, act == MN_ACT_RELU, y + (n * g->c_out + oc) * P);
                }
            }
        }
    }
    return err ? -1 : 0;
}

/* Backward (dY unmasked), planes split between the threads: dX of a plane is the depthwise
 * forward of its group's dY planes, padded by (kh-1)*dh - pad_t, with the flipped taps
 * (needs that padding >= 0: dx_ok); dW per thread, added in thread order; db from
 * per-plane sums (in double) added in image order, while the plane is in cache; relu_y:
 * each (image, group)'s dY planes masked into the thread's scratch first. */
static int FN(dwise_bwd)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw, DT *db,
                         const DT *relu_y, const uint8_t *pool_code, const mn_conv2d_geom *g,
                         int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, CO = g->c_out, cout_g = CO / G;
    const ptrdiff_t kh = g->kh, kw = g->kw, khw = kh * kw, H = g->h, W = g->w, HW = H * W;
    const ptrdiff_t OH = g->oh, OW = g->ow, P = OH * OW, items = N * G;
    const ptrdiff_t Hp = OH + (kh - 1) * g->dh, Wp = OW + (kw - 1) * g->dw;
    const ptrdiff_t Hq = H + (kh - 1) * g->dh, Wq = W + (kw - 1) * g->dw;
    mn_conv2d_geom gt = *g;
    gt.h = OH;
    gt.w = OW;
    gt.pad_t = (kh - 1) * g->dh - g->pad_t;
    gt.pad_l = (kw - 1) * g->dw - g->pad_l;
    const ptrdiff_t dqn = dx ? cout_g * Hq * Wq + 2 * ik.lanes : 0;
    /* dW: x's plane (slack for the last vector's taps), dY's plane over wide rows */
    const ptrdiff_t Tw = FN(round_up)(OH * Wp, ik.lanes);
    const ptrdiff_t xpn = dw ? Hp * Wp + 2 * ik.lanes + (kw - 1) * g->dw : 0;
    const ptrdiff_t accn = dw ? CO * khw : 0, dywn = dw ? Tw : 0;
    const int own_dy = relu_y || pool_code; /* dY made per image, in scratch */
    const ptrdiff_t dymn = own_dy ? cout_g * P : 0;
    ptrdiff_t toff[64];
    if (dw && khw > 64)
        return -2; /* not taken: see use_dwise_bwd */
    for (ptrdiff_t p = 0; p < kh && dw; p++)
        for (ptrdiff_t q = 0; q < kw; q++)
            toff[p * kw + q] = p * g->dh * Wp + q * g->dw;
    DT *wf = dx ? (DT *)malloc((size_t)(CO * khw) * sizeof(DT)) : NULL;
    double *dbn = db ? (double *)malloc((size_t)(N * CO) * sizeof(double) + 1) : NULL;
    if ((dx && !wf) || (db && !dbn)) {
        free(wf);
        free(dbn);
        return -1;
    }
    for (ptrdiff_t oc = 0; dx && oc < CO; oc++)
        for (ptrdiff_t k = 0; k < khw; k++)
            wf[oc * khw + k] = w[oc * khw + khw - 1 - k];
    const int nt =
        (int)(items < n_threads ? (items > 0 ? items : 1) : (n_threads > 256 ? 256 : n_threads));
    DT *part[256];
    int fail = 0;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        const int t = omp_get_thread_num(), nth = omp_get_num_threads();
        const ptrdiff_t lo = items * t / nth, hi = items * (t + 1) / nth;
        DT *buf = FN(team_scratch)((size_t)(dqn + xpn + accn + dymn + dywn + 1), &fail);
        part[t] = NULL;
#pragma omp barrier
        if (!fail) {
            DT *dyp = buf, *xp = buf + dqn, *acc = xp + xpn, *dym = acc + accn;
            DT *dyw = dym + dymn;
            memset(buf, 0, (size_t)(dqn + xpn + accn + dymn + dywn) * sizeof(DT));
            part[t] = acc;
            for (ptrdiff_t it = lo; it < hi; it++) {
                const ptrdiff_t n = it / G, gi = it % G;
                const DT *dyg = FN(dy_image)(&ik, dy, relu_y, pool_code, g, n, gi, dym, dbn);
                for (ptrdiff_t o = 0; db && !own_dy && o < cout_g; o++) {
                    const DT *r = dyg + o * P;
                    DT sum = 0;
#pragma omp simd reduction(+ : sum)
                    for (ptrdiff_t q = 0; q < P; q++)
                        sum += r[q];
                    dbn[n * CO + gi * cout_g + o] = sum;
                }
                if (dx) {
                    FN(ik_pad)(&ik, dyg, cout_g, &gt, Hq, Wq, dyp);
                    ik.dwise(dyp, cout_g, Hq * Wq, Wq, H, W, wf + gi * cout_g * khw, kh, kw, g->dh,
                             g->dw, (DT)0, 0, dx + (n * G + gi) * HW);
                }
                if (dw) {
                    FN(ik_pad)(&ik, x + (n * G + gi) * HW, 1, g, Hp, Wp, xp);
                    for (ptrdiff_t o = 0; o < cout_g; o++) {
                        ik.interior(dyg + o * P, 1, OH, OW, OH, OW, dyw, OH, Wp);
                        ik.dwise_dw(dyw, xp, Tw, toff, khw, acc + (gi * cout_g + o) * khw);
                    }
                }
            }
        }
#pragma omp barrier
        if (dw && !fail) {
            const ptrdiff_t a = accn * t / nth, e = accn * (t + 1) / nth;
            for (ptrdiff_t i = a; i < e; i++) {
                DT sum = 0;
                for (int u = 0; u < nth; u++)
                    sum += part[u][i];
                dw[i] = sum;
            }
        }
    }
    for (ptrdiff_t oc = 0; db && !fail && oc < CO; oc++) {
        double sum = 0;
        for (ptrdiff_t n = 0; n < N; n++)
            sum += dbn[n * CO + oc];
        db[oc] = (DT)sum;
    }
    free(wf);
    free(dbn);
    return fail ? -1 : 0;
}
