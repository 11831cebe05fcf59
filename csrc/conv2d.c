/* Convolution as im2col + GEMM (see conv2d.h for the contracts).
 *
 * Why this lowering: the course's layers have C_in*kH*kW = 9..576 and 49..1024 output pixels
 * per image, so one image's product W (C_out x K) @ col (K x P) is a GEMM big enough for the
 * packed micro-kernel of gemm.c to run near peak, and the im2col copy (K x P elements) is small
 * next to its 2*C_out*K*P flops. Threads split the batch: each thread lowers its own images
 * into its own column buffer (a per-thread workspace kept between calls, so no fresh pages per
 * step) and calls the GEMM single-threaded; with fewer images than threads the images go one
 * by one and the GEMM gets the threads instead. 1x1 stride-1 unpadded convolutions skip
 * im2col: the image already is the K x P column matrix. The weight gradient is accumulated per
 * thread (another workspace) and the partial sums added at the end. */
#include "conv2d.h"

#include <stdlib.h>
#include <string.h>

#include "gemm.h"
#include "runtime.h"

/* mn_workspace slots 0-2 belong to the GEMM (packing buffers, its small-product row), which
 * runs while our column buffer is live: conv uses slot 3 only, one request per thread per
 * call (a second, larger request would move the buffer), holding the im2col columns and,
 * in the backward, the thread's partial weight gradient side by side. */
#define WS_CONV 3

int mn_conv2d_algorithm = MN_CONV_AUTO;
int mn_conv2d_block_cols = 512;
int mn_conv2d_dx_as_conv = 0;
int mn_conv2d_wide = 1;  /* measured slower: its GEMM has m = C_in only */

void mn_conv2d_set_algorithm(int algorithm) { mn_conv2d_algorithm = algorithm; }

#define DT float
#define SFX f32
#include "conv2d_impl.h"
#undef DT
#undef SFX

#define DT double
#define SFX f64
#include "conv2d_impl.h"
#undef DT
#undef SFX
