"""Datasets: the map-style Dataset protocol, TensorDataset, Subset, random_split."""

from __future__ import annotations

import collections.abc
import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from minnet import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "PreCollated"]


def _as_array(x: object) -> NDArray[Any]:
    """The NumPy array behind a Tensor, or ``np.asarray(x)``."""
    if isinstance(x, np.ndarray):
        return x
    data = getattr(x, "data", None)
    if isinstance(data, np.ndarray):
        return data
    return np.asarray(x)


def _as_tensor(a: NDArray[Any]) -> Tensor:
    from minnet.tensor import Tensor

    return Tensor(a)


def _default_generator() -> np.random.Generator:
    try:
        from minnet.random import get_generator
    except ImportError:  # pragma: no cover - minnet.random always ships
        return np.random.default_rng()
    return get_generator()


class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``.

    Examples::

        >>> class Squares(Dataset):
        ...     def __len__(self): return 10
        ...     def __getitem__(self, i): return np.float32(i), np.float32(i * i)
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """A dataset of samples taken along the first dimension of equally long tensors.

    Args:
        *tensors (Tensor or numpy.ndarray): tensors with the same size of dimension 0.

    Item ``i`` is the tuple ``(tensors[0][i], tensors[1][i], ...)`` as Tensors. A DataLoader
    over a TensorDataset builds each batch with one fancy index per tensor, not per item.

    Examples::

        >>> ds = TensorDataset(minnet.Tensor(X), minnet.Tensor(y))
        >>> x0, y0 = ds[0]
    """

    def __init__(self, *tensors: Tensor | ArrayLike) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        self.tensors = tensors
        self.arrays = tuple(_as_array(t) for t in tensors)
        n: list[Any] = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in n or len(set(n)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise ValueError(
                f"TensorDataset: size mismatch between tensors, dimension 0 must "
                f"agree, got shapes {shapes}"
            )
        self._len = n[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(_as_tensor(a[index]) for a in self.arrays)

    def __len__(self) -> int:
        return self._len


class PreCollated(collections.abc.Sequence):
    """What a dataset's ``__getitems__(indices)`` may return instead of a list of samples: the
    batch already collated (``collated``, which :func:`default_collate` returns as it is)
    and, as a sequence, the samples one by one (``sample(i)``) for any other collate_fn.

    Why: PyTorch's DataLoader passes what ``__getitems__`` returns to ``collate_fn``; a
    dataset that builds its batch in one go (``minnet.vision``'s) would otherwise have to
    split it into samples only for default_collate to stack them again.
    """

    def __init__(self, collated: Any, length: int, sample: Callable[[int], Any]) -> None:
        self.collated, self._length, self._sample = collated, length, sample

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return [self._sample(j) for j in range(*i.indices(self._length))]
        if not -self._length <= i < self._length:
            raise IndexError("PreCollated: sample index out of range")
        return self._sample(i % self._length)


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``.

    Args:
        dataset (Dataset): the whole dataset.
        indices (sequence of int): the indices it keeps.
    """

    def __init__(self, dataset: Dataset, indices: Iterable[int]) -> None:
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, idx: int | list[int] | NDArray[Any]) -> Any:
        if isinstance(idx, (list, np.ndarray)):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)

    def __getitems__(self, indices: list[int]) -> list[Any]:
        # PyTorch's: the batch fast path of the underlying dataset, when it has one
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems is None:
            return [self.dataset[self.indices[i]] for i in indices]
        return getitems([self.indices[i] for i in indices])


class ConcatDataset(Dataset):
    """The concatenation of several datasets.

    Args:
        datasets (sequence of Dataset): the parts, in order.
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        # len(d): a map-style dataset has __len__, which Dataset (as PyTorch's) does not declare
        sizes = [len(d) for d in self.datasets]  # type: ignore[arg-type]
        self.cumulative_sizes: list[int] = np.cumsum(sizes).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int) -> Any:
        if idx < 0:
            if -idx > len(self):
                raise IndexError("index out of range")
            idx += len(self)
        part = int(np.searchsorted(self.cumulative_sizes, idx, side="right"))
        if part >= len(self.datasets):
            raise IndexError("index out of range")
        start = self.cumulative_sizes[part - 1] if part else 0
        return self.datasets[part][idx - start]


def random_split(
    dataset: Dataset,
    lengths: Sequence[int | float],
    generator: np.random.Generator | None = None,
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping Subsets of the given lengths.

    Args:
        dataset (Dataset): the dataset to split.
        lengths (sequence): integer lengths summing to ``len(dataset)``, or fractions summing
            to 1 (each part gets ``floor(frac * len)`` items, and the remainder is dealt one
            item at a time to the parts in order, as PyTorch does).
        generator (numpy.random.Generator, optional): the source of the permutation.
            Default: minnet's generator (see ``minnet.manual_seed``).

    Examples::

        >>> train, val = random_split(ds, [0.8, 0.2], generator=np.random.default_rng(0))
    """
    n = len(dataset)  # type: ignore[arg-type]  # a map-style dataset, as in ConcatDataset
    lengths = list(lengths)
    if lengths and math.isclose(sum(lengths), 1.0) and sum(lengths) <= 1:
        if any(not 0 <= f <= 1 for f in lengths):
            raise ValueError(f"random_split: fractions must be in [0, 1], got {lengths}")
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(
            f"random_split: lengths must be non-negative integers or fractions "
            f"summing to 1, got {lengths}"
        )
    sizes = [int(x) for x in lengths]
    if sum(sizes) != n:
        raise ValueError(
            f"random_split: sum of input lengths ({sum(sizes)}) does not equal "
            f"the length of the input dataset ({n})"
        )
    gen = generator if generator is not None else _default_generator()
    perm = gen.permutation(n)
    out, start = [], 0
    for length in sizes:
        out.append(Subset(dataset, perm[start : start + length]))
        start += length
    return out
