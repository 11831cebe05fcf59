"""``minnet-bench train --ranks 1,2``: the harness launches mpirun jobs and prints one row per
rank count with the step time, samples/s, efficiency against 1 rank, the allreduce cost and
the overlap; its --json records carry the same figures."""

import json

import pytest
from tests_helpers_mpi import env_with_this_minnet, requires_mpi

pytestmark = requires_mpi


def test_ranks_rows_and_json(tmp_path, capsys, monkeypatch):
    from minnet.bench.__main__ import main

    # the jobs' ranks must import this minnet too
    monkeypatch.setenv("PYTHONPATH", env_with_this_minnet()["PYTHONPATH"])
    out = tmp_path / "ranks.json"
    args = ["train", "--model", "mlp3x128", "--batch", "16", "--ranks", "1,2", "--threads", "2"]
    args += ["--repeat", "1", "--alternations", "1", "--bucket-cap-mb", "0.05", "--no-torch"]
    assert main(args + ["--json", str(out)]) == 0
    text = capsys.readouterr().out
    rows = [line.split() for line in text.splitlines() if line.startswith("mlp3x128")]
    assert [r[2] for r in rows] == ["1", "2"]  # ranks
    assert [r[3] for r in rows] == ["2", "1"]  # threads per rank: the same 2 cores
    recs = json.loads(out.read_text())["records"]
    one, two = recs
    assert (one["ranks"], two["ranks"], two["batch_per_rank"], two["batch"]) == (1, 2, 8, 16)
    assert one["efficiency"] == 1.0 and one["comm_s"] == 0.0 and one["overlap"] is None
    assert two["step_s"] > 0 and two["comm_s"] > 0 and 0 <= two["overlap"] <= 1
    assert two["buckets"] >= 2  # 0.05 MiB buckets split the 134k parameters
    assert two["samples_per_s"] == pytest.approx(16 / two["step_s"])


def test_ranks_errors(capsys):
    from minnet.bench.__main__ import main

    with pytest.raises(SystemExit):
        main(["train", "--model", "mlp512", "--ranks", "2", "--threads", "1,2", "--no-torch"])
    assert "--ranks: give --threads one count" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--model", "tiny", "--ranks", "2", "--threads", "2", "--no-torch"])
    assert "the global batch 1 of tiny does not divide over 2 ranks" in capsys.readouterr().err
