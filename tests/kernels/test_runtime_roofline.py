"""The roofline probes of _runtime (csrc/roofline.c): the FMA peak per ISA and dtype and the
triad bandwidth. Their figures are measured, never asserted against a time; the tests check
that every variant runs and returns a rate, and that bad arguments are refused."""

import math

import numpy as np
import pytest

from minnet._kernels import _runtime

ISAS = _runtime.ISA_NAMES[: _runtime.ISA_NAMES.index(_runtime.cpu_isa()) + 1]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", ["float32", "float64", np.float32])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_peak_flops_runs_every_variant(isa, dtype, threads):
    r = _runtime.peak_flops(isa, dtype, threads, seconds=0.002)
    assert math.isfinite(r) and r > 0


def test_peak_defaults_follow_the_current_settings():
    assert _runtime.peak_flops(seconds=0.002) > 0


@pytest.mark.parametrize(
    "kwargs, err, text",
    [
        (dict(isa="sse9"), ValueError, "isa must be one of"),
        (dict(dtype="float16"), TypeError, "dtype must be float32 or float64"),
        (dict(dtype="int32"), TypeError, "dtype must be float32 or float64"),
        (dict(threads=0), ValueError, "threads must be in"),
        (dict(seconds=0), ValueError, "seconds must be in"),
        (dict(seconds=float("nan")), ValueError, "seconds must be in"),
    ],
)
def test_peak_flops_refuses_bad_arguments(kwargs, err, text):
    with pytest.raises(err, match=text):
        _runtime.peak_flops(**kwargs)


def test_peak_flops_refuses_an_isa_the_cpu_lacks():
    if _runtime.cpu_isa() == "avx512":
        pytest.skip("this CPU has every level")
    with pytest.raises(ValueError, match="supports at most"):
        _runtime.peak_flops("avx512")


@pytest.mark.parametrize("threads", [1, 2])
def test_triad_bandwidth_runs(threads):
    r = _runtime.triad_bandwidth(threads, megabytes=8, reps=2)
    assert math.isfinite(r) and r > 0


@pytest.mark.parametrize(
    "kwargs", [dict(threads=0), dict(megabytes=0), dict(reps=0), dict(megabytes=1e9)]
)
def test_triad_bandwidth_refuses_bad_arguments(kwargs):
    with pytest.raises(ValueError):
        _runtime.triad_bandwidth(**kwargs)
