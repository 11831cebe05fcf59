"""`minnet-bench`'s command line as a newcomer meets it: every wrong value is one line on
stderr naming the argument, exit code 2, before any work (nothing on stdout); options shared
by the commands work before the command too; --help lists every registered op and model."""

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import pytest

from minnet.bench.__main__ import main
from minnet.bench.course import EPOCH_MODELS
from minnet.bench.suites import KERNEL_SUITES
from minnet.bench.train import TRAIN_MODELS

MISSING = os.path.join(tempfile.gettempdir(), "minnet-no-such-folder", "out.json")


def bench(*args):
    return subprocess.run(
        [sys.executable, "-m", "minnet.bench", *args],
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        timeout=60,
    )


# (arguments, words the one error line must contain; the first is the argument named)
BAD = [
    # thread lists
    (["kernels", "--threads", "abc"], ["--threads", "'abc'", "1,2"]),
    (["kernels", "--threads", "0"], ["--threads", "positive integers"]),
    (["kernels", "--threads", ""], ["--threads", "separated by commas"]),
    (["kernels", "--threads", "-1"], ["--threads", "'-1'"]),
    (["kernels", "--threads", "-1,2"], ["--threads", "--threads=VALUE"]),
    (["kernels", "--threads=-1,2"], ["--threads", "'-1' in '-1,2'"]),
    (["kernels", "--threads", "1,,2"], ["--threads", "'1,,2'"]),
    (["kernels", "--threads", "1.5"], ["--threads", "'1.5'"]),
    (["kernels", "--threads", "100000"], ["--threads", "up to"]),
    (["train", "--threads", "2,x"], ["--threads", "'x' in '2,x'"]),
    (["epoch", "--threads", "0"], ["--threads"]),
    (["--threads", "0", "kernels"], ["--threads"]),
    (["kernels", "--threads"], ["--threads", "expected a value"]),
    # counts
    (["kernels", "--repeat", "-1"], ["--repeat", "positive integer", "-1"]),
    (["kernels", "--repeat", "0"], ["--repeat", "positive integer", "0"]),
    (["train", "--repeat", "2.5"], ["--repeat", "'2.5'"]),
    (["--repeat", "-1", "kernels"], ["--repeat", "-1"]),
    (["train", "--batch", "0"], ["--batch", "positive integer"]),
    (["train", "--batch", "x"], ["--batch", "'x'"]),
    (["epoch", "--batch", "-3"], ["--batch", "-3"]),
    (["epoch", "--epochs", "0"], ["--epochs", "positive integer"]),
    (["epoch", "--epochs", "1.5"], ["--epochs", "'1.5'"]),
    (["epoch", "--limit", "0"], ["--limit", "positive integer"]),
    (["epoch", "--seed", "-1"], ["--seed", "integer >= 0", "-1"]),
    (["epoch", "--seed", "x"], ["--seed", "'x'"]),
    # registered names: the known ones are listed
    (["kernels", "--op", "nope"], ["--op", "unknown op 'nope'", *KERNEL_SUITES]),
    (["kernels", "--op", "gemm,nope"], ["--op", "unknown op 'nope'"]),
    (["kernels", "--op", "gemm,"], ["--op", "'gemm,'", "gemm"]),
    (["kernels", "--op", ""], ["--op", "separated by commas"]),
    (["train", "--model", "tiny,nope"], ["--model", "unknown model 'nope'", *TRAIN_MODELS]),
    (["epoch", "--model", "resnet"], ["--model", "unknown model 'resnet'", *EPOCH_MODELS]),
    (["train", "--compare", "jax"], ["--compare", "'jax'", "torch", "none"]),
    (["epoch", "--compare", "x"], ["--compare", "'x'"]),
    # files: checked before the work, not when it ends
    (["kernels", "--json", MISSING], ["--json", "does not exist"]),
    (["train", "--json", tempfile.gettempdir()], ["--json", "is a folder", "results.json"]),
    (["--json", MISSING, "kernels"], ["--json", "does not exist"]),
    (["epoch", "--json", ""], ["--json", "file name"]),
    # options on the wrong side of the command, or on a command without them
    (["--op", "gemm", "kernels"], ["--op", "after the command", "minnet-bench kernels --op"]),
    (["epoch", "--repeat", "3"], ["--repeat", "minnet-bench kernels"]),
    (["--repeat", "3", "epoch"], ["--repeat", "minnet-bench epoch has no such option"]),
    (["--torch-nopf", "epoch"], ["--torch-nopf", "minnet-bench epoch has no such option"]),
    (["kernels", "--model", "tiny"], ["--model", "minnet-bench train"]),
    (["kernels", "--info"], ["--info", "before the command"]),
    (["--threads", "2"], ["--threads", "kernels|train|epoch"]),
    (["kernels", "--bogus"], ["--bogus"]),
    (["frob"], ["invalid choice: 'frob'", "kernels"]),
]


@pytest.fixture(scope="module")
def bad_runs():
    """Every BAD command line run once, two at a time: each is mostly an interpreter start
    (~0.4 s), and one after the other they would take 20 s."""
    with ThreadPoolExecutor(2) as pool:
        return dict(zip((tuple(a) for a, _ in BAD), pool.map(lambda c: bench(*c[0]), BAD)))


@pytest.mark.parametrize("args, words", BAD, ids=[" ".join(a) or "''" for a, _ in BAD])
def test_bad_argument_is_one_line_exit_2(bad_runs, args, words):
    r = bad_runs[tuple(args)]
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == ""  # parsed before any work
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), r.stderr
    assert lines[0].startswith("minnet-bench") and ": error: " in lines[0], lines[0]
    if words[0].startswith("--"):
        assert f"argument {words[0]}" in lines[0] or words[0] == "--bogus", lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])


def _registered(command):
    return {"kernels": KERNEL_SUITES, "train": TRAIN_MODELS, "epoch": EPOCH_MODELS}[command]


@pytest.mark.parametrize("command", [None, "kernels", "train", "epoch"])
def test_help_lists_every_registered_name(command):
    r = bench(*([command] if command else []), "--help")
    assert r.returncode == 0 and r.stderr == ""
    commands = ["kernels", "train", "epoch"] if command is None else [command]
    for c in commands:
        for name in _registered(c):
            assert (
                f" {name}," in r.stdout or f" {name}\n" in r.stdout or f" {name} " in r.stdout
            ), (c, name)


def test_shared_options_before_or_after_the_command(tmp_path, capsys):
    """`minnet-bench --threads 1 --repeat 1 kernels ...` is `kernels --threads 1 --repeat 1`;
    written on both sides, the command's value wins."""
    runs = {
        "before": [
            "--threads",
            "1",
            "--repeat",
            "1",
            "--json",
            str(tmp_path / "b.json"),
            "kernels",
            "--op",
            "gemm",
            "--quick",
            "--case",
            "1x1x1",
        ],
        "after": [
            "kernels",
            "--op",
            "gemm",
            "--quick",
            "--case",
            "1x1x1",
            "--threads",
            "1",
            "--repeat",
            "1",
            "--json",
            str(tmp_path / "a.json"),
        ],
        "both": [
            "--threads",
            "2",
            "kernels",
            "--op",
            "gemm,gemm",
            "--quick",
            "--case",
            "1x1x1",
            "--threads",
            "1",
            "--repeat",
            "1",
            "--json",
            str(tmp_path / "c.json"),
        ],
    }
    for what, argv in runs.items():
        assert main(["--no-torch"] + argv) == 0, what
        assert "median of 1 rounds" in capsys.readouterr().out, what
    for name in ("a", "b", "c"):
        records = json.loads((tmp_path / f"{name}.json").read_text())["records"]
        assert [(r["op"], r["case"], r["threads"]) for r in records] == [
            ("gemm", "1x1x1 (call cost)", 1)
        ], name  # gemm,gemm: timed once


def test_case_matching_nothing_is_one_line_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--no-torch", "kernels", "--op", "gemm", "--quick", "--case", "no such case"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(
        "minnet-bench kernels: error: argument --case: no gemm case contains 'no such case'"
    )
    assert "gemm: 1x1x1 (call cost)" in err  # the cases there are
