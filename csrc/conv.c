/* Convolution (contracts in conv.h): the family's translation unit. It defines the tuning
 * knobs of conv.h and instantiates conv_impl.h once per dtype; conv_impl.h lists the headers,
 * each of which says what its path computes and when it is chosen, and conv_dispatch.h holds
 * the choices themselves. What every path shares:
 * - Threads split the batch (mn_parallel jobs, one chunk per thread), in blocks fixed by the
 *   shape, so results do not depend on the thread count for a given chunk count (dW:
 *   per-chunk partial sums, added in chunk order by a second job). A GEMM called from a
 *   chunk runs serially in its thread (gemm_in_team); with fewer blocks than threads the
 *   blocks go one by one and the GEMM gets the threads.
 * - The relu's backward (relu_y) and conv + relu + 2x2 max pooling (mn_conv2d_relu_pool_fwd,
 *   pool_code) are fused: the per-image paths mask or unpool dY image by image in cache, and
 *   the implicit forward pools each output image from its scratch without storing it; the
 *   other paths get a masked copy of dY, or pool the stored output.
 * - Scratch comes from mn_workspace slot WS_CONV, one request per thread per call, kept
 *   between calls: a training step touches no fresh pages. */
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
/* Slot 7, on the calling thread: the partial weight gradients of a backward's chunks (chunk 1
 * on), read by the job that adds them after the chunks' threads have moved on. */
#define WS_CONV_PART 7

int mn_conv2d_algorithm = MN_CONV_AUTO;
int mn_conv2d_block_cols = 512;
int mn_conv2d_dx_as_conv = 0; /* off: its GEMM has only m = C_in rows */
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
