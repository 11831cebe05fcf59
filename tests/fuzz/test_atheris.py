"""Coverage-guided fuzzing (atheris, a test extra) of the two readers of untrusted bytes: the
IDX reader and ``minnet.load``. Each runs in a subprocess for a bounded time
(``MINNET_ATHERIS_SECONDS``, default 10) from a seed corpus of valid files; any exception
other than the documented ValueError (or a crash, or a hang past libFuzzer's timeout) fails.
Skipped when atheris is not installed."""

import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest

pytest.importorskip("atheris")

SECONDS = int(os.environ.get("MINNET_ATHERIS_SECONDS", "10"))

HARNESS = textwrap.dedent(r'''
    import io, os, sys, tempfile, zipfile
    import atheris
    with atheris.instrument_imports():
        import minnet
        from minnet.datasets import idx
    TARGET = sys.argv.pop(1)
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "f")

    def one_input(data):
        if TARGET == "idx":
            with open(path, "wb") as f:
                f.write(data)
            try:
                idx.read_idx(path, max_bytes=1 << 20)
            except ValueError:
                pass
        else:
            try:
                minnet.load(io.BytesIO(data))
            except ValueError:
                pass

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
''')


def _corpus(folder, target):
    os.makedirs(folder)
    from minnet.datasets import write_idx

    if target == "idx":
        write_idx(os.path.join(folder, "a"), np.arange(12, dtype=np.uint8).reshape(3, 4))
        write_idx(os.path.join(folder, "b.gz"), np.arange(6, dtype=np.float32))
    else:
        import minnet

        minnet.save(
            {
                "w": np.ones((2, 3), np.float32),
                "step": 3,
                "name": "x",
                "nested": [1.5, {"b": np.arange(4)}],
            },
            os.path.join(folder, "c.pt"),
        )


@pytest.mark.parametrize("target", ["idx", "load"])
def test_readers_survive_coverage_guided_fuzzing(target, tmp_path):
    corpus = str(tmp_path / "corpus")
    _corpus(corpus, target)
    harness = tmp_path / "harness.py"
    harness.write_text(HARNESS)
    p = subprocess.run(
        [
            sys.executable,
            str(harness),
            target,
            corpus,
            f"-max_total_time={SECONDS}",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
            f"-artifact_prefix={tmp_path}/",
        ],
        capture_output=True,
        text=True,
        timeout=SECONDS + 120,
        cwd=tempfile.gettempdir(),
    )
    out = p.stdout + p.stderr
    runs = [line for line in out.splitlines() if "stat::number_of_executed_units" in line]
    assert p.returncode == 0, out[-3000:]
    assert runs and int(runs[-1].split(":")[-1]) > 100, out[-2000:]
