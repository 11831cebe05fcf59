"""keras.utils: to_categorical, normalize, set_random_seed, clear_session; Keras's aliases
of keras.saving's register_keras_serializable, get_registered_name, get_registered_object,
get_custom_objects and custom_object_scope; plot_model (an error: use model.summary())."""

import numpy as np

from minnet.keras.saving import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from minnet.random import set_seed

__all__ = [
    "to_categorical",
    "normalize",
    "set_random_seed",
    "clear_session",
    "register_keras_serializable",
    "get_registered_name",
    "get_registered_object",
    "get_custom_objects",
    "custom_object_scope",
    "CustomObjectScope",
    "plot_model",
]


def to_categorical(x, num_classes=None):
    """One-hot encode integer labels: shape ``(*x.shape, num_classes)`` (a trailing 1 in
    x's shape is dropped), float32.

    Examples::

        >>> keras.utils.to_categorical([0, 2], 3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
    """
    x = np.asarray(x)
    if x.dtype.kind == "f":
        if not np.all(x == np.round(x)):
            raise ValueError("to_categorical: labels must be integers")
        x = x.astype(np.int64)
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if x.size and x.min() < 0:
        raise ValueError(f"to_categorical: labels must be non-negative, got {x.min()}")
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and x.max() >= num_classes:
        raise ValueError(
            f"to_categorical: label {x.max()} is out of range for num_classes={num_classes}"
        )
    out = np.zeros(x.shape + (num_classes,), dtype=np.float32)
    np.put_along_axis(out, x[..., None], 1.0, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """x divided by its ``order``-norm along ``axis`` (zero norms left as zeros)."""
    x = np.asarray(x, dtype=np.float32)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


def set_random_seed(seed):
    """Seed Python's ``random``, NumPy's global generator and minnet's (weight init,
    dropout, fit's shuffling), so a training run repeats exactly (the same as
    ``minnet.random.set_seed``, TensorFlow's ``tf.random.set_seed``)."""
    set_seed(seed)


def plot_model(model, to_file="model.png", *args, **kwargs):
    """Not available: Keras draws the graph with pydot and Graphviz, which minnet does not
    use. Raises ImportError pointing at ``model.summary()``."""
    raise ImportError(
        "keras.utils.plot_model is not available in minnet (Keras draws the "
        "graph with pydot and Graphviz): print the layers with "
        "model.summary() instead"
    )


def clear_session():
    """Reset the automatic layer names ('dense', 'dense_1', ...)."""
    from minnet.keras.layers.base import reset_names

    reset_names()
