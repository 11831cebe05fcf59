"""The `minnet-bench epoch` harness: the command line end to end on a few hundred images, the
minnet and PyTorch versions of each course model being the same network, the same training
loop on both sides, and one-line errors for bad arguments or missing data."""

import json
import subprocess
import sys

import numpy as np
import pytest

import minnet
from minnet.bench.__main__ import main
from minnet.bench.course import EPOCH_MODELS, Trainer, load_images, parameter_count

try:
    import torch
except Exception:  # the torch comparisons skip without it
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not importable")


def test_cli_epoch_table_and_json(tmp_path):
    out = tmp_path / "epoch.json"
    cmd = [
        sys.executable,
        "-m",
        "minnet.bench",
        "epoch",
        "--model",
        "dense512",
        "--epochs",
        "1",
        "--limit",
        "512",
        "--compare",
        "none",
        "--subset",
        "--threads",
        "1",
        "--json",
        str(out),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("# ") and "cpus" in lines[0] and "env:" in lines[0]
    header = next(i for i, line in enumerate(lines) if line.startswith("model "))
    assert "minnet s/ep" in lines[header] and "x torch" in lines[header]
    row = lines[header + 2].split()
    assert row[:4] == ["dense512", "1", "128", "1"] and row[5:8] == ["-", "-", "-"]
    rec = json.loads(out.read_text())["records"][0]
    assert (rec["model"], rec["epochs"], rec["n_train"], rec["n_test"]) == (
        "dense512",
        1,
        512,
        1000,
    )
    assert len(rec["minnet_epoch_s"]) == 1 and rec["minnet_s_per_epoch"] > 0
    assert float(row[4]) == pytest.approx(rec["minnet_s_per_epoch"], abs=1e-3)
    # four Adam steps on 512 images already classify far above chance (0.1)
    assert rec["minnet_accuracy"] > 0.45 and float(row[8]) == pytest.approx(
        rec["minnet_accuracy"], abs=1e-4
    )
    assert "torch_s_per_epoch" not in rec


def test_minnet_trainer_learns():
    # the fused conv Sequential through the harness's loop: 32 Adam steps on 2,048 images
    # (PyTorch's run of the same gets 0.55 on the 1,000 test images; chance is 0.1)
    data = load_images(subset=True, limit=2048)[:2]
    tr = Trainer(EPOCH_MODELS["cnn"], "minnet", data, seed=0)
    before = tr.accuracy()
    for e in range(2):
        tr.epoch(np.random.default_rng(e).permutation(2048))
    assert tr.accuracy() > max(0.45, before + 0.25)
    assert tr.losses[-1] < 1.6


@needs_torch
@pytest.mark.parametrize("name", list(EPOCH_MODELS))
def test_minnet_and_torch_models_are_the_same_network(name):
    """Same parameter names, counts and output shape; with torch's weights loaded, minnet's
    model computes torch's function."""
    spec = EPOCH_MODELS[name]
    mm, tm = spec.build(minnet.nn), spec.build(torch.nn)
    assert parameter_count(mm) == parameter_count(tm)
    assert list(mm.state_dict()) == list(tm.state_dict())
    mm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    mm.eval(), tm.eval()
    x = np.random.default_rng(1).random((3,) + spec.input_shape, dtype=np.float32)
    with minnet.no_grad():
        a = mm(minnet.from_numpy(x)).numpy()
    with torch.no_grad():
        b = tm(torch.from_numpy(x)).numpy()
    assert a.shape == b.shape == (3, 10)
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("name", ["dense512", "gru_rows"])
def test_same_loop_in_both_frameworks(name):
    """From the same weights over the same permutation, an epoch of the harness's loop
    (slicing, loss, backward, Adam) ends at the same weights in minnet and torch."""
    data = load_images(subset=True, limit=384)[:2]
    spec = EPOCH_MODELS[name]
    trainers = {f: Trainer(spec, f, data, seed=0, torch=torch) for f in ("minnet", "torch")}
    start = {k: v.detach().numpy().copy() for k, v in trainers["torch"].model.state_dict().items()}
    trainers["minnet"].model.load_state_dict(start)
    perm = np.random.default_rng(0).permutation(384)
    for tr in trainers.values():
        tr.epoch(perm)
    got = trainers["minnet"].model.state_dict()
    steps = 3
    for k, v in trainers["torch"].model.state_dict().items():
        moved = np.abs(v.numpy() - start[k]).max()
        assert moved > 0.5 * spec.lr, k  # the three Adam steps moved every tensor
        diff = np.abs(np.asarray(got[k]) - v.numpy())
        # Adam's first steps are ~lr * sign(grad): where a gradient is ~0, rounding may flip
        # its sign, so a few weights may differ by up to 2 lr a step; the rest agree closely
        assert np.quantile(diff, 0.999) < 0.01 * moved, k
        assert diff.max() <= 2 * steps * spec.lr * 1.01, k
    assert trainers["minnet"].losses[-1] == pytest.approx(trainers["torch"].losses[-1], rel=1e-3)


@pytest.mark.parametrize(
    "argv,what",
    [
        (["--epochs", "0"], "--epochs"),
        (["--model", "resnet"], "unknown model 'resnet'"),
        (["--threads", "2,x"], "--threads"),
        (["--compare", "jax"], "--compare"),
    ],
)
def test_bad_arguments_one_line_exit_2(capsys, argv, what):
    with pytest.raises(SystemExit) as e:
        main(["epoch", "--subset", "--compare", "none"] + argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and what in err and err.startswith("minnet-bench epoch: error:")


def test_missing_full_set_one_line_exit_1(tmp_path, monkeypatch, capsys):
    # no system folders, an empty Keras cache and no $MINNET_DATASETS: nothing to find
    monkeypatch.setenv("MINNET_DATA_NO_SYSTEM", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.delenv("MINNET_DATASETS", raising=False)
    assert main(["epoch", "--model", "dense512", "--compare", "none", "--limit", "128"]) == 1
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "apt-get install dataset-fashion-mnist" in captured.err and "--subset" in captured.err
    assert "model" not in captured.out  # no table was started
