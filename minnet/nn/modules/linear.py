"""Linear, Identity, Flatten, Unflatten."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from minnet.nn import functional as F
from minnet.nn import init
from minnet.nn.modules.module import Module
from minnet.nn.parameter import Parameter
from minnet.tensor import get_default_dtype

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from minnet import Tensor

__all__ = ["Identity", "Linear", "Flatten", "Unflatten"]


def _add_weight_and_bias(
    module: Module, weight_shape: tuple[int, ...], bias: bool, dtype: DTypeLike
) -> None:
    """Give ``module`` an uninitialised ``weight`` of ``weight_shape`` and, when ``bias``, a
    ``bias`` of ``weight_shape[0]`` (else a registered None), as Linear and the convolutions
    hold them."""
    module.weight = Parameter(np.empty(weight_shape, dtype=dtype))
    if bias:
        module.bias = Parameter(np.empty(weight_shape[0], dtype=dtype))
    else:
        module.register_parameter("bias", None)


def _default_reset(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default initialisation of Linear and the convolutions: ``kaiming_uniform_``
    with ``a=sqrt(5)``, i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the bias (if any) from
    the same U."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored).

    Shape:
        - Input: :math:`(*)`; Output: :math:`(*)`, the same.

    Examples::

        >>> nn.Identity(54, unused="x")(x) is x
        True
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:
        return input


class Linear(Module):
    r"""Affine map :math:`y = x W^T + b`.

    Args:
        in_features (int): size of each input sample.
        out_features (int): size of each output sample.
        bias (bool): learn an additive bias. Default: True.
        dtype: parameter dtype. Default: ``minnet.get_default_dtype()`` (float32).

    Shape:
        - Input: :math:`(*, H_{in})` with :math:`H_{in} = \text{in\_features}`.
        - Output: :math:`(*, H_{out})` with :math:`H_{out} = \text{out\_features}`.

    Attributes:
        weight: shape ``(out_features, in_features)``, initialised from
            :math:`U(-\sqrt{k}, \sqrt{k})`, :math:`k = 1/\text{in\_features}`
            (``kaiming_uniform_`` with ``a=sqrt(5)``).
        bias: shape ``(out_features,)``, from the same :math:`U(-\sqrt{k}, \sqrt{k})`.

    Examples::

        >>> m = nn.Linear(20, 30)
        >>> m(minnet.randn(128, 20)).shape
        (128, 30)
    """

    weight: Parameter
    bias: Parameter | None

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        dtype = dtype or get_default_dtype()
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        _add_weight_and_bias(self, (self.out_features, self.in_features), bias, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_features
        _default_reset(self.weight, self.bias)

    def forward(self, input: Tensor, activation: str | None = None) -> Tensor:
        """``F.linear(input, weight, bias)``; ``activation`` ('relu', 'sigmoid', 'tanh') is
        minnet's fused epilogue, which :class:`~minnet.nn.Sequential` uses for a Linear
        followed by a ReLU."""
        params = self._parameters  # not self.weight: Module.__getattr__ is slow
        try:
            return F.linear(input, params["weight"], params["bias"], activation=activation)
        except ValueError:
            shape = getattr(input, "shape", None)
            if shape is not None and (len(shape) < 1 or shape[-1] != self.in_features):
                raise self._layer_error(
                    f"expected input with last dimension "
                    f"{self.in_features}, got shape {tuple(shape)}"
                ) from None
            raise

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class Flatten(Module):
    """Flatten the dimensions ``start_dim`` to ``end_dim`` into one.

    Args:
        start_dim (int): first dimension to flatten. Default: 1 (keep the batch).
        end_dim (int): last dimension to flatten. Default: -1.

    Shape:
        - Input: :math:`(*, S_{start}, ..., S_{end}, *)`.
        - Output: :math:`(*, \\prod S_{start..end}, *)`.

    Examples::

        >>> nn.Flatten()(minnet.randn(32, 1, 5, 5)).shape
        (32, 25)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        return F._tensor(input, "input", "Flatten").flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dimension ``dim`` into the shape ``unflattened_size``.

    Args:
        dim (int): the dimension to unflatten.
        unflattened_size (tuple of int): its new shape (one entry may be -1).

    Shape:
        - Input: :math:`(*, S_{dim}, *)`.
        - Output: :math:`(*, U_1, ..., U_n, *)` with :math:`\\prod U_i = S_{dim}`.

    Examples::

        >>> nn.Unflatten(1, (2, 5, 5))(minnet.randn(2, 50)).shape
        (2, 2, 5, 5)
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        self.dim = int(dim)
        self.unflattened_size = tuple(int(s) for s in unflattened_size)

    def forward(self, input: Tensor) -> Tensor:
        shape = tuple(input.shape)
        if not -len(shape) <= self.dim < len(shape):
            raise self._layer_error(f"dim {self.dim} is out of range for input of shape {shape}")
        dim = self.dim % len(shape)
        sizes = self.unflattened_size
        known = int(np.prod([s for s in sizes if s != -1]))
        if (-1 in sizes and (known == 0 or shape[dim] % known)) or (
            -1 not in sizes and known != shape[dim]
        ):
            raise self._layer_error(
                f"cannot unflatten dimension {self.dim} of size "
                f"{shape[dim]} of input shape {shape} into {sizes}"
            )
        return input.reshape(shape[:dim] + sizes + shape[dim + 1 :])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
