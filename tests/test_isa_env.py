"""MINNET_ISA caps the kernels' instruction set for a whole process (an AVX-512 machine
measuring what an AVX2 laptop gets); a bad value warns and never stops the import."""

import os

import pytest
from tests_helpers_run import run_python

from minnet._kernels import _runtime

PROBE = (
    "import warnings, minnet\n"
    "from minnet.nn import functional as F\n"
    "info = minnet.build_info()\n"
    "x = minnet.randn(4, 9)\n"
    "assert F.relu(x).shape == (4, 9)\n"
    "print(info['isa'], '|', info['isa_source'])\n"
)


def _run(value):
    env = dict(os.environ, MINNET_ISA=value)
    # (run from the temporary folder: a source checkout in the cwd would shadow the installed
    # package and its kernels)
    r = run_python("-W", "always", "-c", PROBE, env=env)
    isa, source = (s.strip() for s in r.stdout.strip().split("|"))
    return isa, source, r.stderr


@pytest.mark.parametrize("level", _runtime.ISA_NAMES)
def test_minnet_isa_caps_the_level(level):
    if _runtime.ISA_NAMES.index(level) > _runtime.ISA_NAMES.index(_runtime.cpu_isa()):
        isa, source, err = _run(level)
        assert isa == _runtime.cpu_isa() and "ignored" in source and "MINNET_ISA" in err
    else:
        isa, source, err = _run(level)
        assert (isa, source) == (level, f"MINNET_ISA={level}")
        assert "Warning" not in err


@pytest.mark.parametrize("value", ["auto", ""])
def test_auto_is_the_best_level(value):
    isa, source, _ = _run(value)
    assert isa == _runtime.cpu_isa() and source.startswith("auto")


def test_unknown_name_warns_and_keeps_the_best_level():
    isa, source, err = _run("sse9")
    assert isa == _runtime.cpu_isa()
    assert "RuntimeWarning" in err and "MINNET_ISA='sse9' ignored" in err
    assert "generic, avx2, avx512 or auto" in err
