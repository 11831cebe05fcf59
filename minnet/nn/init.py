"""Parameter initialisation, PyTorch's ``torch.nn.init``: each function fills a Tensor's
``.data`` (or a NumPy array) in place, keeps its dtype, and returns it.

Random draws come from minnet's generator (``minnet.manual_seed``) unless a
``numpy.random.Generator`` is passed as ``generator``. Values are drawn in float64 and then
cast, so a float32 and a float64 parameter seeded alike get the same numbers.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from minnet import Tensor

# what each function fills and returns: a Tensor (its .data) or a NumPy array
_T = TypeVar("_T", bound="Tensor | NDArray[Any]")

__all__ = [
    "calculate_gain",
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
]


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    if generator is not None:
        return generator
    try:
        from minnet.random import get_generator
    except ImportError:  # pragma: no cover - minnet.random always ships
        return _fallback
    return get_generator()


_fallback = np.random.default_rng()


def _array(tensor: object) -> NDArray[Any]:
    arr = tensor if isinstance(tensor, np.ndarray) else getattr(tensor, "data", None)
    if not isinstance(arr, np.ndarray):
        raise TypeError(
            f"nn.init: expected a Tensor or numpy.ndarray, got {type(tensor).__name__}"
        )
    return arr


def _fill(tensor: _T, values: ArrayLike) -> _T:
    arr = _array(tensor)
    arr[...] = values
    return tensor


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    r"""The recommended gain for a nonlinearity:

    =====================   ====================================================
    linear, conv, sigmoid   1
    tanh                    5/3
    relu                    sqrt(2)
    leaky_relu              sqrt(2 / (1 + negative_slope^2))  (slope ``param``, default 0.01)
    selu                    3/4
    =====================   ====================================================

    Args:
        nonlinearity (str): the function's name.
        param (float, optional): the negative slope of leaky_relu.

    Examples::

        >>> gain = nn.init.calculate_gain('leaky_relu', 0.2)
    """
    linear_fns = [
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
    ]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        # mypy does not count int and float as numbers.Number (they are registered at run time)
        elif isinstance(param, numbers.Number) and not isinstance(param, bool):  # type: ignore[unreachable]
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor | NDArray[Any]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight: ``shape[1] * receptive``, ``shape[0] * receptive``
    where receptive is the product of ``shape[2:]`` (PyTorch's layouts (out, in, *kernel))."""
    shape = _array(tensor).shape
    if len(shape) < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than "
            f"2 dimensions (got shape {shape})"
        )
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor | NDArray[Any], mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(
    tensor: _T, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None
) -> _T:
    """Fill with values drawn from U(a, b)."""
    return _fill(tensor, _rng(generator).uniform(a, b, size=_array(tensor).shape))


def normal_(
    tensor: _T, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None
) -> _T:
    """Fill with values drawn from N(mean, std^2)."""
    return _fill(tensor, _rng(generator).normal(mean, std, size=_array(tensor).shape))


def trunc_normal_(
    tensor: _T,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: np.random.Generator | None = None,
) -> _T:
    """Fill with N(mean, std^2) values redrawn until they fall in [a, b]."""
    rng = _rng(generator)
    shape = _array(tensor).shape
    out = rng.normal(mean, std, size=shape)
    bad = (out < a) | (out > b)
    while bad.any():
        out[bad] = rng.normal(mean, std, size=int(bad.sum()))
        bad = (out < a) | (out > b)
    return _fill(tensor, out)


def constant_(tensor: _T, val: float) -> _T:
    """Fill with the value ``val``."""
    return _fill(tensor, val)


def ones_(tensor: _T) -> _T:
    """Fill with ones."""
    return _fill(tensor, 1)


def zeros_(tensor: _T) -> _T:
    """Fill with zeros."""
    return _fill(tensor, 0)


def eye_(tensor: _T) -> _T:
    """Fill a 2-D tensor with the identity matrix."""
    arr = _array(tensor)
    if arr.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported, got shape {arr.shape}")
    return _fill(tensor, np.eye(*arr.shape))


def xavier_uniform_(
    tensor: _T, gain: float = 1.0, generator: np.random.Generator | None = None
) -> _T:
    """Glorot uniform: U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(
    tensor: _T, gain: float = 1.0, generator: np.random.Generator | None = None
) -> _T:
    """Glorot normal: N(0, std^2) with ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(
    tensor: _T,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> _T:
    """He uniform: U(-bound, bound) with ``bound = gain * sqrt(3 / fan)``, where
    ``gain = calculate_gain(nonlinearity, a)`` and fan is ``fan_in`` or ``fan_out``
    (``mode``). ``nn.Linear`` uses ``a=sqrt(5)``, giving ``bound = 1 / sqrt(fan_in)``."""
    fan = _calculate_correct_fan(tensor, mode)
    if fan == 0:
        return tensor
    gain = calculate_gain(nonlinearity, a)
    bound = math.sqrt(3.0) * gain / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: _T,
    a: float = 0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> _T:
    """He normal: N(0, std^2) with ``std = gain / sqrt(fan)``."""
    fan = _calculate_correct_fan(tensor, mode)
    if fan == 0:
        return tensor
    gain = calculate_gain(nonlinearity, a)
    return normal_(tensor, 0.0, gain / math.sqrt(fan), generator)


def orthogonal_(tensor: _T, gain: float = 1.0, generator: np.random.Generator | None = None) -> _T:
    """Fill with a (semi-)orthogonal matrix (Saxe et al., 2013): the Q of the QR
    decomposition of a standard normal ``(rows, numel // rows)`` matrix, its columns' signs
    fixed by the diagonal of R, times ``gain``. Tensors with more than 2 dimensions are
    flattened after the first."""
    arr = _array(tensor)
    if arr.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if arr.size == 0:
        return tensor
    rows = arr.shape[0]
    cols = arr.size // rows
    flat = _rng(generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    d = np.sign(np.diag(r))
    d[d == 0] = 1
    q = q * d
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(arr.shape))
