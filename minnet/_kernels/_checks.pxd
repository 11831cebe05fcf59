# Argument checks every kernel wrapper shares (inline: compiled into each wrapper that
# cimports them). Messages name the op and the argument, as minnet's errors do everywhere.
cimport numpy as cnp
import numpy as np


cdef inline cnp.ndarray float_array(object a, str name, str op):
    """a as a C-contiguous float32/float64 ndarray (a copy only if it is not contiguous), or a
    TypeError naming the argument and the op."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{op}: {name} must be a numpy.ndarray, got {type(a).__name__}")
    cdef cnp.ndarray arr = <cnp.ndarray>a
    cdef int t = cnp.PyArray_TYPE(arr)
    if t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        raise TypeError(f"{op}: {name} must be float32 or float64, got {arr.dtype}")
    if not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        arr = np.ascontiguousarray(arr)
    return arr


cdef inline cnp.ndarray out_array(object out, tuple shape, object dtype, str name, str op):
    """out= as given (checked: shape, dtype, C-contiguous, writeable) or a new array."""
    if out is None:
        return np.empty(shape, dtype=dtype)
    if not isinstance(out, np.ndarray):
        raise TypeError(f"{op}: {name} must be a numpy.ndarray, got {type(out).__name__}")
    if out.shape != shape or out.dtype != dtype:
        raise ValueError(f"{op}: {name} must have shape {shape} and dtype {np.dtype(dtype)}, "
                         f"got {out.shape} {out.dtype}")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(f"{op}: {name} must be C-contiguous and writeable")
    return <cnp.ndarray>out


cdef inline bint overlaps(cnp.ndarray a, cnp.ndarray b) except -1:
    """Whether the memory of a and b may intersect, as np.may_share_memory says, but on the
    raw byte ranges when both are C-contiguous (exact there, and nanoseconds instead of the
    ~0.6 us a np.may_share_memory call costs); other layouts ask NumPy."""
    if not (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_IS_C_CONTIGUOUS(b)):
        return np.may_share_memory(a, b)
    cdef char *pa = <char *>cnp.PyArray_DATA(a)
    cdef char *pb = <char *>cnp.PyArray_DATA(b)
    cdef Py_ssize_t na = cnp.PyArray_NBYTES(a), nb = cnp.PyArray_NBYTES(b)
    return na > 0 and nb > 0 and pa < pb + nb and pb < pa + na


cdef inline bint same_shape(cnp.ndarray a, cnp.ndarray b):
    """a.shape == b.shape, compared on the dims without building tuples."""
    cdef int nd = cnp.PyArray_NDIM(a), i
    if nd != cnp.PyArray_NDIM(b):
        return False
    cdef cnp.npy_intp *da = cnp.PyArray_DIMS(a)
    cdef cnp.npy_intp *db = cnp.PyArray_DIMS(b)
    for i in range(nd):
        if da[i] != db[i]:
            return False
    return True
