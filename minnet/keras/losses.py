"""Keras losses (classes and functions) on minnet Tensors.

A loss object called as ``loss(y_true, y_pred)`` returns a scalar Tensor (differentiable in
``y_pred``); the functions (``losses.mean_squared_error(y_true, y_pred)``) return the
per-sample values. Per-sample means are over the last axis, the batch reduction is
``'sum_over_batch_size'`` (the mean, the default), ``'sum'`` or ``None``.

Crossentropies on probabilities clip them to ``[1e-7, 1 - 1e-7]`` as Keras does; on logits
(``from_logits=True``, or when ``fit`` fuses a final softmax/sigmoid into the loss) they use
minnet's stable log-softmax / log-sigmoid kernels.
"""

import numpy as np

from minnet.keras.saving import RecordsInit
from minnet.nn import functional as F
from minnet.tensor import Tensor

__all__ = [
    "Loss",
    "SparseCategoricalCrossentropy",
    "CategoricalCrossentropy",
    "BinaryCrossentropy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Huber",
    "get",
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mean_absolute_error",
    "huber",
    "mse",
    "mae",
]

EPSILON = 1e-7
_REDUCTIONS = ("sum_over_batch_size", "mean", "sum", None, "none")


def _pred(y_pred):
    if isinstance(y_pred, Tensor):
        return y_pred
    a = np.asarray(y_pred)
    return Tensor(a if a.dtype.kind == "f" else a.astype(np.float32))


def _array(y):
    return y.data if isinstance(y, Tensor) else np.asarray(y)


def _like(y_true, y_pred):
    """y_true as a float array of y_pred's shape ((N,) labels for an (N, 1) output too)."""
    t = _array(y_true)
    if t.shape != y_pred.shape:
        if t.size != int(np.prod(y_pred.shape)):
            hint = ""
            if t.ndim >= 1 and t.size * y_pred.shape[-1] == int(np.prod(y_pred.shape)):
                hint = (
                    " Integer class labels need loss='sparse_categorical_crossentropy' "
                    "(or one-hot labels from keras.utils.to_categorical)."
                )
            raise ValueError(
                f"Arguments `target` and `output` must have the same shape (up "
                f"to a trailing 1). Received: target.shape={t.shape}, "
                f"output.shape={tuple(y_pred.shape)}.{hint}"
            )
        t = t.reshape(y_pred.shape)
    return t.astype(y_pred.dtype, copy=False)


def _reduce(per_sample, reduction):
    if reduction in ("sum_over_batch_size", "mean"):
        return per_sample.mean()
    if reduction == "sum":
        return per_sample.sum()
    return per_sample


class Loss(RecordsInit):
    """Base class: ``call(y_true, y_pred)`` gives per-sample losses (a Tensor).

    Args:
        reduction: 'sum_over_batch_size' (default), 'sum' or None.
        name (str): the loss's name.
    """

    from_logits = False
    logit_activation = None  # the final activation fit may fuse into this loss

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        if reduction not in _REDUCTIONS:
            raise ValueError(
                f"{type(self).__name__}: invalid reduction {reduction!r}; expected "
                f"one of {_REDUCTIONS}"
            )
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise ValueError(f"{type(self).__name__}: sample_weight is not supported by minnet")
        return self.compute(y_true, _pred(y_pred), self.from_logits)

    def compute(self, y_true, y_pred, from_logits):
        """The reduced loss of Tensor ``y_pred`` (logits when ``from_logits``)."""
        return _reduce(self.call(y_true, y_pred, from_logits), self.reduction)

    def call(self, y_true, y_pred, from_logits=False):
        raise NotImplementedError

    def get_config(self):
        return self._constructor_config()


def _snake(name):
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out.replace("crossentropy", "_crossentropy").replace("__", "_")


def _labels(y_true, n):
    t = _array(y_true).reshape(-1)
    if t.shape[0] != n:
        shape = _array(y_true).shape
        hint = (
            " One-hot labels need loss='categorical_crossentropy'."
            if t.shape[0] % n == 0 and len(shape) >= 2 and shape[-1] > 1
            else ""
        )
        raise ValueError(
            f"sparse_categorical_crossentropy: {t.shape[0]} labels for {n} "
            f"predictions (labels shape {shape}).{hint}"
        )
    if t.dtype.kind == "f":
        t = t.astype(np.int64)
    return t


class SparseCategoricalCrossentropy(Loss):
    """Crossentropy of integer labels (N,) or (N, 1) against (N, C) probabilities (or
    logits with ``from_logits=True``). ``ignore_class``: a label that adds no loss."""

    logit_activation = "softmax"

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        name="sparse_categorical_crossentropy",
    ):
        super().__init__(name, reduction)
        self.from_logits, self.ignore_class = bool(from_logits), ignore_class

    def _torch(self, y_true, y_pred, from_logits, reduction):
        c = y_pred.shape[-1]
        x2 = y_pred.reshape(-1, c) if y_pred.ndim != 2 else y_pred
        t = _labels(y_true, x2.shape[0])
        ignore = -100 if self.ignore_class is None else int(self.ignore_class)
        if from_logits:
            return F.cross_entropy(x2, Tensor(t), ignore_index=ignore, reduction=reduction)
        p = (x2 / x2.sum(-1, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
        return F.nll_loss(p.log(), Tensor(t), ignore_index=ignore, reduction=reduction)

    def compute(self, y_true, y_pred, from_logits):
        if self.reduction in ("sum_over_batch_size", "mean", "sum"):
            return self._torch(
                y_true, y_pred, from_logits, "sum" if self.reduction == "sum" else "mean"
            )
        return self.call(y_true, y_pred, from_logits)

    def call(self, y_true, y_pred, from_logits=False):
        return self._torch(y_true, y_pred, from_logits, "none").reshape(y_pred.shape[:-1])


class CategoricalCrossentropy(Loss):
    """Crossentropy of one-hot (or soft) targets against probabilities (or logits).
    ``label_smoothing`` mixes the targets with the uniform distribution."""

    logit_activation = "softmax"

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
    ):
        super().__init__(name, reduction)
        if axis != -1:
            raise ValueError("CategoricalCrossentropy: only axis=-1 is supported")
        self.from_logits, self.label_smoothing = bool(from_logits), float(label_smoothing)

    def call(self, y_true, y_pred, from_logits=False):
        t = _like(y_true, y_pred)
        c = y_pred.shape[-1]
        if from_logits:
            x2, t2 = y_pred.reshape(-1, c), t.reshape(-1, c)
            v = F.cross_entropy(
                x2, Tensor(t2), label_smoothing=self.label_smoothing, reduction="none"
            )
            return v.reshape(y_pred.shape[:-1])
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + self.label_smoothing / c
        p = (y_pred / y_pred.sum(-1, keepdim=True)).clamp(EPSILON, 1 - EPSILON)
        return -(Tensor(t) * p.log()).sum(-1)

    def compute(self, y_true, y_pred, from_logits):
        if from_logits and self.reduction in ("sum_over_batch_size", "mean"):
            c = y_pred.shape[-1]
            t = _like(y_true, y_pred).reshape(-1, c)
            if not self.label_smoothing and _is_one_hot(t):  # the class-index kernel
                return F.cross_entropy(y_pred.reshape(-1, c), Tensor(t.argmax(-1)))
            return F.cross_entropy(
                y_pred.reshape(-1, c), Tensor(t), label_smoothing=self.label_smoothing
            )
        return super().compute(y_true, y_pred, from_logits)


def _is_one_hot(t):
    """Whether every row of t is a one-hot vector (exact 0s and one 1)."""
    return bool(np.all((t == 0) | (t == 1)) and np.all(t.sum(-1) == 1))


class BinaryCrossentropy(Loss):
    """Crossentropy of 0/1 (or soft) targets against probabilities (or logits), averaged
    over the last axis. ``label_smoothing`` squeezes targets towards 0.5."""

    logit_activation = "sigmoid"

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
    ):
        super().__init__(name, reduction)
        self.from_logits, self.label_smoothing = bool(from_logits), float(label_smoothing)

    def _elements(self, y_true, y_pred, from_logits):
        t = _like(y_true, y_pred)
        if self.label_smoothing:
            t = t * (1 - self.label_smoothing) + 0.5 * self.label_smoothing
        if from_logits:
            return F.binary_cross_entropy_with_logits(y_pred, Tensor(t), reduction="none")
        p = y_pred.clamp(EPSILON, 1 - EPSILON)
        tt = Tensor(t)
        return -(tt * p.log() + (1 - tt) * (1 - p).log())

    def call(self, y_true, y_pred, from_logits=False):
        return self._elements(y_true, y_pred, from_logits).mean(-1)

    def compute(self, y_true, y_pred, from_logits):
        if (
            from_logits
            and self.reduction in ("sum_over_batch_size", "mean")
            and not self.label_smoothing
        ):
            return F.binary_cross_entropy_with_logits(y_pred, Tensor(_like(y_true, y_pred)))
        return super().compute(y_true, y_pred, from_logits)


class _Pointwise(Loss):
    def _fn(self, p, t, reduction):
        raise NotImplementedError

    def call(self, y_true, y_pred, from_logits=False):
        return self._fn(y_pred, Tensor(_like(y_true, y_pred)), "none").mean(-1)

    def compute(self, y_true, y_pred, from_logits):
        if self.reduction in ("sum_over_batch_size", "mean"):  # one node, one pass
            return self._fn(y_pred, Tensor(_like(y_true, y_pred)), "mean")
        return super().compute(y_true, y_pred, from_logits)


class MeanSquaredError(_Pointwise):
    """mean((y_true - y_pred)^2) over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error"):
        super().__init__(name, reduction)

    def _fn(self, p, t, reduction):
        return F.mse_loss(p, t, reduction=reduction)


class MeanAbsoluteError(_Pointwise):
    """``mean(|y_true - y_pred|)`` over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error"):
        super().__init__(name, reduction)

    def _fn(self, p, t, reduction):
        return F.l1_loss(p, t, reduction=reduction)


class Huber(_Pointwise):
    """``0.5 d^2`` where ``|d| <= delta``, else ``delta (|d| - 0.5 delta)``; mean over the last
    axis."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss"):
        super().__init__(name, reduction)
        self.delta = float(delta)

    def _fn(self, p, t, reduction):
        return F.huber_loss(p, t, reduction=reduction, delta=self.delta)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    return SparseCategoricalCrossentropy(from_logits, ignore_class).call(
        y_true, _pred(y_pred), from_logits
    )


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return CategoricalCrossentropy(from_logits, label_smoothing, axis).call(
        y_true, _pred(y_pred), from_logits
    )


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return BinaryCrossentropy(from_logits, label_smoothing, axis).call(
        y_true, _pred(y_pred), from_logits
    )


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().call(y_true, _pred(y_pred))


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().call(y_true, _pred(y_pred))


def huber(y_true, y_pred, delta=1.0):
    return Huber(delta).call(y_true, _pred(y_pred))


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

_TABLE = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "huber": Huber,
    "huber_loss": Huber,
}
_FUNCTIONS = {
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
    categorical_crossentropy: "categorical_crossentropy",
    binary_crossentropy: "binary_crossentropy",
    mean_squared_error: "mse",
    mean_absolute_error: "mae",
    huber: "huber",
}


class _FunctionLoss(Loss):
    def __init__(self, fn):
        super().__init__(getattr(fn, "__name__", "loss"))
        self.fn = fn

    def call(self, y_true, y_pred, from_logits=False):
        return self.fn(y_true, y_pred)


def get(identifier):
    """A Loss for a Keras name ('sparse_categorical_crossentropy', 'mse', ...), a Loss
    object, one of this module's functions, or any callable ``(y_true, y_pred) -> Tensor``."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _TABLE:
            raise ValueError(
                f"Unknown loss {identifier!r}; expected one of {sorted(_TABLE)} "
                f"or a keras.losses.Loss object"
            )
        return _TABLE[identifier]()
    if identifier in _FUNCTIONS:
        return _TABLE[_FUNCTIONS[identifier]]()
    if callable(identifier):
        return _FunctionLoss(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
