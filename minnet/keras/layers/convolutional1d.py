"""Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D, GlobalMaxPooling1D over
(batch, steps, channels) sequences: the 2-D layers on a (batch, 1, steps, channels) view."""

from minnet.keras.layers.base import Layer
from minnet.keras.layers.convolutional import (
    AveragePooling2D,
    Conv2D,
    MaxPooling2D,
    _pad,
    to_nchw,
    to_nhwc,
)
from minnet.keras.saving import RecordsInit

__all__ = [
    "Conv1D",
    "MaxPooling1D",
    "AveragePooling1D",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
]


def _int(v):
    return int(v[0]) if isinstance(v, (tuple, list)) else int(v)


class _As2D:
    """Mixin: run the 2-D parent on (N, 1, L, C) and drop the unit height again."""

    nchw = False

    def nchw_ok(self):
        return False

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f'{type(self).__name__} "{self.name}": expected input of shape '
                f"(batch, steps, channels), got {input_shape}"
            )
        super().build((input_shape[0], 1) + tuple(input_shape[1:]))
        self._input_ndim = 3

    def compute_output_shape(self, input_shape):
        out = super().compute_output_shape((input_shape[0], 1) + tuple(input_shape[1:]))
        return (out[0],) + tuple(out[2:])

    def call(self, x, training=False, **kwargs):
        n, steps, c = x.shape
        y = super().call(x.reshape(n, 1, steps, c), training, **kwargs)
        return y.reshape((y.shape[0],) + tuple(y.shape[2:]))


class Conv1D(_As2D, Conv2D):
    """1-D convolution over (batch, steps, channels).

    Args:
        filters, kernel_size, strides (int): as Conv2D, in one dimension.
        padding (str): 'valid', 'same' or 'causal' (left zero padding so step t sees only
            steps <= t).
        dilation_rate, activation, use_bias, initializers, regularizers: as Conv2D.

    Weights: kernel (kernel_size, in_channels, filters), bias (filters,).
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        **kwargs,
    ):
        if data_format not in (None, "channels_last"):
            raise ValueError("Conv1D: only data_format='channels_last' is supported")
        self.causal = padding == "causal"
        super().__init__(
            filters,
            (1, _int(kernel_size)),
            (1, _int(strides)),
            "valid" if self.causal else padding,
            None,
            (1, _int(dilation_rate)),
            groups,
            activation,
            **kwargs,
        )

    def compute_output_shape(self, input_shape):
        if self.causal:
            steps = input_shape[1]
            grow = self.dilation_rate[1] * (self.kernel_size[1] - 1)
            input_shape = (input_shape[0], None if steps is None else steps + grow, input_shape[2])
        return super().compute_output_shape(input_shape)

    def call_nchw(self, x, training=False, skip_activation=False):
        if self.causal:
            x = _pad(x, ((0, 0), (self.dilation_rate[1] * (self.kernel_size[1] - 1), 0)), 0.0)
        return super().call_nchw(x, training, skip_activation=skip_activation)

    def _variables(self):
        out = super()._variables()
        if out:
            name, t, to_k, from_k, tr = out[0]
            out[0] = (name, t, lambda w: to_k(w)[0], lambda k: from_k(k[None]), tr)
        return out


class _Pooling1D(_As2D, RecordsInit):
    """Mixin before a 2-D pooling layer: its 1-D arguments as (1, n) windows. A RecordsInit,
    so that get_config records these arguments, not the 2-D ones they become."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(
            (1, _int(pool_size)),
            None if strides is None else (1, _int(strides)),
            padding,
            None,
            **kwargs,
        )


class MaxPooling1D(_Pooling1D, MaxPooling2D):
    """Max over windows of ``pool_size`` steps (default 2) every ``strides``."""


class AveragePooling1D(_Pooling1D, AveragePooling2D):
    """Mean over windows of ``pool_size`` steps (default 2) every ``strides``."""


class GlobalAveragePooling1D(Layer):
    """Mean over the steps: (batch, steps, channels) -> (batch, channels)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        return (
            (input_shape[0], 1, input_shape[2])
            if self.keepdims
            else (input_shape[0], input_shape[2])
        )

    def call(self, x, training=False):
        y = self._reduce(x)
        return y.reshape(y.shape[0], 1, y.shape[1]) if self.keepdims else y

    def _reduce(self, x):
        return x.mean(1)


class GlobalMaxPooling1D(GlobalAveragePooling1D):
    """Max over the steps: (batch, steps, channels) -> (batch, channels)."""

    def _reduce(self, x):
        return x.max(1)[0]


del to_nchw, to_nhwc
