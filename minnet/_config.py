"""Threads, instruction-set dispatch and build facts: the process-wide knobs of the kernels."""

import contextlib
import os
import sys


def _libgomp_loaded():
    try:
        with open("/proc/self/maps") as f:
            return "libgomp" in f.read()
    except OSError:
        return False


# libgomp's idle threads spin for GOMP_SPINCOUNT iterations of a `pause` loop after every
# parallel region, then sleep; waking a sleeping thread costs 30-55 us on this VM. Measured here
# (bench/RESULTS.md): the default spin (300,000, milliseconds) made a minnet GEMM followed by a
# NumPy matmul take 30 ms instead of 0.8 ms, because NumPy's BLAS threads waited for our spinning
# ones; a short spin (2,000, ~20 us) let the workers fall asleep inside and between the kernels
# of a training step, and mlp512's 2-thread step took 3.1 ms instead of 1.2 ms. 20,000 (~0.3 ms)
# keeps a training step's kernels warm and bounds what another library waits for. libgomp reads
# the variable once, when it is loaded, i.e. when our first extension is imported: set it for
# that moment only, unless the user chose a policy, and restore the environment so libraries
# loaded later see what the user set.
SPINCOUNT = os.environ.get("MINNET_GOMP_SPINCOUNT", "20000")
_user_policy = any(k in os.environ for k in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"))
_gomp_preloaded = _libgomp_loaded()
if not _user_policy and not _gomp_preloaded:
    os.environ["GOMP_SPINCOUNT"] = SPINCOUNT
    try:
        from minnet._kernels import _runtime  # noqa: E402  (loads libgomp)
    finally:
        del os.environ["GOMP_SPINCOUNT"]
    SPIN_POLICY = f"GOMP_SPINCOUNT={SPINCOUNT} (set by minnet)"
else:
    from minnet._kernels import _runtime  # noqa: E402

    SPIN_POLICY = (
        "as set by the user"
        if _user_policy
        else "libgomp was loaded before minnet: its spin policy was not changed"
    )


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
    """Number of OpenMP threads minnet's kernels use."""
    return _runtime.get_num_threads()


# More OpenMP threads than this is a mistake (libgomp cannot create a million threads, and
# crashed trying): four per CPU, at least 256.
MAX_THREADS = max(256, 4 * (os.cpu_count() or 1))

# fork(): libgomp's thread pool does not survive it. A child forked after a kernel ran with
# several threads would wait forever for pool threads that exist only in the parent, so such a
# child runs minnet single-threaded (what PyTorch's DataLoader workers do too), and asking it
# for more threads warns and keeps one. A child forked before any multi-threaded kernel ran
# keeps the parent's setting: libgomp starts its pool in the child then.
_fork_single = False


def _after_fork_in_child():
    global _fork_single
    if _runtime.pool_used():
        _fork_single = True
        _runtime.set_num_threads(1)
        _runtime.reset_pool_used()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def set_num_threads(n):
    """Set the number of threads minnet's kernels use (default: OMP_NUM_THREADS, else the
    cores this process may run on), 1 to :data:`MAX_THREADS`. Does not change NumPy's BLAS
    threads. In a process ``fork()``-ed after minnet ran multi-threaded, more than one thread
    cannot work (libgomp's pool is the parent's): it warns and keeps 1 (use the 'spawn' or
    'forkserver' start method for multi-threaded children)."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__}")
    if n < 1 or n > MAX_THREADS:
        raise ValueError(
            f"set_num_threads: n must be between 1 and {MAX_THREADS} "
            f"(4 per CPU, at least 256), got {n}"
        )
    if n > 1 and _fork_single:
        import warnings

        warnings.warn(
            f"set_num_threads({n}) in a process fork()ed after minnet ran "
            f"multi-threaded: libgomp's thread pool does not survive fork(), so "
            f"this process keeps 1 thread; start it with the 'spawn' or "
            f"'forkserver' method for more",
            RuntimeWarning,
            stacklevel=2,
        )
        n = 1
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
    """What was built and what runs: a dict with version, compiler, flags, OpenMP, ISA path."""
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
        "openmp": _runtime.openmp_enabled(),
        "omp_max_threads": _runtime.omp_max_threads(),
        "num_threads": get_num_threads(),
        "cpu_isa": _runtime.cpu_isa(),
        "isa": _runtime.get_isa(),
        "isa_source": ISA_SOURCE,
        "omp_spin": SPIN_POLICY,
        "gemm_tile_f32": gemm.tile(np.float32),
        "gemm_tile_f64": gemm.tile(np.float64),
    }


_runtime.set_num_threads(min(_default_threads(), MAX_THREADS))  # OMP_NUM_THREADS=10**6: capped
