# cython: language_level=3
"""Cython wrappers for csrc/pool.c: validate, allocate outputs, release the GIL, call C.

    max_pool2d_forward:  y, idx := max and flat argmax over each window
    max_pool2d_backward: dx[idx] += dy
    avg_pool2d_forward/backward, adaptive_avg_pool2d_forward/backward
"""
cimport numpy as cnp
import numpy as np
from libc.stdint cimport int64_t
from libc.string cimport memset

from minnet._kernels._checks cimport float_array, out_array
from minnet._kernels._runtime cimport bind_runtime, isa_level, num_threads
from minnet._kernels.convshape import adaptive_size, pool2d_geometry

cnp.import_array()
bind_runtime()

cdef extern from "pool.h":
    ctypedef struct mn_pool2d_geom:
        ptrdiff_t planes, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw
        int isa
    void mn_maxpool2d_fwd_f32(const float *x, float *y, int64_t *idx, const mn_pool2d_geom *g,
                              int n_threads) nogil
    void mn_maxpool2d_fwd_f64(const double *x, double *y, int64_t *idx,
                              const mn_pool2d_geom *g, int n_threads) nogil
    int mn_maxpool2d_bwd_f32(const float *dy, const int64_t *idx, float *dx,
                             const mn_pool2d_geom *g, int n_threads) nogil
    int mn_maxpool2d_bwd_f64(const double *dy, const int64_t *idx, double *dx,
                             const mn_pool2d_geom *g, int n_threads) nogil
    void mn_avgpool2d_fwd_f32(const float *x, float *y, const mn_pool2d_geom *g,
                              int count_include_pad, int divisor_override, int n_threads) nogil
    void mn_avgpool2d_fwd_f64(const double *x, double *y, const mn_pool2d_geom *g,
                              int count_include_pad, int divisor_override, int n_threads) nogil
    void mn_avgpool2d_bwd_f32(const float *dy, float *dx, const mn_pool2d_geom *g,
                              int count_include_pad, int divisor_override, int n_threads) nogil
    void mn_avgpool2d_bwd_f64(const double *dy, double *dx, const mn_pool2d_geom *g,
                              int count_include_pad, int divisor_override, int n_threads) nogil
    void mn_adaptive_avgpool2d_fwd_f32(const float *x, float *y, const mn_pool2d_geom *g,
                                       int n_threads) nogil
    void mn_adaptive_avgpool2d_fwd_f64(const double *x, double *y, const mn_pool2d_geom *g,
                                       int n_threads) nogil
    void mn_adaptive_avgpool2d_bwd_f32(const float *dy, float *dx, const mn_pool2d_geom *g,
                                       int n_threads) nogil
    void mn_adaptive_avgpool2d_bwd_f64(const double *dy, double *dx, const mn_pool2d_geom *g,
                                       int n_threads) nogil


cdef tuple _input_shape(object input_shape, str op):
    s = tuple(int(v) for v in input_shape)
    if len(s) != 4:
        raise ValueError(f"{op}: input_shape must be (N, C, H, W), got {input_shape!r}")
    return s


cdef void _planes(mn_pool2d_geom *g, tuple xs, ptrdiff_t oh, ptrdiff_t ow):
    """The plane sizes and the dispatch level; the window fields zeroed (see _fill)."""
    memset(g, 0, sizeof(mn_pool2d_geom))
    g.planes = xs[0] * xs[1]
    g.h, g.w, g.oh, g.ow = xs[2], xs[3], oh, ow
    g.isa = isa_level()


cdef void _fill(mn_pool2d_geom *g, tuple xs, tuple geo):
    oh, ow, (kh, kw), (sh, sw), (ph, pw), (dh, dw) = geo
    _planes(g, xs, oh, ow)
    g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw = kh, kw, sh, sw, ph, pw, dh, dw


cdef _check_dy(cnp.ndarray DY, tuple xs, int oh, int ow, str op):
    want = (xs[0], xs[1], oh, ow)
    if (<object>DY).shape != want:
        raise ValueError(f"{op}: grad_output must have shape {want} for input shape {xs}, "
                         f"got {(<object>DY).shape}")


def max_pool2d_forward(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                       out=None, indices_out=None):
    """(y, indices): the max of each window and its flat index r*W + s in its (H, W) plane;
    ties go to the first tap in row-major window order. x: (N, C, H, W). out/indices_out:
    optional arrays to write y/indices into."""
    op = "max_pool2d"
    cdef cnp.ndarray X = float_array(x, "input", op)
    xs = (<object>X).shape
    geo = pool2d_geometry(xs, kernel_size, stride, padding, dilation, ceil_mode, op)
    cdef mn_pool2d_geom g
    _fill(&g, xs, geo)
    ys = (xs[0], xs[1], geo[0], geo[1])
    cdef cnp.ndarray Y = out_array(out, ys, X.dtype, "out", op)
    cdef cnp.ndarray I = out_array(indices_out, ys, np.dtype(np.int64), "indices_out", op)
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *py = cnp.PyArray_DATA(Y)
    cdef int64_t *pi = <int64_t *>cnp.PyArray_DATA(I)
    cdef int nt = num_threads(), typ = cnp.PyArray_TYPE(X)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            mn_maxpool2d_fwd_f32(<const float *>px, <float *>py, pi, &g, nt)
        else:
            mn_maxpool2d_fwd_f64(<const double *>px, <double *>py, pi, &g, nt)
    return Y, I


def max_pool2d_backward(dy, indices, input_shape, out=None):
    """dx of shape input_shape: zeros, then dx[n, c].flat[indices[n, c, i, j]] += dy[n, c, i, j]
    (out: optional array to write dx into)."""
    op = "max_pool2d_backward"
    cdef cnp.ndarray DY = float_array(dy, "grad_output", op)
    xs = _input_shape(input_shape, op)
    if not isinstance(indices, np.ndarray) or indices.dtype != np.int64:
        raise TypeError(f"{op}: indices must be an int64 numpy.ndarray")
    cdef cnp.ndarray I = np.ascontiguousarray(indices)
    if (<object>I).shape != (<object>DY).shape or DY.ndim != 4 or \
            DY.shape[0] != xs[0] or DY.shape[1] != xs[1]:
        raise ValueError(f"{op}: grad_output {(<object>DY).shape} and indices "
                         f"{(<object>I).shape} must both be (N, C, OH, OW) for input shape {xs}")
    cdef mn_pool2d_geom g
    _planes(&g, xs, DY.shape[2], DY.shape[3])
    cdef cnp.ndarray DX = out_array(out, xs, DY.dtype, "out", op)
    cdef void *pdy = cnp.PyArray_DATA(DY)
    cdef void *pdx = cnp.PyArray_DATA(DX)
    cdef const int64_t *pi = <const int64_t *>cnp.PyArray_DATA(I)
    cdef int nt = num_threads(), typ = cnp.PyArray_TYPE(DY), rc
    # the kernel checks the indices as it goes (a separate min/max pass cost as much as it)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            rc = mn_maxpool2d_bwd_f32(<const float *>pdy, pi, <float *>pdx, &g, nt)
        else:
            rc = mn_maxpool2d_bwd_f64(<const double *>pdy, pi, <double *>pdx, &g, nt)
    if rc != 0:
        raise ValueError(f"{op}: indices must lie in [0, H*W) = [0, {xs[2] * xs[3]}) or be -1")
    return DX


def _divisor(divisor_override, op):
    if divisor_override is None:
        return 0
    if int(divisor_override) != divisor_override or divisor_override <= 0:
        raise ValueError(f"{op}: divisor_override must be a positive int, got "
                         f"{divisor_override!r}")
    return int(divisor_override)


def avg_pool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False,
                       count_include_pad=True, divisor_override=None):
    """Window means of x (N, C, H, W), divisors as PyTorch's avg_pool2d."""
    op = "avg_pool2d"
    cdef cnp.ndarray X = float_array(x, "input", op)
    xs = (<object>X).shape
    geo = pool2d_geometry(xs, kernel_size, stride, padding, 1, ceil_mode, op)
    cdef int dv = _divisor(divisor_override, op), inc = bool(count_include_pad)
    cdef mn_pool2d_geom g
    _fill(&g, xs, geo)
    cdef cnp.ndarray Y = np.empty((xs[0], xs[1], geo[0], geo[1]), dtype=X.dtype)
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *py = cnp.PyArray_DATA(Y)
    cdef int nt = num_threads(), typ = cnp.PyArray_TYPE(X)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            mn_avgpool2d_fwd_f32(<const float *>px, <float *>py, &g, inc, dv, nt)
        else:
            mn_avgpool2d_fwd_f64(<const double *>px, <double *>py, &g, inc, dv, nt)
    return Y


def avg_pool2d_backward(dy, input_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """dx of avg_pool2d_forward for dy: each dy spread evenly (1/divisor) over its window."""
    op = "avg_pool2d_backward"
    cdef cnp.ndarray DY = float_array(dy, "grad_output", op)
    xs = _input_shape(input_shape, op)
    geo = pool2d_geometry(xs, kernel_size, stride, padding, 1, ceil_mode, op)
    _check_dy(DY, xs, geo[0], geo[1], op)
    cdef int dv = _divisor(divisor_override, op), inc = bool(count_include_pad)
    cdef mn_pool2d_geom g
    _fill(&g, xs, geo)
    cdef cnp.ndarray DX = np.empty(xs, dtype=DY.dtype)
    cdef void *pdy = cnp.PyArray_DATA(DY)
    cdef void *pdx = cnp.PyArray_DATA(DX)
    cdef int nt = num_threads(), typ = cnp.PyArray_TYPE(DY)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            mn_avgpool2d_bwd_f32(<const float *>pdy, <float *>pdx, &g, inc, dv, nt)
        else:
            mn_avgpool2d_bwd_f64(<const double *>pdy, <double *>pdx, &g, inc, dv, nt)
    return DX


def adaptive_avg_pool2d_forward(x, output_size):
    """Adaptive average pooling of x (N, C, H, W) to output_size (int or pair; None keeps)."""
    op = "adaptive_avg_pool2d"
    cdef cnp.ndarray X = float_array(x, "input", op)
    xs = (<object>X).shape
    oh, ow = adaptive_size(xs, output_size, op)
    cdef mn_pool2d_geom g
    _planes(&g, xs, oh, ow)
    cdef cnp.ndarray Y = np.empty((xs[0], xs[1], oh, ow), dtype=X.dtype)
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *py = cnp.PyArray_DATA(Y)
    cdef int nt = num_threads(), typ = cnp.PyArray_TYPE(X)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            mn_adaptive_avgpool2d_fwd_f32(<const float *>px, <float *>py, &g, nt)
        else:
            mn_adaptive_avgpool2d_fwd_f64(<const double *>px, <double *>py, &g, nt)
    return Y


def adaptive_avg_pool2d_backward(dy, input_shape):
    """dx of adaptive_avg_pool2d_forward for dy of shape (N, C, OH, OW)."""
    op = "adaptive_avg_pool2d_backward"
    cdef cnp.ndarray DY = float_array(dy, "grad_output", op)
    xs = _input_shape(input_shape, op)
    if DY.ndim != 4 or DY.shape[0] != xs[0] or DY.shape[1] != xs[1]:
        raise ValueError(f"{op}: grad_output must be (N, C, OH, OW) for input shape {xs}, got "
                         f"{(<object>DY).shape}")
    oh, ow = adaptive_size(xs, (DY.shape[2], DY.shape[3]), op)
    cdef mn_pool2d_geom g
    _planes(&g, xs, oh, ow)
    cdef cnp.ndarray DX = np.empty(xs, dtype=DY.dtype)
    cdef void *pdy = cnp.PyArray_DATA(DY)
    cdef void *pdx = cnp.PyArray_DATA(DX)
    cdef int nt = num_threads(), typ = cnp.PyArray_TYPE(DY)
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            mn_adaptive_avgpool2d_bwd_f32(<const float *>pdy, <float *>pdx, &g, nt)
        else:
            mn_adaptive_avgpool2d_bwd_f64(<const double *>pdy, <double *>pdx, &g, nt)
    return DX
