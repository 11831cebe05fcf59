"""pytest-benchmark cases for GEMM, the same cases `minnet-bench kernels --op gemm` runs.

    pytest bench/ --benchmark-only
Each case is benchmarked for minnet and for its NumPy (and PyTorch, when importable) baseline,
grouped by case so the comparison sits in one table.
"""

import pytest

from minnet.bench.suites import KERNEL_SUITES

try:
    import torch
except Exception:
    torch = None

CASES = KERNEL_SUITES["gemm"](quick=True, torch=torch)
PARAMS = [(case, impl) for case in CASES for impl in case.impls]


@pytest.mark.parametrize("case,impl", PARAMS, ids=[f"{c.name}-{i}" for c, i in PARAMS])
def test_gemm(benchmark, case, impl):
    benchmark.group = f"gemm {case.name}"
    benchmark(case.impls[impl])
