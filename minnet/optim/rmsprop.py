"""RMSprop, optionally centered and with momentum."""

from __future__ import annotations

from typing import Any

from minnet.optim._functional import apply_rule, check_nonneg
from minnet.optim.optimizer import Optimizer, ParamsT

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop (Hinton), PyTorch's algorithm:

    .. code-block:: text

        v_0 = 0, b_0 = 0, g^ave_0 = 0
        for t = 1, 2, ...:
            g_t = -grad if maximize else grad
            if weight_decay != 0:  g_t = g_t + weight_decay * theta_{t-1}
            v_t = alpha * v_{t-1} + (1 - alpha) * g_t^2
            v~ = v_t
            if centered:
                g^ave_t = alpha * g^ave_{t-1} + (1 - alpha) * g_t
                v~ = v~ - (g^ave_t)^2
            if momentum > 0:
                b_t = momentum * b_{t-1} + g_t / (sqrt(v~) + eps)
                theta_t = theta_{t-1} - lr * b_t
            else:
                theta_t = theta_{t-1} - lr * g_t / (sqrt(v~) + eps)

    Args:
        params: parameters or parameter groups to optimize.
        lr (float): learning rate. Default: 1e-2.
        alpha (float): smoothing constant. Default: 0.99.
        eps (float): denominator term for numerical stability. Default: 1e-8.
        weight_decay (float): L2 penalty added to the gradient. Default: 0.
        momentum (float): momentum factor. Default: 0.
        centered (bool): normalize by an estimate of the gradient's variance. Default: False.
        maximize (bool): maximize the objective. Default: False.

    State per parameter: ``'step'``, ``'square_avg'``, ``'momentum_buffer'`` (momentum > 0),
    ``'grad_avg'`` (centered).

    Examples::

        >>> opt = minnet.optim.RMSprop(model.parameters(), lr=0.01, momentum=0.9)
    """

    # keras.optimizers' subclass adds eps inside the square root, as Keras does
    _eps_inside = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_nonneg(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                maximize=maximize,
            ),
        )

    def _update_group(self, group: dict[str, Any]) -> None:
        mu = group["momentum"]
        items = self._stepped(
            group, square_avg=True, momentum_buffer=mu > 0, grad_avg=group["centered"]
        )
        apply_rule(
            self,
            "rmsprop_step",
            items,
            {
                "square_avg": "square_avg",
                "momentum_buf": "momentum_buffer",
                "grad_avg": "grad_avg",
            },
            lr=group["lr"],
            alpha=group["alpha"],
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            momentum=mu,
            centered=group["centered"],
            maximize=group["maximize"],
            eps_inside=self._eps_inside,
        )
