"""Argument checks and reduction helpers shared by every form of minnet.nn.functional: each
names the op and the argument in its message, as PyTorch's do."""

import numpy as np

from minnet.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(x, name, op):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, np.generic, list, tuple, int, float)):
        return Tensor(np.asarray(x) if isinstance(x, (np.ndarray, np.generic)) else x)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _floating(x, name, op):
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}: {name} must be a floating tensor (float32 or float64), got {x.dtype}"
        )


def _same_dtype(op, **named):
    items = [(k, v) for k, v in named.items() if v is not None]
    first_name, first = items[0]
    for k, v in items[1:]:
        if v.dtype != first.dtype:
            raise TypeError(
                f"{op}: {k} has dtype {v.dtype} but {first_name} has dtype "
                f"{first.dtype}; convert one with .to(dtype)"
            )


def _check_reduction(reduction, op, extra=()):
    if reduction not in _REDUCTIONS + tuple(extra):
        allowed = ", ".join(repr(r) for r in _REDUCTIONS + tuple(extra))
        raise ValueError(f"{op}: reduction must be one of {allowed}, got {reduction!r}")


def _same_shape(input, target, op):
    if input.shape != target.shape:
        raise ValueError(
            f"{op}: input shape {input.shape} and target shape {target.shape} "
            f"differ (they must match; reshape one, e.g. target.view(-1, 1))"
        )


def _target_like(target, input, op):
    """target as a floating tensor of input's dtype (it may require grad)."""
    target = _tensor(target, "target", op)
    if target.dtype != input.dtype:
        if target.dtype.kind == "f" and target.requires_grad:
            raise TypeError(f"{op}: target has dtype {target.dtype} but input has {input.dtype}")
        target = Tensor(target.data.astype(input.dtype))
    return target


def _input_and_target(input, target, reduction, op, extra=()):
    """The checks every elementwise loss makes: reduction, a floating input, a target of the
    same shape converted to the input's dtype."""
    _check_reduction(reduction, op, extra)
    input = _tensor(input, "input", op)
    _floating(input, "input", op)
    target = _target_like(target, input, op)
    _same_shape(input, target, op)
    return input, target


def _const(x, dtype):
    """An optional non-differentiated argument (class weights, pos_weight) as an array."""
    if x is None:
        return None
    arr = x.data if isinstance(x, Tensor) else np.asarray(x)
    return arr.astype(dtype, copy=False)


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average/reduce arguments (kept so positional calls line up)
    turned into a reduction, by PyTorch's own rule."""
    if size_average is None and reduce is None:
        return reduction
    for name, v in (("size_average", size_average), ("reduce", reduce)):
        if v is not None and not isinstance(v, (bool, np.bool_)):
            raise TypeError(
                f"{name} must be None or a bool, got {v!r} (pass the reduction "
                f"by keyword: reduction={v!r})"
            )
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _reduce(loss, reduction):
    if reduction == "mean":
        if loss.size == 0:
            return np.asarray(np.nan, dtype=loss.dtype)  # as PyTorch, without numpy's warning
        return np.asarray(loss.mean(dtype=np.float64), dtype=loss.dtype)
    if reduction == "sum":
        return np.asarray(loss.sum(dtype=np.float64), dtype=loss.dtype)
    return loss


def _reduce_over(loss, reduction, denom):
    """'none': loss; 'sum': its sum; 'mean': the sum over denom (0/0 is nan, as in PyTorch)."""
    if reduction == "none":
        return loss
    total = loss.sum(dtype=np.float64)
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            total = np.float64(total) / denom
    return np.asarray(total, loss.dtype)


def _reduce_grad(g, reduction, n):
    """The gradient of the reduction, to multiply the elementwise derivative by."""
    return g / n if reduction == "mean" else g


def _broadcastable(shape, to, name, op):
    try:
        if np.broadcast_shapes(shape, to) == to:
            return
    except ValueError:
        pass
    raise ValueError(f"{op}: {name} of shape {shape} cannot be broadcast to input shape {to}")


def _check_targets(t_n, c, ignore_index, op):
    if t_n.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: class-index target must have an integer dtype, got "
            f"{t_n.dtype}; for class probabilities pass a float target of the "
            f"input's shape"
        )
    bad = ((t_n < 0) | (t_n >= c)) & (t_n != ignore_index)
    if bad.any():
        raise ValueError(
            f"{op}: target {t_n[bad][0]} out of range [0, {c})"
            + (f" (ignore_index is {ignore_index})" if ignore_index != -100 else "")
        )


def _class_weight(weight, c, dtype, op):
    w = _const(weight, dtype)
    if w is not None and w.shape != (c,):
        raise ValueError(f"{op}: weight must have shape ({c},) (one per class), got {w.shape}")
    return w


def _stat_array(x, name, c, op):
    if x is None:
        return None
    arr = x.data if isinstance(x, Tensor) else x
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"{op}: {name} must be a Tensor or numpy.ndarray, got {type(x).__name__}")
    if arr.shape != (c,):
        raise ValueError(f"{op}: {name} must have shape ({c},), got {arr.shape}")
    return arr


def _array_tensor(x, name, op):
    """x as a Tensor: a Tensor or a numpy.ndarray (the conv and pool forms take no lists)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return Tensor(x)
    raise TypeError(f"{op}: {name} must be a Tensor, got {type(x).__name__}")


def _floating_same(op, **named):
    """Every named tensor (None skipped) floating, and all of one dtype."""
    first = None
    for name, t in named.items():
        if t is None:
            continue
        if t.dtype.kind != "f":
            raise TypeError(f"{op}: {name} must be a floating tensor, got {t.dtype}")
        if first is None:
            first = (name, t)
        elif t.dtype != first[1].dtype:
            raise TypeError(
                f"{op}: {name} has dtype {t.dtype} but {first[0]} has dtype {first[1].dtype}"
            )


def _batched(input, rank, op, what):
    """(input as rank-D, was it unbatched): PyTorch also takes one unbatched sample."""
    if input.ndim == rank:
        return input, False
    if input.ndim == rank - 1:
        return input.reshape((1,) + tuple(input.shape)), True
    raise ValueError(
        f"{op}: expected {rank}-D input {what} (or {rank - 1}-D unbatched), got "
        f"input of shape {tuple(input.shape)}"
    )


# =========================================================================================
# Convolution
# =========================================================================================
