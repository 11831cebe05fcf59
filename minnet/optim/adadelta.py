"""Adadelta."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import numpy as np

from minnet.optim._functional import check_nonneg, effective_grad, scratch
from minnet.optim.optimizer import Optimizer, ParamsT

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), PyTorch's algorithm:

    .. code-block:: text

        v_0 = 0 (square_avg), u_0 = 0 (acc_delta)
        for t = 1, 2, ...:
            g_t = -grad if maximize else grad
            if weight_decay != 0:  g_t = g_t + weight_decay * theta_{t-1}
            v_t = rho * v_{t-1} + (1 - rho) * g_t^2
            dx_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
            u_t = rho * u_{t-1} + (1 - rho) * dx_t^2
            theta_t = theta_{t-1} - lr * dx_t

    The step adapts itself (units of theta), so ``lr`` stays 1.0 in most uses; PyTorch's
    MNIST example uses ``Adadelta(model.parameters(), lr=1.0)`` with ``StepLR(gamma=0.7)``.

    Args:
        params: parameters or parameter groups to optimize.
        lr (float): scale of the delta before it is applied. Default: 1.0.
        rho (float): decay of the running averages. Default: 0.9.
        eps (float): term added inside both square roots. Default: 1e-6.
        weight_decay (float): L2 penalty added to the gradient. Default: 0.
        maximize (bool): maximize the objective. Default: False.
        foreach, capturable, differentiable: accepted for PyTorch's signature (no effect).

    State per parameter: ``'step'``, ``'square_avg'``, ``'acc_delta'``.

    Examples::

        >>> opt = minnet.optim.Adadelta(model.parameters(), lr=1.0)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_nonneg(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_nonneg(eps=eps, weight_decay=weight_decay)
        super().__init__(
            params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        )

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for p, _, state in self._stepped(group, square_avg=True, acc_delta=True):
            # not None: _stepped yields only the parameters that have a gradient
            g = cast(
                "NDArray[Any]", effective_grad(self, p, group["weight_decay"], group["maximize"])
            )
            v, u = state["square_avg"], state["acc_delta"]
            delta = scratch(self, p, "delta")
            tmp = scratch(self, p, "tmp")
            np.multiply(g, g, out=tmp)  # v = rho v + (1 - rho) g^2
            np.multiply(tmp, 1 - rho, out=tmp)
            np.multiply(v, rho, out=v)
            np.add(v, tmp, out=v)
            np.add(u, eps, out=delta)  # dx = sqrt(u + eps) / sqrt(v + eps) g
            np.sqrt(delta, out=delta)
            np.add(v, eps, out=tmp)
            np.sqrt(tmp, out=tmp)
            np.divide(delta, tmp, out=delta)
            np.multiply(delta, g, out=delta)
            np.multiply(delta, delta, out=tmp)  # u = rho u + (1 - rho) dx^2
            np.multiply(tmp, 1 - rho, out=tmp)
            np.multiply(u, rho, out=u)
            np.add(u, tmp, out=u)
            np.multiply(delta, lr, out=delta)
            np.subtract(p.data, delta, out=p.data)
