"""Dropout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minnet.nn import functional as F
from minnet.nn.modules.module import Module

if TYPE_CHECKING:
    from minnet import Tensor

__all__ = ["Dropout", "Dropout1d", "Dropout2d"]


class Dropout(Module):
    r"""In training, zero each element with probability ``p`` and scale the others by
    :math:`1/(1-p)`; in eval mode, the identity. The mask comes from minnet's generator
    (``minnet.manual_seed``).

    Args:
        p (float): probability of an element to be zeroed. Default: 0.5.
        inplace (bool): accepted for PyTorch compatibility.

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> m = nn.Dropout(p=0.2)
        >>> y = m(minnet.randn(20, 16))
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    r"""In training, zero whole channels (each ``input[n, c, :]``) with probability ``p``
    and scale the others by :math:`1/(1-p)`; in eval mode, the identity. For the outputs of
    1-D convolutions, where neighbouring values are correlated.

    Args:
        p (float): probability of a channel to be zeroed. Default: 0.5.
        inplace (bool): accepted for PyTorch compatibility.

    Shape:
        - Input: :math:`(N, C, L)` or :math:`(C, L)`; Output: the same.

    Examples::

        >>> m = nn.Dropout1d(p=0.2)
        >>> y = m(minnet.randn(20, 16, 32))
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(Dropout):
    r"""In training, zero whole channels (each feature map ``input[n, c]``) with probability
    ``p`` and scale the others by :math:`1/(1-p)`; in eval mode, the identity.

    Args:
        p (float): probability of a channel to be zeroed. Default: 0.5.
        inplace (bool): accepted for PyTorch compatibility.

    Shape:
        - Input: :math:`(N, C, H, W)`; Output: the same. As in PyTorch, a 3-D input is
          treated as :math:`(N, C, L)` (1-D channel dropout) with a warning, and a 2-D
          :math:`(N, C)` input gets elementwise dropout with a warning (see
          :func:`minnet.nn.functional.dropout2d`).

    Examples::

        >>> m = nn.Dropout2d(p=0.2)
        >>> y = m(minnet.randn(20, 16, 32, 32))
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.dropout2d(input, self.p, self.training)
