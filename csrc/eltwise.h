/* Elementwise activations, softmax over the last axis, and fused softmax + cross-entropy /
 * BCE-with-logits losses. Arrays are contiguous; a "row" is the last axis of length c.
 * Float loops are compiled for AVX-512, AVX2+FMA and baseline x86-64 and picked at run time
 * (isa: enum mn_isa, clamped to the CPU); every kernel gives the same bits at any n_threads. */
#ifndef MN_ELTWISE_H
#define MN_ELTWISE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

/* Activation codes: enum mn_act (identity, relu, sigmoid, tanh = 0..3) continued. */
enum mn_act_ext {
    MN_ACT_LEAKY_RELU = 4, /* x > 0 ? x : alpha * x            (alpha = negative_slope) */
    MN_ACT_ELU = 5,        /* x > 0 ? x : alpha * (exp(x) - 1) */
    MN_ACT_GELU = 6,       /* x * Phi(x) = 0.5 x erfc(-x / sqrt 2) */
    MN_ACT_GELU_TANH = 7,  /* 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
    MN_ACT_SILU = 8,       /* x * sigmoid(x)  (swish) */
    MN_ACT_COUNT = 9
};

/* y := act(x), n elements. y may be x. */
void mn_act_fwd_f32(const float *x, float *y, ptrdiff_t n, int act, float alpha, int isa,
                    int n_threads);
void mn_act_fwd_f64(const double *x, double *y, ptrdiff_t n, int act, double alpha, int isa,
                    int n_threads);

/* dx := dy * act'(.), n elements, where s is the forward OUTPUT y for sigmoid and tanh and the
 * forward INPUT x for every other activation. dx may be dy. */
void mn_act_bwd_f32(const float *dy, const float *s, float *dx, ptrdiff_t n, int act, float alpha,
                    int isa, int n_threads);
void mn_act_bwd_f64(const double *dy, const double *s, double *dx, ptrdiff_t n, int act,
                    double alpha, int isa, int n_threads);

/* y_rc := exp(x_rc - m_r) / sum_j exp(x_rj - m_r)   (log: (x_rc - m_r) - log sum_j ...),
 * m_r the row max; rows x c. y may be x. */
void mn_softmax_fwd_f32(const float *x_rc, float *y_rc, ptrdiff_t rows, ptrdiff_t c, int log,
                        int isa, int n_threads);
void mn_softmax_fwd_f64(const double *x_rc, double *y_rc, ptrdiff_t rows, ptrdiff_t c, int log,
                        int isa, int n_threads);

/* dx := y * (dy - sum_j dy_j y_j)          (softmax output y)
 * dx := dy - exp(y) * sum_j dy_j           (log-softmax output y). dx may be dy. */
void mn_softmax_bwd_f32(const float *dy_rc, const float *y_rc, float *dx_rc, ptrdiff_t rows,
                        ptrdiff_t c, int log, int isa, int n_threads);
void mn_softmax_bwd_f64(const double *dy_rc, const double *y_rc, double *dx_rc, ptrdiff_t rows,
                        ptrdiff_t c, int log, int isa, int n_threads);

/* Cross-entropy with class indices, PyTorch's definition (ls = label smoothing, w = class
 * weights or NULL for ones, logp = log_softmax(x)):
 *   loss_n := (1 - ls) * w[t_n] * -logp[n, t_n] + ls / c * sum_j w[j] * -logp[n, j]
 *   and 0 when t_n == ignore_index. Also lse_n := log sum_j exp(x_nj) in double (so that a
 *   float32 backward recovers exp(x - lse) to float precision even for logits ~1e4).
 * *total := sum_n loss_n, *wsum := sum of w[t_n] over rows not ignored (both in row order, so
 * the result does not depend on n_threads). Targets must be in [0, c) or ignore_index. */
void mn_xent_fwd_f32(const float *x_nc, const int64_t *t_n, const float *w_c, float *loss_n,
                     double *lse_n, double *total, double *wsum, ptrdiff_t n, ptrdiff_t c,
                     int64_t ignore_index, double ls, int isa, int n_threads);
void mn_xent_fwd_f64(const double *x_nc, const int64_t *t_n, const double *w_c, double *loss_n,
                     double *lse_n, double *total, double *wsum, ptrdiff_t n, ptrdiff_t c,
                     int64_t ignore_index, double ls, int isa, int n_threads);

/* dx_nc := g_n * ((1 - ls) * w[t_n] * (p_nc - [c == t_n]) + ls / c * (W * p_nc - w[c])),
 * p = softmax(x) from lse_n, W = sum_j w[j]; rows with t_n == ignore_index get 0.
 * g_n = g[n * g_stride] * g_scale (g_stride 0: one scalar for every row). */
void mn_xent_bwd_f32(const float *g, ptrdiff_t g_stride, double g_scale, const float *x_nc,
                     const int64_t *t_n, const float *w_c, const double *lse_n, float *dx_nc,
                     ptrdiff_t n, ptrdiff_t c, int64_t ignore_index, double ls, int isa,
                     int n_threads);
void mn_xent_bwd_f64(const double *g, ptrdiff_t g_stride, double g_scale, const double *x_nc,
                     const int64_t *t_n, const double *w_c, const double *lse_n, double *dx_nc,
                     ptrdiff_t n, ptrdiff_t c, int64_t ignore_index, double ls, int isa,
                     int n_threads);

/* Binary cross-entropy on logits, PyTorch's stable form over rows x c elements
 * (pw = pos_weight over the last axis or NULL, w = elementwise weight or NULL):
 *   loss := w * ((1 - t) * x + (1 + (pw - 1) * t) * (log1p(exp(-|x|)) + max(-x, 0)))
 * into loss_rc when it is not NULL; *total := the sum of all losses (fixed blocking, so the
 * same bits at any thread count). */
void mn_bce_fwd_f32(const float *x_rc, const float *t_rc, const float *w_rc, const float *pw_c,
                    float *loss_rc, double *total, ptrdiff_t rows, ptrdiff_t c, int isa,
                    int n_threads);
void mn_bce_fwd_f64(const double *x_rc, const double *t_rc, const double *w_rc, const double *pw_c,
                    double *loss_rc, double *total, ptrdiff_t rows, ptrdiff_t c, int isa,
                    int n_threads);

/* dx := g * w * ((1 + (pw - 1) * t) * sigmoid(x) - pw * t), g = g_rc[i * g_stride] * g_scale. */
void mn_bce_bwd_f32(const float *g_rc, ptrdiff_t g_stride, double g_scale, const float *x_rc,
                    const float *t_rc, const float *w_rc, const float *pw_c, float *dx_rc,
                    ptrdiff_t rows, ptrdiff_t c, int isa, int n_threads);
void mn_bce_bwd_f64(const double *g_rc, ptrdiff_t g_stride, double g_scale, const double *x_rc,
                    const double *t_rc, const double *w_rc, const double *pw_c, double *dx_rc,
                    ptrdiff_t rows, ptrdiff_t c, int isa, int n_threads);

#endif
