"""The ``torch.*`` free functions beginners' code calls, for ``import minnet as torch``.

Each one forwards to the Tensor method or the ``nn.functional`` op of the same name, with
torch's signature: ``torch.flatten(x, 1)``, ``torch.max(out, 1)`` -> ``(values, indices)``,
``torch.sum(x, dim, keepdim, dtype=...)``, ``torch.softmax(x, dim)``. Their inputs must be
Tensors, as in torch. Also here: :class:`dtype`, the type of minnet's dtypes.
"""

import numpy as np

from minnet._creation import _gen
from minnet.device import check_cpu
from minnet.tensor import Tensor, get_default_dtype

__all__ = [
    "dtype",
    "is_tensor",
    "is_floating_point",
    "numel",
    "flatten",
    "argmax",
    "argmin",
    "max",
    "min",
    "sum",
    "mean",
    "softmax",
    "log_softmax",
    "sigmoid",
    "tanh",
    "relu",
    "abs",
    "reshape",
    "squeeze",
    "unsqueeze",
    "transpose",
    "permute",
    "t",
    "linspace",
    "randperm",
]


class _DTypeMeta(type):
    def __instancecheck__(cls, obj):
        if isinstance(obj, np.dtype):
            return obj.kind in "fiub"
        return (
            isinstance(obj, type) and issubclass(obj, np.generic) and np.dtype(obj).kind in "fiub"
        )


class dtype(metaclass=_DTypeMeta):
    """``torch.dtype``: the type of minnet's dtypes, for ``isinstance`` and annotations.

    minnet's dtypes are NumPy's (``minnet.float32 is numpy.float32``, ``x.dtype`` a
    ``numpy.dtype``), so ``isinstance(x.dtype, minnet.dtype)`` and
    ``isinstance(minnet.float, minnet.dtype)`` both hold; ``minnet.dtype('float32')`` is
    ``numpy.dtype('float32')``.
    """

    def __new__(cls, value):
        return np.dtype(value)


def _input(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}: input must be a Tensor, got {type(x).__name__} (wrap it with "
            f"minnet.tensor(...))"
        )
    return x


def is_tensor(obj):
    """True for a minnet Tensor (a Parameter included)."""
    return isinstance(obj, Tensor)


def is_floating_point(input):
    return _input(input, "is_floating_point").is_floating_point()


def numel(input):
    """The number of elements of ``input``."""
    return _input(input, "numel").numel()


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim..end_dim`` into one (``torch.flatten(x, 1)`` keeps the batch)."""
    return _input(input, "flatten").flatten(start_dim, end_dim)


def argmax(input, dim=None, keepdim=False):
    """Index (int64) of the first maximum along ``dim``, or in the flattened input."""
    return _input(input, "argmax").argmax(dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _input(input, "argmin").argmin(dim, keepdim)


def max(input, dim=None, keepdim=False):
    """``max(x)``: the largest element (0-d); ``max(x, dim, keepdim=False)``: the namedtuple
    ``(values, indices)`` along dim; ``max(x, other)`` with a tensor: the elementwise
    maximum."""
    return _input(input, "max").max(dim, keepdim)


def min(input, dim=None, keepdim=False):
    """Like :func:`max`, for the minimum."""
    return _input(input, "min").min(dim, keepdim)


def sum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum over ``dim`` (int, tuple or None for all); ints and bools sum to int64."""
    return _input(input, "sum").sum(dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over ``dim`` of a floating tensor (or converted to ``dtype`` first)."""
    return _input(input, "mean").mean(dim, keepdim, dtype=dtype)


def softmax(input, dim, dtype=None):
    from minnet.nn import functional as F

    x = _input(input, "softmax")
    return F.softmax(x if dtype is None else x.to(dtype), dim)


def log_softmax(input, dim, dtype=None):
    from minnet.nn import functional as F

    x = _input(input, "log_softmax")
    return F.log_softmax(x if dtype is None else x.to(dtype), dim)


def sigmoid(input):
    return _input(input, "sigmoid").sigmoid()


def tanh(input):
    return _input(input, "tanh").tanh()


def relu(input):
    return _input(input, "relu").relu()


def abs(input):
    return _input(input, "abs").abs()


def reshape(input, shape):
    return _input(input, "reshape").reshape(shape)


def squeeze(input, dim=None):
    return _input(input, "squeeze").squeeze(dim)


def unsqueeze(input, dim):
    return _input(input, "unsqueeze").unsqueeze(dim)


def transpose(input, dim0, dim1):
    return _input(input, "transpose").transpose(dim0, dim1)


def permute(input, dims):
    return _input(input, "permute").permute(dims)


def t(input):
    return _input(input, "t").t()


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive (float32 unless
    ``dtype``)."""
    check_cpu(device, "linspace: device")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    arr = np.linspace(start, end, int(steps), dtype=np.float64)
    return Tensor(arr.astype(dtype or get_default_dtype()), requires_grad=requires_grad)


def randperm(n, *, generator=None, dtype=np.int64, device=None, requires_grad=False):
    """A random permutation of ``0..n-1`` (int64) from minnet's generator or ``generator``."""
    check_cpu(device, "randperm: device")
    perm = _gen(generator).permutation(int(n)).astype(dtype)
    return Tensor(perm, requires_grad=requires_grad)
