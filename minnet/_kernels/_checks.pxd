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
