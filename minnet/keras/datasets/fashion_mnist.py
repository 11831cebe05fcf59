"""Fashion-MNIST, delegating to minnet.datasets.fashion_mnist (see there for where the files
are looked for, and the embedded subset it falls back to)."""

from minnet.datasets import fashion_mnist as _fm

__all__ = ["load_data"]


def load_data(path=None, subset=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and labels (N,), with
    ``.subset`` / ``.source``; the embedded subset (said on stderr) when the full files are
    not found. See :func:`minnet.datasets.fashion_mnist.load_data`."""
    return _fm.load_data(path, subset=subset)
