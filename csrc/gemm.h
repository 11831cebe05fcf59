/* GEMM with a fused epilogue, BLIS-style: five loops around a register-blocked micro-kernel,
 * packed panels of A and B, OpenMP over micro-tiles sharing one packed B panel, and
 * micro-kernels compiled for AVX-512, AVX2+FMA and baseline x86-64, picked at run time. */
#ifndef MN_GEMM_H
#define MN_GEMM_H

#include <stddef.h>

/* C := act(alpha * op(A) @ op(B) + beta * C + bias)
 *   op(A) is m x k, op(B) is k x n, C is m x n; all row-major with leading dimensions lda,
 *   ldb, ldc (elements). trans_a: A is stored k x m. trans_b: B is stored n x k.
 *   bias: NULL or n values added to every row. act: enum mn_act.
 *   beta == 0 means C is not read (it may hold garbage, NaN included), as in BLAS.
 *   isa: enum mn_isa requested (clamped to the CPU); n_threads >= 1.
 *   Returns 0, or -1 when scratch memory could not be allocated. */
int mn_gemm_f32(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c,
                ptrdiff_t ldc, const float *bias, int act, int isa, int n_threads);
int mn_gemm_f64(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha,
                const double *a, ptrdiff_t lda, const double *b, ptrdiff_t ldb, double beta,
                double *c, ptrdiff_t ldc, const double *bias, int act, int isa, int n_threads);

/* out[j] := sum_i a[i*lda + j] (+ out[j] if accumulate): the bias gradient of a dense layer. */
void mn_colsum_f32(const float *a, ptrdiff_t m, ptrdiff_t n, ptrdiff_t lda, float *out,
                   int accumulate, int n_threads);
void mn_colsum_f64(const double *a, ptrdiff_t m, ptrdiff_t n, ptrdiff_t lda, double *out,
                   int accumulate, int n_threads);

/* The micro-tile (MR x NR) the dispatcher uses for a dtype at an ISA level (for build_info). */
void mn_gemm_tile(int isa, int f64, int *mr, int *nr);

/* One job per (jc, pc) panel for one-row-block products on 2+ threads (gemm_driver.h:
 * panel_chunk_; 1, default) or the three-job nest always (0): a tuning knob for A/B runs. */
extern int mn_gemm_panel;

#endif
