"""DataLoader: batches, shuffling and collation over a map-style dataset."""
import numbers

import numpy as np

from minnet.data.dataset import Subset, TensorDataset, _as_tensor, _default_generator

__all__ = ["DataLoader", "default_collate"]


def _is_tensor(x):
    return not isinstance(x, np.ndarray) and isinstance(getattr(x, "data", None), np.ndarray)


def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``:
    Tensors and arrays are stacked along a new first dimension into a Tensor; Python and
    NumPy numbers become a 1-D Tensor (floats as float32 like ``torch.tensor`` gives float
    for ``float`` items, ints as int64); tuples, lists and dicts are collated field by field;
    strings are returned as a list.
    """
    elem = batch[0]
    if _is_tensor(elem) or isinstance(elem, np.ndarray):
        return _as_tensor(np.stack([e.data if _is_tensor(e) else e for e in batch]))
    if isinstance(elem, np.generic):
        return _as_tensor(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return _as_tensor(np.array(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return _as_tensor(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return _as_tensor(np.array(batch, dtype=np.float32))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, dict):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, (tuple, list)):
        if any(len(e) != len(elem) for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(list(f)) for f in zip(*batch)]
        if hasattr(elem, "_fields"):            # namedtuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(f"default_collate: batch must contain Tensors, NumPy arrays, numbers, "
                    f"dicts or lists; found {type(elem).__name__}")


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) batches.

    Args:
        dataset (Dataset): a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size (int): samples per batch. Default: 1.
        shuffle (bool): reshuffle the order at the start of every epoch. Default: False.
        drop_last (bool): drop the last batch when it is smaller than ``batch_size``.
            Default: False.
        generator (numpy.random.Generator, optional): the source of the shuffling.
        seed (int, optional): shorthand for ``generator=np.random.default_rng(seed)``, made
            once, so successive epochs differ but a new loader repeats them exactly.
            Without either, shuffling draws from minnet's generator (``minnet.manual_seed``).
        collate_fn (callable, optional): merges a list of samples into a batch. Default:
            :func:`default_collate`.

    A :class:`TensorDataset` (or a :class:`Subset` of one) with the default ``collate_fn``
    takes a fast path: each batch is one fancy index into each array instead of per-item
    indexing and stacking; the batches are the same.

    Examples::

        >>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
        >>> for epoch in range(10):
        ...     for xb, yb in loader:
        ...         ...
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, generator=None,
                 seed=None, collate_fn=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size should be a positive integer, "
                             f"got {batch_size!r}")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give either generator or seed, not both")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = np.random.default_rng(seed) if seed is not None else generator
        self.collate_fn = collate_fn
        self._fast = collate_fn is None and self._tensor_arrays() is not None

    def _tensor_arrays(self):
        """(arrays, base indices) when the dataset is a TensorDataset or a Subset of one."""
        ds, base = self.dataset, None
        while isinstance(ds, Subset):
            idx = np.asarray(ds.indices, dtype=np.intp)
            base = idx if base is None else idx[base]
            ds = ds.dataset
        if type(ds) is TensorDataset:
            return ds.arrays, base
        return None

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self):
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        gen = self.generator if self.generator is not None else _default_generator()
        return gen.permutation(n)

    def __iter__(self):
        order = self._order()
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        if self._fast:
            arrays, base = self._tensor_arrays()
            for start in range(0, stop, bs):
                idx = order[start:start + bs]
                if base is not None:
                    idx = base[idx]
                yield tuple(_as_tensor(a[idx]) for a in arrays)
            return
        collate = self.collate_fn or default_collate
        for start in range(0, stop, bs):
            yield collate([self.dataset[int(i)] for i in order[start:start + bs]])
