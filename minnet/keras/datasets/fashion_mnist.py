"""Fashion-MNIST, delegating to minnet.datasets.fashion_mnist (see there for where the files
are looked for)."""
from minnet.datasets import fashion_mnist as _fm

__all__ = ["load_data"]


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and labels (N,)."""
    return _fm.load_data(path)
