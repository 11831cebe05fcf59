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


CAP_PROBE = (
    "import os, sys\n"
    "from minnet.bench.__main__ import cap_torch_isa, machine_line\n"
    "print(sorted(cap_torch_isa().items()))\n"
    "print(os.environ['ATEN_CPU_CAPABILITY'], os.environ.get('ONEDNN_MAX_CPU_ISA'))\n"
    "print('torch' in sys.modules, machine_line())\n"
)


def test_bench_caps_torch_to_the_same_level_but_keeps_the_users_choice():
    if _runtime.ISA_NAMES.index(_runtime.cpu_isa()) < 1:
        pytest.skip("this CPU has no AVX2")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("ONEDNN_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")
    }
    env.update(MINNET_ISA="avx2", ATEN_CPU_CAPABILITY="default")  # the user's own choice
    out = run_python("-c", CAP_PROBE, env=env).stdout.splitlines()
    assert out[0] == "[('MKL_ENABLE_INSTRUCTIONS', 'AVX2'), ('ONEDNN_MAX_CPU_ISA', 'AVX2')]"
    assert out[1] == "default AVX2"
    assert out[2].startswith("False ") and "MINNET_ISA=avx2" in out[2] and "(avx2)" in out[2]


def test_bench_leaves_torch_alone_without_minnet_isa():
    env = {k: v for k, v in os.environ.items() if k != "MINNET_ISA"}
    env.setdefault("ATEN_CPU_CAPABILITY", "unset-marker")
    out = run_python("-c", CAP_PROBE, env=env).stdout.splitlines()
    assert out[0] == "[]"
