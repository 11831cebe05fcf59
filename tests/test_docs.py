"""The API reference (docs/) builds from the docstrings with warnings as errors, as CI builds it.

A docstring that is not valid reStructuredText (an unclosed ``*``, a ``|x|`` read as a
substitution, a malformed table) fails here with Sphinx's message naming the object. Skipped
when Sphinx is not installed (``pip install "sphinx>=7"``); the build takes about 10 s.
"""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

# One object per page, by the anchor Sphinx gives it.
EXPECTED = {
    "api/minnet.html": ["minnet.Tensor", "minnet.zeros", "minnet.no_grad"],
    "api/nn.html": [
        "minnet.nn.Conv2d",
        "minnet.nn.functional.conv2d",
        "minnet.nn.init.xavier_uniform_",
    ],
    "api/optim.html": ["minnet.optim.Adam", "minnet.optim.lr_scheduler.StepLR"],
    "api/data.html": ["minnet.data.DataLoader"],
    "api/keras.html": ["minnet.keras.Sequential"],
    "api/keras/layers.html": ["minnet.keras.layers.Dense"],
    "api/datasets.html": ["minnet.datasets.read_idx"],
    "api/vision.html": ["minnet.vision.transforms.Normalize"],
    "api/plot.html": ["minnet.plot.history"],
    "api/kernels.html": ["minnet.kernels.gemm"],
    "api/reference.html": ["minnet.reference.gemm"],
}


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    pytest.importorskip("sphinx")
    out = tmp_path_factory.mktemp("docs")
    # Run outside the source tree, so autodoc imports the installed package (with its kernels).
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-W",
            "--keep-going",
            "-q",
            "-b",
            "html",
            str(ROOT / "docs"),
            str(out / "html"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=out,
    )
    assert proc.returncode == 0, f"sphinx failed:\n{proc.stdout}\n{proc.stderr}"
    return out / "html"


def test_docs_build_without_warnings(html):
    assert (html / "index.html").is_file()


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_docs_pages_document_the_api(html, page):
    text = (html / page).read_text(encoding="utf-8")
    for name in EXPECTED[page]:
        assert f'id="{name}"' in text, f"{page} does not document {name}"
