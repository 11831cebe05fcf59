"""keras.ops: the NumPy-like functions custom layers and losses use, on minnet Tensors
(differentiable; Keras's argument names). A small subset of Keras 3's ``keras.ops``."""

import numpy as np

from minnet.keras import activations
from minnet.nn import functional as F
from minnet.tensor import Tensor
from minnet.tensor import cat as _cat
from minnet.tensor import matmul as _matmul
from minnet.tensor import maximum as _maximum
from minnet.tensor import minimum as _minimum
from minnet.tensor import stack as _stack
from minnet.tensor import where as _where

__all__ = [
    "convert_to_tensor",
    "convert_to_numpy",
    "cast",
    "matmul",
    "dot",
    "add",
    "subtract",
    "multiply",
    "divide",
    "negative",
    "exp",
    "log",
    "sqrt",
    "square",
    "abs",
    "maximum",
    "minimum",
    "clip",
    "where",
    "sum",
    "mean",
    "max",
    "min",
    "argmax",
    "reshape",
    "transpose",
    "expand_dims",
    "squeeze",
    "concatenate",
    "stack",
    "zeros",
    "ones",
    "zeros_like",
    "ones_like",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "log_softmax",
    "gelu",
    "elu",
    "leaky_relu",
    "softplus",
    "silu",
    "one_hot",
]


def convert_to_tensor(x, dtype=None):
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(np.dtype(dtype))
    a = np.asarray(x)
    if dtype is None and a.dtype.kind == "f":
        dtype = np.float32
    return Tensor(a if dtype is None else a.astype(dtype))


def convert_to_numpy(x):
    return np.array(x.data if isinstance(x, Tensor) else x)


def cast(x, dtype):
    return convert_to_tensor(x).to(np.dtype(dtype))


def _pair(a, b):
    a = a if isinstance(a, Tensor) else convert_to_tensor(a)
    return a, b


def matmul(x1, x2):
    return _matmul(*_pair(x1, convert_to_tensor(x2)))


dot = matmul


def add(x1, x2):
    return convert_to_tensor(x1) + x2


def subtract(x1, x2):
    return convert_to_tensor(x1) - x2


def multiply(x1, x2):
    return convert_to_tensor(x1) * x2


def divide(x1, x2):
    return convert_to_tensor(x1) / x2


def negative(x):
    return -convert_to_tensor(x)


def exp(x):
    return convert_to_tensor(x).exp()


def log(x):
    return convert_to_tensor(x).log()


def sqrt(x):
    return convert_to_tensor(x).sqrt()


def square(x):
    x = convert_to_tensor(x)
    return x * x


def abs(x):  # noqa: A001 (Keras's name)
    return convert_to_tensor(x).__abs__()


def maximum(x1, x2):
    return _maximum(convert_to_tensor(x1), convert_to_tensor(x2))


def minimum(x1, x2):
    return _minimum(convert_to_tensor(x1), convert_to_tensor(x2))


def clip(x, x_min, x_max):
    return convert_to_tensor(x).clamp(x_min, x_max)


def where(condition, x1, x2):
    return _where(convert_to_tensor(condition), convert_to_tensor(x1), convert_to_tensor(x2))


def _axes(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def sum(x, axis=None, keepdims=False):  # noqa: A001
    return convert_to_tensor(x).sum(_axes(axis), keepdim=keepdims)


def mean(x, axis=None, keepdims=False):
    return convert_to_tensor(x).mean(_axes(axis), keepdim=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    x = convert_to_tensor(x)
    return x.max() if axis is None else x.max(axis, keepdim=keepdims)[0]


def min(x, axis=None, keepdims=False):  # noqa: A001
    x = convert_to_tensor(x)
    return x.min() if axis is None else x.min(axis, keepdim=keepdims)[0]


def argmax(x, axis=None, keepdims=False):
    return Tensor(np.argmax(convert_to_numpy(x), axis=axis, keepdims=keepdims))


def reshape(x, newshape):
    return convert_to_tensor(x).reshape(tuple(newshape))


def transpose(x, axes=None):
    x = convert_to_tensor(x)
    return x.permute(*(axes if axes is not None else range(x.ndim - 1, -1, -1)))


def expand_dims(x, axis):
    return convert_to_tensor(x).unsqueeze(axis)


def squeeze(x, axis=None):
    return convert_to_tensor(x).squeeze(axis)


def concatenate(xs, axis=0):
    return _cat([convert_to_tensor(x) for x in xs], dim=axis)


def stack(x, axis=0):
    return _stack([convert_to_tensor(a) for a in x], dim=axis)


def zeros(shape, dtype="float32"):
    return Tensor(np.zeros(shape, dtype))


def ones(shape, dtype="float32"):
    return Tensor(np.ones(shape, dtype))


def zeros_like(x, dtype=None):
    return Tensor(np.zeros_like(convert_to_numpy(x), dtype=dtype))


def ones_like(x, dtype=None):
    return Tensor(np.ones_like(convert_to_numpy(x), dtype=dtype))


def one_hot(x, num_classes, dtype="float32"):
    x = convert_to_numpy(x).astype(np.int64)
    return Tensor(np.eye(num_classes, dtype=dtype)[x])


relu, sigmoid, tanh, gelu = (
    activations.relu,
    activations.sigmoid,
    activations.tanh,
    activations.gelu,
)
elu, leaky_relu, softplus, silu = (
    activations.elu,
    activations.leaky_relu,
    activations.softplus,
    activations.silu,
)


def softmax(x, axis=-1):
    return F.softmax(convert_to_tensor(x), dim=axis)


def log_softmax(x, axis=-1):
    return F.log_softmax(convert_to_tensor(x), dim=axis)
