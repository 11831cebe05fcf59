"""pytest-benchmark cases for whole epochs of the course models, the same loop `minnet-bench
epoch` runs, on the first 1,280 images of the embedded Fashion-MNIST subset (10 batches of 128).

    pytest bench/test_bench_course.py --benchmark-only
Each model is benchmarked for minnet and (when importable) PyTorch, grouped by model. For the
full data set and the course's epoch counts use `minnet-bench epoch`.
"""

import numpy as np
import pytest

from minnet.bench.course import EPOCH_MODELS, Trainer, load_images

try:
    import torch
except Exception:
    torch = None

N = 1280
PARAMS = [
    (name, impl)
    for name in EPOCH_MODELS
    for impl in (["minnet", "torch"] if torch is not None else ["minnet"])
]


@pytest.fixture(scope="module")
def data():
    return load_images(subset=True, limit=N)[:2]


@pytest.mark.parametrize("name,impl", PARAMS, ids=[f"{n}-{i}" for n, i in PARAMS])
def test_epoch(benchmark, data, name, impl):
    trainer = Trainer(EPOCH_MODELS[name], impl, data, torch=torch)
    perm = np.random.default_rng(0).permutation(N)
    benchmark.group = f"epoch {name} ({N} images)"
    benchmark.pedantic(trainer.epoch, args=(perm,), rounds=3, warmup_rounds=1)
    assert np.isfinite(trainer.losses[-1])
