"""The roofline of a training step: how much of the machine it uses.

A step's FLOPs are counted from its layers' shapes (GEMMs and convolutions only, which is
where the arithmetic is; elementwise work, pooling and the optimizer are memory-bound and
counted as time, not FLOPs):

    Linear (in -> out) on N rows              forward 2 N in out
    Conv (C_in -> C_out, kH x kW, groups)     forward 2 N C_out OH OW (C_in / groups) kH kW
    RNN / GRU / LSTM (g = 1, 3, 4 gate sets)  forward 2 T B (I + H) g H per layer and direction

and the backward pass costs twice its forward (dX and dW), except that the first weighted layer
computes no dX (its input needs no gradient): once its forward. The step's FLOP rate divided by
the measured FMA peak (:func:`machine_peak`, from ``_runtime.peak_flops``) is its % of peak.
The same count serves minnet and torch modules: it reads the attributes both name alike
(``in_features``, ``kernel_size``, ``hidden_size``, ...) from shapes seen in one forward.
"""

from functools import lru_cache

import numpy as np

__all__ = ["machine_peak", "triad_bandwidth", "layer_flops", "step_flops", "percent_of_peak"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "RNN": 1, "GRU": 3, "LSTM": 4}


@lru_cache(maxsize=None)
def machine_peak(threads, dtype="float32", isa=None, seconds=0.05, trials=5):
    """FLOP/s of the FMA-only register loop at this ISA level (None: the kernels' current
    one) on ``threads`` threads: the compute roof. Measured once per process and argument,
    as the best of ``trials`` loops of ``seconds`` each: a roof is a maximum, and on a shared
    machine one loop can lose a thread's core for part of its run (one 50 ms loop read 36%
    below the others on the VM of 2026-12-04, which moved every %peak by half)."""
    from minnet._kernels import _runtime

    return max(_runtime.peak_flops(isa, dtype, threads, seconds) for _ in range(trials))


@lru_cache(maxsize=None)
def triad_bandwidth(threads):
    """Bytes/s of the streaming triad on ``threads`` threads: the memory roof."""
    from minnet._kernels import _runtime

    return _runtime.triad_bandwidth(threads)


def _shape(x):
    if isinstance(x, (tuple, list)):  # an RNN's (output, h) or an LSTM's h and c
        return _shape(x[0])
    return tuple(getattr(x, "shape", ()))


def _is_weighted(m):
    return (
        (hasattr(m, "in_features") and hasattr(m, "out_features"))
        or (hasattr(m, "kernel_size") and hasattr(m, "out_channels"))
        or (hasattr(m, "hidden_size") and hasattr(m, "num_layers"))
    )


def layer_flops(module, in_shape, out_shape):
    """(forward, dW, dX) FLOPs of one call of ``module`` on input ``in_shape`` giving
    ``out_shape``; (0, 0, 0) for layers without a GEMM or convolution. For a recurrent layer
    dW includes both weight matrices, and the gradients that the backward needs even when the
    layer's input needs none are in dW's share too: through the recurrence (except into the
    initial state) and, in a stack, into each deeper layer's input; dX is the first layer's
    input gradient only."""
    if hasattr(module, "in_features") and hasattr(module, "out_features"):
        rows = int(np.prod(in_shape[:-1], dtype=np.int64))
        f = 2.0 * rows * module.in_features * module.out_features
        return f, f, f
    if hasattr(module, "kernel_size") and hasattr(module, "out_channels"):
        k = int(np.prod(module.kernel_size))
        spatial = len(module.kernel_size)
        out_pixels = int(np.prod(out_shape[-spatial:]))
        batch = int(np.prod(out_shape[: -spatial - 1], dtype=np.int64)) or 1
        f = 2.0 * batch * module.out_channels * out_pixels * (module.in_channels // module.groups)
        f *= k
        return f, f, f
    if hasattr(module, "hidden_size") and hasattr(module, "num_layers"):
        kind = getattr(module, "mode", type(module).__name__.upper())
        g, hsz = _GATES.get(kind, 1), module.hidden_size
        if len(in_shape) == 2:  # unbatched (T, I)
            t, b = in_shape[0], 1
        else:
            t, b = (in_shape[1], in_shape[0]) if module.batch_first else in_shape[:2]
        dirs = 2 if module.bidirectional else 1
        fwd = dw = dx = 0.0
        for layer in range(module.num_layers):
            i = module.input_size if layer == 0 else hsz * dirs
            x_part = dirs * 2.0 * t * b * i * g * hsz
            h_part = dirs * 2.0 * t * b * hsz * g * hsz
            fwd += x_part + h_part
            recur = dirs * 2.0 * (t - 1) * b * hsz * g * hsz  # dh_{t-1} from the gates
            dw += x_part + h_part + recur
            if layer == 0:
                dx += x_part
            else:  # a deeper layer's dX is the gradient of the layer below: always needed
                dw += x_part
        return fwd, dw, dx
    return 0.0, 0.0, 0.0


def step_flops(model, x, call=None):
    """(forward FLOPs, training-step FLOPs) of ``model`` on input ``x``, from the shapes its
    layers see in one forward (run here, without gradients and, for minnet, without fusion,
    so that every layer is seen). A step is the forward plus each layer's dW and dX, except
    the first weighted layer's dX (its input needs no gradient). ``call(model, x)`` runs the
    forward (default ``model(x)``); minnet and torch modules alike."""
    seen = []
    patched = []
    for m in model.modules():
        if not _is_weighted(m):
            continue
        fwd = m.forward

        def traced(*args, _m=m, _fwd=fwd, **kwargs):
            out = _fwd(*args, **kwargs)
            seen.append(layer_flops(_m, _shape(args[0]), _shape(out)))
            return out

        m.forward = traced  # an instance attribute, shadowing the class's forward
        patched.append(m)
    try:
        _plain_forward(model, x, call)
    finally:
        for m in patched:
            del m.forward
    if not seen:
        return 0.0, 0.0
    forward = sum(f for f, _, _ in seen)
    step = forward + sum(dw + dx for _, dw, dx in seen) - seen[0][2]
    return float(forward), float(step)


def _plain_forward(model, x, call):
    run = call or (lambda m, v: m(v))
    if type(model).__module__.split(".")[0] == "torch":
        import torch

        with torch.no_grad():
            return run(model, x)
    import minnet
    from minnet.nn import _fusion

    rules, _fusion.RULES = _fusion.RULES, ()
    try:
        with minnet.no_grad():
            return run(model, x)
    finally:
        _fusion.RULES = rules


def percent_of_peak(flops, seconds, threads, dtype="float32", isa=None):
    """100 * (flops / seconds) / machine_peak(threads, dtype, isa)."""
    if not flops or not seconds or seconds <= 0:
        return float("nan")
    return 100.0 * flops / seconds / machine_peak(threads, dtype, isa)
