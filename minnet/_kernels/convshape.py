"""Output-size arithmetic and argument checks shared by the conv/pool kernels and their NumPy
references (pure Python, so both sides agree on every shape and every error message)."""

import numbers

__all__ = ["pair", "conv2d_geometry", "pool2d_geometry", "adaptive_size"]


def pair(v, name, op, minimum=None):
    """An int or a pair of ints as (a, b); ValueError naming op and the argument otherwise."""
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        t = (int(v), int(v))
    elif (
        isinstance(v, (tuple, list))
        and len(v) == 2
        and all(isinstance(e, numbers.Integral) and not isinstance(e, bool) for e in v)
    ):
        t = (int(v[0]), int(v[1]))
    else:
        raise ValueError(f"{op}: {name} must be an int or a pair of ints, got {v!r}")
    if minimum is not None and min(t) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {v!r}")
    return t


def _shape(x_shape, rank, what, op):
    x_shape = tuple(int(s) for s in x_shape)
    if len(x_shape) != rank:
        raise ValueError(f"{op}: {what} must be {rank}-D, got shape {x_shape}")
    return x_shape


def _shown(x_shape, shown_shape):
    """The input shape to quote in a message: the user's own, not an internal reshape of it."""
    return x_shape if shown_shape is None else tuple(int(s) for s in shown_shape)


def conv2d_geometry(
    x_shape, w_shape, stride=1, padding=0, dilation=1, groups=1, op="conv2d", shown_shape=None
):
    """Check a conv2d's arguments against x (N, C_in, H, W) and w (C_out, C_in/groups, kH, kW).

    padding: int, (ph, pw), (top, bottom, left, right), 'valid' or 'same' (stride 1 only; an
    even effective kernel puts the extra zero after, as PyTorch).
    Returns (oh, ow, (sh, sw), (pad_t, pad_b, pad_l, pad_r), (dh, dw)). shown_shape: the
    shape the caller passed (e.g. an unbatched (C, H, W)), used in the messages instead.
    """
    n, c_in, h, w = _shape(x_shape, 4, "input (N, C_in, H, W)", op)
    x_shape = _shown(x_shape, shown_shape)
    c_out, c_in_g, kh, kw = _shape(w_shape, 4, "weight (C_out, C_in/groups, kH, kW)", op)
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    groups = int(groups)
    if c_in % groups or c_out % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide both in_channels ({c_in}, input "
            f"shape {x_shape}) and out_channels ({c_out}, weight shape {w_shape})"
        )
    if c_in_g * groups != c_in:
        raise ValueError(
            f"{op}: input shape {x_shape} has {c_in} channels but weight shape "
            f"{w_shape} with groups={groups} expects {c_in_g * groups}"
        )
    if kh < 1 or kw < 1:
        raise ValueError(f"{op}: kernel size must be positive, got weight shape {w_shape}")
    sh, sw = pair(stride, "stride", op, minimum=1)
    dh, dw = pair(dilation, "dilation", op, minimum=1)
    ekh, ekw = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0, 0)
        elif padding == "same":
            if (sh, sw) != (1, 1):
                raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride!r}")
            pads = (
                (ekh - 1) // 2,
                ekh - 1 - (ekh - 1) // 2,
                (ekw - 1) // 2,
                ekw - 1 - (ekw - 1) // 2,
            )
        else:
            raise ValueError(
                f"{op}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
            )
    elif isinstance(padding, (tuple, list)) and len(padding) == 4:
        if not all(isinstance(p, numbers.Integral) and p >= 0 for p in padding):
            raise ValueError(f"{op}: padding must be non-negative ints, got {padding!r}")
        pads = tuple(int(p) for p in padding)
    else:
        ph, pw = pair(padding, "padding", op, minimum=0)
        pads = (ph, ph, pw, pw)
    hp, wp = h + pads[0] + pads[1], w + pads[2] + pads[3]
    if ekh > hp or ekw > wp:
        raise ValueError(
            f"{op}: kernel size ({kh}, {kw}) with dilation ({dh}, {dw}) is "
            f"({ekh}, {ekw}), larger than the padded input ({hp}, {wp}) "
            f"(input shape {x_shape}, padding {padding!r})"
        )
    oh, ow = (hp - ekh) // sh + 1, (wp - ekw) // sw + 1
    return oh, ow, (sh, sw), pads, (dh, dw)


def _pool_out(size, k, pad, stride, dil, ceil_mode):
    """PyTorch's pooling_output_shape."""
    num = size + 2 * pad - dil * (k - 1) - 1 + (stride - 1 if ceil_mode else 0)
    out = num // stride + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def pool2d_geometry(
    x_shape,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode=False,
    op="max_pool2d",
    shown_shape=None,
):
    """Check a pooling's arguments against x (N, C, H, W).

    Returns (oh, ow, (kh, kw), (sh, sw), (ph, pw), (dh, dw)); stride None means kernel_size.
    """
    n, c, h, w = _shape(x_shape, 4, "input (N, C, H, W)", op)
    x_shape = _shown(x_shape, shown_shape)
    kh, kw = pair(kernel_size, "kernel_size", op, minimum=1)
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        sh, sw = kh, kw
    else:
        sh, sw = pair(stride, "stride", op, minimum=1)
    ph, pw = pair(padding, "padding", op, minimum=0)
    dh, dw = pair(dilation, "dilation", op, minimum=1)
    if 2 * ph > kh or 2 * pw > kw:
        raise ValueError(
            f"{op}: padding ({ph}, {pw}) must be at most half of kernel_size ({kh}, {kw})"
        )
    oh = _pool_out(h, kh, ph, sh, dh, ceil_mode)
    ow = _pool_out(w, kw, pw, sw, dw, ceil_mode)
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{op}: output size ({oh}, {ow}) is too small for input shape "
            f"{x_shape} with kernel_size ({kh}, {kw}), stride ({sh}, {sw}), "
            f"padding ({ph}, {pw}), dilation ({dh}, {dw})"
        )
    return oh, ow, (kh, kw), (sh, sw), (ph, pw), (dh, dw)


def adaptive_size(x_shape, output_size, op="adaptive_avg_pool2d", shown_shape=None):
    """(oh, ow) for adaptive pooling of x (N, C, H, W); None in output_size keeps that dim."""
    n, c, h, w = _shape(x_shape, 4, "input (N, C, H, W)", op)
    x_shape = _shown(x_shape, shown_shape)
    if isinstance(output_size, (tuple, list)) and len(output_size) == 2:
        oh = h if output_size[0] is None else output_size[0]
        ow = w if output_size[1] is None else output_size[1]
        oh, ow = pair((oh, ow), "output_size", op, minimum=1)
    else:
        oh, ow = pair(output_size, "output_size", op, minimum=1)
    if h < 1 or w < 1:
        raise ValueError(f"{op}: input shape {x_shape} has an empty plane")
    return oh, ow
