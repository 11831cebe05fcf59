"""Core layers: Input, InputLayer, Dense, Activation, Dropout, Flatten, Reshape."""

import numpy as np

from minnet import nn
from minnet.keras import activations, initializers
from minnet.keras.layers.base import KerasTensor, Layer, identity, transpose
from minnet.nn import functional as F

__all__ = [
    "Input",
    "InputLayer",
    "Dense",
    "Activation",
    "Dropout",
    "Flatten",
    "Reshape",
    "Rescaling",
]


class InputLayer(Layer):
    """Declares a model's input shape (``keras.Input`` returns its symbolic output).

    Args:
        shape (tuple): the shape of one sample, without the batch dim.
        batch_size: accepted and ignored (minnet takes any batch size).
    """

    def __init__(self, shape=None, batch_size=None, name=None, input_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("InputLayer needs shape=")
        super().__init__(name=name, **kwargs)
        self.shape = (None,) + tuple(int(d) if d is not None else None for d in shape)
        self.output = KerasTensor(self.shape, self, None, self.name)

    def call(self, x, training=False):
        return x


def Input(shape=None, batch_size=None, name=None, dtype=None, **kwargs):
    """A symbolic input of ``shape`` (one sample): put it first in a Sequential, or start a
    chain of layers for ``keras.Model(inputs, outputs)``.

    Examples::

        >>> model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(10)])
    """
    return InputLayer(shape=shape, batch_size=batch_size, name=name, dtype=dtype, **kwargs).output


class Dense(Layer):
    """``output = activation(inputs @ kernel + bias)`` on the last axis.

    Args:
        units (int): output size.
        activation: name ('relu', 'softmax', ...), callable or None (linear). relu, sigmoid
            and tanh run inside the GEMM (one graph node).
        use_bias (bool): Default: True.
        kernel_initializer, bias_initializer: Keras names or callables. Defaults:
            'glorot_uniform', 'zeros'.
        kernel_regularizer, bias_regularizer: ``keras.regularizers.L1/L2/L1L2`` or None;
            their penalty is added to the training loss.

    Weights: ``kernel`` of shape (in, units) (Keras's layout; kept internally as a
    minnet.nn.Linear's (units, in) weight), ``bias`` (units,).

    Shape:
        - Input: (batch, ..., in); Output: (batch, ..., units).

    Examples::

        >>> layer = layers.Dense(64, activation="relu")
        >>> layer(np.zeros((32, 784))).shape
        (32, 64)
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f'Dense "{self.name}": units must be a positive int, got {units!r}')
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(
                f'Dense "{self.name}": the last dim of the input must be known, '
                f"got input shape {input_shape}"
            )
        self.linear = nn.Linear(in_dim, self.units, bias=self.use_bias)
        self._input_axes = {-1: in_dim}
        self.linear.weight.data[...] = self.kernel_initializer((in_dim, self.units)).T
        if self.use_bias:
            self.linear.bias.data[...] = self.bias_initializer((self.units,))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def _variables(self):
        if not self.built:
            return []
        out = [("kernel", self.linear.weight, transpose, transpose, True)]
        if self.use_bias:
            out.append(("bias", self.linear.bias, identity, identity, True))
        return out

    @property
    def kernel(self):
        """The kernel in Keras's (in, units) layout, as a Tensor (a transposed view of the
        internal weight, differentiable)."""
        return self.linear.weight.T

    @property
    def bias(self):
        return self.linear.bias if self.use_bias else None

    def call(self, x, training=False, skip_activation=False):
        name = activations.serialize(self.activation)
        if skip_activation or name == "linear":
            return self.linear(x)
        if name in activations.FUSED:
            return self.linear(x, activation=name)
        return self.activation(self.linear(x))

    def _penalized(self):
        return (
            [
                (self.kernel_regularizer, self.linear.weight),
                (self.bias_regularizer, self.linear.bias),
            ]
            if self.built
            else []
        )


class Activation(Layer):
    """Applies an activation by name or callable (``layers.Activation('softmax')``)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, x, training=False, skip_activation=False):
        return x if skip_activation else self.activation(x)

    def nchw_ok(self):  # elementwise activations do not care about the layout
        return activations.serialize(self.activation) in activations.ELEMENTWISE

    call_nchw = call


class Dropout(Layer):
    """In training, zero each input with probability ``rate`` and scale the rest by
    1 / (1 - rate); the identity at inference.

    Args:
        rate (float): in [0, 1).
        noise_shape, seed: ``noise_shape`` is not supported; ``seed`` is ignored (the mask
            comes from minnet's generator, see ``keras.utils.set_random_seed``).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f'Dropout "{self.name}": rate must be in [0, 1), got {rate}')
        if noise_shape is not None:
            raise ValueError(f'Dropout "{self.name}": noise_shape is not supported by minnet')
        self.rate = float(rate)

    def call(self, x, training=False):
        if not training or self.rate == 0:
            return x
        return F.dropout(x, self.rate, training=True)

    def nchw_ok(self):
        return True

    call_nchw = call


class Flatten(Layer):
    """Flattens each sample to one dim, in Keras's (row-major, channels-last) order."""

    def call(self, x, training=False):
        return x.reshape(x.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        n = None if any(d is None for d in rest) else int(np.prod(rest))
        return (input_shape[0], n)


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)

    def compute_output_shape(self, input_shape):
        target = list(self.target_shape)
        rest = input_shape[1:]
        if -1 in target and all(d is not None for d in rest):
            known = int(np.prod([d for d in target if d != -1]))
            total = int(np.prod(rest))
            if known == 0 or total % known:
                raise ValueError(
                    f'Reshape "{self.name}": cannot reshape input of shape '
                    f"{tuple(input_shape)} to {self.target_shape}"
                )
            target[target.index(-1)] = total // known
        elif all(d is not None for d in rest) and int(np.prod(rest)) != int(np.prod(target)):
            raise ValueError(
                f'Reshape "{self.name}": total size of the input {tuple(input_shape)}'
                f" does not match target_shape {self.target_shape}"
            )
        return (input_shape[0],) + tuple(None if d == -1 else d for d in target)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def call(self, x, training=False):
        return x.reshape((x.shape[0],) + self.target_shape)


class Rescaling(Layer):
    """``x * scale + offset``, e.g. ``Rescaling(1 / 255)`` for uint8 images."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = float(scale), float(offset)

    def call(self, x, training=False):
        y = x * self.scale
        return y + self.offset if self.offset else y

    def nchw_ok(self):
        return True

    call_nchw = call
