/* Elementwise kernels: see eltwise.h for the contracts, eltwise_impl.h for the loops and
 * eltwise_driver.h for the threading. The float loops are instantiated for AVX-512, AVX2+FMA
 * and baseline x86-64 (as gemm.c does for its micro-kernels) because they are compute-bound:
 * mn_expf and friends are ~20 flops per element, so vector width pays directly. */
/* GCC's default -ftrapping-math keeps `c ? f(a) : g(a)` as a branch when f or g might raise
 * an FP exception, and a loop with a branch is not vectorised: with it, sigmoid, tanh, erfc and
 * log1p loops ran scalar at AVX2 (BCE-with-logits among them). minnet never
 * unmasks FP exceptions, so telling GCC they do not trap changes no result, only the code
 * shape. (This is not -ffast-math: no reassociation, NaN and inf keep their meaning.) Placed
 * before the includes so the inlined helpers of mathfun.h / eltwise_math.h get it too. */
#pragma GCC optimize("no-trapping-math")

#include "eltwise.h"

#include <math.h>
#include <stddef.h>

#include "eltwise_math.h"
#include "mathfun.h"
#include "parfor.h"
#include "runtime.h"

/* MN_X86, ATTR_AVX512 and ATTR_AVX2 come from runtime.h */

/* ---- per-(dtype, ISA) loops --------------------------------------------------------------- */
#define DT float
#define M_EXP mn_expf
#define M_EXPZ mn_expf_flush
#define M_LOGS logf
#define M_LOG1P mn_log1pf
#define M_EXPM1N mn_expm1f_neg
#define M_SIGMOID mn_sigmoidf2
#define M_TANH mn_tanhf
#define M_ERFC mn_erfcf
#define M_MAX mn_maxf
#define SFX f32_generic
#define ATTR
#include "eltwise_impl.h"
#if MN_X86
#define SFX f32_avx2
#define ATTR ATTR_AVX2
#include "eltwise_impl.h"
#define SFX f32_avx512
#define ATTR ATTR_AVX512
#include "eltwise_impl.h"
#endif
#undef DT
#undef M_EXP
#undef M_EXPZ
#undef M_LOGS
#undef M_LOG1P
#undef M_EXPM1N
#undef M_SIGMOID
#undef M_TANH
#undef M_ERFC
#undef M_MAX

/* Double precision calls libm, whose exp/tanh/erfc do not vectorise: these loops are for
 * checking models in float64, not for speed, so one baseline instantiation is enough. */
#define DT double
#define M_EXP exp
#define M_EXPZ exp
#define M_LOGS log
#define M_LOG1P log1p
#define M_EXPM1N expm1
#define M_SIGMOID mn_sigmoid
#define M_TANH tanh
#define M_ERFC erfc
#define M_MAX mn_maxd
#define SFX f64_generic
#define ATTR
#include "eltwise_impl.h"
#undef DT
#undef M_EXP
#undef M_EXPZ
#undef M_LOGS
#undef M_LOG1P
#undef M_EXPM1N
#undef M_SIGMOID
#undef M_TANH
#undef M_ERFC
#undef M_MAX

/* ---- dispatch tables ---------------------------------------------------------------------- */
#define DECLARE_TAB(TABNAME, DT)                                                                  \
    typedef struct {                                                                              \
        void (*act_fwd)(const DT *, DT *, ptrdiff_t, int, DT);                                    \
        void (*act_bwd)(const DT *, const DT *, DT *, ptrdiff_t, int, DT);                        \
        void (*softmax_fwd)(const DT *, DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, int);              \
        void (*softmax_bwd)(const DT *, const DT *, DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, int);  \
        void (*xent_fwd)(const DT *, const int64_t *, const DT *, DT *, double *, ptrdiff_t,      \
                         ptrdiff_t, ptrdiff_t, int64_t, DT);                                      \
        void (*xent_bwd)(const DT *, ptrdiff_t, double, const DT *, const int64_t *, const DT *,  \
                         DT, const double *, DT *, ptrdiff_t, ptrdiff_t, ptrdiff_t, int64_t, DT); \
        DT (*bce_fwd)(const DT *, const DT *, const DT *, const DT *, DT *, ptrdiff_t);           \
        void (*bce_bwd)(const DT *, ptrdiff_t, DT, const DT *, const DT *, const DT *,            \
                        const DT *, DT *, ptrdiff_t);                                             \
    } TABNAME;
DECLARE_TAB(ew_tab_f32, float)
DECLARE_TAB(ew_tab_f64, double)

#define TAB_INIT(S)                                                                    \
    {act_fwd_##S,       act_bwd_##S,       softmax_fwd_rows_##S, softmax_bwd_rows_##S, \
     xent_fwd_rows_##S, xent_bwd_rows_##S, bce_fwd_seg_##S,      bce_bwd_seg_##S}

static const ew_tab_f32 tab_f32_generic = TAB_INIT(f32_generic);
#if MN_X86
static const ew_tab_f32 tab_f32_avx2 = TAB_INIT(f32_avx2);
static const ew_tab_f32 tab_f32_avx512 = TAB_INIT(f32_avx512);
#endif
static const ew_tab_f64 tab_f64_generic = TAB_INIT(f64_generic);

static const ew_tab_f32 *pick_f32(int isa)
{
    isa = mn_effective_isa(isa);
    return MN_ISA_PICK(isa, tab_f32);
}

static const ew_tab_f64 *pick_f64(int isa)
{
    (void)isa;
    return &tab_f64_generic;
}

/* ---- public kernels ----------------------------------------------------------------------- */
#define DT float
#define SFX f32
#define TAB ew_tab_f32
#define PICK pick_f32
#include "eltwise_driver.h"

#define DT double
#define SFX f64
#define TAB ew_tab_f64
#define PICK pick_f64
#include "eltwise_driver.h"
