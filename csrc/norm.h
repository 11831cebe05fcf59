/* Batch normalisation over NCHW-like input viewed as (n, c, s): channel j's values are the n
 * rows x[i, j, 0:s]. Statistics in double; threads split the channels, each channel's sums
 * have one fixed order, so results do not depend on the thread count. */
#ifndef MN_NORM_H
#define MN_NORM_H

#include <stddef.h>

/* mean[j] := mean of channel j; var[j] := its biased variance (two passes: sum, then the
 * squares of x - mean). */
void mn_bn_stats_f32(const float *x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, double *mean,
                     double *var, int isa, int n_threads);
void mn_bn_stats_f64(const double *x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, double *mean,
                     double *var, int isa, int n_threads);

/* y := (x - mean[j]) / sqrt(var[j] + eps) * w[j] + b[j], as x * a + d with a = w / sqrt(..),
 * d = b - mean * a per channel (w NULL: 1, b NULL: 0). y may be x. */
void mn_bn_apply_f32(const float *x, const double *mean, const double *var, double eps,
                     const float *w, const float *b, float *y, ptrdiff_t n, ptrdiff_t c,
                     ptrdiff_t s, int isa, int n_threads);
void mn_bn_apply_f64(const double *x, const double *mean, const double *var, double eps,
                     const double *w, const double *b, double *y, ptrdiff_t n, ptrdiff_t c,
                     ptrdiff_t s, int isa, int n_threads);

/* Gradients for dy with xhat = (x - mean) * invstd, invstd = 1 / sqrt(var + eps), m = n*s:
 *   db := sum dy,  dw := sum dy * xhat (per channel)
 *   dx := w * invstd * (dy - db / m - xhat * dw / m)   (training: mean/var were the batch's)
 *   dx := w * invstd * dy                              (eval: fixed statistics)
 * Any of dx, dw, db may be NULL. */
void mn_bn_bwd_f32(const float *dy, const float *x, const double *mean, const double *var,
                   double eps, const float *w, int training, float *dx, float *dw, float *db,
                   ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, int isa, int n_threads);
void mn_bn_bwd_f64(const double *dy, const double *x, const double *mean, const double *var,
                   double eps, const double *w, int training, double *dx, double *dw, double *db,
                   ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, int isa, int n_threads);

#endif
