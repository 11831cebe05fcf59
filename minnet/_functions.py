"""The core differentiable operations: one :class:`minnet.autograd.Function` per op, its
forward and backward side by side, on NumPy arrays (the Tensor methods and free functions of
:mod:`minnet.tensor` apply them). Broadcasting in a forward is undone in the backward
(:func:`_unbroadcast`). The activations and softmax the Tensor methods need live here too, below
``minnet.nn``, which builds its functional layer on them.
"""

import builtins

import numpy as np

from minnet import _arena, kernels
from minnet._dtypes import get_default_dtype
from minnet.autograd import Function


def _unbroadcast(g, shape):
    """Sum g over the axes that broadcasting added or stretched, giving an array of shape."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _is_advanced(index):
    items = index if isinstance(index, tuple) else (index,)
    return any(
        isinstance(i, np.ndarray)
        and i.ndim > 0
        or isinstance(i, np.ndarray)
        and i.dtype == np.bool_
        for i in items
    )


# ---- Functions: arithmetic ---------------------------------------------------------------
class Add(Function):
    def forward(self, a, b):
        self.shapes = getattr(a, "shape", ()), getattr(b, "shape", ())
        return np.add(a, b)

    def backward(self, g):
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (_unbroadcast(g, sa) if na else None, _unbroadcast(g, sb) if nb else None)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = getattr(a, "shape", ()), getattr(b, "shape", ())
        return np.subtract(a, b)

    def backward(self, g):
        sa, sb = self.shapes
        na, nb = self.needs_input_grad
        return (_unbroadcast(g, sa) if na else None, _unbroadcast(-g, sb) if nb else None)


class Mul(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        return np.multiply(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        return (
            _unbroadcast(g * b, np.shape(a)) if na else None,
            _unbroadcast(g * a, np.shape(b)) if nb else None,
        )


class Div(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        out = np.true_divide(a, b)
        if out.dtype.kind == "f" and np.result_type(a, b).kind != "f":
            out = out.astype(get_default_dtype())  # int / int is a float tensor, as in PyTorch
        return out

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        return (
            _unbroadcast(g / b, np.shape(a)) if na else None,
            _unbroadcast(-g * a / (b * b), np.shape(b)) if nb else None,
        )


class Pow(Function):
    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = np.power(a, b)
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        ga = gb = None
        if na:
            ga = _unbroadcast(g * b * np.power(a, b - 1), np.shape(a))
        if nb:
            with np.errstate(divide="ignore", invalid="ignore"):
                # d(a^b)/db = a^b log a, taken as 0 where a == 0 (as PyTorch does)
                gb = g * np.where(np.asarray(a) == 0, 0, self.out * np.log(a))
            gb = _unbroadcast(gb, np.shape(b))
        return ga, gb


class Neg(Function):
    def forward(self, x):
        return np.negative(x)

    def backward(self, g):
        return -g


class Cast(Function):
    def forward(self, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.dtype)


class Clone(Function):
    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


# ---- Functions: elementwise maths --------------------------------------------------------
class Exp(Function):
    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, g):
        return g * self.y


class Log(Function):
    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, g):
        return g / self.x


class Sqrt(Function):
    def forward(self, x):
        self.y = np.sqrt(x)
        return self.y

    def backward(self, g):
        return g / (2 * self.y)


class Abs(Function):
    def forward(self, x):
        self.x = x
        return np.abs(x)

    def backward(self, g):
        return g * np.sign(self.x)


class Clamp(Function):
    def forward(self, x, lo, hi):
        self.mask = None
        if lo is not None:
            self.mask = x >= lo
        if hi is not None:
            m = x <= hi
            self.mask = m if self.mask is None else self.mask & m
        return np.clip(x, lo, hi).astype(x.dtype, copy=False)

    def backward(self, g):
        return g * self.mask


class Maximum(Function):
    def forward(self, a, b, is_max):
        # ties share the gradient equally, as PyTorch does for maximum/minimum
        out = np.maximum(a, b) if is_max else np.minimum(a, b)
        self.wa = np.where(a == b, 0.5, (a > b) if is_max else (a < b)).astype(out.dtype)
        self.shapes = np.shape(a), np.shape(b)
        return out

    def backward(self, g):
        na, nb = self.needs_input_grad
        sa, sb = self.shapes
        return (
            _unbroadcast(g * self.wa, sa) if na else None,
            _unbroadcast(g * (1 - self.wa), sb) if nb else None,
        )


class Where(Function):
    def forward(self, cond, a, b):
        self.cond = cond
        self.shapes = np.shape(a), np.shape(b)
        return np.where(cond, a, b)

    def backward(self, g):
        _, na, nb = self.needs_input_grad
        sa, sb = self.shapes
        zero = np.zeros((), g.dtype)
        return (
            None,
            _unbroadcast(np.where(self.cond, g, zero), sa) if na else None,
            _unbroadcast(np.where(self.cond, zero, g), sb) if nb else None,
        )


# ---- Functions: reductions ---------------------------------------------------------------
def _expand_reduced(g, shape, axes, keepdim):
    """Bring a reduced gradient back to the input shape (a read-only broadcast view)."""
    if not keepdim and axes:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


class Sum(Function):
    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        return np.sum(
            x, axis=axes, keepdims=keepdim, dtype=np.int64 if x.dtype.kind in "biu" else None
        )

    def backward(self, g):
        return _expand_reduced(g, self.shape, self.axes, self.keepdim)


class Mean(Function):
    def forward(self, x, axes, keepdim):
        self.shape, self.axes, self.keepdim = x.shape, axes, keepdim
        self.count = int(np.prod([x.shape[a] for a in axes]))
        return np.mean(x, axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_reduced(g / self.count, self.shape, self.axes, self.keepdim)


class Var(Function):
    def forward(self, x, axes, ddof, keepdim):
        self.axes, self.keepdim = axes, keepdim
        self.centered = x - x.mean(axis=axes, keepdims=True)
        self.denom = builtins.max(int(np.prod([x.shape[a] for a in axes])) - ddof, 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.sum(self.centered**2, axis=axes, keepdims=keepdim) / self.denom

    def backward(self, g):
        if not self.keepdim and self.axes:
            g = np.expand_dims(g, self.axes)
        return g * (2.0 / self.denom) * self.centered


class Extreme(Function):
    """max/min of all elements (ties share the gradient) or along one axis (the gradient
    goes to the index argmax/argmin reports, as with PyTorch's max(dim))."""

    def forward(self, x, axis, keepdim, is_max):
        self.shape, self.axis, self.keepdim, self.is_max = x.shape, axis, keepdim, is_max
        if axis is None:
            out = x.max() if is_max else x.min()
            self.mask = x == out
            return np.asarray(out)
        self.idx = (np.argmax if is_max else np.argmin)(x, axis=axis, keepdims=True)
        out = np.take_along_axis(x, self.idx, axis=axis)
        return out if keepdim else np.squeeze(out, axis)

    def backward(self, g):
        if self.axis is None:
            return self.mask * (g / np.count_nonzero(self.mask))
        gx = np.zeros(self.shape, dtype=g.dtype)
        if not self.keepdim:
            g = np.expand_dims(g, self.axis)
        np.put_along_axis(gx, self.idx, g, axis=self.axis)
        return gx


# ---- Functions: shape --------------------------------------------------------------------
class Reshape(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, g):
        return g.reshape(self.shape)


class Permute(Function):
    def forward(self, x, perm):
        self.inv = tuple(np.argsort(perm))
        return x.transpose(perm)

    def backward(self, g):
        return g.transpose(self.inv)


class BroadcastTo(Function):
    def forward(self, x, shape):
        self.shape = x.shape
        return np.broadcast_to(x, shape)

    def backward(self, g):
        return _unbroadcast(g, self.shape)


class Index(Function):
    def forward(self, x, index):
        self.shape, self.index = x.shape, index
        try:
            return x[index]
        except IndexError as e:
            raise IndexError(f"index: {e} (tensor of shape {x.shape})") from None

    def backward(self, g):
        gx = np.zeros(self.shape, dtype=g.dtype)
        if _is_advanced(self.index):
            np.add.at(gx, self.index, g)  # repeated indices accumulate
        else:
            gx[self.index] = g
        return gx


class Cat(Function):
    def forward(self, *xs, axis):
        self.axis = axis
        self.bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=axis)

    def backward(self, g):
        parts = np.split(g, self.bounds, axis=self.axis)
        return tuple(p if need else None for p, need in zip(parts, self.needs_input_grad))


class Stack(Function):
    def forward(self, *xs, axis):
        self.axis = axis
        return np.stack(xs, axis=axis)

    def backward(self, g):
        return tuple(
            np.take(g, i, axis=self.axis) if need else None
            for i, need in enumerate(self.needs_input_grad)
        )


# ---- Functions: matmul -------------------------------------------------------------------
class MatMul(Function):
    """a @ b. Two matrices go through minnet.kernels.gemm; other ranks through np.matmul
    (1-D operands promoted as in NumPy, batch dims broadcast)."""

    def forward(self, a, b):

        self.a, self.b = a, b
        if a.ndim == 2 and b.ndim == 2 and a.dtype.kind == "f":
            self.gemm = True
            return kernels.gemm(a, b, out=_arena.empty((a.shape[0], b.shape[1]), a.dtype))
        self.gemm = False
        return np.matmul(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        na, nb = self.needs_input_grad
        if self.gemm:
            return (
                kernels.gemm(g, b, trans_b=True, out=_arena.empty(a.shape, a.dtype))
                if na
                else None,
                kernels.gemm(a, g, trans_a=True, out=_arena.empty(b.shape, b.dtype))
                if nb
                else None,
            )
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        out_shape = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (
            a2.shape[-2],
            b2.shape[-1],
        )
        g2 = g.reshape(out_shape)
        ga = gb = None
        if na:
            ga = _unbroadcast(np.matmul(g2, np.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if nb:
            gb = _unbroadcast(np.matmul(np.swapaxes(a2, -1, -2), g2), b2.shape).reshape(b.shape)
        return ga, gb


# ---- Functions: activations and softmax ---------------------------------------------------
# The one seam with the elementwise kernels (csrc/eltwise.c; spec: minnet.reference.eltwise).
# Tensor.relu() and friends apply these; minnet.nn.functional adds argument conversion.
def _act_fwd(x, act, alpha=None, out=None):
    """y := act(x); act is 'relu', 'leaky_relu', 'elu', 'gelu', 'gelu_tanh', 'sigmoid' or
    'tanh'; alpha is leaky_relu's negative_slope and elu's alpha."""
    return kernels.act_forward(x, act, alpha=alpha, out=out)


def _act_bwd(dy, s, act, alpha=None, out=None):
    """dx := dy * act'(.); s is the forward output for sigmoid and tanh, else the input."""
    return kernels.act_backward(dy, s, act, alpha=alpha, out=out)


def _softmax_fwd(x, log, out=None):
    """Softmax (or log-softmax) over the last axis, stable for any finite logits."""
    return kernels.softmax(x, log=log, out=out)


def _softmax_bwd(dy, y, log, out=None):
    """dx := y (dy - sum dy y) (softmax), dy - exp(y) sum dy (log-softmax), per last-axis row."""
    return kernels.softmax_backward(dy, y, log=log, out=out)


def _floating(x, name, op):
    if x.dtype.kind != "f":
        raise TypeError(
            f"{op}: {name} must be a floating tensor (float32 or float64), got {x.dtype}"
        )


class Activation(Function):
    """y = act(x) for the activations of _act_fwd; the backward keeps x, or y for sigmoid
    and tanh (whose derivatives are cheapest from the output)."""

    def forward(self, x, act, alpha):
        self.act, self.alpha = act, alpha
        y = _act_fwd(x, act, alpha, out=_arena.empty(x.shape, x.dtype))
        self.s = y if kernels.ACT_BACKWARD_INPUT[act] == "y" else x
        return y

    def backward(self, g):
        return _act_bwd(g, self.s, self.act, self.alpha, out=_arena.empty(g.shape, g.dtype))


def activation(input, act, alpha, op):
    """act(input) for a Tensor input, as one Activation node; op names the caller."""
    _floating(input, "input", op)
    return Activation.apply(input, act=act, alpha=alpha)


class Softmax(Function):
    def forward(self, x, axis, log):
        self.axis, self.log = axis, log
        last = axis == x.ndim - 1
        xs = x if last else np.moveaxis(x, axis, -1)
        y = _softmax_fwd(xs, log, out=_arena.empty(xs.shape, xs.dtype))
        self.y = y  # kept with the softmax axis last
        return y if last else np.moveaxis(y, -1, axis)

    def backward(self, g):
        last = self.axis == g.ndim - 1
        gs = g if last else np.moveaxis(g, self.axis, -1)
        dx = _softmax_bwd(gs, self.y, self.log, out=_arena.empty(gs.shape, gs.dtype))
        return dx if last else np.moveaxis(dx, -1, self.axis)


def softmax(input, dim, log, op):
    """Softmax (log=True: log-softmax) of the Tensor input along dim; op names the caller."""
    _floating(input, "input", op)
    nd = input.ndim
    if nd == 0:
        input = input.reshape(1)
        return softmax(input, 0, log, op).reshape(())
    if not -nd <= dim < nd:
        raise IndexError(f"{op}: dim {dim} out of range for input of shape {input.shape}")
    return Softmax.apply(input, axis=dim % nd, log=log)
