"""``Model.fit(..., distribute="mpi")``: data-parallel fit over the ranks of
:mod:`minnet.distributed`, as ``tf.distribute``'s strategies do it for Keras.

* ``batch_size`` is the *global* batch (Keras's convention under a strategy): every rank
  takes its ``batch_size / world size`` slice of each batch, so the same script trains the
  same way on 1 rank or on N (up to float32 reduction order).
* The sample order of each epoch is rank 0's (broadcast), the parameters are rank 0's at the
  start (DistributedDataParallel's broadcast) and the gradients are averaged by its bucketed
  allreduce; a global batch that does not split evenly (the last one) weights each rank's
  loss by its share of the samples, so the average is still the batch's mean gradient.
* The loss and metrics in the progress bar, the callbacks' logs and ``History`` are those of
  the global batch: the metrics' running sums (total and count; true/false positives...) are
  summed over the ranks. Only rank 0 prints, and only rank 0 runs the callbacks that write
  files (``ModelCheckpoint``, ``CSVLogger``); the others get the same logs, so
  ``EarlyStopping`` stops every rank at the same epoch.
* Validation runs on every rank over the whole validation set (the models are identical, so
  are the results; nothing to communicate).
"""

import copy

import numpy as np

from minnet import distributed as dist
from minnet.keras import metrics as metrics_module
from minnet.nn.parallel import DistributedDataParallel
from minnet.tensor import Tensor

_STRATEGIES = ("mpi",)


def check(distribute):
    if distribute is not None and distribute not in _STRATEGIES:
        raise ValueError(
            f"fit: distribute must be None or 'mpi' (data-parallel over minnet.distributed), "
            f"got {distribute!r}"
        )


# a metric's running state: the attributes summed over the ranks
def _state_names(m):
    if isinstance(m, metrics_module.Mean):
        return ("total", "count")
    if isinstance(m, metrics_module._Confusion):
        return ("tp", "fp", "fn")
    return None


class MPIFit:
    """The distributed part of one ``fit``: made before the first epoch, closed after."""

    def __init__(self, model, batch_size):
        dist.init()
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        if batch_size % self.world:
            raise ValueError(
                f"fit: batch_size={batch_size} is the global batch and must divide evenly "
                f"over the {self.world} ranks (distribute='mpi')"
            )
        # rank 0's parameters everywhere, and the gradient hooks that average them
        self.ddp = DistributedDataParallel(model) if self.world > 1 else None
        self.model = model

    def order(self, order):
        """Rank 0's order of the epoch's samples (None: in order, the same everywhere)."""
        if order is not None and self.world > 1:
            order = np.ascontiguousarray(order, dtype=np.int64)
            dist.broadcast(order, 0)
        return order

    def local(self, idx, n):
        """(this rank's part of the global batch ``idx``, the factor on its loss), or
        (None, 0) when the batch has fewer samples than ranks (every rank skips it)."""
        ids = np.arange(n)[idx] if isinstance(idx, slice) else np.asarray(idx)
        m = len(ids)
        if m < self.world:
            return None, 0.0
        parts = np.array_split(ids, self.world)
        mine = parts[self.rank]
        # the average over ranks of (share * world) * local mean = the batch's mean
        return mine, len(mine) * self.world / m

    def logs(self, trackers):
        """{name: value} of the trackers (the loss's Mean, the metrics) over all ranks."""
        vec, plans = [], []
        for m in trackers:
            names = _state_names(m)
            if names is None:  # unknown state: the mean of the ranks' results, by samples
                vec += [float(m.result()), 1.0]
            else:
                vec += [float(getattr(m, k)) for k in names]
            plans.append(names)
        arr = np.array(vec, np.float64)
        if self.world > 1:
            dist.all_reduce(arr)
        out, i = {}, 0
        for m, names in zip(trackers, plans):
            if names is None:
                out[m.name] = arr[i] / arr[i + 1]
                i += 2
                continue
            g = copy.copy(m)
            for k in names:
                setattr(g, k, arr[i])
                i += 1
            out[m.name] = float(g.result())
        return out

    def end_epoch(self):
        """Rank 0's buffers (BatchNorm's running statistics) everywhere."""
        if self.world > 1:
            for b in self.model.buffers():
                dist.broadcast(b, 0)

    def close(self):
        """Unhook the gradient averaging (a later plain fit must not communicate)."""
        if self.ddp is not None:
            for h in self.ddp._handles:
                h.remove()
            self.ddp = None


def scaled(loss, factor):
    return loss if factor == 1.0 else loss * Tensor(np.asarray(factor, loss.data.dtype))
