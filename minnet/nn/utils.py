"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Iterable, Union

import numpy as np

from minnet.tensor import Tensor

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]

# PyTorch's _tensor_or_tensors: one Tensor or an iterable of them (e.g. model.parameters())
_TensorOrTensors = Union[Tensor, Iterable[Tensor]]


def _params(parameters: _TensorOrTensors) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(
    parameters: _TensorOrTensors,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    r"""Scale the gradients of ``parameters`` in place so that their joint norm (as if
    concatenated into one vector) is at most ``max_norm``:
    ``grad *= min(1, max_norm / (total_norm + 1e-6))``.

    Args:
        parameters (iterable of Tensor or Tensor): parameters whose ``.grad`` to clip.
        max_norm (float): the largest allowed norm.
        norm_type (float): the p of the p-norm; ``float('inf')`` for the max norm.
            Default: 2.0.
        error_if_nonfinite (bool): raise if the total norm is nan or inf. Default: False.

    Returns:
        Tensor: the total norm before clipping (0-d, in the gradients' dtype).

    Examples::

        >>> loss.backward()
        >>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        >>> opt.step()
    """
    grads = [p.grad.data for p in _params(parameters) if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return Tensor(np.array(0.0, dtype=np.float32))
    dtype = grads[0].dtype
    if norm_type == math.inf:
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g, dtype=np.float64) ** norm_type)) for g in grads) ** (
            1.0 / norm_type
        )
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from "
            "`parameters` is non-finite, so it cannot be clipped. To disable "
            "this error and scale the gradients by the non-finite norm "
            "anyway, set `error_if_nonfinite=False`"
        )
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            np.multiply(g, coef, out=g, casting="unsafe")
    return Tensor(np.array(total, dtype=dtype))


def clip_grad_value_(parameters: _TensorOrTensors, clip_value: float) -> None:
    """Clamp every gradient element of ``parameters`` into ``[-clip_value, clip_value]``,
    in place.

    Args:
        parameters (iterable of Tensor or Tensor): parameters whose ``.grad`` to clip.
        clip_value (float): the largest allowed magnitude.

    Examples::

        >>> nn.utils.clip_grad_value_(model.parameters(), 0.5)
    """
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters: _TensorOrTensors) -> Tensor:
    """The parameters' values concatenated into one 1-D Tensor (a copy)."""
    return Tensor(np.concatenate([p.data.ravel() for p in _params(parameters)]))


def vector_to_parameters(vec: Tensor | ArrayLike, parameters: _TensorOrTensors) -> None:
    """Copy consecutive slices of the 1-D ``vec`` into the parameters, in place."""
    v = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    offset = 0
    for p in _params(parameters):
        n = p.data.size
        p.data[...] = v[offset : offset + n].reshape(p.data.shape)
        offset += n
    if offset != v.size:
        raise ValueError(
            f"vector_to_parameters: vector has {v.size} elements, the parameters {offset}"
        )
