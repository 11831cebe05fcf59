# Process-wide kernel settings, shared by every kernel family through cimport.
cdef int num_threads() noexcept nogil
cdef int isa_level() noexcept nogil

cdef extern from "runtime.h":
    int mn_runtime_bind(const void *api) nogil

from cpython.pycapsule cimport PyCapsule_GetPointer


cdef inline int bind_runtime() except -1:
    """Point this extension's C runtime calls (csrc/runtime_link.c) at the process's one
    runtime; every kernel wrapper calls it at import."""
    from minnet._kernels import _runtime
    if mn_runtime_bind(PyCapsule_GetPointer(_runtime._C_API, "minnet._kernels._runtime._C_API")):
        raise ImportError("minnet._kernels: the compiled runtime is of another version; "
                          "rebuild minnet (pip install .)")
    return 0

