/* 2-D convolution (cross-correlation, as PyTorch), NCHW input, weight (C_out, C_in/groups,
 * kH, kW): implicit GEMM over zero-bordered planes, depthwise and direct loops, or im2col +
 * mn_gemm, chosen per shape (conv_dispatch.h says which, each path's header why). */
#ifndef MN_CONV_H
#define MN_CONV_H

#include <stddef.h>
#include <stdint.h>

/* Geometry shared by forward and backward. Padding may be asymmetric ('same' with an even
 * kernel): pad_t/pad_l are the zeros before the first row/column; the output size oh x ow is
 * given by the caller, and any tap that falls outside the input reads zero. */
typedef struct {
    ptrdiff_t n, c_in, h, w; /* input x_nchw */
    ptrdiff_t c_out, kh, kw; /* weight w_oihw: (c_out, c_in / groups, kh, kw) */
    ptrdiff_t oh, ow;        /* output y_nchw: (n, c_out, oh, ow) */
    ptrdiff_t sh, sw, pad_t, pad_l, dh, dw, groups;
} mn_conv2d_geom;

/* y[n, o, i, j] := act(b[o] + sum_{c, p, q} w[o, c, p, q] *
 *                        x[n, g*C_in_g + c, i*sh - pad_t + p*dh, j*sw - pad_l + q*dw])
 *   b may be NULL; act is MN_ACT_IDENTITY or MN_ACT_RELU. Returns 0, or -1 on OOM. */
int mn_conv2d_fwd_f32(const float *x_nchw, const float *w_oihw, const float *b_o, float *y_nchw,
                      const mn_conv2d_geom *g, int act, int isa, int n_threads);
int mn_conv2d_fwd_f64(const double *x_nchw, const double *w_oihw, const double *b_o,
                      double *y_nchw, const mn_conv2d_geom *g, int act, int isa, int n_threads);

/* Gradients of the forward above for dy_nchw; each output may be NULL when not wanted.
 * dx := col2im(W^T dY); dw := sum_n dY_n im2col(x_n)^T; db := sum_{n,i,j} dy. With relu_y
 * (the forward's output under MN_ACT_RELU; NULL for the identity) dY is first masked where
 * relu_y > 0 fails, as the activation's backward would, but per image while it is in cache.
 * Returns 0, or -1 on OOM. */
int mn_conv2d_bwd_f32(const float *dy_nchw, const float *x_nchw, const float *w_oihw,
                      float *dx_nchw, float *dw_oihw, float *db_o, const float *relu_y,
                      const uint8_t *pool_code, const mn_conv2d_geom *g, int isa, int n_threads);
int mn_conv2d_bwd_f64(const double *dy_nchw, const double *x_nchw, const double *w_oihw,
                      double *dx_nchw, double *dw_oihw, double *db_o, const double *relu_y,
                      const uint8_t *pool_code, const mn_conv2d_geom *g, int isa, int n_threads);

/* The fused conv2d + relu + 2x2 stride-2 max pooling of Conv2d -> ReLU -> MaxPool2d(2):
 *   p := maxpool2x2(relu(conv2d(x, w) + b)), (N, C_out, OH/2, OW/2) (floor; OH, OW >= 2);
 *   code := per pooled element, the window tap of its first maximum (0-3, row-major) when
 *   that maximum is > 0, else 4 (pool.h: mn_relu_maxpool2x2_fwd).
 * The backward is mn_conv2d_bwd with pool_code = code and dy_nchw the gradient of p: dY is
 * then the pooled gradient spread onto the coded taps (zeros elsewhere, which is also the
 * relu's mask), made per image in scratch; relu_y must be NULL. The conv's own output is never
 * stored on the implicit path. Returns 0, or -1 on OOM. */
int mn_conv2d_relu_pool_fwd_f32(const float *x_nchw, const float *w_oihw, const float *b_o,
                                float *p_nchw, uint8_t *code, const mn_conv2d_geom *g, int isa,
                                int n_threads);
int mn_conv2d_relu_pool_fwd_f64(const double *x_nchw, const double *w_oihw, const double *b_o,
                                double *p_nchw, uint8_t *code, const mn_conv2d_geom *g, int isa,
                                int n_threads);

/* Which lowering the kernels use: MN_CONV_AUTO picks per shape (conv_dispatch.h); the others
 * force one where it applies (implicit: every convolution's forward and dW, dX at stride 1),
 * so that the tests cover each on every shape. */
enum mn_conv_algorithm {
    MN_CONV_AUTO = 0,
    MN_CONV_IM2COL = 1,
    MN_CONV_DIRECT = 2,
    MN_CONV_IMPLICIT = 3
};
extern int mn_conv2d_algorithm;
/* Columns (images x output pixels) the im2col path aims to put in one GEMM (tuning). */
extern int mn_conv2d_block_cols;
/* Stride-1 dX as a forward convolution of dY (1) or as blocked W^T dY + col2im (0, the
 * default: the forward convolution's GEMM has only m = C_in rows). */
extern int mn_conv2d_dx_as_conv;
/* Stride-1 im2col over zero-padded "wide" rows (1, default) or bounds-checked rows (0). */
extern int mn_conv2d_wide;
/* Row tiles (lanes over channels, conv_rowtile.h) where they apply (1, default) or the wide
 * tiles everywhere (0). */
extern int mn_conv2d_rowtile;
void mn_conv2d_set_algorithm(int algorithm);

#endif
