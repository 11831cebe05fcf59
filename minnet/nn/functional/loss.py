"""Losses with PyTorch's names, arguments, reductions and definitions."""

import numpy as np

from minnet import kernels as _kernels
from minnet._arena import empty as _empty
from minnet._functions import _softmax_fwd
from minnet.autograd import Function
from minnet.nn.functional._checks import (
    _REDUCTIONS,
    _broadcastable,
    _check_reduction,
    _check_targets,
    _class_weight,
    _const,
    _floating,
    _input_and_target,
    _legacy_reduction,
    _reduce,
    _reduce_grad,
    _reduce_over,
    _target_like,
    _tensor,
)
from minnet.tensor import Tensor


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
