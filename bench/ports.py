"""Run public PyTorch / Keras / TensorFlow beginner scripts on their own framework and on
minnet, in the same run, and print the table of issue 10 (script, lines changed, accuracy
both, seconds per epoch both).

The scripts are not shipped: fetch the public originals into a folder (the file names and
where each comes from are in SCRIPTS below) and run

    python bench/ports.py --orig ~/ports/orig [--rounds 2] [--only pt_mnist,keras_convnet]

Each script is run twice per round as a fresh subprocess, taking turns: the original, then
the port; the table shows medians over the rounds (round r > 1 passes ``--seed r`` to the
scripts that take one; the tutorials do not seed, so every run is a new initialisation).
Two kinds of edits are made, as text replacements listed per script:

- ``common``: applied to both runs, not counted as porting: the dataset name (there is no
  MNIST on this machine, so MNIST becomes Fashion-MNIST) and, where the script's own count
  would take many minutes, the epoch count (1 epoch: the two pytorch/examples scripts take
  ``--epochs 1``, the Keras convnet gets ``epochs = 1``); the tutorials keep their own counts;
- ``port``: the import lines (``import torch`` -> ``import minnet as torch``...), counted in
  the "lines changed" column. Nothing else in a port differs from the original.

Seconds per epoch are measured from outside the script's code: a wrapper times every pass of
a training DataLoader (PyTorch-style scripts: the loop over ``train_loader``, data loading
included) or ``Model.fit`` divided by its epochs (Keras scripts: validation included, as the
user sees it). Accuracy (or the VAE's test loss) is read from what the script prints.

Data: torchvision's layout ``data/FashionMNIST/raw`` (the .gz files and, as torchvision wants
them, their extracted copies) and Keras's cache ``~/.keras/datasets/fashion-mnist`` are filled
from Debian's ``dataset-fashion-mnist`` files in a scratch folder (``$HOME`` points there for
the runs).
The originals need torch 2.13 (+ torchvision's Python code; see ``--torchvision``) and
TensorFlow (``--tf-python``, a separate venv with ``tensorflow-cpu``).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

FMNIST = "/usr/share/datasets/fashion-mnist"
FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]

TORCH_PORT = [
    ("import torch\n", "import minnet as torch\n"),
    ("import torch.nn as nn\n", "import minnet.nn as nn\n"),
    ("import torch.nn.functional as F\n", "import minnet.nn.functional as F\n"),
    ("import torch.optim as optim\n", "import minnet.optim as optim\n"),
    ("import torch.utils.data\n", "import minnet.utils.data\n"),
    ("from torch import nn\n", "from minnet import nn\n"),
    ("from torch import nn, optim\n", "from minnet import nn, optim\n"),
    ("from torch.nn import functional as F\n", "from minnet.nn import functional as F\n"),
    ("from torch.utils.data import DataLoader\n", "from minnet.utils.data import DataLoader\n"),
    (
        "from torch.optim.lr_scheduler import StepLR\n",
        "from minnet.optim.lr_scheduler import StepLR\n",
    ),
    (
        "from torchvision import datasets, transforms\n",
        "from minnet.vision import datasets, transforms\n",
    ),
    ("from torchvision import datasets\n", "from minnet.vision import datasets\n"),
    ("from torchvision.transforms import ", "from minnet.vision.transforms import "),
    ("from torchvision.utils import save_image\n", "from minnet.vision.utils import save_image\n"),
]
KERAS_PORT = [
    ("from tensorflow import keras\n", "from minnet import keras\n"),
    ("from tensorflow.keras import layers\n", "from minnet.keras import layers\n"),
    ("import tensorflow as tf\n", "import minnet as tf\n"),
]
MNIST_TO_FASHION_TV = [("datasets.MNIST(", "datasets.FashionMNIST(")]

# name -> file in --orig, where it comes from, kind, extra argv, edits, accuracy regex
SCRIPTS = {
    "pt_mnist": dict(
        file="pt_mnist.py",
        source="pytorch/examples mnist/main.py",
        kind="torch",
        argv=["--epochs", "1"],
        common=MNIST_TO_FASHION_TV,
        metric=(r"Accuracy: (\d+)/(\d+)", "ratio"),
    ),
    "pt_mnist_rnn": dict(
        file="pt_mnist_rnn.py",
        source="pytorch/examples mnist_rnn/main.py",
        kind="torch",
        argv=["--epochs", "1"],
        common=MNIST_TO_FASHION_TV,
        metric=(r"Accuracy: (\d+)/(\d+)", "ratio"),
    ),
    "pt_quickstart": dict(
        file="pt_quickstart.py",
        source="pytorch/tutorials beginner_source/basics/quickstart_tutorial.py",
        kind="torch",
        argv=[],
        common=[],
        metric=(r"Accuracy: ([\d.]+)%", "percent"),
    ),
    "pt_optimization": dict(
        file="pt_optimization.py",
        source="pytorch/tutorials beginner_source/basics/optimization_tutorial.py",
        kind="torch",
        argv=[],
        common=[],
        metric=(r"Accuracy: ([\d.]+)%", "percent"),
    ),
    "pt_vae": dict(
        file="pt_vae.py",
        source="pytorch/examples vae/main.py",
        kind="torch",
        argv=["--epochs", "1"],
        common=MNIST_TO_FASHION_TV,
        metric=(r"Test set loss: ([\d.]+)", "loss"),
    ),
    "keras_convnet": dict(
        file="keras_mnist_convnet.py",
        source="keras-team/keras-io examples/vision/mnist_convnet.py",
        kind="keras",
        argv=[],
        common=[
            ("keras.datasets.mnist.load_data()", "keras.datasets.fashion_mnist.load_data()"),
            ("epochs = 15\n", "epochs = 1\n"),
        ],
        metric=(r"Test accuracy: ([\d.]+)", "fraction"),
    ),
    "tf_classification": dict(
        file="tf_classification.py",
        source="tensorflow/docs site/en/tutorials/keras/classification.ipynb (code cells)",
        kind="keras",
        argv=[],
        common=[],
        metric=(r"Test accuracy: ([\d.]+)", "fraction"),
    ),
    "tf_beginner": dict(
        file="tf_beginner.py",
        source="tensorflow/docs site/en/tutorials/quickstart/beginner.ipynb (code cells)",
        kind="keras",
        argv=[],
        common=[
            ("tf.keras.datasets.mnist\n", "tf.keras.datasets.fashion_mnist\n"),
            (
                "model.evaluate(x_test,  y_test, verbose=2)",
                "print('Test accuracy:', model.evaluate(x_test,  y_test, verbose=2)[1])",
            ),
        ],
        metric=(r"Test accuracy: ([\d.]+)", "fraction"),
    ),
}

# Runs inside each subprocess before the script: times training passes, then runs the script
# as __main__ with its argv, then prints one JSON line.
WRAPPER = r'''
import json, os, runpy, sys, time
kind, impl, script = sys.argv[1], sys.argv[2], sys.argv[3]
sys.argv = [script] + sys.argv[4:]
epochs = []
if kind == "torch":
    if impl == "minnet":
        from minnet.data import DataLoader
    else:
        if os.environ.get("PORTS_TV_SHIM"):
            exec(open(os.environ["PORTS_TV_SHIM"]).read())
        from torch.utils.data import DataLoader
    _iter = DataLoader.__iter__
    def __iter__(self):
        train = bool(getattr(self.dataset, "train", False))
        t0 = time.perf_counter()
        for b in _iter(self):
            yield b
        if train:
            epochs.append(time.perf_counter() - t0)
    DataLoader.__iter__ = __iter__
else:
    if impl == "minnet":
        from minnet.keras import Model
    else:
        from tensorflow.keras import Model
    _fit = Model.fit
    def fit(self, *a, **k):
        t0 = time.perf_counter()
        h = _fit(self, *a, **k)
        n = len(h.history.get("loss", [])) or 1
        epochs.extend([(time.perf_counter() - t0) / n] * n)
        return h
    Model.fit = fit
try:
    runpy.run_path(script, run_name="__main__")
finally:
    print("PORTS_RESULT " + json.dumps({"epochs": epochs}), flush=True)
'''


def edit(text, pairs, name, what):
    """Apply text replacements; each must match at least once (a replacement that no longer
    matches means the original changed: fail loudly rather than measure something else)."""
    changed = 0
    for old, new in pairs:
        n = text.count(old)
        if n == 0 and what == "common":
            raise SystemExit(f"ports: {name}: the {what} edit {old!r} did not match")
        text = text.replace(old, new)
        changed += n
    return text, changed


def prepare_data(scratch):
    """torchvision's raw layout and Keras's cache as symlinks to Debian's files."""
    import gzip
    import shutil

    for sub in (
        "run/data/FashionMNIST/raw",
        "data/FashionMNIST/raw",
        "home/.keras/datasets/fashion-mnist",
    ):
        d = os.path.join(scratch, sub)
        os.makedirs(d, exist_ok=True)
        for f in FILES:
            link = os.path.join(d, f)
            if not os.path.exists(link):
                os.symlink(os.path.join(FMNIST, f), link)
            # torchvision checks for the extracted files (it extracts after downloading)
            if "FashionMNIST" in sub and not os.path.exists(link[:-3]):
                with gzip.open(link) as src, open(link[:-3], "wb") as dst:
                    shutil.copyfileobj(src, dst)
    os.makedirs(os.path.join(scratch, "run", "results"), exist_ok=True)


def metric(out, spec):
    pattern, how = spec["metric"]
    found = re.findall(pattern, out)
    if not found:
        return None
    last = found[-1]
    if how == "ratio":
        return int(last[0]) / int(last[1])
    v = float(last if isinstance(last, str) else last[0])
    return v / 100 if how == "percent" else v


def run_one(name, spec, impl, args, scratch, round_=0):
    src = open(os.path.join(args.orig, spec["file"])).read()
    text, _ = edit(src, spec["common"], name, "common")
    lines = 0
    if impl == "minnet":
        pairs = TORCH_PORT if spec["kind"] == "torch" else KERAS_PORT
        before = text.splitlines()
        text, _ = edit(text, pairs, name, "port")
        lines = sum(a != b for a, b in zip(before, text.splitlines()))
    path = os.path.join(scratch, "run", f"{name}_{impl}.py")
    with open(path, "w") as f:
        f.write(text)
    wrapper = os.path.join(scratch, "wrapper.py")
    with open(wrapper, "w") as f:
        f.write(WRAPPER)
    py = args.tf_python if (spec["kind"] == "keras" and impl == "orig") else sys.executable
    env = dict(
        os.environ,
        HOME=os.path.join(scratch, "home"),
        MPLBACKEND="Agg",
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    if args.torchvision:
        env["PORTS_TV_SHIM"] = args.torchvision
    t0 = time.perf_counter()
    argv = list(spec["argv"])
    if "--epochs" in argv and round_:  # the pytorch/examples scripts take --seed: a new
        argv += ["--seed", str(1 + round_)]  # one each round (round 1 keeps the default, 1)
    p = subprocess.run(
        [py, wrapper, spec["kind"], "minnet" if impl == "minnet" else "orig", path] + argv,
        cwd=os.path.join(scratch, "run"),
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    wall = time.perf_counter() - t0
    out = p.stdout + p.stderr
    res = {
        "name": name,
        "impl": impl,
        "rc": p.returncode,
        "wall_s": wall,
        "lines": lines,
        "metric": metric(out, spec),
        "epochs": None,
    }
    m = re.findall(r"PORTS_RESULT (.*)", out)
    if m:
        res["epochs"] = json.loads(m[-1])["epochs"]
    if p.returncode != 0 or args.verbose:
        tail = "\n".join(out.strip().splitlines()[-25:])
        print(f"# {name} {impl}: rc {p.returncode}\n{tail}", file=sys.stderr)
    return res


def _median(xs):
    return statistics.median(xs) if xs else float("nan")


def print_table(results, names=None):
    """The issue-10 table from a list of run records (medians over rounds and epochs)."""
    names = names or list(dict.fromkeys(x["name"] for x in results))
    print(
        f"{'script':18s} {'lines':>5s} {'orig acc':>9s} {'minnet acc':>10s} "
        f"{'orig s/ep':>9s} {'minnet s/ep':>11s} {'x orig':>6s} {'runs':>4s}"
    )
    for name in names:
        rows = {
            i: [x for x in results if x["name"] == name and x["impl"] == i]
            for i in ("orig", "minnet")
        }
        m = {i: _median([x["metric"] for x in rows[i] if x["metric"] is not None]) for i in rows}
        s = {i: _median([e for x in rows[i] for e in (x["epochs"] or [])]) for i in rows}
        lines = max((x["lines"] for x in rows["minnet"]), default=0)
        print(
            f"{name:18s} {lines:5d} {m['orig']:9.4f} {m['minnet']:10.4f} "
            f"{s['orig']:9.2f} {s['minnet']:11.2f} {s['orig'] / s['minnet']:6.2f} "
            f"{len(rows['minnet']):4d}"
        )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orig", help="folder holding the original scripts")
    ap.add_argument("--table", help="print the table of an earlier run's --json file and exit")
    ap.add_argument("--only", default="", help="comma-separated script names")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument(
        "--tf-python",
        default="python3",
        help="a Python with tensorflow-cpu, for the Keras/TF originals",
    )
    ap.add_argument(
        "--torchvision",
        default="",
        help="a file exec'd before a torch original imports torchvision (a shim "
        "when the installed torchvision wheel cannot import)",
    )
    ap.add_argument("--impl", default="orig,minnet", help="orig, minnet or both (debugging)")
    ap.add_argument("--json", default="")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    if args.table:
        with open(args.table) as f:
            print_table(json.load(f))
        return
    if not args.orig:
        ap.error("--orig is required (the folder holding the original scripts)")
    names = [n for n in args.only.split(",") if n] or list(SCRIPTS)
    scratch = tempfile.mkdtemp(prefix="minnet-ports-")
    prepare_data(scratch)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        from minnet.bench.__main__ import machine_line

        print(f"# {machine_line()}")
    except Exception:  # noqa: BLE001
        pass
    results = []
    for r in range(args.rounds):
        for name in names:
            for impl in args.impl.split(","):
                res = run_one(name, SCRIPTS[name], impl, args, scratch, r)
                res["round"] = r
                results.append(res)
                ep = res["epochs"]
                print(
                    f"# round {r + 1} {name} {impl}: rc {res['rc']}, metric {res['metric']}, "
                    f"s/epoch {ep}, wall {res['wall_s']:.1f} s",
                    flush=True,
                )
    print_table(results, names)
    if args.json:
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=1)
        os.replace(tmp, args.json)


if __name__ == "__main__":
    main()
