"""What every example shares: its command line, thread/seed set-up, the course data with a
clear word on which data it is, and the one-line result report."""

import argparse
import sys

import numpy as np

import minnet
from minnet._argparse import (
    ArgumentParser,
    nonnegative_int,
    output_folder,
    positive_int,
    thread_count,
)

__all__ = [
    "ArgumentParser",
    "positive_int",
    "nonnegative_int",
    "thread_count",
    "output_folder",
    "parser",
    "main_for",
    "setup",
    "report",
    "image_data",
    "ExampleError",
]


class ExampleError(Exception):
    """A problem the user can fix (missing data, a bad option): printed as one line."""


def add_run_options(p):
    """The options every example takes (also used by ``minnet run``)."""
    p.add_argument(
        "--quick", action="store_true", help="a small, fast version (what the test suite runs)"
    )
    p.add_argument(
        "--epochs",
        type=positive_int,
        default=None,
        help="training epochs (default: the lecture's)",
    )
    p.add_argument(
        "--threads",
        type=thread_count,
        default=None,
        help="kernel threads (default: minnet's, i.e. OMP_NUM_THREADS or the cores)",
    )
    p.add_argument("--seed", type=nonnegative_int, default=0, help="random seed (default 0)")
    # SUPPRESS: no check of the current folder unless asked (run's default is ".")
    p.add_argument(
        "--out-dir",
        type=output_folder,
        default=argparse.SUPPRESS,
        dest="out_dir",
        help="folder for files an example writes, created when needed (default: "
        "the current folder)",
    )
    p.add_argument(
        "--verbose",
        type=nonnegative_int,
        default=1,
        choices=(0, 1, 2),
        help="0 silent training, 1 progress (default), 2 one line per epoch",
    )
    return p


def parser(name):
    """The argument parser of example ``name``."""
    from minnet.examples import EXAMPLES

    return add_run_options(
        ArgumentParser(prog=f"python -m minnet.examples.{name}", description=EXAMPLES[name])
    )


def run_cli(run, args, prog):
    """Call ``run(**args)``; a user-fixable error (missing or corrupt data, ExampleError)
    becomes one line on stderr and exit code 1."""
    try:
        run(**args)
    except (ExampleError, FileNotFoundError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0


def main_for(name, run):
    """The ``main(argv=None) -> int`` of example ``name`` around its ``run``."""

    def main(argv=None):
        args = parser(name).parse_args(argv)
        return run_cli(run, vars(args), f"minnet.examples.{name}")

    main.__doc__ = f"Command line of minnet.examples.{name}: see --help."
    return main


def setup(threads=None, seed=0):
    """Set the kernel threads (when given) and seed minnet's and NumPy's generators; returns
    a NumPy Generator seeded with ``seed`` for the example's own draws."""
    if threads is not None:
        minnet.set_num_threads(threads)
    minnet.manual_seed(seed)
    return np.random.default_rng(seed)


def report(name, **figures):
    """Print the example's result as one line ``name: key value, ...`` and return the dict."""
    parts = []
    for k, v in figures.items():
        parts.append(f"{k} {_figure(v)}" if isinstance(v, float) else f"{k} {v}")
    print(f"{name}: " + ", ".join(parts), flush=True)
    return dict(figures)


def _figure(v):
    """Four decimals (accuracy 0.8734, 1.0000), but four significant digits below 0.01, where
    four decimals would show a small MSE as 0.0000 (0.0001234, 2.5e-07)."""
    return f"{v:.4g}" if 0 < abs(v) < 0.01 else f"{v:.4f}"


def image_data(quick=False, prefer_mnist=False, n_train=None, n_test=None):
    """The course's 28x28 images: ``(x_train, y_train), (x_test, y_test), name``, uint8
    images (N, 28, 28) and integer labels, and a short name of the data used (printed).

    ``prefer_mnist``: MNIST when its files are found (``keras.datasets.mnist``). Otherwise the
    full Fashion-MNIST when found, else the embedded subset (saying so). ``quick`` always
    takes the embedded subset (it loads in a third of a second). ``n_train`` / ``n_test`` keep
    the first images (the subset's order is class-interleaved, so prefixes are balanced).
    """
    from minnet.datasets import fashion_mnist

    splits = None
    if prefer_mnist and not quick:
        from minnet.keras.datasets import mnist

        try:
            splits = mnist.load_data()
            name = f"MNIST ({splits.source})" if hasattr(splits, "source") else "MNIST"
        except FileNotFoundError:
            splits = None
    if splits is None:
        splits = fashion_mnist.load_data(subset=True if quick else None)
        name = (
            "Fashion-MNIST embedded subset"
            if splits.subset
            else f"Fashion-MNIST ({splits.source})"
        )
    (xtr, ytr), (xte, yte) = splits
    if n_train is not None:
        xtr, ytr = xtr[:n_train], ytr[:n_train]
    if n_test is not None:
        xte, yte = xte[:n_test], yte[:n_test]
    print(f"data: {name}: {len(ytr)} training and {len(yte)} test images", flush=True)
    return (xtr, ytr), (xte, yte), name
