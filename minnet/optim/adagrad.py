"""Adagrad with learning-rate decay."""

from __future__ import annotations

from typing import Any

import numpy as np

from minnet.optim._functional import apply_rule, check_nonneg
from minnet.optim.optimizer import Optimizer, ParamsT

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), PyTorch's algorithm:

    .. code-block:: text

        state_sum_0 = initial_accumulator_value
        for t = 1, 2, ...:
            g_t = -grad if maximize else grad
            lr~ = lr / (1 + (t - 1) * lr_decay)
            if weight_decay != 0:  g_t = g_t + weight_decay * theta_{t-1}
            state_sum_t = state_sum_{t-1} + g_t^2
            theta_t = theta_{t-1} - lr~ * g_t / (sqrt(state_sum_t) + eps)

    Args:
        params: parameters or parameter groups to optimize.
        lr (float): learning rate. Default: 1e-2.
        lr_decay (float): learning-rate decay. Default: 0.
        weight_decay (float): L2 penalty added to the gradient. Default: 0.
        initial_accumulator_value (float): starting value of the sum of squares. Default: 0.
        eps (float): denominator term for numerical stability. Default: 1e-10.
        maximize (bool): maximize the objective. Default: False.

    State per parameter: ``'step'`` and ``'sum'``.

    Examples::

        >>> opt = minnet.optim.Adagrad(model.parameters(), lr=0.1)
    """

    # keras.optimizers' subclass adds eps inside the square root, as Keras does
    _eps_inside = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_nonneg(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
        super().__init__(
            params,
            dict(
                lr=lr,
                lr_decay=lr_decay,
                weight_decay=weight_decay,
                initial_accumulator_value=initial_accumulator_value,
                eps=eps,
                maximize=maximize,
            ),
        )

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:  # PyTorch creates the accumulator up front
            self.state[p] = {
                "step": 0,
                "sum": np.full_like(p.data, group["initial_accumulator_value"]),
            }

    def _update_group(self, group: dict[str, Any]) -> None:
        items = []
        for p, raw, state in self._stepped(group):
            if "sum" not in state:  # a state cleared or loaded without it
                state["sum"] = np.full_like(p.data, group["initial_accumulator_value"])
            items.append((p, raw, state))
        apply_rule(
            self,
            "adagrad_step",
            items,
            {"state_sum": "sum"},
            {"step": lambda p, state: state["step"]},
            lr=group["lr"],
            lr_decay=group["lr_decay"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=group["maximize"],
            eps_inside=self._eps_inside,
        )
