"""minnet.utils: ``torch.utils``'s place. ``minnet.utils.data`` is :mod:`minnet.data` under
PyTorch's name, so ``from torch.utils.data import DataLoader`` ports as
``from minnet.utils.data import DataLoader``."""

from minnet.utils import data

__all__ = ["data"]
