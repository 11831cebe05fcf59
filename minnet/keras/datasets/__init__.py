"""keras.datasets: ``fashion_mnist.load_data()`` and ``mnist.load_data()`` from local IDX
files (nothing is downloaded): ``((x_train, y_train), (x_test, y_test))`` as uint8 arrays."""

from minnet.keras.datasets import fashion_mnist, mnist

__all__ = ["fashion_mnist", "mnist"]
