"""Shared helpers of the update rules. Each rule with a kernel has exactly two paths, as every
kernel does: the fused C step (minnet.kernels) and its NumPy reference (minnet.reference),
which has the same signature and in-place behaviour. :func:`step_impl` picks one per
parameter; the optimizers hold no update maths of their own."""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from minnet import kernels as _kernels
from minnet import reference as _reference
from minnet.optim.optimizer import grad_array

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from minnet import Tensor
    from minnet.optim.optimizer import Optimizer

# Set to False to run every update through minnet.reference (the tests run both paths).
USE_KERNELS = True
_FUSABLE = (np.dtype(np.float32), np.dtype(np.float64))


def step_impl(opt: Optimizer, p: Tensor, g: NDArray[Any]) -> ModuleType:
    """minnet.kernels when its fused in-place steps can take parameter ``p`` with gradient
    ``g`` (float32/float64, C-contiguous writeable parameter, gradient of the same dtype),
    else minnet.reference (any float dtype or layout). ValueError if the shapes differ."""
    d = p.data
    if g.shape != d.shape:
        raise ValueError(
            f"{type(opt).__name__}: gradient of shape {g.shape} does not match "
            f"its parameter of shape {d.shape}"
        )
    if (
        USE_KERNELS
        and type(d) is np.ndarray
        and d.dtype in _FUSABLE
        and g.dtype == d.dtype
        and d.flags.c_contiguous
        and d.flags.writeable
    ):
        return _kernels
    return _reference


def apply_rule(
    opt: Optimizer,
    rule: str,
    items: Iterable[tuple[Tensor, NDArray[Any], dict[str, Any]]],
    buffers: dict[str, str],
    per_tensor: dict[str, Callable[[Tensor, dict[str, Any]], Any]] | None = None,
    **scalars: Any,
) -> None:
    """One update rule (``rule``, e.g. "adam_step") over a group's ``items`` (param, gradient,
    state) from ``Optimizer._stepped``: every parameter the kernels take goes through ONE
    ``minnet.kernels.<rule>_multi`` call, the rest (other dtypes or layouts) through the
    reference one by one. ``buffers`` maps the rule's state-argument names to state keys
    (``{"momentum_buf": "momentum_buffer"}``); ``per_tensor`` maps its per-tensor scalar
    arguments to a function of (param, state) (``{"step": lambda p, s: s["step"]}``)."""
    per_tensor = per_tensor or {}
    fast: list[tuple[Tensor, NDArray[Any], dict[str, Any]]] = []
    slow: list[tuple[Tensor, NDArray[Any], dict[str, Any]]] = []
    for item in items:
        (fast if step_impl(opt, item[0], item[1]) is _kernels else slow).append(item)
    if fast:
        kw: dict[str, Any] = {
            "params": [p.data for p, _, _ in fast],
            "grads": [g for _, g, _ in fast],
        }
        for name, key in buffers.items():
            kw[name + "s"] = [s.get(key) for _, _, s in fast]
        for name, fn in per_tensor.items():
            kw[name + "s"] = [fn(p, s) for p, _, s in fast]
        getattr(_kernels, rule + "_multi")(**kw, **scalars)
    single = getattr(_reference, rule)
    for p, g, s in slow:
        one: dict[str, Any] = {name: s.get(key) for name, key in buffers.items()}
        one.update({name: fn(p, s) for name, fn in per_tensor.items()})
        single(p.data, g, **one, **scalars)


def scratch(opt: Optimizer, p: Tensor, name: str = "tmp") -> NDArray[Any]:
    """A reusable array shaped like ``p.data`` (not part of the saved state)."""
    cache = opt.__dict__.setdefault("_scratch", {})
    key = (id(p), name)
    buf = cache.get(key)
    if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
        buf = cache[key] = np.empty_like(p.data)
    return buf


def effective_grad(
    opt: Optimizer, p: Tensor, weight_decay: float = 0.0, maximize: bool = False
) -> NDArray[Any] | None:
    """g = (-grad if maximize else grad) + weight_decay * param, written to a scratch buffer
    when it differs from the raw gradient (the gradient itself is never modified)."""
    g = grad_array(p)
    if g is None:
        return None
    if g.shape != p.data.shape:
        raise ValueError(
            f"{type(opt).__name__}: gradient of shape {g.shape} does not match "
            f"its parameter of shape {p.data.shape}"
        )
    if not maximize and weight_decay == 0:
        return g
    out = scratch(opt, p, "grad")
    if maximize:
        np.negative(g, out=out)
    else:
        out[...] = g
    if weight_decay != 0:
        tmp = scratch(opt, p, "tmp")
        np.multiply(p.data, weight_decay, out=tmp)
        np.add(out, tmp, out=out)
    return out


_LABELS = {"lr": "learning rate", "eps": "epsilon"}


def check_nonneg(**values: float) -> None:
    """ValueError 'Invalid <name> value: <v>' (PyTorch's message) for the first one < 0 or NaN."""
    for name, value in values.items():
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_LABELS.get(name, name)} value: {value}")
