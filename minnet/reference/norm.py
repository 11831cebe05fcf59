"""Reference batch normalisation, forward and backward, per channel (dim 1) of (N, C, *):
the textbook formulas in float64. Written to be read, not to be fast."""

import numpy as np


def _axes(x):
    return (0,) + tuple(range(2, x.ndim))


def _bshape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def batch_norm_forward(
    x,
    weight=None,
    bias=None,
    running_mean=None,
    running_var=None,
    training=True,
    eps=1e-5,
    out=None,
):
    """(y, mean, var): y = (x - mean) / sqrt(var + eps) * weight + bias, with the batch's mean
    and biased variance when training, the running ones otherwise (float64, shape (C,))."""
    x64 = x.astype(np.float64)
    if training:
        mean = x64.mean(axis=_axes(x))
        var = ((x64 - mean.reshape(_bshape(x))) ** 2).mean(axis=_axes(x))
    else:
        if running_mean is None or running_var is None:
            raise ValueError(
                "batch_norm_forward: running_mean and running_var are needed when not training"
            )
        mean = np.asarray(running_mean, np.float64)
        var = np.asarray(running_var, np.float64)
    y = (x64 - mean.reshape(_bshape(x))) / np.sqrt(var.reshape(_bshape(x)) + eps)
    if weight is not None:
        y = y * weight.astype(np.float64).reshape(_bshape(x))
    if bias is not None:
        y = y + bias.astype(np.float64).reshape(_bshape(x))
    y = y.astype(x.dtype)
    if out is not None:
        out[...] = y
        y = out
    return y, mean, var


def batch_norm_backward(
    dy,
    x,
    mean,
    var,
    weight=None,
    eps=1e-5,
    training=True,
    *,
    input_grad=True,
    weight_grad=True,
    bias_grad=True,
    dx_out=None,
):
    """(dx, dweight, dbias): with xhat = (x - mean) / sqrt(var + eps) and m values per channel,
    dbias = sum dy, dweight = sum dy * xhat, and dx = weight / sqrt(var + eps) * (dy -
    dbias / m - xhat * dweight / m) when the statistics were the batch's (training), else
    weight / sqrt(var + eps) * dy."""
    axes, bs = _axes(x), _bshape(x)
    g = dy.astype(np.float64)
    invstd = 1 / np.sqrt(np.asarray(var, np.float64) + eps)
    xhat = (x.astype(np.float64) - np.asarray(mean, np.float64).reshape(bs)) * invstd.reshape(bs)
    w = np.ones(x.shape[1]) if weight is None else weight.astype(np.float64)
    sdy, sdyx = g.sum(axis=axes), (g * xhat).sum(axis=axes)
    dx = dw = db = None
    if input_grad:
        m = x.size // x.shape[1]
        if training:
            dx = (w * invstd).reshape(bs) * (
                g - (sdy / m).reshape(bs) - xhat * (sdyx / m).reshape(bs)
            )
        else:
            dx = (w * invstd).reshape(bs) * g
        dx = dx.astype(x.dtype)
        if dx_out is not None:
            dx_out[...] = dx
            dx = dx_out
    if weight_grad:
        dw = sdyx.astype(x.dtype)
    if bias_grad:
        db = sdy.astype(x.dtype)
    return dx, dw, db
