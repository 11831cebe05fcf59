# Process-wide kernel settings, shared by every kernel family through cimport.
cdef int num_threads() noexcept nogil
cdef int isa_level() noexcept nogil

cimport numpy as cnp

# x as a C-contiguous float32/float64 ndarray (a copy only if it is not), or TypeError naming
# the argument and the op.
cdef cnp.ndarray float_array(object a, str name, str op)
