"""MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (PyTorch's names and arguments)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from minnet.nn import functional as F
from minnet.nn._layout import pool_hint
from minnet.nn.modules.module import Module

if TYPE_CHECKING:
    from minnet import Tensor

__all__ = ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d"]

_size_2_t = int | tuple[int, int]  # PyTorch's name: an int or an (h, w) pair


class _Pool(Module):
    def _call(self, fn: Callable[..., Any], input: Tensor, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(input, *args, **kwargs)
        except ValueError as e:
            hint = pool_hint(getattr(input, "shape", ()))
            raise self._layer_error(f"{e}; {hint}" if hint else str(e)) from None


class MaxPool2d(_Pool):
    r"""2-D max pooling over NCHW input.

    Args:
        kernel_size (int or tuple): window size.
        stride (int or tuple): Default: kernel_size.
        padding (int or tuple): implicit -inf border, at most half the kernel. Default: 0.
        dilation (int or tuple): spacing of the taps. Default: 1.
        return_indices (bool): also return the argmax (flat indices into each plane).
        ceil_mode (bool): round the output size up. Default: False.

    Shape:
        - Input: :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        - Output: :math:`(N, C, H_{out}, W_{out})`,
          :math:`H_{out} = \lfloor (H + 2p - d(k-1) - 1) / s \rfloor + 1`.

    Examples::

        >>> m = nn.MaxPool2d(2)
        >>> m(minnet.randn(128, 16, 28, 28)).shape
        (128, 16, 14, 14)
    """

    def __init__(
        self,
        kernel_size: _size_2_t,
        stride: _size_2_t | None = None,
        padding: _size_2_t = 0,
        dilation: _size_2_t = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor) -> Any:  # a Tensor, or (output, indices)
        return self._call(
            F.max_pool2d,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(_Pool):
    r"""2-D average pooling over NCHW input.

    Args:
        kernel_size (int or tuple): window size.
        stride (int or tuple): Default: kernel_size.
        padding (int or tuple): zero border, at most half the kernel. Default: 0.
        ceil_mode (bool): round the output size up. Default: False.
        count_include_pad (bool): count the padding in the divisor. Default: True.
        divisor_override (int or None): divide by this instead.

    Shape:
        - Input: :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        - Output: :math:`(N, C, H_{out}, W_{out})`.

    Examples::

        >>> nn.AvgPool2d(2)(minnet.randn(8, 3, 32, 32)).shape
        (8, 3, 16, 16)
    """

    def __init__(
        self,
        kernel_size: _size_2_t,
        stride: _size_2_t | None = None,
        padding: _size_2_t = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return self._call(
            F.avg_pool2d,
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(_Pool):
    r"""Average pooling to a fixed output size (``output_size=1``: global average pooling).

    Args:
        output_size (int or tuple): (OH, OW); None in the tuple keeps that input dimension.

    Shape:
        - Input: :math:`(N, C, H, W)` or :math:`(C, H, W)`.
        - Output: :math:`(N, C, OH, OW)`.

    Examples::

        >>> nn.AdaptiveAvgPool2d(1)(minnet.randn(8, 64, 7, 7)).shape
        (8, 64, 1, 1)
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return self._call(F.adaptive_avg_pool2d, input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
