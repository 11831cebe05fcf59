# cython: language_level=3
"""Cython wrappers for csrc/conv.c: validate, allocate outputs, release the GIL, call C.

    conv2d_forward:  y := act(conv2d(x, w) + b)            (NCHW, weight (C_out, C_in/g, kH, kW))
    conv2d_backward: dx, dw, db of the above for dy (act = identity, relu, or relu + pool)
    conv2d_relu_maxpool2d_forward: p := maxpool2x2(relu(conv2d(x, w) + b)) and its codes
"""
cimport numpy as cnp
import numpy as np

from minnet._kernels._checks cimport float_array, out_array
from minnet._kernels._runtime cimport bind_runtime, isa_level, num_threads
from minnet._kernels.convshape import conv2d_geometry

cnp.import_array()
bind_runtime()

cdef extern from "conv.h":
    ctypedef struct mn_conv2d_geom:
        ptrdiff_t n, c_in, h, w, c_out, kh, kw, oh, ow, sh, sw, pad_t, pad_l, dh, dw, groups
    int mn_conv2d_fwd_f32(const float *x, const float *w, const float *b, float *y,
                          const mn_conv2d_geom *g, int act, int isa, int n_threads) nogil
    int mn_conv2d_fwd_f64(const double *x, const double *w, const double *b, double *y,
                          const mn_conv2d_geom *g, int act, int isa, int n_threads) nogil
    int mn_conv2d_bwd_f32(const float *dy, const float *x, const float *w, float *dx,
                          float *dw, float *db, const float *relu_y, const unsigned char *code,
                          const mn_conv2d_geom *g, int isa, int n_threads) nogil
    int mn_conv2d_bwd_f64(const double *dy, const double *x, const double *w, double *dx,
                          double *dw, double *db, const double *relu_y,
                          const unsigned char *code, const mn_conv2d_geom *g, int isa,
                          int n_threads) nogil
    int mn_conv2d_relu_pool_fwd_f32(const float *x, const float *w, const float *b, float *p,
                                    unsigned char *code, const mn_conv2d_geom *g, int isa,
                                    int n_threads) nogil
    int mn_conv2d_relu_pool_fwd_f64(const double *x, const double *w, const double *b,
                                    double *p, unsigned char *code, const mn_conv2d_geom *g,
                                    int isa, int n_threads) nogil
    void mn_conv2d_set_algorithm(int algorithm) nogil
    int mn_conv2d_algorithm
    int mn_conv2d_block_cols
    int mn_conv2d_dx_as_conv
    int mn_conv2d_wide
    int mn_conv2d_rowtile

_ALGORITHMS = {"auto": 0, "im2col": 1, "direct": 2, "implicit": 3}


def set_algorithm(name):
    """Force the lowering of every conv2d ('im2col', 'direct' or 'implicit'; implicit covers
    the forward and dW of every shape and dX at stride 1, the rest falls back to im2col), or
    let each shape pick ('auto', the default). For tests and measurements."""
    if name not in _ALGORITHMS:
        raise ValueError(f"set_algorithm: name must be one of {sorted(_ALGORITHMS)}, got {name!r}")
    mn_conv2d_set_algorithm(_ALGORITHMS[name])


def _set_block_cols(int cols):
    """Tuning knob: output columns the im2col path puts in one GEMM (default 512)."""
    global mn_conv2d_block_cols
    mn_conv2d_block_cols = cols if cols > 0 else 1


def _set_dx_as_conv(bint on):
    """Tuning knob: stride-1 dX as a forward conv of dY (True) or W^T dY + col2im (False)."""
    global mn_conv2d_dx_as_conv
    mn_conv2d_dx_as_conv = on


def _set_wide(bint on):
    """Tuning knob: stride-1 im2col over zero-padded wide rows (True, default) or not."""
    global mn_conv2d_wide
    mn_conv2d_wide = on


def _set_rowtile(bint on):
    """Tuning knob: row tiles (lanes over channels) for stride-1 3-wide float32 convolutions
    on AVX-512 (True, default) or the wide-pixel tiles everywhere (False)."""
    global mn_conv2d_rowtile
    mn_conv2d_rowtile = on


def get_algorithm():
    return {v: k for k, v in _ALGORITHMS.items()}[mn_conv2d_algorithm]


cdef _same_dtype(cnp.ndarray a, cnp.ndarray b, str name, str op):
    if cnp.PyArray_TYPE(a) != cnp.PyArray_TYPE(b):
        raise TypeError(f"{op}: {name} has dtype {b.dtype}, expected {a.dtype}")


cdef void _fill_geom(mn_conv2d_geom *g, tuple xs, tuple ws, tuple geo, ptrdiff_t groups):
    oh, ow, (sh, sw), pads, (dh, dw) = geo
    g.n, g.c_in, g.h, g.w = xs
    g.c_out, g.kh, g.kw = ws[0], ws[2], ws[3]
    g.oh, g.ow, g.sh, g.sw = oh, ow, sh, sw
    g.pad_t, g.pad_l, g.dh, g.dw = pads[0], pads[2], dh, dw
    g.groups = groups


cdef tuple _forward_args(x, w, bias, stride, padding, dilation, groups, str op):
    """(X, W, B or None, geometry) checked for a forward."""
    cdef cnp.ndarray X = float_array(x, "input", op)
    cdef cnp.ndarray W = float_array(w, "weight", op)
    cdef cnp.ndarray B = None
    _same_dtype(X, W, "weight", op)
    xs, ws = (<object>X).shape, (<object>W).shape
    geo = conv2d_geometry(xs, ws, stride, padding, dilation, groups, op)
    if bias is not None:
        B = float_array(bias, "bias", op)
        _same_dtype(X, B, "bias", op)
        if (<object>B).shape != (ws[0],):
            raise ValueError(f"{op}: bias must have shape ({ws[0]},) for weight shape {ws}, "
                             f"got {(<object>B).shape}")
    return X, W, B, geo


cdef tuple _pooled_shape(tuple xs, tuple ws, tuple geo, str op):
    """(N, C_out, OH // 2, OW // 2): the fused node's 2x2 stride-2 pooled output."""
    if geo[0] < 2 or geo[1] < 2:
        raise ValueError(f"{op}: the 2x2 max pool needs a conv output of at least 2x2; input "
                         f"{xs} and weight {ws} give {geo[0]}x{geo[1]}")
    return (xs[0], ws[0], geo[0] // 2, geo[1] // 2)


def conv2d_relu_maxpool2d_forward(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1,
                                  out=None, code_out=None):
    """(p, code): p := max_pool2d(relu(conv2d(x, w) + bias), 2) in one kernel (the conv's
    output is pooled image by image from cache and not stored), as Conv2d -> ReLU ->
    MaxPool2d(2) (floor mode: a last odd row or column of the conv output is dropped).

    code (uint8, p's shape) is the backward's record: which tap of each 2x2 window holds its
    first maximum in row-major order (0 top-left, 1 top-right, 2 bottom-left, 3 bottom-right)
    when that maximum is > 0, else 4 (nothing flows back through the window). Pass it and
    p's gradient to conv2d_backward(pool_code=code). out/code_out: optional arrays to write.
    """
    op = "conv2d_relu_maxpool2d"
    X, W, B, geo = _forward_args(x, w, bias, stride, padding, dilation, groups, op)
    xs, ws = (<object>X).shape, (<object>W).shape
    ps = _pooled_shape(xs, ws, geo, op)
    cdef mn_conv2d_geom g
    _fill_geom(&g, xs, ws, geo, groups)
    cdef int typ = cnp.PyArray_TYPE(<cnp.ndarray>X)
    cdef cnp.ndarray Pt = out_array(out, ps, X.dtype, "out", op)
    cdef cnp.ndarray C = out_array(code_out, ps, np.uint8, "code_out", op)
    cdef void *px = cnp.PyArray_DATA(<cnp.ndarray>X)
    cdef void *pw = cnp.PyArray_DATA(<cnp.ndarray>W)
    cdef void *pb = cnp.PyArray_DATA(<cnp.ndarray>B) if B is not None else NULL
    cdef void *pp = cnp.PyArray_DATA(Pt)
    cdef unsigned char *pc = <unsigned char *>cnp.PyArray_DATA(C)
    cdef int rc, nt = num_threads(), isa = isa_level()
    if Pt.size == 0:
        return Pt, C
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            rc = mn_conv2d_relu_pool_fwd_f32(<const float *>px, <const float *>pw,
                                             <const float *>pb, <float *>pp, pc, &g, isa, nt)
        else:
            rc = mn_conv2d_relu_pool_fwd_f64(<const double *>px, <const double *>pw,
                                             <const double *>pb, <double *>pp, pc, &g, isa, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate scratch for input {xs}, weight {ws}")
    return Pt, C


def conv2d_forward(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1,
                   activation=None, out=None):
    """y := act(conv2d(x, w) + bias), cross-correlation as PyTorch's conv2d.

    Args:
        x: (N, C_in, H, W) float32/float64. w: (C_out, C_in/groups, kH, kW), same dtype.
        bias: None or (C_out,). stride, dilation: int or pair. padding: int, pair,
        (top, bottom, left, right), 'same' or 'valid'. groups: divides C_in and C_out.
        activation: None or 'relu' (applied while the output is in cache).
        out: optional C-contiguous output array to write (reused buffers: no fresh pages).

    Returns:
        y of shape (N, C_out, OH, OW).
    """
    op = "conv2d"
    X, W, B, geo = _forward_args(x, w, bias, stride, padding, dilation, groups, op)
    xs, ws = (<object>X).shape, (<object>W).shape
    cdef int act
    if activation is None or activation == "identity":
        act = 0
    elif activation == "relu":
        act = 1
    else:
        raise ValueError(f"{op}: activation must be None or 'relu', got {activation!r}")
    cdef mn_conv2d_geom g
    _fill_geom(&g, xs, ws, geo, groups)
    cdef int typ = cnp.PyArray_TYPE(X)
    cdef cnp.ndarray Y = out_array(out, (xs[0], ws[0], geo[0], geo[1]), X.dtype, "out", op)
    cdef void *px = cnp.PyArray_DATA(<cnp.ndarray>X)
    cdef void *pw = cnp.PyArray_DATA(<cnp.ndarray>W)
    cdef void *pb = cnp.PyArray_DATA(<cnp.ndarray>B) if B is not None else NULL
    cdef void *py = cnp.PyArray_DATA(Y)
    cdef int rc, nt = num_threads(), isa = isa_level()
    if Y.size == 0:
        return Y
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            rc = mn_conv2d_fwd_f32(<const float *>px, <const float *>pw, <const float *>pb,
                                   <float *>py, &g, act, isa, nt)
        else:
            rc = mn_conv2d_fwd_f64(<const double *>px, <const double *>pw,
                                   <const double *>pb, <double *>py, &g, act, isa, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate scratch for input {xs}, weight {ws}")
    return Y


def conv2d_backward(dy, x, w, stride=1, padding=0, dilation=1, groups=1, *,
                    bint input_grad=True, bint weight_grad=True, bint bias_grad=True,
                    dx_out=None, dw_out=None, relu_out=None, pool_code=None):
    """Gradients of conv2d_forward for dy: (dx, dw, db), None where not asked;
    dx_out/dw_out: optional arrays to write dx/dw into. relu_out: the forward's output when
    it ran with activation='relu' (dY is then masked where relu_out > 0 fails, inside the
    kernel, image by image); None for no activation. pool_code: the code of
    conv2d_relu_maxpool2d_forward; dy is then the pooled output's gradient, spread onto the
    coded taps image by image inside the kernel (relu_out must be None).

        dx := col2im(W^T dY),  dw := sum_n dY_n im2col(x_n)^T,  db := sum_{n,i,j} dY
    """
    op = "conv2d_backward"
    cdef cnp.ndarray X = float_array(x, "input", op)
    cdef cnp.ndarray W = float_array(w, "weight", op)
    cdef cnp.ndarray DY = float_array(dy, "grad_output", op)
    _same_dtype(X, W, "weight", op)
    _same_dtype(X, DY, "grad_output", op)
    xs, ws = (<object>X).shape, (<object>W).shape
    geo = conv2d_geometry(xs, ws, stride, padding, dilation, groups, op)
    ys = (xs[0], ws[0], geo[0], geo[1])
    cdef cnp.ndarray PC
    cdef const unsigned char *ppc = NULL
    if pool_code is not None:
        if relu_out is not None:
            raise ValueError(f"{op}: give relu_out or pool_code, not both")
        ys = _pooled_shape(xs, ws, geo, op)
        if not isinstance(pool_code, np.ndarray) or pool_code.dtype != np.uint8:
            raise TypeError(f"{op}: pool_code must be a uint8 numpy.ndarray (the forward's "
                            f"code), got {type(pool_code).__name__}")
        if pool_code.shape != ys:
            raise ValueError(f"{op}: pool_code must have the pooled shape {ys}, got "
                             f"{pool_code.shape}")
        PC = np.ascontiguousarray(pool_code)
        if PC.size and PC.max() > 4:    # the forward writes taps 0-3, or 4 for "no gradient"
            raise ValueError(f"{op}: pool_code holds {int(PC.max())} at flat index "
                             f"{int(np.argmax(PC))}: not a code the forward writes (0-4)")
        ppc = <const unsigned char *>cnp.PyArray_DATA(PC)
    if (<object>DY).shape != ys:
        raise ValueError(f"{op}: grad_output must have shape {ys}, got {(<object>DY).shape}")
    cdef mn_conv2d_geom g
    _fill_geom(&g, xs, ws, geo, groups)
    cdef int typ = cnp.PyArray_TYPE(X)
    DX = out_array(dx_out, xs, X.dtype, "dx_out", op) if input_grad else None
    DW = out_array(dw_out, ws, X.dtype, "dw_out", op) if weight_grad else None
    DB = np.empty((ws[0],), dtype=X.dtype) if bias_grad else None
    cdef void *pdy = cnp.PyArray_DATA(DY)
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *pw = cnp.PyArray_DATA(W)
    cdef void *pdx = cnp.PyArray_DATA(<cnp.ndarray>DX) if DX is not None else NULL
    cdef void *pdw = cnp.PyArray_DATA(<cnp.ndarray>DW) if DW is not None else NULL
    cdef void *pdb = cnp.PyArray_DATA(<cnp.ndarray>DB) if DB is not None else NULL
    cdef cnp.ndarray RY
    cdef void *pry = NULL
    if relu_out is not None:
        RY = float_array(relu_out, "relu_out", op)
        _same_dtype(X, RY, "relu_out", op)
        if (<object>RY).shape != ys:
            raise ValueError(f"{op}: relu_out must have the output's shape {ys}, got "
                             f"{(<object>RY).shape}")
        pry = cnp.PyArray_DATA(RY)
    cdef int rc, nt = num_threads(), isa = isa_level()
    if DX is not None and DX.size and DY.size == 0:
        DX[...] = 0
    with nogil:
        if typ == cnp.NPY_FLOAT32:
            rc = mn_conv2d_bwd_f32(<const float *>pdy, <const float *>px, <const float *>pw,
                                   <float *>pdx, <float *>pdw, <float *>pdb,
                                   <const float *>pry, ppc, &g, isa, nt)
        else:
            rc = mn_conv2d_bwd_f64(<const double *>pdy, <const double *>px,
                                   <const double *>pw, <double *>pdx, <double *>pdw,
                                   <double *>pdb, <const double *>pry, ppc, &g, isa, nt)
    if rc != 0:
        raise MemoryError(f"{op}: could not allocate scratch for input {xs}, weight {ws}")
    return DX, DW, DB
