/* The family's public entry points (per dtype, included last by conv_impl.h; contracts in
 * conv.h): mn_conv2d_fwd_{f32,f64}, mn_conv2d_relu_pool_fwd_{f32,f64} and
 * mn_conv2d_bwd_{f32,f64}. Each routes the call to a path by the predicates of
 * conv_dispatch.h; the backward also does what its paths share: it masks (or unpools) dY once
 * when a path reads dY whole, and sums db. */

int FN(mn_conv2d_fwd)(const DT *x, const DT *w, const DT *b, DT *y, const mn_conv2d_geom *g,
                      int act, int isa, int n_threads)
{
    const ptrdiff_t xs = g->c_in * g->h * g->w, ys = g->c_out * g->oh * g->ow;
    if (n_threads < 1)
        n_threads = 1;
    if (FN(use_implicit)(g, n_threads))
        return FN(implicit_fwd)(x, w, b, y, NULL, g, act, isa, n_threads);
    if (FN(use_dwise)(g))
        return FN(dwise_fwd)(x, w, b, y, g, act, isa, n_threads);
    int err = 0;
    (void)xs;
    (void)ys;
    const ptrdiff_t nb = FN(block_images)(g), nblk = (g->n + nb - 1) / nb;
    if (n_threads == 1 || nblk < n_threads) {
        for (ptrdiff_t k = 0; k < nblk && !err; k++) {
            const ptrdiff_t n0 = k * nb, cnt = g->n - n0 < nb ? g->n - n0 : nb;
            err |= FN(conv_fwd_block)(x, w, b, y, g, act, isa, n_threads, n0, cnt);
        }
        return err ? -1 : 0;
    }
#pragma omp parallel for schedule(static) num_threads(n_threads) reduction(| : err)
    for (ptrdiff_t k = 0; k < nblk; k++) {
        const ptrdiff_t n0 = k * nb, cnt = g->n - n0 < nb ? g->n - n0 : nb;
        err |= FN(conv_fwd_block)(x, w, b, y, g, act, isa, 1, n0, cnt);
    }
    return err ? -1 : 0;
}

/* conv2d + relu + 2x2 stride-2 max pooling (conv.h). On the implicit path each image's
 * output is pooled from the thread's scratch and never written out; elsewhere the whole
 * output is computed first, then pooled. */
int FN(mn_conv2d_relu_pool_fwd)(const DT *x, const DT *w, const DT *b, DT *p, uint8_t *code,
                                const mn_conv2d_geom *g, int isa, int n_threads)
{
    const ptrdiff_t OH = g->oh, OW = g->ow, ys = g->c_out * OH * OW;
    const ptrdiff_t pq = g->c_out * (OH / 2) * (OW / 2);
    if (n_threads < 1)
        n_threads = 1;
    if (FN(use_implicit)(g, n_threads))
        return FN(implicit_fwd)(x, w, b, p, code, g, MN_ACT_RELU, isa, n_threads);
    DT *y = (DT *)malloc((size_t)(g->n * ys) * sizeof(DT) + 1);
    if (!y)
        return -1;
    int rc = FN(mn_conv2d_fwd)(x, w, b, y, g, MN_ACT_RELU, isa, n_threads);
    const int nt = (n_threads > 1 && g->n * ys >= 32768) ? n_threads : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t n = 0; n < g->n * (rc == 0); n++)
        FN(mn_relu_maxpool2x2_fwd)(y + n * ys, g->c_out, OH, OW, p + n * pq, code + n * pq,
                                   mn_effective_isa(isa));
    free(y);
    return rc;
}

#ifndef MN_CONV_BWD_PATH
#define MN_CONV_BWD_PATH
/* The paths of the backward, as conv_dispatch.h chooses them: one takes the call (dW, and dX
 * and db where it can), and dX goes to that one or to the im2col/direct path. The per-image
 * paths read dY an image at a time and mask it (relu_y, pool_code) in cache; the im2col path
 * reads it whole, masked once first. */
enum conv_bwd_path {
    CONV_BWD_NONE,      /* no dX or dW asked, or no images (dW := 0) */
    CONV_BWD_DEPTHWISE, /* dwise_bwd: dW and db; dX when dwise_dx_ok */
    CONV_BWD_IMPLICIT,  /* implicit_bwd: dW; dX when implicit_takes_dx; db when it masks dY */
    CONV_BWD_CLASSIC    /* bwd_classic: im2col + GEMM, or the direct loops (use_direct) */
};
#endif

int FN(mn_conv2d_bwd)(const DT *dy, const DT *x, const DT *w, DT *dx, DT *dw, DT *db,
                      const DT *relu_y, const uint8_t *pool_code, const mn_conv2d_geom *g, int isa,
                      int n_threads)
{
    const ptrdiff_t ys = g->c_out * g->oh * g->ow;
    const ptrdiff_t P = g->oh * g->ow, N = g->n, CO = g->c_out;
    const ptrdiff_t wsz = CO * (g->c_in / g->groups) * g->kh * g->kw;
    if (n_threads < 1)
        n_threads = 1;
    /* the path that takes the call, and dX's (NONE when dX is not asked) */
    enum conv_bwd_path path = CONV_BWD_NONE, dx_path = CONV_BWD_NONE;
    if (N > 0 && (dx || dw)) {
        path = FN(use_dwise_bwd)(g)             ? CONV_BWD_DEPTHWISE
               : FN(use_implicit)(g, n_threads) ? CONV_BWD_IMPLICIT
                                                : CONV_BWD_CLASSIC;
        if (dx)
            dx_path = (path == CONV_BWD_DEPTHWISE && !FN(dwise_dx_ok)(g)) ||
                              (path == CONV_BWD_IMPLICIT && !FN(implicit_takes_dx)(g))
                          ? CONV_BWD_CLASSIC
                          : path;
    }
    DT *masked = NULL;
    if ((relu_y || pool_code) &&
        (path == CONV_BWD_NONE || path == CONV_BWD_CLASSIC || dx_path == CONV_BWD_CLASSIC)) {
        /* db below or the im2col path reads dY whole: mask (or unpool) it once */
        masked = (DT *)malloc((size_t)(N * ys) * sizeof(DT) + 1);
        if (!masked)
            return -1;
        const int ntm = (n_threads > 1 && N * ys >= 32768) ? n_threads : 1;
        const ptrdiff_t pq = CO * (g->oh / 2) * (g->ow / 2);
        if (pool_code) {
#pragma omp parallel for schedule(static) num_threads(ntm) if (ntm > 1)
            for (ptrdiff_t n = 0; n < N; n++)
                FN(mn_relu_maxpool2x2_bwd)(dy + n * pq, pool_code + n * pq, CO, g->oh, g->ow,
                                           masked + n * ys, NULL, mn_effective_isa(isa));
        } else {
#pragma omp parallel for schedule(static) num_threads(ntm) if (ntm > 1)
            for (ptrdiff_t i = 0; i < N * ys; i++)
                masked[i] = relu_y[i] > 0 ? dy[i] : (DT)0;
        }
        dy = masked;
        relu_y = NULL;
        pool_code = NULL;
    }
    const int own_dy = relu_y || pool_code;
    if (db && !own_dy && path != CONV_BWD_DEPTHWISE) {
        /* sum over n and pixels, per channel (threads split the channels; each sum has one
         * fixed order); an image's row is summed with omp simd, the rows added in double so
         * float32 keeps its digits */
        const int ntb = (n_threads > 1 && N * P * CO >= 32768) ? n_threads : 1;
#pragma omp parallel for schedule(static) num_threads(ntb) if (ntb > 1)
        for (ptrdiff_t o = 0; o < CO; o++) {
            double s = 0;
            for (ptrdiff_t n = 0; n < N; n++) {
                const DT *r = dy + n * ys + o * P;
                DT t = 0;
#pragma omp simd reduction(+ : t)
                for (ptrdiff_t p = 0; p < P; p++)
                    t += r[p];
                s += t;
            }
            db[o] = (DT)s;
        }
    }
    int rc = 0;
    switch (path) {
    case CONV_BWD_NONE:
        if (dw) /* no images */
            memset(dw, 0, (size_t)wsz * sizeof(DT));
        break;
    case CONV_BWD_DEPTHWISE:
        rc = FN(dwise_bwd)(dy, x, w, dx_path == CONV_BWD_DEPTHWISE ? dx : NULL, dw, db, relu_y,
                           pool_code, g, isa, n_threads);
        break;
    case CONV_BWD_IMPLICIT:
        rc = FN(implicit_bwd)(dy, x, w, dx_path == CONV_BWD_IMPLICIT ? dx : NULL, dw,
                              own_dy ? db : NULL, relu_y, pool_code, g, isa, n_threads);
        break;
    case CONV_BWD_CLASSIC: rc = FN(bwd_classic)(dy, x, w, dx, dw, g, isa, n_threads); break;
    }
    /* dX that a per-image path left to the im2col/direct path (dY is masked then) */
    if (!rc && path != CONV_BWD_CLASSIC && dx_path == CONV_BWD_CLASSIC)
        rc = FN(bwd_classic)(dy, x, w, dx, NULL, g, isa, n_threads);
    free(masked);
    return rc;
}
