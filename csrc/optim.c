/* Fused optimizer updates: see optim.h for the contracts and optim_impl.h for the loops.
 * The updates are memory-bound (Adam streams 7 arrays), so the per-ISA instantiation buys
 * little beyond what baseline SSE2 gets; it is kept so that sqrt and division run at full
 * vector width when the arrays sit in cache. */
#include "optim.h"

#include <math.h>
#include <stddef.h>

#include "parfor.h"
#include "runtime.h"

/* MN_X86, ATTR_AVX512 and ATTR_AVX2 come from runtime.h */

#define DT float
#define SQRT sqrtf
#define SFX f32_generic
#define ATTR
#include "optim_impl.h"
#if MN_X86
#define SFX f32_avx2
#define ATTR ATTR_AVX2
#include "optim_impl.h"
#define SFX f32_avx512
#define ATTR ATTR_AVX512
#include "optim_impl.h"
#endif
#undef DT
#undef SQRT

#define DT double
#define SQRT sqrt
#define SFX f64_generic
#define ATTR
#include "optim_impl.h"
#if MN_X86
#define SFX f64_avx2
#define ATTR ATTR_AVX2
#include "optim_impl.h"
#define SFX f64_avx512
#define ATTR ATTR_AVX512
#include "optim_impl.h"
#endif
#undef DT
#undef SQRT

#define DECLARE_TAB(TABNAME, DT)                                                                  \
    typedef struct {                                                                              \
        void (*sgd)(DT *, const DT *, DT *, ptrdiff_t, DT, DT, DT, int, DT, int, int);            \
        void (*adam)(DT *, const DT *, DT *, DT *, DT *, ptrdiff_t, DT, DT, DT, DT, DT, int, int, \
                     int, DT, DT, DT);                                                            \
        void (*rmsprop)(DT *, const DT *, DT *, DT *, DT *, ptrdiff_t, DT, DT, DT, DT, DT, DT,    \
                        int, int, int);                                                           \
        void (*adagrad)(DT *, const DT *, DT *, ptrdiff_t, DT, DT, DT, int, int);                 \
    } TABNAME;
DECLARE_TAB(opt_tab_f32, float)
DECLARE_TAB(opt_tab_f64, double)
#define TAB_INIT(S) {sgd_##S, adam_##S, rmsprop_##S, adagrad_##S}

static const opt_tab_f32 tab_f32_generic = TAB_INIT(f32_generic);
static const opt_tab_f64 tab_f64_generic = TAB_INIT(f64_generic);
#if MN_X86
static const opt_tab_f32 tab_f32_avx2 = TAB_INIT(f32_avx2);
static const opt_tab_f32 tab_f32_avx512 = TAB_INIT(f32_avx512);
static const opt_tab_f64 tab_f64_avx2 = TAB_INIT(f64_avx2);
static const opt_tab_f64 tab_f64_avx512 = TAB_INIT(f64_avx512);
#endif

static const opt_tab_f32 *pick_f32(int isa)
{
    isa = mn_effective_isa(isa);
    return MN_ISA_PICK(isa, tab_f32);
}

static const opt_tab_f64 *pick_f64(int isa)
{
    isa = mn_effective_isa(isa);
    return MN_ISA_PICK(isa, tab_f64);
}

/* A thread should stream at least ~64k elements (~1 MB for Adam) to pay for waking the team. */
#define OPT_GRAIN 65536

/* Run CALL(lo, len) over [0, n) split between the threads the size is worth. */
#define OPT_PARALLEL(n, n_threads, CALL)                             \
    do {                                                             \
        const int nt_ = mn_par_threads((n), OPT_GRAIN, (n_threads)); \
        if (nt_ <= 1) {                                              \
            const ptrdiff_t lo = 0, len = (n);                       \
            if (len > 0)                                             \
                CALL;                                                \
        } else {                                                     \
            _Pragma("omp parallel num_threads(nt_)")                 \
            {                                                        \
                ptrdiff_t lo, hi_;                                   \
                mn_thread_range((n), 16, &lo, &hi_);                 \
                const ptrdiff_t len = hi_ - lo;                      \
                if (len > 0)                                         \
                    CALL;                                            \
            }                                                        \
        }                                                            \
    } while (0)

#define DEFINE_DRIVERS(DT, SFX, PICK)                                                             \
    void mn_sgd_step_##SFX(DT *p, const DT *grad, DT *buf, ptrdiff_t n, double lr,                \
                           double momentum, double dampening, int nesterov, double weight_decay,  \
                           int maximize, int first_step, int isa, int n_threads)                  \
    {                                                                                             \
        const opt_tab_##SFX *k = PICK(isa);                                                       \
        OPT_PARALLEL(n, n_threads,                                                                \
                     k->sgd(p + lo, grad + lo, buf ? buf + lo : NULL, len, (DT)lr, (DT)momentum,  \
                            (DT)(1.0 - dampening), nesterov, (DT)weight_decay, maximize,          \
                            first_step));                                                         \
    }                                                                                             \
    void mn_adam_step_##SFX(DT *p, const DT *grad, DT *m, DT *v, DT *vmax, ptrdiff_t n,           \
                            long long step, double lr, double beta1, double beta2, double eps,    \
                            double weight_decay, int decoupled, int amsgrad, int maximize,        \
                            int isa, int n_threads)                                               \
    {                                                                                             \
        const opt_tab_##SFX *k = PICK(isa);                                                       \
        /* the scalars in double, as PyTorch computes them in Python */                           \
        const double step_size = lr / (1.0 - pow(beta1, (double)step));                           \
        const double bc2_sqrt = sqrt(1.0 - pow(beta2, (double)step));                             \
        const double shrink = 1.0 - lr * weight_decay;                                            \
        OPT_PARALLEL(n, n_threads,                                                                \
                     k->adam(p + lo, grad + lo, m + lo, v + lo, vmax ? vmax + lo : NULL, len,     \
                             (DT)(1.0 - beta1), (DT)beta2, (DT)(1.0 - beta2), (DT)eps,            \
                             (DT)weight_decay, decoupled, amsgrad, maximize, (DT)step_size,       \
                             (DT)bc2_sqrt, (DT)shrink));                                          \
    }                                                                                             \
    void mn_rmsprop_step_##SFX(DT *p, const DT *grad, DT *sq, DT *ga, DT *buf, ptrdiff_t n,       \
                               double lr, double alpha, double eps, double weight_decay,          \
                               double momentum, int centered, int eps_inside, int maximize,       \
                               int isa, int n_threads)                                            \
    {                                                                                             \
        const opt_tab_##SFX *k = PICK(isa);                                                       \
        OPT_PARALLEL(n, n_threads,                                                                \
                     k->rmsprop(p + lo, grad + lo, sq + lo, ga ? ga + lo : NULL,                  \
                                buf ? buf + lo : NULL, len, (DT)lr, (DT)alpha, (DT)(1.0 - alpha), \
                                (DT)eps, (DT)weight_decay, (DT)momentum, centered, eps_inside,    \
                                maximize));                                                       \
    }                                                                                             \
    void mn_adagrad_step_##SFX(DT *p, const DT *grad, DT *s, ptrdiff_t n, long long step,         \
                               double lr, double lr_decay, double weight_decay, double eps,       \
                               int eps_inside, int maximize, int isa, int n_threads)              \
    {                                                                                             \
        const opt_tab_##SFX *k = PICK(isa);                                                       \
        const double clr = lr / (1.0 + (double)(step - 1) * lr_decay);                            \
        OPT_PARALLEL(n, n_threads,                                                                \
                     k->adagrad(p + lo, grad + lo, s + lo, len, (DT)clr, (DT)weight_decay,        \
                                (DT)eps, eps_inside, maximize));                                  \
    }

/* mn_{sgd,adam,rmsprop,adagrad}_step_{f32,f64} */
DEFINE_DRIVERS(float, f32, pick_f32)
DEFINE_DRIVERS(double, f64, pick_f64)
