"""Where a training step's time goes: ``minnet-bench train --profile``.

Every call of a ``minnet.kernels`` op is timed while a step runs (:func:`kernel_timers` swaps
each op in the ``minnet.kernels`` namespace for a timing wrapper, which works because every
caller looks the op up there at call time). A step's time then splits into

* ``gemm/conv``: the GEMM, convolution and recurrent kernels (where the FLOPs are);
* ``eltwise``: activations, softmax, losses, pooling and normalisation kernels;
* ``optimizer``: the fused update kernels;
* ``python``: the rest: autograd bookkeeping, module calls, argument checks, NumPy glue
  (reshapes, the few NumPy ops between kernels) and the wrappers' own overhead.

The wrappers add about a microsecond per kernel call, which lands in ``python``; the profiled
steps are timed apart from the unprofiled ones the table's main columns report.
"""

import contextlib
import time

from minnet import _ops, kernels

__all__ = ["CATEGORIES", "category_of", "kernel_timers", "profile_step"]

CATEGORIES = ("gemm/conv", "eltwise", "optimizer", "python")
_FAMILY_CATEGORY = {
    "gemm": "gemm/conv",
    "conv": "gemm/conv",
    "rnn": "gemm/conv",
    "eltwise": "eltwise",
    "pool": "eltwise",
    "norm": "eltwise",
    "optim": "optimizer",
}


def category_of(op_name):
    """The profile category of a declared op (minnet._ops)."""
    for op in _ops.OPS:
        if op.name == op_name:
            return _FAMILY_CATEGORY[op.family]
    raise KeyError(f"{op_name!r} is not a declared kernel op")


@contextlib.contextmanager
def kernel_timers():
    """Within the block, every minnet.kernels op adds its wall time to the yielded dict
    (category -> seconds; also "calls" -> number of kernel calls). Nested kernel calls do not
    occur (a kernel never calls another through Python)."""
    totals = {c: 0.0 for c in CATEGORIES[:-1]}
    totals["calls"] = 0
    saved = {}
    clock = time.perf_counter

    def timed(fn, cat):
        def wrapper(*args, **kwargs):
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[cat] += clock() - t0
                totals["calls"] += 1

        wrapper.__wrapped__ = fn
        return wrapper

    for op in _ops.OPS:
        fn = getattr(kernels, op.name)
        saved[op.name] = fn
        setattr(kernels, op.name, timed(fn, _FAMILY_CATEGORY[op.family]))
    try:
        yield totals
    finally:
        for name, fn in saved.items():
            setattr(kernels, name, fn)


def profile_step(step, steps=20, warmup=3):
    """Run ``step()`` ``warmup`` times, then ``steps`` times under :func:`kernel_timers`.
    Returns {"step_s": mean seconds per step, category: mean seconds per step, ...,
    "calls": kernel calls per step}, the categories summing to step_s."""
    for _ in range(warmup):
        step()
    with kernel_timers() as totals:
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        wall = time.perf_counter() - t0
    out = {"step_s": wall / steps}
    for c in CATEGORIES[:-1]:
        out[c] = totals[c] / steps
    out["python"] = max(0.0, out["step_s"] - sum(out[c] for c in CATEGORIES[:-1]))
    out["calls"] = totals["calls"] / steps
    return out
