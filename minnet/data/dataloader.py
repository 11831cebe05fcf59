"""DataLoader: batches, shuffling, collation and worker processes over a map-style dataset."""

from __future__ import annotations

import multiprocessing
import numbers
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import numpy as np

from minnet.data import _worker
from minnet.data.dataset import PreCollated, Subset, TensorDataset, _as_tensor, _default_generator
from minnet.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

    from numpy.typing import NDArray

    from minnet.data.dataset import Dataset

__all__ = ["DataLoader", "default_collate", "default_convert"]


def _is_tensor(x: object) -> bool:
    return not isinstance(x, np.ndarray) and isinstance(getattr(x, "data", None), np.ndarray)


def default_collate(batch: Any) -> Any:
    """Stack a list of samples into a batch, as PyTorch's ``default_collate``:
    Tensors and arrays are stacked along a new first dimension into a Tensor; Python and
    NumPy numbers become a 1-D Tensor (floats as float32 like ``torch.tensor`` gives float
    for ``float`` items, ints as int64); tuples, lists and dicts are collated field by field;
    strings are returned as a list. A :class:`PreCollated` batch (what a dataset's
    ``__getitems__`` may return) is returned already collated.
    """
    if isinstance(batch, PreCollated):
        return batch.collated
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
        if hasattr(elem, "_fields"):  # namedtuple
            return type(elem)(*fields)
        return tuple(fields) if isinstance(elem, tuple) else fields
    raise TypeError(
        f"default_collate: batch must contain Tensors, NumPy arrays, numbers, "
        f"dicts or lists; found {type(elem).__name__}"
    )


def default_convert(data: Any) -> Any:
    """The collate_fn of a DataLoader with ``batch_size=None`` (no batching): NumPy arrays
    become Tensors, through dicts, lists and tuples; everything else is kept."""
    from minnet.tensor import Tensor

    return _worker._map(
        data, lambda x: Tensor(x) if isinstance(x, np.ndarray) and x.dtype.kind in "fiub" else None
    )


class DataLoader:
    """Iterate over a dataset in (optionally shuffled) batches, in this process or in
    worker processes; PyTorch's arguments and behaviour.

    Args:
        dataset (Dataset): a map-style dataset (``__getitem__`` and ``__len__``).
        batch_size (int or None): samples per batch. Default: 1. None turns batching off:
            each sample is yielded on its own, through ``collate_fn`` (default:
            :func:`default_convert`).
        shuffle (bool): reshuffle the order at the start of every epoch. Default: False.
        sampler (Sampler or iterable, optional): the order of the indices (excludes
            ``shuffle``), e.g. ``SubsetRandomSampler(train_idx)``.
        batch_sampler (optional): yields lists of indices, one per batch (excludes
            ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers (int): worker processes fetching batches; 0 (default) fetches in this
            process. See "Workers" below.
        collate_fn (callable, optional): merges a list of samples into a batch. Default:
            :func:`default_collate`.
        pin_memory (bool): accepted and ignored (there is no GPU memory to copy to); as is
            ``pin_memory_device``.
        drop_last (bool): drop the last batch when it is smaller than ``batch_size``.
            Default: False.
        timeout (float): with workers, seconds to wait for a batch before RuntimeError
            (0: wait as long as the workers live). Default: 0.
        worker_init_fn (callable, optional): called as ``worker_init_fn(worker_id)`` in each
            worker after seeding, before any data is loaded.
        multiprocessing_context (str or context, optional): ``'fork'``, ``'spawn'`` or
            ``'forkserver'`` (or a ``multiprocessing`` context). Default: Python's default
            (``'fork'`` on Linux up to Python 3.13). With spawn/forkserver the dataset,
            ``collate_fn`` and ``worker_init_fn`` must be picklable (defined at module level).
        generator (numpy.random.Generator or minnet.Generator, optional): the source of the
            shuffling and of the workers' base seed. Without it they draw from minnet's
            generator (``minnet.manual_seed``).
        prefetch_factor (int, optional): batches in flight per worker. Default: 2 with
            workers; must be None without.
        persistent_workers (bool): keep the workers (and their dataset copies) between
            epochs. Default: False.
        in_order (bool): accepted; batches always come in order.
        seed (int, optional): a minnet shorthand for ``generator=np.random.default_rng(seed)``,
            made once, so successive epochs differ but a new loader repeats them exactly.

    Fast path: a :class:`TensorDataset` (or a :class:`Subset` of one) with the default
    ``collate_fn`` builds each batch with one fancy index per array instead of per-item
    indexing and stacking; the batches are the same. It always runs in this process, since
    workers would only add the cost of sending the batches: ``num_workers`` is ignored there.

    Workers: each batch's indices go to a worker process, which calls ``dataset[i]`` and
    ``collate_fn`` and sends the batch back; batches come out in the same order as without
    workers. Worker ``k`` seeds Python's ``random``, NumPy's global generator and minnet's
    generator from ``base_seed + k`` (``get_worker_info().seed``), so random augmentations
    differ between workers. An exception in a worker is raised again here, with the worker's
    traceback in its message. Workers stop at the end of each epoch (unless
    ``persistent_workers``) and when the iterator or loader is garbage-collected. minnet's
    kernels run single-threaded in a worker (so that the workers do not oversubscribe the
    cores the training uses); ``minnet.set_num_threads`` there raises it.

    Examples::

        >>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, seed=0)
        >>> for epoch in range(10):
        ...     for xb, yb in loader:
        ...         ...
        >>> loader = DataLoader(ImageFolderLike(root), batch_size=64, shuffle=True,
        ...                     num_workers=2, persistent_workers=True)
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable[Any] | None = None,
        batch_sampler: Sampler | Iterable[list[Any]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float | numbers.Real = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | BaseContext | None = None,
        generator: np.random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
        seed: int | None = None,
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValueError(
                f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}"
            )
        if (
            isinstance(num_workers, bool)
            or not isinstance(num_workers, (int, np.integer))
            or num_workers < 0
        ):
            raise ValueError(
                f"DataLoader: num_workers option should be a non-negative "
                f"integer, got {num_workers!r}"
            )
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got {timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "DataLoader: prefetch_factor option could only be specified in "
                "multiprocessing; let num_workers > 0 to enable it, otherwise "
                "set prefetch_factor to None"
            )
        if prefetch_factor is not None and (
            isinstance(prefetch_factor, bool)
            or not isinstance(prefetch_factor, (int, np.integer))
            or prefetch_factor < 1
        ):
            raise ValueError(
                f"DataLoader: prefetch_factor should be a positive integer, "
                f"got {prefetch_factor!r}"
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if generator is not None and seed is not None:
            raise ValueError("DataLoader: give either generator or seed, not both")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "DataLoader: batch_sampler option is mutually exclusive with "
                    "batch_size, shuffle, sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "DataLoader: batch_size=None option disables auto-batching and is "
                "mutually exclusive with drop_last"
            )
        self.dataset = dataset
        self.batch_size = None if batch_size is None else int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = np.random.default_rng(seed) if seed is not None else generator
        if sampler is None:
            # a map-style dataset has __len__, which Dataset (as PyTorch's) does not declare
            sampler = (
                RandomSampler(dataset, generator=self.generator)  # type: ignore[arg-type]
                if shuffle
                else SequentialSampler(dataset)  # type: ignore[arg-type]
            )
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.collate_fn = collate_fn
        self.num_workers = int(num_workers)
        self.prefetch_factor = (
            (2 if prefetch_factor is None else int(prefetch_factor)) if num_workers else None
        )
        self.persistent_workers = bool(persistent_workers)
        self.pin_memory, self.pin_memory_device = bool(pin_memory), pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = _check_context(multiprocessing_context)
        self.in_order = in_order
        self._fast = (
            collate_fn is None
            and self.batch_size is not None
            and self._tensor_arrays() is not None
        )
        self._pool: _worker.WorkerPool | None = None  # the persistent workers

    def _tensor_arrays(self) -> tuple[tuple[NDArray[Any], ...], NDArray[Any] | None] | None:
        """(arrays, base indices) when the dataset is a TensorDataset or a Subset of one."""
        ds, base = self.dataset, None
        while isinstance(ds, Subset):
            idx = np.asarray(ds.indices, dtype=np.intp)
            base = idx if base is None else idx[base]
            ds = ds.dataset
        if type(ds) is TensorDataset:
            return ds.arrays, base
        return None

    def _collate(self) -> Callable[[Any], Any]:
        if self.collate_fn is not None:
            return self.collate_fn
        return (
            default_convert
            if self.batch_size is None and self.batch_sampler is None
            else default_collate
        )

    def __len__(self) -> int:
        # a sampler given as a plain iterable must have a length here, as in PyTorch
        if self.batch_sampler is not None:
            return len(self.batch_sampler)  # type: ignore[arg-type]
        n = len(self.sampler)  # type: ignore[arg-type]
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _index_batches(self) -> Iterator[Any]:
        """The indices of each batch: lists (or index arrays, when the sampler has an array
        form), or single indices when batching is off."""
        if self.batch_sampler is not None:
            return iter(self.batch_sampler)
        if self.batch_size is None:
            return iter(self.sampler)
        array = getattr(self.sampler, "_array", None)  # minnet's samplers: one array
        if array is None:
            return iter(BatchSampler(self.sampler, self.batch_size, self.drop_last))
        order, bs = array(), self.batch_size
        stop = len(order) - len(order) % bs if self.drop_last else len(order)
        return (order[i : i + bs] for i in range(0, stop, bs))

    def __iter__(self) -> Iterator[Any]:
        batches = self._index_batches()
        if self._fast:
            arrays, base = self._tensor_arrays()  # type: ignore[misc]  # not None: _fast
            for idx in batches:
                idx = np.asarray(idx, dtype=np.intp)
                if base is not None:
                    idx = base[idx]
                yield tuple(_as_tensor(a[idx]) for a in arrays)
            return
        if self.num_workers == 0:
            collate, auto = (
                self._collate(),
                self.batch_size is not None or self.batch_sampler is not None,
            )
            for idx in batches:
                yield _worker.fetch(self.dataset, _plain(idx), collate, auto)
            return
        pool = self._pool or _worker.WorkerPool(
            self, _context(self.multiprocessing_context), self._base_seed()
        )
        if self.persistent_workers:
            self._pool = pool
        try:
            yield from pool.run(_plain(idx) for idx in batches)
        finally:
            if not self.persistent_workers:
                pool.shutdown()

    def _base_seed(self) -> int:
        gen = self.generator if self.generator is not None else _default_generator()
        return int(gen.integers(0, 2**62))


def _plain(idx: Any) -> Any:
    """Indices as Python ints (a dataset may not take NumPy integers or arrays)."""
    return idx.tolist() if isinstance(idx, np.ndarray) else idx


def _check_context(ctx: Any) -> Any:
    """Validate a multiprocessing_context argument without resolving it: asking for the
    default context fixes Python's start method, which a user may still want to set."""
    if isinstance(ctx, str):
        methods = multiprocessing.get_all_start_methods()
        if ctx not in methods:
            raise ValueError(
                f"DataLoader: multiprocessing_context option should specify a "
                f"valid start method in {methods!r}, but got {ctx!r}"
            )
    elif ctx is not None and not (hasattr(ctx, "Process") and hasattr(ctx, "Queue")):
        raise TypeError(
            f"DataLoader: multiprocessing_context option should be a start method "
            f"name or a multiprocessing context, got {type(ctx).__name__}"
        )
    return ctx


def _context(ctx: Any) -> Any:
    return multiprocessing.get_context(ctx) if ctx is None or isinstance(ctx, str) else ctx
