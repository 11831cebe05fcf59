"""Reference conv2d, forward and backward: pad, take strided windows, one einsum (Chainer's
im2col_cpu idea, with sliding_window_view doing the strided slicing)."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minnet._kernels.convshape import conv2d_geometry


def _windows(x, w_shape, stride, padding, dilation, groups, op):
    """The padded input's windows as (N, G, C_in/G, OH, OW, kH, kW), and the geometry."""
    geo = conv2d_geometry(x.shape, w_shape, stride, padding, dilation, groups, op)
    oh, ow, (sh, sw), (pt, pb, pl, pr), (dh, dw) = geo
    kh, kw = w_shape[2], w_shape[3]
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    win = sliding_window_view(xp, (dh * (kh - 1) + 1, dw * (kw - 1) + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw][:, :, :oh, :ow]
    n, c = x.shape[:2]
    return win.reshape(n, groups, c // groups, oh, ow, kh, kw), xp.shape, geo


def _into(out, value):
    if out is None:
        return value
    out[...] = value
    return out


def conv2d_forward(
    x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None, out=None
):
    """y[n, o, i, j] = act(b[o] + sum_{c,p,q} w[o, c, p, q] x_pad[n, c, i*sh + p*dh, j*sw + q*dw])
    (c over the group of o)."""
    cols, _, _ = _windows(x, w.shape, stride, padding, dilation, groups, "conv2d")
    c_out = w.shape[0]
    wg = w.reshape(groups, c_out // groups, *w.shape[1:])
    y = np.einsum("ngchwpq,gocpq->ngohw", cols, wg, optimize=True)
    y = y.reshape(x.shape[0], c_out, *y.shape[-2:])
    if bias is not None:
        y = y + bias.reshape(1, -1, 1, 1)
    if activation == "relu":
        y = np.maximum(y, 0)
    return _into(out, np.ascontiguousarray(y, dtype=x.dtype))


def conv2d_relu_maxpool2d_forward(
    x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, out=None, code_out=None
):
    """(p, code): p = max_pool2d(relu(conv2d(x, w) + bias), 2), floor mode, and per pooled
    element the tap of its window's first maximum in row-major order (0 top-left, 1 top-right,
    2 bottom-left, 3 bottom-right) when that maximum is > 0, else 4: no gradient flows back
    through a window whose relu outputs are all 0."""
    y = conv2d_forward(x, w, bias, stride, padding, dilation, groups, activation="relu")
    n, c, oh, ow = y.shape
    if oh < 2 or ow < 2:
        raise ValueError(
            f"conv2d_relu_maxpool2d: the 2x2 max pool needs a conv output of at "
            f"least 2x2; input {x.shape} and weight {w.shape} give {oh}x{ow}"
        )
    ph, pw = oh // 2, ow // 2
    taps = y[:, :, : 2 * ph, : 2 * pw].reshape(n, c, ph, 2, pw, 2)
    taps = taps.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, ph, pw, 4)  # row-major window order
    first = np.argmax(taps, axis=-1)  # first maximum
    p = np.take_along_axis(taps, first[..., None], -1)[..., 0]
    code = np.where(p > 0, first, 4).astype(np.uint8)
    return _into(out, p), _into(code_out, code)


def _unpool(dp, code, y_shape):
    """dY of the fused node: dp[i, j] at the coded tap of window (i, j), zeros elsewhere."""
    n, c, oh, ow = y_shape
    ph, pw = dp.shape[2:]
    taps = np.where(np.arange(4) == code[..., None].astype(np.int64), dp[..., None], 0)
    dy = np.zeros(y_shape, dp.dtype)
    dy[:, :, : 2 * ph, : 2 * pw] = (
        taps.reshape(n, c, ph, pw, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, 2 * ph, 2 * pw)
    )
    return dy


def conv2d_backward(
    dy,
    x,
    w,
    stride=1,
    padding=0,
    dilation=1,
    groups=1,
    *,
    input_grad=True,
    weight_grad=True,
    bias_grad=True,
    dx_out=None,
    dw_out=None,
    relu_out=None,
    pool_code=None,
):
    """(dx, dw, db) of conv2d_forward; None where not asked. relu_out: the forward's output
    when it ran with activation='relu' (the gradient flows only where it is > 0). pool_code:
    the code of conv2d_relu_maxpool2d_forward; dy is then the pooled output's gradient."""
    if pool_code is not None:
        oh, ow = conv2d_geometry(
            x.shape, w.shape, stride, padding, dilation, groups, "conv2d_backward"
        )[:2]
        dy = _unpool(dy, pool_code, (x.shape[0], w.shape[0], oh, ow))
    if relu_out is not None:
        dy = np.where(relu_out > 0, dy, 0).astype(dy.dtype, copy=False)
    cols, padded_shape, geo = _windows(
        x, w.shape, stride, padding, dilation, groups, "conv2d_backward"
    )
    oh, ow, (sh, sw), (pt, pb, pl, pr), (dh, dw) = geo
    n, c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    dyg = dy.reshape(n, groups, c_out // groups, oh, ow)
    wg = w.reshape(groups, c_out // groups, *w.shape[1:])
    dx = dw_ = db = None
    if weight_grad:
        dw_ = np.einsum("ngohw,ngchwpq->gocpq", dyg, cols, optimize=True).reshape(w.shape)
        dw_ = _into(dw_out, dw_.astype(x.dtype, copy=False))
    if bias_grad:
        db = dy.sum(axis=(0, 2, 3)).astype(x.dtype, copy=False)
    if input_grad:
        dcols = np.einsum("ngohw,gocpq->ngchwpq", dyg, wg, optimize=True)
        dcols = dcols.reshape(n, c_in, oh, ow, kh, kw)
        dxp = np.zeros(padded_shape, dtype=x.dtype)
        for p in range(kh):  # col2im: each tap adds its plane back where it was read
            for q in range(kw):
                r0, c0 = p * dh, q * dw
                dxp[:, :, r0 : r0 + sh * (oh - 1) + 1 : sh, c0 : c0 + sw * (ow - 1) + 1 : sw] += (
                    dcols[:, :, :, :, p, q]
                )
        dx = _into(dx_out, np.ascontiguousarray(dxp[:, :, pt : pt + h, pl : pl + wd]))
    return dx, dw_, db
