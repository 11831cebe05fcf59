"""What ``minnet run NAME --ranks N`` and ``minnet-bench train --ranks`` hand to mpirun: the
ranks run a minnet module and import the same minnet as the launcher, never a ``minnet/``
folder in their working directory (a source checkout whose kernels were built by
``pip install .`` elsewhere)."""

import subprocess
import sys

import pytest

from minnet.distributed.launch import module_args, mpirun_command


def test_module_args_ignore_a_minnet_in_the_working_directory(tmp_path):
    decoy = tmp_path / "minnet"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('the decoy minnet was imported')\n")
    plain = subprocess.run(
        [sys.executable, "-m", "minnet.bench.distributed", "--help"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert plain.returncode != 0 and "decoy" in plain.stderr  # what python -m would do
    p = subprocess.run(
        [sys.executable, *module_args("minnet.bench.distributed", ["--help"])],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "--bucket-cap-mb" in p.stdout


def test_module_args_pass_the_arguments_and_run_main(tmp_path):
    p = subprocess.run(
        [sys.executable, *module_args("json.tool", ["--sort-keys", "--indent", 3])],
        input='{"b": 1, "a": 2}', cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert p.stdout == '{\n   "a": 2,\n   "b": 1\n}\n'


def test_mpirun_command_checks_n():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n must be a positive int"):
            mpirun_command(bad, ["-c", "pass"])
