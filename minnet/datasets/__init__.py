"""Datasets read from local files (nothing is downloaded at run time)."""

from minnet.datasets import fashion_mnist
from minnet.datasets.fashion_mnist import FashionMNIST
from minnet.datasets.idx import read_idx, write_idx

__all__ = ["fashion_mnist", "FashionMNIST", "read_idx", "write_idx"]
