"""Starting a job on N local ranks with Open MPI's ``mpirun`` (what ``minnet run NAME
--ranks N`` and ``minnet-bench train --ranks`` do for the user)."""

import os
import shutil
import sys

__all__ = ["module_args", "mpirun_command"]

MISSING_MPIRUN = (
    "mpirun not found: install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin "
    'libopenmpi-dev) and mpi4py (pip install "minnet-nn[mpi]")'
)


# Run a module as ``python -m`` would, but with this process's minnet first on sys.path instead
# of the working directory: from a source checkout whose kernels were built elsewhere (pip
# install .), ``python -m`` in the checkout would import the uncompiled tree.
_BOOT = (
    "import runpy, sys; p = {where!r}; sys.path[0:1] = [] if p in sys.path[1:] else [p]; "
    "runpy.run_module(sys.argv.pop(1), run_name='__main__', alter_sys=True)"
)


def module_args(module, args=()):
    """Interpreter arguments that run ``module`` as ``__main__`` with ``args``, importing the
    same minnet as this process (not one in the ranks' working directory)."""
    import minnet

    where = os.path.dirname(os.path.dirname(os.path.abspath(minnet.__file__)))
    return ["-c", _BOOT.format(where=where), module] + [str(a) for a in args]


def mpirun_command(n, args, extra=()):
    """``mpirun -n n --oversubscribe [--allow-run-as-root] python args...`` as a list, with
    this interpreter. ``--oversubscribe`` lets n exceed the cores; Open MPI refuses to run
    as root without ``--allow-run-as-root``. ``extra``: more mpirun options. Raises
    FileNotFoundError (saying what to install) when there is no mpirun on PATH."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"mpirun_command: n must be a positive int, got {n!r}")
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        raise FileNotFoundError(MISSING_MPIRUN)
    cmd = [mpirun, "-n", str(n), "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    return cmd + list(extra) + [sys.executable] + list(args)
