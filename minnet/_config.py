"""Threads, instruction-set dispatch and build facts: the process-wide knobs of the kernels."""

import contextlib
import os
import sys

from minnet import _threadpool
from minnet._kernels import _runtime

# threadpoolctl's threadpool_limits() limits minnet's kernels too (minnet/_threadpool.py)
_threadpool.install()


def _isa_from_env():
    """MINNET_ISA=generic|avx2|avx512|auto caps the kernels' instruction set for the process
    (e.g. an AVX-512 machine measuring what an AVX2 laptop gets). A level the CPU lacks, or a
    name minnet does not know, warns and keeps the best available: an environment variable
    must not stop `import minnet`."""
    name = os.environ.get("MINNET_ISA", "").strip().lower()
    if not name or name == "auto":
        return "auto (the best the CPU supports)"
    try:
        _runtime.set_isa(name)
    except ValueError as e:
        import warnings

        warnings.warn(
            f"MINNET_ISA={name!r} ignored: {e} (set it to one of "
            f"{', '.join(_runtime.ISA_NAMES)} or auto)",
            RuntimeWarning,
            stacklevel=2,
        )
        return f"auto (MINNET_ISA={name!r} ignored)"
    return f"MINNET_ISA={name}"


ISA_SOURCE = _isa_from_env()


def _default_threads():
    env = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    if env:
        try:
            n = int(env)
            if n >= 1:
                return n
        except ValueError:
            pass
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads():
    """Number of threads minnet's kernels use."""
    return _runtime.get_num_threads()


# More threads than this is a mistake (a million threads cannot be created): four per CPU, at
# least 256. The pool itself starts at most 1023 workers.
MAX_THREADS = max(256, 4 * (os.cpu_count() or 1))


def set_num_threads(n):
    """Set the number of threads minnet's kernels use (default: OMP_NUM_THREADS, else the
    cores this process may run on), 1 to :data:`MAX_THREADS`. Does not change NumPy's BLAS
    threads. ``threadpoolctl.threadpool_limits`` changes it too. Works in a ``fork()``-ed child
    as well: the child starts its own pool threads when it first needs them."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    if n < 1 or n > MAX_THREADS:
        raise ValueError(
            f"set_num_threads: n must be between 1 and {MAX_THREADS} "
            f"(4 per CPU, at least 256), got {n}"
        )
    _runtime.set_num_threads(n)


@contextlib.contextmanager
def threads(n):
    """Context manager: run the enclosed kernels with n threads, then restore."""
    old = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        _runtime.set_num_threads(old)


def empty_cache():
    """Release the calling thread's kernel workspaces (every family's packing and padding
    buffers: one runtime serves them all) and the autograd buffer arena (minnet._arena).
    Returns bytes freed."""
    from minnet import _arena

    return _runtime.workspace_release() + _arena.clear()


def build_info():
    """What was built and what runs: a dict with version, compiler, flags, threads, ISA path."""
    import numpy as np

    from minnet import __version__, _build_config
    from minnet._kernels import gemm

    return {
        "version": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": __import__("platform").platform(),
        "compiler": _build_config.CC,
        "cflags": _build_config.CFLAGS,
        "native": _build_config.NATIVE,
        "sanitize": getattr(_build_config, "SANITIZE", ""),
        "threads": "minnet pool (pthreads, csrc/runtime_threads.c)",
        "pool_workers": _runtime.pool_workers(),
        "spin_us": _runtime.get_spin_us(),
        "num_threads": get_num_threads(),
        "cpu_isa": _runtime.cpu_isa(),
        "isa": _runtime.get_isa(),
        "isa_source": ISA_SOURCE,
        "gemm_tile_f32": gemm.tile(np.float32),
        "gemm_tile_f64": gemm.tile(np.float64),
    }


_runtime.set_num_threads(min(_default_threads(), MAX_THREADS))  # OMP_NUM_THREADS=10**6: capped
