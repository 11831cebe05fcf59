"""Fixtures the kernel tests share: every ISA level this CPU runs, 1 and 2 threads, every
conv algorithm."""

import pytest

from minnet._kernels import _runtime, conv

ISAS = [
    name
    for name in _runtime.ISA_NAMES
    if _runtime.ISA_NAMES.index(name) <= _runtime.ISA_NAMES.index(_runtime.cpu_isa())
]


@pytest.fixture(params=ISAS)
def isa(request):
    """Dispatch every kernel to this ISA level for the test."""
    _runtime.set_isa(request.param)
    yield request.param
    _runtime.set_isa(None)


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    """Run the kernels with this many OpenMP threads for the test."""
    old = _runtime.get_num_threads()
    _runtime.set_num_threads(request.param)
    yield request.param
    _runtime.set_num_threads(old)


@pytest.fixture(params=["auto", "im2col", "direct", "implicit"])
def algorithm(request):
    """Run the conv kernels with this algorithm for the test."""
    conv.set_algorithm(request.param)
    yield request.param
    conv.set_algorithm("auto")
