"""pytest-benchmark cases for the recurrent layers: the cases `minnet-bench kernels --op
gru|lstm|rnn` runs (the issue's three standard shapes, forward and forward + backward, minnet
against the NumPy reference and PyTorch when importable), and the seq2seq training step.

    pytest bench/test_bench_rnn.py --benchmark-only
Grouped by case so minnet and its baselines sit in one table.
"""

import pytest

from minnet.bench.suites import KERNEL_SUITES
from minnet.bench.train import TRAIN_MODELS

try:
    import torch
except Exception:
    torch = None

CASES = [case for op in ("gru", "lstm", "rnn") for case in KERNEL_SUITES[op](False, torch)]
PARAMS = [(case, impl) for case in CASES for impl in case.impls]


@pytest.mark.parametrize("case,impl", PARAMS, ids=[f"{c.op} {c.name}-{i}" for c, i in PARAMS])
def test_rnn(benchmark, case, impl):
    benchmark.group = f"{case.op} {case.name}"
    benchmark(case.impls[impl])


SEQ2SEQ = TRAIN_MODELS["seq2seq"].builder(64, torch)


@pytest.mark.parametrize("impl", list(SEQ2SEQ))
def test_seq2seq_step(benchmark, impl):
    benchmark.group = "seq2seq train step (batch 64)"
    benchmark(SEQ2SEQ[impl])
