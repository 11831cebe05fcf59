"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from minnet.optim._functional import apply_rule, check_nonneg
from minnet.optim.optimizer import Optimizer, ParamsT

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), PyTorch's algorithm:

    .. code-block:: text

        for t = 1, 2, ...:
            g_t = -grad if maximize else grad
            if weight_decay != 0:  g_t = g_t + weight_decay * theta_{t-1}
            if momentum != 0:
                b_t = g_t                                  if t == 1
                b_t = momentum * b_{t-1} + (1 - dampening) * g_t   otherwise
                g_t = g_t + momentum * b_t   if nesterov   else   b_t
            theta_t = theta_{t-1} - lr * g_t

    Args:
        params: parameters or parameter groups to optimize.
        lr (float): learning rate. Default: 1e-3.
        momentum (float): momentum factor. Default: 0.
        dampening (float): dampening of the momentum. Default: 0.
        weight_decay (float): L2 penalty added to the gradient. Default: 0.
        nesterov (bool): Nesterov momentum (needs momentum > 0, dampening 0). Default: False.
        maximize (bool): maximize the objective instead of minimizing. Default: False.

    State per parameter: ``'momentum_buffer'`` (when momentum != 0) and ``'step'``.

    Examples::

        >>> opt = minnet.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        >>> opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_nonneg(lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                weight_decay=weight_decay,
                nesterov=nesterov,
                maximize=maximize,
            ),
        )

    def _update_group(self, group: dict[str, Any]) -> None:
        mu = group["momentum"]
        items, first = [], set()
        for p, raw, state in self._stepped(group):
            if mu != 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = np.empty_like(p.data)
                first.add(id(p))
            items.append((p, raw, state))
        apply_rule(
            self,
            "sgd_step",
            items,
            {"momentum_buf": "momentum_buffer"},
            {"first_step": lambda p, state: id(p) in first},
            lr=group["lr"],
            momentum=mu,
            dampening=group["dampening"],
            nesterov=group["nesterov"],
            weight_decay=group["weight_decay"],
            maximize=group["maximize"],
        )
