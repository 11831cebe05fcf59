# cython: language_level=3
"""Cython wrappers for csrc/rnn.c: validate, allocate the outputs, release the GIL, call C.

    gru_forward / rnn_forward / lstm_forward:    y, h_n [, c_n] = layer(x, h0 [, c0]) over T steps
    gru_backward / rnn_backward / lstm_backward: backpropagation through time

Signatures, return values and the saved arrays are those of minnet.reference.rnn, which is the
specification (equations, gate orders, variable lengths).
"""
cimport numpy as cnp
import numpy as np
from libc.stdint cimport int64_t

from minnet._kernels._runtime cimport bind_runtime, isa_level, num_threads

cnp.import_array()
bind_runtime()

cdef extern from "rnn.h":
    int mn_rnn_gates(int cell) nogil
    int mn_rnn_saved_gates(int cell) nogil
    int mn_rnn_fwd_f32(int cell, const float *x, const float *h0, const float *c0,
                       const float *w_ih, const float *w_hh, const float *b_ih,
                       const float *b_hh, const int64_t *lengths, float *y, float *hn,
                       float *cn, float *gates, float *states, float *cells, ptrdiff_t T,
                       ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, int reverse, int isa,
                       int n_threads) nogil
    int mn_rnn_fwd_f64(int cell, const double *x, const double *h0, const double *c0,
                       const double *w_ih, const double *w_hh, const double *b_ih,
                       const double *b_hh, const int64_t *lengths, double *y, double *hn,
                       double *cn, double *gates, double *states, double *cells, ptrdiff_t T,
                       ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, int reverse, int isa,
                       int n_threads) nogil
    int mn_rnn_bwd_f32(int cell, const float *dy, const float *dhn, const float *dcn,
                       const float *x, const float *w_ih, const float *w_hh,
                       const float *gates, const float *states, const float *cells,
                       const int64_t *lengths, float *dx, float *dh0, float *dc0,
                       float *dw_ih, float *dw_hh, float *db_ih, float *db_hh, ptrdiff_t T,
                       ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, int reverse, int isa,
                       int n_threads) nogil
    int mn_rnn_bwd_f64(int cell, const double *dy, const double *dhn, const double *dcn,
                       const double *x, const double *w_ih, const double *w_hh,
                       const double *gates, const double *states, const double *cells,
                       const int64_t *lengths, double *dx, double *dh0, double *dc0,
                       double *dw_ih, double *dw_hh, double *db_ih, double *db_hh, ptrdiff_t T,
                       ptrdiff_t B, ptrdiff_t I, ptrdiff_t H, int reverse, int isa,
                       int n_threads) nogil

DEF GRU = 0
DEF RNN_TANH = 1
DEF RNN_RELU = 2
DEF LSTM = 3

NONLINEARITIES = {"tanh": RNN_TANH, "relu": RNN_RELU}
_NAMES = {GRU: "gru", RNN_TANH: "rnn", RNN_RELU: "rnn", LSTM: "lstm"}


cdef inline void *_ptr(object a):
    return NULL if a is None else cnp.PyArray_DATA(<cnp.ndarray>a)


cdef object _from_alloc(object alloc, str fn, tuple shape, object dt):
    """A buffer from the caller's ``alloc(shape, dtype)``, checked before C writes into it: a
    C-contiguous, writeable numpy.ndarray of exactly that shape and dtype (anything else would
    let the kernel write past its end or reinterpret its bytes)."""
    a = alloc(shape, dt)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn}: alloc{shape, np.dtype(dt).name} must return a numpy.ndarray, "
                        f"got {type(a).__name__}")
    if a.shape != shape or a.dtype != dt:
        raise ValueError(f"{fn}: alloc must return a {np.dtype(dt).name} array of shape "
                         f"{shape}, got {a.dtype} {a.shape}")
    if not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"{fn}: alloc must return a C-contiguous, writeable array, got "
                         f"{'a non-contiguous' if not a.flags.c_contiguous else 'a read-only'} "
                         f"one of shape {a.shape}")
    return a


cdef class _CheckedAlloc:
    cdef object alloc
    cdef str fn

    def __init__(self, alloc, fn):
        if not callable(alloc):
            raise TypeError(f"{fn}: alloc must be callable as alloc(shape, dtype), got "
                            f"{type(alloc).__name__}")
        self.alloc, self.fn = alloc, fn

    def __call__(self, shape, dt):
        return _from_alloc(self.alloc, self.fn, tuple(shape), dt)


cdef object _array(object a, str fn, str name, tuple shape, object dtype, object alloc=None):
    """a as a C-contiguous array of `dtype` and `shape` (None entries: any), else an error.
    A copy (of a strided view) comes from alloc when given."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn}: {name} must be a numpy.ndarray, got {type(a).__name__}")
    if a.dtype != dtype:
        if dtype is None:
            if a.dtype != np.float32 and a.dtype != np.float64:
                raise TypeError(f"{fn}: {name} must be float32 or float64, got {a.dtype}")
        else:
            raise TypeError(f"{fn}: {name} must have dtype {dtype} like x, got {a.dtype}")
    if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + \
            ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{fn}: {name} must have shape {want}, got {a.shape}")
    if alloc is not None and not a.flags.c_contiguous:
        c = _from_alloc(alloc, fn, a.shape, a.dtype)
        np.copyto(c, a)
        return c
    return np.ascontiguousarray(a)


cdef object _out_rows(object out, str fn, ptrdiff_t rows, ptrdiff_t B, ptrdiff_t H, object dt):
    """Check the caller's out= buffer for [y; h_n (; c_n)]."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fn}: out must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != (rows, B, H) or out.dtype != dt:
        raise ValueError(f"{fn}: out must be a {dt} array of shape {(rows, B, H)} holding y "
                         f"then the final state(s), got {out.dtype} {out.shape}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"{fn}: out must be C-contiguous and writeable")
    return out


cdef object _lengths(object lengths, str fn, ptrdiff_t T, ptrdiff_t B):
    if lengths is None:
        return None
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.shape[0] != B:
        raise ValueError(f"{fn}: lengths must have shape ({B},) for a batch of {B}, "
                         f"got {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{fn}: lengths must be integers, got {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size and (arr.min() < 0 or arr.max() > T):
        raise ValueError(f"{fn}: lengths must lie in [0, {T}] for a sequence of {T} steps, "
                         f"got min {arr.min()} max {arr.max()}")
    return arr


cdef int _cell(str kind, object nonlinearity) except -1:
    if kind == "gru":
        return GRU
    if kind == "lstm":
        return LSTM
    try:
        return NONLINEARITIES[nonlinearity]
    except (KeyError, TypeError):
        raise ValueError(f"rnn: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}") \
            from None


cdef tuple _forward(int cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, bint reverse, out,
                    alloc):
    fn = _NAMES[cell] + "_forward"
    if alloc is not None and not callable(alloc):
        raise TypeError(f"{fn}: alloc must be callable as alloc(shape, dtype), got "
                        f"{type(alloc).__name__}")
    x = _array(x, fn, "x", (None, None, None), None, alloc)
    dt = x.dtype
    cdef ptrdiff_t T = x.shape[0], B = x.shape[1], I = x.shape[2]
    if T < 1 or B < 1 or I < 1:
        raise ValueError(f"{fn}: x (T, B, I) must have T, B, I >= 1, got {x.shape}")
    if not isinstance(w_hh, np.ndarray) or w_hh.ndim != 2:
        raise ValueError(f"{fn}: w_hh must be 2-D (G*H, H), got "
                         f"{getattr(w_hh, 'shape', type(w_hh).__name__)}")
    cdef ptrdiff_t G = mn_rnn_gates(cell), H = w_hh.shape[1]
    if H < 1:
        raise ValueError(f"{fn}: hidden size must be >= 1, got w_hh of shape {w_hh.shape}")
    w_hh = _array(w_hh, fn, "w_hh", (G * H, H), dt)
    w_ih = _array(w_ih, fn, "w_ih", (G * H, I), dt)
    h0 = _array(h0, fn, "h0", (B, H), dt)
    if cell == LSTM:
        c0 = _array(c0, fn, "c0", (B, H), dt)
    if b_ih is not None:
        b_ih = _array(b_ih, fn, "b_ih", (G * H,), dt)
    if b_hh is not None:
        b_hh = _array(b_hh, fn, "b_hh", (G * H,), dt)
    lens = _lengths(lengths, fn, T, B)

    new = np.empty if alloc is None else _CheckedAlloc(alloc, fn)
    cdef ptrdiff_t K = mn_rnn_saved_gates(cell)
    if out is not None:
        out = _out_rows(out, fn, T + (2 if cell == LSTM else 1), B, H, dt)
        y, hn = out[:T], out[T]
        cn = out[T + 1] if cell == LSTM else None
    else:
        y, hn = new((T, B, H), dt), new((B, H), dt)
        cn = new((B, H), dt) if cell == LSTM else None
    states = new((T + 1, B, H), dt)
    gates = new((T, B, K * H), dt) if K else None
    cells = new((T + 1, B, H), dt) if cell == LSTM else None

    cdef int rc, nt = num_threads(), isa = isa_level(), rev = reverse
    cdef void *px = _ptr(x)
    cdef void *ph0 = _ptr(h0)
    cdef void *pc0 = _ptr(c0) if cell == LSTM else NULL
    cdef void *pwi = _ptr(w_ih)
    cdef void *pwh = _ptr(w_hh)
    cdef void *pbi = _ptr(b_ih)
    cdef void *pbh = _ptr(b_hh)
    cdef const int64_t *pl = <const int64_t *>_ptr(lens)
    cdef void *py = _ptr(y)
    cdef void *phn = _ptr(hn)
    cdef void *pcn = _ptr(cn)
    cdef void *pg = _ptr(gates)
    cdef void *ps = _ptr(states)
    cdef void *pcs = _ptr(cells)
    if dt == np.float32:
        with nogil:
            rc = mn_rnn_fwd_f32(cell, <const float *>px, <const float *>ph0, <const float *>pc0,
                                <const float *>pwi, <const float *>pwh, <const float *>pbi,
                                <const float *>pbh, pl, <float *>py, <float *>phn, <float *>pcn,
                                <float *>pg, <float *>ps, <float *>pcs, T, B, I, H, rev, isa, nt)
    else:
        with nogil:
            rc = mn_rnn_fwd_f64(cell, <const double *>px, <const double *>ph0,
                                <const double *>pc0, <const double *>pwi, <const double *>pwh,
                                <const double *>pbi, <const double *>pbh, pl, <double *>py,
                                <double *>phn, <double *>pcn, <double *>pg, <double *>ps,
                                <double *>pcs, T, B, I, H, rev, isa, nt)
    if rc != 0:
        raise MemoryError(f"{fn}: could not allocate scratch for T={T}, B={B}, H={H}")
    if cell == GRU:
        return y, hn, (gates, states)
    if cell == LSTM:
        return y, hn, cn, (gates, states, cells)
    return y, hn, (states,)


cdef tuple _backward(int cell, dy, dh_n, dc_n, x, w_ih, w_hh, tuple saved, bint has_bias,
                     lengths, bint reverse, bint need_dx, alloc):
    fn = _NAMES[cell] + "_backward"
    if alloc is not None and not callable(alloc):
        raise TypeError(f"{fn}: alloc must be callable as alloc(shape, dtype), got "
                        f"{type(alloc).__name__}")
    x = _array(x, fn, "x", (None, None, None), None)
    dt = x.dtype
    cdef ptrdiff_t T = x.shape[0], B = x.shape[1], I = x.shape[2]
    if T < 1 or B < 1 or I < 1:     # as the forward: there is no such forward to differentiate
        raise ValueError(f"{fn}: x (T, B, I) must have T, B, I >= 1, got {x.shape}")
    if not isinstance(w_hh, np.ndarray) or w_hh.ndim != 2:
        raise ValueError(f"{fn}: w_hh must be 2-D (G*H, H)")
    cdef ptrdiff_t G = mn_rnn_gates(cell), H = w_hh.shape[1], K = mn_rnn_saved_gates(cell)
    if H < 1:
        raise ValueError(f"{fn}: hidden size must be >= 1, got w_hh of shape {w_hh.shape}")
    if not isinstance(saved, tuple) or len(saved) != (3 if cell == LSTM else
                                                      2 if cell == GRU else 1):
        raise ValueError(f"{fn}: saved must be the tuple the forward returned")
    w_hh = _array(w_hh, fn, "w_hh", (G * H, H), dt)
    w_ih = _array(w_ih, fn, "w_ih", (G * H, I), dt)
    gates = states = cells = None
    if cell == GRU:
        gates, states = saved
    elif cell == LSTM:
        gates, states, cells = saved
    else:
        (states,) = saved
    states = _array(states, fn, "states", (T + 1, B, H), dt)
    if gates is not None:
        gates = _array(gates, fn, "gates", (T, B, K * H), dt)
    if cells is not None:
        cells = _array(cells, fn, "cells", (T + 1, B, H), dt)
    if dy is not None:
        dy = _array(dy, fn, "dy", (T, B, H), dt, alloc)
    if dh_n is not None:
        dh_n = _array(dh_n, fn, "dh_n", (B, H), dt, alloc)
    if dc_n is not None:
        dc_n = _array(dc_n, fn, "dc_n", (B, H), dt, alloc)
    lens = _lengths(lengths, fn, T, B)

    new = np.empty if alloc is None else _CheckedAlloc(alloc, fn)
    dx = new((T, B, I), dt) if need_dx else None
    dh0 = new((B, H), dt)
    dc0 = new((B, H), dt) if cell == LSTM else None
    dw_ih = new((G * H, I), dt)
    dw_hh = new((G * H, H), dt)
    db_ih = new((G * H,), dt) if has_bias else None
    db_hh = new((G * H,), dt) if has_bias else None

    cdef int rc, nt = num_threads(), isa = isa_level(), rev = reverse
    cdef void *pdy = _ptr(dy)
    cdef void *pdhn = _ptr(dh_n)
    cdef void *pdcn = _ptr(dc_n)
    cdef void *px = _ptr(x)
    cdef void *pwi = _ptr(w_ih)
    cdef void *pwh = _ptr(w_hh)
    cdef void *pg = _ptr(gates)
    cdef void *ps = _ptr(states)
    cdef void *pcs = _ptr(cells)
    cdef const int64_t *pl = <const int64_t *>_ptr(lens)
    cdef void *pdx = _ptr(dx)
    cdef void *pdh0 = _ptr(dh0)
    cdef void *pdc0 = _ptr(dc0)
    cdef void *pdwi = _ptr(dw_ih)
    cdef void *pdwh = _ptr(dw_hh)
    cdef void *pdbi = _ptr(db_ih)
    cdef void *pdbh = _ptr(db_hh)
    if dt == np.float32:
        with nogil:
            rc = mn_rnn_bwd_f32(cell, <const float *>pdy, <const float *>pdhn,
                                <const float *>pdcn, <const float *>px, <const float *>pwi,
                                <const float *>pwh, <const float *>pg, <const float *>ps,
                                <const float *>pcs, pl, <float *>pdx, <float *>pdh0,
                                <float *>pdc0, <float *>pdwi, <float *>pdwh, <float *>pdbi,
                                <float *>pdbh, T, B, I, H, rev, isa, nt)
    else:
        with nogil:
            rc = mn_rnn_bwd_f64(cell, <const double *>pdy, <const double *>pdhn,
                                <const double *>pdcn, <const double *>px, <const double *>pwi,
                                <const double *>pwh, <const double *>pg, <const double *>ps,
                                <const double *>pcs, pl, <double *>pdx, <double *>pdh0,
                                <double *>pdc0, <double *>pdwi, <double *>pdwh, <double *>pdbi,
                                <double *>pdbh, T, B, I, H, rev, isa, nt)
    if rc != 0:
        raise MemoryError(f"{fn}: could not allocate scratch for T={T}, B={B}, H={H}")
    if cell == LSTM:
        return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh
    return dx, dh0, dw_ih, dw_hh, db_ih, db_hh


def gru_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, lengths=None, bint reverse=False,
                out=None, alloc=None):
    """A GRU layer over x (T, B, I): returns (y (T, B, H), h_n (B, H), saved=(gates, states)).

    out: optional (T + 1, B, H) array; y and h_n are then its views out[:T] and out[T].
    alloc: optional ``alloc(shape, dtype) -> array`` the returned and saved arrays come from
    (default numpy.empty; e.g. minnet._arena.empty); every element is overwritten."""
    return _forward(GRU, x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths, reverse, out, alloc)


def gru_backward(dy, dh_n, x, w_ih, w_hh, saved, *, bint has_bias=True, lengths=None,
                 bint reverse=False, bint need_dx=True, alloc=None):
    """BPTT for gru_forward: returns (dx, dh0, dw_ih, dw_hh, db_ih, db_hh) (dx None unless
    need_dx); alloc as in gru_forward."""
    return _backward(GRU, dy, dh_n, None, x, w_ih, w_hh, tuple(saved), has_bias, lengths,
                     reverse, need_dx, alloc)


def rnn_forward(x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, nonlinearity="tanh", lengths=None,
                bint reverse=False, out=None, alloc=None):
    """An Elman RNN layer (tanh or relu): returns (y, h_n, saved=(states,)); out and alloc as
    in gru_forward."""
    return _forward(_cell("rnn", nonlinearity), x, h0, None, w_ih, w_hh, b_ih, b_hh, lengths,
                    reverse, out, alloc)


def rnn_backward(dy, dh_n, x, w_ih, w_hh, saved, *, bint has_bias=True, nonlinearity="tanh",
                 lengths=None, bint reverse=False, bint need_dx=True, alloc=None):
    """BPTT for rnn_forward: returns (dx, dh0, dw_ih, dw_hh, db_ih, db_hh)."""
    return _backward(_cell("rnn", nonlinearity), dy, dh_n, None, x, w_ih, w_hh, tuple(saved),
                     has_bias, lengths, reverse, need_dx, alloc)


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, *, lengths=None,
                 bint reverse=False, out=None, alloc=None):
    """An LSTM layer: returns (y, h_n, c_n, saved=(gates, states, cells)); out (T + 2, B, H)
    holds y, h_n, c_n; alloc as in gru_forward."""
    return _forward(LSTM, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, out, alloc)


def lstm_backward(dy, dh_n, dc_n, x, w_ih, w_hh, saved, *, bint has_bias=True, lengths=None,
                  bint reverse=False, bint need_dx=True, alloc=None):
    """BPTT for lstm_forward: returns (dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh)."""
    return _backward(LSTM, dy, dh_n, dc_n, x, w_ih, w_hh, tuple(saved), has_bias, lengths,
                     reverse, need_dx, alloc)
