"""``torch.utils.data`` for ``import minnet as torch``: the same objects as :mod:`minnet.data`
(datasets, samplers, the DataLoader and its worker processes), under PyTorch's module path."""

from minnet.data import *  # noqa: F401,F403
from minnet.data import __all__  # noqa: F401
