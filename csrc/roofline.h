/* The machine's roofline, measured: the FMA peak of each ISA's register-only loop and the
 * memory bandwidth of a streaming triad. minnet-bench divides a kernel's or a training step's
 * FLOP rate by these to report "% of peak" (minnet/bench/roofline.py). Linked into the
 * _runtime extension. */
#ifndef MN_ROOFLINE_H
#define MN_ROOFLINE_H

#include <stddef.h>

/* FLOP/s of independent fused multiply-adds held in registers (2 FLOPs each), for the ISA
 * (enum mn_isa, clamped to the CPU: AVX-512 and AVX2 use FMA on zmm/ymm; generic uses SSE2
 * multiply and add, which is what baseline-compiled code gets), dtype_bytes 4 or 8, on
 * n_threads threads running at once, for about `seconds` each. Returns the best of the
 * threads' summed rates over a few trials, or -1 on bad arguments. */
double mn_peak_flops(int isa, int dtype_bytes, int n_threads, double seconds);

/* Bytes/s of a[i] = b[i] + s * c[i] over three float64 arrays of n elements each (3 * 8 * n
 * bytes counted per pass, as STREAM counts), split over n_threads; the best of `reps` passes
 * after one warm-up pass. -1 when the arrays cannot be allocated or the arguments are bad. */
double mn_triad_bandwidth(ptrdiff_t n, int n_threads, int reps);

#endif
