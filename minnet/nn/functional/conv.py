"""Autograd nodes and functional forms for convolution and pooling (NCHW, PyTorch's argument
names and weight layouts). Each node calls minnet.kernels (csrc/conv.c, csrc/pool.c); the
NumPy specification is minnet.reference.conv / minnet.reference.pool."""

import numpy as np

from minnet import kernels
from minnet._arena import empty as _empty
from minnet._kernels.convshape import adaptive_size, conv2d_geometry, pool2d_geometry
from minnet.autograd import Function
from minnet.nn.functional._checks import (
    _array_tensor,
    _batched,
    _floating_same,
)
from minnet.tensor import Tensor

_INT64 = np.dtype(np.int64)
_UINT8 = np.dtype(np.uint8)

__all__ = [
    "conv2d",
    "conv1d",
    "conv2d_relu_max_pool2d",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
]


class Conv2d(Function):
    """y = act(conv2d(x, W) + b) in C (implicit GEMM over padded planes, see csrc/conv.c);
    backward: dX, dW, db in one call, the relu's mask applied inside it."""

    def forward(self, x, w, b, *, shape, stride, padding, dilation, groups, activation):
        self.x, self.w = x, w
        self.args = (stride, padding, dilation, groups)
        self.has_bias = b is not None
        # outputs and gradients come from the arena: reused step to step, no fresh pages
        y = kernels.conv2d_forward(
            x,
            w,
            b,
            stride,
            padding,
            dilation,
            groups,
            activation=activation,
            out=_empty(shape, x.dtype),
        )
        self.y = y if activation == "relu" else None
        return y

    def backward(self, g):
        # relu: y > 0 exactly where the pre-activation was; the kernel masks g image by image
        return _conv_backward(self, g, relu_out=self.y)


def _conv_backward(node, g, **fused):
    """(dx, dw, db) of a conv node (x, w, args, has_bias kept by its forward) for g, the
    gradients it needs written into arena buffers; fused: relu_out= or pool_code=."""
    nx, nw, nb = node.needs_input_grad
    x, w = node.x, node.w
    return kernels.conv2d_backward(
        g,
        x,
        w,
        *node.args,
        input_grad=nx,
        weight_grad=nw,
        bias_grad=nb and node.has_bias,
        dx_out=_empty(x.shape, x.dtype) if nx else None,
        dw_out=_empty(w.shape, w.dtype) if nw else None,
        **fused,
    )


class Conv2dReluMaxPool2d(Function):
    """p = max_pool2d(relu(conv2d(x, W) + b), 2) in one kernel; the conv's output is pooled
    from cache and never stored. Backward: the pooled gradient is spread onto the window
    maxima (the relu's mask included: a window whose max is not > 0 passes nothing) image by
    image inside the conv's backward, from one byte per pooled element."""

    def forward(self, x, w, b, *, shape, stride, padding, dilation, groups):
        self.x, self.w = x, w
        self.args = (stride, padding, dilation, groups)
        self.has_bias = b is not None
        p, self.code = kernels.conv2d_relu_maxpool2d_forward(
            x, w, b, *self.args, out=_empty(shape, x.dtype), code_out=_empty(shape, _UINT8)
        )
        return p

    def backward(self, g):
        return _conv_backward(self, g, pool_code=self.code)


def _conv_args(input, weight, bias, stride, padding, dilation, groups, op):
    """(x as 4-D, weight, bias, was input unbatched, (OH, OW)), checked."""
    input = _array_tensor(input, "input", op)
    weight = _array_tensor(weight, "weight", op)
    if bias is not None:
        bias = _array_tensor(bias, "bias", op)
    _floating_same(op, input=input, weight=weight, bias=bias)
    x, unbatched = _batched(input, 4, op, "(N, C_in, H, W)")
    oh, ow = conv2d_geometry(
        x.shape, weight.shape, stride, padding, dilation, groups, op, shown_shape=input.shape
    )[:2]
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"{op}: bias must have shape ({weight.shape[0]},) for weight shape "
            f"{tuple(weight.shape)}, got {tuple(bias.shape)}"
        )
    return x, weight, bias, unbatched, (oh, ow)


def conv2d_relu_max_pool2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``F.max_pool2d(F.relu(F.conv2d(input, weight, bias, ...)), 2)`` as one node (a minnet
    extension; nn.Sequential uses it for Conv2d -> ReLU -> MaxPool2d(2)). The same values and
    gradients as the three ops; the conv's full-size output is never written to memory.

    Args: as :func:`conv2d`. The conv's output must be at least 2x2; a last odd row or column
    of it is dropped by the pool (floor mode, PyTorch's default).

    Shape:
        output (N, C_out, H_out // 2, W_out // 2), H_out, W_out the conv's output size.
    """
    op = "conv2d_relu_max_pool2d"
    x, weight, bias, unbatched, (oh, ow) = _conv_args(
        input, weight, bias, stride, padding, dilation, groups, op
    )
    if oh < 2 or ow < 2:
        raise ValueError(
            f"{op}: the 2x2 max pool needs a conv output of at least 2x2; input "
            f"{tuple(x.shape)} and weight {tuple(weight.shape)} give {oh}x{ow}"
        )
    p = Conv2dReluMaxPool2d.apply(
        x,
        weight,
        bias,
        shape=(x.shape[0], weight.shape[0], oh // 2, ow // 2),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    )
    return p.reshape(tuple(p.shape[1:])) if unbatched else p


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, activation=None):
    """2-D convolution (cross-correlation) over NCHW input, as ``torch.nn.functional.conv2d``.

    Args:
        input: (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: (C_out, C_in / groups, kH, kW).
        bias: optional (C_out,).
        stride, dilation: int or (h, w), >= 1.
        padding: int, (h, w), 'valid' (none) or 'same' (output size = input size; stride 1).
        groups: splits the channels into groups convolved separately (C_in = groups:
            depthwise).
        activation: minnet extension: None or 'relu', applied in the kernel while the output
            is in cache (one node instead of two).

    Shape:
        output (N, C_out, H_out, W_out), H_out = (H + pads - dilation*(kH-1) - 1) // stride + 1.

    Examples:
        >>> y = F.conv2d(x, w, b, padding=1)      # x (128, 1, 28, 28), w (16, 1, 3, 3)
    """
    op = "conv2d"
    x, weight, bias, unbatched, (oh, ow) = _conv_args(
        input, weight, bias, stride, padding, dilation, groups, op
    )
    if activation not in (None, "identity", "relu"):
        raise ValueError(f"{op}: activation must be None or 'relu', got {activation!r}")
    y = Conv2d.apply(
        x,
        weight,
        bias,
        shape=(x.shape[0], weight.shape[0], oh, ow),
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        activation=None if activation == "identity" else activation,
    )
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution over (N, C_in, L) as ``torch.nn.functional.conv1d``: a conv2d with
    H = 1 (same kernels, same node).

    Args:
        input: (N, C_in, L) or unbatched (C_in, L). weight: (C_out, C_in / groups, k).
        stride, dilation: int. padding: int, 'valid' or 'same'. groups: as conv2d.

    Shape:
        output (N, C_out, L_out).
    """
    op = "conv1d"
    input = _array_tensor(input, "input", op)
    weight = _array_tensor(weight, "weight", op)
    if weight.ndim != 3:
        raise ValueError(
            f"{op}: weight must be 3-D (C_out, C_in/groups, k), got shape {tuple(weight.shape)}"
        )
    x, unbatched = _batched(input, 3, op, "(N, C_in, L)")

    def one(v, name):
        if isinstance(v, (tuple, list)):
            if len(v) != 1:
                raise ValueError(f"{op}: {name} must be an int or a 1-tuple, got {v!r}")
            v = v[0]
        return v

    stride, dilation = (1, one(stride, "stride")), (1, one(dilation, "dilation"))
    padding = padding if isinstance(padding, str) else (0, one(padding, "padding"))
    n, c, length = x.shape
    y = conv2d(
        x.reshape((n, c, 1, length)),
        weight.reshape(tuple(weight.shape[:2]) + (1, weight.shape[2])),
        bias,
        stride,
        padding,
        dilation,
        groups,
    )
    y = y.reshape((n, y.shape[1], y.shape[3]))
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


# =========================================================================================
# Pooling
# =========================================================================================
class MaxPool2d(Function):
    """y = window max; backward scatters dY to the argmax (indices kept from the forward)."""

    def forward(self, x, *, shape, args, sink):
        y, idx = kernels.max_pool2d_forward(
            x,
            *args,
            out=_empty(shape, x.dtype),
            indices_out=None if sink is not None else _empty(shape, _INT64),
        )
        self.idx, self.shape = idx, x.shape
        if sink is not None:
            sink.append(idx)
        return y

    def backward(self, g):
        return kernels.max_pool2d_backward(
            g, self.idx, self.shape, out=_empty(self.shape, g.dtype)
        )


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    """2-D max pooling over NCHW input, as ``torch.nn.functional.max_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W). kernel_size: int or (h, w).
        stride: int or (h, w); default kernel_size. padding: implicit -inf border, at most
            half the kernel. dilation: spacing of the taps. ceil_mode: round the output size
            up (a last window may start in the padding on the right but not past it).
        return_indices: also return the argmax as flat indices into each (H, W) plane (int64,
            PyTorch's convention; ties go to the first tap in row-major window order).

    Shape:
        output (N, C, H_out, W_out).
    """
    op = "max_pool2d"
    input = _array_tensor(input, "input", op)
    _floating_same(op, input=input)
    x, unbatched = _batched(input, 4, op, "(N, C, H, W)")
    oh, ow = pool2d_geometry(
        x.shape, kernel_size, stride, padding, dilation, ceil_mode, op, shown_shape=input.shape
    )[:2]
    sink = [] if return_indices else None
    y = MaxPool2d.apply(
        x,
        shape=tuple(x.shape[:2]) + (oh, ow),
        args=(kernel_size, stride, padding, dilation, bool(ceil_mode)),
        sink=sink,
    )
    if unbatched:
        y = y.reshape(tuple(y.shape[1:]))
    if return_indices:
        idx = sink[0][0] if unbatched else sink[0]
        return y, Tensor(idx)
    return y


class AvgPool2d(Function):
    def forward(self, x, *, args):
        self.args, self.shape = args, x.shape
        return kernels.avg_pool2d_forward(x, *args)

    def backward(self, g):
        return kernels.avg_pool2d_backward(g, self.shape, *self.args)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    """2-D average pooling over NCHW input, as ``torch.nn.functional.avg_pool2d``.

    Args:
        input: (N, C, H, W) or (C, H, W). kernel_size, stride (default kernel_size), padding
        (zeros, at most half the kernel), ceil_mode: as max_pool2d.
        count_include_pad: the zero padding counts in the divisor. divisor_override: divide by
            this instead.

    Shape:
        output (N, C, H_out, W_out).
    """
    op = "avg_pool2d"
    input = _array_tensor(input, "input", op)
    _floating_same(op, input=input)
    x, unbatched = _batched(input, 4, op, "(N, C, H, W)")
    pool2d_geometry(
        x.shape, kernel_size, stride, padding, 1, ceil_mode, op, shown_shape=input.shape
    )
    y = AvgPool2d.apply(
        x,
        args=(
            kernel_size,
            stride,
            padding,
            bool(ceil_mode),
            bool(count_include_pad),
            divisor_override,
        ),
    )
    return y.reshape(tuple(y.shape[1:])) if unbatched else y


class AdaptiveAvgPool2d(Function):
    def forward(self, x, *, output_size):
        self.shape = x.shape
        return kernels.adaptive_avg_pool2d_forward(x, output_size)

    def backward(self, g):
        return kernels.adaptive_avg_pool2d_backward(g, self.shape)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool2d``:
    output (i, j) is the mean of rows [floor(i*H/OH), ceil((i+1)*H/OH)) and likewise columns.
    ``output_size=1`` is global average pooling; None in a pair keeps that dimension.

    Shape:
        input (N, C, H, W) or (C, H, W); output (N, C, OH, OW).
    """
    op = "adaptive_avg_pool2d"
    input = _array_tensor(input, "input", op)
    _floating_same(op, input=input)
    x, unbatched = _batched(input, 4, op, "(N, C, H, W)")
    adaptive_size(x.shape, output_size, op, shown_shape=input.shape)
    y = AdaptiveAvgPool2d.apply(x, output_size=output_size)
    return y.reshape(tuple(y.shape[1:])) if unbatched else y
