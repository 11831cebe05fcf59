"""The seam between the fast kernels and their NumPy references, per declared op (minnet._ops).

For every entry: both sides export it, from its family's modules, with the same signature;
the family's C source, wrapper, reference and test file exist; the test file exercises the op;
the benchmark suite it names is registered. And nothing is exported that is not declared.
The numerical agreement itself is tested per family in tests/kernels/test_<family>.py.
"""

import importlib
import inspect
import pathlib

import pytest

from minnet import _ops, kernels, reference
from minnet.bench.suites import KERNEL_SUITES

ROOT = pathlib.Path(__file__).resolve().parents[2]
IDS = [op.name for op in _ops.OPS]


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("op", _ops.OPS, ids=IDS)
def test_both_sides_export_the_op_from_its_family(op):
    fast = importlib.import_module(f"minnet._kernels.{op.family}")
    ref = importlib.import_module(f"minnet.reference.{op.family}")
    assert getattr(kernels, op.name) is getattr(fast, op.name)
    assert getattr(reference, op.name) is getattr(ref, op.name)


@pytest.mark.parametrize("op", _ops.OPS, ids=IDS)
def test_kernel_and_reference_have_the_same_signature(op):
    # names, kinds (positional / keyword-only) and defaults: a call that works on one side
    # works on the other and means the same
    assert _params(getattr(kernels, op.name)) == _params(getattr(reference, op.name))


@pytest.mark.parametrize("op", _ops.OPS, ids=IDS)
def test_the_family_test_file_exercises_the_op(op):
    # test_<family>.py, or test_<family>_<topic>.py (test_conv_relu_pool.py, and
    # test_optim_kernels.py, whose plain name would clash with tests/test_optim.py in pytest)
    files = sorted((ROOT / "tests" / "kernels").glob(f"test_{op.family}*.py"))
    assert files, f"no tests/kernels/test_{op.family}.py"
    assert any(op.name in f.read_text() for f in files), (
        f"{', '.join(f.name for f in files)} never call {op.name}"
    )


@pytest.mark.parametrize("op", _ops.OPS, ids=IDS)
def test_the_op_has_a_benchmark_suite(op):
    assert op.bench in KERNEL_SUITES, f"minnet-bench kernels has no suite {op.bench!r}"


@pytest.mark.parametrize("family", _ops.FAMILIES)
def test_the_family_is_one_name_in_every_layer(family):
    for path in [
        f"csrc/{family}.c",
        f"csrc/{family}.h",
        f"minnet/_kernels/{family}.pyx",
        f"minnet/reference/{family}.py",
    ]:
        assert (ROOT / path).is_file(), f"family {family!r} has no {path}"
    assert _ops.ops_of(family), f"family {family!r} declares no op"


def test_exports_are_exactly_the_declared_ops_and_constants():
    declared = [op.name for op in _ops.OPS] + list(_ops.CONSTANTS)
    assert sorted(kernels.__all__) == sorted(declared)
    assert sorted(reference.__all__) == sorted(declared)
    assert len(set(declared)) == len(declared), "an op is declared twice"


@pytest.mark.parametrize("name", list(_ops.CONSTANTS))
def test_shared_tables_are_equal(name):
    assert getattr(kernels, name) == getattr(reference, name)


@pytest.mark.parametrize("family", _ops.FAMILIES)
def test_reference_modules_declare_nothing_undeclared(family):
    # a public function added to a reference module but not to minnet._ops would be an op the
    # seam never checks
    # (a module's __all__ is what it calls public; the rnn module's cell steps are helpers)
    ref = importlib.import_module(f"minnet.reference.{family}")
    public = getattr(ref, "__all__", None) or [
        n
        for n, v in vars(ref).items()
        if inspect.isfunction(v) and not n.startswith("_") and v.__module__ == ref.__name__
    ]
    declared = {op.name for op in _ops.ops_of(family)}
    assert set(public) <= declared, f"undeclared in minnet._ops: {set(public) - declared}"


def test_unknown_family_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown kernel family 'conv2d'.*gemm"):
        _ops.ops_of("conv2d")


@pytest.mark.parametrize("suite", sorted({op.bench for op in _ops.OPS}))
def test_each_benchmark_suite_builds_cases_whose_minnet_impl_runs(suite):
    cases = KERNEL_SUITES[suite](True, None)  # quick, no PyTorch
    assert cases, f"suite {suite!r} has no case"
    for case in cases[:3]:
        assert "minnet" in case.impls, case.name
        case.impls["minnet"]()


def test_minnet_bench_selects_suites_by_family():
    from minnet.bench.suites import KERNEL_SELECTORS, select_suites

    assert set(_ops.FAMILIES) <= set(KERNEL_SELECTORS)
    assert select_suites(["conv"]) == ["conv2d", "conv_relu_pool"]
    assert select_suites(["rnn"]) == ["gru", "lstm", "rnn"]  # the whole family
    assert select_suites(["gru", "norm"]) == ["gru", "batchnorm2d"]
    for family in _ops.FAMILIES:
        assert select_suites([family]) == [
            s for s in KERNEL_SUITES if s in {op.bench for op in _ops.ops_of(family)}
        ]
