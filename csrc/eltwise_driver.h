/* The public eltwise kernels for one dtype, instantiated by eltwise.c (parameters DT, SFX =
 * f32 | f64, TAB = the table type of the per-ISA loops, PICK = its picker; all undefined
 * again at the end of this file). They pick the
 * loops for the ISA, decide how many threads the size is worth, and split the work into one
 * contiguous range of elements or rows per chunk of a pool job (runtime.h: mn_parallel), nt
 * chunks for nt threads; results never depend on the split. */

#include "names.h"

/* FN(name) -> name + SFX: FN(mn_act_fwd_) is mn_act_fwd_{f32,f64} */
#define FN(name) MN_CAT(name, SFX)

/* Elements per thread before a parallel region pays: cheap maps are memory-bound and cost
 * several times less per element than the transcendental ones, so they need more. */
static ptrdiff_t FN(act_grain_)(int act)
{
    return (act == MN_ACT_RELU || act == MN_ACT_LEAKY_RELU || act == MN_ACT_IDENTITY) ? 32768
                                                                                      : 8192;
}

/* rows per thread so that a thread gets at least ~8k elements */
static ptrdiff_t FN(row_grain_)(ptrdiff_t c)
{
    return c >= 8192 ? 1 : (8192 + c - 1) / (c > 0 ? c : 1);
}

/* One kernel call's arguments, shared by the chunks of its job (each kernel uses its own). */
typedef struct {
    const TAB *k;
    const DT *a, *b, *w, *pw;
    DT *out;
    const int64_t *t;
    DT *loss;
    double *lse;
    const double *lse_in;
    ptrdiff_t n, c, g_stride;
    int act, log;
    DT alpha, wt, ls;
    double g_scale;
    int64_t ignore_index;
} FN(elt_job_);

static void FN(act_fwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(elt_job_) *j = ctx;
    ptrdiff_t lo, hi;
    mn_chunk_range(j->n, 16, ch, nch, &lo, &hi);
    if (hi > lo)
        j->k->act_fwd(j->a + lo, j->out + lo, hi - lo, j->act, j->alpha);
}

static void FN(act_bwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(elt_job_) *j = ctx;
    ptrdiff_t lo, hi;
    mn_chunk_range(j->n, 16, ch, nch, &lo, &hi);
    if (hi > lo)
        j->k->act_bwd(j->a + lo, j->b + lo, j->out + lo, hi - lo, j->act, j->alpha);
}

static void FN(softmax_fwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(elt_job_) *j = ctx;
    ptrdiff_t lo, hi;
    mn_chunk_range(j->n, 1, ch, nch, &lo, &hi);
    if (hi > lo)
        j->k->softmax_fwd(j->a, j->out, lo, hi, j->c, j->log);
}

static void FN(softmax_bwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(elt_job_) *j = ctx;
    ptrdiff_t lo, hi;
    mn_chunk_range(j->n, 1, ch, nch, &lo, &hi);
    if (hi > lo)
        j->k->softmax_bwd(j->a, j->b, j->out, lo, hi, j->c, j->log);
}

static void FN(xent_fwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(elt_job_) *j = ctx;
    ptrdiff_t lo, hi;
    mn_chunk_range(j->n, 1, ch, nch, &lo, &hi);
    if (hi > lo)
        j->k->xent_fwd(j->a, j->t, j->w, j->loss, j->lse, lo, hi, j->c, j->ignore_index, j->ls);
}

static void FN(xent_bwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(elt_job_) *j = ctx;
    ptrdiff_t lo, hi;
    mn_chunk_range(j->n, 1, ch, nch, &lo, &hi);
    if (hi > lo)
        j->k->xent_bwd(j->b, j->g_stride, j->g_scale, j->a, j->t, j->w, j->wt, j->lse_in, j->out,
                       lo, hi, j->c, j->ignore_index, j->ls);
}

void FN(mn_act_fwd_)(const DT *x, DT *y, ptrdiff_t n, int act, DT alpha, int isa, int n_threads)
{
    const TAB *k = PICK(isa);
    if (n <= 0)
        return;
    const int nt = mn_par_threads(n, FN(act_grain_)(act), n_threads);
    if (nt <= 1) {
        k->act_fwd(x, y, n, act, alpha);
        return;
    }
    FN(elt_job_) j = {.k = k, .a = x, .out = y, .n = n, .act = act, .alpha = alpha};
    mn_parallel(nt, nt, FN(act_fwd_chunk_), &j);
}

void FN(mn_act_bwd_)(const DT *dy, const DT *s, DT *dx, ptrdiff_t n, int act, DT alpha, int isa,
                     int n_threads)
{
    const TAB *k = PICK(isa);
    if (n <= 0)
        return;
    const int nt = mn_par_threads(n, FN(act_grain_)(act), n_threads);
    if (nt <= 1) {
        k->act_bwd(dy, s, dx, n, act, alpha);
        return;
    }
    FN(elt_job_) j = {.k = k, .a = dy, .b = s, .out = dx, .n = n, .act = act, .alpha = alpha};
    mn_parallel(nt, nt, FN(act_bwd_chunk_), &j);
}

void FN(mn_softmax_fwd_)(const DT *x_rc, DT *y_rc, ptrdiff_t rows, ptrdiff_t c, int log, int isa,
                         int n_threads)
{
    const TAB *k = PICK(isa);
    if (rows <= 0 || c <= 0)
        return;
    const int nt = mn_par_threads(rows, FN(row_grain_)(c), n_threads);
    if (nt <= 1) {
        k->softmax_fwd(x_rc, y_rc, 0, rows, c, log);
        return;
    }
    FN(elt_job_) j = {.k = k, .a = x_rc, .out = y_rc, .n = rows, .c = c, .log = log};
    mn_parallel(nt, nt, FN(softmax_fwd_chunk_), &j);
}

void FN(mn_softmax_bwd_)(const DT *dy_rc, const DT *y_rc, DT *dx_rc, ptrdiff_t rows, ptrdiff_t c,
                         int log, int isa, int n_threads)
{
    const TAB *k = PICK(isa);
    if (rows <= 0 || c <= 0)
        return;
    const int nt = mn_par_threads(rows, FN(row_grain_)(c), n_threads);
    if (nt <= 1) {
        k->softmax_bwd(dy_rc, y_rc, dx_rc, 0, rows, c, log);
        return;
    }
    FN(elt_job_) j = {.k = k, .a = dy_rc, .b = y_rc, .out = dx_rc, .n = rows, .c = c, .log = log};
    mn_parallel(nt, nt, FN(softmax_bwd_chunk_), &j);
}

void FN(mn_xent_fwd_)(const DT *x_nc, const int64_t *t_n, const DT *w_c, DT *loss_n, double *lse_n,
                      double *total, double *wsum, ptrdiff_t n, ptrdiff_t c, int64_t ignore_index,
                      double ls, int isa, int n_threads)
{
    const TAB *k = PICK(isa);
    *total = 0;
    *wsum = 0;
    if (n <= 0)
        return;
    const int nt = mn_par_threads(n, FN(row_grain_)(c), n_threads);
    if (nt <= 1) {
        k->xent_fwd(x_nc, t_n, w_c, loss_n, lse_n, 0, n, c, ignore_index, (DT)ls);
    } else {
        FN(elt_job_) j = {.k = k,
                          .a = x_nc,
                          .t = t_n,
                          .w = w_c,
                          .loss = loss_n,
                          .lse = lse_n,
                          .n = n,
                          .c = c,
                          .ignore_index = ignore_index,
                          .ls = (DT)ls};
        mn_parallel(nt, nt, FN(xent_fwd_chunk_), &j);
    }
    /* the reductions run in row order, so the bits do not depend on the thread count */
    double tot = 0, ws = 0;
    for (ptrdiff_t r = 0; r < n; r++) {
        tot += (double)loss_n[r];
        if (t_n[r] != ignore_index)
            ws += w_c ? (double)w_c[t_n[r]] : 1.0;
    }
    *total = tot;
    *wsum = ws;
}

void FN(mn_xent_bwd_)(const DT *g, ptrdiff_t g_stride, double g_scale, const DT *x_nc,
                      const int64_t *t_n, const DT *w_c, const double *lse_n, DT *dx_nc,
                      ptrdiff_t n, ptrdiff_t c, int64_t ignore_index, double ls, int isa,
                      int n_threads)
{
    const TAB *k = PICK(isa);
    if (n <= 0 || c <= 0)
        return;
    double wt = (double)c;
    if (w_c) {
        wt = 0;
        for (ptrdiff_t j = 0; j < c; j++)
            wt += (double)w_c[j];
    }
    const int nt = mn_par_threads(n, FN(row_grain_)(c), n_threads);
    if (nt <= 1) {
        k->xent_bwd(g, g_stride, g_scale, x_nc, t_n, w_c, (DT)wt, lse_n, dx_nc, 0, n, c,
                    ignore_index, (DT)ls);
        return;
    }
    FN(elt_job_) j = {.k = k,
                      .b = g,
                      .g_stride = g_stride,
                      .g_scale = g_scale,
                      .a = x_nc,
                      .t = t_n,
                      .w = w_c,
                      .wt = (DT)wt,
                      .lse_in = lse_n,
                      .out = dx_nc,
                      .n = n,
                      .c = c,
                      .ignore_index = ignore_index,
                      .ls = (DT)ls};
    mn_parallel(nt, nt, FN(xent_bwd_chunk_), &j);
}

/* Sum of BCE losses over flat elements [lo, hi), split at row ends (pos_weight restarts) and
 * into chunks of 1024 whose float sums are added in double. */
static double FN(bce_fwd_range_)(const TAB *k, const DT *x, const DT *t, const DT *w, const DT *pw,
                                 DT *loss, ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t c)
{
    double s = 0;
    for (ptrdiff_t i = lo; i < hi;) {
        const ptrdiff_t j0 = i % c;
        ptrdiff_t len = c - j0;
        if (len > hi - i)
            len = hi - i;
        if (len > 1024)
            len = 1024;
        s += (double)k->bce_fwd(x + i, t + i, w ? w + i : NULL, pw ? pw + j0 : NULL,
                                loss ? loss + i : NULL, len);
        i += len;
    }
    return s;
}

#define MN_BCE_MAX_BLOCKS 256

/* BCE's arguments and its fixed blocks, shared by the chunks of its job */
typedef struct {
    const TAB *k;
    const DT *x, *t, *w, *pw, *g;
    DT *out;
    ptrdiff_t n, c, bs, nb, g_stride;
    DT g_scale;
    double *part; /* forward: one sum per block */
} FN(bce_job_);

/* chunk ch of nch: blocks [nb ch / nch, nb (ch + 1) / nch), as a static schedule splits them */
static void FN(bce_fwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(bce_job_) *j = ctx;
    const ptrdiff_t b0 = j->nb * ch / nch, b1 = j->nb * (ch + 1) / nch;
    for (ptrdiff_t b = b0; b < b1; b++) {
        const ptrdiff_t lo = b * j->bs, hi = lo + j->bs < j->n ? lo + j->bs : j->n;
        j->part[b] = FN(bce_fwd_range_)(j->k, j->x, j->t, j->w, j->pw, j->out, lo, hi, j->c);
    }
}

void FN(mn_bce_fwd_)(const DT *x_rc, const DT *t_rc, const DT *w_rc, const DT *pw_c, DT *loss_rc,
                     double *total, ptrdiff_t rows, ptrdiff_t c, int isa, int n_threads)
{
    const TAB *k = PICK(isa);
    const ptrdiff_t n = rows * c;
    *total = 0;
    if (n <= 0)
        return;
    /* Fixed blocks, at most 256, whose sums are added in order: the same bits at any thread
     * count. The block size depends on n only. */
    ptrdiff_t bs = (n + MN_BCE_MAX_BLOCKS - 1) / MN_BCE_MAX_BLOCKS;
    if (bs < 8192)
        bs = 8192;
    const ptrdiff_t nb = (n + bs - 1) / bs;
    double part[MN_BCE_MAX_BLOCKS];
    int nt = nb > 1 ? mn_par_threads(n, 8192, n_threads) : 1;
    if (nt > nb)
        nt = (int)nb;
    FN(bce_job_) j = {.k = k,
                      .x = x_rc,
                      .t = t_rc,
                      .w = w_rc,
                      .pw = pw_c,
                      .out = loss_rc,
                      .n = n,
                      .c = c,
                      .bs = bs,
                      .nb = nb,
                      .part = part};
    mn_parallel(nt, nt, FN(bce_fwd_chunk_), &j);
    double s = 0;
    for (ptrdiff_t b = 0; b < nb; b++)
        s += part[b];
    *total = s;
}

static void FN(bce_bwd_range_)(const TAB *k, const DT *g, ptrdiff_t g_stride, DT g_scale,
                               const DT *x, const DT *t, const DT *w, const DT *pw, DT *dx,
                               ptrdiff_t lo, ptrdiff_t hi, ptrdiff_t c)
{
    for (ptrdiff_t i = lo; i < hi;) {
        const ptrdiff_t j0 = i % c;
        ptrdiff_t len = c - j0;
        if (len > hi - i)
            len = hi - i;
        k->bce_bwd(g + i * g_stride, g_stride, g_scale, x + i, t + i, w ? w + i : NULL,
                   pw ? pw + j0 : NULL, dx + i, len);
        i += len;
    }
}

static void FN(bce_bwd_chunk_)(void *ctx, int ch, int nch)
{
    const FN(bce_job_) *j = ctx;
    ptrdiff_t lo, hi;
    mn_chunk_range(j->n, 16, ch, nch, &lo, &hi);
    if (hi > lo)
        FN(bce_bwd_range_)(j->k, j->g, j->g_stride, j->g_scale, j->x, j->t, j->w, j->pw, j->out,
                           lo, hi, j->c);
}

void FN(mn_bce_bwd_)(const DT *g_rc, ptrdiff_t g_stride, double g_scale, const DT *x_rc,
                     const DT *t_rc, const DT *w_rc, const DT *pw_c, DT *dx_rc, ptrdiff_t rows,
                     ptrdiff_t c, int isa, int n_threads)
{
    const TAB *k = PICK(isa);
    const ptrdiff_t n = rows * c;
    if (n <= 0)
        return;
    const int nt = mn_par_threads(n, 8192, n_threads);
    if (nt <= 1) {
        FN(bce_bwd_range_)(k, g_rc, g_stride, (DT)g_scale, x_rc, t_rc, w_rc, pw_c, dx_rc, 0, n, c);
        return;
    }
    FN(bce_job_) j = {.k = k,
                      .g = g_rc,
                      .g_stride = g_stride,
                      .g_scale = (DT)g_scale,
                      .x = x_rc,
                      .t = t_rc,
                      .w = w_rc,
                      .pw = pw_c,
                      .out = dx_rc,
                      .n = n,
                      .c = c};
    mn_parallel(nt, nt, FN(bce_bwd_chunk_), &j);
}

#undef MN_BCE_MAX_BLOCKS
#undef FN
#undef DT
#undef SFX
#undef TAB
#undef PICK
