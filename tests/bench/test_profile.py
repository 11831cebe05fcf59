"""`minnet-bench train --profile` and the FLOP/%-peak fields: the breakdown adds up, every
declared op is timed and restored, and the CLI prints and records both."""

import json
import re

import numpy as np
import pytest

import minnet
from minnet import _ops, kernels
from minnet.bench.__main__ import main
from minnet.bench.profile import CATEGORIES, category_of, kernel_timers, profile_step
from minnet.bench.roofline import step_flops
from minnet.bench.train import TRAIN_MODELS


def test_every_declared_op_has_a_category_and_is_restored():
    before = {op.name: getattr(kernels, op.name) for op in _ops.OPS}
    assert {category_of(op.name) for op in _ops.OPS} <= set(CATEGORIES)
    with pytest.raises(RuntimeError):
        with kernel_timers():
            assert all(getattr(kernels, n) is not f for n, f in before.items())
            raise RuntimeError("the block failed")
    assert all(getattr(kernels, n) is f for n, f in before.items())


def test_kernel_timers_count_calls_by_category():
    a = np.ones((8, 8), np.float32)
    with kernel_timers() as t:
        kernels.gemm(a, a)
        kernels.gemm(a, a)
        kernels.act_forward(a, "relu")
    assert t["calls"] == 3
    assert t["gemm/conv"] > 0 and t["eltwise"] > 0 and t["optimizer"] == 0


def test_profile_of_a_step_adds_up():
    step = TRAIN_MODELS["mlp3x128"].builder(32, None)["minnet"]
    prof = profile_step(step, steps=3, warmup=1)
    parts = sum(prof[c] for c in CATEGORIES)
    assert prof["step_s"] > 0
    assert parts == pytest.approx(prof["step_s"], rel=1e-9, abs=1e-12)
    assert prof["gemm/conv"] > 0 and prof["optimizer"] > 0
    # 4 linears: forward 4 GEMMs (bias fused), backward 4 dW + 3 dX GEMMs and 4 colsums, plus
    # the loss and activation kernels and 8 Adam updates (one per parameter)
    assert prof["calls"] >= 4 + 7 + 8


def test_train_steps_carry_their_flops():
    # mlp512 at batch 16: forward 2*16*(784*512 + 512*10), backward dW of both layers and dX of
    # the second only
    step = TRAIN_MODELS["mlp512"].builder(16, None)["minnet"]
    f1, f2 = 2 * 16 * 784 * 512, 2 * 16 * 512 * 10
    assert step_flops(step.model, step.inputs, call=lambda m, v: m(*v)) == (
        f1 + f2,
        (f1 + f2) + f1 + 2 * f2,
    )


def test_cli_train_profile_and_peak(tmp_path, capsys):
    out = tmp_path / "train.json"
    argv = ["train", "--model", "mlp3x128", "--batch", "16", "--threads", "1", "--compare"]
    argv += ["none", "--repeat", "1", "--profile", "--json", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "%peak" in text and "--profile" in text and "python ms" in text
    (rec,) = json.loads(out.read_text())["records"]
    assert rec["flops"] > 0 and 0 < rec["percent_of_peak"] < 100
    assert set(CATEGORIES) <= set(rec["profile"])


def test_info_prints_the_roofline(capsys):
    assert main(["--info"]) == 0
    text = capsys.readouterr().out
    assert "roofline" in text and "FMA peak GFLOP/s" in text and "triad" in text
    assert f"{minnet.get_num_threads()} thread" in text
    assert re.search(r"thread pool wake-up \(median\): spinning [\d.]+ us, asleep [\d.]+ us", text)
