"""Running Python in a fresh interpreter, for the tests that need a clean process."""

import subprocess
import sys
import tempfile


def run_python(*args, env=None, cwd=None, timeout=120):
    """``python *args`` (``"-c", code`` or ``"-m", module, ...``) in a new interpreter, its
    output captured as text; fails the test unless it exits 0, and returns the
    CompletedProcess.

    The working directory is the system's temporary folder unless ``cwd`` says otherwise:
    Python puts it first on sys.path, and a source checkout without built kernels there would
    shadow the installed package. ``env``: the whole environment (default: this process's).
    """
    p = subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=tempfile.gettempdir() if cwd is None else cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert p.returncode == 0, p.stdout + p.stderr
    return p
