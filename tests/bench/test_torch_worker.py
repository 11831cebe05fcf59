"""The torch-nopf worker (minnet/bench/_torch_worker.py): a separate torch process started with
GLIBC_TUNABLES, timing the same cases as this process on request, its turns taking their place
in the harness's rounds. Skipped without torch; the quick pooling cases keep it to seconds."""

import json
import math
import os

import pytest

from minnet.bench import __main__ as bench_main
from minnet.bench._torch_worker import NOPF_TUNABLES, TorchWorker, WorkerError
from minnet.bench.suites import KERNEL_SUITES

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def worker():
    before = os.environ.get("GLIBC_TUNABLES")
    w = TorchWorker()
    try:
        yield w
    finally:
        w.close()
    assert os.environ.get("GLIBC_TUNABLES") == before
    assert w.proc.returncode == 0


def test_env_applies_to_the_worker_only(worker):
    assert worker.info["glibc_tunables"].endswith(NOPF_TUNABLES)
    assert worker.info["pid"] != os.getpid()
    assert worker.info["torch"] == torch.__version__
    # this process is untouched (GLIBC_TUNABLES is read at process start: nothing to undo)
    assert NOPF_TUNABLES not in os.environ.get("GLIBC_TUNABLES", "")
    # the process was started with it (glibc splits the string in place when it parses it, so
    # /proc shows only its start)
    with open(f"/proc/{worker.info['pid']}/environ", "rb") as f:
        assert b"GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295" in f.read()


def test_same_cases_and_timed_turns(worker):
    wcases = worker.kernel_cases("maxpool2d", quick=True)
    mine = KERNEL_SUITES["maxpool2d"](True, None)
    assert [c["name"] for c in wcases] == [c.name for c in mine]
    case = wcases[-1]  # the smallest pooling case, fwd+bwd
    assert set(case["impls"]) == {"torch", "torch_cl"}
    for impl in case["impls"]:
        t = worker.remote(case["key"], impl, threads=1).measure_turn()
        assert 0 < t.median_s < 1 and math.isfinite(t.median_s)
        assert 0 < t.min_s <= t.median_s
        assert t.calls >= 1 and t.faults_per_call >= 0
    worker.remote(case["key"], "torch", threads=1)()  # one untimed call
    with pytest.raises(WorkerError):
        worker.request(cmd="time", key="no such case", impl="torch", threads=1)
    assert worker.request(cmd="hello")["pid"] == worker.info["pid"]  # still serving


def test_cli_kernels_torch_nopf_columns_and_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(bench_main, "SETTLE_S", 0.0)
    out = tmp_path / "pool.json"
    assert (
        bench_main.main(
            [
                "kernels",
                "--op",
                "avgpool2d",
                "--case",
                "14, 14) 2x2 stride 2",
                "--quick",
                "--repeat",
                "1",
                "--threads",
                "1",
                "--no-torch",
                "--torch-nopf",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "torch-nopf ms" in text and "x torch-cl-nopf" in text
    payload = json.loads(out.read_text())
    assert payload["torch_nopf"]["glibc_tunables"].endswith(NOPF_TUNABLES)
    assert [r["case"] for r in payload["records"]] == [
        "(128, 32, 14, 14) 2x2 stride 2 fwd",
        "(128, 32, 14, 14) 2x2 stride 2 fwd+bwd",
    ]
    for rec in payload["records"]:
        for impl in ("torch_nopf", "torch_cl_nopf"):
            assert rec[f"{impl}_ms"] > 0 and math.isfinite(rec[f"ratio_{impl}"])
            assert rec[f"{impl}_faults_per_call"] >= 0
        assert "torch_ms" not in rec  # --no-torch: no torch in this process
    assert NOPF_TUNABLES not in os.environ.get("GLIBC_TUNABLES", "")


def test_train_step_in_the_worker(worker):
    built = worker.train_impls("tiny", batch=1, threads=1)
    assert built["impls"] == ["torch"]
    t = worker.remote(built["key"], "torch", threads=1).measure_turn()
    assert 0 < t.median_s < 1 and math.isfinite(t.median_s) and t.faults_per_call >= 0


def test_a_worker_that_cannot_start_is_reported():
    with pytest.raises(WorkerError):
        TorchWorker(python="/bin/false")


def test_worker_imports_this_process_minnet_from_any_cwd(tmp_path, monkeypatch):
    # CI runs pytest from a source checkout whose minnet/ has no compiled kernels; `python -m`
    # there would import that tree. A decoy package that cannot be imported stands in for it.
    decoy = tmp_path / "minnet"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("raise ImportError('decoy minnet imported')\n")
    monkeypatch.chdir(tmp_path)
    w = TorchWorker()
    try:
        assert w.info["glibc_tunables"].endswith(NOPF_TUNABLES)
    finally:
        w.close()
    assert w.proc.returncode == 0
