"""``torch.utils.data.distributed`` for ``import minnet as torch``: the DistributedSampler of
:mod:`minnet.data.distributed`, under PyTorch's module path."""

from minnet.data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
