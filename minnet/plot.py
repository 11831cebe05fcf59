"""minnet.plot: the course's pictures: training curves, image grids, confusion matrices.

Drawing needs matplotlib, an optional extra (``pip install "minnet-nn[plot]"``): this module
imports without it, and each drawing function raises ``ImportError`` saying how to install it.
:func:`confusion_counts` is plain NumPy and always works.

Every function builds a ``matplotlib.figure.Figure`` of its own with the Agg canvas, never
pyplot's global "current figure": nothing pops up in a script, nothing leaks between tests, and
figures are freed when you drop them. The Figure is returned (adjust it, ``fig.savefig(...)``
it); ``path=`` also saves it as a PNG, atomically (a half-written file never appears under the
name). In Jupyter a returned Figure shows itself as the cell's output.

Examples::

    >>> from minnet import plot
    >>> hist = model.fit(x, y, epochs=5, validation_split=0.1)
    >>> plot.history(hist, path="curves.png")
    >>> plot.images(x_test[:20], y_test[:20], predictions=pred[:20], class_names=names)
    >>> plot.confusion_matrix(y_test, pred, class_names=names, normalize=True)
"""

import math
import os
from collections.abc import Mapping

import numpy as np

from minnet._atomic import atomic_write

__all__ = ["history", "images", "confusion_matrix", "confusion_counts"]

_INSTALL = 'pip install "minnet-nn[plot]" (or pip install matplotlib)'
_figure_class = None


def _new_figure(who, figsize):
    """A fresh Figure on the Agg canvas; ImportError naming the install command without
    matplotlib."""
    global _figure_class
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"minnet.plot.{who} needs matplotlib: {_INSTALL}") from None
    if _figure_class is None:

        class PlotFigure(Figure):
            """A Figure that Jupyter displays as a PNG even when pyplot was never imported
            (IPython then has no formatter for figures)."""

            def _repr_png_(self):
                import io

                buf = io.BytesIO()
                self.savefig(buf, format="png")
                return buf.getvalue()

        _figure_class = PlotFigure
    fig = _figure_class(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path):
    """Save as PNG through a temporary file in the same folder and os.replace, so a reader
    (or a crash) never sees a half-written file under ``path``."""
    if path is None:
        return
    with atomic_write(os.fspath(path)) as f:
        fig.savefig(f, format="png")


# ---- training curves ----------------------------------------------------------------------
def history(history, path=None, metrics=None):
    """Training curves: one subplot per metric (``loss`` first), the training value and,
    when recorded, the validation value (the ``val_`` key) against the epoch.

    Args:
        history: a Keras ``History`` (what ``model.fit`` returns; its ``.history`` dict is
            used) or a dict of lists such as ``{"loss": [...], "val_loss": [...]}``.
        path (str, optional): also save the figure there as a PNG.
        metrics (list of str, optional): the metrics to draw, by their training name
            (``["loss", "accuracy"]``). Default: all.

    Returns:
        matplotlib.figure.Figure

    Each series is drawn against its own epochs 1, 2, ...: with ``validation_freq > 1`` the
    validation list is shorter, and its points then sit at the wrong epochs.
    """
    logs = history.history if hasattr(history, "history") else history
    if not isinstance(logs, Mapping):
        raise TypeError(
            f"history: expected a Keras History or a dict of lists, got {type(history).__name__}"
        )
    if not logs:
        raise ValueError("history: the history is empty (nothing was recorded)")
    series = {k: np.asarray(v, dtype=np.float64).reshape(-1) for k, v in logs.items()}
    names = []  # training names, in order, loss first
    for k in series:
        base = k[4:] if k.startswith("val_") else k
        if base not in names:
            names.append(base)
    names.sort(key=lambda n: n != "loss")  # stable: only moves loss to the front
    if metrics is not None:
        metrics = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in metrics if m not in names]
        if unknown or not metrics:
            raise ValueError(
                f"history: metrics={metrics} is not among the recorded metrics {names}"
            )
        names = metrics

    fig = _new_figure("history", figsize=(4.0 * len(names), 3.2))
    from matplotlib.ticker import MaxNLocator

    for ax, name in zip(fig.subplots(1, len(names), squeeze=False)[0], names):
        for key, label, style in ((name, "training", "-o"), ("val_" + name, "validation", "-s")):
            if key in series:
                y = series[key]
                ax.plot(np.arange(1, len(y) + 1), y, style, markersize=3, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5
        ax.grid(alpha=0.3)
        ax.legend()
    _save(fig, path)
    return fig


# ---- image grids --------------------------------------------------------------------------
def _as_images(x):
    """(N, H, W) or (N, H, W, 3) for imshow from (N, H, W), (N, H, W, 1|3) or (N, 1|3, H, W);
    floats outside [0, 1] scaled into it."""
    x = np.asarray(x)
    if x.ndim == 4 and x.shape[-1] not in (1, 3) and x.shape[1] in (1, 3):
        x = x.transpose(0, 2, 3, 1)  # channels first (minnet.nn) -> last
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[-1] == 3)):
        raise ValueError(
            f"images: x must be (N, H, W), (N, H, W, 1|3) or (N, 1|3, H, W), "
            f"got shape {np.shape(x)}"
        )
    if len(x) == 0:
        raise ValueError("images: x holds no images (shape {})".format(x.shape))
    if x.dtype == np.uint8:
        return x, 255
    x = x.astype(np.float64)
    lo, hi = x.min(), x.max()
    if lo < 0 or hi > 1:  # e.g. standardised pixels: back to [0, 1]
        x = (x - lo) / (hi - lo if hi > lo else 1.0)
    return x, 1.0


def _class_vector(values, n, arg, class_names):
    """A length-n vector of class indices (valid indices into class_names when given)."""
    if values is None:
        return None
    v = np.asarray(values)
    if v.ndim != 1 or len(v) != n:
        raise ValueError(f"images: {arg} must have one entry per image ({n}), got shape {v.shape}")
    if class_names is not None and v.dtype.kind not in "iu":
        raise ValueError(
            f"images: with class_names, {arg} must be integer class indices, got dtype {v.dtype}"
        )
    if class_names is not None and (v.min() < 0 or v.max() >= len(class_names)):
        raise ValueError(
            f"images: {arg} holds values outside 0..{len(class_names) - 1} "
            f"(class_names has {len(class_names)} names)"
        )
    return v


def images(x, labels=None, predictions=None, class_names=None, ncols=None, path=None):
    """A grid of images, titled with their labels; wrong predictions in red as
    "predicted (true)".

    Args:
        x: images, (N, H, W), (N, H, W, 1|3) (Keras) or (N, 1|3, H, W) (minnet.nn); uint8
            0..255 or floats (scaled into [0, 1] when outside it).
        labels (sequence, optional): the true label of each image.
        predictions (sequence, optional): the predicted label of each image.
        class_names (sequence of str, optional): names for the integer labels.
        ncols (int, optional): images per row. Default: up to 10.
        path (str, optional): also save the figure there as a PNG.

    Returns:
        matplotlib.figure.Figure
    """
    x, vmax = _as_images(x)
    n = len(x)
    labels = _class_vector(labels, n, "labels", class_names)
    predictions = _class_vector(predictions, n, "predictions", class_names)
    if ncols is None:
        ncols = min(n, 10)
    if isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ValueError(f"images: ncols must be a positive integer, got {ncols!r}")
    ncols = min(int(ncols), n)
    nrows = math.ceil(n / ncols)

    def name(v):
        return str(class_names[int(v)]) if class_names is not None else str(v)

    titled = labels is not None or predictions is not None
    fig = _new_figure("images", figsize=(1.4 * ncols, (1.65 if titled else 1.4) * nrows))
    for i, ax in enumerate(fig.subplots(nrows, ncols, squeeze=False).ravel()):
        ax.set_axis_off()
        if i >= n:
            continue  # the last row's empty cells
        ax.imshow(x[i], cmap="gray", vmin=0, vmax=vmax, interpolation="nearest")
        if predictions is not None and labels is not None and predictions[i] != labels[i]:
            ax.set_title(f"{name(predictions[i])} ({name(labels[i])})", color="red", fontsize=8)
        elif predictions is not None or labels is not None:
            ax.set_title(
                name(predictions[i] if predictions is not None else labels[i]), fontsize=8
            )
    _save(fig, path)
    return fig


# ---- confusion matrices -------------------------------------------------------------------
def _labels_1d(y, arg):
    """Integer class indices from labels (N,) or from scores / one-hot rows (N, K)."""
    y = np.asarray(y)
    if y.ndim == 2:
        return y.argmax(axis=1), y.shape[1]
    if y.ndim != 1:
        raise ValueError(
            f"confusion_counts: {arg} must be class indices (N,) or scores "
            f"(N, K), got shape {y.shape}"
        )
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise ValueError(
            f"confusion_counts: {arg} must hold integer class indices, got non-integer values"
        )
    if len(y) and y.min() < 0:
        raise ValueError(f"confusion_counts: {arg} holds a negative class index ({y.min()})")
    return y.astype(np.int64), None


def confusion_counts(y_true, y_pred, num_classes=None):
    """The (K, K) confusion matrix: ``m[i, j]`` = how many samples of true class i were
    predicted as class j (rows true, columns predicted, as scikit-learn). Needs only NumPy.

    Args:
        y_true: true classes, (N,) integers, or (N, K) one-hot rows.
        y_pred: predicted classes, (N,) integers, or (N, K) scores (argmax taken).
        num_classes (int, optional): K. Default: from (N, K) inputs, else the largest
            class index seen + 1.

    Returns:
        numpy.ndarray of int64, shape (K, K).
    """
    t, kt = _labels_1d(y_true, "y_true")
    p, kp = _labels_1d(y_pred, "y_pred")
    if len(t) != len(p):
        raise ValueError(
            f"confusion_counts: y_true and y_pred must have the same length, "
            f"got shapes {np.shape(y_true)} and {np.shape(y_pred)}"
        )
    seen = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    if num_classes is None:
        num_classes = max(kt or 0, kp or 0, seen)
    if (
        isinstance(num_classes, bool)
        or not isinstance(num_classes, (int, np.integer))
        or num_classes < 1
    ):
        raise ValueError(
            f"confusion_counts: num_classes must be a positive integer, got {num_classes!r}"
        )
    if seen > num_classes:
        raise ValueError(
            f"confusion_counts: class index {seen - 1} is out of range for "
            f"num_classes={num_classes}"
        )
    k = int(num_classes)
    # each (true, predicted) pair is one cell; bincount counts them all in one pass
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def confusion_matrix(y_true, y_pred, class_names=None, normalize=False, path=None):
    """The confusion matrix as a heatmap, each cell annotated with its count (or fraction).

    Args:
        y_true, y_pred: as for :func:`confusion_counts`.
        class_names (sequence of str, optional): the names on the axes; their number is K.
        normalize (bool): divide each row by its total, so a cell is the fraction of that
            true class predicted as that column (scikit-learn's ``normalize="true"``) and the
            diagonal is the per-class recall. Default: False (counts).
        path (str, optional): also save the figure there as a PNG.

    Returns:
        matplotlib.figure.Figure
    """
    k = None if class_names is None else len(class_names)
    m = confusion_counts(y_true, y_pred, num_classes=k)
    k = len(m)
    if normalize:
        totals = m.sum(axis=1, keepdims=True)
        values = m / np.maximum(totals, 1)  # a class never seen keeps a row of zeros
    else:
        values = m
    names = (
        [str(c) for c in class_names] if class_names is not None else [str(i) for i in range(k)]
    )

    size = 2.0 + 0.55 * k
    fig = _new_figure("confusion_matrix", figsize=(size + 1.0, size))
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = values.max() / 2  # white text on the dark cells
    for i in range(k):
        for j in range(k):
            text = f"{values[i, j]:.2f}" if normalize else str(values[i, j])
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="white" if values[i, j] > threshold else "black",
            )
    _save(fig, path)
    return fig
