# Process-wide kernel settings, shared by every kernel family through cimport.
cdef int num_threads() noexcept nogil
cdef int isa_level() noexcept nogil
