/* The family's public entry points (per dtype, included last by conv_impl.h; contracts in
 * conv.h): mn_conv2d_fwd_{f32,f64}, mn_conv2d_relu_pool_fwd_{f32,f64} and
 * mn_conv2d_bwd_{f32,f64}. Each routes the call to a path by the predicates of
 * conv_dispatch.h; the backward also does what its paths share: it masks (or unpools) dY once
 * when a path reads dY whole, and sums db. */

/* The forward's blocks of images, a contiguous run of them per chunk (each block's GEMM
 * then runs serially in the chunk's thread). */
typedef struct {
    const DT *x, *w, *b;
    DT *y;
    const mn_conv2d_geom *g;
    int act, isa;
    ptrdiff_t nb, nblk;
    int err;
} FN(fwd_blocks_job);

static void FN(fwd_blocks_chunk)(void *ctx, int ch, int nch)
{
    FN(fwd_blocks_job) *j = ctx;
    const ptrdiff_t k0 = j->nblk * ch / nch, k1 = j->nblk * (ch + 1) / nch;
    int err = 0;
    for (ptrdiff_t k = k0; k < k1; k++) {
        const ptrdiff_t n0 = k * j->nb, cnt = j->g->n - n0 < j->nb ? j->g->n - n0 : j->nb;
        err |= FN(conv_fwd_block)(j->x, j->w, j->b, j->y, j->g, j->act, j->isa, 1, n0, cnt);
    }
    if (err)
        __atomic_store_n(&j->err, 1, __ATOMIC_RELAXED);
}

/* Per-image work after or before a path: pool the stored output (POOL_FWD), unpool dY
 * (POOL_BWD) or mask it by the relu (RELU_MASK: n counts elements then), and db's channel
 * sums (DB_SUM: n counts channels). One contiguous range of the items per chunk. */
#ifndef MN_CONV_ITEMS
#define MN_CONV_ITEMS
enum { CONV_POOL_FWD, CONV_POOL_BWD, CONV_RELU_MASK, CONV_DB_SUM };
#endif
typedef struct {
    int kind, isa;
    ptrdiff_t n, ys, pq, co, oh, ow, p, nimg;
    const DT *src, *aux;
    const uint8_t *code_in;
    DT *dst;
    uint8_t *code_out;
} FN(items_job);

static void FN(items_chunk)(void *ctx, int ch, int nch)
{
    const FN(items_job) *j = ctx;
    const ptrdiff_t lo = j->n * ch / nch, hi = j->n * (ch + 1) / nch;
    const ptrdiff_t ys = j->ys, pq = j->pq;
    switch (j->kind) {
    case CONV_POOL_FWD:
        for (ptrdiff_t n = lo; n < hi; n++)
            FN(mn_relu_maxpool2x2_fwd)(j->src + n * ys, j->co, j->oh, j->ow, j->dst + n * pq,
                                       j->code_out + n * pq, j->isa);
        break;
    case CONV_POOL_BWD:
        for (ptrdiff_t n = lo; n < hi; n++)
            FN(mn_relu_maxpool2x2_bwd)(j->src + n * pq, j->code_in + n * pq, j->co, j->oh, j->ow,
                                       j->dst + n * ys, NULL, j->isa);
        break;
    case CONV_RELU_MASK:
        for (ptrdiff_t i = lo; i < hi; i++)
            j->dst[i] = j->aux[i] > 0 ? j->src[i] : (DT)0;
        break;
    case CONV_DB_SUM:
        /* sum over images and pixels, per channel: an image's row with omp simd, the rows
         * added in double so float32 keeps its digits; one fixed order per channel */
        for (ptrdiff_t o = lo; o < hi; o++) {
            double s = 0;
            for (ptrdiff_t n = 0; n < j->nimg; n++) {
                const DT *r = j->src + n * ys + o * j->p;
                DT t = 0;
#pragma omp simd reduction(+ : t)
                for (ptrdiff_t q = 0; q < j->p; q++)
                    t += r[q];
                s += t;
            }
            j->dst[o] = (DT)s;
        }
        break;
    }
}

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
    FN(fwd_blocks_job) job = {x, w, b, y, g, act, isa, nb, nblk, 0};
    mn_parallel(n_threads, n_threads, FN(fwd_blocks_chunk), &job);
    return job.err ? -1 : 0;
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
    FN(items_job) job = {.kind = CONV_POOL_FWD,
                         .isa = mn_effective_isa(isa),
                         .n = g->n * (rc == 0),
                         .ys = ys,
                         .pq = pq,
                         .co = g->c_out,
                         .oh = OH,
                         .ow = OW,
                         .src = y,
                         .dst = p,
                         .code_out = code};
    mn_parallel(nt, nt, FN(items_chunk), &job);
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
        FN(items_job) job = {.kind = pool_code ? CONV_POOL_BWD : CONV_RELU_MASK,
                             .isa = mn_effective_isa(isa),
                             .n = pool_code ? N : N * ys,
                             .ys = ys,
                             .pq = pq,
                             .co = CO,
                             .oh = g->oh,
                             .ow = g->ow,
                             .src = dy,
                             .aux = relu_y,
                             .code_in = pool_code,
                             .dst = masked};
        mn_parallel(ntm, ntm, FN(items_chunk), &job);
        dy = masked;
        relu_y = NULL;
        pool_code = NULL;
    }
    const int own_dy = relu_y || pool_code;
    if (db && !own_dy && path != CONV_BWD_DEPTHWISE) {
        /* threads split the channels (items_chunk: CONV_DB_SUM) */
        const int ntb = (n_threads > 1 && N * P * CO >= 32768) ? n_threads : 1;
        FN(items_job) job = {
            .kind = CONV_DB_SUM, .n = CO, .ys = ys, .p = P, .nimg = N, .src = dy, .dst = db};
        mn_parallel(ntb, ntb, FN(items_chunk), &job);
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
