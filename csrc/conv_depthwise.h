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

/* dwise_fwd's job: chunk t of T takes planes [items*t/T, items*(t+1)/T). */
typedef struct {
    const FN(ik_t) *ik;
    const DT *x, *w, *b;
    DT *y;
    const mn_conv2d_geom *g;
    int act;
    ptrdiff_t Hp, Wp, pn;
    int err;
} FN(dwf_job);

static void FN(dwf_chunk)(void *ctx, int t, int nth)
{
    FN(dwf_job) *j = ctx;
    const FN(ik_t) ik = *j->ik;
    const mn_conv2d_geom *g = j->g;
    const ptrdiff_t G = g->groups, cout_g = g->c_out / G, kh = g->kh, kw = g->kw;
    const ptrdiff_t OH = g->oh, OW = g->ow, P = OH * OW, HW = g->h * g->w, Wp = j->Wp;
    const ptrdiff_t items = g->n * G, lo = items * t / nth, hi = items * (t + 1) / nth;
    if (hi == lo)
        return;
    DT *xp = (DT *)mn_workspace(WS_CONV, (size_t)j->pn * sizeof(DT));
    if (!xp) {
        __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
        return;
    }
    memset(xp, 0, (size_t)j->pn * sizeof(DT));
    for (ptrdiff_t it = lo; it < hi; it++) {
        const ptrdiff_t n = it / G, gi = it % G;
        FN(ik_pad)(&ik, j->x + (n * G + gi) * HW, 1, g, j->Hp, Wp, xp);
        for (ptrdiff_t o = 0; o < cout_g; o++) {
            const ptrdiff_t oc = gi * cout_g + o;
            ik.dwise(xp, 1, 0, Wp, OH, OW, j->w + oc * kh * kw, kh, kw, g->dh, g->dw,
                     j->b ? j->b[oc] : (DT)0, j->act == MN_ACT_RELU,
                     j->y + (n * g->c_out + oc) * P);
        }
    }
}

/* Forward: (image, group) planes split between the threads; each padded once into the
 * thread's zero-bordered plane, then every output channel of the group from it. */
static int FN(dwise_fwd)(const DT *x, const DT *w, const DT *b, DT *y, const mn_conv2d_geom *g,
                         int act, int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, kh = g->kh, kw = g->kw, OH = g->oh, OW = g->ow;
    const ptrdiff_t Hp = OH + (kh - 1) * g->dh, Wp = OW + (kw - 1) * g->dw;
    const ptrdiff_t pn = Hp * Wp + 2 * ik.lanes, items = N * G;
    const int nt = (int)(items < n_threads ? (items > 0 ? items : 1) : n_threads);
    FN(dwf_job) job = {&ik, x, w, b, y, g, act, Hp, Wp, pn, 0};
    mn_parallel(nt, nt, FN(dwf_chunk), &job);
    const int err = job.err;
    return err ? -1 : 0;
}

/* dwise_bwd's jobs: chunk t of T takes planes [items*t/T, items*(t+1)/T) with the scratch of
 * its thread (slot WS_CONV) and sums their dW into parts + t*accn; the second job adds the
 * partials in chunk order. */
typedef struct {
    const FN(ik_t) *ik;
    const DT *dy, *x, *relu_y;
    const uint8_t *pool_code;
    DT *dx, *dw, *db;
    const mn_conv2d_geom *g, *gt;
    const DT *wf;
    double *dbn;
    const ptrdiff_t *toff;
    ptrdiff_t Hp, Wp, Hq, Wq, Tw, dqn, xpn, accn, dywn, dymn;
    int own_dy;
    DT *parts;
    int err;
} FN(dwb_job);

static void FN(dwb_chunk)(void *ctx, int t, int nth)
{
    FN(dwb_job) *j = ctx;
    const FN(ik_t) ik = *j->ik;
    const mn_conv2d_geom *g = j->g;
    const ptrdiff_t G = g->groups, CO = g->c_out, cout_g = CO / G, kh = g->kh, kw = g->kw;
    const ptrdiff_t khw = kh * kw, H = g->h, W = g->w, HW = H * W, OH = g->oh, OW = g->ow;
    const ptrdiff_t P = OH * OW, Hp = j->Hp, Wp = j->Wp, Hq = j->Hq, Wq = j->Wq;
    const ptrdiff_t items = g->n * G, lo = items * t / nth, hi = items * (t + 1) / nth;
    const ptrdiff_t dqn = j->dqn, xpn = j->xpn, dymn = j->dymn;
    DT *acc = j->dw ? j->parts + t * j->accn : NULL;
    if (acc)
        memset(acc, 0, (size_t)j->accn * sizeof(DT));
    if (hi == lo)
        return;
    DT *buf = (DT *)mn_workspace(WS_CONV, (size_t)(dqn + xpn + dymn + j->dywn + 1) * sizeof(DT));
    if (!buf) {
        __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
        return;
    }
    DT *dyp = buf, *xp = buf + dqn, *dym = xp + xpn, *dyw = dym + dymn;
    memset(buf, 0, (size_t)(dqn + xpn + dymn + j->dywn) * sizeof(DT));
    for (ptrdiff_t it = lo; it < hi; it++) {
        const ptrdiff_t n = it / G, gi = it % G;
        const DT *dyg = FN(dy_image)(&ik, j->dy, j->relu_y, j->pool_code, g, n, gi, dym, j->dbn);
        for (ptrdiff_t o = 0; j->db && !j->own_dy && o < cout_g; o++) {
            const DT *r = dyg + o * P;
            DT sum = 0;
#pragma omp simd reduction(+ : sum)
            for (ptrdiff_t q = 0; q < P; q++)
                sum += r[q];
            j->dbn[n * CO + gi * cout_g + o] = sum;
        }
        if (j->dx) {
            FN(ik_pad)(&ik, dyg, cout_g, j->gt, Hq, Wq, dyp);
            ik.dwise(dyp, cout_g, Hq * Wq, Wq, H, W, j->wf + gi * cout_g * khw, kh, kw, g->dh,
                     g->dw, (DT)0, 0, j->dx + (n * G + gi) * HW);
        }
        if (acc) {
            FN(ik_pad)(&ik, j->x + (n * G + gi) * HW, 1, g, Hp, Wp, xp);
            for (ptrdiff_t o = 0; o < cout_g; o++) {
                ik.interior(dyg + o * P, 1, OH, OW, OH, OW, dyw, OH, Wp);
                ik.dwise_dw(dyw, xp, j->Tw, j->toff, khw, acc + (gi * cout_g + o) * khw);
            }
        }
    }
}

/* dw[i] = sum over chunks of their partial, in chunk order; each chunk a slice of dw */
static void FN(dwb_dw_sum_chunk)(void *ctx, int t, int nth)
{
    const FN(dwb_job) *j = ctx;
    const ptrdiff_t a = j->accn * t / nth, e = j->accn * (t + 1) / nth;
    for (ptrdiff_t i = a; i < e; i++) {
        DT sum = 0;
        for (int u = 0; u < nth; u++)
            sum += j->parts[u * j->accn + i];
        j->dw[i] = sum;
    }
}

/* Backward (dY unmasked), planes split between the threads: dX of a plane is the depthwise
 * forward of its group's dY planes, padded by (kh-1)*dh - pad_t, with the flipped taps
 * (needs that padding >= 0: dx_ok); dW per chunk, added in chunk order; db from
 * per-plane sums (in double) added in image order, while the plane is in cache; relu_y:
 * each (image, group)'s dY planes masked into the thread's scratch first. */
static int FN(dwise_bwd)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw, DT *db,
                         const DT *relu_y, const uint8_t *pool_code, const mn_conv2d_geom *g,
                         int isa, int n_threads)
{
    const FN(ik_t) ik = FN(ik_for)(mn_effective_isa(isa));
    const ptrdiff_t N = g->n, G = g->groups, CO = g->c_out, cout_g = CO / G;
    const ptrdiff_t kh = g->kh, kw = g->kw, khw = kh * kw, H = g->h, W = g->w;
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
    /* the chunks' partial dW, accn apart: read by the second job, after the chunks */
    DT *parts = dw ? (DT *)mn_workspace(WS_CONV_PART, (size_t)(nt * accn) * sizeof(DT)) : NULL;
    FN(dwb_job) job = {&ik, dy,  x,    relu_y, pool_code, dx,     dw,    db,          g,
                       &gt, wf,  dbn,  toff,   Hp,        Wp,     Hq,    Wq,          Tw,
                       dqn, xpn, accn, dywn,   dymn,      own_dy, parts, dw && !parts};
    if (!job.err)
        mn_parallel(nt, nt, FN(dwb_chunk), &job);
    if (dw && !job.err)
        mn_parallel(nt, nt, FN(dwb_dw_sum_chunk), &job);
    const int fail = job.err;
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
