"""DistributedSampler: each rank's shard of a dataset (``torch.utils.data.distributed``)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Iterator, Sized

import numpy as np

from minnet.data.sampler import Sampler

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["DistributedSampler"]


def _rank_arg(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"DistributedSampler: {name} must be an int, got {value!r}")
    return int(value)


class DistributedSampler(Sampler):
    """The indices of one rank's shard: the ranks' shards are disjoint, together cover the
    dataset, and all have the same length, so every rank runs the same number of batches
    (a rank that ran out first would leave the others waiting in an allreduce).

    Every rank draws the same permutation (from ``seed + epoch``) and takes every
    ``num_replicas``-th index of it, starting at its rank. When the dataset does not divide
    evenly, ``drop_last=False`` repeats the first indices of the permutation to fill the last
    round (a few samples are seen twice per epoch), ``drop_last=True`` drops the tail. Call
    :meth:`set_epoch` at the start of each epoch, or every epoch has the same order.

    Args:
        dataset (Dataset): only its length is used.
        num_replicas (int, optional): the number of ranks. Default: the world size of
            :mod:`minnet.distributed`.
        rank (int, optional): this rank. Default: :func:`minnet.distributed.get_rank`.
        shuffle (bool): a new permutation per epoch. Default: True.
        seed (int): the same on every rank. Default: 0.
        drop_last (bool): drop the tail instead of padding. Default: False.

    Raises:
        ValueError: ``rank`` not in ``[0, num_replicas)``, or more ranks than samples (some
            rank would have nothing but repeats).

    Examples:
        >>> sampler = DistributedSampler(train_set)
        >>> loader = DataLoader(train_set, batch_size=64, sampler=sampler)
        >>> for epoch in range(10):
        ...     sampler.set_epoch(epoch)
        ...     for x, y in loader: ...
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from minnet import distributed

            if num_replicas is None:
                num_replicas = distributed.get_world_size()
            if rank is None:
                rank = distributed.get_rank()
        num_replicas = _rank_arg(num_replicas, "num_replicas")
        rank = _rank_arg(rank, "rank")
        if num_replicas < 1:
            raise ValueError(
                f"DistributedSampler: num_replicas must be at least 1, got {num_replicas}"
            )
        if not 0 <= rank < num_replicas:
            raise ValueError(
                f"DistributedSampler: invalid rank {rank}, rank should be in the interval "
                f"[0, {num_replicas - 1}]"
            )
        n = len(dataset)
        if num_replicas > n:
            raise ValueError(
                f"DistributedSampler: more ranks (num_replicas={num_replicas}) than samples "
                f"(len(dataset)={n}): some rank would get no sample of its own; use fewer "
                f"ranks or a larger dataset"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        if self.drop_last and n % num_replicas:
            self.num_samples = n // num_replicas
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of ``seed + epoch`` from now on (the same on every rank)."""
        self.epoch = int(epoch)

    def _array(self) -> NDArray[Any]:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            indices = np.arange(n)
        if self.total_size > n:  # pad by repeating the start (num_replicas <= n: one round)
            indices = np.concatenate([indices, indices[: self.total_size - n]])
        else:
            indices = indices[: self.total_size]
        return indices[self.rank : self.total_size : self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self._array().tolist())

    def __len__(self) -> int:
        return self.num_samples
