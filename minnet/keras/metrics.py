"""Keras metrics: stateful averages over an epoch (``update_state``, ``result``,
``reset_state``) and their per-sample functions, computed in NumPy on the model's output
probabilities."""

import numpy as np

from minnet.keras.saving import RecordsInit

__all__ = [
    "Metric",
    "Mean",
    "MeanMetricWrapper",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "Precision",
    "Recall",
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "get",
]


def _np(a):
    return a.data if hasattr(a, "data") and not isinstance(a, np.ndarray) else np.asarray(a)


def _same_shape(y_true, y_pred):
    y_true = _np(y_true)
    if y_true.shape != y_pred.shape and y_true.size == y_pred.size:
        y_true = y_true.reshape(y_pred.shape)
    return y_true


def accuracy(y_true, y_pred):
    """1 where the prediction equals the label exactly."""
    y_pred = _np(y_pred)
    return (_same_shape(y_true, y_pred) == y_pred).astype(np.float32)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of ``(y_pred > threshold) == y_true``."""
    y_pred = _np(y_pred)
    y_true = _same_shape(y_true, y_pred)
    return ((y_pred > threshold) == (y_true > 0.5)).astype(np.float32).mean(axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) == argmax(y_true) (one-hot labels)."""
    y_pred = _np(y_pred)
    return (np.argmax(_np(y_true), -1) == np.argmax(y_pred, -1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where argmax(y_pred) equals the integer label ((N,) or (N, 1) labels)."""
    y_pred = _np(y_pred)
    pred = np.argmax(y_pred, -1)
    y_true = _np(y_true).reshape(pred.shape)
    return (pred == y_true).astype(np.float32)


def mean_squared_error(y_true, y_pred):
    y_pred = _np(y_pred)
    return ((_same_shape(y_true, y_pred) - y_pred) ** 2).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    y_pred = _np(y_pred)
    return np.abs(_same_shape(y_true, y_pred) - y_pred).mean(axis=-1)


class Metric(RecordsInit):
    """Base class: ``update_state(y_true, y_pred)``, ``result()``, ``reset_state()``."""

    def __init__(self, name=None, dtype=None):
        self.name = name or type(self).__name__.lower()
        self.reset_state()

    def reset_state(self):
        pass

    def result(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state``."""

    def reset_state(self):
        self.total, self.count = 0.0, 0.0

    def update_state(self, values, sample_weight=None):
        v = np.asarray(_np(values), dtype=np.float64)
        if sample_weight is None:
            self.total += float(v.sum())
            self.count += v.size
        else:
            w = np.broadcast_to(np.asarray(sample_weight, np.float64), v.shape)
            self.total += float((v * w).sum())
            self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred)`` over every sample seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self.fn, self.kwargs = fn, kwargs
        super().__init__(name or fn.__name__, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.kwargs), sample_weight)


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name)


class BinaryAccuracy(MeanMetricWrapper):
    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name)


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name)


class _Confusion(Metric):
    """Counts of true/false positives/negatives of binary predictions (y_pred > threshold;
    one-hot or multi-label outputs count every entry, as Keras)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        if top_k is not None:
            raise ValueError(f"{type(self).__name__}: top_k is not supported by minnet")
        self.threshold = 0.5 if thresholds is None else float(thresholds)
        self.class_id = class_id
        super().__init__(name or type(self).__name__.lower(), dtype)

    def reset_state(self):
        self.tp = self.fp = self.fn = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _np(y_pred)
        y_true = _same_shape(y_true, y_pred)
        if self.class_id is not None:
            y_true, y_pred = y_true[..., self.class_id], y_pred[..., self.class_id]
        pred, true = y_pred > self.threshold, y_true > 0.5
        self.tp += float(np.sum(pred & true))
        self.fp += float(np.sum(pred & ~true))
        self.fn += float(np.sum(~pred & true))


class Precision(_Confusion):
    """tp / (tp + fp) over everything seen (0 when nothing was predicted positive)."""

    def result(self):
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0


class Recall(_Confusion):
    """tp / (tp + fn) over everything seen (0 when there were no positives)."""

    def result(self):
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


_TABLE = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "precision": Precision,
    "recall": Recall,
}
_FUNCTIONS = {
    accuracy: Accuracy,
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
}


def get(identifier, loss=None, y_true_shape=None, y_pred_shape=None):
    """A Metric for a name, a Metric object, or a function ``(y_true, y_pred) -> values``.

    'accuracy' / 'acc' becomes binary, sparse-categorical or categorical accuracy as Keras
    chooses it: from the loss, else from the shapes of the labels and the output."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            kind = type(loss).__name__ if loss is not None else ""
            if kind == "BinaryCrossentropy":
                fn = binary_accuracy
            elif kind == "SparseCategoricalCrossentropy":
                fn = sparse_categorical_accuracy
            elif kind == "CategoricalCrossentropy":
                fn = categorical_accuracy
            elif y_pred_shape is not None and y_pred_shape[-1] == 1:
                fn = binary_accuracy
            elif (
                y_true_shape is not None
                and y_pred_shape is not None
                and len(y_true_shape) == len(y_pred_shape)
                and y_true_shape[-1] != 1
            ):
                fn = categorical_accuracy
            else:
                fn = sparse_categorical_accuracy
            return MeanMetricWrapper(fn, name=identifier)
        if identifier not in _TABLE:
            raise ValueError(
                f"Unknown metric {identifier!r}; expected 'accuracy' or one of {sorted(_TABLE)}"
            )
        m = _TABLE[identifier]()
        m.name = identifier
        return m
    if callable(identifier):
        cls = _FUNCTIONS.get(identifier)
        return cls() if cls else MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
