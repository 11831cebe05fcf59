"""Running a script on several MPI ranks (``mpirun -n N``) for the distributed tests.

The tests skip, saying why, when mpi4py cannot be imported or Open MPI's ``mpirun`` is not on
PATH (.ci/run installs both: ``apt-get install openmpi-bin libopenmpi-dev``, then
``pip install mpi4py``). The ranks run this interpreter (``sys.executable``) from a temporary
folder, with the folder holding the minnet under test first on ``PYTHONPATH``: a source
checkout's build or the installed package, whichever this process imported.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import minnet

MPIRUN = shutil.which("mpirun")


def _missing():
    """Why the MPI tests cannot run, or None. mpi4py is imported in a child process: MPI
    initialized in the test process itself would stay initialized (and fork() after it, as
    the DataLoader tests do, is unsafe)."""
    if not MPIRUN:
        return "mpirun not on PATH"
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py not installed"
    p = subprocess.run(
        [sys.executable, "-c", "from mpi4py import MPI"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if p.returncode != 0:
        return "mpi4py does not load: " + (p.stderr.strip().splitlines() or ["?"])[-1]
    return None


MISSING = _missing()

requires_mpi = pytest.mark.skipif(
    MISSING is not None,
    reason=(
        "needs Open MPI's mpirun and mpi4py (apt-get install openmpi-bin libopenmpi-dev; "
        f'pip install "minnet-nn[mpi]"): {MISSING}'
    ),
)


def mpirun_command(n):
    """mpirun's arguments for n local ranks: as root it needs --allow-run-as-root, and
    --oversubscribe lets n exceed the cores (this machine has 2)."""
    cmd = [MPIRUN, "-n", str(n), "--oversubscribe"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    return cmd


def env_with_this_minnet():
    """This process's environment with the folder of the minnet it imported first on
    PYTHONPATH, so a child started elsewhere imports the same one."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(minnet.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


# prepended to every rank's script: report(obj) saves this rank's findings as JSON (one file
# per rank: the ranks' stdout lines can interleave)
PRELUDE = """
def report(obj):
    import json, os
    from mpi4py import MPI
    rank = MPI.COMM_WORLD.rank
    with open(f"result-{rank}.json.tmp", "w") as f:
        json.dump(dict(obj, rank=rank), f)
    os.replace(f"result-{rank}.json.tmp", f"result-{rank}.json")

"""


def run_mpi(code, n=2, timeout=60, check=True, env_extra=None, mpi_args=()):
    """Run the Python source ``code`` on n ranks; returns the CompletedProcess (stdout and
    stderr as text) with ``.results``: what each rank passed to ``report(obj)``, in rank
    order. ``check``: fail the test unless the job exits 0. ``env_extra``: variables to set
    (None: to remove); ``mpi_args``: more mpirun options."""
    env = env_with_this_minnet()
    env.setdefault("OMP_NUM_THREADS", "1")  # 2 ranks on 2 cores: one thread each
    for k, v in (env_extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "rank_script.py")
        with open(script, "w") as f:
            f.write(PRELUDE + code)
        p = subprocess.run(
            mpirun_command(n) + list(mpi_args) + [sys.executable, script],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        p.results = []
        for r in range(n):
            path = os.path.join(tmp, f"result-{r}.json")
            if os.path.exists(path):
                with open(path) as f:
                    p.results.append(json.load(f))
    if check:
        assert p.returncode == 0, f"exit {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p
