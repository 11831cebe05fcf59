"""Loss modules: each holds its options and calls its nn.functional form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from minnet.nn import functional as F
from minnet.nn.modules.module import Module

if TYPE_CHECKING:
    from minnet import Tensor

__all__ = [
    "MSELoss",
    "L1Loss",
    "HuberLoss",
    "SmoothL1Loss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "KLDivLoss",
]

_REDUCTIONS = ("none", "mean", "sum")


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: reduction must be one of {_REDUCTIONS}, got {reduction!r}"
            )
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    r"""Mean squared error, :math:`\ell_n = (x_n - y_n)^2`, reduced by ``reduction``.

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - Input: :math:`(*)`; Target: :math:`(*)`, the same shape.
        - Output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples::

        >>> loss = nn.MSELoss()(minnet.randn(3, 5, requires_grad=True), minnet.randn(3, 5))
        >>> loss.backward()
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    r"""Mean absolute error, :math:`\ell_n = |x_n - y_n|`.

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - Input: :math:`(*)`; Target: :math:`(*)`, the same shape.
        - Output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples::

        >>> loss = nn.L1Loss()(input, target)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    r"""Huber loss: :math:`0.5 (x-y)^2` where :math:`|x-y| < \delta`, else
    :math:`\delta (|x-y| - 0.5\delta)`.

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        delta (float): the threshold between the quadratic and linear parts. Default: 1.0.

    Shape:
        - Input: :math:`(*)`; Target: :math:`(*)`, the same shape.
        - Output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples::

        >>> loss = nn.HuberLoss(delta=0.5)(input, target)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class SmoothL1Loss(_Loss):
    r"""Smooth L1: :math:`0.5 (x-y)^2 / \beta` where :math:`|x-y| < \beta`, else
    :math:`|x-y| - 0.5\beta` (Huber divided by ``beta``).

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        beta (float): the threshold. Default: 1.0.

    Shape:
        - Input: :math:`(*)`; Target: :math:`(*)`, the same shape.
        - Output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples::

        >>> loss = nn.SmoothL1Loss(beta=0.5)(input, target)
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class BCELoss(_WeightedLoss):
    r"""Binary cross entropy of probabilities:
    :math:`\ell_n = -w_n [y_n \log x_n + (1 - y_n) \log(1 - x_n)]` (logs clamped at -100).

    Args:
        weight (Tensor, optional): rescaling weight, broadcast against the input.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - Input: :math:`(*)` in [0, 1]; Target: :math:`(*)`, the same shape.
        - Output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples::

        >>> loss = nn.BCELoss()(nn.Sigmoid()(logits), target)
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    r"""Sigmoid plus binary cross entropy in one stable step:
    :math:`\ell_n = -w_n [p\, y_n \log\sigma(x_n) + (1 - y_n) \log(1 - \sigma(x_n))]`.

    Args:
        weight (Tensor, optional): rescaling weight, broadcast against the input.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.
        pos_weight (Tensor, optional): weight :math:`p` of positive examples, one per
            class (broadcast along the last dimension).

    Shape:
        - Input: :math:`(*)` logits; Target: :math:`(*)`, the same shape.
        - Output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples::

        >>> loss = nn.BCEWithLogitsLoss(pos_weight=minnet.ones(64) * 3)(logits, target)
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        reduction: str = "mean",
        pos_weight: Tensor | None = None,
    ) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight
        )


class CrossEntropyLoss(_WeightedLoss):
    r"""Cross entropy between logits and class indices (or class probabilities):
    ``log_softmax`` over the class dimension, then the negative log likelihood.

    Args:
        weight (Tensor, optional): a weight per class, shape :math:`(C,)`.
        ignore_index (int): a target value that contributes nothing (class indices only).
            Default: -100.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``; the mean
            is weighted by the targets' class weights.
        label_smoothing (float): in [0, 1]; mixes the target with the uniform distribution.
            Default: 0.0.

    Shape:
        - Input: :math:`(N, C)`, :math:`(C,)` or :math:`(N, C, d_1, ...)` logits.
        - Target: :math:`(N)` / :math:`()` / :math:`(N, d_1, ...)` int64 class indices in
          :math:`[0, C)`, or class probabilities of the input's shape.
        - Output: scalar, or the target's batch shape with ``reduction='none'``.

    Examples::

        >>> loss = nn.CrossEntropyLoss()(minnet.randn(3, 5, requires_grad=True),
        ...                              minnet.tensor([1, 0, 4]))
    """

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(
                f"CrossEntropyLoss: label_smoothing must be in [0, 1], got {label_smoothing}"
            )
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
            label_smoothing=self.label_smoothing,
        )


class NLLLoss(_WeightedLoss):
    r"""Negative log likelihood of log-probabilities:
    :math:`\ell_n = -w_{y_n} x_{n, y_n}`.

    Args:
        weight (Tensor, optional): a weight per class, shape :math:`(C,)`.
        ignore_index (int): a target value that contributes nothing. Default: -100.
        reduction (str): ``'none'`` | ``'mean'`` | ``'sum'``. Default: ``'mean'``.

    Shape:
        - Input: :math:`(N, C)` or :math:`(N, C, d_1, ...)` log-probabilities.
        - Target: :math:`(N)` or :math:`(N, d_1, ...)` class indices.
        - Output: scalar, or the target's shape with ``reduction='none'``.

    Examples::

        >>> loss = nn.NLLLoss()(nn.LogSoftmax(dim=1)(logits), target)
    """

    def __init__(
        self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
    ) -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.nll_loss(
            input,
            target,
            weight=self.weight,
            ignore_index=self.ignore_index,
            reduction=self.reduction,
        )


class KLDivLoss(_Loss):
    r"""Kullback-Leibler divergence with the input given as log-probabilities:
    :math:`\ell = y (\log y - x)` (or :math:`e^{y} (y - x)` with ``log_target``).

    Args:
        reduction (str): ``'none'`` | ``'mean'`` | ``'batchmean'`` | ``'sum'``. Default:
            ``'mean'``; ``'batchmean'`` (sum divided by the batch size) is the KL divergence.
        log_target (bool): the target is given as log-probabilities too. Default: False.

    Shape:
        - Input: :math:`(*)`; Target: :math:`(*)`, the same shape.
        - Output: scalar, or :math:`(*)` with ``reduction='none'``.

    Examples::

        >>> kl = nn.KLDivLoss(reduction="batchmean")
        >>> loss = kl(F.log_softmax(logits, dim=1), target_probs)
    """

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        Module.__init__(self)
        if reduction not in _REDUCTIONS + ("batchmean",):
            raise ValueError(
                f"KLDivLoss: reduction must be one of 'none', 'mean', "
                f"'batchmean', 'sum', got {reduction!r}"
            )
        self.reduction = reduction
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
