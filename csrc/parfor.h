/* Splitting flat index ranges between OpenMP threads, for kernels whose work is a loop over
 * independent elements or rows (eltwise, optim). Each thread gets one contiguous range, so the
 * inner loops stay simple enough to vectorise, and the split never changes a result. */
#ifndef MN_PARFOR_H
#define MN_PARFOR_H

#include <stddef.h>

#include "runtime.h"

/* Threads worth using for n items when a thread should get at least `grain` of them: a
 * parallel region costs a team wake-up and the barrier at its end, so a thread must have
 * enough work to pay for them. */
static inline int mn_par_threads(ptrdiff_t n, ptrdiff_t grain, int n_threads)
{
    if (n_threads <= 1 || grain <= 0 || n < 2 * grain)
        return 1;
    const ptrdiff_t most = n / grain;
    return most < (ptrdiff_t)n_threads ? (int)most : n_threads;
}

/* This thread's share [*lo, *hi) of [0, n): boundaries rounded down to multiples of `align`
 * (e.g. 16 floats = one cache line) except the last. Call inside a parallel region. */
static inline void mn_thread_range(ptrdiff_t n, ptrdiff_t align, ptrdiff_t *lo, ptrdiff_t *hi)
{
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const double f0 = (double)n * t / nt, f1 = (double)n * (t + 1) / nt;
    ptrdiff_t a = (ptrdiff_t)f0, b = (ptrdiff_t)f1;
    if (align > 1) {
        a -= a % align;
        b -= b % align;
    }
    if (t == nt - 1)
        b = n;
    if (t == 0)
        a = 0;
    *lo = a;
    *hi = b;
}

#endif
