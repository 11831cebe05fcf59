/* Batch normalisation (see norm.h): memory-bound per-channel passes, the loops in
 * norm_impl.h compiled per ISA so that their omp simd sums and FMAs use the widest
 * vectors. Training forward: stats (2 reads) + apply (1 read, 1 write); backward: sums
 * (2 reads) + dx (2 reads, 1 write). */
#include "norm.h"

#include <math.h>

#include "names.h"
#include "runtime.h"

/* BFN(name) -> bn_name_<dtype>_<isa>: BFN(stats) is bn_stats_{f32,f64}_{generic,avx2,avx512} */

#define DT float
#define BFN(name) MN_JOIN(MN_JOIN(bn_##name, f32), generic)
#define BATTR
#include "norm_impl.h"
#undef BFN
#undef BATTR
#if MN_X86
#define BFN(name) MN_JOIN(MN_JOIN(bn_##name, f32), avx2)
#define BATTR ATTR_AVX2
#include "norm_impl.h"
#undef BFN
#undef BATTR
#define BFN(name) MN_JOIN(MN_JOIN(bn_##name, f32), avx512)
#define BATTR ATTR_AVX512
#include "norm_impl.h"
#undef BFN
#undef BATTR
#endif
#undef DT

#define DT double
#define BFN(name) MN_JOIN(MN_JOIN(bn_##name, f64), generic)
#define BATTR
#include "norm_impl.h"
#undef BFN
#undef BATTR
#if MN_X86
#define BFN(name) MN_JOIN(MN_JOIN(bn_##name, f64), avx2)
#define BATTR ATTR_AVX2
#include "norm_impl.h"
#undef BFN
#undef BATTR
#define BFN(name) MN_JOIN(MN_JOIN(bn_##name, f64), avx512)
#define BATTR ATTR_AVX512
#include "norm_impl.h"
#undef BFN
#undef BATTR
#endif
#undef DT

#define PICK(isa, name, sfx) MN_ISA_PICK(isa, MN_JOIN(bn_##name, sfx))

/* threads for c channels of n*s elements: a channel per thread at least, ~16k elements each */
static int bn_threads(ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, int n_threads)
{
    if (n_threads <= 1 || c < 2 || n * c * s < 32768)
        return 1;
    return c < n_threads ? (int)c : n_threads;
}

/* One call's arguments, shared by the chunks of its job (runtime.h: mn_parallel): nt chunks
 * for nt threads, each a contiguous block of channels (bn_chunk), as a static schedule splits
 * them. A channel's result does not depend on the chunk it falls in. */
typedef struct {
    const void *x, *dy, *w, *b;
    void *y, *dx, *dw, *db;
    const double *mean_in, *var;
    double *mean, *var_out; /* bn_stats' outputs */
    double eps, m;
    ptrdiff_t n, c, s;
    int isa, training;
} bn_job;

/* channels [*j0, *j1) of chunk ch of nch */
static void bn_chunk(ptrdiff_t c, int ch, int nch, ptrdiff_t *j0, ptrdiff_t *j1)
{
    *j0 = c * ch / nch;
    *j1 = c * (ch + 1) / nch;
}

// clang-format off: it takes PICK(...)(...) in the macro for a declaration and splits it
#define DEFINE_BN(DT, SFX)                                                                       \
    static void bn_stats_chunk_##SFX(void *ctx, int ch, int nch)                                 \
    {                                                                                            \
        const bn_job *job = ctx;                                                                 \
        const DT *x = job->x;                                                                    \
        ptrdiff_t j0, j1;                                                                        \
        bn_chunk(job->c, ch, nch, &j0, &j1);                                                     \
        for (ptrdiff_t j = j0; j < j1; j++)                                                      \
            PICK(job->isa, stats, SFX)(x, job->n, job->c, job->s, j, job->mean + j,              \
                                       job->var_out + j);                                        \
    }                                                                                            \
    void mn_bn_stats_##SFX(const DT *x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, double *mean,     \
                           double *var, int isa, int n_threads)                                  \
    {                                                                                            \
        isa = mn_effective_isa(isa);                                                             \
        const int nt = bn_threads(n, c, s, n_threads);                                           \
        bn_job job = {.x = x, .mean = mean, .var_out = var, .n = n, .c = c, .s = s, .isa = isa}; \
        mn_parallel(nt, nt, bn_stats_chunk_##SFX, &job);                                         \
    }                                                                                            \
    static void bn_apply_chunk_##SFX(void *ctx, int ch, int nch)                                 \
    {                                                                                            \
        const bn_job *job = ctx;                                                                 \
        const DT *x = job->x, *w = job->w, *b = job->b;                                          \
        const double *mean = job->mean_in, *var = job->var;                                      \
        ptrdiff_t j0, j1;                                                                        \
        bn_chunk(job->c, ch, nch, &j0, &j1);                                                     \
        for (ptrdiff_t j = j0; j < j1; j++) {                                                    \
            const double a = (w ? (double)w[j] : 1.0) / sqrt(var[j] + job->eps);                 \
            const DT mu = (DT)mean[j];                                                           \
            /* (x - mu) a + d with d = b - (mean - mu) a: mean's rounding to DT undone */        \
            const double d = (b ? (double)b[j] : 0.0) - (mean[j] - (double)mu) * a;              \
            PICK(job->isa, apply, SFX)(x, mu, (DT)a, (DT)d, job->y, job->n, job->c, job->s, j);  \
        }                                                                                        \
    }                                                                                            \
    void mn_bn_apply_##SFX(const DT *x, const double *mean, const double *var, double eps,       \
                           const DT *w, const DT *b, DT *y, ptrdiff_t n, ptrdiff_t c,            \
                           ptrdiff_t s, int isa, int n_threads)                                  \
    {                                                                                            \
        isa = mn_effective_isa(isa);                                                             \
        const int nt = bn_threads(n, c, s, n_threads);                                           \
        bn_job job = {.x = x,                                                                    \
                      .mean_in = mean,                                                           \
                      .var = var,                                                                \
                      .eps = eps,                                                                \
                      .w = w,                                                                    \
                      .b = b,                                                                    \
                      .y = y,                                                                    \
                      .n = n,                                                                    \
                      .c = c,                                                                    \
                      .s = s,                                                                    \
                      .isa = isa};                                                               \
        mn_parallel(nt, nt, bn_apply_chunk_##SFX, &job);                                         \
    }                                                                                            \
    static void bn_bwd_chunk_##SFX(void *ctx, int ch, int nch)                                   \
    {                                                                                            \
        const bn_job *job = ctx;                                                                 \
        const DT *dy = job->dy, *x = job->x, *w = job->w;                                        \
        DT *dx = job->dx, *dw = job->dw, *db = job->db;                                          \
        const double *mean = job->mean_in, *var = job->var, m = job->m;                          \
        const int training = job->training;                                                      \
        const ptrdiff_t n = job->n, c = job->c, s = job->s;                                      \
        ptrdiff_t j0, j1;                                                                        \
        bn_chunk(c, ch, nch, &j0, &j1);                                                          \
        for (ptrdiff_t j = j0; j < j1; j++) {                                                    \
            const double invstd = 1.0 / sqrt(var[j] + job->eps), wj = w ? (double)w[j] : 1.0;    \
            double sdy = 0, sdyx = 0;                                                            \
            if (dw || db || (dx && training))                                                    \
                PICK(job->isa, bsums, SFX)(dy, x, (DT)mean[j], n, c, s, j, &sdy, &sdyx);         \
            /* sdyx used (x - (DT)mean): the exact mean differs by its rounding */               \
            sdyx -= sdy * (mean[j] - (double)(DT)mean[j]);                                       \
            if (db)                                                                              \
                db[j] = (DT)sdy;                                                                 \
            if (dw)                                                                              \
                dw[j] = (DT)(sdyx * invstd);                                                     \
            if (dx) {                                                                            \
                /* dx = wj*invstd*(dy - sdy/m - (x - mean)*invstd^2*sdyx/m), with                \
                 * x - mean = (x - mu) - (mean - mu), mu = mean rounded to DT */                 \
                const DT mu = (DT)mean[j];                                                       \
                const double p = wj * invstd;                                                    \
                const double q = training ? -p * invstd * invstd * sdyx / m : 0.0;               \
                const double r = training ? -p * sdy / m - q * (mean[j] - (double)mu) : 0.0;     \
                PICK(job->isa, bdx, SFX)(dy, x, mu, (DT)p, (DT)q, (DT)r, dx, n, c, s, j);        \
            }                                                                                    \
        }                                                                                        \
    }                                                                                            \
    void mn_bn_bwd_##SFX(const DT *dy, const DT *x, const double *mean, const double *var,       \
                         double eps, const DT *w, int training, DT *dx, DT *dw, DT *db,          \
                         ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, int isa, int n_threads)          \
    {                                                                                            \
        isa = mn_effective_isa(isa);                                                             \
        const int nt = bn_threads(n, c, s, n_threads);                                           \
        bn_job job = {.dy = dy,                                                                  \
                      .x = x,                                                                    \
                      .mean_in = mean,                                                           \
                      .var = var,                                                                \
                      .eps = eps,                                                                \
                      .w = w,                                                                    \
                      .training = training,                                                      \
                      .dx = dx,                                                                  \
                      .dw = dw,                                                                  \
                      .db = db,                                                                  \
                      .m = (double)(n * s),                                                      \
                      .n = n,                                                                    \
                      .c = c,                                                                    \
                      .s = s,                                                                    \
                      .isa = isa};                                                               \
        mn_parallel(nt, nt, bn_bwd_chunk_##SFX, &job);                                           \
    }

// clang-format on

/* mn_bn_{stats,apply,bwd}_{f32,f64} */
DEFINE_BN(float, f32)
DEFINE_BN(double, f64)
