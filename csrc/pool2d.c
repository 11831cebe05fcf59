/* Pooling kernels (contracts in pool2d.h). Each plane is independent, so threads take
 * contiguous blocks of planes; a thread count that does not pay for the region (~1-2 us) on a
 * small input is cut down by mn_par_threads. Max pooling stores the argmax as a flat index
 * into its plane (PyTorch's convention, so indices compare and load across the two), and the
 * backward scatters by it: no second pass over the windows. */
#include "pool2d.h"

#include <math.h>
#include <string.h>

#include "parfor.h"
#include "runtime.h"

#define DT float
#define SFX f32
#include "pool2d_impl.h"
#undef DT
#undef SFX

#define DT double
#define SFX f64
#include "pool2d_impl.h"
#undef DT
#undef SFX
