"""BatchNormalization over the last axis (Keras's channels-last), on minnet.nn.BatchNorm1d."""

from minnet import nn
from minnet.keras import initializers
from minnet.keras.layers.base import Layer, identity

__all__ = ["BatchNormalization", "LayerNormalization"]


class BatchNormalization(Layer):
    r"""Normalise each feature of the last axis by the batch statistics in training and by
    the moving ones at inference, then scale by ``gamma`` and shift by ``beta``.

    Keras's update ``moving = momentum * moving + (1 - momentum) * batch`` with the *biased*
    batch variance; internally a minnet.nn.BatchNorm1d over the input viewed as
    (samples * positions, C), with PyTorch momentum ``1 - momentum`` and its unbiased
    moving-variance update corrected back to Keras's.

    Args:
        axis (int): only -1 (channels last) is supported.
        momentum (float): Default: 0.99.
        epsilon (float): Default: 1e-3.
        center, scale (bool): learn ``beta`` / ``gamma``. Default: True.

    Weights: [gamma, beta, moving_mean, moving_variance] (the last two not trainable).
    With ``trainable = False`` the layer runs in inference mode, as in Keras.
    """

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if axis not in (-1,):
            raise ValueError(
                f'BatchNormalization "{self.name}": only axis=-1 (channels last) '
                f"is supported, got axis={axis}"
            )
        self.axis, self.momentum, self.epsilon = axis, float(momentum), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.inits = [
            initializers.get(i)
            for i in (
                gamma_initializer,
                beta_initializer,
                moving_mean_initializer,
                moving_variance_initializer,
            )
        ]

    def build(self, input_shape):
        c = input_shape[-1]
        if c is None:
            raise ValueError(
                f'BatchNormalization "{self.name}": the last dim must be known, '
                f"got input shape {input_shape}"
            )
        self._input_axes = {-1: c}
        self.bn = nn.BatchNorm1d(c, eps=self.epsilon, momentum=1.0 - self.momentum)
        bn = self.bn
        for t, init in zip((bn.weight, bn.bias, bn.running_mean, bn.running_var), self.inits):
            t.data[...] = init((c,))
        if not self.scale:
            bn.weight.requires_grad_(False)
        if not self.center:
            bn.bias.requires_grad_(False)

    def _variables(self):
        if not self.built:
            return []
        bn = self.bn
        out = []
        if self.scale:
            out.append(("gamma", bn.weight, identity, identity, True))
        if self.center:
            out.append(("beta", bn.bias, identity, identity, True))
        return out + [
            ("moving_mean", bn.running_mean, identity, identity, False),
            ("moving_variance", bn.running_var, identity, identity, False),
        ]

    def _apply_trainable(self):
        super()._apply_trainable()
        if self.built:
            self.bn.weight.requires_grad_(self.trainable and self.scale)
            self.bn.bias.requires_grad_(self.trainable and self.center)

    def call(self, x, training=False):
        shape = x.shape
        x2 = x if x.ndim == 2 else x.reshape(-1, shape[-1])
        y = self._normalize(x2, training, x2.shape[0])
        return y if x.ndim == 2 else y.reshape(shape)

    def nchw_ok(self):
        return True

    def call_nchw(self, x, training=False):
        n, c, h, w = x.shape
        return self._normalize(x.reshape(n, c, h * w), training, n * h * w).reshape(n, c, h, w)

    def _normalize(self, x, training, count):
        """BatchNorm1d on (count, C) or (N, C, L) input with Keras's moving variance."""
        training = training and self.trainable
        self.bn.train(training)
        if not training:
            return self.bn(x)
        rv = self.bn.running_var.data
        old = rv.copy()
        y = self.bn(x)
        if count > 1:  # PyTorch mixed in m * unbiased variance; Keras m * biased, (n-1)/n of it
            rv -= (rv - self.momentum * old) / count
        return y


class LayerNormalization(Layer):
    """Normalise each sample over its last axis, then scale by ``gamma`` and shift by
    ``beta`` (minnet.nn.LayerNorm; Keras's epsilon default 1e-3).

    Args:
        axis: only -1. epsilon (float): Default: 1e-3. center, scale (bool): Default: True.

    Weights: [gamma, beta] of shape (last dim,).
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        if axis not in (-1,):
            raise ValueError(f'LayerNormalization "{self.name}": only axis=-1 is supported')
        if not (center and scale):
            raise ValueError(f'LayerNormalization "{self.name}": center and scale must be True')
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        c = input_shape[-1]
        self._input_axes = {-1: c}
        self.ln = nn.LayerNorm(c, eps=self.epsilon)

    def _variables(self):
        if not self.built:
            return []
        return [
            ("gamma", self.ln.weight, identity, identity, True),
            ("beta", self.ln.bias, identity, identity, True),
        ]

    def call(self, x, training=False):
        return self.ln(x)
