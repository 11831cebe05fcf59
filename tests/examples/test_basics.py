"""The basic examples: linear_regression, logistic_regression, sin_regression, xor,
autoencoder. Each quick run must reach its stated criterion; where a bar has a margin, the
figure measured over seeds is next to it."""

import os
import re
import sys

import numpy as np
import pytest
from tests_helpers_run import run_python

from minnet.examples import (
    EXAMPLES,
    autoencoder,
    linear_regression,
    logistic_regression,
    sin_regression,
    xor,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = [linear_regression, logistic_regression, sin_regression, xor, autoencoder]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_docstring_matches_registry(module):
    name = module.__name__.rsplit(".", 1)[-1]
    assert module.__doc__.splitlines()[0] == EXAMPLES[name]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_regression_three_ways_agree(seed):
    r = linear_regression.run(quick=True, seed=seed, verbose=0)
    # the least-squares line is near the true one (noise 1, 400 points) ...
    assert abs(r["m"] - linear_regression.TRUE_M) < 0.1
    assert abs(r["b"] - linear_regression.TRUE_B) < 0.4
    # ... and both iterative fits reach it: seeds 0-9 at most 2.7e-4
    assert r["max_diff"] < 1e-3
    for key in ("m_gd", "b_gd", "m_sgd", "b_sgd"):
        assert abs(r[key] - r[key[0]]) <= r["max_diff"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logistic_regression_separates_the_clouds(seed):
    r = logistic_regression.run(quick=True, seed=seed, verbose=0)
    assert r["accuracy"] >= 0.95  # seeds 0-9: 0.985 to 0.995
    # the learned line is close to the perpendicular bisector x2 = 2 x1 - 0.75:
    # seeds 0-9 at most 5.6 degrees off and 0.13 from the midpoint of the centres
    assert r["angle_deg"] < 10
    assert r["midpoint_offset"] < 0.25
    assert abs(r["slope"] - 2.0) < 0.8


def test_logistic_regression_line_formula():
    assert logistic_regression.as_line(2.0, -1.0, 0.5) == (2.0, 0.5)  # 2x1 - x2 + .5 = 0


def test_sin_regression_wide_net_fits_better():
    r = sin_regression.run(quick=True, verbose=0)
    assert r["mse_64"] < 0.01  # measured 1e-4
    assert r["mse_64"] < r["mse_4"]  # 4 units: 0.006 to 0.17 depending on the seed


@pytest.mark.parametrize("seed", [0, 1])
def test_xor_reaches_every_training_point(seed):
    r = xor.run(quick=True, seed=seed, verbose=0)
    assert r["accuracy"] == 1.0  # seeds 0-11: 100% after at most 54 epochs of 100
    assert r["linear_accuracy"] <= 0.8  # no line puts opposite corners together


def test_xor_data_are_balanced_and_labelled_by_the_signs():
    x, y = xor.noisy_xor(400, np.random.default_rng(0))
    assert x.shape == (400, 2) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y, (x[:, 0] > 0) != (x[:, 1] > 0))
    quadrants = np.unique(np.sign(x).astype(int), axis=0, return_counts=True)[1]
    assert len(quadrants) == 4 and quadrants.min() > 90


def test_autoencoder_reconstructs_and_saves_the_picture(tmp_path):
    mpl_image = pytest.importorskip("matplotlib.image")
    r = autoencoder.run(quick=True, verbose=0, out_dir=str(tmp_path))
    assert r["data"] == "Fashion-MNIST embedded subset"
    assert r["mse"] < 0.5 * r["baseline_mse"]  # measured 0.31x after 3 epochs
    path = tmp_path / "autoencoder.png"
    assert r["picture"] == str(path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    pixels = mpl_image.imread(str(path))
    assert pixels.shape[0] > 100 and pixels.shape[1] > 500
    assert pixels.var() > 0.01  # images on white, not a blank canvas
    assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 50


def test_autoencoder_without_matplotlib_prints_a_note(tmp_path, monkeypatch, capsys):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    r = autoencoder.run(quick=True, epochs=1, verbose=0, out_dir=str(tmp_path))
    assert r["picture"] is None
    assert not (tmp_path / "autoencoder.png").exists()
    assert (
        'no picture: minnet.plot.images needs matplotlib: pip install "minnet-nn[plot]"'
        in capsys.readouterr().out
    )


@pytest.mark.parametrize(
    "name, pattern",
    [
        ("linear_regression", r"^linear_regression: m 2\.\d+, b -?\d\.\d+, .*max_diff 0\.000\d"),
        (
            "xor",
            r"^xor: accuracy 1\.0000, linear_accuracy 0\.\d+, epochs 100, data noisy XOR, "
            r"256 points$",
        ),
    ],
)
def test_command_line_quick(name, pattern):
    p = run_python("-m", f"minnet.examples.{name}", "--quick", "--verbose", "0")
    assert re.search(pattern, p.stdout, re.M), p.stdout


def test_report_shows_small_figures(capsys):
    from minnet.examples import _common

    _common.report(
        "t", mse=1.234e-5, diff=0.000789, acc=0.5, one=1.0, zero=0.0, big=12.0, n=3, data="x"
    )
    assert capsys.readouterr().out == (
        "t: mse 1.234e-05, diff 0.000789, acc 0.5000, "
        "one 1.0000, zero 0.0000, big 12.0000, n 3, data x\n"
    )
