# cython: language_level=3
"""Process-wide settings every kernel reads: the thread count of minnet's pool and the ISA level the
micro-kernels are dispatched to. Other wrappers cimport num_threads()/isa_level() so the
values live in one place, not once per extension module."""

cimport numpy as cnp
import numpy as np

cnp.import_array()

from cpython.pycapsule cimport PyCapsule_New

cdef extern from "runtime.h":
    int mn_cpu_isa() nogil
    int mn_effective_isa(int requested) nogil
    size_t mn_workspace_release() nogil
    size_t mn_workspace_bytes() nogil
    const void *mn_runtime_table() nogil
    void mn_set_num_threads(int n) nogil
    int mn_get_num_threads() nogil
    int mn_pool_workers() nogil
    void mn_set_spin_us(int us) nogil
    int mn_get_spin_us() nogil
    double mn_pool_wake_us(int idle_us, int warm_up) nogil

cdef extern from "roofline.h":
    double mn_peak_flops(int isa, int dtype_bytes, int n_threads, double seconds) nogil
    double mn_triad_bandwidth(ptrdiff_t n, int n_threads, int reps) nogil

# The runtime's C functions for the other extensions (bind_runtime in _runtime.pxd).
_C_API = PyCapsule_New(<void *>mn_runtime_table(), "minnet._kernels._runtime._C_API", NULL)

cdef int _isa = -1          # -1: the best the CPU supports

ISA_NAMES = ("generic", "avx2", "avx512")


cdef int num_threads() noexcept nogil:
    return mn_get_num_threads()


cdef int isa_level() noexcept nogil:
    return mn_effective_isa(_isa)


def get_num_threads():
    return mn_get_num_threads()


def set_num_threads(int n):
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    mn_set_num_threads(n)


def pool_workers():
    """Worker threads minnet's pool has started (0 in a fresh fork()ed child)."""
    return mn_pool_workers()


def get_spin_us():
    """How long an idle pool worker spins (yielding) before it sleeps, in microseconds."""
    return mn_get_spin_us()


def pool_wake_us(idle_us=0, repeat=31, warm_up=True):
    """Median microseconds from submitting a 2-thread job until a pool worker starts on it,
    ``idle_us`` after the previous job: 0 finds the worker spinning, more than the spin time
    (``get_spin_us()``) finds it asleep on its futex. ``warm_up=False``: no job of its own
    first, so it measures the wake-up after whatever ran last (``repeat=1`` after a NumPy
    matmul: how long OpenBLAS's spinning workers hold the core). NaN when no worker took part
    (one core, or called from inside a kernel)."""
    if isinstance(idle_us, bool) or not isinstance(idle_us, int) or not 0 <= idle_us <= 1000000:
        raise ValueError(f"pool_wake_us: idle_us must be an int in [0, 1000000], got {idle_us!r}")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
        raise ValueError(f"pool_wake_us: repeat must be a positive int, got {repeat!r}")
    cdef int idle = idle_us
    cdef int warm = 1 if warm_up else 0
    cdef double t
    got = []
    for _ in range(repeat):
        with nogil:
            t = mn_pool_wake_us(idle, warm)
        if t >= 0:
            got.append(t)
    if not got:
        return float("nan")
    got.sort()
    return got[len(got) // 2]


def set_spin_us(int us):
    if us < 0 or us > 1000000:
        raise ValueError(f"set_spin_us: us must be in [0, 1000000], got {us}")
    mn_set_spin_us(us)


def cpu_isa():
    """Name of the best instruction set this CPU supports among ISA_NAMES."""
    return ISA_NAMES[mn_cpu_isa()]


def get_isa():
    """Name of the instruction set the kernels are dispatched to now."""
    return ISA_NAMES[mn_effective_isa(_isa)]


def set_isa(name):
    """Force kernels down to `name` ('generic', 'avx2', 'avx512'; None for the best available).
    For tests and benchmarks of the fallback paths; a level the CPU lacks raises ValueError."""
    global _isa
    if name is None:
        _isa = -1
        return
    if name not in ISA_NAMES:
        raise ValueError(f"set_isa: name must be one of {ISA_NAMES} or None, got {name!r}")
    level = ISA_NAMES.index(name)
    if level > mn_cpu_isa():
        raise ValueError(f"set_isa: this CPU supports at most {cpu_isa()!r}, asked for {name!r}")
    _isa = level


def workspace_release():
    """Free the calling thread's kernel workspaces (every family's: there is one runtime);
    returns the bytes released."""
    return mn_workspace_release()


def workspace_bytes():
    """Bytes held by the calling thread's kernel workspaces."""
    return mn_workspace_bytes()


def peak_flops(isa=None, dtype="float32", threads=None, seconds=0.05):
    """Measured FLOP/s of a register-only FMA loop: the roofline's compute ceiling.

    Args:
        isa: 'generic' (SSE2 multiply + add, what baseline code gets), 'avx2', 'avx512', or
            None for the level the kernels use now (get_isa()).
        dtype: 'float32' or 'float64'.
        threads: threads running the loop at once (default: get_num_threads()).
        seconds: time per thread per trial (3 trials; the best is returned).
    """
    if isa is None:
        isa = get_isa()
    if isa not in ISA_NAMES:
        raise ValueError(f"peak_flops: isa must be one of {ISA_NAMES} or None, got {isa!r}")
    cdef int level = ISA_NAMES.index(isa)
    if level > mn_cpu_isa():
        raise ValueError(f"peak_flops: this CPU supports at most {cpu_isa()!r}, asked for "
                         f"{isa!r}")
    cdef int size = np.dtype(dtype).itemsize
    if np.dtype(dtype) not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"peak_flops: dtype must be float32 or float64, got {dtype!r}")
    cdef int nt = mn_get_num_threads() if threads is None else int(threads)
    if nt < 1 or nt > 4096:
        raise ValueError(f"peak_flops: threads must be in [1, 4096], got {threads!r}")
    cdef double sec = float(seconds)
    if not (0 < sec <= 10):
        raise ValueError(f"peak_flops: seconds must be in (0, 10], got {seconds!r}")
    cdef double r
    with nogil:
        r = mn_peak_flops(level, size, nt, sec)
    return r


def triad_bandwidth(threads=None, megabytes=384, reps=5):
    """Measured bytes/s of the streaming triad a = b + s * c (float64, STREAM's count of 3
    arrays per pass; the best of `reps` passes): the roofline's memory ceiling. The three
    arrays take `megabytes` in all (default far beyond any cache)."""
    cdef int nt = mn_get_num_threads() if threads is None else int(threads)
    if nt < 1 or nt > 4096:
        raise ValueError(f"triad_bandwidth: threads must be in [1, 4096], got {threads!r}")
    if not (1 <= megabytes <= 65536) or not (1 <= reps <= 1000):
        raise ValueError(f"triad_bandwidth: megabytes must be in [1, 65536] and reps in "
                         f"[1, 1000], got {megabytes!r} and {reps!r}")
    cdef ptrdiff_t n = <ptrdiff_t>(megabytes * 1e6 / 24)
    cdef int cr = int(reps)
    cdef double r
    with nogil:
        r = mn_triad_bandwidth(n, nt, cr)
    if r < 0:
        raise MemoryError(f"triad_bandwidth: could not allocate {megabytes} MB")
    return r
