/* The public eltwise kernels for one dtype, instantiated by eltwise.c (parameters DT, SFX =
 * f32 | f64, TAB = the table type of the per-ISA loops, PICK = its picker; all undefined
 * again at the end of this file). They pick the
 * loops for the ISA, decide how many threads the size is worth, and split the work into
 * contiguous per-thread ranges of elements or rows (results never depend on the split). */

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
#pragma omp parallel num_threads(nt)
    {
        ptrdiff_t lo, hi;
        mn_thread_range(n, 16, &lo, &hi);
        if (hi > lo)
            k->act_fwd(x + lo, y + lo, hi - lo, act, alpha);
    }
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
#pragma omp parallel num_threads(nt)
    {
        ptrdiff_t lo, hi;
        mn_thread_range(n, 16, &lo, &hi);
        if (hi > lo)
            k->act_bwd(dy + lo, s + lo, dx + lo, hi - lo, act, alpha);
    }
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
#pragma omp parallel num_threads(nt)
    {
        ptrdiff_t lo, hi;
        mn_thread_range(rows, 1, &lo, &hi);
        if (hi > lo)
            k->softmax_fwd(x_rc, y_rc, lo, hi, c, log);
    }
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
#pragma omp parallel num_threads(nt)
    {
        ptrdiff_t lo, hi;
        mn_thread_range(rows, 1, &lo, &hi);
        if (hi > lo)
            k->softmax_bwd(dy_rc, y_rc, dx_rc, lo, hi, c, log);
    }
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
#pragma omp parallel num_threads(nt)
        {
            ptrdiff_t lo, hi;
            mn_thread_range(n, 1, &lo, &hi);
            if (hi > lo)
                k->xent_fwd(x_nc, t_n, w_c, loss_n, lse_n, lo, hi, c, ignore_index, (DT)ls);
        }
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
#pragma omp parallel num_threads(nt)
    {
        ptrdiff_t lo, hi;
        mn_thread_range(n, 1, &lo, &hi);
        if (hi > lo)
            k->xent_bwd(g, g_stride, g_scale, x_nc, t_n, w_c, (DT)wt, lse_n, dx_nc, lo, hi, c,
                        ignore_index, (DT)ls);
    }
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
    const int nt = nb > 1 ? mn_par_threads(n, 8192, n_threads) : 1;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
    for (ptrdiff_t b = 0; b < nb; b++) {
        const ptrdiff_t lo = b * bs, hi = lo + bs < n ? lo + bs : n;
        part[b] = FN(bce_fwd_range_)(k, x_rc, t_rc, w_rc, pw_c, loss_rc, lo, hi, c);
    }
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
#pragma omp parallel num_threads(nt)
    {
        ptrdiff_t lo, hi;
        mn_thread_range(n, 16, &lo, &hi);
        if (hi > lo)
            FN(bce_bwd_range_)(k, g_rc, g_stride, (DT)g_scale, x_rc, t_rc, w_rc, pw_c, dx_rc, lo,
                               hi, c);
    }
}

#undef MN_BCE_MAX_BLOCKS
#undef FN
#undef DT
#undef SFX
#undef TAB
#undef PICK
