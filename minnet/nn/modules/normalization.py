"""BatchNorm1d, BatchNorm2d and LayerNorm."""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from minnet.nn import functional as F
from minnet.nn import init
from minnet.nn._layout import channel_hint
from minnet.nn.modules.module import Module
from minnet.nn.parameter import Parameter
from minnet.tensor import get_default_dtype

if TYPE_CHECKING:
    from numpy.typing import DTypeLike

    from minnet import Tensor

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class BatchNorm1d(Module):
    r"""Batch normalisation over a 2-D or 3-D input (Ioffe & Szegedy, 2015):

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \gamma + \beta

    In training the mean and (biased) variance are those of the batch, per channel (over
    N, or N and L); the running statistics are updated as
    ``running = (1 - momentum) * running + momentum * batch_stat``, with the *unbiased*
    batch variance for ``running_var``, and ``num_batches_tracked`` counts the batches. In
    eval mode the running statistics normalise. With ``momentum=None`` the running
    statistics are a cumulative average (factor ``1 / num_batches_tracked``).

    Args:
        num_features (int): number of channels C.
        eps (float): added to the variance. Default: 1e-5.
        momentum (float or None): weight of the new batch in the running statistics.
            Default: 0.1.
        affine (bool): learn the per-channel scale ``weight`` (ones) and shift ``bias``
            (zeros). Default: True.
        track_running_stats (bool): keep running statistics (buffers ``running_mean``
            (zeros), ``running_var`` (ones), ``num_batches_tracked``); without them batch
            statistics are used in eval mode too. Default: True.
        dtype: parameter and buffer dtype. Default: the default dtype.

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, L)`.
        - Output: the same shape as the input.

    Examples::

        >>> m = nn.BatchNorm1d(100)
        >>> y = m(minnet.randn(20, 100))
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        dtype = dtype or get_default_dtype()
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(np.empty(self.num_features, dtype=dtype))
            self.bias = Parameter(np.empty(self.num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(self.num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(self.num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            init.zeros_(self.bias)

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in (2, 3) or input.shape[1] != self.num_features:
            raise self._layer_error(
                f"expected input of shape (N, {self.num_features}) or "
                f"(N, {self.num_features}, L), got shape "
                f"{tuple(input.shape)}"
            )

    def forward(self, input: Tensor) -> Tensor:
        input = F._tensor(input, "input", type(self).__name__)
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked.data)
        use_batch_stats = self.training or self.running_mean is None
        track = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if track else None,
            self.running_var if track else None,
            self.weight,
            self.bias,
            use_batch_stats,
            factor,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm2d(BatchNorm1d):
    r"""Batch normalisation of NCHW images, per channel over (N, H, W); otherwise exactly
    :class:`BatchNorm1d` (same arguments, parameters, buffers and state_dict keys as
    PyTorch's ``BatchNorm2d``).

    Shape:
        - Input: :math:`(N, C, H, W)`.
        - Output: the same shape as the input.

    Examples::

        >>> m = nn.BatchNorm2d(16)
        >>> y = m(minnet.randn(8, 16, 28, 28))
    """

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim != 4 or input.shape[1] != self.num_features:
            msg = (
                f"expected input of shape (N, {self.num_features}, H, W), got shape "
                f"{tuple(input.shape)}"
            )
            hint = channel_hint(input.shape, self.num_features) if input.ndim == 4 else None
            if input.ndim == 3 and input.shape[0] == self.num_features:
                hint = "a batch is needed: for one image (C, H, W) pass x.unsqueeze(0)"
            raise self._layer_error(f"{msg}; {hint}" if hint else msg)


class LayerNorm(Module):
    r"""Layer normalisation (Ba et al., 2016) over the last ``len(normalized_shape)``
    dimensions:

    .. math:: y = \frac{x - \mathrm{E}[x]}{\sqrt{\mathrm{Var}[x] + \epsilon}} \gamma + \beta

    with the biased variance, the same in training and evaluation.

    Args:
        normalized_shape (int or tuple): the trailing shape to normalise over.
        eps (float): added to the variance. Default: 1e-5.
        elementwise_affine (bool): learn ``weight`` (ones) and ``bias`` (zeros) of shape
            ``normalized_shape``. Default: True.
        bias (bool): learn the bias too (with ``elementwise_affine``). Default: True.
        dtype: parameter dtype. Default: the default dtype.

    Shape:
        - Input: :math:`(N, *)` ending in ``normalized_shape``.
        - Output: the same shape as the input.

    Examples::

        >>> m = nn.LayerNorm(10)
        >>> y = m(minnet.randn(20, 5, 10))
    """

    bias: Parameter | None

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        dtype = dtype or get_default_dtype()
        shape: Any = normalized_shape  # mypy does not count int as a numbers.Integral
        if isinstance(shape, numbers.Integral):
            shape = (shape,)
        self.normalized_shape = tuple(int(s) for s in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.empty(self.normalized_shape, dtype=dtype))
            if bias:
                self.bias = Parameter(np.empty(self.normalized_shape, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:
        k = len(self.normalized_shape)
        if input.ndim < k or tuple(input.shape[input.ndim - k :]) != self.normalized_shape:
            raise self._layer_error(
                f"expected input ending in shape {self.normalized_shape}, "
                f"got shape {tuple(input.shape)}"
            )
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}"
        )
