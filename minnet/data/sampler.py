"""Samplers: the order in which a DataLoader visits a dataset (``torch.utils.data.sampler``).

A sampler is an iterable of indices (a batch sampler: of lists of indices) with a ``len``.
Random ones draw from ``generator`` (a ``numpy.random.Generator`` or ``minnet.Generator``),
else from minnet's generator (``minnet.manual_seed``), afresh on every iteration.
The built-in index samplers also have ``_array()``, the same indices as one NumPy array, so a
DataLoader over a TensorDataset slices batches out of it instead of iterating in Python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence, Sized

import numpy as np

from minnet.data.dataset import _default_generator

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


def _positive_int(value: Any, name: str, cls: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(
            f"{cls}: {name} should be a positive integer value, but got {name}={value!r}"
        )
    return int(value)


class Sampler:
    """Base class: subclasses define ``__iter__`` (yielding indices) and usually ``__len__``."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _array(self) -> NDArray[Any]:
        return np.arange(len(self.data_source))

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in random order: a new permutation each iteration, or, with
    ``replacement=True``, ``num_samples`` independent draws.

    Args:
        data_source (Dataset): the dataset (only its length is used).
        replacement (bool): draw with replacement. Default: False.
        num_samples (int, optional): how many indices per iteration. Default:
            ``len(data_source)``; without replacement a larger number chains permutations.
        generator (optional): the source of randomness.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: np.random.Generator | None = None,
    ) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(
                f"RandomSampler: replacement should be a boolean value, but got "
                f"replacement={replacement!r}"
            )
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = (
            None
            if num_samples is None
            else _positive_int(num_samples, "num_samples", "RandomSampler")
        )
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _array(self) -> NDArray[Any]:
        n, k = len(self.data_source), self.num_samples
        gen = self.generator if self.generator is not None else _default_generator()
        if self.replacement:
            return gen.integers(0, n, size=k)
        if k == n:
            return gen.permutation(n)
        parts = [gen.permutation(n) for _ in range(k // n)] + [gen.permutation(n)[: k % n]]
        return np.concatenate(parts)

    def __iter__(self) -> Iterator[int]:
        return iter(self._array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a new random order each iteration (a train/validation split
    of one dataset: ``DataLoader(ds, sampler=SubsetRandomSampler(train_idx))``)."""

    def __init__(
        self, indices: Sequence[int], generator: np.random.Generator | None = None
    ) -> None:
        self.indices = indices
        self.generator = generator

    def _array(self) -> NDArray[Any]:
        gen = self.generator if self.generator is not None else _default_generator()
        return np.asarray(self.indices)[gen.permutation(len(self.indices))]

    def __iter__(self) -> Iterator[int]:
        return iter(self._array().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (which
    need not sum to 1), with replacement by default: oversampling rare classes.

    Args:
        weights (sequence): one non-negative weight per index.
        num_samples (int): how many indices per iteration.
        replacement (bool): draw with replacement. Default: True.
        generator (optional): the source of randomness.
    """

    def __init__(
        self,
        weights: ArrayLike,
        num_samples: int,
        replacement: bool = True,
        generator: np.random.Generator | None = None,
    ) -> None:
        self.num_samples = _positive_int(num_samples, "num_samples", "WeightedRandomSampler")
        if not isinstance(replacement, bool):
            raise ValueError(
                f"WeightedRandomSampler: replacement should be a boolean value, "
                f"but got replacement={replacement!r}"
            )
        w = np.asarray(getattr(weights, "data", weights), dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(
                f"WeightedRandomSampler: weights should be a 1-D sequence, got shape {w.shape}"
            )
        if w.size == 0 or (w < 0).any() or not np.isfinite(w).all() or w.sum() == 0:
            raise ValueError(
                "WeightedRandomSampler: weights must be finite, non-negative and not all zero"
            )
        if not replacement and self.num_samples > np.count_nonzero(w):
            raise ValueError(
                f"WeightedRandomSampler: cannot draw {self.num_samples} samples "
                f"without replacement from {np.count_nonzero(w)} non-zero weights"
            )
        self.weights = w
        self.replacement = replacement
        self.generator = generator

    def _array(self) -> NDArray[Any]:
        gen = self.generator if self.generator is not None else _default_generator()
        p = self.weights / self.weights.sum()
        return gen.choice(len(p), size=self.num_samples, replace=self.replacement, p=p)

    def __iter__(self) -> Iterator[int]:
        return iter(self._array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``).

    Examples::

        >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
        [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.batch_size = _positive_int(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ValueError(
                f"BatchSampler: drop_last should be a boolean value, but got "
                f"drop_last={drop_last!r}"
            )
        self.sampler = sampler
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]  # a sampler that has a length
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
