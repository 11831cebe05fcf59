"""Parameter: a Tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from minnet.tensor import Tensor, get_default_dtype

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A Tensor that requires grad by default and, assigned as an attribute of a
    :class:`~minnet.nn.Module`, appears in its ``parameters()`` and ``state_dict()``.

    Args:
        data (array-like or Tensor): the initial value; a NumPy array or a Tensor's data is
            used without a copy. Default: an empty tensor of the default dtype.
        requires_grad (bool): Default: True.

    Examples::

        >>> w = nn.Parameter(np.zeros((3, 2), dtype=np.float32))
        >>> w.requires_grad
        True
    """

    def __init__(self, data: ArrayLike | Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=get_default_dtype())
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
