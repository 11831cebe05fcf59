"""Adam and AdamW (decoupled weight decay), with the AMSGrad variant."""

from __future__ import annotations

from typing import Any

from minnet.optim._functional import apply_rule, check_nonneg
from minnet.optim.optimizer import Optimizer, ParamsT

__all__ = ["Adam", "AdamW"]


def _check_adam_args(
    lr: float, betas: tuple[float, float], eps: float, weight_decay: float
) -> None:
    check_nonneg(lr=lr, eps=eps, weight_decay=weight_decay)
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), PyTorch's algorithm:

    .. code-block:: text

        m_0 = 0, v_0 = 0, v_0^max = 0
        for t = 1, 2, ...:
            g_t = -grad if maximize else grad
            if weight_decay != 0:  g_t = g_t + weight_decay * theta_{t-1}
            m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
            if amsgrad:  v_t^max = max(v_{t-1}^max, v_t);  v = v_t^max   else  v = v_t
            m_hat = m_t / (1 - beta1^t);  v_hat = v / (1 - beta2^t)
            theta_t = theta_{t-1} - lr * m_hat / (sqrt(v_hat) + eps)

    (The AMSGrad maximum is taken over the raw second moments, then bias-corrected, as in
    PyTorch's implementation.)

    Args:
        params: parameters or parameter groups to optimize.
        lr (float): learning rate. Default: 1e-3.
        betas (Tuple[float, float]): decay rates of the first and second moments.
            Default: (0.9, 0.999).
        eps (float): added to the denominator for numerical stability. Default: 1e-8.
        weight_decay (float): L2 penalty added to the gradient. Default: 0.
        amsgrad (bool): use the AMSGrad variant. Default: False.
        maximize (bool): maximize the objective. Default: False.

    State per parameter: ``'step'``, ``'exp_avg'``, ``'exp_avg_sq'`` and, with amsgrad,
    ``'max_exp_avg_sq'``.

    Examples::

        >>> opt = minnet.optim.Adam(model.parameters(), lr=0.01)
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        _check_adam_args(lr, betas, eps, weight_decay)
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=tuple(betas),
                eps=eps,
                weight_decay=weight_decay,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
        )

    _decoupled = False

    def _update_group(self, group: dict[str, Any]) -> None:
        (beta1, beta2), amsgrad = group["betas"], group["amsgrad"]
        items = self._stepped(group, exp_avg=True, exp_avg_sq=True, max_exp_avg_sq=amsgrad)
        apply_rule(
            self,
            "adam_step",
            items,
            {"exp_avg": "exp_avg", "exp_avg_sq": "exp_avg_sq", "max_exp_avg_sq": "max_exp_avg_sq"},
            {"step": lambda p, state: state["step"]},
            lr=group["lr"],
            beta1=beta1,
            beta2=beta2,
            eps=group["eps"],
            weight_decay=group["weight_decay"],
            decoupled=self._decoupled,
            amsgrad=amsgrad,
            maximize=group["maximize"],
        )


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch's
    algorithm:

    .. code-block:: text

        for t = 1, 2, ...:
            g_t = -grad if maximize else grad
            theta_t = theta_{t-1} - lr * weight_decay * theta_{t-1}
            m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
            v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
            if amsgrad:  v_t^max = max(v_{t-1}^max, v_t);  v = v_t^max   else  v = v_t
            m_hat = m_t / (1 - beta1^t);  v_hat = v / (1 - beta2^t)
            theta_t = theta_t - lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        params: parameters or parameter groups to optimize.
        lr (float): learning rate. Default: 1e-3.
        betas (Tuple[float, float]): decay rates of the moments. Default: (0.9, 0.999).
        eps (float): denominator term for numerical stability. Default: 1e-8.
        weight_decay (float): decoupled weight decay coefficient. Default: 1e-2.
        amsgrad (bool): use the AMSGrad variant. Default: False.
        maximize (bool): maximize the objective. Default: False.

    Examples::

        >>> opt = minnet.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    _decoupled = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
