"""Reference activations, softmax and losses: the specification of minnet.kernels' eltwise
family, written as plain NumPy to be read, not to be fast. Same names, signatures and return
values as the kernels (validation is the kernels' job, not the oracle's).

Everything is computed in float64 and cast back to the input dtype, so the float32 kernels are
compared against the exact answer rounded once. Formulas follow PyTorch's documentation:

    relu        max(x, 0)                     backward from x: x > 0 ? dy : 0
    leaky_relu  x > 0 ? x : alpha x           backward from x
    elu         x > 0 ? x : alpha (e^x - 1)   backward from x
    gelu        x Phi(x)                      backward from x: Phi(x) + x phi(x)
    gelu_tanh   0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   backward from x
    silu        x sigmoid(x)                  backward from x: q (1 + x (1 - q)), q = sigmoid(x)
    sigmoid     1 / (1 + e^-x)                backward from y: dy y (1 - y)
    tanh        tanh(x)                       backward from y: dy (1 - y^2)
"""

import math

import numpy as np

ACT_BACKWARD_INPUT = {
    "identity": "x",
    "relu": "x",
    "leaky_relu": "x",
    "elu": "x",
    "gelu": "x",
    "gelu_tanh": "x",
    "silu": "x",
    "sigmoid": "y",
    "tanh": "y",
}
_DEFAULT_ALPHA = {"leaky_relu": 0.01, "elu": 1.0}
_GT0 = math.sqrt(2.0 / math.pi)
_GT1 = 0.044715

_erfc = np.frompyfunc(math.erfc, 1, 1)  # erfc, not 1 + erf: no cancellation for x << 0


def _Phi(x):
    """Standard normal CDF, from libm's erfc (x float64)."""
    return 0.5 * _erfc(-x / math.sqrt(2.0)).astype(np.float64)


def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow, and without the cancellation of 0.5 (1 + tanh(x/2))
    for x << 0."""
    return np.exp(-np.logaddexp(0.0, -x))


def _alpha(kind, alpha):
    return _DEFAULT_ALPHA.get(kind, 0.0) if alpha is None else float(alpha)


def _finish(value, like, out):
    value = np.asarray(value).astype(like.dtype, copy=False)
    if out is None:
        return value
    out[...] = value
    return out


def act_forward(x, kind, *, alpha=None, out=None):
    """y := act(x) elementwise."""
    a = _alpha(kind, alpha)
    v = np.asarray(x, dtype=np.float64)
    if kind == "identity":
        y = v
    elif kind == "relu":
        y = np.maximum(v, 0.0)
    elif kind == "leaky_relu":
        y = np.where(v > 0, v, a * v)
    elif kind == "elu":
        y = np.where(v > 0, v, a * np.expm1(np.minimum(v, 0.0)))
    elif kind == "gelu":
        y = v * _Phi(v)
    elif kind == "gelu_tanh":
        # 0.5 (1 + tanh(u)) == sigmoid(2u), which keeps the tail for x << 0
        y = v * _sigmoid(2.0 * _GT0 * (v + _GT1 * v**3))
    elif kind == "silu":
        y = v * _sigmoid(v)
    elif kind == "sigmoid":
        y = _sigmoid(v)
    elif kind == "tanh":
        y = np.tanh(v)
    else:
        raise ValueError(f"activation: unknown kind {kind!r}")
    return _finish(y, x, out)


def act_backward(grad_out, saved, kind, *, alpha=None, out=None):
    """dx := grad_out * act'(.); `saved` is y for sigmoid/tanh, x otherwise."""
    a = _alpha(kind, alpha)
    g = np.asarray(grad_out, dtype=np.float64)
    s = np.asarray(saved, dtype=np.float64)
    if kind == "identity":
        d = g
    elif kind == "relu":
        d = np.where(s <= 0, 0.0, g)
    elif kind == "leaky_relu":
        d = np.where(s > 0, g, a * g)
    elif kind == "elu":
        # PyTorch's elu_backward: x <= 0 ? dy * alpha * exp(x) : dy (a NaN x takes dy)
        d = np.where(s <= 0, g * a * np.exp(np.minimum(s, 0.0)), g)
    elif kind == "gelu":
        d = g * (_Phi(s) + s * np.exp(-0.5 * s * s) / math.sqrt(2.0 * math.pi))
    elif kind == "gelu_tanh":
        q = _sigmoid(2.0 * _GT0 * (s + _GT1 * s**3))  # 0.5 (1 + tanh(u))
        d = g * (q + 2.0 * s * q * (1.0 - q) * _GT0 * (1.0 + 3.0 * _GT1 * s * s))
    elif kind == "silu":
        q = _sigmoid(s)
        d = g * (q * (1.0 + s * (1.0 - q)))
    elif kind == "sigmoid":
        d = g * s * (1.0 - s)
    elif kind == "tanh":
        d = g * (1.0 - s * s)
    else:
        raise ValueError(f"activation: unknown kind {kind!r}")
    return _finish(d, grad_out, out)


def _log_softmax64(x):
    v = np.asarray(x, dtype=np.float64)
    shifted = v - v.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(x, *, log=False, out=None):
    """softmax (or log_softmax) over the last axis."""
    if x.size == 0:
        return _finish(np.asarray(x, dtype=np.float64), x, out)
    logp = _log_softmax64(x)
    return _finish(logp if log else np.exp(logp), x, out)


def softmax_backward(grad_out, y, *, log=False, out=None):
    """dx := y (dy - sum(dy y)) for softmax, dy - exp(y) sum(dy) for log_softmax."""
    g = np.asarray(grad_out, dtype=np.float64)
    v = np.asarray(y, dtype=np.float64)
    if log:
        d = g - np.exp(v) * g.sum(axis=-1, keepdims=True)
    else:
        d = v * (g - (g * v).sum(axis=-1, keepdims=True))
    return _finish(d, grad_out, out)


def _xent_parts(logits, target, weight, ignore_index):
    x = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.int64)
    n, c = x.shape
    w = np.ones(c) if weight is None else np.asarray(weight, dtype=np.float64)
    keep = t != ignore_index
    t_safe = np.where(keep, t, 0)
    return x, t_safe, w, keep, n, c


def cross_entropy_forward(
    logits, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"
):
    """PyTorch's cross_entropy with class indices (LossNLL.cpp's label-smoothing form)::

        nll_n    = -w[t_n] logp[n, t_n]
        smooth_n = -sum_c w[c] logp[n, c]
        loss_n   = (1 - eps) nll_n + eps / C smooth_n,   0 where t_n == ignore_index

    'mean' divides both sums by sum_n w[t_n] over rows not ignored.
    Returns (loss, lse) with lse the float64 log-sum-exp of each row."""
    x, t, w, keep, n, c = _xent_parts(logits, target, weight, ignore_index)
    if c == 0:
        lse = np.full(n, -np.inf)
        logp = np.zeros((n, 0))
    else:
        m = x.max(axis=1, keepdims=True)
        lse = (m + np.log(np.exp(x - m).sum(axis=1, keepdims=True)))[:, 0]
        logp = _log_softmax64(x)
    rows = np.arange(n)
    nll = np.where(keep, -w[t] * logp[rows, t] if c else 0.0, 0.0)
    smooth = np.where(keep, -(logp * w).sum(axis=1), 0.0)
    eps = float(label_smoothing)
    if reduction == "none":
        loss = (1.0 - eps) * nll + eps / max(c, 1) * smooth
    else:
        total_nll, total_smooth = nll.sum(), smooth.sum()
        if reduction == "mean":
            wsum = w[t[keep]].sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                total_nll = total_nll / wsum if wsum != 0 else np.nan
                total_smooth = total_smooth / wsum if wsum != 0 else np.nan
        loss = np.array((1.0 - eps) * total_nll + eps / max(c, 1) * total_smooth)
    return loss.astype(logits.dtype), lse


def cross_entropy_backward(
    grad_loss,
    logits,
    target,
    lse,
    *,
    weight=None,
    ignore_index=-100,
    label_smoothing=0.0,
    reduction="mean",
    out=None,
):
    """d loss / d logits: with p = exp(x - lse), W = sum_c w[c] and g_n the incoming gradient
    (divided by sum_n w[t_n] for 'mean')::

        dx[n, c] = g_n ((1 - eps) w[t_n] (p[n, c] - [c == t_n]) + eps / C (W p[n, c] - w[c]))

    and 0 in rows whose target is ignored."""
    x, t, w, keep, n, c = _xent_parts(logits, target, weight, ignore_index)
    p = np.exp(x - np.asarray(lse, dtype=np.float64)[:, None])
    onehot = np.zeros((n, c))
    if c:
        onehot[np.arange(n), t] = 1.0
    eps = float(label_smoothing)
    if reduction == "none":
        g = np.asarray(grad_loss, dtype=np.float64)
    else:
        g = np.full(n, float(np.asarray(grad_loss)))
        if reduction == "mean":
            wsum = w[t[keep]].sum()
            with np.errstate(divide="ignore"):
                g = g / wsum if wsum != 0 else np.full(n, np.inf)
    d = (1.0 - eps) * w[t][:, None] * (p - onehot) + eps / max(c, 1) * (w.sum() * p - w)
    with np.errstate(invalid="ignore"):
        d = np.where(keep[:, None], g[:, None] * d, 0.0)
    return _finish(d, logits, out)


def _bce_parts(logits, target, weight, pos_weight):
    x = np.asarray(logits, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    w = 1.0 if weight is None else np.asarray(weight, dtype=np.float64)
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, dtype=np.float64)
    return x, t, w, pw


def bce_with_logits_forward(logits, target, *, weight=None, pos_weight=None, reduction="mean"):
    """PyTorch's binary_cross_entropy_with_logits:
    ``l = w ((1 - t) x + (1 + (pw - 1) t) (log1p(exp(-|x|)) + max(-x, 0)))``."""
    x, t, w, pw = _bce_parts(logits, target, weight, pos_weight)
    log_weight = 1.0 + (pw - 1.0) * t
    loss = w * ((1.0 - t) * x + log_weight * (np.log1p(np.exp(-np.abs(x))) + np.maximum(-x, 0)))
    loss = np.broadcast_to(loss, x.shape)
    if reduction == "sum":
        loss = np.array(loss.sum())
    elif reduction == "mean":
        loss = np.array(loss.mean() if loss.size else np.nan)
    return loss.astype(logits.dtype)


def bce_with_logits_backward(
    grad_loss, logits, target, *, weight=None, pos_weight=None, reduction="mean", out=None
):
    """d l / d x = g w ((1 + (pw - 1) t) sigmoid(x) - pw t)."""
    x, t, w, pw = _bce_parts(logits, target, weight, pos_weight)
    g = np.asarray(grad_loss, dtype=np.float64)
    if reduction == "mean" and x.size:
        g = g / x.size
    d = g * w * ((1.0 + (pw - 1.0) * t) * _sigmoid(x) - pw * t)
    return _finish(np.broadcast_to(d, x.shape), logits, out)
