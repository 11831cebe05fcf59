/* Splitting flat index ranges into the chunks of a pool job, for kernels whose work is a loop
 * over independent elements or rows (eltwise, optim, pool). A job of nt threads has nt chunks,
 * each one contiguous range, so the inner loops stay simple enough to vectorise, and the split
 * never changes a result. */
#ifndef MN_PARFOR_H
#define MN_PARFOR_H

#include <stddef.h>

#include "runtime.h"

/* Threads worth using for n items when a thread should get at least `grain` of them: a job
 * costs waking the pool and waiting for its last chunk, so a thread must have enough work to
 * pay for them. */
static inline int mn_par_threads(ptrdiff_t n, ptrdiff_t grain, int n_threads)
{
    if (n_threads <= 1 || grain <= 0 || n < 2 * grain)
        return 1;
    const ptrdiff_t most = n / grain;
    return most < (ptrdiff_t)n_threads ? (int)most : n_threads;
}

/* Chunk `chunk`'s share [*lo, *hi) of [0, n) when it is split into n_chunks (a job of the
 * pool, runtime.h: mn_parallel): boundaries rounded down to multiples of `align` (e.g. 16
 * floats = one cache line) except the last. Depends on the chunk index only. */
static inline void mn_chunk_range(ptrdiff_t n, ptrdiff_t align, int chunk, int n_chunks,
                                  ptrdiff_t *lo, ptrdiff_t *hi)
{
    const double f0 = (double)n * chunk / n_chunks, f1 = (double)n * (chunk + 1) / n_chunks;
    ptrdiff_t a = (ptrdiff_t)f0, b = (ptrdiff_t)f1;
    if (align > 1) {
        a -= a % align;
        b -= b % align;
    }
    if (chunk == n_chunks - 1)
        b = n;
    if (chunk == 0)
        a = 0;
    *lo = a;
    *hi = b;
}

#endif
