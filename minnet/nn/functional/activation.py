"""Activations, softmax and dropout (kernel-backed where csrc/eltwise.c has the op)."""

import numpy as np

from minnet._functions import activation
from minnet._functions import softmax as _core_softmax
from minnet.autograd import Function
from minnet.nn.functional._checks import (
    _floating,
    _tensor,
)
from minnet.random import get_generator


def _activation(input, act, alpha, op):
    return activation(_tensor(input, "input", op), act, alpha, op)


def relu(input, inplace=False):
    """max(x, 0). ``inplace`` is accepted for PyTorch compatibility and ignored."""
    return _activation(input, "relu", 0.0, "relu")


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x."""
    return _activation(input, "leaky_relu", float(negative_slope), "leaky_relu")


def elu(input, alpha=1.0, inplace=False):
    """x if x > 0 else alpha * (exp(x) - 1)."""
    return _activation(input, "elu", float(alpha), "elu")


def gelu(input, approximate="none"):
    """x * Phi(x) (exact, with erf), or with approximate='tanh'
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return _activation(input, "gelu" if approximate == "none" else "gelu_tanh", 0.0, "gelu")


def sigmoid(input):
    """1 / (1 + exp(-x)), computed without overflow."""
    return _activation(input, "sigmoid", 0.0, "sigmoid")


def tanh(input):
    return _activation(input, "tanh", 0.0, "tanh")


# Activations without a kernel: (forward, derivative) of x in NumPy, in the input's dtype.
def _softplus(x, beta, threshold):
    bx = beta * x
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta)


def _softplus_grad(x, beta, threshold):
    bx = beta * x
    return np.where(bx > threshold, 1, np.exp(-np.logaddexp(0, -bx)))


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

_NUMPY_ACTIVATIONS = {
    "softplus": (lambda x, beta, threshold: _softplus(x, beta, threshold), _softplus_grad),
    "logsigmoid": (lambda x: -np.logaddexp(0, -x), lambda x: np.exp(-np.logaddexp(0, x))),
    "selu": (
        lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
        lambda x: _SELU_SCALE * np.where(x > 0, 1, _SELU_ALPHA * np.exp(np.minimum(x, 0))),
    ),
    "hardtanh": (lambda x, lo, hi: np.clip(x, lo, hi), lambda x, lo, hi: (x > lo) & (x < hi)),
    "softsign": (lambda x: x / (1 + np.abs(x)), lambda x: 1 / (1 + np.abs(x)) ** 2),
    "hardsigmoid": (lambda x: np.clip(x / 6 + 0.5, 0, 1), lambda x: ((x > -3) & (x < 3)) / 6),
}


class NumpyActivation(Function):
    """y = f(x) for the activations of _NUMPY_ACTIVATIONS; the backward keeps x."""

    def forward(self, x, name, params):
        self.x, self.name, self.params = x, name, params
        return _NUMPY_ACTIVATIONS[name][0](x, *params).astype(x.dtype, copy=False)

    def backward(self, g):
        d = _NUMPY_ACTIVATIONS[self.name][1](self.x, *self.params)
        return (g * d).astype(g.dtype, copy=False)


def _numpy_activation(input, name, *params):
    input = _tensor(input, "input", name)
    _floating(input, "input", name)
    return NumpyActivation.apply(input, name=name, params=params)


def silu(input, inplace=False):
    """x * sigmoid(x) (also called swish). ``inplace`` is accepted and ignored."""
    return _activation(input, "silu", 0.0, "silu")


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, and x itself where beta x > threshold."""
    return _numpy_activation(input, "softplus", float(beta), float(threshold))


def logsigmoid(input):
    """log(sigmoid(x)) = -softplus(-x), computed without overflow."""
    return _numpy_activation(input, "logsigmoid")


def selu(input, inplace=False):
    """scale * (x if x > 0 else alpha (exp(x) - 1)) with the self-normalising constants."""
    return _numpy_activation(input, "selu")


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clip(x, min_val, max_val)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val {min_val} exceeds max_val {max_val}")
    return _numpy_activation(input, "hardtanh", float(min_val), float(max_val))


def relu6(input, inplace=False):
    """min(max(x, 0), 6)."""
    return hardtanh(input, 0.0, 6.0)


def softsign(input):
    """``x / (1 + |x|)``."""
    return _numpy_activation(input, "softsign")


def hardsigmoid(input, inplace=False):
    """clip(x / 6 + 1/2, 0, 1)."""
    return _numpy_activation(input, "hardsigmoid")


def _softmax(input, dim, log, op):
    return _core_softmax(_tensor(input, "input", op), dim, log, op)


def softmax(input, dim=-1):
    """exp(x) / sum(exp(x)) along dim (default the last; PyTorch requires it explicitly)."""
    return _softmax(input, dim, False, "softmax")


def log_softmax(input, dim=-1):
    """log(softmax(x)) along dim, computed as x - max - log(sum(exp(x - max)))."""
    return _softmax(input, dim, True, "log_softmax")


class Dropout(Function):
    def forward(self, x, p, generator):
        if p == 1:
            self.mask = np.zeros(x.shape, x.dtype)
        else:
            keep = (
                generator.random(
                    x.shape, dtype=np.float64 if x.dtype == np.float64 else np.float32
                )
                >= p
            )
            self.mask = keep * x.dtype.type(1 / (1 - p))
        return x * self.mask

    def backward(self, g):
        return g * self.mask


def dropout(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero each element with probability p and scale the rest by 1/(1-p) (training only).

    The mask comes from minnet's generator (``minnet.manual_seed``) unless ``generator``, a
    numpy.random.Generator, is given (a minnet extension).
    """
    input = _tensor(input, "input", "dropout")
    if not 0 <= p <= 1:
        raise ValueError(f"dropout: probability p must be in [0, 1], got {p}")
    if not training or p == 0:
        return input
    _floating(input, "input", "dropout")
    return Dropout.apply(input, p=float(p), generator=generator or get_generator())


class FeatureDropout(Function):
    """Channel dropout: one keep/drop draw per (sample, channel), broadcast over the rest."""

    def forward(self, x, p, generator):
        shape = x.shape[:2] + (1,) * (x.ndim - 2)
        if p == 1:
            self.mask = np.zeros(shape, x.dtype)
        else:
            keep = (
                generator.random(shape, dtype=np.float64 if x.dtype == np.float64 else np.float32)
                >= p
            )
            self.mask = keep * x.dtype.type(1 / (1 - p))
        return x * self.mask

    def backward(self, g):
        return g * self.mask


def _feature_dropout(input, p, training, generator, op):
    input = _tensor(input, "input", op)
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0:
        return input
    _floating(input, "input", op)
    return FeatureDropout.apply(input, p=float(p), generator=generator or get_generator())


def dropout1d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels: each ``input[n, c, :]`` of an (N, C, L) input (or ``input[c, :]``
    of an unbatched (C, L) one) with probability p, scaling the rest by 1/(1-p)."""
    nd = _tensor(input, "input", "dropout1d").ndim
    if nd not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {nd}D input. "
            f"Note that dropout1d exists to provide channel-wise dropout on "
            f"inputs with 1 spatial dimension, a channel dimension, and an "
            f"optional batch dimension (i.e. 2D or 3D inputs)."
        )
    if nd == 2 and training and p != 0:  # unbatched (C, L): one draw per channel
        return _feature_dropout(input.unsqueeze(0), p, training, generator, "dropout1d").squeeze(0)
    return _feature_dropout(input, p, training, generator, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False, generator=None):
    """Zero whole channels: each ``input[n, c]`` feature map of an (N, C, H, W) input with
    probability p, scaling the rest by 1/(1-p) (Tompson et al., 2015).

    As PyTorch (which keeps this for compatibility, with the same warnings): a 3-D input is
    taken as (N, C, L) and gets 1-D channel dropout, not as an unbatched (C, H, W); any other
    rank is warned about and masked per (dim 0, dim 1) entry, so a 2-D (N, C) input (PyTorch's
    MNIST RNN example puts Dropout2d after an LSTM) gets ordinary elementwise dropout.
    """
    import warnings

    nd = _tensor(input, "input", "dropout2d").ndim
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated "
            f"and will result in an error in a future release. To retain the "
            f"behavior and silence this warning, please use dropout instead. Note "
            f"that dropout2d exists to provide channel-wise dropout on inputs with 2 "
            f"spatial dimensions, a channel dimension, and an optional batch "
            f"dimension (i.e. 3D or 4D inputs).",
            stacklevel=2,
        )
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that "
            "channel-wise 1D dropout behavior is desired - input is interpreted as "
            "shape (N, C, L), where C is the channel dim. This behavior will change "
            "in a future release to interpret the input as one without a batch "
            "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout "
            "behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    if nd < 2:
        return dropout(input, p, training, generator=generator)
    return _feature_dropout(input, p, training, generator, "dropout2d")
