"""Preprocessing layers: Normalization (with ``adapt``) and Rescaling's companion."""

import numpy as np

from minnet.keras.layers.base import Layer, identity
from minnet.tensor import Tensor

__all__ = ["Normalization"]

_EPSILON = 1e-7


class Normalization(Layer):
    """Standardise features: ``(x - mean) / max(sqrt(variance), 1e-7)`` per feature of
    ``axis`` (the last), with the statistics given or learned by ``adapt(data)``.

    Args:
        axis (int): the feature axis; only -1. Default: -1.
        mean, variance: the statistics (scalars or per-feature); else call ``adapt``.
        invert (bool): map standardised values back instead.

    Weights (when adapted): [mean, variance, count], not trainable.

    Examples::

        >>> normalizer = layers.Normalization()
        >>> normalizer.adapt(train_features)
        >>> model = keras.Sequential([normalizer, layers.Dense(1)])
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1,):
            raise ValueError(f'Normalization "{self.name}": only axis=-1 is supported')
        if (mean is None) != (variance is None):
            raise ValueError(
                f'Normalization "{self.name}": pass both mean and variance, or '
                f"neither (and call adapt)"
            )
        self.invert = bool(invert)
        self._given = (
            None
            if mean is None
            else (np.asarray(mean, np.float32), np.asarray(variance, np.float32))
        )
        self._adapted = False

    def build(self, input_shape):
        if self._given is None:
            f = input_shape[-1]
            self.register_buffer("mean", np.zeros(f, np.float32))
            self.register_buffer("variance", np.ones(f, np.float32))
            self.register_buffer("count", np.array(0, np.int64))
            self._input_axes = {-1: f}

    def adapt(self, data, batch_size=None, steps=None):
        """Set the mean and variance to those of ``data`` (over every axis but the last)."""
        if self._given is not None:
            raise ValueError(f'Normalization "{self.name}": adapt() with mean/variance given')
        data = np.asarray(data.data if isinstance(data, Tensor) else data, dtype=np.float64)
        if data.ndim == 1:
            data = data[:, None]
        if not self.built:
            self._maybe_build((None,) + data.shape[1:])
        flat = data.reshape(-1, data.shape[-1])
        self.mean.data[...] = flat.mean(0)
        self.variance.data[...] = flat.var(0)
        self.count.data[...] = flat.shape[0]
        self._adapted = True

    def _variables(self):
        if not self.built or self._given is not None:
            return []
        return [
            ("mean", self.mean, identity, identity, False),
            ("variance", self.variance, identity, identity, False),
            ("count", self.count, identity, identity, False),
        ]

    def call(self, x, training=False):
        if self._given is not None:
            mean, var = self._given
        else:
            mean, var = self.mean.data, self.variance.data
        std = np.maximum(np.sqrt(var), _EPSILON).astype(x.dtype)
        mean = np.asarray(mean, x.dtype)
        if self.invert:
            return x * Tensor(std) + Tensor(mean)
        return (x - Tensor(mean)) / Tensor(std)
