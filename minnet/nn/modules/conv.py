"""Conv1d and Conv2d (PyTorch's names, weight layouts and default initialisation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minnet.nn import functional as F
from minnet.nn._layout import channel_hint
from minnet.nn.modules.linear import _add_weight_and_bias, _default_reset
from minnet.nn.modules.module import Module
from minnet.tensor import get_default_dtype

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from minnet import Tensor
    from minnet.nn.parameter import Parameter

__all__ = ["Conv1d", "Conv2d"]

# F.conv1d/conv2d positional arguments: input, weight, bias, stride, padding (a tuple or
# "same"/"valid"), dilation, groups
_ConvArgs = tuple["Tensor", "Parameter", "Parameter | None", tuple, "tuple | str", tuple, int]

_IntOrTuple = int | tuple[int, ...] | list[int]  # an int, or one per spatial dimension


def _tuple(v: _IntOrTuple, n: int, name: str, layer: str) -> tuple[int, ...]:
    if isinstance(v, (tuple, list)):
        if len(v) != n:
            raise ValueError(f"{layer}: {name} must be an int or a {n}-tuple, got {v!r}")
        return tuple(int(e) for e in v)
    return (int(v),) * n


class _ConvNd(Module):
    _dims = 2
    weight: Parameter
    bias: Parameter | None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _IntOrTuple,
        stride: _IntOrTuple = 1,
        padding: str | _IntOrTuple = 0,
        dilation: _IntOrTuple = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        n = self._dims
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _tuple(kernel_size, n, "kernel_size", layer)
        self.stride = _tuple(stride, n, "stride", layer)
        self.padding = (
            padding if isinstance(padding, str) else _tuple(padding, n, "padding", layer)
        )
        self.dilation = _tuple(dilation, n, "dilation", layer)
        self.groups = int(groups)
        self.padding_mode = padding_mode
        if self.groups < 1 or self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(
                f"{layer}: groups={groups} must be positive and divide "
                f"in_channels={in_channels} and out_channels={out_channels}"
            )
        if min(self.kernel_size) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            raise ValueError(
                f"{layer}: kernel_size {self.kernel_size}, stride {self.stride} "
                f"and dilation {self.dilation} must be positive"
            )
        if isinstance(self.padding, str):
            if self.padding not in ("same", "valid"):
                raise ValueError(
                    f"{layer}: padding must be an int, a tuple, 'same' or 'valid', got {padding!r}"
                )
            if self.padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(
                    f"{layer}: padding='same' needs stride 1, got stride {self.stride}"
                )
        elif min(self.padding) < 0:
            raise ValueError(f"{layer}: padding must be non-negative, got {self.padding}")
        if padding_mode != "zeros":
            raise ValueError(
                f"{layer}: only padding_mode='zeros' is supported, got {padding_mode!r}"
            )
        dtype = dtype or get_default_dtype()
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        _add_weight_and_bias(self, shape, bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = C_in/groups * prod(k)
        _default_reset(self.weight, self.bias)

    def _conv_args(self, input: Tensor) -> _ConvArgs:
        """The positional arguments of F.conv1d/conv2d for this layer."""
        return (
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self.dilation,
            self.groups,
        )

    def extra_repr(self) -> str:
        s = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self._dims:
            s += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._dims:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv2d(_ConvNd):
    r"""2-D convolution over NCHW images (cross-correlation, as PyTorch):

    .. math:: y[n, o] = b[o] + \sum_{c} W[o, c] \star x[n, c]

    Args:
        in_channels (int): C_in.
        out_channels (int): C_out.
        kernel_size (int or tuple): (kH, kW).
        stride (int or tuple): Default: 1.
        padding (int, tuple, 'same' or 'valid'): zeros around the input. Default: 0.
        dilation (int or tuple): spacing of the kernel taps. Default: 1.
        groups (int): channel groups convolved separately (groups = C_in: depthwise).
            Default: 1.
        bias (bool): learn a per-channel bias. Default: True.
        padding_mode (str): only 'zeros'.
        dtype: parameter dtype. Default: the default dtype.

    Shape:
        - Input: :math:`(N, C_{in}, H, W)` or :math:`(C_{in}, H, W)`.
        - Output: :math:`(N, C_{out}, H_{out}, W_{out})`, with
          :math:`H_{out} = \lfloor (H + 2p - d(k - 1) - 1) / s \rfloor + 1`.

    Attributes:
        weight: ``(out_channels, in_channels / groups, kH, kW)`` from
            :math:`U(-\sqrt{k}, \sqrt{k})`, :math:`k = groups / (C_{in} kH kW)`.
        bias: ``(out_channels,)``, the same distribution.

    Examples::

        >>> m = nn.Conv2d(1, 16, 3, padding=1)
        >>> m(minnet.randn(128, 1, 28, 28)).shape
        (128, 16, 28, 28)
    """

    def _check_layout(self, input: Tensor) -> None:
        shape = getattr(input, "shape", None)
        if shape is not None and len(shape) in (3, 4):
            hint = channel_hint(shape, self.in_channels)
            if hint is not None:
                raise self._layer_error(hint)

    def forward(
        self, input: Tensor, activation: str | None = None, max_pool: int | None = None
    ) -> Tensor:
        """``F.conv2d`` with this layer's parameters; ``activation='relu'`` applies a ReLU in
        the kernel (nn.Sequential does so for a Conv2d followed by a ReLU), and with it
        ``max_pool=2`` a 2x2 max pooling as well (``F.conv2d_relu_max_pool2d``; Sequential's
        Conv2d -> ReLU -> MaxPool2d(2))."""
        self._check_layout(input)
        try:
            if max_pool is not None:
                if max_pool != 2 or activation != "relu":
                    raise ValueError(
                        f"max_pool must be None or 2 (with activation='relu'), "
                        f"got {max_pool!r} with activation {activation!r}"
                    )
                return F.conv2d_relu_max_pool2d(*self._conv_args(input))
            return F.conv2d(*self._conv_args(input), activation=activation)
        except ValueError as e:
            shape = getattr(input, "shape", ())
            hint = channel_hint(shape, self.in_channels) if len(shape) == 2 else None
            raise self._layer_error(f"{e}; {hint}" if hint else str(e)) from None


class Conv1d(_ConvNd):
    r"""1-D convolution over (N, C, L) sequences (the conv2d kernels with H = 1).

    Args:
        as :class:`Conv2d`, with ints (or 1-tuples) for kernel_size, stride, padding,
        dilation.

    Shape:
        - Input: :math:`(N, C_{in}, L)` or :math:`(C_{in}, L)`.
        - Output: :math:`(N, C_{out}, L_{out})`.

    Attributes:
        weight: ``(out_channels, in_channels / groups, k)``; bias ``(out_channels,)``.

    Examples::

        >>> m = nn.Conv1d(16, 33, 3, stride=2)
        >>> m(minnet.randn(20, 16, 50)).shape
        (20, 33, 24)
    """

    _dims = 1

    def forward(self, input: Tensor) -> Tensor:
        try:
            return F.conv1d(*self._conv_args(input))
        except ValueError as e:
            raise self._layer_error(str(e)) from None
