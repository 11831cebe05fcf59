"""DataLoader worker processes, PyTorch's design in small.

The parent sends each worker ``(task id, indices)`` on the worker's own index queue, keeping
``prefetch_factor * num_workers`` tasks in flight, round robin. A worker fetches the samples,
collates them, and sends back ``(task id, pickled batch)`` on one shared result queue; Tensors
travel as their NumPy arrays and become Tensors again in the parent. The parent yields the
batches in task order (the single-process order), whatever order they arrive in.

A failing ``__getitem__``/``collate_fn``/``worker_init_fn`` sends an :class:`ExceptionWrapper`
instead, which the parent re-raises with the worker's traceback text. At shutdown the parent
sets an event, after which a worker skips the tasks still queued, and sends ``None``; a worker
also exits when its parent is gone, and is terminated after a grace period.

Why a worker sets minnet's threads to 1 first thing: ``num_workers`` processes already share
the cores with the training process, and a worker's kernels (transforms, collation) are small;
one thread each keeps them from oversubscribing the machine, as PyTorch's workers do. It is not
needed for safety: minnet's thread pool restarts in a ``fork``-ed child (csrc/runtime_threads.c),
so a worker may call ``minnet.set_num_threads`` (tests/test_fork.py and
tests/test_dataloader_workers.py run forked children under a timeout).
"""

from __future__ import annotations

import collections
import itertools
import os
import pickle
import queue
import random
import signal
import traceback
import weakref
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, NoReturn

import numpy as np

if TYPE_CHECKING:
    from minnet.data.dataloader import DataLoader

__all__ = ["get_worker_info", "WorkerInfo", "ExceptionWrapper"]

_POLL = 1.0  # seconds between liveness checks while waiting on a queue
_JOIN_GRACE = 5.0  # seconds a worker gets to exit before it is terminated

WorkerInfo = collections.namedtuple("WorkerInfo", ["id", "num_workers", "seed", "dataset"])
WorkerInfo.__doc__ = """What :func:`get_worker_info` returns inside a worker: the worker's
``id`` (0-based), ``num_workers``, its ``seed`` (``base_seed + id``) and its copy of the
``dataset``."""

_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of this DataLoader worker process, or None in the main
    process (as ``torch.utils.data.get_worker_info``)."""
    return _worker_info


class ExceptionWrapper:
    """An exception raised in a worker, carried to the parent as its type and traceback
    text (the exception object itself may not pickle)."""

    def __init__(self, exc: BaseException, where: str) -> None:
        self.exc_type = type(exc)
        try:
            pickle.dumps(self.exc_type)
        except Exception:  # a class defined in a function: no pickle
            self.exc_type = RuntimeError
        self.where = where
        self.text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))

    def reraise(self) -> NoReturn:
        msg = (
            f"Caught {self.exc_type.__name__} {self.where}.\n"
            f"Original Traceback (most recent call last):\n"
            + self.text.split("Traceback (most recent call last):\n", 1)[-1]
        )
        try:
            exc = self.exc_type(msg)
        except Exception:  # an exception type that needs other arguments
            raise RuntimeError(msg) from None
        raise exc


class _TensorData:
    """A Tensor on its way from a worker: only its array travels."""

    __slots__ = ("array",)

    def __init__(self, array: Any) -> None:
        self.array = array


def _map(obj: Any, leaf: Callable[[Any], Any]) -> Any:
    """obj with every leaf replaced by leaf(x) (None: keep x), through dicts, lists, tuples
    and namedtuples, as default_collate builds them."""
    new = leaf(obj)
    if new is not None:
        return new
    items: Any
    if isinstance(obj, dict):
        items = {k: _map(v, leaf) for k, v in obj.items()}
        return items if type(obj) is dict else type(obj)(items)
    if isinstance(obj, (list, tuple)):
        items = [_map(v, leaf) for v in obj]
        if hasattr(obj, "_fields"):
            return type(obj)(*items)
        return (
            items
            if type(obj) is list
            else tuple(items)
            if type(obj) is tuple
            else type(obj)(items)
        )
    return obj


def _pack(batch: Any) -> Any:
    from minnet.tensor import Tensor

    return _map(batch, lambda x: _TensorData(x.data) if isinstance(x, Tensor) else None)


def unpack(batch: Any) -> Any:
    from minnet.tensor import Tensor

    return _map(batch, lambda x: Tensor(x.array) if isinstance(x, _TensorData) else None)


def fetch(
    dataset: Any, indices: Any, collate_fn: Callable[[Any], Any], auto_collation: bool
) -> Any:
    """One batch: collate_fn over the samples at indices (or over the single sample at
    indices when batching is off). A dataset with ``__getitems__(indices)`` gives the batch's
    samples in one call, as in PyTorch (minnet.vision's datasets transform a whole batch)."""
    if auto_collation:
        getitems = getattr(dataset, "__getitems__", None)
        if getitems is not None:
            return collate_fn(getitems(indices))
        return collate_fn([dataset[i] for i in indices])
    return collate_fn(dataset[indices])


def _worker_loop(
    dataset: Any,
    index_queue: Any,
    result_queue: Any,
    done: Any,
    collate_fn: Callable[[Any], Any],
    auto_collation: bool,
    base_seed: int,
    worker_id: int,
    num_workers: int,
    worker_init_fn: Callable[[int], None] | None,
    parent_pid: int,
) -> None:
    global _worker_info
    from minnet import _config

    _config.set_num_threads(1)  # the workers leave the cores to the training: see the module doc
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from minnet.random import manual_seed

    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(np.random.SeedSequence([worker_id, base_seed]).generate_state(1)[0])
    _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
    where = f"in DataLoader worker process {worker_id}"
    init_error = None
    if worker_init_fn is not None:
        try:
            worker_init_fn(worker_id)
        except Exception as e:
            init_error = ExceptionWrapper(e, where)
    while True:
        try:
            task = index_queue.get(timeout=_POLL)
        except queue.Empty:
            if os.getppid() != parent_pid:  # the parent died: nobody will read our results
                break
            continue
        if task is None or done.is_set():  # shutting down: queued tasks are unwanted
            break
        task_id, indices = task
        payload = init_error
        if payload is None:
            try:
                payload = _pack(fetch(dataset, indices, collate_fn, auto_collation))
            except Exception as e:
                payload = ExceptionWrapper(e, where)
        # pickle here, not in the queue's feeder thread, so that a batch that cannot be
        # pickled becomes an error in the parent instead of a batch that never arrives
        try:
            data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            data = pickle.dumps(ExceptionWrapper(e, where + " (pickling the batch)"))
        result_queue.put((task_id, data))
    result_queue.cancel_join_thread()  # exit even if results we sent will not be read


def _shutdown(workers: list[Any], index_queues: list[Any], result_queue: Any, done: Any) -> None:
    """Stop the workers: ask each to exit, wait, terminate those that do not."""
    done.set()
    for q in index_queues:
        try:
            q.put(None)
        except (OSError, ValueError):
            pass
    for w in workers:
        w.join(_JOIN_GRACE)
        if w.is_alive():
            w.terminate()
            w.join(1.0)
    for q in index_queues + [result_queue]:
        q.cancel_join_thread()
        q.close()


class WorkerPool:
    """``num_workers`` processes fetching batches for one DataLoader; one epoch at a time
    through :meth:`run`. Shut down by :meth:`shutdown`, or when garbage-collected."""

    def __init__(self, loader: DataLoader, context: Any, base_seed: int) -> None:
        self.num_workers = loader.num_workers
        # prefetch_factor is an int whenever there are workers
        self.prefetch = loader.prefetch_factor * loader.num_workers  # type: ignore[operator]
        self.timeout = loader.timeout
        self.result_queue = context.Queue()
        self.done = context.Event()
        self.index_queues, self.workers = [], []
        auto = loader.batch_size is not None or loader.batch_sampler is not None
        collate = loader._collate()
        for wid in range(self.num_workers):
            q = context.Queue()
            w = context.Process(
                target=_worker_loop,
                daemon=True,
                args=(
                    loader.dataset,
                    q,
                    self.result_queue,
                    self.done,
                    collate,
                    auto,
                    base_seed,
                    wid,
                    self.num_workers,
                    loader.worker_init_fn,
                    os.getpid(),
                ),
            )
            w.start()
            self.index_queues.append(q)
            self.workers.append(w)
        self._ids = itertools.count()
        self._next_worker = 0
        self._outstanding: set[int] = set()  # task ids sent and wanted
        self._arrived: dict[int, bytes] = {}  # task id -> payload that came before its turn
        self._finalizer = weakref.finalize(
            self, _shutdown, self.workers, self.index_queues, self.result_queue, self.done
        )

    def shutdown(self) -> None:
        self._finalizer()

    def run(self, batches: Iterable[Any]) -> Iterator[Any]:
        """Yield the batch of each index list in ``batches``, in order."""
        order: collections.deque[int] = collections.deque()
        batches = iter(batches)

        def send() -> None:
            indices = next(batches, None)
            if indices is None:
                return
            task_id = next(self._ids)
            self.index_queues[self._next_worker].put((task_id, indices))
            self._next_worker = (self._next_worker + 1) % self.num_workers
            self._outstanding.add(task_id)
            order.append(task_id)

        try:
            for _ in range(self.prefetch):
                send()
            while order:
                payload = pickle.loads(self._get(order.popleft()))
                send()
                if isinstance(payload, ExceptionWrapper):
                    payload.reraise()
                yield unpack(payload)
        finally:  # an epoch left early: results still on their way are dropped on arrival
            for task_id in order:
                self._outstanding.discard(task_id)
                self._arrived.pop(task_id, None)

    def _get(self, task_id: int) -> bytes:
        while task_id not in self._arrived:
            try:
                got, data = self.result_queue.get(timeout=self.timeout or _POLL)
            except queue.Empty:
                if self.timeout:
                    raise RuntimeError(
                        f"DataLoader timed out after {self.timeout} seconds waiting for a batch"
                    ) from None
                dead = [w for w in self.workers if not w.is_alive()]
                if dead:
                    codes = ", ".join(f"pid {w.pid}: exit code {w.exitcode}" for w in dead)
                    raise RuntimeError(
                        f"DataLoader worker exited unexpectedly ({codes}); see its output above"
                    ) from None
                continue
            if got in self._outstanding:
                self._arrived[got] = data
        self._outstanding.discard(task_id)
        return self._arrived.pop(task_id)
