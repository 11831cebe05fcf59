"""The ``minnet`` command as a user runs it: a subprocess in an empty folder (so the source
tree is not on the path), one-line errors with exit code 2 for bad arguments and 1 for bad
data, and ``minnet demo`` training on the embedded subset with no system data set."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from minnet.examples import EXAMPLES


def run_minnet(args, tmp_path, env=None, timeout=300):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "minnet", *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(r, code, *words):
    assert r.returncode == code, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_examples_lists_every_example(tmp_path):
    r = run_minnet(["examples"], tmp_path)
    assert r.returncode == 0, r.stderr
    for name, text in EXAMPLES.items():
        assert re.search(rf"^{name}\s+{re.escape(text)}$", r.stdout, re.M), name


def test_plain_minnet_prints_help(tmp_path):
    r = run_minnet([], tmp_path)
    assert r.returncode == 0 and "demo" in r.stdout and "examples" in r.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["run", "nosuch"], ["unknown example 'nosuch'", "minnet examples"]),
        (["run", "xor", "--threads", "0"], ["--threads", "positive integer", "0"]),
        (["run", "xor", "--epochs", "-1"], ["--epochs", "-1"]),
        (["run", "xor", "--epochs", "abc"], ["--epochs", "'abc'"]),
        (["run", "xor", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["demo", "--threads", "0"], ["--threads"]),
        (["demo", "--epochs", "0"], ["--epochs"]),
        (["frobnicate"], ["invalid choice: 'frobnicate'"]),
        (["notebook", "nosuch"], ["unknown example"]),
        (["run", "xor", "--epochs", "1.5"], ["argument --epochs", "'1.5'"]),
        (["run", "xor", "--seed", "-1"], ["argument --seed", "integer >= 0"]),
        (["run", "xor", "--threads", "abc"], ["argument --threads", "'abc'"]),
        (["run", "xor", "--threads", "100000"], ["argument --threads", "up to"]),
        (["run", "xor", "--verbose", "5"], ["argument --verbose", "choose from 0, 1, 2"]),
        (["run", "xor", "--out-dir", "{file}"], ["argument --out-dir", "is a file"]),
        (["demo", "--seed", "x"], ["argument --seed", "'x'"]),
        (["notebook", "xor", "--out", "{missing}/x.ipynb"], ["argument --out", "does not exist"]),
        (["notebook", "xor", "--out", ""], ["argument --out", "file name"]),
        (["--epochs", "3", "run", "xor"], ["argument --epochs", "after the command"]),
        (
            ["run", "xor", "--full"],
            ["argument --full", "minnet run has no such option", "minnet demo"],
        ),
    ],
)
def test_bad_arguments_one_line_exit_2(tmp_path, args, words):
    (tmp_path / "a-file").write_text("")
    args = [a.format(file=tmp_path / "a-file", missing=tmp_path / "no-such-folder") for a in args]
    r = run_minnet(args, tmp_path)
    one_line_error(r, 2, *words)
    assert r.stdout == ""  # parsed before any work


@pytest.mark.parametrize("args", [[], ["run"], ["notebook"]])
def test_help_lists_every_example(tmp_path, args):
    r = run_minnet([*args, "--help"], tmp_path)
    assert r.returncode == 0, r.stderr
    words = set(r.stdout.replace(",", " ").split())
    assert set(EXAMPLES) <= words, set(EXAMPLES) - words


def test_notebook_into_an_existing_folder_prints_the_file(tmp_path):
    (tmp_path / "nbs").mkdir()
    r = run_minnet(["notebook", "xor", "--out", "nbs"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {os.path.join('nbs', 'xor.ipynb')}"
    assert (tmp_path / "nbs" / "xor.ipynb").is_file()


def test_corrupt_data_folder_one_line_exit_1(tmp_path):
    """Full Fashion-MNIST files that are there but damaged: a clear line, not a traceback."""
    folder = tmp_path / "data" / "fashion-mnist"
    folder.mkdir(parents=True)
    for stem in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (folder / stem).write_bytes(b"\x00\x00\x08\x03garbage")
    env = {"MINNET_DATASETS": str(tmp_path / "data"), "MINNET_DATA_NO_SYSTEM": "1"}
    one_line_error(run_minnet(["demo", "--full"], tmp_path, env), 1, "error:", "truncated")
    one_line_error(
        run_minnet(["run", "cnn", "--epochs", "1"], tmp_path, env), 1, "error:", "truncated"
    )


def test_console_script_is_installed(tmp_path):
    exe = shutil.which("minnet") or os.path.join(os.path.dirname(sys.executable), "minnet")
    if not os.path.exists(exe):
        pytest.skip(
            "the `minnet` console script is not installed next to this Python (reinstall minnet)"
        )
    r = subprocess.run(
        [exe, "examples"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0 and "seq2seq_reverse" in r.stdout


def _accuracy(stdout):
    m = re.search(r"^test accuracy: (0\.\d{4})$", stdout, re.M)
    assert m, stdout
    return float(m.group(1))


def test_demo_quick_offline(tmp_path):
    env = {"MINNET_DATA_NO_SYSTEM": "1", "MINNET_DATASETS": str(tmp_path)}
    r = run_minnet(["demo", "--quick", "--threads", "2"], tmp_path, env)
    assert r.returncode == 0, r.stderr
    assert "embedded subset" in r.stdout and "most confused:" in r.stdout
    assert _accuracy(r.stdout) >= 0.65


def test_demo_reaches_85_percent_on_the_embedded_subset(tmp_path):
    """The issue's promise for the first command: at least 85% test accuracy (20 epochs of
    the lecture CNN on 6,500 images; ~0.87 measured, seed 0)."""
    env = {"MINNET_DATA_NO_SYSTEM": "1", "MINNET_DATASETS": str(tmp_path)}
    r = run_minnet(["demo"], tmp_path, env)
    assert r.returncode == 0, r.stderr
    assert "Total params" in r.stdout and "Epoch 20/20" in r.stdout
    assert _accuracy(r.stdout) >= 0.85
