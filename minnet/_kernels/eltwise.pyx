# cython: language_level=3
"""Cython wrappers for csrc/eltwise.c: validate, allocate outputs, release the GIL, call C.

    act_forward:             y := act(x)                      relu, leaky_relu, elu, gelu,
    act_backward:            dx := dy * act'(.)               gelu_tanh, silu, sigmoid, tanh
    softmax:                 y := softmax(x) or log_softmax(x) over the last axis
    softmax_backward:        dx := y (dy - <dy, y>)  or  dy - exp(y) sum(dy)
    cross_entropy_forward:   PyTorch's F.cross_entropy with class indices, and log-sum-exp
    cross_entropy_backward:  d loss / d logits
    bce_with_logits_forward / _backward: PyTorch's F.binary_cross_entropy_with_logits

What each backward takes (ACT_BACKWARD_INPUT): act_backward takes the forward OUTPUT y for
'sigmoid' and 'tanh' (their derivatives are y (1 - y) and 1 - y^2) and the forward INPUT x for
every other activation. softmax_backward takes the output y (log-probabilities when log=True).
cross_entropy_backward takes the logits and the `lse` that cross_entropy_forward returned.

Arrays may have any shape (activations) or any shape with the classes on the last axis
(softmax); float32 or float64. Non-contiguous inputs are copied; out= must be C-contiguous,
of the right shape and dtype, and may be the input itself (in-place).
"""
cimport numpy as cnp
import numpy as np
from libc.stdint cimport int64_t

from minnet._kernels._checks cimport float_array, overlaps
from minnet._kernels._runtime cimport bind_runtime, isa_level, num_threads

cnp.import_array()
bind_runtime()

cdef extern from "eltwise.h":
    void mn_act_fwd_f32(const float *x, float *y, ptrdiff_t n, int act, float alpha, int isa,
                        int n_threads) nogil
    void mn_act_fwd_f64(const double *x, double *y, ptrdiff_t n, int act, double alpha, int isa,
                        int n_threads) nogil
    void mn_act_bwd_f32(const float *dy, const float *s, float *dx, ptrdiff_t n, int act,
                        float alpha, int isa, int n_threads) nogil
    void mn_act_bwd_f64(const double *dy, const double *s, double *dx, ptrdiff_t n, int act,
                        double alpha, int isa, int n_threads) nogil
    void mn_softmax_fwd_f32(const float *x, float *y, ptrdiff_t rows, ptrdiff_t c, int log,
                            int isa, int n_threads) nogil
    void mn_softmax_fwd_f64(const double *x, double *y, ptrdiff_t rows, ptrdiff_t c, int log,
                            int isa, int n_threads) nogil
    void mn_softmax_bwd_f32(const float *dy, const float *y, float *dx, ptrdiff_t rows,
                            ptrdiff_t c, int log, int isa, int n_threads) nogil
    void mn_softmax_bwd_f64(const double *dy, const double *y, double *dx, ptrdiff_t rows,
                            ptrdiff_t c, int log, int isa, int n_threads) nogil
    void mn_xent_fwd_f32(const float *x, const int64_t *t, const float *w, float *loss,
                         double *lse, double *total, double *wsum, ptrdiff_t n, ptrdiff_t c,
                         int64_t ignore_index, double ls, int isa, int n_threads) nogil
    void mn_xent_fwd_f64(const double *x, const int64_t *t, const double *w, double *loss,
                         double *lse, double *total, double *wsum, ptrdiff_t n, ptrdiff_t c,
                         int64_t ignore_index, double ls, int isa, int n_threads) nogil
    void mn_xent_bwd_f32(const float *g, ptrdiff_t g_stride, double g_scale, const float *x,
                         const int64_t *t, const float *w, const double *lse, float *dx,
                         ptrdiff_t n, ptrdiff_t c, int64_t ignore_index, double ls, int isa,
                         int n_threads) nogil
    void mn_xent_bwd_f64(const double *g, ptrdiff_t g_stride, double g_scale, const double *x,
                         const int64_t *t, const double *w, const double *lse, double *dx,
                         ptrdiff_t n, ptrdiff_t c, int64_t ignore_index, double ls, int isa,
                         int n_threads) nogil
    void mn_bce_fwd_f32(const float *x, const float *t, const float *w, const float *pw,
                        float *loss, double *total, ptrdiff_t rows, ptrdiff_t c, int isa,
                        int n_threads) nogil
    void mn_bce_fwd_f64(const double *x, const double *t, const double *w, const double *pw,
                        double *loss, double *total, ptrdiff_t rows, ptrdiff_t c, int isa,
                        int n_threads) nogil
    void mn_bce_bwd_f32(const float *g, ptrdiff_t g_stride, double g_scale, const float *x,
                        const float *t, const float *w, const float *pw, float *dx,
                        ptrdiff_t rows, ptrdiff_t c, int isa, int n_threads) nogil
    void mn_bce_bwd_f64(const double *g, ptrdiff_t g_stride, double g_scale, const double *x,
                        const double *t, const double *w, const double *pw, double *dx,
                        ptrdiff_t rows, ptrdiff_t c, int isa, int n_threads) nogil

cdef extern from "eltwise.h":
    enum:
        MN_ACT_IDENTITY, MN_ACT_RELU, MN_ACT_SIGMOID, MN_ACT_TANH, MN_ACT_LEAKY_RELU,
        MN_ACT_ELU, MN_ACT_GELU, MN_ACT_GELU_TANH, MN_ACT_SILU, MN_ACT_COUNT

# Codes of enum mn_act / mn_act_ext in csrc (the values come from the C headers).
ACTIVATIONS = {"identity": MN_ACT_IDENTITY, "relu": MN_ACT_RELU, "sigmoid": MN_ACT_SIGMOID,
               "tanh": MN_ACT_TANH, "leaky_relu": MN_ACT_LEAKY_RELU, "elu": MN_ACT_ELU,
               "gelu": MN_ACT_GELU, "gelu_tanh": MN_ACT_GELU_TANH, "silu": MN_ACT_SILU}
assert len(ACTIVATIONS) == MN_ACT_COUNT, "eltwise.h has an activation this table lacks"
# alpha=None means: negative_slope 0.01 for leaky_relu, alpha 1.0 for elu (PyTorch's defaults).
DEFAULT_ALPHA = {"leaky_relu": 0.01, "elu": 1.0}
# Which forward array act_backward takes as its second argument.
ACT_BACKWARD_INPUT = {"identity": "x", "relu": "x", "leaky_relu": "x", "elu": "x", "gelu": "x",
                      "gelu_tanh": "x", "silu": "x", "sigmoid": "y", "tanh": "y"}
REDUCTIONS = ("mean", "sum", "none")


cdef inline tuple _shape(cnp.ndarray x):
    return (<object>x).shape


cdef cnp.ndarray _like(cnp.ndarray ref, object x, str fn, str name, str ref_name):
    """x validated to have ref's shape and dtype, C-contiguous."""
    cdef cnp.ndarray arr = float_array(x, name, fn)
    if _shape(arr) != _shape(ref):
        raise ValueError(f"{fn}: {name} must have the shape of {ref_name} {_shape(ref)}, "
                         f"got {_shape(arr)}")
    if cnp.PyArray_TYPE(arr) != cnp.PyArray_TYPE(ref):
        raise TypeError(f"{fn}: {name} must have the dtype of {ref_name} ({ref.dtype}), "
                        f"got {arr.dtype}")
    return arr


cdef cnp.ndarray _output(object out, cnp.ndarray ref, str fn):
    """out validated (shape and dtype of ref, C-contiguous, writeable), or a new array."""
    if out is None:
        return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(ref), cnp.PyArray_DIMS(ref),
                                 cnp.PyArray_TYPE(ref), 0)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{fn}: out must be a numpy.ndarray, got {type(out).__name__}")
    cdef cnp.ndarray o = <cnp.ndarray>out
    if _shape(o) != _shape(ref):
        raise ValueError(f"{fn}: out must have shape {_shape(ref)}, got {_shape(o)}")
    if cnp.PyArray_TYPE(o) != cnp.PyArray_TYPE(ref):
        raise TypeError(f"{fn}: out must have dtype {ref.dtype}, got {o.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(o):
        raise ValueError(f"{fn}: out must be C-contiguous, got strides {(<object>o).strides}")
    if not cnp.PyArray_ISWRITEABLE(o):
        raise ValueError(f"{fn}: out is read-only")
    return o


cdef cnp.ndarray _unalias(cnp.ndarray x, cnp.ndarray out):
    """x itself when it is out exactly (elementwise in-place is safe) or disjoint from it,
    else a copy: a partial overlap would read values the kernel already wrote."""
    if cnp.PyArray_DATA(x) == cnp.PyArray_DATA(out) and cnp.PyArray_NBYTES(x) == \
            cnp.PyArray_NBYTES(out):
        return x
    if overlaps(x, out):
        return x.copy()
    return x


cdef int _act_code(object kind) except -1:
    try:
        return ACTIVATIONS[kind]
    except (KeyError, TypeError):
        raise ValueError(f"activation: kind must be one of {sorted(ACTIVATIONS)}, "
                         f"got {kind!r}") from None


cdef double _alpha(object kind, object alpha):
    if alpha is None:
        return DEFAULT_ALPHA.get(kind, 0.0)
    return float(alpha)


def act_forward(x, kind, *, alpha=None, out=None):
    """y := act(x) elementwise.

    Args:
        x: float32/float64 array of any shape.
        kind: 'relu', 'leaky_relu', 'elu', 'gelu' (exact, x * Phi(x)), 'gelu_tanh' (the tanh
            approximation), 'silu' (x * sigmoid(x)), 'sigmoid', 'tanh' or 'identity'.
        alpha: negative_slope for leaky_relu (default 0.01), alpha for elu (default 1.0);
            ignored by the others.
        out: optional array to write into (may be x).
    """
    cdef int act = _act_code(kind)
    cdef double a = _alpha(kind, alpha)
    cdef cnp.ndarray X = float_array(x, "x", "act_forward")
    cdef cnp.ndarray Y = _output(out, X, "act_forward")
    X = _unalias(X, Y)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(X)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *py = cnp.PyArray_DATA(Y)
    if cnp.PyArray_TYPE(X) == cnp.NPY_FLOAT32:
        with nogil:
            mn_act_fwd_f32(<const float *>px, <float *>py, n, act, <float>a, isa, nt)
    else:
        with nogil:
            mn_act_fwd_f64(<const double *>px, <double *>py, n, act, a, isa, nt)
    return Y


def act_backward(grad_out, saved, kind, *, alpha=None, out=None):
    """dx := grad_out * act'(.) elementwise.

    Args:
        grad_out: gradient with respect to the activation's output.
        saved: the forward output y for 'sigmoid' and 'tanh', the forward input x for the
            others (see ACT_BACKWARD_INPUT). Same shape and dtype as grad_out.
        kind, alpha: as for act_forward.
        out: optional array to write into (may be grad_out).
    """
    cdef int act = _act_code(kind)
    cdef double a = _alpha(kind, alpha)
    cdef cnp.ndarray G = float_array(grad_out, "grad_out", "act_backward")
    cdef cnp.ndarray S = _like(G, saved, "act_backward", "saved", "grad_out")
    cdef cnp.ndarray D = _output(out, G, "act_backward")
    G = _unalias(G, D)
    S = _unalias(S, D)
    cdef ptrdiff_t n = cnp.PyArray_SIZE(G)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pg = cnp.PyArray_DATA(G)
    cdef void *ps = cnp.PyArray_DATA(S)
    cdef void *pd = cnp.PyArray_DATA(D)
    if cnp.PyArray_TYPE(G) == cnp.NPY_FLOAT32:
        with nogil:
            mn_act_bwd_f32(<const float *>pg, <const float *>ps, <float *>pd, n, act, <float>a,
                           isa, nt)
    else:
        with nogil:
            mn_act_bwd_f64(<const double *>pg, <const double *>ps, <double *>pd, n, act, a,
                           isa, nt)
    return D


cdef void _rows_cols(cnp.ndarray x, str fn, str name, ptrdiff_t *rows, ptrdiff_t *c) except *:
    if cnp.PyArray_NDIM(x) < 1:
        raise ValueError(f"{fn}: {name} must have at least 1 dimension (classes last), "
                         f"got shape {_shape(x)}")
    c[0] = cnp.PyArray_DIM(x, cnp.PyArray_NDIM(x) - 1)
    rows[0] = cnp.PyArray_SIZE(x) // c[0] if c[0] > 0 else 0


def softmax(x, *, bint log=False, out=None):
    """y := softmax(x) (log=False) or log_softmax(x) (log=True) over the last axis.

    Stable for any finite logits (the row max is subtracted first).
    """
    cdef cnp.ndarray X = float_array(x, "x", "softmax")
    cdef ptrdiff_t rows = 0, c = 0
    _rows_cols(X, "softmax", "x", &rows, &c)
    cdef cnp.ndarray Y = _output(out, X, "softmax")
    X = _unalias(X, Y)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *py = cnp.PyArray_DATA(Y)
    if cnp.PyArray_TYPE(X) == cnp.NPY_FLOAT32:
        with nogil:
            mn_softmax_fwd_f32(<const float *>px, <float *>py, rows, c, log, isa, nt)
    else:
        with nogil:
            mn_softmax_fwd_f64(<const double *>px, <double *>py, rows, c, log, isa, nt)
    return Y


def softmax_backward(grad_out, y, *, bint log=False, out=None):
    """dx := y * (dy - sum(dy * y)) (log=False) or dy - exp(y) * sum(dy) (log=True), per row
    of the last axis; y is softmax's output (log-probabilities when log=True)."""
    cdef cnp.ndarray G = float_array(grad_out, "grad_out", "softmax_backward")
    cdef cnp.ndarray Y = _like(G, y, "softmax_backward", "y", "grad_out")
    cdef ptrdiff_t rows = 0, c = 0
    _rows_cols(G, "softmax_backward", "grad_out", &rows, &c)
    cdef cnp.ndarray D = _output(out, G, "softmax_backward")
    G = _unalias(G, D)
    Y = _unalias(Y, D)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pg = cnp.PyArray_DATA(G)
    cdef void *py = cnp.PyArray_DATA(Y)
    cdef void *pd = cnp.PyArray_DATA(D)
    if cnp.PyArray_TYPE(G) == cnp.NPY_FLOAT32:
        with nogil:
            mn_softmax_bwd_f32(<const float *>pg, <const float *>py, <float *>pd, rows, c, log,
                               isa, nt)
    else:
        with nogil:
            mn_softmax_bwd_f64(<const double *>pg, <const double *>py, <double *>pd, rows, c,
                               log, isa, nt)
    return D


cdef str _reduction(object reduction, str fn):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{fn}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


cdef tuple _xent_inputs(object logits, object target, object weight, long long ignore_index,
                        double label_smoothing, str fn):
    """Validated (logits (N, C), target int64 (N,), weight (C,) or None)."""
    cdef cnp.ndarray X = float_array(logits, "logits", fn)
    if cnp.PyArray_NDIM(X) != 2:
        raise ValueError(f"{fn}: logits must be 2-D (N, C), got shape {_shape(X)}")
    cdef ptrdiff_t n = cnp.PyArray_DIM(X, 0), c = cnp.PyArray_DIM(X, 1)
    if not isinstance(target, np.ndarray):
        raise TypeError(f"{fn}: target must be a numpy.ndarray, got {type(target).__name__}")
    if target.dtype.kind not in "iu":
        raise TypeError(f"{fn}: target must hold integer class indices, got {target.dtype}")
    if target.shape != (n,):
        raise ValueError(f"{fn}: target must have shape ({n},) to match logits of shape "
                         f"{_shape(X)}, got {target.shape}")
    cdef cnp.ndarray T = np.ascontiguousarray(target, dtype=np.int64)
    cdef cnp.ndarray W = None
    if weight is not None:
        W = float_array(weight, "weight", fn)
        if _shape(W) != (c,):
            raise ValueError(f"{fn}: weight must have shape ({c},) to match logits of shape "
                             f"{_shape(X)}, got {_shape(W)}")
        if cnp.PyArray_TYPE(W) != cnp.PyArray_TYPE(X):
            raise TypeError(f"{fn}: weight must have dtype {X.dtype}, got {W.dtype}")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be in [0, 1], got {label_smoothing}")
    # The kernel indexes rows by target: check every one before releasing the GIL (a typed
    # loop: NumPy's masks cost ~3 us per call, more than a 128 x 10 kernel).
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(T)
    cdef ptrdiff_t i
    cdef int64_t v
    for i in range(n):
        v = pt[i]
        if (v < 0 or v >= c) and v != ignore_index:
            raise ValueError(f"cross_entropy: target {v} out of range [0, {c})")
    return X, T, W


cdef double _target_weight_sum(cnp.ndarray T, cnp.ndarray W, long long ignore_index):
    """sum of weight[t] over targets t != ignore_index (their count without weights): the
    denominator of reduction='mean'. Targets are already validated."""
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(T)
    cdef ptrdiff_t i, n = cnp.PyArray_DIM(T, 0)
    cdef double s = 0.0
    cdef const float *w32 = NULL
    cdef const double *w64 = NULL
    if W is not None:
        if cnp.PyArray_TYPE(W) == cnp.NPY_FLOAT32:
            w32 = <const float *>cnp.PyArray_DATA(W)
        else:
            w64 = <const double *>cnp.PyArray_DATA(W)
    for i in range(n):
        if pt[i] != ignore_index:
            s += 1.0 if W is None else (w32[pt[i]] if w32 != NULL else w64[pt[i]])
    return s


cdef cnp.ndarray _scalar_grad(object grad_loss, cnp.ndarray X, str red, str fn):
    """A 1-element array of X's dtype holding a scalar incoming gradient."""
    cdef double g
    if isinstance(grad_loss, np.ndarray):
        if grad_loss.size != 1:
            raise ValueError(f"{fn}: grad_loss must be a scalar for reduction={red!r}, got "
                             f"shape {grad_loss.shape}")
        g = grad_loss.item()
    else:
        g = float(grad_loss)
    cdef cnp.ndarray G = cnp.PyArray_EMPTY(1, [1], cnp.PyArray_TYPE(X), 0)
    if cnp.PyArray_TYPE(X) == cnp.NPY_FLOAT32:
        (<float *>cnp.PyArray_DATA(G))[0] = <float>g
    else:
        (<double *>cnp.PyArray_DATA(G))[0] = g
    return G


def cross_entropy_forward(logits, target, *, weight=None, long long ignore_index=-100,
                          double label_smoothing=0.0, reduction="mean"):
    """PyTorch's F.cross_entropy(logits, target) with class-index targets, fused with the
    log-softmax.

    Args:
        logits: (N, C) float32/float64.
        target: (N,) integer class indices in [0, C), or ignore_index.
        weight: optional (C,) class weights; 'mean' then divides by the sum of the weights of
            the targets that are not ignored (0/0 = NaN when all are ignored, as in PyTorch).
        label_smoothing: eps in [0, 1]: loss = (1 - eps) * nll + eps / C * sum_c w_c * -logp_c.
        reduction: 'mean', 'sum' or 'none'.

    Returns:
        (loss, lse): loss is a 0-d array ('mean', 'sum') or (N,) ('none') of the logits'
        dtype; lse is the (N,) float64 log-sum-exp of each row, which cross_entropy_backward
        needs (float64 so float32 logits ~1e4 keep exp(x - lse) to float precision).
    """
    cdef str red = _reduction(reduction, "cross_entropy_forward")
    cdef cnp.ndarray X, T, W
    X, T, W = _xent_inputs(logits, target, weight, ignore_index, label_smoothing,
                           "cross_entropy_forward")
    cdef ptrdiff_t n = cnp.PyArray_DIM(X, 0), c = cnp.PyArray_DIM(X, 1)
    cdef int typ = cnp.PyArray_TYPE(X)
    cdef cnp.ndarray L = cnp.PyArray_EMPTY(1, [n], typ, 0)
    cdef cnp.ndarray LSE = cnp.PyArray_EMPTY(1, [n], cnp.NPY_FLOAT64, 0)
    cdef double total = 0.0, wsum = 0.0
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *px = cnp.PyArray_DATA(X)
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(T)
    cdef void *pw = cnp.PyArray_DATA(W) if W is not None else NULL
    cdef void *pl = cnp.PyArray_DATA(L)
    cdef double *plse = <double *>cnp.PyArray_DATA(LSE)
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            mn_xent_fwd_f32(<const float *>px, pt, <const float *>pw, <float *>pl, plse,
                            &total, &wsum, n, c, ignore_index, label_smoothing, isa, nt)
    else:
        with nogil:
            mn_xent_fwd_f64(<const double *>px, pt, <const double *>pw, <double *>pl, plse,
                            &total, &wsum, n, c, ignore_index, label_smoothing, isa, nt)
    if red == "none":
        return L, LSE
    if red == "sum":
        return np.array(total, dtype=X.dtype), LSE
    return np.array(total / wsum if wsum != 0 else np.nan, dtype=X.dtype), LSE


cdef tuple _grad_scalar_or_rows(object grad_loss, str red, ptrdiff_t n, cnp.ndarray X, str fn):
    """(array holding g, stride 0 or 1) for a scalar ('mean'/'sum') or (n,) ('none') grad."""
    cdef cnp.ndarray G
    if red == "none":
        G = float_array(grad_loss, "grad_loss", fn)
        if _shape(G) != (n,):
            raise ValueError(f"{fn}: grad_loss must have shape ({n},) for reduction='none' "
                             f"and logits of shape {_shape(X)}, got {_shape(G)}")
        if cnp.PyArray_TYPE(G) != cnp.PyArray_TYPE(X):
            raise TypeError(f"{fn}: grad_loss must have dtype {X.dtype}, got {G.dtype}")
        return G, 1
    return _scalar_grad(grad_loss, X, red, fn), 0


def cross_entropy_backward(grad_loss, logits, target, lse, *, weight=None,
                           long long ignore_index=-100, double label_smoothing=0.0,
                           reduction="mean", out=None):
    """d loss / d logits for cross_entropy_forward with the same options.

    Args:
        grad_loss: scalar for 'mean'/'sum', (N,) for 'none'.
        logits, target, weight, ignore_index, label_smoothing, reduction: as in the forward.
        lse: the (N,) float64 log-sum-exp the forward returned.
        out: optional (N, C) array to write into.

    Returns:
        dlogits (N, C); rows whose target is ignore_index are exactly 0.
    """
    cdef str fn = "cross_entropy_backward"
    cdef str red = _reduction(reduction, fn)
    cdef cnp.ndarray X, T, W
    X, T, W = _xent_inputs(logits, target, weight, ignore_index, label_smoothing, fn)
    cdef ptrdiff_t n = cnp.PyArray_DIM(X, 0), c = cnp.PyArray_DIM(X, 1)
    cdef int typ = cnp.PyArray_TYPE(X)
    if not isinstance(lse, np.ndarray):
        raise TypeError(f"{fn}: lse must be a numpy.ndarray, got {type(lse).__name__}")
    if lse.shape != (n,):
        raise ValueError(f"{fn}: lse must have shape ({n},) to match logits of shape "
                         f"{_shape(X)}, got {lse.shape}")
    cdef cnp.ndarray LSE = np.ascontiguousarray(lse, dtype=np.float64)
    cdef cnp.ndarray G
    cdef ptrdiff_t gs
    G, gs = _grad_scalar_or_rows(grad_loss, red, n, X, fn)
    cdef double scale = 1.0, wsum
    if red == "mean":
        wsum = _target_weight_sum(T, W, ignore_index)
        scale = 1.0 / wsum if wsum != 0 else np.inf
    cdef cnp.ndarray D = _output(out, X, fn)
    if overlaps(D, X):
        X = X.copy()
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pg = cnp.PyArray_DATA(G)
    cdef void *px = cnp.PyArray_DATA(X)
    cdef const int64_t *pt = <const int64_t *>cnp.PyArray_DATA(T)
    cdef void *pw = cnp.PyArray_DATA(W) if W is not None else NULL
    cdef const double *plse = <const double *>cnp.PyArray_DATA(LSE)
    cdef void *pd = cnp.PyArray_DATA(D)
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            mn_xent_bwd_f32(<const float *>pg, gs, scale, <const float *>px, pt,
                            <const float *>pw, plse, <float *>pd, n, c, ignore_index,
                            label_smoothing, isa, nt)
    else:
        with nogil:
            mn_xent_bwd_f64(<const double *>pg, gs, scale, <const double *>px, pt,
                            <const double *>pw, plse, <double *>pd, n, c, ignore_index,
                            label_smoothing, isa, nt)
    return D


cdef tuple _bce_inputs(object logits, object target, object weight, object pos_weight, str fn):
    cdef cnp.ndarray X = float_array(logits, "logits", fn)
    cdef cnp.ndarray T = _like(X, target, fn, "target", "logits")
    cdef cnp.ndarray W = None, PW = None
    cdef ptrdiff_t c = cnp.PyArray_DIM(X, cnp.PyArray_NDIM(X) - 1) if cnp.PyArray_NDIM(X) else 1
    if weight is not None:
        W = float_array(weight, "weight", fn)
        if cnp.PyArray_TYPE(W) != cnp.PyArray_TYPE(X):
            raise TypeError(f"{fn}: weight must have dtype {X.dtype}, got {W.dtype}")
        try:
            W = np.ascontiguousarray(np.broadcast_to(W, _shape(X)))
        except ValueError:
            raise ValueError(f"{fn}: weight of shape {_shape(W)} does not broadcast to logits "
                             f"of shape {_shape(X)}") from None
    if pos_weight is not None:
        PW = float_array(pos_weight, "pos_weight", fn)
        if cnp.PyArray_TYPE(PW) != cnp.PyArray_TYPE(X):
            raise TypeError(f"{fn}: pos_weight must have dtype {X.dtype}, got {PW.dtype}")
        if cnp.PyArray_NDIM(PW) > 1 or cnp.PyArray_SIZE(PW) not in (1, c):
            raise ValueError(f"{fn}: pos_weight must have shape ({c},) (the last axis of logits "
                             f"of shape {_shape(X)}) or (1,), got {_shape(PW)}")
        PW = np.ascontiguousarray(np.broadcast_to(PW.reshape(-1), (c,)))
    return X, T, W, PW, c


def bce_with_logits_forward(logits, target, *, weight=None, pos_weight=None, reduction="mean"):
    """PyTorch's F.binary_cross_entropy_with_logits, in its overflow-free form::

        loss = w * ((1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0)))

    Args:
        logits, target: float arrays of the same shape and dtype (targets in [0, 1]).
        weight: optional, broadcastable to logits.
        pos_weight: optional (C,) over the last axis of logits (or (1,)).
        reduction: 'mean' (over all elements), 'sum' or 'none'.
    Returns:
        a 0-d array ('mean', 'sum') or an array of logits' shape ('none').
    """
    cdef str fn = "bce_with_logits_forward"
    cdef str red = _reduction(reduction, fn)
    cdef cnp.ndarray X, T, W, PW, L = None
    cdef ptrdiff_t c
    X, T, W, PW, c = _bce_inputs(logits, target, weight, pos_weight, fn)
    cdef ptrdiff_t size = cnp.PyArray_SIZE(X)
    cdef ptrdiff_t rows = size // c if c > 0 else 0
    if red == "none":
        L = _output(None, X, fn)
    cdef double total = 0.0
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *pt = cnp.PyArray_DATA(T)
    cdef void *pw = cnp.PyArray_DATA(W) if W is not None else NULL
    cdef void *ppw = cnp.PyArray_DATA(PW) if PW is not None else NULL
    cdef void *pl = cnp.PyArray_DATA(L) if L is not None else NULL
    if cnp.PyArray_TYPE(X) == cnp.NPY_FLOAT32:
        with nogil:
            mn_bce_fwd_f32(<const float *>px, <const float *>pt, <const float *>pw,
                           <const float *>ppw, <float *>pl, &total, rows, c, isa, nt)
    else:
        with nogil:
            mn_bce_fwd_f64(<const double *>px, <const double *>pt, <const double *>pw,
                           <const double *>ppw, <double *>pl, &total, rows, c, isa, nt)
    if red == "none":
        return L
    if red == "sum":
        return np.array(total, dtype=X.dtype)
    return np.array(total / size if size > 0 else np.nan, dtype=X.dtype)


def bce_with_logits_backward(grad_loss, logits, target, *, weight=None, pos_weight=None,
                             reduction="mean", out=None):
    """d loss / d logits = g * w * ((1 + (pw - 1) t) sigmoid(x) - pw t) for
    bce_with_logits_forward; grad_loss is a scalar ('mean', 'sum') or of logits' shape."""
    cdef str fn = "bce_with_logits_backward"
    cdef str red = _reduction(reduction, fn)
    cdef cnp.ndarray X, T, W, PW, G
    cdef ptrdiff_t c, gs
    X, T, W, PW, c = _bce_inputs(logits, target, weight, pos_weight, fn)
    cdef ptrdiff_t size = cnp.PyArray_SIZE(X)
    cdef ptrdiff_t rows = size // c if c > 0 else 0
    if red == "none":
        G = _like(X, grad_loss, fn, "grad_loss", "logits")
        gs = 1
    else:
        G = _scalar_grad(grad_loss, X, red, fn)
        gs = 0
    cdef double scale = 1.0 / size if (red == "mean" and size > 0) else 1.0
    cdef cnp.ndarray D = _output(out, X, fn)
    G = _unalias(G, D)
    X = _unalias(X, D)
    T = _unalias(T, D)
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pg = cnp.PyArray_DATA(G)
    cdef void *px = cnp.PyArray_DATA(X)
    cdef void *pt = cnp.PyArray_DATA(T)
    cdef void *pw = cnp.PyArray_DATA(W) if W is not None else NULL
    cdef void *ppw = cnp.PyArray_DATA(PW) if PW is not None else NULL
    cdef void *pd = cnp.PyArray_DATA(D)
    if cnp.PyArray_TYPE(X) == cnp.NPY_FLOAT32:
        with nogil:
            mn_bce_bwd_f32(<const float *>pg, gs, scale, <const float *>px, <const float *>pt,
                           <const float *>pw, <const float *>ppw, <float *>pd, rows, c, isa, nt)
    else:
        with nogil:
            mn_bce_bwd_f64(<const double *>pg, gs, scale, <const double *>px,
                           <const double *>pt, <const double *>pw, <const double *>ppw,
                           <double *>pd, rows, c, isa, nt)
    return D
