# cython: language_level=3
"""Cython wrappers for csrc/norm.c: validate, allocate outputs, release the GIL, call C.

    batch_norm_forward:  y := (x - mean) / sqrt(var + eps) * weight + bias, per channel (dim 1)
    batch_norm_backward: dx, dweight, dbias of it
"""
cimport numpy as cnp
import numpy as np

from minnet._kernels._checks cimport float_array
from minnet._kernels._runtime cimport bind_runtime, isa_level, num_threads

cnp.import_array()
bind_runtime()

cdef extern from "norm.h":
    void mn_bn_stats_f32(const float *x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, double *mean,
                         double *var, int isa, int n_threads) nogil
    void mn_bn_stats_f64(const double *x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, double *mean,
                         double *var, int isa, int n_threads) nogil
    void mn_bn_apply_f32(const float *x, const double *mean, const double *var, double eps,
                         const float *w, const float *b, float *y, ptrdiff_t n, ptrdiff_t c,
                         ptrdiff_t s, int isa, int n_threads) nogil
    void mn_bn_apply_f64(const double *x, const double *mean, const double *var, double eps,
                         const double *w, const double *b, double *y, ptrdiff_t n,
                         ptrdiff_t c, ptrdiff_t s, int isa, int n_threads) nogil
    void mn_bn_bwd_f32(const float *dy, const float *x, const double *mean, const double *var,
                       double eps, const float *w, int training, float *dx, float *dw,
                       float *db, ptrdiff_t n, ptrdiff_t c, ptrdiff_t s, int isa,
                       int n_threads) nogil
    void mn_bn_bwd_f64(const double *dy, const double *x, const double *mean,
                       const double *var, double eps, const double *w, int training,
                       double *dx, double *dw, double *db, ptrdiff_t n, ptrdiff_t c,
                       ptrdiff_t s, int isa, int n_threads) nogil


cdef tuple _ncs(cnp.ndarray x, str op):
    shape = (<object>x).shape
    if len(shape) < 2:
        raise ValueError(f"{op}: input must be (N, C) or (N, C, *), got shape {shape}")
    s = 1
    for v in shape[2:]:
        s *= v
    return shape[0], shape[1], s


cdef cnp.ndarray _channel_param(object a, str name, cnp.ndarray x, Py_ssize_t c, str op):
    """weight/bias: None, or (C,) of x's dtype."""
    if a is None:
        return None
    cdef cnp.ndarray arr = float_array(a, name, op)
    if cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(x):
        raise TypeError(f"{op}: {name} has dtype {arr.dtype}, expected {x.dtype}")
    if (<object>arr).shape != (c,):
        raise ValueError(f"{op}: {name} must have shape ({c},) for input of shape "
                         f"{(<object>x).shape}, got {(<object>arr).shape}")
    return arr


cdef cnp.ndarray _stat(object a, str name, Py_ssize_t c, str op, bint variance=False):
    """mean/var: (C,), any real dtype, used as float64; a variance must not be negative (a
    NaN passes through, as it does in PyTorch: it is the caller's diverged statistic)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a numpy.ndarray, got {type(a).__name__}")
    if (<object>a).shape != (c,):
        raise ValueError(f"{op}: {name} must have shape ({c},), got {(<object>a).shape}")
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{op}: {name} must be real-valued, got {a.dtype}")
    arr = np.ascontiguousarray(a, dtype=np.float64)
    if variance and c and (arr < 0).any():
        raise ValueError(f"{op}: {name} must be >= 0, got min {arr.min()!r} (channel "
                         f"{int(np.argmin(arr))})")
    return arr


cdef _check_eps(double eps, str op):
    if not eps >= 0:            # NaN too
        raise ValueError(f"{op}: eps must be >= 0, got {eps!r}")


cdef void *_ptr(cnp.ndarray a):
    return cnp.PyArray_DATA(a) if a is not None else NULL


def batch_norm_forward(x, weight=None, bias=None, running_mean=None, running_var=None,
                       bint training=True, double eps=1e-5, out=None):
    """(y, mean, var): per channel (dim 1) of x ``(N, C, *)``, ``y := (x - mean) / sqrt(var + eps)
    * weight + bias``. training: mean and biased var of the batch (float64, (C,)); otherwise
    running_mean and running_var (required) as float64. The running statistics are not
    updated here (the caller does, with its momentum)."""
    op = "batch_norm_forward"
    _check_eps(eps, op)
    cdef cnp.ndarray X = float_array(x, "input", op)
    n, c, s = _ncs(X, op)
    cdef cnp.ndarray W = _channel_param(weight, "weight", X, c, op)
    cdef cnp.ndarray B = _channel_param(bias, "bias", X, c, op)
    cdef cnp.ndarray M, V
    if training:
        if n * s < 2:
            raise ValueError(f"{op}: expected more than 1 value per channel when training, "
                             f"got input of shape {(<object>X).shape}")
        M = np.empty(c, np.float64)
        V = np.empty(c, np.float64)
    else:
        if running_mean is None or running_var is None:
            raise ValueError(f"{op}: running_mean and running_var are needed when not "
                             f"training")
        M = _stat(running_mean, "running_mean", c, op)
        V = _stat(running_var, "running_var", c, op, True)
    cdef cnp.ndarray Y
    if out is None:
        Y = np.empty_like(X)
    else:
        Y = <cnp.ndarray?>out
        if (<object>Y).shape != (<object>X).shape or Y.dtype != X.dtype or \
                not cnp.PyArray_IS_C_CONTIGUOUS(Y):
            raise ValueError(f"{op}: out must be a C-contiguous {X.dtype} array of shape "
                             f"{(<object>X).shape}, got {Y.dtype} {(<object>Y).shape}")
    cdef ptrdiff_t pn = n, pc = c, ps = s
    cdef int nt = num_threads(), isa = isa_level(), f32 = cnp.PyArray_TYPE(X) == cnp.NPY_FLOAT32
    cdef bint tr = training
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *py = cnp.PyArray_DATA(Y)
    cdef void *pw = _ptr(W)
    cdef void *pb = _ptr(B)
    cdef double *pm = <double *>cnp.PyArray_DATA(M)
    cdef double *pv = <double *>cnp.PyArray_DATA(V)
    with nogil:
        if f32:
            if tr:
                mn_bn_stats_f32(<const float *>px, pn, pc, ps, pm, pv, isa, nt)
            mn_bn_apply_f32(<const float *>px, pm, pv, eps, <const float *>pw,
                            <const float *>pb, <float *>py, pn, pc, ps, isa, nt)
        else:
            if tr:
                mn_bn_stats_f64(<const double *>px, pn, pc, ps, pm, pv, isa, nt)
            mn_bn_apply_f64(<const double *>px, pm, pv, eps, <const double *>pw,
                            <const double *>pb, <double *>py, pn, pc, ps, isa, nt)
    return Y, M, V


def batch_norm_backward(dy, x, mean, var, weight=None, double eps=1e-5, bint training=True, *,
                        bint input_grad=True, bint weight_grad=True, bint bias_grad=True,
                        dx_out=None):
    """(dx, dweight, dbias) of batch_norm_forward for dy, None where not asked, with the
    forward's mean and var (float64 (C,)). training: they were the batch's, so dx has the
    terms through them; otherwise dx = dy * weight / sqrt(var + eps)."""
    op = "batch_norm_backward"
    _check_eps(eps, op)
    cdef cnp.ndarray X = float_array(x, "input", op)
    cdef cnp.ndarray DY = float_array(dy, "grad_output", op)
    if DY.dtype != X.dtype:
        raise TypeError(f"{op}: grad_output has dtype {DY.dtype}, expected {X.dtype}")
    if (<object>DY).shape != (<object>X).shape:
        raise ValueError(f"{op}: grad_output must have the input's shape {(<object>X).shape}, "
                         f"got {(<object>DY).shape}")
    n, c, s = _ncs(X, op)
    cdef cnp.ndarray W = _channel_param(weight, "weight", X, c, op)
    cdef cnp.ndarray M = _stat(mean, "mean", c, op)
    cdef cnp.ndarray V = _stat(var, "var", c, op, True)
    cdef cnp.ndarray DX = None, DW = None, DB = None
    if input_grad:
        if dx_out is None:
            DX = np.empty_like(X)
        else:
            DX = <cnp.ndarray?>dx_out
            if (<object>DX).shape != (<object>X).shape or DX.dtype != X.dtype or \
                    not cnp.PyArray_IS_C_CONTIGUOUS(DX):
                raise ValueError(f"{op}: dx_out must be a C-contiguous {X.dtype} array of "
                                 f"shape {(<object>X).shape}")
    if weight_grad:
        DW = np.empty(c, X.dtype)
    if bias_grad:
        DB = np.empty(c, X.dtype)
    cdef ptrdiff_t pn = n, pc = c, ps = s
    cdef int nt = num_threads(), isa = isa_level(), f32 = cnp.PyArray_TYPE(X) == cnp.NPY_FLOAT32
    cdef bint tr = training
    cdef void *pdy = cnp.PyArray_DATA(DY)
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *pw = _ptr(W)
    cdef void *pdx = _ptr(DX)
    cdef void *pdw = _ptr(DW)
    cdef void *pdb = _ptr(DB)
    cdef double *pm = <double *>cnp.PyArray_DATA(M)
    cdef double *pv = <double *>cnp.PyArray_DATA(V)
    with nogil:
        if f32:
            mn_bn_bwd_f32(<const float *>pdy, <const float *>px, pm, pv, eps,
                          <const float *>pw, tr, <float *>pdx, <float *>pdw, <float *>pdb,
                          pn, pc, ps, isa, nt)
        else:
            mn_bn_bwd_f64(<const double *>pdy, <const double *>px, pm, pv, eps,
                          <const double *>pw, tr, <double *>pdx, <double *>pdw,
                          <double *>pdb, pn, pc, ps, isa, nt)
    return DX, DW, DB
