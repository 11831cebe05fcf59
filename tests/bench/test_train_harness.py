"""The `minnet-bench train` harness: every registered model builds and steps, and the CLI
prints one row per model and thread count (torch left out to keep this fast)."""

import json

import numpy as np

from minnet.bench.__main__ import main
from minnet.bench.train import TRAIN_MODELS


def test_registered_models_step():
    for name in TRAIN_MODELS:
        model = TRAIN_MODELS[name]
        step = model.builder(model.default_batch or 1, None)["minnet"]
        losses = [float(step().item()) for _ in range(6)]
        assert np.all(np.isfinite(losses)), name
        if name in ("tiny", "mlp3x128"):  # SGD / Adam on one repeated batch: the loss falls
            assert losses[-1] < losses[0], name


def test_cli_train_rows_and_json(tmp_path, capsys):
    out = tmp_path / "train.json"
    assert (
        main(
            [
                "train",
                "--model",
                "tiny,mlp3x128",
                "--batch",
                "16",
                "--threads",
                "1",
                "--compare",
                "none",
                "--repeat",
                "1",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "tiny" in text and "mlp3x128" in text
    records = json.loads(out.read_text())["records"]
    assert [(r["model"], r["batch"]) for r in records] == [("tiny", 1), ("mlp3x128", 16)]
    assert all(r["minnet_ms"] > 0 and "minnet_faults_per_step" in r for r in records)
