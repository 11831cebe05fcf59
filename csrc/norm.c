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

// clang-format off: it takes _Pragma(...) for an expression and rewraps the loop after it
#define DEFINE_BN(DT, SFX)                                                                 \
    void mn_bn_stats_##SFX(const DT *x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, double *mean, \
                           double *var, int isa, int n_threads)                            \
    {                                                                                      \
        isa = mn_effective_isa(isa);                                                       \
        const int nt = bn_threads(n, c, s, n_threads);                                     \
        _Pragma("omp parallel for schedule(static) num_threads(nt) if (nt > 1)")           \
        for (ptrdiff_t j = 0; j < c; j++)                                                  \
            PICK(isa, stats, SFX)(x, n, c, s, j, mean + j, var + j);                       \
    }                                                                                      \
    void mn_bn_apply_##SFX(const DT *x, const double *mean, const double *var, double eps,  \
                           const DT *w, const DT *b, DT *y, ptrdiff_t n, ptrdiff_t c,      \
                           ptrdiff_t s, int isa, int n_threads)                            \
    {                                                                                      \
        isa = mn_effective_isa(isa);                                                       \
        const int nt = bn_threads(n, c, s, n_threads);                                     \
        _Pragma("omp parallel for schedule(static) num_threads(nt) if (nt > 1)")           \
        for (ptrdiff_t j = 0; j < c; j++) {                                                \
            const double a = (w ? (double)w[j] : 1.0) / sqrt(var[j] + eps);                \
            const DT mu = (DT)mean[j];                                                     \
            /* (x - mu) a + d with d = b - (mean - mu) a: mean's rounding to DT undone */  \
            const double d = (b ? (double)b[j] : 0.0) - (mean[j] - (double)mu) * a;        \
            PICK(isa, apply, SFX)(x, mu, (DT)a, (DT)d, y, n, c, s, j);                     \
        }                                                                                  \
    }                                                                                      \
    void mn_bn_bwd_##SFX(const DT *dy, const DT *x, const double *mean, const double *var,  \
                         double eps, const DT *w, int training, DT *dx, DT *dw, DT *db,    \
                         ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, int isa, int n_threads)    \
    {                                                                                      \
        isa = mn_effective_isa(isa);                                                       \
        const int nt = bn_threads(n, c, s, n_threads);                                     \
        const double m = (double)(n * s);                                                  \
        _Pragma("omp parallel for schedule(static) num_threads(nt) if (nt > 1)")           \
        for (ptrdiff_t j = 0; j < c; j++) {                                                \
            const double invstd = 1.0 / sqrt(var[j] + eps), wj = w ? (double)w[j] : 1.0;   \
            double sdy = 0, sdyx = 0;                                                      \
            if (dw || db || (dx && training))                                              \
                PICK(isa, bsums, SFX)(dy, x, (DT)mean[j], n, c, s, j, &sdy, &sdyx);        \
            /* sdyx used (x - (DT)mean): the exact mean differs by its rounding */         \
            sdyx -= sdy * (mean[j] - (double)(DT)mean[j]);                                 \
            if (db)                                                                        \
                db[j] = (DT)sdy;                                                           \
            if (dw)                                                                        \
                dw[j] = (DT)(sdyx * invstd);                                               \
            if (dx) {                                                                      \
                /* dx = wj*invstd*(dy - sdy/m - (x - mean)*invstd^2*sdyx/m), with           \
                 * x - mean = (x - mu) - (mean - mu), mu = mean rounded to DT */            \
                const DT mu = (DT)mean[j];                                                 \
                const double p = wj * invstd;                                              \
                const double q = training ? -p * invstd * invstd * sdyx / m : 0.0;         \
                const double r = training ? -p * sdy / m - q * (mean[j] - (double)mu) : 0.0; \
                PICK(isa, bdx, SFX)(dy, x, mu, (DT)p, (DT)q, (DT)r, dx, n, c, s, j);       \
            }                                                                              \
        }                                                                                  \
    }
// clang-format on

/* mn_bn_{stats,apply,bwd}_{f32,f64} */
DEFINE_BN(float, f32)
DEFINE_BN(double, f64)
