"""Activation functions by Keras name (``Dense(64, activation="relu")``), on minnet Tensors.

``get(identifier)`` resolves a string, None or a callable. ``FUSED`` lists the activations a
Dense layer runs in the GEMM's epilogue (one graph node, no extra pass over the output).
"""

from minnet.nn import functional as F

__all__ = [
    "get",
    "serialize",
    "relu",
    "sigmoid",
    "tanh",
    "softmax",
    "linear",
    "gelu",
    "elu",
    "leaky_relu",
    "softplus",
    "softsign",
    "selu",
    "silu",
    "swish",
    "relu6",
    "hard_sigmoid",
    "exponential",
    "log_softmax",
]


def relu(x):
    return F.relu(x)


def sigmoid(x):
    return F.sigmoid(x)


def tanh(x):
    return F.tanh(x)


def softmax(x, axis=-1):
    return F.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return F.log_softmax(x, dim=axis)


def linear(x):
    return x


def gelu(x, approximate=False):
    """Keras 3's default is the exact (erf) form, as here."""
    return F.gelu(x, approximate="tanh" if approximate else "none")


def elu(x, alpha=1.0):
    return F.elu(x, alpha=alpha)


def leaky_relu(x, negative_slope=0.2):
    """Keras's default slope is 0.2 (PyTorch's is 0.01)."""
    return F.leaky_relu(x, negative_slope=negative_slope)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def selu(x):
    return F.selu(x)


def silu(x):
    return F.silu(x)


swish = silu


def relu6(x):
    return F.relu6(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6, Keras 3's definition."""
    return F.hardsigmoid(x)


def exponential(x):
    return x.exp()


_TABLE = {
    "relu": relu,
    "sigmoid": sigmoid,
    "tanh": tanh,
    "softmax": softmax,
    "linear": linear,
    "gelu": gelu,
    "elu": elu,
    "leaky_relu": leaky_relu,
    "softplus": softplus,
    "softsign": softsign,
    "selu": selu,
    "silu": silu,
    "swish": swish,
    "relu6": relu6,
    "hard_sigmoid": hard_sigmoid,
    "exponential": exponential,
    "log_softmax": log_softmax,
}

# activations applied to each element alone (not softmax, log_softmax)
ELEMENTWISE = (
    "relu",
    "sigmoid",
    "tanh",
    "linear",
    "gelu",
    "elu",
    "leaky_relu",
    "softplus",
    "softsign",
    "selu",
    "silu",
    "relu6",
    "hard_sigmoid",
    "exponential",
)

# activations that F.linear applies in the GEMM epilogue
FUSED = ("relu", "sigmoid", "tanh")


def get(identifier):
    """The activation function for a name, None (linear) or a callable on Tensors."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        try:
            return _TABLE[identifier]
        except KeyError:
            raise ValueError(
                f"Unknown activation {identifier!r}; expected one of "
                f"{sorted(_TABLE)} or a callable"
            ) from None
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


def serialize(fn):
    """The name of an activation function (its Keras name if it is one of ours)."""
    for name, f in _TABLE.items():
        if f is fn:
            return name
    return getattr(fn, "__name__", repr(fn))
