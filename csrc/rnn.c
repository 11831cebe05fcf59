/* Recurrent layers: see rnn.h for the contract, rnn_driver.h for the loop over time and
 * rnn_gates.h for the fused gate kernels. The float gate kernels are compiled for AVX-512,
 * AVX2+FMA and baseline x86-64 (they are exp/tanh-bound, so vector width pays); double uses
 * libm and exists for checking, so it has one baseline version. */
/* As in eltwise.c: without trapping math GCC turns the selects of mn_tanhf into blends and
 * vectorises the loops; no result changes. */
#pragma GCC optimize("no-trapping-math")

#include "rnn.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "gemm.h"
#include "mathfun.h"
#include "parfor.h"
#include "runtime.h"

/* MN_X86, ATTR_AVX512 and ATTR_AVX2 come from runtime.h */

/* Workspace slots (runtime.h): the backward calls mn_gemm (slots 0-2) on arrays held in these. */
#define WS_RNN_PANELS 4 /* packed weight panels, per unit block */
#define WS_RNN_GATES 5  /* gi for all steps; in the backward dgi */
#define WS_RNN_AUX 6    /* the GRU's per-step gh, the folded bias; in the backward dgh, sums */

/* Unit blocks [*ub, *ue) of chunk tid of nth: contiguous, sizes differing by at most one. */
static void rnn_blocks(ptrdiff_t nb, int tid, int nth, ptrdiff_t *ub, ptrdiff_t *ue)
{
    const ptrdiff_t q = nb / nth, r = nb % nth;
    *ub = tid * q + (tid < r ? tid : r);
    *ue = *ub + q + (tid < r ? 1 : 0);
}

int mn_rnn_gates(int cell)
{
    switch (cell) {
    case MN_CELL_GRU: return 3;
    case MN_CELL_LSTM: return 4;
    default: return 1;
    }
}

int mn_rnn_saved_gates(int cell) { return cell == MN_CELL_GRU || cell == MN_CELL_LSTM ? 4 : 0; }

#define PD ptrdiff_t
#define DEFINE_TABS(DT_, GATES, RMM)                                                              \
    typedef struct {                                                                              \
        void (*gru_fwd)(const DT_ *, const DT_ *, const DT_ *, DT_ *, DT_ *, DT_ *,               \
                        const int64_t *, PD, PD, PD, PD, PD);                                     \
        void (*gru_bwd)(const DT_ *, DT_ *, const DT_ *, const DT_ *, DT_ *, DT_ *, DT_ *,        \
                        const DT_ *, const int64_t *, PD, PD, PD, PD, PD);                        \
        void (*rnn_fwd)(const DT_ *, const DT_ *, DT_ *, DT_ *, int, const int64_t *, PD, PD, PD, \
                        PD, PD);                                                                  \
        void (*rnn_bwd)(const DT_ *, DT_ *, const DT_ *, DT_ *, DT_ *, int, const DT_ *,          \
                        const int64_t *, PD, PD, PD, PD, PD);                                     \
        void (*lstm_fwd)(const DT_ *, const DT_ *, const DT_ *, DT_ *, DT_ *, DT_ *, DT_ *,       \
                         const int64_t *, PD, PD, PD, PD, PD);                                    \
        void (*lstm_bwd)(const DT_ *, DT_ *, DT_ *, const DT_ *, const DT_ *, const DT_ *, DT_ *, \
                         DT_ *, const DT_ *, const int64_t *, PD, PD, PD, PD, PD);                \
    } GATES;                                                                                      \
    typedef struct {                                                                              \
        int nr; /* panel width = units per block */                                               \
        void (*panel)(const DT_ *, PD, PD, PD, const DT_ *, DT_ *, PD, int, const DT_ *, int);    \
        void (*pack_fwd)(const DT_ *, PD, PD, int, PD, DT_ *);                                    \
        void (*pack_bwd)(const DT_ *, PD, PD, PD, DT_ *);                                         \
    } RMM;

DEFINE_TABS(float, gates_tab_f32, rmm_tab_f32)
DEFINE_TABS(double, gates_tab_f64, rmm_tab_f64)

/* ---- gate kernels per (dtype, ISA) -------------------------------------------------------- */
#define DT float
#define GATES_TAB gates_tab_f32
#define M_SIGMOID mn_sigmoidf
#define M_TANH mn_tanhf
#define RMM_TAB rmm_tab_f32
#define SFX f32_generic
#define ATTR
#define RMM_VB 16
#define RMM_MR 4
#include "rnn_gates.h"
#include "rnn_rmm.h"
#if MN_X86
#define SFX f32_avx2
#define ATTR ATTR_AVX2
#define RMM_VB 32
#define RMM_MR 6
#include "rnn_gates.h"
#include "rnn_rmm.h"
#define SFX f32_avx512
#define ATTR ATTR_AVX512
#define RMM_VB 64
#define RMM_MR 8
#include "rnn_gates.h"
#include "rnn_rmm.h"
#endif
#undef DT
#undef GATES_TAB
#undef RMM_TAB
#undef M_SIGMOID
#undef M_TANH

#define DT double
#define GATES_TAB gates_tab_f64
#define RMM_TAB rmm_tab_f64
#define M_SIGMOID mn_sigmoid
#define M_TANH tanh
#define SFX f64_generic
#define ATTR
#define RMM_VB 16
#define RMM_MR 4
#include "rnn_gates.h"
#include "rnn_rmm.h"
/* double: the gate math is libm and scalar, but the recurrent matmul is worth vectorising */
#if MN_X86
#define SFX f64_avx2
#define ATTR ATTR_AVX2
#define RMM_VB 32
#define RMM_MR 6
#include "rnn_rmm.h"
#define SFX f64_avx512
#define ATTR ATTR_AVX512
#define RMM_VB 64
#define RMM_MR 8
#include "rnn_rmm.h"
#endif
#undef DT
#undef GATES_TAB
#undef RMM_TAB
#undef M_SIGMOID
#undef M_TANH

static const gates_tab_f32 *pick_f32(int isa)
{
    isa = mn_effective_isa(isa);
    return MN_ISA_PICK(isa, gates_tab_f32);
}

static const gates_tab_f64 *pick_f64(int isa)
{
    (void)isa;
    return &gates_tab_f64_generic;
}

static const rmm_tab_f32 *pick_rmm_f32(int isa)
{
    isa = mn_effective_isa(isa);
    return MN_ISA_PICK(isa, rmm_tab_f32);
}

static const rmm_tab_f64 *pick_rmm_f64(int isa)
{
    isa = mn_effective_isa(isa);
    return MN_ISA_PICK(isa, rmm_tab_f64);
}

/* ---- sequence drivers per dtype ----------------------------------------------------------- */
#define DT float
#define SFX f32
#define GATES_TAB gates_tab_f32
#define PICK pick_f32
#define PICK_RMM pick_rmm_f32
#define RMM_TAB rmm_tab_f32
#define GEMM mn_gemm_f32
#include "rnn_driver.h"

#define DT double
#define SFX f64
#define GATES_TAB gates_tab_f64
#define PICK pick_f64
#define PICK_RMM pick_rmm_f64
#define RMM_TAB rmm_tab_f64
#define GEMM mn_gemm_f64
#include "rnn_driver.h"
