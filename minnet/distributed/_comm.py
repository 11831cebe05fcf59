"""The process group (MPI_COMM_WORLD and this node's share of it) and the collectives on
Tensors and NumPy arrays. mpi4py is imported on first use, never at import time."""

import enum
import importlib.util
import json
import os
import sys
import zlib

import numpy as np

from minnet.tensor import Tensor

MISSING_MPI = (
    "minnet.distributed needs mpi4py and an MPI library, which are optional: install Open "
    "MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev), then the extra "
    'pip install "minnet-nn[mpi]" (or pip install mpi4py; it compiles against the system MPI)'
)


def _mpi():
    """mpi4py's MPI module (importing it initializes MPI), or the ImportError that says what
    to install."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{MISSING_MPI} ({e})") from e
    return MPI


def is_available():
    """True when mpi4py is installed (``torch.distributed.is_available``); nothing is
    imported or initialized."""
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except ValueError:  # sys.modules["mpi4py"] is None: blocked
        return False


class ReduceOp(enum.Enum):
    """The reductions of :func:`all_reduce` (``torch.distributed.ReduceOp``). ``AVG`` is the
    sum divided by the world size (floating tensors only)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"


class _Group:
    comm = None  # MPI.COMM_WORLD once init() ran
    local = None  # the ranks on this node (MPI.COMM_TYPE_SHARED)
    rank = 0
    size = 1
    local_rank = 0
    local_size = 1
    prev_excepthook = None


_group = _Group()


def is_initialized():
    """True once :func:`init` has run (and :func:`destroy_process_group` has not)."""
    return _group.comm is not None


def _require(what):
    if _group.comm is None:
        if not is_available():  # the missing-mpi4py error first: it is the more useful one
            raise ImportError(MISSING_MPI)
        raise RuntimeError(
            f"minnet.distributed.{what}: the process group is not initialized; call "
            f"minnet.distributed.init() first (in every rank)"
        )
    return _group.comm


def init(backend="mpi", *, set_threads=True, abort_on_exception=True):
    """Join the job MPI started: this process's rank and the world size come from
    ``MPI_COMM_WORLD``, its local rank from the ranks sharing its node. Calling it again is
    a no-op. Run without ``mpirun``, the process is a world of one.

    Args:
        backend (str): only ``'mpi'``.
        set_threads (bool): give minnet's kernels this rank's share of the cores it may run
            on (:func:`threads_per_rank`), unless ``OMP_NUM_THREADS`` is set. Default: True.
        abort_on_exception (bool): with more than one rank, an exception that escapes the
            script prints its traceback and then aborts the whole job (``MPI_Abort``), so
            the other ranks do not wait forever in their next collective. Default: True.
    """
    if backend not in ("mpi", None):
        raise ValueError(f"init: backend must be 'mpi' (the only one minnet has), got {backend!r}")
    if _group.comm is not None:
        return
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    local = comm.Split_type(MPI.COMM_TYPE_SHARED, key=comm.rank)
    _group.comm, _group.local = comm, local
    _group.rank, _group.size = comm.rank, comm.size
    _group.local_rank, _group.local_size = local.rank, local.size
    if abort_on_exception and comm.size > 1 and _group.prev_excepthook is None:
        _group.prev_excepthook = sys.excepthook
        sys.excepthook = _abort_on_exception
    if set_threads:
        n = threads_per_rank()
        if n is not None:
            from minnet import set_num_threads

            set_num_threads(n)


def init_process_group(backend="mpi", init_method=None, world_size=-1, rank=-1, **kwargs):
    """``torch.distributed.init_process_group`` for scripts ported from PyTorch: the same as
    :func:`init` (MPI decides the rank and world size; ``world_size``/``rank``, when given,
    must agree with it)."""
    init(backend)
    for name, given, actual in (
        ("world_size", world_size, _group.size),
        ("rank", rank, _group.rank),
    ):
        if given not in (-1, None) and given != actual:
            raise ValueError(
                f"init_process_group: {name}={given} but MPI started this process with "
                f"{name}={actual} (the launcher, mpirun -n, decides it)"
            )


def destroy_process_group():
    """Leave the process group (MPI itself is finalized when the process exits)."""
    if _group.local is not None:
        _group.local.Free()
    if _group.prev_excepthook is not None:
        sys.excepthook = _group.prev_excepthook
    _group.comm = _group.local = _group.prev_excepthook = None
    _group.rank, _group.size, _group.local_rank, _group.local_size = 0, 1, 0, 1


def _abort_on_exception(exc_type, exc, tb):
    (_group.prev_excepthook or sys.__excepthook__)(exc_type, exc, tb)
    sys.stderr.flush()
    sys.stdout.flush()
    comm = _group.comm
    if comm is not None and comm.size > 1:
        print(
            f"minnet.distributed: rank {comm.rank} raised {exc_type.__name__}; aborting the job",
            file=sys.stderr,
            flush=True,
        )
        comm.Abort(1)


def abort(errorcode=1):
    """End every rank of the job now (``MPI_Abort``)."""
    _require("abort").Abort(int(errorcode))


def get_rank():
    """This process's rank, 0 to world size - 1."""
    _require("get_rank")
    return _group.rank


def get_world_size():
    """The number of ranks in the job."""
    _require("get_world_size")
    return _group.size


def get_local_rank():
    """This process's rank among the ranks on its node (``LOCAL_RANK`` in PyTorch)."""
    _require("get_local_rank")
    return _group.local_rank


def get_local_world_size():
    """The number of ranks on this process's node."""
    _require("get_local_world_size")
    return _group.local_size


def threads_per_rank():
    """This rank's share of the cores it may run on, or None when ``OMP_NUM_THREADS`` is set
    (the user chose). The ranks of this node whose CPU affinity overlaps this one's split it
    evenly: ``mpirun`` binding each rank to its own cores leaves each all of them; unbound
    ranks on a 2-core node get 1 thread each, so they do not oversubscribe."""
    if os.environ.get("OMP_NUM_THREADS", "").strip():
        return None
    try:
        mine = sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        mine = list(range(os.cpu_count() or 1))
    local = _group.local
    if local is None or local.size == 1:
        return len(mine)
    masks = _allgather_json(local, mine)
    own = set(mine)
    sharing = sum(1 for m in masks if own.intersection(m))
    return max(1, len(mine) // max(sharing, 1))


# ------------------------------------------------------------------ helpers
def _allgather_json(comm, obj):
    """Every rank's ``obj`` (JSON-serializable), as a list in rank order: bytes through
    MPI_Allgatherv (mpi4py's lower-case methods would pickle)."""
    MPI = _mpi()
    data = np.frombuffer(json.dumps(obj).encode(), np.uint8)
    counts = np.empty(comm.size, np.int64)
    comm.Allgather(np.array([data.size], np.int64), counts)
    displs = np.zeros(comm.size, np.int64)
    np.cumsum(counts[:-1], out=displs[1:])
    out = np.empty(int(counts.sum()), np.uint8)
    comm.Allgatherv(data, [out, counts.tolist(), displs.tolist(), MPI.BYTE])
    return [json.loads(out[d : d + c].tobytes()) for d, c in zip(displs, counts)]


def _check_same(comm, arr, what):
    """ValueError on every rank (so none is left waiting) unless every rank passes an array
    of the same shape and dtype: one allgather of four integers, then the details if not."""
    if comm.size == 1:
        return
    sig = np.array(
        [
            arr.ndim,
            arr.size,
            zlib.crc32(repr(arr.shape).encode()),
            zlib.crc32(arr.dtype.str.encode()),
        ],
        np.int64,
    )
    sigs = np.empty((comm.size, 4), np.int64)
    comm.Allgather(sig, sigs)
    if (sigs != sigs[0]).any():
        facts = _allgather_json(comm, [list(arr.shape), arr.dtype.name])
        listing = ", ".join(f"rank {r}: {tuple(s)} {d}" for r, (s, d) in enumerate(facts))
        raise ValueError(
            f"{what}: every rank must pass a tensor of the same shape and dtype, got {listing}"
        )


def _array(tensor, what):
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, np.ndarray):
        return tensor
    raise TypeError(
        f"{what}: tensor must be a minnet.Tensor or a numpy.ndarray, got {type(tensor).__name__}"
    )


def _work_buffer(arr, what):
    """arr itself when MPI can use it in place, else a contiguous copy (written back)."""
    if not arr.flags.writeable:
        raise ValueError(f"{what}: the tensor is read-only (the collective writes into it)")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{what}: unsupported dtype {arr.dtype}")
    return arr if arr.flags.c_contiguous else np.ascontiguousarray(arr)


def _check_op(op):
    if isinstance(op, str):
        try:
            op = ReduceOp[op.upper()]
        except KeyError:
            op = None
    if not isinstance(op, ReduceOp):
        raise ValueError(
            f"all_reduce: op must be a ReduceOp "
            f"({', '.join(o.name for o in ReduceOp)}), got {op!r}"
        )
    return op


def _mpi_op(MPI, op):
    return {
        ReduceOp.SUM: MPI.SUM,
        ReduceOp.AVG: MPI.SUM,
        ReduceOp.PRODUCT: MPI.PROD,
        ReduceOp.MIN: MPI.MIN,
        ReduceOp.MAX: MPI.MAX,
    }[op]


class Work:
    """What a collective with ``async_op=True`` returns: ``wait()`` blocks until it is done
    (and the result is in the tensor); ``is_completed()`` polls."""

    def __init__(self, request, finish):
        self._request, self._finish, self._done = request, finish, False

    def is_completed(self):
        if not self._done and self._request.Test():
            self._complete()
        return self._done

    def wait(self):
        if not self._done:
            self._request.Wait()
            self._complete()
        return True

    def _complete(self):
        self._done = True
        self._finish()


# ------------------------------------------------------------------ collectives
def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduce ``tensor`` over all ranks, in place: afterwards every rank holds the result.

    Args:
        tensor (Tensor or ndarray): the same shape and dtype on every rank (checked).
        op (ReduceOp): SUM (default), AVG, PRODUCT, MIN or MAX.
        group: only None (the whole world).
        async_op (bool): return a :class:`Work` at once; the result is in ``tensor`` after
            its ``wait()``.

    Examples:
        >>> t = minnet.tensor([float(dist.get_rank())])
        >>> dist.all_reduce(t, dist.ReduceOp.SUM)       # every rank: 0 + 1 + ... + (N-1)
    """
    comm = _require("all_reduce")
    _check_group(group, "all_reduce")
    op = _check_op(op)
    arr = _array(tensor, "all_reduce")
    work = _work_buffer(arr, "all_reduce")
    if op is ReduceOp.AVG and work.dtype.kind != "f":
        raise TypeError(f"all_reduce: ReduceOp.AVG needs a floating tensor, got {arr.dtype}")
    _check_same(comm, arr, "all_reduce")
    MPI = _mpi()
    size = comm.size

    def finish():
        if op is ReduceOp.AVG:
            np.divide(work, size, out=work)
        if work is not arr:
            arr[...] = work

    if async_op:
        return Work(comm.Iallreduce(MPI.IN_PLACE, work, _mpi_op(MPI, op)), finish)
    comm.Allreduce(MPI.IN_PLACE, work, _mpi_op(MPI, op))
    finish()
    return None


def broadcast(tensor, src=0, group=None, async_op=False):
    """Copy rank ``src``'s ``tensor`` into every other rank's, in place (same shape and
    dtype everywhere, checked)."""
    comm = _require("broadcast")
    _check_group(group, "broadcast")
    _check_rank(src, comm.size, "broadcast", "src")
    arr = _array(tensor, "broadcast")
    work = _work_buffer(arr, "broadcast")
    _check_same(comm, arr, "broadcast")

    def finish():
        if work is not arr:
            arr[...] = work

    if async_op:
        return Work(comm.Ibcast(work, root=src), finish)
    comm.Bcast(work, root=src)
    finish()
    return None


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """Fill ``tensor_list[r]`` with rank r's ``tensor``, on every rank.

    Args:
        tensor_list (list): world size Tensors or arrays of ``tensor``'s shape, written in
            place.
        tensor (Tensor or ndarray): this rank's contribution (same shape everywhere).
    """
    comm = _require("all_gather")
    _check_group(group, "all_gather")
    if async_op:
        raise ValueError("all_gather: async_op=True is not supported; call it synchronously")
    arr = _array(tensor, "all_gather")
    if not isinstance(tensor_list, list) or len(tensor_list) != comm.size:
        got = len(tensor_list) if isinstance(tensor_list, list) else type(tensor_list).__name__
        raise ValueError(
            f"all_gather: tensor_list must be a list of world size ({comm.size}) "
            f"tensors, got {got}"
        )
    outs = [_array(t, "all_gather") for t in tensor_list]
    for r, o in enumerate(outs):
        if o.shape != arr.shape:
            raise ValueError(
                f"all_gather: tensor_list[{r}] has shape {o.shape}, the tensor {arr.shape}"
            )
    _check_same(comm, arr, "all_gather")
    gathered = np.empty((comm.size,) + arr.shape, arr.dtype)
    comm.Allgather(np.ascontiguousarray(arr), gathered)
    for o, g in zip(outs, gathered):
        o[...] = g
    return None


def barrier(group=None):
    """Wait until every rank has called barrier."""
    comm = _require("barrier")
    _check_group(group, "barrier")
    comm.Barrier()


def _check_group(group, what):
    if group is not None:
        raise ValueError(f"{what}: group must be None (minnet has the one world group)")


def _check_rank(r, size, what, name):
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not 0 <= r < size:
        raise ValueError(f"{what}: {name} must be a rank in [0, {size}), got {r!r}")
