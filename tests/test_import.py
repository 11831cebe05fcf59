"""``import minnet`` reaches every public submodule, lazily (PEP 562).

Each check runs in a fresh interpreter, because this test process has long imported everything.
The import time itself is measured, not asserted (bench/RESULTS.md, "Issue 15"); what is
asserted is its cause: a plain ``import minnet`` loads none of the subpackages or heavy stdlib
modules (multiprocessing, zipfile, json) that a first line of user code may not need.
"""

import pytest
from tests_helpers_run import run_python

import minnet

PUBLIC = [
    "nn",
    "optim",
    "data",
    "utils",
    "keras",
    "datasets",
    "vision",
    "examples",
    "reference",
    "testing",
    "bench",
    "kernels",
    "plot",
    "serialization",
    "autograd",
    "random",
]  # minnet.device is torch.device


def run(code):
    return run_python("-c", code).stdout


def test_plain_import_loads_no_subpackage():
    loaded = run("import sys, minnet; print(' '.join(sorted(sys.modules)))").split()
    for name in [
        "minnet.nn",
        "minnet.optim",
        "minnet.data",
        "minnet.keras",
        "minnet.datasets",
        "minnet.vision",
        "minnet.serialization",
        "minnet.plot",
        "multiprocessing",
        "zipfile",
        "json",
        "matplotlib",
    ]:
        assert name not in loaded, f"`import minnet` imported {name}"


@pytest.mark.parametrize("name", PUBLIC)
def test_submodule_reachable_after_plain_import(name):
    # The issue's example: minnet.datasets.fashion_mnist.load_data after `import minnet`.
    code = f"import minnet; m = minnet.{name}; print(m.__name__)"
    assert run(code).strip() == f"minnet.{name}"


def test_issue_example_and_lazy_functions():
    out = run(
        "import minnet; print(minnet.datasets.fashion_mnist.load_data.__name__);"
        "print(minnet.save.__module__, minnet.load.__module__);"
        "from minnet import nn, optim; print(nn.Linear.__name__, optim.Adam.__name__)"
    )
    assert out.split() == [
        "load_data",
        "minnet.serialization",
        "minnet.serialization",
        "Linear",
        "Adam",
    ]


def test_dir_lists_lazy_names():
    names = dir(minnet)
    for name in PUBLIC + ["save", "load"]:
        assert name in names


def test_star_import_exports_everything_in_all():
    ns = {}
    exec("from minnet import *", ns)
    missing = [n for n in minnet.__all__ if n not in ns]
    assert not missing


def test_unknown_attribute_is_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonexistent_thing'"):
        minnet.nonexistent_thing
