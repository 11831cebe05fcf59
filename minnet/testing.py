"""Test helpers: gradcheck compares autograd's gradients with central finite differences;
numerical_grad gives those differences for a plain NumPy function (the references' oracle)."""

import numpy as np

from minnet.tensor import Tensor

__all__ = ["gradcheck", "numerical_grad"]


def _outputs(fn, inputs):
    out = fn(*inputs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    outs = [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]
    if not outs:
        raise TypeError("gradcheck: fn must return a floating Tensor or a tuple of them")
    return outs


def numerical_grad(loss, arr, eps=1e-6):
    """d loss() / d arr by central differences: each element of ``arr`` (a float64 array that
    ``loss`` reads) is moved by +-eps in place and restored. ``loss``: no arguments, a float.

    Examples::

        >>> num = numerical_grad(lambda: float((f(x) * dy).sum()), x)
    """
    num = np.zeros_like(arr)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + eps
        up = loss()
        arr[i] = old - eps
        down = loss()
        arr[i] = old
        num[i] = (up - down) / (2 * eps)
    return num


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Check the full Jacobian of fn at inputs: autograd against central differences.

    Every input Tensor with requires_grad=True is perturbed element by element by +-eps;
    the numerical Jacobian ``(f(x + eps) - f(x - eps)) / (2 eps)`` must match the one
    backward builds (one backward per output element) within ``atol + rtol * |numerical|``.

    Args:
        fn: callable taking the inputs and returning a Tensor (or a tuple of Tensors).
        inputs: a Tensor or a sequence of arguments; those Tensors with requires_grad=True
            are checked and must be float64.
        eps, atol, rtol: step and tolerances.

    Returns:
        True.

    Raises:
        AssertionError naming the input, the worst element and both values.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input Tensor has requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {i} is {inputs[i].dtype}; finite differences "
                f"need float64 inputs"
            )

    outs = _outputs(fn, inputs)
    sizes = [o.data.size for o in outs]

    # analytical Jacobian: rows are output elements, one backward (retaining the graph) each
    analytical = {i: np.zeros((sum(sizes), inputs[i].data.size)) for i in checked}
    row = 0
    for o in outs:
        for k in range(o.data.size):
            if o.requires_grad:
                for i in checked:
                    inputs[i].grad = None
                seed = np.zeros(o.data.shape, o.dtype)
                seed.flat[k] = 1
                o.backward(seed, retain_graph=True)
                for i in checked:
                    if inputs[i].grad is not None:
                        analytical[i][row] = inputs[i].grad.data.reshape(-1)
            row += 1
    for i in checked:
        inputs[i].grad = None

    # numerical Jacobian: perturb each element of each checked input in place
    for i in checked:
        x = inputs[i].data
        flat = x.reshape(-1)  # a view when x is contiguous
        if not np.shares_memory(flat, x):
            raise ValueError(f"gradcheck: input {i} must be contiguous")
        numerical = np.zeros_like(analytical[i])
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            plus = np.concatenate(
                [o.data.reshape(-1).astype(np.float64) for o in _outputs(fn, inputs)]
            )
            flat[j] = orig - eps
            minus = np.concatenate(
                [o.data.reshape(-1).astype(np.float64) for o in _outputs(fn, inputs)]
            )
            flat[j] = orig
            numerical[:, j] = (plus - minus) / (2 * eps)
        err = np.abs(analytical[i] - numerical) - (atol + rtol * np.abs(numerical))
        if (err > 0).any() or not np.isfinite(analytical[i]).all():
            r, c = np.unravel_index(
                np.nanargmax(np.where(np.isfinite(err), err, np.inf)), err.shape
            )
            raise AssertionError(
                f"gradcheck: gradient of input {i} (shape {x.shape}) differs at input element "
                f"{np.unravel_index(c, x.shape)}, output element {r}: analytical "
                f"{analytical[i][r, c]!r}, numerical {numerical[r, c]!r} (|diff| "
                f"{abs(analytical[i][r, c] - numerical[r, c]):.3g} > atol {atol} + rtol "
                f"{rtol} * |numerical|)"
            )
    return True
