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

/* A thread should stream at least ~64k elements (~1 MB for Adam) to pay for waking the pool. */
#define OPT_GRAIN 65536

/* The update over [0, n) as a pool job (runtime.h: mn_parallel) of as many threads as the size
 * is worth, one chunk per thread: chunk function NAME runs CALL(lo, len) on its range. JOB is
 * the type of the call's arguments, read through j. */
#define OPT_CHUNK(NAME, JOB, CALL)                    \
    static void NAME(void *ctx, int ch, int nch)      \
    {                                                 \
        const JOB *j = ctx;                           \
        ptrdiff_t lo, hi_;                            \
        mn_chunk_range(j->n, 16, ch, nch, &lo, &hi_); \
        const ptrdiff_t len = hi_ - lo;               \
        if (len > 0)                                  \
            CALL;                                     \
    }
#define OPT_RUN(n_threads, NAME, job)                                    \
    do {                                                                 \
        const int nt_ = mn_par_threads((job).n, OPT_GRAIN, (n_threads)); \
        mn_parallel(nt_, nt_, NAME, &(job));                             \
    } while (0)

#define DEFINE_DRIVERS(DT, SFX, PICK)                                                             \
    typedef struct {                                                                              \
        const opt_tab_##SFX *k;                                                                   \
        DT *p, *buf;                                                                              \
        const DT *grad;                                                                           \
        ptrdiff_t n;                                                                              \
        DT lr, momentum, one_m_damp, wd;                                                          \
        int nesterov, maximize, first_step;                                                       \
    } sgd_job_##SFX;                                                                              \
    OPT_CHUNK(sgd_chunk_##SFX, sgd_job_##SFX,                                                     \
              j->k->sgd(j->p + lo, j->grad + lo, j->buf ? j->buf + lo : NULL, len, j->lr,         \
                        j->momentum, j->one_m_damp, j->nesterov, j->wd, j->maximize,              \
                        j->first_step))                                                           \
    void mn_sgd_step_##SFX(DT *p, const DT *grad, DT *buf, ptrdiff_t n, double lr,                \
                           double momentum, double dampening, int nesterov, double weight_decay,  \
                           int maximize, int first_step, int isa, int n_threads)                  \
    {                                                                                             \
        sgd_job_##SFX job = {PICK(isa),                                                           \
                             p,                                                                   \
                             buf,                                                                 \
                             grad,                                                                \
                             n,                                                                   \
                             (DT)lr,                                                              \
                             (DT)momentum,                                                        \
                             (DT)(1.0 - dampening),                                               \
                             (DT)weight_decay,                                                    \
                             nesterov,                                                            \
                             maximize,                                                            \
                             first_step};                                                         \
        OPT_RUN(n_threads, sgd_chunk_##SFX, job);                                                 \
    }                                                                                             \
    typedef struct {                                                                              \
        const opt_tab_##SFX *k;                                                                   \
        DT *p, *m, *v, *vmax;                                                                     \
        const DT *grad;                                                                           \
        ptrdiff_t n;                                                                              \
        DT one_m_b1, beta2, one_m_b2, eps, wd, step_size, bc2_sqrt, shrink;                       \
        int decoupled, amsgrad, maximize;                                                         \
    } adam_job_##SFX;                                                                             \
    OPT_CHUNK(adam_chunk_##SFX, adam_job_##SFX,                                                   \
              j->k->adam(j->p + lo, j->grad + lo, j->m + lo, j->v + lo,                           \
                         j->vmax ? j->vmax + lo : NULL, len, j->one_m_b1, j->beta2, j->one_m_b2,  \
                         j->eps, j->wd, j->decoupled, j->amsgrad, j->maximize, j->step_size,      \
                         j->bc2_sqrt, j->shrink))                                                 \
    void mn_adam_step_##SFX(DT *p, const DT *grad, DT *m, DT *v, DT *vmax, ptrdiff_t n,           \
                            long long step, double lr, double beta1, double beta2, double eps,    \
                            double weight_decay, int decoupled, int amsgrad, int maximize,        \
                            int isa, int n_threads)                                               \
    {                                                                                             \
        /* the scalars in double, as PyTorch computes them in Python */                           \
        const double step_size = lr / (1.0 - pow(beta1, (double)step));                           \
        const double bc2_sqrt = sqrt(1.0 - pow(beta2, (double)step));                             \
        const double shrink = 1.0 - lr * weight_decay;                                            \
        adam_job_##SFX job = {PICK(isa),                                                          \
                              p,                                                                  \
                              m,                                                                  \
                              v,                                                                  \
                              vmax,                                                               \
                              grad,                                                               \
                              n,                                                                  \
                              (DT)(1.0 - beta1),                                                  \
                              (DT)beta2,                                                          \
                              (DT)(1.0 - beta2),                                                  \
                              (DT)eps,                                                            \
                              (DT)weight_decay,                                                   \
                              (DT)step_size,                                                      \
                              (DT)bc2_sqrt,                                                       \
                              (DT)shrink,                                                         \
                              decoupled,                                                          \
                              amsgrad,                                                            \
                              maximize};                                                          \
        OPT_RUN(n_threads, adam_chunk_##SFX, job);                                                \
    }                                                                                             \
    typedef struct {                                                                              \
        const opt_tab_##SFX *k;                                                                   \
        DT *p, *sq, *ga, *buf;                                                                    \
        const DT *grad;                                                                           \
        ptrdiff_t n;                                                                              \
        DT lr, alpha, one_m_alpha, eps, wd, momentum;                                             \
        int centered, eps_inside, maximize;                                                       \
    } rmsprop_job_##SFX;                                                                          \
    OPT_CHUNK(rmsprop_chunk_##SFX, rmsprop_job_##SFX,                                             \
              j->k->rmsprop(j->p + lo, j->grad + lo, j->sq + lo, j->ga ? j->ga + lo : NULL,       \
                            j->buf ? j->buf + lo : NULL, len, j->lr, j->alpha, j->one_m_alpha,    \
                            j->eps, j->wd, j->momentum, j->centered, j->eps_inside, j->maximize)) \
    void mn_rmsprop_step_##SFX(DT *p, const DT *grad, DT *sq, DT *ga, DT *buf, ptrdiff_t n,       \
                               double lr, double alpha, double eps, double weight_decay,          \
                               double momentum, int centered, int eps_inside, int maximize,       \
                               int isa, int n_threads)                                            \
    {                                                                                             \
        rmsprop_job_##SFX job = {PICK(isa),                                                       \
                                 p,                                                               \
                                 sq,                                                              \
                                 ga,                                                              \
                                 buf,                                                             \
                                 grad,                                                            \
                                 n,                                                               \
                                 (DT)lr,                                                          \
                                 (DT)alpha,                                                       \
                                 (DT)(1.0 - alpha),                                               \
                                 (DT)eps,                                                         \
                                 (DT)weight_decay,                                                \
                                 (DT)momentum,                                                    \
                                 centered,                                                        \
                                 eps_inside,                                                      \
                                 maximize};                                                       \
        OPT_RUN(n_threads, rmsprop_chunk_##SFX, job);                                             \
    }                                                                                             \
    typedef struct {                                                                              \
        const opt_tab_##SFX *k;                                                                   \
        DT *p, *s;                                                                                \
        const DT *grad;                                                                           \
        ptrdiff_t n;                                                                              \
        DT clr, wd, eps;                                                                          \
        int eps_inside, maximize;                                                                 \
    } adagrad_job_##SFX;                                                                          \
    OPT_CHUNK(adagrad_chunk_##SFX, adagrad_job_##SFX,                                             \
              j->k->adagrad(j->p + lo, j->grad + lo, j->s + lo, len, j->clr, j->wd, j->eps,       \
                            j->eps_inside, j->maximize))                                          \
    void mn_adagrad_step_##SFX(DT *p, const DT *grad, DT *s, ptrdiff_t n, long long step,         \
                               double lr, double lr_decay, double weight_decay, double eps,       \
                               int eps_inside, int maximize, int isa, int n_threads)              \
    {                                                                                             \
        const double clr = lr / (1.0 + (double)(step - 1) * lr_decay);                            \
        adagrad_job_##SFX job = {PICK(isa),        p,       s,          grad,    n, (DT)clr,      \
                                 (DT)weight_decay, (DT)eps, eps_inside, maximize};                \
        OPT_RUN(n_threads, adagrad_chunk_##SFX, job);                                             \
    }

/* mn_{sgd,adam,rmsprop,adagrad}_step_{f32,f64} */
DEFINE_DRIVERS(float, f32, pick_f32)
DEFINE_DRIVERS(double, f64, pick_f64)
