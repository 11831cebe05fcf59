"""Embedding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from minnet.nn import functional as F
from minnet.nn import init
from minnet.nn.modules.module import Module
from minnet.nn.parameter import Parameter
from minnet.tensor import get_default_dtype

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike

    from minnet import Tensor

__all__ = ["Embedding"]


class Embedding(Module):
    r"""A lookup table: row ``i`` of ``weight`` is the embedding of index ``i``.

    Args:
        num_embeddings (int): size of the table.
        embedding_dim (int): size of each embedding vector.
        padding_idx (int, optional): this row is initialised to zeros and gets no gradient.
        _weight (array, optional): an initial table of shape
            ``(num_embeddings, embedding_dim)``.
        dtype: parameter dtype. Default: the default dtype.

    Shape:
        - Input: :math:`(*)`, integer indices in ``[0, num_embeddings)``.
        - Output: :math:`(*, H)` with :math:`H = \text{embedding\_dim}`.

    Attributes:
        weight: shape ``(num_embeddings, embedding_dim)``, initialised from :math:`N(0, 1)`.

    Examples::

        >>> emb = nn.Embedding(10, 3)
        >>> emb(minnet.tensor([[1, 2, 4, 5], [4, 3, 2, 9]])).shape
        (2, 4, 3)
    """

    weight: Parameter

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        _weight: Tensor | ArrayLike | None = None,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        dtype = dtype or get_default_dtype()
        self.num_embeddings = int(num_embeddings)
        self.embedding_dim = int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(
                    f"Embedding: padding_idx {padding_idx} must be within "
                    f"num_embeddings ({self.num_embeddings})"
                )
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(
                np.empty((self.num_embeddings, self.embedding_dim), dtype=dtype)
            )
            self.reset_parameters()
        else:
            w = np.asarray(getattr(_weight, "data", _weight))
            if w.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(
                    f"Embedding: _weight has shape {w.shape}, expected "
                    f"{(self.num_embeddings, self.embedding_dim)}"
                )
            self.weight = Parameter(w)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input: Tensor | ArrayLike) -> Tensor:
        idx = (
            input.data
            if hasattr(input, "data") and not isinstance(input, np.ndarray)
            else np.asarray(input)
        )
        if idx.dtype.kind not in "iu":
            raise self._layer_error(f"expected integer indices, got dtype {idx.dtype}")
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            raise self._layer_error(
                f"index out of range: indices must be in "
                f"[0, {self.num_embeddings}), got values in "
                f"[{idx.min()}, {idx.max()}]"
            )
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        return s + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
