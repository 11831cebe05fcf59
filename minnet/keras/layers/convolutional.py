"""Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D over
channels-last images (N, H, W, C), on minnet.nn's NCHW convolution and pooling.

Each layer transposes to NCHW at its boundary; a model keeps consecutive spatial layers
(and the Dropout / elementwise Activation / BatchNormalization between them) in NCHW and
transposes only where the chain starts and ends (see ``call_nchw``). Keras's 'same' padding
(``total = max((ceil(H / s) - 1) s + d (k - 1) + 1 - H, 0)``, the odd pixel at the bottom /
right) is passed to the kernel when symmetric and padded explicitly otherwise.
"""

import math

import numpy as np

from minnet import nn
from minnet.keras import activations, initializers
from minnet.keras.layers.base import Layer, identity
from minnet.nn import functional as F
from minnet.tensor import Tensor, cat

__all__ = [
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "to_nchw",
    "to_nhwc",
]


def to_nchw(x):
    return x.permute(0, 3, 1, 2)


def to_nhwc(x):
    return x.permute(0, 2, 3, 1)


def _pair(v, name, who):
    t = (v, v) if isinstance(v, (int, np.integer)) else tuple(v)
    if len(t) != 2 or any(int(a) < 1 for a in t):
        raise ValueError(f"{who}: {name} must be a positive int or a pair, got {v!r}")
    return tuple(int(a) for a in t)


def _same_pads(size, k, s, d=1):
    """(before, after) zero padding for Keras's 'same' on one spatial dim."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + d * (k - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _out_size(size, k, s, padding, d=1):
    if size is None:
        return None
    if padding == "same":
        return math.ceil(size / s)
    return (size - d * (k - 1) - 1) // s + 1


def _pad(x, pads, value):
    """Pad NCHW x by ((top, bottom), (left, right)) with a constant."""

    def block(axis, width):
        shape = list(x.shape)
        shape[axis] = width
        return [Tensor(np.full(shape, value, x.dtype))] if width else []

    for axis, (before, after) in zip((2, 3), pads):
        if before or after:
            x = cat(block(axis, before) + [x] + block(axis, after), dim=axis)
    return x


class _Spatial(Layer):
    """A layer that works on NCHW internally: ``call_nchw`` is the NCHW body."""

    nchw = True
    data_format = "channels_last"

    def nchw_ok(self):
        return self.data_format == "channels_last"

    def _check_format(self, data_format):
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                f'{type(self).__name__} "{self.name}": data_format must be '
                f"'channels_last' or 'channels_first', got {data_format!r}"
            )
        self.data_format = data_format or "channels_last"

    def _hw(self, input_shape):
        return (
            tuple(input_shape[1:3])
            if self.data_format == "channels_last"
            else tuple(input_shape[2:4])
        )

    def _channels(self, input_shape):
        return input_shape[-1] if self.data_format == "channels_last" else input_shape[1]

    def _image_shape(self, n, h, w, c):
        return (n, h, w, c) if self.data_format == "channels_last" else (n, c, h, w)

    def build(self, input_shape):
        if not hasattr(nn, "Conv2d"):
            raise ImportError(
                f"{type(self).__name__} needs minnet.nn's convolutions, which "
                f"this minnet build does not have"
            )
        if len(input_shape) != 4:
            raise ValueError(
                f'{type(self).__name__} "{self.name}": expected 4-D input '
                f"(batch, height, width, channels), got shape {input_shape}"
            )
        self._input_ndim = 4

    def call(self, x, training=False, **kwargs):
        if self.data_format == "channels_first":
            return self.call_nchw(x, training, **kwargs)
        y = self.call_nchw(to_nchw(x), training, **kwargs)
        return to_nhwc(y) if y.ndim == 4 else y

    def call_nchw(self, x, training=False):
        raise NotImplementedError


class Conv2D(_Spatial):
    """2-D convolution over channels-last images.

    Args:
        filters (int): output channels.
        kernel_size (int or pair); strides (int or pair, default 1); padding ('valid' or
        'same'); dilation_rate (default 1); groups (default 1); activation (relu runs in the
        convolution kernel); use_bias; kernel_initializer ('glorot_uniform'),
        bias_initializer ('zeros'); kernel_regularizer, bias_regularizer;
        data_format ('channels_last', or 'channels_first' for NCHW input).

    Weights: kernel (kh, kw, in_channels / groups, filters) (Keras's layout; internally
    minnet.nn.Conv2d's (filters, in / groups, kh, kw)), bias (filters,).

    Examples::

        >>> layers.Conv2D(32, 3, activation="relu")(np.zeros((8, 28, 28, 1))).shape
        (8, 26, 26, 32)
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        who = f'Conv2D "{self.name}"'
        self._check_format(data_format)
        if not isinstance(filters, (int, np.integer)) or filters <= 0:
            raise ValueError(f"{who}: filters must be a positive int, got {filters!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f"{who}: padding must be 'valid' or 'same', got {padding!r}")
        self.filters, self.padding, self.groups = int(filters), padding, int(groups)
        self.kernel_size = _pair(kernel_size, "kernel_size", who)
        self.strides = _pair(strides, "strides", who)
        self.dilation_rate = _pair(dilation_rate, "dilation_rate", who)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer, self.bias_regularizer = kernel_regularizer, bias_regularizer

    def build(self, input_shape):
        super().build(input_shape)
        c = self._channels(input_shape)
        if c is None or c % self.groups:
            raise ValueError(
                f'Conv2D "{self.name}": the channel dim ({c}) must be known and '
                f"divisible by groups={self.groups}; input shape {input_shape}"
            )
        self._input_axes = {(-1 if self.data_format == "channels_last" else 1): c}
        self.conv = nn.Conv2d(
            c,
            self.filters,
            self.kernel_size,
            stride=self.strides,
            dilation=self.dilation_rate,
            groups=self.groups,
            bias=self.use_bias,
        )
        kh, kw = self.kernel_size
        self.conv.weight.data[...] = _from_keras_kernel(
            self.kernel_initializer((kh, kw, c // self.groups, self.filters))
        )
        if self.use_bias:
            self.conv.bias.data[...] = self.bias_initializer((self.filters,))

    def compute_output_shape(self, input_shape):
        (h, w), n = self._hw(input_shape), input_shape[0]
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        return self._image_shape(
            n,
            _out_size(h, kh, sh, self.padding, dh),
            _out_size(w, kw, sw, self.padding, dw),
            self.filters,
        )

    def _variables(self):
        if not self.built:
            return []
        out = [("kernel", self.conv.weight, _to_keras_kernel, _from_keras_kernel, True)]
        if self.use_bias:
            out.append(("bias", self.conv.bias, identity, identity, True))
        return out

    def call_nchw(self, x, training=False, skip_activation=False, max_pool=False):
        """max_pool: a following MaxPooling2D(2) is fused in (see fusion_role)."""
        padding = 0
        if self.padding == "same":
            pads = [
                _same_pads(size, k, s, d)
                for size, k, s, d in zip(
                    x.shape[2:], self.kernel_size, self.strides, self.dilation_rate
                )
            ]
            if all(a == b for a, b in pads):
                padding = (pads[0][0], pads[1][0])
            else:
                x = _pad(x, pads, 0.0)
        name = activations.serialize(self.activation)
        fuse = name == "relu" and not skip_activation
        args = (
            x,
            self.conv.weight,
            self.conv.bias,
            self.strides,
            padding,
            self.dilation_rate,
            self.groups,
        )
        if max_pool and fuse:
            return F.conv2d_relu_max_pool2d(*args)
        y = F.conv2d(*args, activation="relu" if fuse else None)
        if fuse or skip_activation or name == "linear":
            return y
        if name == "softmax":  # over channels, Keras's last axis
            return to_nchw(F.softmax(to_nhwc(y), dim=-1))
        return self.activation(y)

    def _penalized(self):
        return (
            [(self.kernel_regularizer, self.conv.weight), (self.bias_regularizer, self.conv.bias)]
            if self.built
            else []
        )

    def fusion_role(self):
        """'conv_relu' for a relu Conv2D: Sequential runs it and a following 2x2 max pooling
        as one node (minnet.nn._fusion)."""
        return "conv_relu" if activations.serialize(self.activation) == "relu" else None


def _to_keras_kernel(w_oihw):
    return np.ascontiguousarray(np.asarray(w_oihw).transpose(2, 3, 1, 0))


def _from_keras_kernel(k_hwio):
    return np.ascontiguousarray(np.asarray(k_hwio).transpose(3, 2, 0, 1))


class _Pooling2D(_Spatial):
    def __init__(
        self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs
    ):
        super().__init__(**kwargs)
        who = f'{type(self).__name__} "{self.name}"'
        self._check_format(data_format)
        if padding not in ("valid", "same"):
            raise ValueError(f"{who}: padding must be 'valid' or 'same', got {padding!r}")
        self.pool_size = _pair(pool_size, "pool_size", who)
        self.strides = self.pool_size if strides is None else _pair(strides, "strides", who)
        self.padding = padding

    def compute_output_shape(self, input_shape):
        (h, w), n = self._hw(input_shape), input_shape[0]
        (kh, kw), (sh, sw) = self.pool_size, self.strides
        return self._image_shape(
            n,
            _out_size(h, kh, sh, self.padding),
            _out_size(w, kw, sw, self.padding),
            self._channels(input_shape),
        )

    def _pads(self, x):
        if self.padding == "valid":
            return None
        return [
            _same_pads(size, k, s) for size, k, s in zip(x.shape[2:], self.pool_size, self.strides)
        ]


class MaxPooling2D(_Pooling2D):
    """Max over ``pool_size`` windows (default 2x2) every ``strides`` (default pool_size);
    padding 'valid' or 'same' (the border never wins)."""

    def fusion_role(self):
        """'pool2' for 2x2 windows of stride 2 with 'valid' padding (minnet.nn._fusion)."""
        ok = self.pool_size == (2, 2) and self.strides == (2, 2) and self.padding == "valid"
        return "pool2" if ok else None

    def call_nchw(self, x, training=False):
        pads = self._pads(x)
        padding = 0
        if pads is not None:
            if all(a == b for a, b in pads):
                padding = (pads[0][0], pads[1][0])
            else:
                x = _pad(x, pads, -np.inf)
        return F.max_pool2d(x, self.pool_size, self.strides, padding)


class AveragePooling2D(_Pooling2D):
    """Mean over ``pool_size`` windows (default 2x2) every ``strides``; with 'same' padding
    the border is not counted in the mean (as Keras)."""

    def call_nchw(self, x, training=False):
        pads = self._pads(x)
        if pads is None or not any(a or b for a, b in pads):
            return F.avg_pool2d(x, self.pool_size, self.strides)
        if all(a == b for a, b in pads):
            return F.avg_pool2d(
                x, self.pool_size, self.strides, (pads[0][0], pads[1][0]), count_include_pad=False
            )
        # asymmetric: mean of the zero-padded input over the mean of the valid-pixel mask
        n, c, h, w = x.shape
        ones = Tensor(np.ones((1, 1, h, w), x.dtype))
        count = F.avg_pool2d(_pad(ones, pads, 0.0), self.pool_size, self.strides)
        y = F.avg_pool2d(_pad(x, pads, 0.0), self.pool_size, self.strides)
        return y / count


class GlobalAveragePooling2D(_Spatial):
    """Mean over height and width: (N, H, W, C) -> (N, C) (or (N, 1, 1, C) with
    ``keepdims``)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self._check_format(data_format)
        self.keepdims = bool(keepdims)

    def compute_output_shape(self, input_shape):
        c = self._channels(input_shape)
        return self._image_shape(input_shape[0], 1, 1, c) if self.keepdims else (input_shape[0], c)

    def call_nchw(self, x, training=False):
        n, c = x.shape[0], x.shape[1]
        y = self._reduce(x.reshape(n, c, -1))
        return y.reshape(n, c, 1, 1) if self.keepdims else y

    def _reduce(self, x3):
        return x3.mean(2)


class GlobalMaxPooling2D(GlobalAveragePooling2D):
    """Max over height and width: (N, H, W, C) -> (N, C)."""

    def _reduce(self, x3):
        return x3.max(2)[0]
