/* The convolution family for one dtype, instantiated by conv.c: DT (float or double), SFX
 * (f32 or f64) and DT_F32 (1 for float, which alone has the AVX-512 row tiles). It defines
 * the naming macros and includes the family's headers in dependency order; each one says
 * what it computes and when it is chosen:
 *   conv_isa.h              the per-ISA kernel copies (conv_direct.h, conv_implicit.h,
 *                           conv_rowtile.h) and the run-time choice between them
 *   conv_dispatch.h         which path a shape takes: every automatic decision
 *   conv_planes.h           zero-bordered planes, one image's dY, the
 *                           bias + relu of a row: what the paths below share
 *   conv_depthwise.h        one input channel per group, stride 1
 *   conv_dx_strided.h       dX of strided convolutions as stride-1 phase products
 *   conv_implicit_driver.h  implicit GEMM over the padded planes, forward and backward
 *   conv_im2col.h           im2col + mn_gemm, forward and backward, the path for what the
 *                           others leave (its block drivers also run the direct loops)
 *   conv_entry.h            the public entry points, routing each call to a path */
#include "names.h"

/* FN(name) -> name_SFX: FN(implicit_fwd) is implicit_fwd_{f32,f64} */
#define FN(name) MN_JOIN(name, SFX)
/* FN_ISA(name, isa) -> name_isa_SFX, the per-ISA copies: FN_ISA(ik_fwd, avx512) is
 * ik_fwd_avx512_f32 */
#define FN_ISA(name, isa) MN_JOIN(MN_JOIN(name, isa), SFX)
/* the GEMM of the im2col path: mn_gemm, in a team of its own (conv_im2col.h) */
#define GEMM FN(gemm_in_team)

/* Dependency order. GCC's inlining decisions depend on the order of definitions too: this one
 * compiles to the same code as the single conv_impl.h it replaced. */
#include "conv_isa.h"
#include "conv_dispatch.h"
#include "conv_planes.h"
#include "conv_depthwise.h"
#include "conv_dx_strided.h"
#include "conv_implicit_driver.h"
#include "conv_im2col.h"
#include "conv_entry.h"

#undef GEMM
#undef FN
#undef FN_ISA
