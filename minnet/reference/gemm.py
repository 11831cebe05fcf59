"""Reference GEMM: C := act(alpha * op(A) @ op(B) + beta * C + bias), and the column sum."""

import numpy as np

_ACTIVATIONS = {
    None: lambda x: x,
    "identity": lambda x: x,
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "sigmoid": lambda x: 0.5 * (1.0 + np.tanh(0.5 * x)),  # overflow-free logistic
    "tanh": np.tanh,
}


def gemm(
    a,
    b,
    *,
    trans_a=False,
    trans_b=False,
    alpha=1.0,
    beta=0.0,
    bias=None,
    activation=None,
    out=None,
):
    """Same contract as minnet.kernels.gemm (validation is the kernel's job, not the oracle's)."""
    if activation not in _ACTIVATIONS:
        raise ValueError(f"gemm: unknown activation {activation!r}")
    if beta != 0 and out is None:
        raise ValueError("gemm: beta != 0 needs out= holding C")
    op_a = a.T if trans_a else a
    op_b = b.T if trans_b else b
    dtype = a.dtype
    c = dtype.type(alpha) * (op_a @ op_b)
    if beta != 0:  # beta == 0: C is not read, as in BLAS
        c = c + dtype.type(beta) * out
    if bias is not None:
        c = c + bias
    c = _ACTIVATIONS[activation](c).astype(dtype, copy=False)
    if out is None:
        return c
    out[...] = c
    return out


def colsum(a, *, out=None, accumulate=False):
    """out[j] := sum_i a[i, j] (+ out[j] when accumulate)."""
    s = a.sum(axis=0)
    if out is None:
        return s
    if accumulate:
        out += s
    else:
        out[...] = s
    return out
