# cython: language_level=3
"""Cython wrappers for csrc/gemm.c: validate, allocate the output, release the GIL, call C.

    gemm:   C := act(alpha * op(A) @ op(B) + beta * C + bias)
    colsum: out[j] := sum_i A[i, j]
"""
cimport numpy as cnp
import numpy as np

from minnet._kernels._runtime cimport bind_runtime, isa_level, num_threads

cnp.import_array()
bind_runtime()

cdef extern from "gemm.h":
    int mn_gemm_panel
    int mn_gemm_f32(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                    const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta,
                    float *c, ptrdiff_t ldc, const float *bias, int act, int isa,
                    int n_threads) nogil
    int mn_gemm_f64(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha,
                    const double *a, ptrdiff_t lda, const double *b, ptrdiff_t ldb, double beta,
                    double *c, ptrdiff_t ldc, const double *bias, int act, int isa,
                    int n_threads) nogil
    void mn_colsum_f32(const float *a, ptrdiff_t m, ptrdiff_t n, ptrdiff_t lda, float *out,
                       int accumulate, int n_threads) nogil
    void mn_colsum_f64(const double *a, ptrdiff_t m, ptrdiff_t n, ptrdiff_t lda, double *out,
                       int accumulate, int n_threads) nogil
    void mn_gemm_tile(int isa, int f64, int *mr, int *nr) nogil

cdef extern from "runtime.h":
    enum:
        MN_ACT_IDENTITY, MN_ACT_RELU, MN_ACT_SIGMOID, MN_ACT_TANH

# The epilogue activations (enum mn_act in csrc/runtime.h; the values come from the header).
ACTIVATIONS = {None: MN_ACT_IDENTITY, "identity": MN_ACT_IDENTITY, "linear": MN_ACT_IDENTITY,
               "relu": MN_ACT_RELU, "sigmoid": MN_ACT_SIGMOID, "tanh": MN_ACT_TANH}


cdef inline tuple _shape(cnp.ndarray x):
    return (<object>x).shape


cdef inline int _act_code(object activation) except -1:
    if activation is None:
        return 0
    try:
        return ACTIVATIONS[activation]
    except (KeyError, TypeError):
        raise ValueError(f"gemm: activation must be one of None, 'identity', 'relu', 'sigmoid', "
                         f"'tanh'; got {activation!r}") from None


cdef inline cnp.ndarray _as_matrix(object x, str name):
    """x as a 2-D float ndarray whose rows or columns are unit-stride (else a C copy)."""
    cdef cnp.ndarray arr
    if type(x) is np.ndarray:
        arr = <cnp.ndarray>x
    elif isinstance(x, np.ndarray):
        arr = <cnp.ndarray>x
    else:
        raise TypeError(f"gemm: {name} must be a numpy.ndarray, got {type(x).__name__}")
    if cnp.PyArray_NDIM(arr) != 2:
        raise ValueError(f"gemm: {name} must be 2-D, got shape {_shape(arr)}")
    cdef int t = cnp.PyArray_TYPE(arr)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"gemm: {name} must be float32 or float64, got {arr.dtype}")
    return arr


cdef inline bint _layout(cnp.ndarray arr, bint *col_major, ptrdiff_t *ld):
    """Describe arr as row-major (ld = row stride) or column-major (ld = column stride) in
    elements; False when neither dimension is unit-stride (the caller copies)."""
    cdef ptrdiff_t isz = cnp.PyArray_ITEMSIZE(arr)
    cdef ptrdiff_t s0 = cnp.PyArray_STRIDE(arr, 0), s1 = cnp.PyArray_STRIDE(arr, 1)
    cdef ptrdiff_t d0 = cnp.PyArray_DIM(arr, 0), d1 = cnp.PyArray_DIM(arr, 1)
    # a dimension of extent 1 may carry any stride: normalise it
    if d1 <= 1:
        s1 = isz
    if d0 <= 1:
        s0 = d1 * isz if d1 > 0 else isz
    if s1 == isz and s0 >= d1 * isz and s0 % isz == 0:
        col_major[0] = False
        ld[0] = s0 // isz if s0 > 0 else 1
        return True
    if d0 <= 1:
        s0 = isz
    if s0 == isz and s1 >= d0 * isz and s1 % isz == 0:
        col_major[0] = True
        ld[0] = s1 // isz
        return True
    return False


cdef inline bint _overlaps(cnp.ndarray x, cnp.ndarray y):
    """Conservative: do the memory extents of x and y intersect?"""
    cdef char *xs = <char *>cnp.PyArray_DATA(x)
    cdef char *ys = <char *>cnp.PyArray_DATA(y)
    cdef ptrdiff_t xn = cnp.PyArray_NBYTES(x), yn = cnp.PyArray_NBYTES(y)
    cdef ptrdiff_t xspan = 0, yspan = 0
    if xn == 0 or yn == 0:
        return False
    xspan = (cnp.PyArray_DIM(x, 0) - 1) * cnp.PyArray_STRIDE(x, 0) + \
        (cnp.PyArray_DIM(x, 1) - 1) * cnp.PyArray_STRIDE(x, 1) + cnp.PyArray_ITEMSIZE(x)
    yspan = cnp.PyArray_NBYTES(y) if cnp.PyArray_NDIM(y) != 2 else \
        (cnp.PyArray_DIM(y, 0) - 1) * cnp.PyArray_STRIDE(y, 0) + \
        (cnp.PyArray_DIM(y, 1) - 1) * cnp.PyArray_STRIDE(y, 1) + cnp.PyArray_ITEMSIZE(y)
    if xspan < 0 or yspan < 0:      # negative strides: be safe
        return True
    return xs < ys + yspan and ys < xs + xspan


def gemm(a, b, *, bint trans_a=False, bint trans_b=False, double alpha=1.0, double beta=0.0,
         bias=None, activation=None, out=None):
    """C := act(alpha * op(A) @ op(B) + beta * C + bias), in one pass over C.

    Args:
        a: (m, k) array, or (k, m) with trans_a=True. float32 or float64.
        b: (k, n) array, or (n, k) with trans_b=True. Same dtype as a.
        alpha, beta: scalars. beta != 0 needs out=, which then holds C on entry. With
            beta == 0 the old contents of out are never read (NaN in them does not leak).
        bias: None or a length-n vector added to every row (a dense layer's bias).
        activation: None/'identity', 'relu', 'sigmoid' or 'tanh', applied last.
        out: optional C-contiguous (m, n) array of the same dtype to write into. It may alias
            a or b; the inputs are then copied first.

    Returns:
        out, or a new (m, n) array.

    Transposed or otherwise unit-stride views are used in place; other layouts are copied.
    """
    cdef int act = _act_code(activation)
    cdef cnp.ndarray A = _as_matrix(a, "a")
    cdef cnp.ndarray B = _as_matrix(b, "b")
    cdef cnp.ndarray C, BIAS = None
    cdef int typ = cnp.PyArray_TYPE(A)
    if cnp.PyArray_TYPE(B) != typ:
        raise TypeError(f"gemm: a and b must have the same dtype, got {A.dtype} and {B.dtype}")
    cdef ptrdiff_t m, k, kb, n, lda = 0, ldb = 0, ldc
    cdef bint a_col = False, b_col = False
    if trans_a:
        k = cnp.PyArray_DIM(A, 0); m = cnp.PyArray_DIM(A, 1)
    else:
        m = cnp.PyArray_DIM(A, 0); k = cnp.PyArray_DIM(A, 1)
    if trans_b:
        n = cnp.PyArray_DIM(B, 0); kb = cnp.PyArray_DIM(B, 1)
    else:
        kb = cnp.PyArray_DIM(B, 0); n = cnp.PyArray_DIM(B, 1)
    if k != kb:
        raise ValueError(
            f"gemm: inner dimensions differ: op(a) is ({m}, {k}) from a of shape {_shape(A)}"
            f"{' transposed' if trans_a else ''}, op(b) is ({kb}, {n}) from b of shape "
            f"{_shape(B)}{' transposed' if trans_b else ''}")

    if bias is not None:
        if not isinstance(bias, np.ndarray):
            raise TypeError(f"gemm: bias must be a numpy.ndarray, got {type(bias).__name__}")
        BIAS = <cnp.ndarray>bias
        if cnp.PyArray_NDIM(BIAS) != 1 or cnp.PyArray_DIM(BIAS, 0) != n:
            raise ValueError(f"gemm: bias must have shape ({n},) to match op(b) of shape "
                             f"({k}, {n}), got {_shape(BIAS)}")
        if cnp.PyArray_TYPE(BIAS) != typ:
            raise TypeError(f"gemm: bias must have dtype {A.dtype}, got {BIAS.dtype}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(BIAS):
            BIAS = np.ascontiguousarray(BIAS)

    if out is None:
        if beta != 0.0:
            raise ValueError("gemm: beta != 0 needs out= holding C")
        C = cnp.PyArray_EMPTY(2, [m, n], typ, 0)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"gemm: out must be a numpy.ndarray, got {type(out).__name__}")
        C = <cnp.ndarray>out
        if cnp.PyArray_NDIM(C) != 2 or cnp.PyArray_DIM(C, 0) != m or cnp.PyArray_DIM(C, 1) != n:
            raise ValueError(f"gemm: out must have shape ({m}, {n}), got {_shape(C)}")
        if cnp.PyArray_TYPE(C) != typ:
            raise TypeError(f"gemm: out must have dtype {A.dtype}, got {C.dtype}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(C):
            raise ValueError(f"gemm: out must be C-contiguous, got strides {(<object>C).strides}")
        if not cnp.PyArray_ISWRITEABLE(C):
            raise ValueError("gemm: out is read-only")
        if _overlaps(C, A):
            A = A.copy()
        if _overlaps(C, B):
            B = B.copy()
        if BIAS is not None and _overlaps(C, BIAS):
            BIAS = BIAS.copy()
    ldc = n if n > 0 else 1

    if not _layout(A, &a_col, &lda):
        A = np.ascontiguousarray(A)
        _layout(A, &a_col, &lda)
    if not _layout(B, &b_col, &ldb):
        B = np.ascontiguousarray(B)
        _layout(B, &b_col, &ldb)
    # a column-major (r, c) array is the row-major (c, r) array transposed
    cdef int ta = trans_a != a_col, tb = trans_b != b_col
    if lda < 1:
        lda = 1
    if ldb < 1:
        ldb = 1

    cdef int rc = 0
    cdef int nt = num_threads(), isa = isa_level()
    cdef void *pa = cnp.PyArray_DATA(A)
    cdef void *pb = cnp.PyArray_DATA(B)
    cdef void *pc = cnp.PyArray_DATA(C)
    cdef void *pbias = cnp.PyArray_DATA(BIAS) if BIAS is not None else NULL
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            rc = mn_gemm_f32(ta, tb, m, n, k, <float>alpha, <const float *>pa, lda,
                             <const float *>pb, ldb, <float>beta, <float *>pc, ldc,
                             <const float *>pbias, act, isa, nt)
    else:
        with nogil:
            rc = mn_gemm_f64(ta, tb, m, n, k, alpha, <const double *>pa, lda,
                             <const double *>pb, ldb, beta, <double *>pc, ldc,
                             <const double *>pbias, act, isa, nt)
    if rc != 0:
        raise MemoryError(f"gemm: could not allocate packing buffers for ({m}, {k}) x ({k}, {n})")
    return C


def colsum(a, *, out=None, bint accumulate=False):
    """out[j] := sum_i a[i, j] (+ out[j] when accumulate): a dense layer's bias gradient.

    Args:
        a: (m, n) float32 or float64 array.
        out: optional C-contiguous (n,) array of the same dtype.
        accumulate: add into out instead of overwriting it (needs out=).
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"colsum: a must be a numpy.ndarray, got {type(a).__name__}")
    cdef cnp.ndarray A = <cnp.ndarray>a
    if cnp.PyArray_NDIM(A) != 2:
        raise ValueError(f"colsum: a must be 2-D, got shape {_shape(A)}")
    cdef int typ = cnp.PyArray_TYPE(A)
    if typ != cnp.NPY_FLOAT32 and typ != cnp.NPY_FLOAT64:
        raise TypeError(f"colsum: a must be float32 or float64, got {A.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(A):
        A = np.ascontiguousarray(A)
    cdef ptrdiff_t m = cnp.PyArray_DIM(A, 0), n = cnp.PyArray_DIM(A, 1)
    cdef cnp.ndarray O
    if out is None:
        if accumulate:
            raise ValueError("colsum: accumulate=True needs out=")
        O = cnp.PyArray_EMPTY(1, [n], typ, 0)
    else:
        if not isinstance(out, np.ndarray):
            raise TypeError(f"colsum: out must be a numpy.ndarray, got {type(out).__name__}")
        O = <cnp.ndarray>out
        if cnp.PyArray_NDIM(O) != 1 or cnp.PyArray_DIM(O, 0) != n:
            raise ValueError(f"colsum: out must have shape ({n},) for a of shape {_shape(A)}, "
                             f"got {_shape(O)}")
        if cnp.PyArray_TYPE(O) != typ:
            raise TypeError(f"colsum: out must have dtype {A.dtype}, got {O.dtype}")
        if not cnp.PyArray_IS_C_CONTIGUOUS(O) or not cnp.PyArray_ISWRITEABLE(O):
            raise ValueError("colsum: out must be C-contiguous and writeable")
        if _overlaps(A, O):
            A = A.copy()
    cdef int nt = num_threads()
    cdef void *pa = cnp.PyArray_DATA(A)
    cdef void *po = cnp.PyArray_DATA(O)
    if typ == cnp.NPY_FLOAT32:
        with nogil:
            mn_colsum_f32(<const float *>pa, m, n, n, <float *>po, accumulate, nt)
    else:
        with nogil:
            mn_colsum_f64(<const double *>pa, m, n, n, <double *>po, accumulate, nt)
    return O


def _set_panel(bint on):
    """Tuning knob: one pool job per panel for products of one row block on 2+ threads (True,
    default; gemm_driver.h's panel mode) or the three-job nest always (False)."""
    global mn_gemm_panel
    mn_gemm_panel = on


def tile(dtype=np.float32):
    """(MR, NR) of the micro-kernel the current ISA level uses for dtype."""
    cdef int mr = 0, nr = 0
    mn_gemm_tile(isa_level(), np.dtype(dtype) == np.float64, &mr, &nr)
    return mr, nr

