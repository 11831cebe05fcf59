"""minnet.nn.parallel: ``torch.nn.parallel``'s place, holding
:class:`DistributedDataParallel` (data-parallel training over MPI, see
:mod:`minnet.distributed`)."""

from minnet.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
