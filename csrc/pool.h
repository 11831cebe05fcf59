/* 2-D max and average pooling over NCHW planes, and adaptive average pooling. Memory-bound:
 * one pass over the input per output plane, OpenMP over the N*C planes. */
#ifndef MN_POOL_H
#define MN_POOL_H

#include <stddef.h>
#include <stdint.h>

/* planes = N*C; each input plane h x w, each output plane oh x ow (the caller resolves
 * ceil_mode into oh/ow). Windows start at i*sh - ph, j*sw - pw. isa: the instruction-set level
 * (enum mn_isa) the call may use, already clamped to the CPU (mn_effective_isa). */
typedef struct {
    ptrdiff_t planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw;
    int isa;
} mn_pool2d_geom;

/* y[i, j] := max over the window taps inside the plane; idx[i, j] := r*w + s of the first
 * maximum in row-major window order (NaN wins, as in PyTorch); a window with no tap inside
 * the plane gives -inf and index -1. */
void mn_maxpool2d_fwd_f32(const float *x, float *y, int64_t *idx, const mn_pool2d_geom *g,
                          int n_threads);
void mn_maxpool2d_fwd_f64(const double *x, double *y, int64_t *idx, const mn_pool2d_geom *g,
                          int n_threads);
/* dx := 0; dx[idx[i, j]] += dy[i, j] for idx >= 0, per plane (only planes, h, w, oh, ow of g
 * are read). Returns 0, or -1 if an index is neither in [0, h*w) nor -1 (that one is skipped;
 * the caller raises). */
int mn_maxpool2d_bwd_f32(const float *dy, const int64_t *idx, float *dx, const mn_pool2d_geom *g,
                         int n_threads);
int mn_maxpool2d_bwd_f64(const double *dy, const int64_t *idx, double *dx, const mn_pool2d_geom *g,
                         int n_threads);

/* y[i, j] := sum of the window taps inside the plane / divisor, where divisor is
 * divisor_override if > 0, else the window clipped to the padded plane (count_include_pad)
 * or to the plane (not), as PyTorch (dilation 1). */
void mn_avgpool2d_fwd_f32(const float *x, float *y, const mn_pool2d_geom *g, int count_include_pad,
                          int divisor_override, int n_threads);
void mn_avgpool2d_fwd_f64(const double *x, double *y, const mn_pool2d_geom *g,
                          int count_include_pad, int divisor_override, int n_threads);
/* dx[r, s] := sum over windows (i, j) covering (r, s) of dy[i, j] / divisor(i, j). */
void mn_avgpool2d_bwd_f32(const float *dy, float *dx, const mn_pool2d_geom *g,
                          int count_include_pad, int divisor_override, int n_threads);
void mn_avgpool2d_bwd_f64(const double *dy, double *dx, const mn_pool2d_geom *g,
                          int count_include_pad, int divisor_override, int n_threads);

/* Adaptive average pooling: output (i, j) averages rows [floor(i*h/oh), ceil((i+1)*h/oh))
 * and the same for columns (kh, kw, sh, sw, ph, pw, dh, dw of g are ignored). */
void mn_adaptive_avgpool2d_fwd_f32(const float *x, float *y, const mn_pool2d_geom *g,
                                   int n_threads);
void mn_adaptive_avgpool2d_fwd_f64(const double *x, double *y, const mn_pool2d_geom *g,
                                   int n_threads);
void mn_adaptive_avgpool2d_bwd_f32(const float *dy, float *dx, const mn_pool2d_geom *g,
                                   int n_threads);
void mn_adaptive_avgpool2d_bwd_f64(const double *dy, double *dx, const mn_pool2d_geom *g,
                                   int n_threads);

/* conv2d's fused relu + 2x2 stride-2 max pooling (csrc/conv.c calls these per image, on
 * planes in its own scratch, from inside its threads: they are serial). x: `planes` planes of
 * h x w, already through the relu (no NaN: the conv epilogue maps it to 0), h, w >= 2;
 * oh = h / 2, ow = w / 2 (a last odd row or column is dropped, as floor mode).
 *   y[i, j] := the window's max; code[i, j] := which tap holds its first maximum in row-major
 *   order (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right) when that max is > 0, else
 *   4: no gradient reaches the window, the relu's derivative being 0 at every tap. */
void mn_relu_maxpool2x2_fwd_f32(const float *x, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                                float *y, uint8_t *code, int isa);
void mn_relu_maxpool2x2_fwd_f64(const double *x, ptrdiff_t planes, ptrdiff_t h, ptrdiff_t w,
                                double *y, uint8_t *code, int isa);
/* Its backward: dx (planes of h x w) := dy[i, j] at the tap code[i, j] names, zeros elsewhere
 * (every element of dx is written once); sums (when not NULL): sums[p] := the sum of dx plane
 * p, in double. isa: as in mn_pool2d_geom. */
void mn_relu_maxpool2x2_bwd_f32(const float *dy, const uint8_t *code, ptrdiff_t planes,
                                ptrdiff_t h, ptrdiff_t w, float *dx, double *sums, int isa);
void mn_relu_maxpool2x2_bwd_f64(const double *dy, const uint8_t *code, ptrdiff_t planes,
                                ptrdiff_t h, ptrdiff_t w, double *dx, double *sums, int isa);

#endif
