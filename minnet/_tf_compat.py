"""The few TensorFlow names Keras tutorials call, for ``import minnet as tf``.

TensorFlow's Keras tutorials are written as ``import tensorflow as tf`` and then
``tf.keras.Sequential(...)``: with ``import minnet as tf``, ``tf.keras`` is
:mod:`minnet.keras`, and the handful of ``tf.*`` functions around the model code are
these, with TensorFlow's argument names (``axis``, ``keepdims``, ``depth``):

* on ``minnet``: ``constant``, ``convert_to_tensor``, ``cast``, ``reduce_sum``,
  ``reduce_mean``, ``reduce_max``, ``reduce_min``, ``expand_dims``, ``one_hot``;
  ``tf.argmax(x, axis=)`` is :func:`argmax`, which also keeps PyTorch's
  ``argmax(x, dim, keepdim)``; ``tf.float32`` and the other dtypes are minnet's (NumPy's);
* on ``minnet.nn`` (PyTorch's ``torch.nn`` has no lower-case functions, so nothing
  clashes): ``tf.nn.softmax(logits, axis=-1)``, ``log_softmax``, ``relu``, ``sigmoid``;
* on ``minnet.random``: ``tf.random.set_seed(seed)``.

They take NumPy arrays, lists and Tensors, and return minnet Tensors (``.numpy()`` works
as on a ``tf.Tensor``). Python ints become int32 and floats float32, as in TensorFlow.
Everything else of TensorFlow (``tf.data``, ``tf.function``, ``tf.GradientTape``...) is not
provided.
"""

import numpy as np

from minnet.tensor import Tensor

__all__ = [
    "constant",
    "convert_to_tensor",
    "cast",
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "expand_dims",
    "one_hot",
    "argmax",
    # minnet.nn's tf.nn.* functions
    "softmax",
    "log_softmax",
    "relu",
    "sigmoid",
]


def _tf_array(value, dtype):
    """value as a NumPy array with TensorFlow's dtype rules: ints -> int32, floats ->
    float32, unless ``dtype`` is given."""
    a = value.data if isinstance(value, Tensor) else np.asarray(value)
    if dtype is not None:
        return a.astype(np.dtype(dtype), copy=False)
    if a.dtype == np.float64 and not isinstance(value, (Tensor, np.ndarray)):
        return a.astype(np.float32)  # Python floats (TF's float32 default)
    if a.dtype == np.int64 and not isinstance(value, (Tensor, np.ndarray)):
        return a.astype(np.int32)  # Python ints (TF's int32 default)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"minnet holds numbers only: cannot make a tensor of dtype {a.dtype}")
    return a


def constant(value, dtype=None, shape=None, name=None):
    """``tf.constant``: a new tensor holding ``value`` (a copy), broadcast to ``shape`` when
    given (``tf.constant(0., shape=(2, 3))``)."""
    a = np.array(_tf_array(value, dtype))
    if shape is not None:
        shape = tuple(shape)
        a = (
            np.broadcast_to(a, shape).copy()
            if a.size == 1 or a.shape == shape
            else a.reshape(shape)
        )
    return Tensor(a)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """``tf.convert_to_tensor``: a Tensor passes through (converted to ``dtype`` when it
    differs); arrays and lists become Tensors (NumPy arrays keep their dtype)."""
    if isinstance(value, Tensor):
        return (
            value if dtype is None or np.dtype(dtype) == value.dtype else value.to(np.dtype(dtype))
        )
    return Tensor(_tf_array(value, dtype if dtype is not None else dtype_hint))


def cast(x, dtype, name=None):
    """``tf.cast``: x converted to ``dtype`` (differentiable between floating dtypes)."""
    x = convert_to_tensor(x)
    return x if x.dtype == np.dtype(dtype) else x.to(np.dtype(dtype))


def _axes(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """``tf.reduce_sum``: keeps the input's dtype (TensorFlow's rule; PyTorch's sum widens
    ints to int64)."""
    x = convert_to_tensor(input_tensor)
    out = x.sum(_axes(axis), keepdim=keepdims)
    return out if out.dtype == x.dtype or x.dtype == np.bool_ else out.to(x.dtype)


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """``tf.reduce_mean``: the mean over ``axis`` (int, list, or None for all); an integer
    tensor's mean is an integer, as in TensorFlow."""
    x = convert_to_tensor(input_tensor)
    if x.dtype.kind == "f":
        return x.mean(_axes(axis), keepdim=keepdims)
    mean = np.mean(x.data, axis=_axes(axis), keepdims=keepdims)
    return Tensor(np.trunc(mean).astype(x.dtype))


def _reduce_extreme(input_tensor, axis, keepdims, is_max):
    x = convert_to_tensor(input_tensor)
    if axis is None:
        out = x.max() if is_max else x.min()
        return out.reshape((1,) * x.ndim) if keepdims else out
    for a in sorted(
        (_axes(axis) if isinstance(axis, (list, tuple)) else (axis,)), key=lambda a: -(a % x.ndim)
    ):  # the last axis first: indices stay valid
        x = (x.max(a, keepdim=keepdims) if is_max else x.min(a, keepdim=keepdims))[0]
    return x


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    """``tf.reduce_max``: the maximum over ``axis`` (values only)."""
    return _reduce_extreme(input_tensor, axis, keepdims, True)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    """``tf.reduce_min``: the minimum over ``axis`` (values only)."""
    return _reduce_extreme(input_tensor, axis, keepdims, False)


def expand_dims(input, axis, name=None):
    """``tf.expand_dims``: a size-1 dim inserted at ``axis``."""
    return convert_to_tensor(input).unsqueeze(axis)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """``tf.one_hot``: a new last axis (or ``axis``) of size ``depth``; an index outside
    ``[0, depth)`` gives a row of ``off_value``, as in TensorFlow. float32 by default."""
    if isinstance(depth, bool) or not isinstance(depth, (int, np.integer)) or depth < 0:
        raise ValueError(f"one_hot: depth must be a non-negative int, got {depth!r}")
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: indices must be integers, got dtype {idx.dtype}")
    dtype = np.dtype(dtype if dtype is not None else np.float32)
    on = 1 if on_value is None else on_value
    off = 0 if off_value is None else off_value
    hot = idx[..., None] == np.arange(depth)
    out = np.where(hot, on, off).astype(dtype)
    if axis is not None and axis != -1:
        out = np.moveaxis(out, -1, axis)
    return Tensor(out)


def argmax(
    input, dim=None, keepdim=False, *, axis=None, keepdims=None, output_type=None, name=None
):
    """PyTorch's ``argmax(x, dim=None, keepdim=False)`` (dim None: index in the flattened
    tensor) and TensorFlow's ``argmax(x, axis=..., output_type=int64)`` in one function:
    ``axis``/``keepdims`` are the same as ``dim``/``keepdim``. The one difference the
    names cannot carry: ``tf.argmax(x)`` without an axis means axis 0 in TensorFlow but
    the flattened tensor in PyTorch, and here (pass ``axis=0``).

    Returns int64 indices (``output_type=`` converts); NumPy arrays and lists are accepted
    with ``axis=``, as TensorFlow does (PyTorch's form wants a Tensor, as torch does).
    """
    from minnet._torch_functions import argmax as torch_argmax

    if axis is None and keepdims is None and output_type is None:
        return torch_argmax(input, dim, keepdim)
    if axis is not None and dim is not None:
        raise TypeError("argmax: pass dim (PyTorch) or axis (TensorFlow), not both")
    out = convert_to_tensor(input).argmax(
        dim if axis is None else axis, keepdim if keepdims is None else keepdims
    )
    return out if output_type is None else out.to(np.dtype(output_type))


# ---------------------------------------------------------------------------- tf.nn.*
def _logits(x):
    """A float Tensor of x (NumPy arrays of floats keep their dtype, others float32)."""
    x = convert_to_tensor(x)
    return x if x.dtype.kind == "f" else x.to(np.float32)


def softmax(logits, axis=None, name=None):
    """``tf.nn.softmax(logits, axis=-1)``: differentiable, on minnet's kernel."""
    from minnet.nn import functional as F

    return F.softmax(_logits(logits), dim=-1 if axis is None else axis)


def log_softmax(logits, axis=None, name=None):
    """``tf.nn.log_softmax(logits, axis=-1)``."""
    from minnet.nn import functional as F

    return F.log_softmax(_logits(logits), dim=-1 if axis is None else axis)


def relu(features, name=None):
    """``tf.nn.relu``."""
    from minnet.nn import functional as F

    return F.relu(_logits(features))


def sigmoid(x, name=None):
    """``tf.nn.sigmoid``."""
    from minnet.nn import functional as F

    return F.sigmoid(_logits(x))
