/* GEMM kernels: see gemm.h for the contract and gemm_driver.h for the blocking. This file
 * compiles the register-blocked pieces once per (dtype, ISA), with names spelled out in full
 * (uk_f32_avx512: micro-kernel, ukd_: its direct-to-C twin, ep_: epilogue, ukn_: narrow
 * kernel, dot_/axpy_: vector helpers), groups each level's into a descriptor (k_f32_avx512)
 * that pick_kernel_f32/_f64 choose at run time, and instantiates the driver once per dtype
 * (mn_gemm_f32, mn_gemm_f64). Only these pieces carry target attributes, so one portable
 * build runs AVX-512 code where the CPU has it. */
/* As in eltwise.c: without it GCC keeps the tanh and sigmoid selects of the epilogue as
 * branches and does not vectorise them; minnet never unmasks FP exceptions, so no result
 * changes. */
#pragma GCC optimize("no-trapping-math")

#include "gemm.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mathfun.h"
#include "runtime.h"

/* Largest micro-tile any instantiation uses (8 x 32 floats, 8 x 16 doubles). */
#define MN_MAX_TILE 256

/* ---- micro-kernels and epilogues, one per (dtype, ISA) ----------------------------------
 * Tiles: AVX-512 8 x 2 vectors (16 accumulators of 32 zmm; 14 rows spilled), AVX2 6 x 2
 * (12 of 16 ymm), baseline 4 x 2 xmm. */
#define UK_NAME uk_f32_generic
#define UK_DNAME ukd_f32_generic
#define UK_T float
#define UK_VB 16
#define UK_MR 4
#define UK_NV 2
#define UK_ATTR
#include "gemm_ukernel.h"
#define UK_NAME uk_f64_generic
#define UK_DNAME ukd_f64_generic
#define UK_T double
#define UK_VB 16
#define UK_MR 4
#define UK_NV 2
#define UK_ATTR
#include "gemm_ukernel.h"
#define EP_NAME ep_f32_generic
#define EP_T float
#define EP_ACT mn_actf
#define EP_ATTR
#include "gemm_epilogue.h"
#define EP_NAME ep_f64_generic
#define EP_T double
#define EP_ACT mn_act
#define EP_ATTR
#include "gemm_epilogue.h"

#if MN_X86
#define UK_NAME uk_f32_avx2
#define UK_DNAME ukd_f32_avx2
#define UK_T float
#define UK_VB 32
#define UK_MR 6
#define UK_NV 2
#define UK_ATTR ATTR_AVX2
/* no k unroll: 12 accumulators + 2 B vectors + a broadcast fill 15 of the 16 ymm registers,
 * and unrolled by 2 GCC spilled accumulators to the stack in the loop (60% of the AVX2 FMA
 * peak at 1024^3 on AMD EPYC, 88% without) */
#define UK_KUNROLL 1
#include "gemm_ukernel.h"
#define UK_NAME uk_f64_avx2
#define UK_DNAME ukd_f64_avx2
#define UK_T double
#define UK_VB 32
#define UK_MR 6
#define UK_NV 2
#define UK_ATTR ATTR_AVX2
#define UK_KUNROLL 1
#include "gemm_ukernel.h"
#define EP_NAME ep_f32_avx2
#define EP_T float
#define EP_ACT mn_actf
#define EP_ATTR ATTR_AVX2
#include "gemm_epilogue.h"
#define EP_NAME ep_f64_avx2
#define EP_T double
#define EP_ACT mn_act
#define EP_ATTR ATTR_AVX2
#include "gemm_epilogue.h"

#define UK_NAME uk_f32_avx512
#define UK_DNAME ukd_f32_avx512
#define UK_T float
#define UK_VB 64
#define UK_MR 8
#define UK_NV 2
#define UK_ATTR ATTR_AVX512
#include "gemm_ukernel.h"
#define UK_NAME uk_f64_avx512
#define UK_DNAME ukd_f64_avx512
#define UK_T double
#define UK_VB 64
#define UK_MR 8
#define UK_NV 2
#define UK_ATTR ATTR_AVX512
#include "gemm_ukernel.h"
#define UKN_NAME ukn_f32_avx512
#define UKN_T float
#define UKN_VB 64
#define UKN_ATTR ATTR_AVX512
#include "gemm_narrow.h"
#define UKN_NAME ukn_f64_avx512
#define UKN_T double
#define UKN_VB 64
#define UKN_ATTR ATTR_AVX512
#include "gemm_narrow.h"
#define UKN_NAME ukn_f32_avx2
#define UKN_ONE_ACC 1
#define UKN_T float
#define UKN_VB 32
#define UKN_ATTR ATTR_AVX2
#include "gemm_narrow.h"
#define UKN_NAME ukn_f64_avx2
#define UKN_ONE_ACC 1
#define UKN_T double
#define UKN_VB 32
#define UKN_ATTR ATTR_AVX2
#include "gemm_narrow.h"
#define EP_NAME ep_f32_avx512
#define EP_T float
#define EP_ACT mn_actf
#define EP_ATTR ATTR_AVX512
#include "gemm_epilogue.h"
#define EP_NAME ep_f64_avx512
#define EP_T double
#define EP_ACT mn_act
#define EP_ATTR ATTR_AVX512
#include "gemm_epilogue.h"
#endif

#if MN_X86
/* dst[p*ld + i] = src[i*rs + p], i < 8: loads eight rows eight floats at a time and transposes
 * them in registers (unpack, shuffle, 128-bit lane permute: the classic 8 x 8 AVX transpose). */
ATTR_AVX2 static void tpack8_f32_avx2(const float *restrict src, ptrdiff_t rs, ptrdiff_t kc,
                                      float *restrict dst, ptrdiff_t ld)
{
    typedef float v8 __attribute__((vector_size(32), aligned(4), may_alias));
    typedef int v8i __attribute__((vector_size(32)));
    const v8i lo = {0, 8, 1, 9, 4, 12, 5, 13}, hi = {2, 10, 3, 11, 6, 14, 7, 15};
    const v8i q0 = {0, 1, 8, 9, 4, 5, 12, 13}, q1 = {2, 3, 10, 11, 6, 7, 14, 15};
    const v8i h0 = {0, 1, 2, 3, 8, 9, 10, 11}, h1 = {4, 5, 6, 7, 12, 13, 14, 15};
    ptrdiff_t p = 0;
    for (; p + 8 <= kc; p += 8) {
        const v8 r0 = *(const v8 *)(src + 0 * rs + p), r1 = *(const v8 *)(src + 1 * rs + p);
        const v8 r2 = *(const v8 *)(src + 2 * rs + p), r3 = *(const v8 *)(src + 3 * rs + p);
        const v8 r4 = *(const v8 *)(src + 4 * rs + p), r5 = *(const v8 *)(src + 5 * rs + p);
        const v8 r6 = *(const v8 *)(src + 6 * rs + p), r7 = *(const v8 *)(src + 7 * rs + p);
        const v8 t0 = __builtin_shuffle(r0, r1, lo), t1 = __builtin_shuffle(r0, r1, hi);
        const v8 t2 = __builtin_shuffle(r2, r3, lo), t3 = __builtin_shuffle(r2, r3, hi);
        const v8 t4 = __builtin_shuffle(r4, r5, lo), t5 = __builtin_shuffle(r4, r5, hi);
        const v8 t6 = __builtin_shuffle(r6, r7, lo), t7 = __builtin_shuffle(r6, r7, hi);
        const v8 u0 = __builtin_shuffle(t0, t2, q0), u1 = __builtin_shuffle(t0, t2, q1);
        const v8 u2 = __builtin_shuffle(t1, t3, q0), u3 = __builtin_shuffle(t1, t3, q1);
        const v8 u4 = __builtin_shuffle(t4, t6, q0), u5 = __builtin_shuffle(t4, t6, q1);
        const v8 u6 = __builtin_shuffle(t5, t7, q0), u7 = __builtin_shuffle(t5, t7, q1);
        float *d = dst + p * ld;
        *(v8 *)(d + 0 * ld) = __builtin_shuffle(u0, u4, h0);
        *(v8 *)(d + 1 * ld) = __builtin_shuffle(u1, u5, h0);
        *(v8 *)(d + 2 * ld) = __builtin_shuffle(u2, u6, h0);
        *(v8 *)(d + 3 * ld) = __builtin_shuffle(u3, u7, h0);
        *(v8 *)(d + 4 * ld) = __builtin_shuffle(u0, u4, h1);
        *(v8 *)(d + 5 * ld) = __builtin_shuffle(u1, u5, h1);
        *(v8 *)(d + 6 * ld) = __builtin_shuffle(u2, u6, h1);
        *(v8 *)(d + 7 * ld) = __builtin_shuffle(u3, u7, h1);
    }
    for (; p < kc; p++)
        for (int i = 0; i < 8; i++)
            dst[p * ld + i] = src[i * rs + p];
}
#endif

#define SM_DOT dot_f32_generic
#define SM_AXPY axpy_f32_generic
#define SM_T float
#define SM_VB 16
#define SM_ATTR
#include "gemm_small.h"
#if MN_X86
#define SM_DOT dot_f32_avx2
#define SM_AXPY axpy_f32_avx2
#define SM_T float
#define SM_VB 32
#define SM_ATTR ATTR_AVX2
#include "gemm_small.h"
#endif
#if MN_X86
#define SM_DOT dot_f32_avx512
#define SM_AXPY axpy_f32_avx512
#define SM_T float
#define SM_VB 64
#define SM_ATTR ATTR_AVX512
#include "gemm_small.h"
#endif
#define SM_DOT dot_f64_generic
#define SM_AXPY axpy_f64_generic
#define SM_T double
#define SM_VB 16
#define SM_ATTR
#include "gemm_small.h"
#if MN_X86
#define SM_DOT dot_f64_avx2
#define SM_AXPY axpy_f64_avx2
#define SM_T double
#define SM_VB 32
#define SM_ATTR ATTR_AVX2
#include "gemm_small.h"
#endif
#if MN_X86
#define SM_DOT dot_f64_avx512
#define SM_AXPY axpy_f64_avx512
#define SM_T double
#define SM_VB 64
#define SM_ATTR ATTR_AVX512
#include "gemm_small.h"
#endif

/* ---- drivers ----------------------------------------------------------------------------- */
int mn_gemm_panel = 1;

#define DT float
#define SFX f32
#ifndef F32_KC
#define F32_KC 512
#endif
#ifndef F32_MC
#define F32_MC 192
#endif
#define KC_MAX F32_KC
#define MC_MAX F32_MC
#ifndef F32_NC
#define F32_NC 4096
#endif
#define NC_MAX F32_NC
#define SCALAR_ACT mn_actf
#include "gemm_driver.h"

#define DT double
#define SFX f64
#define KC_MAX 256
#define MC_MAX 96
#define NC_MAX 2048
#define SCALAR_ACT mn_act
#include "gemm_driver.h"

// clang-format off: a table, one kernel descriptor per line
static const kdesc_f32 k_f32_generic = {4, 8, uk_f32_generic, ukd_f32_generic, ep_f32_generic, NULL, NULL, 0, dot_f32_generic, axpy_f32_generic};
static const kdesc_f64 k_f64_generic = {4, 4, uk_f64_generic, ukd_f64_generic, ep_f64_generic, NULL, NULL, 0, dot_f64_generic, axpy_f64_generic};
#if MN_X86
static const kdesc_f32 k_f32_avx2 = {6, 16, uk_f32_avx2, ukd_f32_avx2, ep_f32_avx2, tpack8_f32_avx2, ukn_f32_avx2, 8, dot_f32_avx2, axpy_f32_avx2};
static const kdesc_f64 k_f64_avx2 = {6, 8, uk_f64_avx2, ukd_f64_avx2, ep_f64_avx2, NULL, ukn_f64_avx2, 4, dot_f64_avx2, axpy_f64_avx2};
static const kdesc_f32 k_f32_avx512 = {8, 32, uk_f32_avx512, ukd_f32_avx512, ep_f32_avx512, tpack8_f32_avx2, ukn_f32_avx512, 16, dot_f32_avx512, axpy_f32_avx512};
static const kdesc_f64 k_f64_avx512 = {8, 16, uk_f64_avx512, ukd_f64_avx512, ep_f64_avx512, NULL, ukn_f64_avx512, 8, dot_f64_avx512, axpy_f64_avx512};
#endif
// clang-format on

static const kdesc_f32 *pick_kernel_f32(int isa) { return MN_ISA_PICK(isa, k_f32); }

static const kdesc_f64 *pick_kernel_f64(int isa) { return MN_ISA_PICK(isa, k_f64); }

void mn_gemm_tile(int isa, int f64, int *mr, int *nr)
{
    isa = mn_effective_isa(isa);
    if (f64) {
        const kdesc_f64 *kd = pick_kernel_f64(isa);
        *mr = kd->mr;
        *nr = kd->nr;
    } else {
        const kdesc_f32 *kd = pick_kernel_f32(isa);
        *mr = kd->mr;
        *nr = kd->nr;
    }
}
