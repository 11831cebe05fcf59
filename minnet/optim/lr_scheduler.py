"""Learning-rate schedulers with PyTorch's semantics.

A scheduler is created after its optimizer; creating it records each group's
``'initial_lr'`` and takes step 0 (the initial step: the lr stays the base lr, or, for the
warm-up schedulers, becomes its first value). Call ``scheduler.step()`` once per epoch (per
batch for OneCycleLR and CyclicLR) after ``optimizer.step()``. The epoch-based schedulers use
PyTorch's chainable (recursive) forms, so several schedulers may act on one optimizer
(ChainedScheduler), and have PyTorch's closed forms (``_get_closed_form_lr``) for
``step(epoch)`` and for SequentialLR's switch to the next scheduler.
"""

from __future__ import annotations

import bisect
import math
import warnings
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence, SupportsFloat, cast

if TYPE_CHECKING:
    from minnet.optim.optimizer import Optimizer

# an lr_lambda: the epoch to a factor of the initial lr
_Lambda = Callable[[int], float]

__all__ = [
    "LRScheduler",
    "StepLR",
    "MultiStepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LambdaLR",
    "MultiplicativeLR",
    "ConstantLR",
    "LinearLR",
    "PolynomialLR",
    "SequentialLR",
    "ChainedScheduler",
    "CyclicLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "ReduceLROnPlateau",
]


class _Stateful:
    """state_dict / load_state_dict / get_last_lr shared by all schedulers."""

    _not_saved: tuple[str, ...] = ("optimizer",)
    _last_lr: list[float]

    def get_last_lr(self) -> list[float]:
        """The learning rates computed by the last call to :meth:`step`, one per group."""
        return list(self._last_lr)

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (and, for LambdaLR, the functions)."""
        return {k: v for k, v in self.__dict__.items() if k not in self._not_saved}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore the attributes saved by :meth:`state_dict`."""
        for k, v in state_dict.items():
            if isinstance(v, tuple):  # lists come back as lists, but be lenient
                v = list(v)
            self.__dict__[k] = v


class LRScheduler(_Stateful):
    """Base class: ``last_epoch``, ``base_lrs``, ``step()``, ``get_last_lr()``, state_dict.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        last_epoch (int): index of the last epoch, -1 to start afresh. Default: -1.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] "
                        "when resuming an optimizer"
                    )
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Take step 0; ``get_lr`` sees ``self._is_initial`` True during it."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The learning rates of the current epoch (``self.last_epoch``)."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch and set each group's ``'lr'``. ``step(epoch)`` jumps to that
        epoch (the closed form where there is one; deprecated in PyTorch, as here)."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                "The epoch parameter in `scheduler.step()` is deprecated; call "
                "step() without it once per epoch",
                UserWarning,
                stacklevel=2,
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr})"


_LRScheduler = LRScheduler  # PyTorch's older name


class StepLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` every ``step_size`` epochs:
    ``lr = base_lr * gamma ** (epoch // step_size)``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        step_size (int): period of the decay, in epochs.
        gamma (float): multiplicative factor. Default: 0.1.
        last_epoch (int): index of the last epoch. Default: -1.

    Examples::

        >>> # lr = 0.05 for epochs 0-29, 0.005 for 30-59, 0.0005 for 60-89, ...
        >>> scheduler = StepLR(optimizer, step_size=30, gamma=0.1)
        >>> for epoch in range(100):
        ...     train(...); scheduler.step()
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = int(step_size)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [g["lr"] for g in self.optimizer.param_groups]
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` at each milestone epoch:
    ``lr = base_lr * gamma ** (number of milestones <= epoch)``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        milestones (list): epoch indices (a milestone listed twice decays twice).
        gamma (float): multiplicative factor. Default: 0.1.
        last_epoch (int): index of the last epoch. Default: -1.

    Examples::

        >>> # lr = 0.05 for epochs 0-29, 0.005 for 30-79, 0.0005 from 80 on
        >>> scheduler = MultiStepLR(optimizer, milestones=[30, 80], gamma=0.1)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        hits = self.milestones.count(self.last_epoch)
        return [g["lr"] * self.gamma**hits for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        passed = bisect.bisect_right(self.milestones, self.last_epoch)
        return [base * self.gamma**passed for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply each group's lr by ``gamma`` every epoch: ``lr = base_lr * gamma ** epoch``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        gamma (float): multiplicative factor.
        last_epoch (int): index of the last epoch. Default: -1.

    Examples::

        >>> scheduler = ExponentialLR(optimizer, gamma=0.9)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0:
            return [g["lr"] for g in self.optimizer.param_groups]
        return [g["lr"] * self.gamma for g in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""Cosine annealing from the base lr down to ``eta_min`` over ``T_max`` epochs:

    .. code-block:: text

        lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    computed with PyTorch's recursive form (it equals the closed form when nothing else
    changes the lr), which keeps following the cosine past ``T_max`` (period ``2 * T_max``).

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        T_max (int): number of epochs of a half period.
        eta_min (float): minimum learning rate. Default: 0.
        last_epoch (int): index of the last epoch. Default: -1.

    Examples::

        >>> scheduler = CosineAnnealingLR(optimizer, T_max=100, eta_min=1e-5)
    """

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if t == 0:
            return [g["lr"] for g in groups]
        if self._step_count == 1 and t > 0:  # resumed: closed form
            return [
                eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2
                for base in self.base_lrs
            ]
        if (t - 1 - T) % (2 * T) == 0:
            return [
                g["lr"] + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base, g in zip(self.base_lrs, groups)
            ]
        return [
            (1 + math.cos(math.pi * t / T))
            / (1 + math.cos(math.pi * (t - 1) / T))
            * (g["lr"] - eta_min)
            + eta_min
            for g in groups
        ]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            self.eta_min
            + (base - self.eta_min) * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
            for base in self.base_lrs
        ]


class LambdaLR(LRScheduler):
    """Set each group's lr to its base lr times a function of the epoch:
    ``lr = base_lr * lr_lambda(epoch)``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        lr_lambda (function or list): a function of the epoch index, or one per group.
        last_epoch (int): index of the last epoch. Default: -1.

    The functions are not part of :meth:`state_dict`.

    Examples::

        >>> scheduler = LambdaLR(optimizer, lr_lambda=lambda epoch: 0.95 ** epoch)
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: _Lambda | list[_Lambda],
        last_epoch: int = -1,
    ) -> None:
        self.lr_lambdas = _per_group(
            "lr_lambda", optimizer, lr_lambda, "Expected {n} lr_lambdas, but got {got}"
        )
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


def _per_group(
    name: str, optimizer: Optimizer, value: Any, message: str | None = None
) -> list[Any]:
    """value as one entry per parameter group (a list or tuple must have one per group; else
    ValueError, with ``message`` formatted with n and got where PyTorch words it its own way)."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            message = message or (
                name + " must have the same length as optimizer.param_groups: "
                "expected {n}, got {got}"
            )
            raise ValueError(message.format(n=n, got=len(value)))
        return list(value)
    return [value] * n


class MultiplicativeLR(LRScheduler):
    """Multiply each group's lr by ``lr_lambda(epoch)`` every epoch (from epoch 1):
    ``lr_t = lr_{t-1} * lr_lambda(t)``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        lr_lambda (function or list): a function of the epoch index, or one per group.
        last_epoch (int): index of the last epoch. Default: -1.

    Examples::

        >>> scheduler = MultiplicativeLR(optimizer, lr_lambda=lambda epoch: 0.95)
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: _Lambda | list[_Lambda],
        last_epoch: int = -1,
    ) -> None:
        self.lr_lambdas = _per_group("lr_lambda", optimizer, lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial:
            return [g["lr"] for g in groups]
        return [g["lr"] * fn(self.last_epoch) for fn, g in zip(self.lr_lambdas, groups)]


class ConstantLR(LRScheduler):
    """Multiply the lr by ``factor`` for the first ``total_iters`` epochs, then restore it
    (a constant warm-up): ``lr = base_lr * (factor if epoch < total_iters else 1)``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        factor (float): in [0, 1]. Default: 1/3.
        total_iters (int): epochs at the reduced lr. Default: 5.
        last_epoch (int): index of the last epoch. Default: -1.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 <= factor <= 1.0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.factor for g in groups]
        if self.last_epoch != self.total_iters:
            return [g["lr"] for g in groups]
        return [g["lr"] * (1.0 / self.factor) for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        f = self.factor if self.last_epoch < self.total_iters else 1.0
        return [base * f for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Change the lr linearly from ``base_lr * start_factor`` to ``base_lr * end_factor``
    over ``total_iters`` epochs, then keep it (a linear warm-up):
    ``lr = base_lr * (start + (end - start) * min(epoch, total_iters) / total_iters)``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        start_factor (float): in (0, 1]. Default: 1/3.
        end_factor (float): in [0, 1]. Default: 1.0.
        total_iters (int): epochs of the ramp. Default: 5.
        last_epoch (int): index of the last epoch. Default: -1.

    Examples::

        >>> scheduler = LinearLR(optimizer, start_factor=0.1, total_iters=4)  # warm-up
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if not 0 < start_factor <= 1.0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 "
                "and less or equal to 1."
            )
        if not 0 <= end_factor <= 1.0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self.last_epoch == 0:
            return [g["lr"] * self.start_factor for g in groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return [g["lr"] for g in groups]
        d = self.end_factor - self.start_factor
        ratio = 1.0 + d / (self.total_iters * self.start_factor + (self.last_epoch - 1) * d)
        return [g["lr"] * ratio for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [
            base * (self.start_factor + (self.end_factor - self.start_factor) * frac)
            for base in self.base_lrs
        ]


class PolynomialLR(LRScheduler):
    """Decay the lr to 0 over ``total_iters`` epochs along a polynomial:
    ``lr = base_lr * (1 - min(epoch, total_iters) / total_iters) ** power``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        total_iters (int): epochs of the decay. Default: 5.
        power (float): the polynomial's power. Default: 1.0 (linear).
        last_epoch (int): index of the last epoch. Default: -1.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        groups = self.optimizer.param_groups
        if self._is_initial or self.last_epoch > self.total_iters:
            return [g["lr"] for g in groups]
        t, T = self.last_epoch, self.total_iters
        decay = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [g["lr"] * decay for g in groups]

    def _get_closed_form_lr(self) -> list[float]:
        frac = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (1.0 - frac) ** self.power for base in self.base_lrs]


class _Composite(LRScheduler):
    """state_dict / load_state_dict of the schedulers made of other schedulers."""

    _not_saved = ("optimizer", "_schedulers")
    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state = dict(state_dict)
        for s, sd in zip(self._schedulers, state.pop("_schedulers")):
            s.load_state_dict(sd)
        super().load_state_dict(state)


def _check_parts(schedulers: Sequence[Any], optimizer: Optimizer | None, who: str) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{who} expects at least one scheduler")
    for i, s in enumerate(schedulers):
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(
                f"{who} does not support ReduceLROnPlateau (its step needs the "
                f"metric), but got one at index {i}"
            )
        if getattr(s, "optimizer", None) is not optimizer:
            raise ValueError(
                f"{who} expects all schedulers to belong to the same optimizer, "
                f"but scheduler {i} ({type(s).__name__}) has another one"
            )


class SequentialLR(_Composite):
    """Run ``schedulers[0]`` until ``milestones[0]``, then ``schedulers[1]`` (restarted
    from its epoch 0), and so on: e.g. a linear warm-up followed by a cosine decay.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        schedulers (list): the schedulers, each made on ``optimizer``.
        milestones (list of int): the epochs at which the next scheduler takes over
            (one fewer than the schedulers).
        last_epoch (int): index of the last epoch. Default: -1.

    Examples::

        >>> warm = LinearLR(optimizer, start_factor=0.1, total_iters=2)
        >>> decay = ExponentialLR(optimizer, gamma=0.9)
        >>> scheduler = SequentialLR(optimizer, [warm, decay], milestones=[2])
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: Sequence[LRScheduler],
        milestones: Sequence[int],
        last_epoch: int = -1,
    ) -> None:
        _check_parts(schedulers, optimizer, "SequentialLR")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR expects one milestone fewer than schedulers, got "
                f"{len(schedulers)} schedulers and {len(milestones)} milestones"
            )
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # undo the initial steps the schedulers took when they were made, then take the
        # first one's again (PyTorch's procedure)
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in self._schedulers:
            s.last_epoch -= 1
        first = self._schedulers[bisect.bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:  # type: ignore[override]  # no epoch argument, as PyTorch's
        self.last_epoch += 1
        idx = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)  # the next scheduler starts at its epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_Composite):
    """Step several schedulers together, each applying its change to the lr the others
    left (their effects multiply): e.g. ``ConstantLR`` warm-up with ``ExponentialLR``.

    Args:
        schedulers (list): the schedulers, on one optimizer.
        optimizer (minnet.optim.Optimizer, optional): that optimizer. Default: the first
            scheduler's.
    """

    def __init__(
        self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None
    ) -> None:
        optimizer = optimizer or (schedulers[0].optimizer if schedulers else None)
        _check_parts(schedulers, optimizer, "ChainedScheduler")
        optimizer = cast("Optimizer", optimizer)  # not None: _check_parts found it
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = [g["lr"] for g in optimizer.param_groups]

    def step(self) -> None:  # type: ignore[override]  # no epoch argument, as PyTorch's
        for s in self._schedulers:
            s.step()
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""Cosine annealing from the base lr to ``eta_min`` over ``T_i`` epochs, then a restart;
    the first period is ``T_0`` epochs, each next one ``T_mult`` times longer (SGDR):
    ``lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        T_0 (int): epochs of the first period.
        T_mult (int): growth factor of the periods. Default: 1.
        eta_min (float): minimum learning rate. Default: 0.
        last_epoch (int): index of the last epoch. Default: -1.

    ``step(epoch)`` with a fractional epoch (``epoch + i / iters``) anneals within epochs.
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,
        T_mult: int = 1,
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        self.T_0 = self.T_i = T_0
        self.T_mult, self.eta_min = T_mult, eta_min
        self.T_cur: float = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [
            self.eta_min
            + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base in self.base_lrs
        ]

    def step(self, epoch: float | None = None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur -= self.T_i
                self.T_i *= self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:  # which period epoch falls in: T_0 (T_mult^n - 1) / (T_mult - 1)
                    n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult**n
            else:
                self.T_i, self.T_cur = self.T_0, epoch
        self.last_epoch = math.floor(epoch)
        self._step_count += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]


def _set_momentum(group: dict[str, Any], momentum: float, use_beta1: bool) -> None:
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _momentum_kind(optimizer: Optimizer, who: str) -> bool:
    """True when the optimizer's momentum is Adam's beta1, False for SGD's momentum."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(
            f"{who}: optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
        )
    return "betas" in optimizer.defaults


class CyclicLR(LRScheduler):
    """Cycle the lr between ``base_lr`` and ``max_lr`` (and the momentum the opposite way),
    stepped once per batch (Smith, 2017).

    One cycle is ``step_size_up`` steps up and ``step_size_down`` steps down. ``mode``:
    ``'triangular'`` (constant amplitude), ``'triangular2'`` (halved every cycle),
    ``'exp_range'`` (times ``gamma ** iteration``), or ``scale_fn`` with ``scale_mode``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        base_lr, max_lr (float or list): the bounds (one per group if a list).
        step_size_up (int): steps of the rising half. Default: 2000.
        step_size_down (int, optional): steps of the falling half. Default: step_size_up.
        mode (str): see above. Default: ``'triangular'``.
        gamma (float): for ``'exp_range'``. Default: 1.0.
        scale_fn (callable, optional): custom amplitude scaling, overriding ``mode``.
        scale_mode (str): ``'cycle'`` or ``'iterations'``, what scale_fn is given.
        cycle_momentum (bool): cycle SGD's momentum / Adam's beta1 too. Default: True.
        base_momentum, max_momentum (float or list): its bounds. Default: 0.8, 0.9.
        last_epoch (int): index of the last batch. Default: -1.
    """

    _not_saved = ("optimizer", "scale_fn_custom")

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode, self.gamma = mode, gamma
        self.scale_fn_custom = scale_fn
        self.scale_mode = (
            scale_mode
            if scale_fn is not None
            else ("iterations" if mode == "exp_range" else "cycle")
        )
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_kind(optimizer, "CyclicLR")
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:
                for m, b, group in zip(
                    self.max_momentums, self.base_momentums, optimizer.param_groups
                ):
                    _set_momentum(group, m, self.use_beta1)
                    group["max_momentum"], group["base_momentum"] = m, b
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def scale_fn(self, x: float) -> float:
        if self.scale_fn_custom is not None:
            return self.scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma**x

    def get_lr(self) -> list[float]:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # position in the cycle
        scale = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        amp = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * scale * amp for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, b, m in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                _set_momentum(group, m - (m - b) * scale * amp, self.use_beta1)
        return lrs


class OneCycleLR(LRScheduler):
    """The 1cycle policy, stepped once per batch: the lr rises from ``max_lr / div_factor``
    to ``max_lr`` over the first ``pct_start`` of the steps, then anneals to
    ``initial_lr / final_div_factor``; the momentum moves the opposite way (Smith, 2018).

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        max_lr (float or list): the peak lr (one per group if a list).
        total_steps (int, optional): the number of steps, or give ``epochs`` and
            ``steps_per_epoch``.
        pct_start (float): the fraction of the steps spent rising. Default: 0.3.
        anneal_strategy (str): ``'cos'`` or ``'linear'``. Default: ``'cos'``.
        cycle_momentum (bool): cycle SGD's momentum / Adam's beta1. Default: True.
        base_momentum, max_momentum (float or list): its bounds. Default: 0.85, 0.95.
        div_factor (float): ``initial_lr = max_lr / div_factor``. Default: 25.
        final_div_factor (float): ``min_lr = initial_lr / final_div_factor``. Default: 1e4.
        three_phase (bool): go back down to initial_lr symmetrically before the final
            annealing. Default: False.
        last_epoch (int): index of the last step. Default: -1.

    Examples::

        >>> scheduler = OneCycleLR(optimizer, max_lr=0.01, epochs=10,
        ...                        steps_per_epoch=len(train_loader))
        >>> for epoch in range(10):
        ...     for batch in train_loader:
        ...         train_batch(...); scheduler.step()
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, v in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(v, int) or v <= 0:
                    raise ValueError(f"Expected positive integer {name}, but got {v}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self.anneal_strategy = anneal_strategy
        T, up = self.total_steps, float(pct_start * self.total_steps)
        # (end step, lr from, lr to, momentum from, momentum to), names of group entries
        if three_phase:
            self._phases = [
                (up - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (2 * up - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                (T - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._phases = [
                (up - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (T - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for top, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _momentum_kind(optimizer, "OneCycleLR")
            if last_epoch == -1:
                for m, b, group in zip(
                    _per_group("max_momentum", optimizer, max_momentum),
                    _per_group("base_momentum", optimizer, base_momentum),
                    optimizer.param_groups,
                ):
                    _set_momentum(group, m, self.use_beta1)
                    group["max_momentum"], group["base_momentum"] = m, b
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(
                f"Tried to step {step} times. The specified number of total "
                f"steps is {self.total_steps}"
            )
        lrs = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr0, lr1, m0, m1) in enumerate(self._phases):
                if step <= end or i == len(self._phases) - 1:
                    pct = (step - start) / (end - start)
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        _set_momentum(
                            group, self._anneal(group[m0], group[m1], pct), self.use_beta1
                        )
                    break
                start = end
        return lrs


class ReduceLROnPlateau(_Stateful):
    """Reduce the learning rate when a metric has stopped improving.

    After ``patience`` epochs in a row without improvement (``step(metric)`` once per
    epoch), each group's lr becomes ``max(lr * factor, min_lr)`` (skipped when the change is
    smaller than ``eps``); then ``cooldown`` epochs pass before counting resumes.

    Improvement, for ``mode='min'`` (``'max'`` mirrors it):
    ``threshold_mode='rel'``: ``metric < best * (1 - threshold)``;
    ``threshold_mode='abs'``: ``metric < best - threshold``.

    Args:
        optimizer (minnet.optim.Optimizer): the wrapped optimizer.
        mode (str): ``'min'`` or ``'max'``. Default: ``'min'``.
        factor (float): multiplicative factor of the reduction. Default: 0.1.
        patience (int): epochs without improvement tolerated. Default: 10.
        threshold (float): the smallest change counted as improvement. Default: 1e-4.
        threshold_mode (str): ``'rel'`` or ``'abs'``. Default: ``'rel'``.
        cooldown (int): epochs to wait after a reduction. Default: 0.
        min_lr (float or list): lower bound of the lr (one per group if a list). Default: 0.
        eps (float): minimal change of lr applied. Default: 1e-8.

    Examples::

        >>> scheduler = ReduceLROnPlateau(optimizer, 'min', patience=5)
        >>> for epoch in range(10):
        ...     train(...); val_loss = validate(...)
        ...     scheduler.step(val_loss)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0,
        eps: float = 1e-8,
    ) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.optimizer = optimizer
        self.min_lrs = _per_group("min_lr", optimizer, min_lr, "expected {n} min_lrs, got {got}")
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.eps = cooldown, eps
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [g["lr"] for g in optimizer.param_groups]
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def step(self, metrics: SupportsFloat) -> None:
        """Record this epoch's metric and reduce the lr if it has plateaued."""
        current = float(metrics.item() if hasattr(metrics, "item") else metrics)
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old = float(group["lr"])
                new = max(old * self.factor, min_lr)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [g["lr"] for g in self.optimizer.param_groups]
