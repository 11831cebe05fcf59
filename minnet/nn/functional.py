"""minnet.nn.functional: layer-level operations as single graph nodes, with PyTorch's names,
arguments and definitions.

Each op is one :class:`~minnet.autograd.Function` whose forward and backward sit together.
The elementwise array work goes through the small private helpers in the first section
(``_act_fwd``, ``_softmax_fwd``, ``_xent_fwd``, ...), the one seam with ``minnet.kernels``;
GEMM-shaped work calls ``minnet.kernels.gemm``/``colsum`` directly.
"""

import numpy as np

from minnet import kernels as _kernels
from minnet._arena import empty as _empty
from minnet.autograd import Function
from minnet.random import get_generator
from minnet.tensor import Tensor

__all__ = [
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "sigmoid",
    "tanh",
    "silu",
    "softplus",
    "logsigmoid",
    "selu",
    "hardtanh",
    "relu6",
    "softsign",
    "hardsigmoid",
    "softmax",
    "log_softmax",
    "dropout",
    "dropout1d",
    "dropout2d",
    "linear",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "batch_norm",
    "layer_norm",
    "embedding",
    "one_hot",
]

_REDUCTIONS = ("mean", "sum", "none")


# =========================================================================================
# Array helpers: the one seam with the elementwise kernels (csrc/eltwise.c). Their NumPy
# specification is minnet.reference.eltwise; the Functions below call only these helpers.
# =========================================================================================
def _act_fwd(x, act, alpha=None, out=None):
    """y := act(x); act is 'relu', 'leaky_relu', 'elu', 'gelu', 'gelu_tanh', 'sigmoid' or
    'tanh'; alpha is leaky_relu's negative_slope and elu's alpha."""
    return _kernels.act_forward(x, act, alpha=alpha, out=out)


def _act_bwd(dy, s, act, alpha=None, out=None):
    """dx := dy * act'(.); s is the forward output for sigmoid and tanh, else the input."""
    return _kernels.act_backward(dy, s, act, alpha=alpha, out=out)


def _softmax_fwd(x, log, out=None):
    """Softmax (or log-softmax) over the last axis, stable for any finite logits."""
    return _kernels.softmax(x, log=log, out=out)


def _softmax_bwd(dy, y, log, out=None):
    """dx := y (dy - sum dy y) (softmax), dy - exp(y) sum dy (log-softmax), per last-axis row."""
    return _kernels.softmax_backward(dy, y, log=log, out=out)


def _xent_fwd(x_nc, t_n, w_c, ignore_index, ls, reduction):
    """Cross-entropy of (N, C) logits and (N,) class indices: (loss, float64 row lse)."""
    return _kernels.cross_entropy_forward(
        x_nc, t_n, weight=w_c, ignore_index=ignore_index, label_smoothing=ls, reduction=reduction
    )


def _xent_bwd(g, x_nc, t_n, lse, w_c, ignore_index, ls, reduction, out=None):
    """d loss / d logits for _xent_fwd with the same options."""
    return _kernels.cross_entropy_backward(
        g,
        x_nc,
        t_n,
        lse,
        weight=w_c,
        ignore_index=ignore_index,
        label_smoothing=ls,
        reduction=reduction,
        out=out,
    )


def _bce_logits_fwd(x, t, w, pw, reduction):
    """reduce(w ((1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0))))."""
    return _kernels.bce_with_logits_forward(x, t, weight=w, pos_weight=pw, reduction=reduction)


def _bce_logits_bwd(g, x, t, w, pw, reduction):
    """d loss / d x = g w ((1 + (pw - 1) t) sigmoid(x) - pw t) (g / size for 'mean')."""
    return _kernels.bce_with_logits_backward(g, x, t, weight=w, pos_weight=pw, reduction=reduction)


# =========================================================================================
# Argument checks
# =========================================================================================
def _tensor(x, name, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)):
        return Tensor(np.asarray(x) if isinstance(x, (np.ndarray, np.generic)) else x)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _floating(x, name, op):
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}: {name} must be a floating tensor (float32 or float64), got {x.dtype}"
        )


def _same_dtype(op, **named):
    items = [(k, v) for k, v in named.items() if v is not None]
    first_name, first = items[0]
    for k, v in items[1:]:
        if v.dtype != first.dtype:
            raise TypeError(
                f"{op}: {k} has dtype {v.dtype} but {first_name} has dtype "
                f"{first.dtype}; convert one with .to(dtype)"
            )


def _check_reduction(reduction, op, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        allowed = ", ".join(repr(r) for r in _REDUCTIONS + tuple(extra))
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _same_shape(input, target, op):
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input shape {input.shape} and target shape {target.shape} "
            f"differ (they must match; reshape one, e.g. target.view(-1, 1))"
        )


def _target_like(target, input, op):
    """target as a floating tensor of input's dtype (it may require grad)."""
    target = _tensor(target, "target", op)
    if target.dtype != input.dtype:
        if target.dtype.kind == "f" and target.requires_grad:
            raise TypeError(f"{op}: target has dtype {target.dtype} but input has {input.dtype}")
        target = Tensor(target.data.astype(input.dtype))
    return target


def _input_and_target(input, target, reduction, op, extra=()):
    """The checks every elementwise loss makes: reduction, a floating input, a target of the
    same shape converted to the input's dtype."""
    _check_reduction(reduction, op, extra)
    input = _tensor(input, "input", op)
    _floating(input, "input", op)
    target = _target_like(target, input, op)
    _same_shape(input, target, op)
    return input, target


def _const(x, dtype):
    """An optional non-differentiated argument (class weights, pos_weight) as an array."""
    if x is None:
        return None
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    return arr.astype(dtype, copy=False)


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce arguments (kept so positional calls line up)
    turned into a reduction, by PyTorch's own rule."""
    if size_average is None and reduce is None:
        return reduction
    for name, v in (("size_average", size_average), ("reduce", reduce)):
        if v is not None and not isinstance(v, (bool, np.bool_)):
            raise TypeError(
                f"{name} must be None or a bool, got {v!r} (pass the reduction "
                f"by keyword: reduction={v!r})"
            )
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(loss, reduction):
    if reduction == "mean":
        if loss.size == 0:
            return np.asarray(np.nan, dtype=loss.dtype)  # as PyTorch, without numpy's warning
        return np.asarray(loss.mean(dtype=np.float64), dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(dtype=np.float64), dtype=loss.dtype)
    return loss


def _reduce_over(loss, reduction, denom):
    """'none': loss; 'sum': its sum; 'mean': the sum over denom (0/0 is nan, as in PyTorch)."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=np.float64)
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.float64(total) / denom
    return np.asarray(total, loss.dtype)


def _reduce_grad(g, reduction, n):
    """The gradient of the reduction, to multiply the elementwise derivative by."""
    return g / n if reduction == "mean" else g


# =========================================================================================
# Activations
# =========================================================================================
class Activation(Function):
    """y = act(x) for the activations of _act_fwd; the backward keeps x, or y for sigmoid
    and tanh (whose derivatives are cheapest from the output)."""

    def forward(self, x, act, alpha):
        self.act, self.alpha = act, alpha
        y = _act_fwd(x, act, alpha, out=_empty(x.shape, x.dtype))
        self.s = y if _kernels.ACT_BACKWARD_INPUT[act] == "y" else x
        return y

    def backward(self, g):
        return _act_bwd(g, self.s, self.act, self.alpha, out=_empty(g.shape, g.dtype))


def _activation(input, act, alpha, op):
    input = _tensor(input, "input", op)
    _floating(input, "input", op)
    return Activation.apply(input, act=act, alpha=alpha)


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
    "silu": (
        lambda x: x * np.exp(-np.logaddexp(0, -x)),
        lambda x: (lambda s: s * (1 + x * (1 - s)))(np.exp(-np.logaddexp(0, -x))),
    ),
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
    """x * sigmoid(x) (also called swish)."""
    return _numpy_activation(input, "silu")


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


class Softmax(Function):
    def forward(self, x, axis, log):
        self.axis, self.log = axis, log
        last = axis == x.ndim - 1
        xs = x if last else np.moveaxis(x, axis, -1)
        y = _softmax_fwd(xs, log, out=_empty(xs.shape, xs.dtype))
        self.y = y  # kept with the softmax axis last
        return y if last else np.moveaxis(y, -1, axis)

    def backward(self, g):
        last = self.axis == g.ndim - 1
        gs = g if last else np.moveaxis(g, self.axis, -1)
        dx = _softmax_bwd(gs, self.y, self.log, out=_empty(gs.shape, gs.dtype))
        return dx if last else np.moveaxis(dx, -1, self.axis)


def _softmax(input, dim, log, op):
    input = _tensor(input, "input", op)
    _floating(input, "input", op)
    nd = input.ndim
    if nd == 0:
        input = input.reshape(1)
        return _softmax(input, 0, log, op).reshape(())
    if not -nd <= dim < nd:
        raise IndexError(f"{op}: dim {dim} out of range for input of shape {input.shape}")
    return Softmax.apply(input, axis=dim % nd, log=log)


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


# =========================================================================================
# Linear
# =========================================================================================
class Linear(Function):
    """y = act(x @ W^T + b) in one GEMM with a fused epilogue; x is (M, in), W is (out, in).
    Outputs and gradients are arena buffers (minnet._arena), reused across steps."""

    def forward(self, x, w, b, activation):
        lead = x.shape[:-1]
        x2 = x if len(lead) == 1 else x.reshape(-1, x.shape[-1])
        y = _kernels.gemm(
            x2,
            w,
            trans_b=True,
            bias=b,
            activation=activation,
            out=_empty((x2.shape[0], w.shape[0]), x.dtype),
        )
        self.x2, self.w, self.lead = x2, w, lead
        if activation in (None, "identity", "linear"):
            self.act = self.y = None
        else:
            self.act, self.y = activation, y
        return y if len(lead) == 1 else y.reshape(lead + (w.shape[0],))

    def backward(self, g):
        nx, nw, nb = self.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        w = self.w
        dt = w.dtype
        if self.act is not None:  # relu's mask is the same from y as from x: y > 0 iff x > 0
            g2 = _act_bwd(g2, self.y, self.act, out=_empty(g2.shape, dt))
        elif not g2.flags.c_contiguous:
            g2 = np.ascontiguousarray(g2)
        dx = dw = db = None
        if nx:  # dY W
            dx = _kernels.gemm(g2, w, out=_empty((g2.shape[0], w.shape[1]), dt))
            if len(self.lead) != 1:
                dx = dx.reshape(self.lead + (w.shape[1],))
        if nw:  # dY^T X
            dw = _kernels.gemm(g2, self.x2, trans_a=True, out=_empty(w.shape, dt))
        if nb:
            db = _kernels.colsum(g2, out=_empty((w.shape[0],), dt))
        return dx, dw, db


_LINEAR_FAST_ACTS = (None, "relu", "sigmoid", "tanh")
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def linear(input, weight, bias=None, activation=None):
    """y = x W^T + b, as one graph node (one GEMM forward, two GEMMs and a column sum back).

    Args:
        input: ``(*, in_features)``. Leading dims are flattened for the GEMM and restored.
        weight: (out_features, in_features), PyTorch's layout.
        bias: optional (out_features,).
        activation: minnet extension: None, 'relu', 'sigmoid' or 'tanh', applied in the
            GEMM's epilogue (``linear(x, w, b, activation='relu')`` equals
            ``relu(linear(x, w, b))`` in one node and one pass over the output).

    Shape:
        input ``(*, in)``, output ``(*, out)``.

    Examples:
        >>> y = F.linear(x, w, b)                      # x (64, 784), w (10, 784), b (10,)
        >>> h = F.linear(x, w1, b1, activation="relu")
    """
    # the common case in one test (a layer's 2-D batch of its weight's float dtype); the
    # checks below run for everything else and give its messages
    if type(input) is Tensor and activation in _LINEAR_FAST_ACTS and isinstance(weight, Tensor):
        x, wd = input.data, weight.data
        dt = x.dtype
        if (
            x.ndim == 2
            and wd.ndim == 2
            and x.shape[1] == wd.shape[1]
            and wd.dtype is dt
            and (dt is _F32 or dt is _F64)
            and (
                bias is None
                or (
                    isinstance(bias, Tensor)
                    and bias.data.dtype is dt
                    and bias.data.shape == (wd.shape[0],)
                )
            )
        ):
            return Linear.apply(input, weight, bias, activation=activation)
    input = _tensor(input, "input", "linear")
    weight = _tensor(weight, "weight", "linear")
    if weight.ndim != 2:
        raise ValueError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}"
        )
    if input.ndim == 0:
        raise ValueError("linear: input must have at least one dim, got a 0-d tensor")
    if input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input last dimension {input.shape[-1]} does not match "
            f"weight shape {weight.shape} (input shape {input.shape}, expected "
            f"(*, {weight.shape[1]}))"
        )
    if bias is not None:
        bias = _tensor(bias, "bias", "linear")
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias shape {bias.shape} does not match weight shape "
                f"{weight.shape} (expected ({weight.shape[0]},))"
            )
    _floating(input, "input", "linear")
    _floating(weight, "weight", "linear")
    _same_dtype("linear", input=input, weight=weight, bias=bias)
    if activation not in (None, "identity", "linear", "relu", "sigmoid", "tanh"):
        raise ValueError(
            f"linear: activation must be None, 'relu', 'sigmoid' or 'tanh', got {activation!r}"
        )
    if input.ndim == 1:
        return Linear.apply(input.reshape(1, -1), weight, bias, activation=activation).reshape(-1)
    return Linear.apply(input, weight, bias, activation=activation)


# =========================================================================================
# Regression losses
# =========================================================================================
class PointwiseLoss(Function):
    """reduce(f(x - t)) for f in mse (d^2), l1 (|d|), huber (delta), smooth_l1 (beta)."""

    def forward(self, x, t, kind, param, reduction):
        d = x - t
        self.d, self.kind, self.param, self.reduction = d, kind, param, reduction
        a = np.abs(d)
        if kind == "mse":
            loss = d * d
        elif kind == "l1":
            loss = a
        elif kind == "huber":
            loss = np.where(a < param, 0.5 * d * d, param * (a - 0.5 * param))
        elif param == 0:  # smooth_l1 with beta == 0 is l1
            loss = a
        else:
            loss = np.where(a < param, 0.5 * d * d / param, a - 0.5 * param)
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    def backward(self, g):
        d, p = self.d, self.param
        if self.kind == "mse":
            dd = 2 * d
        elif self.kind == "l1" or p == 0:
            dd = np.sign(d)
        elif self.kind == "huber":
            dd = np.clip(d, -p, p)
        else:
            dd = np.clip(d / p, -1, 1)
        gx = (dd * _reduce_grad(g, self.reduction, d.size)).astype(d.dtype, copy=False)
        nx, nt = self.needs_input_grad
        return (gx if nx else None, -gx if nt else None)


def _pointwise_loss(input, target, kind, param, reduction, op):
    input, target = _input_and_target(input, target, reduction, op)
    return PointwiseLoss.apply(input, target, kind=kind, param=param, reduction=reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean squared error: reduce((x - y)^2). Shapes must match exactly."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _pointwise_loss(input, target, "mse", None, reduction, "mse_loss")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """Mean absolute error: ``reduce(|x - y|)``."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    return _pointwise_loss(input, target, "l1", None, reduction, "l1_loss")


def huber_loss(input, target, reduction="mean", delta=1.0):
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``; ``d = x - y``."""
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return _pointwise_loss(input, target, "huber", float(delta), reduction, "huber_loss")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta`` (beta = 0: l1)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    return _pointwise_loss(input, target, "smooth_l1", float(beta), reduction, "smooth_l1_loss")


# =========================================================================================
# Binary cross-entropy
# =========================================================================================
class BinaryCrossEntropy(Function):
    """-w (t log x + (1 - t) log(1 - x)), each log clamped at -100 like PyTorch."""

    def forward(self, x, t, w, reduction):
        self.x, self.t, self.w, self.reduction = x, t, w, reduction
        with np.errstate(divide="ignore"):
            self.logx = np.maximum(np.log(x), -100)
            self.log1mx = np.maximum(np.log1p(-x), -100)
        loss = -(t * self.logx + (1 - t) * self.log1mx)
        if w is not None:
            loss = loss * w
        return _reduce(loss.astype(x.dtype, copy=False), reduction)

    def backward(self, g):
        x, t, w = self.x, self.t, self.w
        gr = _reduce_grad(g, self.reduction, x.size)
        if w is not None:
            gr = gr * w
        nx, nt = self.needs_input_grad
        gx = gt = None
        if nx:  # PyTorch's formula: (x - t) / max(x (1 - x), 1e-12)
            gx = (gr * (x - t) / np.maximum(x * (1 - x), 1e-12)).astype(x.dtype, copy=False)
        if nt:
            gt = (gr * (self.log1mx - self.logx)).astype(x.dtype, copy=False)
        return gx, gt


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean"
):
    """Binary cross-entropy on probabilities in [0, 1].

    Args:
        input: probabilities, any shape.
        target: same shape as input, values in [0, 1].
        weight: optional rescaling broadcast to input's shape.
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "binary_cross_entropy"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _input_and_target(input, target, reduction, op)
    x = input.data
    if x.size and (np.min(x) < 0 or np.max(x) > 1 or np.isnan(x).any()):
        raise ValueError(
            f"{op}: all elements of input should be between 0 and 1 (got "
            f"min {np.nanmin(x):g}, max {np.nanmax(x):g}); use "
            f"binary_cross_entropy_with_logits on raw scores"
        )
    w = _const(weight, input.dtype)
    if w is not None:
        _broadcastable(w.shape, input.shape, "weight", op)
    return BinaryCrossEntropy.apply(input, target, w=w, reduction=reduction)


def _broadcastable(shape, to, name, op):
    try:
        if np.broadcast_shapes(shape, to) == to:
            return
    except ValueError:
        pass
    raise ValueError(f"{op}: {name} of shape {shape} cannot be broadcast to input shape {to}")


class BCEWithLogits(Function):
    def forward(self, x, t, w, pw, reduction):
        self.x, self.t, self.w, self.pw, self.reduction = x, t, w, pw, reduction
        return _bce_logits_fwd(x, t, w, pw, reduction)

    def backward(self, g):
        x, t, w, pw = self.x, self.t, self.w, self.pw
        nx, nt = self.needs_input_grad
        gx = gt = None
        if nx:
            gx = _bce_logits_bwd(g, x, t, w, pw, self.reduction)
        if nt:
            gr = _reduce_grad(g, self.reduction, x.size)  # d/dt = -x + (pw - 1) softplus(-x)
            sp = np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)
            d = -x if pw is None else -x + (pw - 1) * sp
            if w is not None:
                d = d * w
            gt = (gr * d).astype(x.dtype, copy=False)
        return gx, gt


def binary_cross_entropy_with_logits(
    input, target, weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None
):
    """Sigmoid + binary cross-entropy in one stable node:
    ``w * ((1 - t) x + (1 + (pw - 1) t) log(1 + exp(-x)))``.

    Args:
        input: logits, any shape.
        target: same shape, values in [0, 1].
        weight: optional rescaling broadcast to input's shape.
        pos_weight: optional weight of positive examples, broadcast along the last dim
            (one per class).
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "binary_cross_entropy_with_logits"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _input_and_target(input, target, reduction, op)
    w = _const(weight, input.dtype)
    pw = _const(pos_weight, input.dtype)
    if w is not None:
        _broadcastable(w.shape, input.shape, "weight", op)
    if pw is not None:
        c = input.shape[-1] if input.ndim else 1
        if pw.ndim > 1 or pw.size not in (1, c):
            raise ValueError(
                f"{op}: pos_weight of shape {pw.shape} must have shape ({c},) "
                f"(one per class, the last dim of input shape {input.shape}) "
                f"or (1,)"
            )
    return BCEWithLogits.apply(input, target, w=w, pw=pw, reduction=reduction)


# =========================================================================================
# Cross-entropy, NLL, KL divergence
# =========================================================================================
def _class_layout(input, target, op):
    """(C, t_n, shape of a 'none' loss) for an input (C,), (N, C) or (N, C, d1, ...) and a
    class-index target of shape (), (N,) or (N, d1, ...)."""
    shape = input.shape
    if len(shape) == 0:
        raise ValueError(f"{op}: input must have a class dim, got a 0-d tensor")
    expected = () if len(shape) == 1 else shape[:1] + shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"{op}: target shape {target.shape} does not match input shape "
            f"{shape}: expected {expected} (class indices) or {shape} "
            f"(class probabilities)"
        )
    c = shape[0] if len(shape) == 1 else shape[1]
    return c, target.data.reshape(-1), expected


def _to_nc(x):
    """Logits (C,), (N, C) or (N, C, d1, ...) as rows of classes (N*, C)."""
    if x.ndim == 1:
        return x.reshape(1, -1)
    if x.ndim == 2:
        return x
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])


def _from_nc(dx_nc, shape):
    """Inverse of the class layout: (N*, C) back to the input's shape."""
    if len(shape) <= 2:
        return dx_nc.reshape(shape)
    moved = shape[:1] + shape[2:] + shape[1:2]
    return np.moveaxis(dx_nc.reshape(moved), -1, 1)


def _check_targets(t_n, c, ignore_index, op):
    if t_n.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index target must have an integer dtype, got "
            f"{t_n.dtype}; for class probabilities pass a float target of the "
            f"input's shape"
        )
    bad = ((t_n < 0) | (t_n >= c)) & (t_n != ignore_index)
    if bad.any():
        raise ValueError(
            f"{op}: target {t_n[bad][0]} out of range [0, {c})"
            + (f" (ignore_index is {ignore_index})" if ignore_index != -100 else "")
        )


def _class_weight(weight, c, dtype, op):
    w = _const(weight, dtype)
    if w is not None and w.shape != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},) (one per class), got {w.shape}")
    return w


class CrossEntropy(Function):
    """log_softmax + NLL with class indices in one node (see _xent_fwd for the maths)."""

    def forward(self, x, t_n, w, out_shape, ignore_index, ls, reduction):
        self.shape, self.t_n, self.w = x.shape, t_n, w
        self.ignore_index, self.ls, self.reduction = ignore_index, ls, reduction
        self.x_nc = np.ascontiguousarray(_to_nc(x))
        loss, self.lse = _xent_fwd(self.x_nc, t_n, w, ignore_index, ls, reduction)
        return loss.reshape(out_shape) if reduction == "none" else loss

    def backward(self, g):
        if self.reduction == "none":
            g = g.reshape(-1)
        x_nc = self.x_nc
        dx = _xent_bwd(
            g,
            x_nc,
            self.t_n,
            self.lse,
            self.w,
            self.ignore_index,
            self.ls,
            self.reduction,
            out=_empty(x_nc.shape, x_nc.dtype),
        )
        return (dx if len(self.shape) == 2 else _from_nc(dx, self.shape)), None, None


class SoftCrossEntropy(Function):
    """Cross-entropy with class probabilities: -sum_c w_c t'_c log_softmax(x)_c with
    t' = (1 - ls) t + ls / C, over the class dim (dim 1, or 0 for a 1-D input)."""

    def forward(self, x, t, w, axis, ls, reduction):
        c = x.shape[axis]
        logp = np.moveaxis(_softmax_fwd(np.moveaxis(x, axis, -1), True), -1, axis)
        tt = t * (1 - ls) + ls / c if ls > 0 else t
        wb = None if w is None else w.reshape((c,) + (1,) * (x.ndim - axis - 1))
        a = tt if wb is None else tt * wb  # per-element coefficient of -logp
        self.logp, self.a, self.wb, self.axis, self.ls = logp, a, wb, axis, ls
        self.reduction = reduction
        self.count = x.size // c if x.size else 0
        return _reduce_over(-(a * logp).sum(axis=axis), reduction, self.count)

    def backward(self, g):
        axis = self.axis
        if self.reduction == "none":
            gr = np.expand_dims(g, axis)
        else:
            gr = g / self.count if self.reduction == "mean" else g
        nx, nt, _ = self.needs_input_grad
        gx = gt = None
        if nx:  # d/dx_j = p_j sum_c a_c - a_j
            p = np.exp(self.logp)
            gx = gr * (p * self.a.sum(axis=axis, keepdims=True) - self.a)
        if nt:
            d = -self.logp * (1 - self.ls)
            gt = gr * (d if self.wb is None else d * self.wb)
        return gx, gt, None


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index=-100,
    reduce=None,
    reduction="mean",
    label_smoothing=0.0,
):
    """Cross-entropy between logits and class indices or class probabilities (PyTorch's
    definition, with log_softmax computed stably inside).

    Args:
        input: logits (N, C), (C,) or (N, C, d1, ...).
        target: int class indices (N,), () or (N, d1, ...) in [0, C) (or ignore_index); or
            float class probabilities of the input's shape.
        weight: optional (C,) class weights. With 'mean' and indices the sum is divided by
            the total weight of the targets not ignored.
        ignore_index: target value that contributes neither loss nor gradient (indices only).
        reduction: 'mean', 'sum' or 'none'.
        label_smoothing: in [0, 1]: mix the target with the uniform distribution.

    Examples:
        >>> loss = F.cross_entropy(logits, labels)            # logits (64, 10), labels (64,)
    """
    op = "cross_entropy"
    if (
        type(input) is Tensor
        and type(target) is Tensor
        and size_average is None
        and reduce is None
        and ignore_index == -100
        and not label_smoothing
    ):
        x, t = input.data, target.data
        if (
            x.ndim == 2
            and t.ndim == 1
            and x.dtype.kind == "f"
            and t.dtype.kind in "iu"
            and t.shape[0] == x.shape[0]
            and reduction in _REDUCTIONS
        ):
            # the common case, checked in one go; the kernel checks every target's range
            # (raising "cross_entropy: target 10 out of range [0, 10)" as below)
            w = None if weight is None else _class_weight(weight, x.shape[1], x.dtype, op)
            return CrossEntropy.apply(
                input, t, w, out_shape=t.shape, ignore_index=-100, ls=0.0, reduction=reduction
            )
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    input = _tensor(input, "input", op)
    _floating(input, "input", op)
    target = _tensor(target, "target", op)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{op}: label_smoothing must be in [0, 1], got {label_smoothing}")
    c = input.shape[0] if input.ndim == 1 else (input.shape[1] if input.ndim else 0)
    if target.dtype.kind == "f" and target.shape == input.shape:
        target = _target_like(target, input, op)
        w = _class_weight(weight, c, input.dtype, op)
        return SoftCrossEntropy.apply(
            input,
            target,
            w,
            axis=0 if input.ndim == 1 else 1,
            ls=float(label_smoothing),
            reduction=reduction,
        )
    c, t_n, out_shape = _class_layout(input, target, op)
    _check_targets(t_n, c, ignore_index, op)
    w = _class_weight(weight, c, input.dtype, op)
    return CrossEntropy.apply(
        input,
        t_n,
        w,
        out_shape=out_shape,
        ignore_index=ignore_index,
        ls=float(label_smoothing),
        reduction=reduction,
    )


class NLLLoss(Function):
    def forward(self, x, t_n, w, out_shape, ignore_index, reduction):
        x_nc = _to_nc(x)
        valid = t_n != ignore_index
        tt = np.where(valid, t_n, 0)
        w_t = np.where(valid, 1.0 if w is None else w[tt], 0.0).astype(x.dtype)
        loss = -w_t * x_nc[np.arange(len(tt)), tt]
        self.shape, self.tt, self.w_t, self.reduction = x.shape, tt, w_t, reduction
        self.wsum = w_t.sum(dtype=np.float64)
        return _reduce_over(loss.reshape(out_shape), reduction, self.wsum)

    def backward(self, g):
        n = len(self.tt)
        if self.reduction == "none":
            g_n = g.reshape(-1)
        elif self.reduction == "sum":
            g_n = g
        else:
            g_n = g / self.wsum if self.wsum else g * np.nan
        c = self.shape[0] if len(self.shape) == 1 else self.shape[1]
        dx = np.zeros((n, c), g.dtype)
        dx[np.arange(n), self.tt] = -self.w_t * g_n
        return _from_nc(dx, self.shape), None, None


def nll_loss(
    input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"
):
    """Negative log-likelihood of class indices given log-probabilities:
    ``-w[t] * input[n, t]``; 'mean' divides by the total weight of the targets not ignored.

    Args:
        input: log-probabilities (N, C), (C,) or (N, C, d1, ...).
        target: int class indices (N,), () or (N, d1, ...).
        weight: optional (C,) class weights.
        ignore_index: target value that contributes neither loss nor gradient.
        reduction: 'mean', 'sum' or 'none'.
    """
    op = "nll_loss"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, op)
    input = _tensor(input, "input", op)
    _floating(input, "input", op)
    target = _tensor(target, "target", op)
    c, t_n, out_shape = _class_layout(input, target, op)
    _check_targets(t_n, c, ignore_index, op)
    w = _class_weight(weight, c, input.dtype, op)
    return NLLLoss.apply(
        input, t_n, w, out_shape=out_shape, ignore_index=ignore_index, reduction=reduction
    )


class KLDiv(Function):
    """target * (log target - input), or exp(target) * (target - input) with log_target."""

    def forward(self, x, t, log_target, reduction):
        if log_target:
            et = np.exp(t)
            loss = et * (t - x)
            self.et = et
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                logt = np.where(t > 0, np.log(np.where(t > 0, t, 1)), 0)
            loss = np.where(t > 0, t * (logt - x), 0).astype(x.dtype, copy=False)
            self.logt = logt
        self.x, self.t, self.log_target, self.reduction = x, t, log_target, reduction
        batchmean = reduction == "batchmean"
        self.n = (x.shape[0] if x.ndim else 1) if batchmean else x.size
        return _reduce_over(loss, "mean" if batchmean else reduction, self.n)

    def backward(self, g):
        gr = g / self.n if self.reduction in ("mean", "batchmean") else g
        nx, nt = self.needs_input_grad
        gx = gt = None
        if self.log_target:
            if nx:
                gx = -gr * self.et
            if nt:
                gt = gr * self.et * (self.t - self.x + 1)
        else:
            if nx:
                gx = -gr * self.t
            if nt:
                gt = gr * np.where(self.t > 0, self.logt + 1 - self.x, 0)
        return (
            None if gx is None else gx.astype(self.x.dtype, copy=False),
            None if gt is None else gt.astype(self.x.dtype, copy=False),
        )


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence with input given as log-probabilities:
    ``target * (log(target) - input)`` (0 where target is 0), or with log_target=True
    ``exp(target) * (target - input)``.

    reduction: 'mean' (over all elements, as PyTorch's default), 'batchmean' (sum divided by
    the batch size: the true KL divergence), 'sum' or 'none'.
    """
    op = "kl_div"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    input, target = _input_and_target(input, target, reduction, op, extra=("batchmean",))
    return KLDiv.apply(input, target, log_target=bool(log_target), reduction=reduction)


# =========================================================================================
# Normalisation and embedding
# =========================================================================================
def _stat_array(x, name, c, op):
    if x is None:
        return None
    arr = x.data if isinstance(x, Tensor) else x
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{op}: {name} must be a Tensor or numpy.ndarray, got {type(x).__name__}")
    if arr.shape != (c,):
        raise ValueError(f"{op}: {name} must have shape ({c},), got {arr.shape}")
    return arr


class BatchNorm(Function):
    """y = (x - mean) / sqrt(var + eps) * w + b per channel (dim 1), with batch statistics in
    training (updating the running ones in place) and running statistics otherwise. Both
    passes are C kernels (csrc/norm.c); only the (C,)-sized running-statistics update is
    NumPy."""

    def forward(self, x, w, b, running_mean, running_var, training, momentum, eps):
        y, mean, var = _kernels.batch_norm_forward(
            x, w, b, running_mean, running_var, training, eps, out=_empty(x.shape, x.dtype)
        )
        if training:
            m = x.size // x.shape[1]
            if running_mean is not None:
                running_mean *= 1 - momentum
                running_mean += (momentum * mean).astype(running_mean.dtype)
            if running_var is not None:
                running_var *= 1 - momentum
                running_var += (momentum * var * m / (m - 1)).astype(running_var.dtype)
        self.x, self.w, self.mean, self.var = x, w, mean, var
        self.training, self.eps = training, eps
        return y

    def backward(self, g):
        nx, nw, nb = self.needs_input_grad
        return _kernels.batch_norm_backward(
            g,
            self.x,
            self.mean,
            self.var,
            self.w,
            self.eps,
            self.training,
            input_grad=nx,
            weight_grad=nw and self.w is not None,
            bias_grad=nb,
            dx_out=_empty(self.x.shape, self.x.dtype) if nx else None,
        )


def batch_norm(
    input,
    running_mean,
    running_var,
    weight=None,
    bias=None,
    training=False,
    momentum=0.1,
    eps=1e-5,
):
    """Batch normalisation over dim 1 of (N, C), (N, C, L) or (N, C, H, W).

    In training, normalises with the batch mean and biased variance and updates
    ``running_mean``/``running_var`` in place (Tensors or arrays, or None to skip):
    ``running = (1 - momentum) * running + momentum * batch_stat``, with the unbiased variance
    for ``running_var``. Otherwise normalises with the running statistics.
    """
    op = "batch_norm"
    input = _tensor(input, "input", op)
    _floating(input, "input", op)
    if input.ndim < 2:
        raise ValueError(f"{op}: input must be (N, C) or (N, C, *), got shape {input.shape}")
    c = input.shape[1]
    rm = _stat_array(running_mean, "running_mean", c, op)
    rv = _stat_array(running_var, "running_var", c, op)
    if not training and (rm is None or rv is None):
        raise ValueError(f"{op}: running_mean and running_var are needed when not training")
    if training and input.numel() // max(c, 1) <= 1:
        raise ValueError(
            f"{op}: expected more than 1 value per channel when training, got "
            f"input of shape {input.shape}"
        )
    if weight is not None:
        weight = _tensor(weight, "weight", op)
        if weight.shape != (c,):
            raise ValueError(
                f"{op}: weight must have shape ({c},) for input of shape "
                f"{input.shape}, got {weight.shape}"
            )
    if bias is not None:
        bias = _tensor(bias, "bias", op)
        if bias.shape != (c,):
            raise ValueError(
                f"{op}: bias must have shape ({c},) for input of shape "
                f"{input.shape}, got {bias.shape}"
            )
    _same_dtype(op, input=input, weight=weight, bias=bias)
    return BatchNorm.apply(
        input,
        weight,
        bias,
        running_mean=rm,
        running_var=rv,
        training=bool(training),
        momentum=float(momentum),
        eps=float(eps),
    )


class LayerNorm(Function):
    def forward(self, x, w, b, k, eps):
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        var = np.mean(centered * centered, axis=axes, keepdims=True)
        self.invstd = 1 / np.sqrt(var + x.dtype.type(eps))
        self.xhat = centered * self.invstd
        self.w, self.axes, self.lead = w, axes, tuple(range(x.ndim - k))
        y = self.xhat if w is None else self.xhat * w
        return y if b is None else y + b

    def backward(self, g):
        nx, nw, nb = self.needs_input_grad
        xhat, axes, lead = self.xhat, self.axes, self.lead
        dx = dw = db = None
        if nw:
            dw = (g * xhat).sum(axis=lead)
        if nb:
            db = g.sum(axis=lead)
        if nx:
            dxhat = g if self.w is None else g * self.w
            s1 = dxhat.mean(axis=axes, keepdims=True)
            s2 = (dxhat * xhat).mean(axis=axes, keepdims=True)
            dx = self.invstd * (dxhat - s1 - xhat * s2)
        return dx, dw, db


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing dims given by normalized_shape (biased variance), then
    scale by weight and shift by bias (both of shape normalized_shape, optional)."""
    op = "layer_norm"
    input = _tensor(input, "input", op)
    _floating(input, "input", op)
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(normalized_shape)
    k = len(normalized_shape)
    if k == 0 or input.shape[input.ndim - k :] != normalized_shape or input.ndim < k:
        raise ValueError(
            f"{op}: input shape {input.shape} does not end with normalized_shape "
            f"{normalized_shape}"
        )
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != normalized_shape:
            raise ValueError(f"{op}: {name} must have shape {normalized_shape}, got {p.shape}")
    weight = None if weight is None else _tensor(weight, "weight", op)
    bias = None if bias is None else _tensor(bias, "bias", op)
    _same_dtype(op, input=input, weight=weight, bias=bias)
    return LayerNorm.apply(input, weight, bias, k=k, eps=float(eps))


class Embedding(Function):
    def forward(self, w, idx, padding_idx):
        self.idx, self.wshape, self.padding_idx = idx, w.shape, padding_idx
        return w[idx]

    def backward(self, g):
        dw = np.zeros(self.wshape, g.dtype)
        np.add.at(dw, self.idx.reshape(-1), g.reshape(-1, self.wshape[1]))
        if self.padding_idx is not None:
            dw[self.padding_idx] = 0
        return dw, None


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    """Rows of weight (num_embeddings, embedding_dim) picked by the int tensor input; the
    row at padding_idx gets no gradient. max_norm, scale_grad_by_freq and sparse are not
    supported."""
    op = "embedding"
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(
            f"{op}: max_norm, scale_grad_by_freq and sparse are not supported"
        )
    input = _tensor(input, "input", op)
    weight = _tensor(weight, "weight", op)
    if weight.ndim != 2:
        raise ValueError(
            f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}"
        )
    if input.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got dtype {input.dtype}")
    n = weight.shape[0]
    idx = input.data
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise ValueError(
            f"{op}: index {bad} out of range [0, {n}) for weight of shape {weight.shape}"
        )
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx {padding_idx} out of range [-{n}, {n})")
        padding_idx %= n
    return Embedding.apply(weight, idx, padding_idx=padding_idx)


def one_hot(tensor, num_classes=-1):
    """int64 tensor with a trailing dim of num_classes (max + 1 when -1) holding 1 at each
    index."""
    tensor = _tensor(tensor, "tensor", "one_hot")
    idx = tensor.data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes})")
    return Tensor((idx[..., None] == np.arange(num_classes)).astype(np.int64))


from minnet.nn._conv_functional import (  # noqa: E402,F401
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_relu_max_pool2d,
    max_pool2d,
)
from minnet.nn._rnn_functional import gru_cell, lstm_cell, rnn_cell, rnn_layer  # noqa: E402,F401
