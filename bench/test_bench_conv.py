"""pytest-benchmark cases for conv2d and pooling, the same cases
`minnet-bench kernels --op conv2d|maxpool2d|avgpool2d|batchnorm2d|conv_relu_pool` runs (quick
set).

    pytest bench/test_bench_conv.py --benchmark-only
"""

import pytest

from minnet.bench.suites import KERNEL_SUITES

try:
    import torch
except Exception:
    torch = None

CASES = [
    c
    for op in ("conv2d", "maxpool2d", "avgpool2d", "batchnorm2d", "conv_relu_pool")
    for c in KERNEL_SUITES[op](quick=True, torch=torch)
]
PARAMS = [(case, impl) for case in CASES for impl in case.impls]


@pytest.mark.parametrize("case,impl", PARAMS, ids=[f"{c.op} {c.name}-{i}" for c, i in PARAMS])
def test_conv_pool(benchmark, case, impl):
    benchmark.group = f"{case.op} {case.name}"
    benchmark(case.impls[impl])
