/* GEMM kernels: see gemm.h for the contract and gemm_driver.h for the blocking. */
#include "gemm.h"

#include <stddef.h>

#include "mathfun.h"
#include "runtime.h"

/* Largest micro-tile any instantiation uses (8 x 32 floats, 8 x 16 doubles). */
#define MN_MAX_TILE 256

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define MN_X86 1
#define ATTR_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define ATTR_AVX2 __attribute__((target("avx2,fma")))
#else
#define MN_X86 0
#endif

/* ---- micro-kernels and epilogues, one per (dtype, ISA) ----------------------------------
 * Tiles: AVX-512 8 x 2 vectors (16 accumulators of 32 zmm; 14 rows spilled), AVX2 6 x 2
 * (12 of 16 ymm), baseline 4 x 2 xmm. */
#define UK_NAME uk_f32_generic
#define UK_T float
#define UK_VB 16
#define UK_MR 4
#define UK_NV 2
#define UK_ATTR
#include "gemm_ukernel.h"
#define UK_NAME uk_f64_generic
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
#define UK_T float
#define UK_VB 32
#define UK_MR 6
#define UK_NV 2
#define UK_ATTR ATTR_AVX2
#include "gemm_ukernel.h"
#define UK_NAME uk_f64_avx2
#define UK_T double
#define UK_VB 32
#define UK_MR 6
#define UK_NV 2
#define UK_ATTR ATTR_AVX2
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
#define UK_T float
#define UK_VB 64
#define UK_MR 8
#define UK_NV 2
#define UK_ATTR ATTR_AVX512
#include "gemm_ukernel.h"
#define UK_NAME uk_f64_avx512
#define UK_T double
#define UK_VB 64
#define UK_MR 8
#define UK_NV 2
#define UK_ATTR ATTR_AVX512
#include "gemm_ukernel.h"
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

/* ---- drivers ----------------------------------------------------------------------------- */
#define DT float
#define SFX f32
#define KC_MAX 384
#define MC_MAX 192
#define NC_MAX 4096
#define SCALAR_ACT mn_actf
#include "gemm_driver.h"
#undef DT
#undef SFX
#undef KC_MAX
#undef MC_MAX
#undef NC_MAX
#undef SCALAR_ACT

#define DT double
#define SFX f64
#define KC_MAX 256
#define MC_MAX 96
#define NC_MAX 2048
#define SCALAR_ACT mn_act
#include "gemm_driver.h"
#undef DT
#undef SFX
#undef KC_MAX
#undef MC_MAX
#undef NC_MAX
#undef SCALAR_ACT

static const kdesc_f32 k_f32_generic = {4, 8, uk_f32_generic, ep_f32_generic};
static const kdesc_f64 k_f64_generic = {4, 4, uk_f64_generic, ep_f64_generic};
#if MN_X86
static const kdesc_f32 k_f32_avx2 = {6, 16, uk_f32_avx2, ep_f32_avx2};
static const kdesc_f64 k_f64_avx2 = {6, 8, uk_f64_avx2, ep_f64_avx2};
static const kdesc_f32 k_f32_avx512 = {8, 32, uk_f32_avx512, ep_f32_avx512};
static const kdesc_f64 k_f64_avx512 = {8, 16, uk_f64_avx512, ep_f64_avx512};
#endif

static const kdesc_f32 *pick_kernel_f32(int isa)
{
#if MN_X86
    if (isa >= MN_ISA_AVX512)
        return &k_f32_avx512;
    if (isa >= MN_ISA_AVX2)
        return &k_f32_avx2;
#endif
    (void)isa;
    return &k_f32_generic;
}

static const kdesc_f64 *pick_kernel_f64(int isa)
{
#if MN_X86
    if (isa >= MN_ISA_AVX512)
        return &k_f64_avx512;
    if (isa >= MN_ISA_AVX2)
        return &k_f64_avx2;
#endif
    (void)isa;
    return &k_f64_generic;
}

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
