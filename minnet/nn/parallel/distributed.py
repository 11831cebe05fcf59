"""DistributedDataParallel: the same model on every rank, each on its own shard of the data,
gradients averaged over the ranks by bucketed, non-blocking allreduces that run while the
backward pass is still computing the earlier layers' gradients (PyTorch's design; Horovod
calls the bucketing "tensor fusion").

How a step goes:

1. Wrapping: rank 0's parameters and buffers are broadcast to every rank, after a check that
   every rank has the same parameter names, shapes and dtypes. The parameters that require
   grad are cut into buckets of about ``bucket_cap_mb`` in *reverse* registration order (the
   order the backward produces their gradients), each with one contiguous flat buffer.
2. Backward: a post-accumulate-grad hook on each parameter copies its finished gradient into
   its bucket's buffer; when the last one of a bucket arrives, the bucket's ``MPI_Iallreduce``
   starts, and the backward goes on with the next layers. Buckets start in bucket order on
   every rank (MPI needs the collectives in the same order everywhere).
3. End of backward (a callback the engine runs after the last gradient): the buckets not
   started yet (the last one, which nothing could hide, and any waiting for a parameter that
   got no gradient in this step: zeros in its place, so no rank waits forever) are reduced
   with a blocking allreduce, the others waited for. The gradients were divided by the world
   size on their way into the buckets, so the sums are the averages, and each ``.grad`` is
   its bucket's slice (``gradient_as_bucket_view``). ``optimizer.step()`` sees averaged
   gradients.

Each bucket also carries one counter per parameter (1 where that rank had a gradient), so a
parameter that no rank used keeps ``.grad`` None, as it would in one process, and one used on
some ranks only gets the average with zeros for the others, as PyTorch's DDP.
"""

import contextlib
import time

import numpy as np

from minnet import autograd
from minnet.distributed import _comm
from minnet.nn.modules.module import Module
from minnet.tensor import Tensor

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
# PyTorch's first bucket is small, so the first allreduce starts early in the backward
_FIRST_BUCKET_BYTES = 1 * _MB


class _Bucket:
    """Parameters whose gradients travel in one allreduce: their gradients and one "has a
    gradient" counter per parameter, side by side in ``flat``; ``views[i]`` is parameter
    i's slice of it, in the parameter's shape."""

    def __init__(self, params, dtype, scale, as_view):
        self.params = params
        self.views = []
        n = 0
        for p in params:
            self.views.append(p.data.size)
            n += p.data.size
        self.numel = n
        self.flat = np.zeros(n + len(params), dtype)
        off = 0
        for i, p in enumerate(params):
            size = self.views[i]
            self.views[i] = self.flat[off : off + size].reshape(p.data.shape)
            off += size
        self.scale = scale  # 1 / world size: the sum of the scaled gradients is the average
        self.as_view = as_view
        self.ready = [False] * len(params)
        self.pending = len(params)
        self.request = None

    def put(self, i, p):
        """Parameter i's gradient, divided by the world size, into the bucket (one pass);
        with as_view, ``p.grad`` becomes the bucket's slice (no copy back later)."""
        v = self.views[i]
        g = p.grad.data
        np.multiply(g, self.scale, out=v)  # in place when g is v (accumulated into the view)
        if self.as_view and g is not v:
            p.grad = Tensor(v)
        self.flat[self.numel + i] = 1
        self.ready[i] = True
        self.pending -= 1

    def fill_missing(self):
        """The parameters no gradient reached in this backward: what ``.grad`` holds (from
        accumulation), else zeros that do not count."""
        for i, done in enumerate(self.ready):
            if not done:
                p = self.params[i]
                if p.grad is not None:
                    self.put(i, p)
                    continue
                self.views[i][...] = 0
                self.flat[self.numel + i] = 0
                self.ready[i] = True
        self.pending = 0

    def reset(self):
        self.ready = [False] * len(self.params)
        self.pending = len(self.params)
        self.request = None


class DistributedDataParallel(Module):
    """Data-parallel training of ``module`` over the ranks of ``minnet.distributed``
    (``torch.nn.parallel.DistributedDataParallel``). Call ``minnet.distributed.init()``
    first; give each rank its own shard of the data (``minnet.data.DistributedSampler``);
    after ``loss.backward()`` every rank holds the gradients averaged over all ranks, so
    N ranks with batch B step like one process with batch N*B.

    Args:
        module (Module): the model; its parameters are overwritten with rank 0's.
        device_ids, output_device: only None (minnet runs on the CPU).
        broadcast_buffers (bool): copy rank 0's buffers (BatchNorm's running statistics)
            to every rank at the start of each training forward. Default: True.
        process_group: only None (the whole world).
        bucket_cap_mb (float): the size a bucket of gradients grows to before it gets its
            own allreduce, in MiB (also accepted as ``bucket_mb``). Smaller buckets start
            sooner in the backward (more overlap) but pay the allreduce's latency more
            often. Default: 25 (PyTorch's); the first bucket is at most 1 MiB.
        find_unused_parameters (bool): accepted for PyTorch's scripts; parameters without a
            gradient are always handled (they never hang the allreduce).
        gradient_as_bucket_view (bool): after a synchronized backward, each ``.grad`` is a
            view of its bucket's buffer, which saves copying the averaged gradients back
            (PyTorch's option, off by default there; on here: it is most of the cost of
            DDP for a dense model). A ``.grad`` kept past the next backward then changes
            with it. Default: True.

    Shape:
        whatever ``module`` takes and returns: ``forward`` calls it.

    Examples:
        >>> dist.init()
        >>> model = DistributedDataParallel(nn.Sequential(nn.Linear(784, 10)))
        >>> loss_fn(model(x), y).backward()     # gradients averaged over the ranks
        >>> opt.step()
        >>> with model.no_sync():               # accumulate locally, no communication
        ...     loss_fn(model(x2), y2).backward()
    """

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=True,
        process_group=None,
        bucket_cap_mb=25,
        find_unused_parameters=False,
        gradient_as_bucket_view=True,
        *,
        bucket_mb=None,
    ):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(
                f"DistributedDataParallel: module must be a minnet.nn.Module, got "
                f"{type(module).__name__}"
            )
        for name, value in (("device_ids", device_ids), ("output_device", output_device)):
            if value not in (None, [], "cpu"):
                raise ValueError(
                    f"DistributedDataParallel: {name} must be None (minnet runs on the CPU), "
                    f"got {value!r}"
                )
        if process_group is not None:
            raise ValueError("DistributedDataParallel: process_group must be None (the world)")
        if bucket_mb is not None:
            bucket_cap_mb = bucket_mb
        if (
            isinstance(bucket_cap_mb, bool)
            or not isinstance(bucket_cap_mb, (int, float))
            or not bucket_cap_mb > 0
        ):
            raise ValueError(
                f"DistributedDataParallel: bucket_cap_mb must be a positive number of MiB, "
                f"got {bucket_cap_mb!r}"
            )
        comm = _comm._require("DistributedDataParallel")
        self.module = module
        self.broadcast_buffers = bool(broadcast_buffers)
        self.bucket_cap_mb = bucket_cap_mb
        self.find_unused_parameters = bool(find_unused_parameters)
        self.require_backward_grad_sync = True
        self._comm = comm
        self._world = comm.size
        _check_same_model(comm, module)
        self._broadcast_state(comm)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self._buckets = _make_buckets(
            [p for p in module.parameters() if p.requires_grad],
            int(bucket_cap_mb * _MB),
            1.0 / comm.size,
            self.gradient_as_bucket_view,
        )
        self._where = {}
        self._handles = []
        for b in self._buckets:
            for i, p in enumerate(b.params):
                self._where[id(p)] = (b, i)
                self._handles.append(p.register_post_accumulate_grad_hook(self._on_grad))
        self._sync = True  # what the last forward saw of require_backward_grad_sync
        self._queued = False  # the end-of-backward callback is queued
        self._next = 0  # the next bucket to start (buckets start in order)
        # statistics (minnet-bench train --ranks reads them): the time the ends of backward
        # waited for allreduces, the bytes allreduced, and those whose allreduce had finished
        # before the backward ended (hidden behind it)
        self.comm_wait_seconds = 0.0
        self.reduced_bytes = 0
        self.overlapped_bytes = 0

    # ------------------------------------------------------------------ wrap time
    def _broadcast_state(self, comm, buffers_only=False):
        """Rank 0's parameters and buffers (or buffers only) into every rank's, in place
        (the shapes were checked at wrap time)."""
        if comm.size == 1:
            return
        tensors = [] if buffers_only else list(self.module.parameters())
        for t in tensors + list(self.module.buffers()):
            a = t.data
            if a.flags.c_contiguous:
                comm.Bcast(a, root=0)
            else:
                work = np.ascontiguousarray(a)
                comm.Bcast(work, root=0)
                a[...] = work

    # ------------------------------------------------------------------ forward
    def forward(self, *inputs, **kwargs):
        if autograd.is_grad_enabled():
            self._sync = self.require_backward_grad_sync
            if self._queued:  # the last backward raised before its end: start afresh
                for b in self._buckets:
                    b.reset()
                self._queued, self._next = False, 0
            if self.broadcast_buffers and self._world > 1 and self.module.training:
                self._broadcast_state(self._comm, buffers_only=True)
        return self.module(*inputs, **kwargs)

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this context the backward passes only accumulate ``.grad`` locally; the
        first backward after it averages everything accumulated. For gradient
        accumulation: ``with model.no_sync(): loss(model(x1)).backward()`` then
        ``loss(model(x2)).backward(); opt.step()``."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    # ------------------------------------------------------------------ backward
    def _on_grad(self, p):
        if not self._sync or self._world == 1:
            return
        if not self._queued:
            autograd.queue_callback(self._finish_backward)
            self._queued = True
        b, i = self._where[id(p)]
        if not b.ready[i]:
            b.put(i, p)
        if b.pending == 0:
            self._start_ready()
        # Open MPI progresses a non-blocking collective only inside MPI calls: poke the
        # started ones so they move on while this rank computes
        for s in self._buckets[: self._next]:
            if s.request is not None:
                s.request.Test()

    def _start_ready(self):
        """Start the ready buckets' Iallreduces, in bucket order, except the last bucket's:
        the backward ends soon after its gradients (the first layers'), so nothing would
        hide its allreduce, and the blocking MPI_Allreduce of the end of backward is faster
        than a non-blocking one on its own (measured: 0.16 against 0.37 ms for 1.6 MB on 2
        local ranks)."""
        MPI = _comm._mpi()
        buckets = self._buckets
        last = len(buckets) - 1
        while self._next < last and buckets[self._next].pending == 0:
            b = buckets[self._next]
            b.request = self._comm.Iallreduce(MPI.IN_PLACE, b.flat, MPI.SUM)
            self._next += 1

    def _finish_backward(self):
        self._queued = False
        MPI = _comm._mpi()
        t0 = time.perf_counter()
        for b in self._buckets[: self._next]:  # what finished while the backward ran
            if b.request.Test():
                self.overlapped_bytes += b.flat.nbytes
        self.reduced_bytes += sum(b.flat.nbytes for b in self._buckets)
        # the rest in bucket order, blocking; a parameter without a gradient this step
        # counts as zeros (the other ranks may have one)
        for b in self._buckets[self._next :]:
            if b.pending:
                b.fill_missing()
            self._comm.Allreduce(MPI.IN_PLACE, b.flat, MPI.SUM)
        MPI.Request.Waitall([b.request for b in self._buckets if b.request is not None])
        self.comm_wait_seconds += time.perf_counter() - t0
        for b in self._buckets:
            flat = b.flat
            for i, p in enumerate(b.params):
                if flat[b.numel + i] == 0:
                    continue  # no rank had a gradient for it: .grad stays as it was
                v = b.views[i]
                if p.grad is None or (b.as_view and p.grad.data is not v):
                    p.grad = Tensor(v if b.as_view else v.copy())
                elif p.grad.data is not v:
                    np.copyto(p.grad.data, v)
            b.reset()
        self._next = 0

    # ------------------------------------------------------------------ repr
    def extra_repr(self):
        return f"bucket_cap_mb={self.bucket_cap_mb}, buckets={len(self._buckets)}"


def _make_buckets(params, cap, scale, as_view):
    """Buckets in reverse registration order, each of one dtype, the first at most 1 MiB."""
    buckets = []
    current, size, dtype = [], 0, None
    limit = min(cap, _FIRST_BUCKET_BYTES)
    for p in reversed(params):
        nbytes = p.data.nbytes
        if current and (p.data.dtype != dtype or size + nbytes > limit):
            buckets.append(_Bucket(current, dtype, scale, as_view))
            current, size, limit = [], 0, cap
        current.append(p)
        size += nbytes
        dtype = p.data.dtype
    if current:
        buckets.append(_Bucket(current, dtype, scale, as_view))
    return buckets


def _check_same_model(comm, module):
    """ValueError, the same on every rank, unless every rank's module has the same parameter
    and buffer names, shapes and dtypes as rank 0's."""
    if comm.size == 1:
        return
    mine = [
        [n, list(t.shape), t.data.dtype.name, "parameter"] for n, t in module.named_parameters()
    ]
    mine += [[n, list(t.shape), t.data.dtype.name, "buffer"] for n, t in module.named_buffers()]
    every = _comm._allgather_json(comm, mine)
    ref = every[0]
    for r, theirs in enumerate(every[1:], 1):
        if theirs == ref:
            continue
        ref_by = {e[0]: e for e in ref}
        their_by = {e[0]: e for e in theirs}
        for name in list(ref_by) + [n for n in their_by if n not in ref_by]:
            a, b = ref_by.get(name), their_by.get(name)
            if a is None or b is None:
                kind = (a or b)[3]
                where, missing = (0, r) if a is not None else (r, 0)
                raise ValueError(
                    f"DistributedDataParallel: the models differ across ranks: {kind} "
                    f"'{name}' exists on rank {where} but not on rank {missing}"
                )
            if a[1:3] != b[1:3]:
                raise ValueError(
                    f"DistributedDataParallel: the models differ across ranks: {a[3]} "
                    f"'{name}' has shape {tuple(a[1])} ({a[2]}) on rank 0 but "
                    f"{tuple(b[1])} ({b[2]}) on rank {r}"
                )
        raise ValueError(
            f"DistributedDataParallel: the models differ across ranks: rank 0 and rank {r} "
            f"register their parameters in a different order"
        )
