"""minnet.examples.ddp_mnist: the lecture CNN on 2 ranks through ``minnet run ddp_mnist
--ranks 2`` (which calls mpirun) reaches the single-process example's quick accuracy; on 2
ranks with per-rank batch 64 it is the 1-rank training with batch 128 (the sampler's
interleaved shards make each global batch the same samples), so the figures agree."""

import re
import subprocess
import sys
import tempfile

from tests_helpers_mpi import env_with_this_minnet, requires_mpi
from tests_helpers_run import run_python

from minnet.examples import EXAMPLES, ddp_mnist

LINE = (
    r"^ddp_mnist: accuracy (\d\.\d{4}), epochs 2, ranks (\d), data Fashion-MNIST embedded subset$"
)


def test_docstring_matches_registry():
    assert ddp_mnist.__doc__.splitlines()[0] == EXAMPLES["ddp_mnist"]


@requires_mpi
def test_two_ranks_through_minnet_run():
    env = env_with_this_minnet()
    env["OMP_NUM_THREADS"] = "1"
    p = run_python(
        "-m",
        "minnet",
        "run",
        "ddp_mnist",
        "--ranks",
        "2",
        "--quick",
        "--verbose",
        "0",
        env=env,
        timeout=120,
    )
    found = re.findall(LINE, p.stdout, re.MULTILINE)
    assert len(found) == 1, p.stdout  # rank 0 reports, rank 1 is quiet
    acc, ranks = found[0]
    assert ranks == "2"
    assert float(acc) >= 0.64  # seed 0: 0.706 (1 rank: 0.706); the cnn example's quick bar
    assert "mpirun -n 2 --oversubscribe" in p.stderr  # the command it ran, shown
    one = run_python(
        "-m", "minnet.examples.ddp_mnist", "--quick", "--verbose", "0", env=env, timeout=120
    )
    acc1, ranks1 = re.findall(LINE, one.stdout, re.MULTILINE)[0]
    assert ranks1 == "1" and abs(float(acc1) - float(acc)) <= 0.01


def test_ranks_only_for_distributed_examples():
    p = subprocess.run(
        [sys.executable, "-m", "minnet", "run", "xor", "--ranks", "2"],
        capture_output=True,
        text=True,
        env=env_with_this_minnet(),
        cwd=tempfile.gettempdir(),  # not the checkout: CI's has no built kernels
        timeout=60,
    )
    assert p.returncode == 2
    assert "--ranks: xor is not a distributed example (those are: ddp_mnist)" in p.stderr
