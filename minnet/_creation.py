"""Tensor creation and the free functions of the tensor API (``minnet.tensor``, ``minnet.zeros``,
``minnet.cat``, ...), each a thin checked wrapper over a :class:`~minnet.tensor.Tensor` or an op
of :mod:`minnet._functions`."""

import numpy as np

from minnet._dtypes import get_default_dtype
from minnet._functions import Cat, Stack, Where
from minnet._tensor import Tensor, _filled, _norm_dim, _size_args
from minnet.device import check_cpu
from minnet.random import get_generator


# ---- free functions ----------------------------------------------------------------------
def cat(tensors, dim=0):
    """Concatenate tensors along an existing dim."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    nd = tensors[0].ndim
    axis = _norm_dim(dim, nd, "cat")
    for i, t in enumerate(tensors):
        if (
            t.ndim != nd
            or t.shape[:axis] + t.shape[axis + 1 :]
            != tensors[0].shape[:axis] + tensors[0].shape[axis + 1 :]
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {t.shape}, which does not match "
                f"tensor 0 of shape {tensors[0].shape} outside dim {dim}"
            )
    return Cat.apply(*tensors, axis=axis)


concatenate = cat


def stack(tensors, dim=0):
    """Stack same-shaped tensors along a new dim."""
    tensors = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(
                f"stack: tensor {i} has shape {t.shape}, tensor 0 has {tensors[0].shape}"
            )
    axis = _norm_dim(dim, tensors[0].ndim + 1, "stack")
    return Stack.apply(*tensors, axis=axis)


def where(condition, input, other):
    """Elements of input where condition holds, else of other (both differentiable)."""
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if not isinstance(input, Tensor):
        input = Tensor(input, dtype=other.dtype if isinstance(other, Tensor) else None)
    other = input._other(other, "where")
    return Where.apply(cond.astype(bool, copy=False), input, other)


def exp(x):
    return x.exp()


def log(x):
    return x.log()


def sqrt(x):
    return x.sqrt()


def clamp(x, min=None, max=None):
    return x.clamp(min, max)


# ---- factories ---------------------------------------------------------------------------
# Each takes PyTorch's keyword-only ``device`` (any spelling of the CPU; an accelerator raises).
def from_numpy(array):
    """A tensor sharing memory with a NumPy array (its dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _dtype_arg(dtype):
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def zeros(*size, dtype=None, requires_grad=False, device=None):
    return _filled(np.zeros, "zeros", size, _dtype_arg(dtype), requires_grad, device)


def ones(*size, dtype=None, requires_grad=False, device=None):
    return _filled(np.ones, "ones", size, _dtype_arg(dtype), requires_grad, device)


def empty(*size, dtype=None, requires_grad=False, device=None):
    return _filled(np.empty, "empty", size, _dtype_arg(dtype), requires_grad, device)


def full(size, fill_value, dtype=None, requires_grad=False, *, device=None):
    if (
        dtype is None
        and isinstance(fill_value, (int, np.integer))
        and not isinstance(fill_value, bool)
    ):
        dtype = np.int64
    return _filled(np.full, "full", (size,), _dtype_arg(dtype), requires_grad, device, fill_value)


def zeros_like(t, dtype=None, requires_grad=False, *, device=None):
    check_cpu(device, "zeros_like: device")
    return Tensor(np.zeros(t.shape, dtype or t.dtype), requires_grad)


def ones_like(t, dtype=None, requires_grad=False, *, device=None):
    check_cpu(device, "ones_like: device")
    return Tensor(np.ones(t.shape, dtype or t.dtype), requires_grad)


def full_like(t, fill_value, dtype=None, requires_grad=False, *, device=None):
    check_cpu(device, "full_like: device")
    return Tensor(np.full(t.shape, fill_value, dtype or t.dtype), requires_grad)


def _gen(generator):
    if generator is not None:
        return generator
    return get_generator()


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Standard normal samples from minnet's generator (or ``generator``)."""
    check_cpu(device, "randn: device")
    dt = _dtype_arg(dtype)
    arr = _gen(generator).standard_normal(_size_args(size, "randn"), dtype=dt)
    return Tensor(arr, requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None):
    """Uniform samples in [0, 1) from minnet's generator (or ``generator``)."""
    check_cpu(device, "rand: device")
    dt = _dtype_arg(dtype)
    arr = _gen(generator).random(_size_args(size, "rand"), dtype=dt)
    return Tensor(arr, requires_grad)


def empty_like(t, dtype=None, requires_grad=False, *, device=None):
    check_cpu(device, "empty_like: device")
    return Tensor(np.empty(t.shape, dtype or t.dtype), requires_grad)


def _like_float_dtype(t, dtype, what):
    dt = np.dtype(dtype or t.dtype)
    if dt.kind != "f":
        raise TypeError(f"{what}: expected a floating-point dtype, got {dt} (pass dtype=)")
    return dt


def randn_like(t, dtype=None, requires_grad=False, generator=None, *, device=None):
    """Standard normal samples shaped and typed like ``t`` (as ``torch.randn_like``)."""
    check_cpu(device, "randn_like: device")
    dt = _like_float_dtype(t, dtype, "randn_like")
    return Tensor(_gen(generator).standard_normal(tuple(t.shape), dtype=dt), requires_grad)


def rand_like(t, dtype=None, requires_grad=False, generator=None, *, device=None):
    """Uniform samples in [0, 1) shaped and typed like ``t`` (as ``torch.rand_like``)."""
    check_cpu(device, "rand_like: device")
    dt = _like_float_dtype(t, dtype, "rand_like")
    return Tensor(_gen(generator).random(tuple(t.shape), dtype=dt), requires_grad)


def randint_like(t, low, high=None, dtype=None, generator=None, *, device=None):
    """Integers in [low, high) (or [0, low)) shaped and typed like ``t``."""
    check_cpu(device, "randint_like: device")
    if high is None:
        low, high = 0, low
    dt = np.dtype(dtype or t.dtype)
    vals = _gen(generator).integers(low, high, size=tuple(t.shape))
    return Tensor(vals.astype(dt))


def randint(low, high=None, size=(), dtype=np.int64, generator=None, *, device=None):
    """Integers in [low, high) (or [0, low) when high is None)."""
    check_cpu(device, "randint: device")
    if high is None:
        low, high = 0, low
    return Tensor(_gen(generator).integers(low, high, size=tuple(size), dtype=dtype))


def arange(start, end=None, step=1, dtype=None, requires_grad=False, *, device=None):
    check_cpu(device, "arange: device")
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = np.int64 if ints else get_default_dtype()
    return Tensor(np.arange(start, end, step, dtype=dtype), requires_grad)


def eye(n, m=None, dtype=None, requires_grad=False, *, device=None):
    check_cpu(device, "eye: device")
    return Tensor(np.eye(n, m, dtype=_dtype_arg(dtype)), requires_grad)
