"""Reference pooling, forward and backward: a Python loop over output positions, each window
handled for all (N, C) planes at once with NumPy. Written to be read, not to be fast."""

import numpy as np

from minnet._kernels.convshape import adaptive_size, pool2d_geometry


def _taps(start, k, step, size):
    """Indices start + t*step (t < k) that lie inside [0, size)."""
    idx = start + step * np.arange(k)
    return idx[(idx >= 0) & (idx < size)]


def max_pool2d_forward(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, out=None, indices_out=None
):
    """(y, indices): window max and its flat index r*W + s; np.argmax gives the first maximum
    (or the first NaN), the tie rule the kernel follows. A window with no tap inside the plane
    gives -inf and index -1."""
    oh, ow, (kh, kw), (sh, sw), (ph, pw), (dh, dw) = pool2d_geometry(
        x.shape, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d"
    )
    n, c, h, w = x.shape
    y = np.empty((n, c, oh, ow), x.dtype)
    ind = np.empty((n, c, oh, ow), np.int64)
    for i in range(oh):
        rows = _taps(i * sh - ph, kh, dh, h)
        for j in range(ow):
            cols = _taps(j * sw - pw, kw, dw, w)
            flat = (rows[:, None] * w + cols[None, :]).ravel()  # row-major window order
            if flat.size == 0:  # the window lies wholly in the padding (dilation)
                y[:, :, i, j], ind[:, :, i, j] = -np.inf, -1
                continue
            vals = x.reshape(n, c, h * w)[:, :, flat]
            a = np.argmax(vals, axis=2)
            y[:, :, i, j] = np.take_along_axis(vals, a[..., None], 2)[..., 0]
            ind[:, :, i, j] = flat[a]
    if out is not None:
        out[...], y = y, out
    if indices_out is not None:
        indices_out[...], ind = ind, indices_out
    return y, ind


def max_pool2d_backward(dy, indices, input_shape, out=None):
    """dx[n, c].flat[indices] += dy: each output's gradient goes to its argmax."""
    n, c, h, w = input_shape
    dx = np.zeros((n * c, h * w), dy.dtype)
    rows = np.repeat(np.arange(n * c), indices[0, 0].size)
    keep = indices.reshape(-1) >= 0  # -1: a window with no tap in the plane
    np.add.at(dx, (rows[keep], indices.reshape(-1)[keep]), dy.reshape(-1)[keep])
    if out is not None:
        out[...] = dx.reshape(input_shape)
        return out
    return dx.reshape(input_shape)


def _avg_window(i, k, s, p, size):
    """PyTorch's avg_pool2d window on one axis: (lo, hi) clipped to the plane and the window
    length clipped only to the padded plane (the count_include_pad divisor)."""
    lo = i * s - p
    hi = min(lo + k, size + p)
    padded_len = hi - lo
    return max(lo, 0), min(hi, size), padded_len


def _avg_divisors(x_shape, geo, count_include_pad, divisor_override):
    oh, ow, (kh, kw), (sh, sw), (ph, pw), _ = geo
    h, w = x_shape[2:]
    for i in range(oh):
        r0, r1, plen_r = _avg_window(i, kh, sh, ph, h)
        for j in range(ow):
            c0, c1, plen_c = _avg_window(j, kw, sw, pw, w)
            if divisor_override:
                d = divisor_override
            elif count_include_pad:
                d = plen_r * plen_c
            else:
                d = (r1 - r0) * (c1 - c0)
            yield i, j, slice(r0, r1), slice(c0, c1), d


def avg_pool2d_forward(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Window sums divided as PyTorch's avg_pool2d divides them."""
    geo = pool2d_geometry(x.shape, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    y = np.zeros(x.shape[:2] + geo[:2], x.dtype)
    for i, j, rs, cs, d in _avg_divisors(x.shape, geo, count_include_pad, divisor_override):
        win = x[:, :, rs, cs]
        if win.size:
            y[:, :, i, j] = win.sum(axis=(2, 3)) / x.dtype.type(d)
    return y


def avg_pool2d_backward(
    dy,
    input_shape,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """Each dy[.., i, j] / divisor added to every input of its window."""
    geo = pool2d_geometry(
        input_shape, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d_backward"
    )
    dx = np.zeros(input_shape, dy.dtype)
    for i, j, rs, cs, d in _avg_divisors(input_shape, geo, count_include_pad, divisor_override):
        dx[:, :, rs, cs] += (dy[:, :, i, j] / dy.dtype.type(d))[:, :, None, None]
    return dx


def _adaptive_bins(size, out):
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def adaptive_avg_pool2d_forward(x, output_size):
    """Bin i of an axis covers [floor(i*H/OH), ceil((i+1)*H/OH)); each output its bin's mean."""
    oh, ow = adaptive_size(x.shape, output_size)
    y = np.empty(x.shape[:2] + (oh, ow), x.dtype)
    for i, (r0, r1) in enumerate(_adaptive_bins(x.shape[2], oh)):
        for j, (c0, c1) in enumerate(_adaptive_bins(x.shape[3], ow)):
            y[:, :, i, j] = x[:, :, r0:r1, c0:c1].mean(axis=(2, 3))
    return y


def adaptive_avg_pool2d_backward(dy, input_shape):
    """Each dy[.., i, j] spread evenly over its bin."""
    oh, ow = dy.shape[2:]
    dx = np.zeros(input_shape, dy.dtype)
    for i, (r0, r1) in enumerate(_adaptive_bins(input_shape[2], oh)):
        for j, (c0, c1) in enumerate(_adaptive_bins(input_shape[3], ow)):
            d = dy.dtype.type((r1 - r0) * (c1 - c0))
            dx[:, :, r0:r1, c0:c1] += (dy[:, :, i, j] / d)[:, :, None, None]
    return dx
