"""batch_norm and layer_norm over the C kernels of csrc/norm.c."""

import numpy as np

from minnet import kernels as _kernels
from minnet._arena import empty as _empty
from minnet.autograd import Function
from minnet.nn.functional._checks import (
    _floating,
    _same_dtype,
    _stat_array,
    _tensor,
)


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
