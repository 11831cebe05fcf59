"""bench/ports.py, as a developer runs it: the import-line rewrite a port is made of, and the
table of an earlier run (`--table FILE`) with medians over runs, in a subprocess."""

import json
import os
import subprocess
import sys
import tempfile

import pytest

PORTS = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "bench", "ports.py")
pytestmark = pytest.mark.skipif(not os.path.exists(PORTS), reason="bench/ not in this tree")


def _load():
    import importlib.util

    spec = importlib.util.spec_from_file_location("ports", PORTS)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_port_edits_only_the_import_lines():
    ports = _load()
    src = (
        "import torch\nimport torch.nn as nn\nfrom torchvision import datasets, transforms\n"
        "x = torch.zeros(3)  # import torch stays a comment\n"
    )
    text, n = ports.edit(src, ports.TORCH_PORT, "t", "port")
    assert text.splitlines()[:3] == [
        "import minnet as torch",
        "import minnet.nn as nn",
        "from minnet.vision import datasets, transforms",
    ]
    assert text.splitlines()[3] == src.splitlines()[3] and n == 3
    with pytest.raises(SystemExit, match="did not match"):
        ports.edit(src, [("keras.datasets.mnist", "x")], "t", "common")


def test_table_prints_medians_of_the_runs(tmp_path):
    runs = [
        dict(name="s", impl=i, metric=m, epochs=[e], lines=3 if i == "minnet" else 0, round=r)
        for r, (i, m, e) in enumerate(
            [("orig", 0.5, 4.0), ("orig", 0.7, 6.0), ("minnet", 0.6, 1.0), ("minnet", 0.8, 3.0)]
        )
    ]
    path = tmp_path / "runs.json"
    path.write_text(json.dumps(runs))
    p = subprocess.run(
        [sys.executable, os.path.abspath(PORTS), "--table", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tempfile.gettempdir(),
    )
    assert p.returncode == 0, p.stderr
    row = p.stdout.splitlines()[1].split()
    # medians of two runs are their means: 0.6 / 0.7 accuracy, 5.0 / 2.0 s per epoch
    assert row == ["s", "3", "0.6000", "0.7000", "5.00", "2.00", "2.50", "2"]
    p = subprocess.run(
        [sys.executable, os.path.abspath(PORTS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tempfile.gettempdir(),
    )
    assert p.returncode == 2 and "--orig is required" in p.stderr
