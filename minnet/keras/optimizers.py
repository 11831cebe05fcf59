"""Keras optimizers with Keras's names, arguments and defaults, each running a minnet.optim
update (its fused kernel where one exists) with the equivalent hyperparameters.

=========  ===========================================  =====================================
Keras      minnet                                       notes
=========  ===========================================  =====================================
SGD        optim.SGD(lr, momentum, nesterov)            Keras's velocity holds -lr * b; b is
                                                        rescaled when lr changes, so every
                                                        step matches
Adam       optim.Adam / AdamW (weight_decay)            Keras adds epsilon to sqrt(v) before
                                                        bias correction: each step runs with
                                                        eps = epsilon / sqrt(1 - beta_2^t),
                                                        the same update
AdamW      optim.AdamW                                  Keras default weight_decay 0.004
RMSprop    optim.RMSprop(lr, alpha=rho, eps, momentum,  the kernel's eps_inside option:
           centered), epsilon inside the sqrt           lr g / sqrt(v + epsilon), as Keras
                                                        (PyTorch adds it outside); momentum
                                                        as for SGD
Adagrad    optim.Adagrad(lr, eps,                       the same eps_inside option
           initial_accumulator_value)
=========  ===========================================  =====================================

``weight_decay`` (any optimizer) is Keras's decoupled decay ``w -= lr * weight_decay * w``
before the step; ``clipnorm``, ``clipvalue`` and ``global_clipnorm`` clip the gradients
first. ``learning_rate`` may be a float or a ``keras.optimizers.schedules`` schedule.

Deliberate difference: a step taken with a learning rate of exactly 0 does not move the
weights, where Keras's momentum optimizers still move them by their velocity.
"""

import math

import numpy as np

from minnet import optim
from minnet.keras import schedules
from minnet.keras.saving import RecordsInit
from minnet.optim.optimizer import Optimizer as _TorchOptimizer
from minnet.optim.optimizer import grad_array

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "get", "schedules"]


class _Value(float):
    """A float that also answers Keras variables' ``.numpy()`` and ``.assign(value)``
    (``optimizer.learning_rate.assign(1e-4)``)."""

    def __new__(cls, value, setter=None):
        obj = super().__new__(cls, value)
        obj._setter = setter
        return obj

    def numpy(self):
        return float(self)

    def assign(self, value):
        if self._setter is None:
            raise ValueError("this value cannot be assigned")
        self._setter(value)


class Optimizer(RecordsInit):
    """Base class. Built on a model's parameters by ``compile``/``fit``; ``apply()`` runs one
    step on their gradients.

    Args:
        learning_rate: float or schedule.
        weight_decay, clipnorm, clipvalue, global_clipnorm: as Keras (None: off).
        name (str): optional.
    """

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        name=None,
        **kwargs,
    ):
        kwargs.pop("use_ema", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unrecognized keyword arguments {sorted(kwargs)}"
            )
        self._schedule = learning_rate if callable(learning_rate) else None
        self._lr = float(learning_rate(0) if self._schedule else learning_rate)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._impl = None
        self._params = None
        self._stepped_lr = None  # the lr of the last step (see _rescale_momentum)

    # ------------------------------------------------------------------ learning rate
    @property
    def learning_rate(self):
        return _Value(self._lr, lambda v: setattr(self, "learning_rate", v))

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._schedule = value
            value = value(self.iterations)
        self._lr = float(value)
        if self._impl is not None:
            for g in self._impl.param_groups:
                g["lr"] = self._lr

    lr = learning_rate

    # ------------------------------------------------------------------ building, stepping
    def build(self, params):
        params = list(params)
        if (
            self._params is not None
            and len(params) == len(self._params)
            and all(a is b for a, b in zip(params, self._params))
        ):
            return
        self._params = params
        self._impl = self._create(params)
        self._stepped_lr = None

    def _create(self, params):
        raise NotImplementedError

    def _decoupled_decay_in_impl(self):
        return False

    def apply(self):
        """One step on the built parameters' current gradients."""
        if self._schedule is not None:
            self.learning_rate = self._schedule(self.iterations)
        grads = [grad_array(p) for p in self._params]
        self._clip(grads)
        if self.weight_decay and not self._decoupled_decay_in_impl():
            for p, g in zip(self._params, grads):
                if g is not None:
                    np.multiply(p.data, 1 - self._lr * self.weight_decay, out=p.data)
        self._before_step()
        self._rescale_momentum()
        self._impl.step()
        self.iterations += 1

    def _rescale_momentum(self):
        # Keras's momentum buffers hold lr-weighted sums (m = mu m - lr g; RMSprop's
        # m = mu m + lr g / d), minnet.optim's (PyTorch's) unweighted ones applied as
        # p -= lr b: the same steps while lr is constant. When a schedule or assign changes
        # lr, scaling b by old/new lr keeps lr_t b_t equal to Keras's m_t exactly.
        lr, old = self._lr, self._stepped_lr
        if lr == 0:  # the one difference: Keras coasts on m, this step does not move
            return
        self._stepped_lr = lr
        if old is None or old == lr:
            return
        for st in self._impl.state.values():
            buf = st.get("momentum_buffer")
            if buf is not None:
                buf *= old / lr

    def _before_step(self):
        pass

    def _clip(self, grads):
        live = [g for g in grads if g is not None]
        if self.clipvalue is not None:
            for g in live:
                np.clip(g, -self.clipvalue, self.clipvalue, out=g)
        if self.clipnorm is not None:
            for g in live:
                n = float(np.sqrt(np.sum(np.square(g, dtype=np.float64))))
                if n > self.clipnorm:
                    g *= self.clipnorm / n
        if self.global_clipnorm is not None and live:
            n = math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in live))
            if n > self.global_clipnorm:
                for g in live:
                    g *= self.global_clipnorm / n

    def get_config(self):
        return dict(self._constructor_config(), learning_rate=self._lr)

    def __repr__(self):
        return f"<keras.optimizers.{type(self).__name__} learning_rate={self._lr}>"


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    Args: learning_rate=0.01, momentum=0.0, nesterov=False, plus the base arguments."""

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _create(self, params):
        return optim.SGD(params, lr=self._lr, momentum=self.momentum, nesterov=self.nesterov)


class Adam(Optimizer):
    """Adam. Args: learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False, plus the base arguments."""

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs
    ):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)

    def _create(self, params):
        cls = optim.AdamW if self.weight_decay else optim.Adam
        return cls(
            params,
            lr=self._lr,
            betas=(self.beta_1, self.beta_2),
            eps=self.epsilon,
            weight_decay=self.weight_decay or 0.0,
            amsgrad=self.amsgrad,
        )

    def _decoupled_decay_in_impl(self):
        return True

    def _before_step(self):
        # Keras: lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps); PyTorch divides by
        # sqrt(v) / sqrt(1 - b2^t) + eps': the same with eps' = eps / sqrt(1 - b2^t)
        eps = self.epsilon / math.sqrt(1.0 - self.beta_2 ** (self.iterations + 1))
        for g in self._impl.param_groups:
            g["eps"] = eps


class AdamW(Adam):
    """Adam with decoupled weight decay. Args: learning_rate=0.001, weight_decay=0.004,
    beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False."""

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        **kwargs,
    ):
        super().__init__(
            learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay=weight_decay, **kwargs
        )


class _KerasRMSprop(optim.RMSprop):
    """minnet.optim.RMSprop with Keras's denominator sqrt(v + epsilon)."""

    _eps_inside = True


class _KerasAdagrad(optim.Adagrad):
    """minnet.optim.Adagrad with Keras's denominator sqrt(accumulator + epsilon)."""

    _eps_inside = True


class RMSprop(Optimizer):
    """RMSprop. Args: learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
    centered=False, plus the base arguments."""

    def __init__(
        self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs
    ):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)

    def _create(self, params):
        return _KerasRMSprop(
            params,
            lr=self._lr,
            alpha=self.rho,
            eps=self.epsilon,
            momentum=self.momentum,
            centered=self.centered,
        )


class Adagrad(Optimizer):
    """Adagrad. Args: learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
    plus the base arguments."""

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = initial_accumulator_value, epsilon

    def _create(self, params):
        return _KerasAdagrad(
            params,
            lr=self._lr,
            eps=float(self.epsilon),
            initial_accumulator_value=float(self.initial_accumulator_value),
        )


_TABLE_BY_CLASS = {cls.__name__: cls for cls in (SGD, Adam, AdamW, RMSprop, Adagrad)}
_TABLE = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """An Optimizer for a name ('adam', 'sgd', 'rmsprop', 'adagrad', 'adamw') or object."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _TABLE:
        return _TABLE[identifier.lower()]()
    if isinstance(identifier, _TorchOptimizer):
        raise ValueError(
            "Pass a keras.optimizers object (or name) to compile, not a minnet.optim optimizer"
        )
    raise ValueError(
        f"Unknown optimizer {identifier!r}; expected one of {sorted(_TABLE)} or "
        f"a keras.optimizers.Optimizer"
    )
