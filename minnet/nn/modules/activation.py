"""Activation modules: each forward is one call of its nn.functional form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minnet.nn import functional as F
from minnet.nn.modules.module import Module

if TYPE_CHECKING:
    from minnet import Tensor

__all__ = ["ReLU", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"]


class ReLU(Module):
    r"""Rectified linear unit, :math:`\max(0, x)`, elementwise.

    Args:
        inplace (bool): accepted for PyTorch compatibility; minnet never works in place.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.ReLU()(minnet.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    r""":math:`x` for :math:`x \ge 0`, ``negative_slope`` :math:`\cdot x` otherwise.

    Args:
        negative_slope (float): slope for negative inputs. Default: 1e-2.
        inplace (bool): accepted for PyTorch compatibility.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.LeakyReLU(0.1)(minnet.tensor([-1.0, 2.0]))
        tensor([-0.1000,  2.0000])
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    r""":math:`x` for :math:`x > 0`, :math:`\alpha (e^x - 1)` otherwise.

    Args:
        alpha (float): Default: 1.0.
        inplace (bool): accepted for PyTorch compatibility.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.ELU()(minnet.randn(2))
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.elu(input, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class GELU(Module):
    r"""Gaussian error linear unit, :math:`x \Phi(x)`; with ``approximate='tanh'``,
    :math:`0.5 x (1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))`.

    Args:
        approximate (str): ``'none'`` or ``'tanh'``. Default: ``'none'``.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.GELU()(minnet.randn(2))
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate='{self.approximate}'"


class Sigmoid(Module):
    r"""Logistic sigmoid, :math:`1 / (1 + e^{-x})`.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.Sigmoid()(minnet.randn(2))
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    r"""Hyperbolic tangent, elementwise.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.Tanh()(minnet.randn(2))
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Softmax(Module):
    r"""Softmax along ``dim``: :math:`e^{x_i} / \sum_j e^{x_j}`.

    Args:
        dim (int): the dimension along which the outputs sum to 1.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.Softmax(dim=1)(minnet.randn(2, 3)).sum(1)
        tensor([1., 1.])
    """

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.softmax(input, self._dim(input))

    def _dim(self, input: Tensor) -> int:
        if self.dim is not None:
            return self.dim
        return 0 if input.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    r"""Log of the softmax along ``dim``, computed stably: :math:`x_i - \log\sum_j e^{x_j}`.

    Args:
        dim (int): the dimension along which to normalise.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.LogSoftmax(dim=1)(minnet.randn(2, 3))
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.log_softmax(input, self._dim(input))
