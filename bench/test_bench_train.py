"""pytest-benchmark cases for training steps, the same models `minnet-bench train` runs.

    pytest bench/test_bench_train.py --benchmark-only
Each registered model is benchmarked for minnet and (when importable) PyTorch at its default
batch, grouped by model so the comparison sits in one table.
"""

import pytest

from minnet.bench.train import TRAIN_MODELS

try:
    import torch
except Exception:
    torch = None

PARAMS = [
    (name, impl)
    for name in TRAIN_MODELS
    for impl in (["minnet", "torch"] if torch is not None else ["minnet"])
]


@pytest.mark.parametrize("name,impl", PARAMS, ids=[f"{n}-{i}" for n, i in PARAMS])
def test_train_step(benchmark, name, impl):
    model = TRAIN_MODELS[name]
    impls = model.builder(model.default_batch or 1, torch)
    if impl not in impls:
        pytest.skip(f"{name} has no {impl} implementation")
    benchmark.group = f"train {name}"
    benchmark(impls[impl])
