"""bench/interference.py as a developer runs it (``--quick``, in a subprocess): it prints the
machine line, the GEMM pair against the sum of its halves alone, the training step with a
NumPy matmul between steps, and the pool's wake-up times, every figure a positive number."""

import os
import re
import sys

import pytest
from tests_helpers_run import run_python

SCRIPT = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "bench", "interference.py")
pytestmark = pytest.mark.skipif(not os.path.exists(SCRIPT), reason="bench/ not in this tree")
NUM = r"([0-9]+\.[0-9]+)"


def test_quick_run_prints_every_figure():
    out = run_python(os.path.abspath(SCRIPT), "--quick", timeout=300).stdout
    assert out.startswith("# ") and " cpus, Python " in out.splitlines()[0]
    pair = re.search(
        rf"gemm 128x784x512: minnet {NUM} ms, numpy {NUM} ms, pair {NUM} ms = {NUM}x the sum", out
    )
    assert pair, out
    mn, npm, both, ratio = map(float, pair.groups())
    assert min(mn, npm, both) > 0 and ratio == pytest.approx(both / (mn + npm), abs=0.011)
    step = re.search(rf"mlp512 train step \(batch 128\): {NUM} ms alone, {NUM} ms with", out)
    assert step and min(map(float, step.groups())) > 0, out
    wake = re.search(
        rf"spinning {NUM} us, asleep {NUM} us, after a numpy matmul ([0-9.]+|nan)", out
    )
    assert wake, out


def test_bad_arguments_are_refused():
    import subprocess
    import tempfile

    p = subprocess.run(
        [sys.executable, os.path.abspath(SCRIPT), "--rounds", "0"],
        capture_output=True, text=True, cwd=tempfile.gettempdir(), timeout=60,
    )  # fmt: skip
    assert p.returncode == 2 and "--threads and --rounds must be positive" in p.stderr
