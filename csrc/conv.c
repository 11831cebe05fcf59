/* Convolution (see conv.h for the contracts). Which algorithm, and why (auto):
 *
 * - Implicit GEMM (conv_implicit.h) for groups of 8+ output channels when the batch gives
 *   every thread an image: over zero-bordered "wide" planes (rows of OW + (kW-1)*dW), row k
 *   = (c, p, q) of the im2col matrix is the plane itself from one offset, so 8 x 32 register
 *   tiles of W @ im2col read their pixels straight from the planes: no im2col copy and no
 *   GEMM packing, which together cost more than the multiply on 16-64-channel layers. The
 *   forward's tiles are stored into y with bias and relu (AVX-512: compressed in a register,
 *   dropping the garbage columns); dX (stride 1) is the same product over dY's planes with the
 *   flipped, transposed weight; dW^T accumulates 8 taps x 32 channels over pixel-major dY.
 *   Strides split the padded input into phase planes where every tap is contiguous again.
 *   Measured on the course layers, fwd+bwd: 1.6-1.9x the im2col path below; first layer
 *   (1 channel) forward 2.7x the direct loops.
 *   Row tiles (conv_rowtile.h) replace those tiles for dilation-1, 3-wide float32
 *   convolutions on AVX-512 with 16+ output rows and 4+ input planes, at stride 1 (forward,
 *   dX, dW) and stride 2 (forward, dW): lanes over output channels, R pixels of one output
 *   row per tile, the three taps' weights in registers and each input value broadcast once
 *   for its pixels; dW keeps a window of dY vectors per input position. No garbage columns
 *   (22% of the wide tiles' work at 7x7) and fewer loads per FMA: 2 threads, 7x7 32->32 fwd
 *   0.51 -> 0.40 ms, dX 0.54 -> 0.42, dW 0.50 -> 0.44; 64 channels 32x32 fwd 9.1 -> 7.4, dX
 *   9.4 -> 7.5, dW 8.6 -> 6.9; stride 2 fwd 3.07 -> 2.48, dW 2.57 -> 2.20.
 * - Depthwise (one input channel per group, stride 1): per plane, a vector of one output row
 *   at a time, every tap a load and an FMA (2.5x the direct loops).
 * - Direct convolution (conv_direct.h) for the other few-tap cases, C_in/groups*kH*kW <= 27
 *   (strided depthwise, and dX of groups under 8 input channels): an im2col GEMM would have
 *   k = 9, where its packing and call overheads dominate.
 * - Otherwise (a single image, fewer than 8 outputs per group, dX of strided convolutions)
 *   im2col + mn_gemm: y_g = W_g (C_out_g x K) @ col (K x columns). Small images give the
 *   GEMM few columns (49 for 7x7), so several images are lowered side by side into one
 *   column matrix of ~512 columns (under 1 MiB of L2); for stride 1 and output rows under 24
 *   the columns are taken over zero-padded wide rows, one contiguous copy per column row
 *   instead of OH short bounds-checked copies (20-25% on 14x14 and 7x7).
 *   Backward, same blocks: dY gathered once per block feeds dW += dY col^T and
 *   dcol = W^T dY (W^T transposed once per call: the GEMM packs a transposed A slowly), then
 *   col2im. (dX as a forward conv of dY with the flipped weight is kept as a knob: its GEMM
 *   has m = C_in and measured 1.3-2x slower.)
 * - The relu's backward is fused (relu_y): the implicit path masks dY image by image in
 *   cache; the others get a masked copy first. Conv + relu + 2x2 max pool is one node
 *   (mn_conv2d_relu_pool_fwd): the implicit forward pools each image's output from the
 *   thread's scratch (never storing it) and keeps one byte per pooled value; the backward
 *   (pool_code) rebuilds each image's dY from the pooled gradient in scratch. On the course
 *   CNN's first block fwd+bwd 1.53 -> 0.79 ms, the others 2-3%.
 * - Threads split the batch (blocks fixed by the shape, so results do not depend on the
 *   thread count, except dW, summed per thread then added); each calls the GEMM with one
 *   thread inside a team of one, because mn_gemm's loop nest uses orphaned omp-for loops
 *   that would otherwise bind to our region. With fewer blocks than threads, blocks go one
 *   by one and the GEMM gets the threads. Scratch: mn_workspace slot 3 (0-2 are the GEMM's),
 *   one request per thread per call, kept between calls (no fresh pages per step). */
#include "conv.h"

#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "pool.h"
#include "runtime.h"
#if MN_X86
#include <immintrin.h>
#endif

/* mn_workspace slots 0-2 belong to the GEMM (packing buffers, its small-product row), which
 * runs while our column buffer is live: conv uses slot 3 only, one request per thread per
 * call (a second, larger request would move the buffer), holding the im2col columns and,
 * in the backward, the thread's partial weight gradient side by side. */
#define WS_CONV 3

int mn_conv2d_algorithm = MN_CONV_AUTO;
int mn_conv2d_block_cols = 512;
int mn_conv2d_dx_as_conv = 0;  /* measured slower: its GEMM has m = C_in only */
int mn_conv2d_wide = 1;
int mn_conv2d_rowtile = 1;

void mn_conv2d_set_algorithm(int algorithm) { mn_conv2d_algorithm = algorithm; }

#define DT float
#define SFX f32
#define DT_F32 1
#include "conv_impl.h"
#undef DT
#undef SFX
#undef DT_F32

#define DT double
#define SFX f64
#define DT_F32 0
#include "conv_impl.h"
#undef DT
#undef SFX
#undef DT_F32
