"""Dropout."""
from minnet.nn import functional as F
from minnet.nn.modules.module import Module

__all__ = ["Dropout"]


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

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
