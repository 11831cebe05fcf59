"""minnet.Tensor: a NumPy array plus what autograd needs (requires_grad, grad, the node that
made it) and the tensor methods, each applying an op of :mod:`minnet._functions`.
"""

import builtins
import collections
import numbers

import numpy as np

from minnet import autograd
from minnet._dtypes import (
    _to_dtype,
    get_default_dtype,
)
from minnet._functions import (
    Abs,
    Add,
    BroadcastTo,
    Cast,
    Clamp,
    Clone,
    Div,
    Exp,
    Extreme,
    Index,
    Log,
    MatMul,
    Maximum,
    Mean,
    Mul,
    Neg,
    Permute,
    Pow,
    Reshape,
    Sqrt,
    Sub,
    Sum,
    Var,
    activation,
    softmax,
)
from minnet.device import _TORCH_TYPES, accelerator_error, check_cpu
from minnet.device import CPU as _CPU
from minnet.device import device as _Device


def _as_array(data, dtype=None):
    """NumPy array for data: Python floats become the default dtype, ints int64; arrays and
    NumPy scalars keep their dtype unless ``dtype`` is given."""
    if isinstance(data, Tensor):
        arr = data.data
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.asarray(data)
    else:
        arr = np.asarray(data)
        if dtype is None:
            if arr.dtype.kind == "f":
                arr = arr.astype(get_default_dtype())
            elif arr.dtype.kind in "iu":
                arr = arr.astype(np.int64, copy=False)
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if arr.dtype.kind not in "fiub":
        raise TypeError(
            f"tensor: unsupported data of dtype {arr.dtype} "
            f"(expected numbers, got {type(data).__name__})"
        )
    return arr


def _size_args(size, fn):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (numbers.Integral,)) or isinstance(s, bool) or s < 0:
            raise ValueError(f"{fn}: sizes must be non-negative ints, got {size}")
    return tuple(int(s) for s in size)


def _dims_arg(dims):
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def _resolve_shape(shape, old, size):
    """shape with its -1 worked out; ValueError naming both shapes when it cannot hold size."""
    shape = tuple(int(s) for s in shape)
    known = 1
    free = [i for i, s in enumerate(shape) if s == -1]
    for s in shape:
        if s != -1:
            known *= s
    bad = len(free) > 1 or any(s < -1 for s in shape)
    if not bad and free:
        if known == 0 or size % known:
            bad = True
        else:
            shape = shape[: free[0]] + (size // known,) + shape[free[0] + 1 :]
    elif not bad:
        bad = known != size
    if bad:
        raise RuntimeError(
            f"reshape: shape {shape} is invalid for a tensor of shape {old} ({size} elements)"
        )
    return shape


def _norm_dim(dim, ndim, fn):
    if not -builtins.max(ndim, 1) <= dim < builtins.max(ndim, 1):
        raise IndexError(f"{fn}: dim {dim} out of range for a tensor with {ndim} dims")
    return dim % builtins.max(ndim, 1)


def _norm_dims(dim, ndim, fn):
    """dim (None, int or tuple) as a sorted tuple of non-negative axes (None: all)."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (tuple, list)):
        return tuple(sorted(_norm_dim(d, ndim, fn) for d in dim))
    return (_norm_dim(dim, ndim, fn),)


class Tensor:
    """An n-dimensional array that can record the operations applied to it.

    Args:
        data: array-like. A NumPy array is used as is (no copy); Python floats become
            float32 (the default dtype), Python ints int64.
        requires_grad: record operations on this tensor so ``backward`` can fill ``.grad``.
            Only floating tensors may require grad.
        dtype: optional NumPy dtype to convert to.

    Attributes:
        data: the underlying ``numpy.ndarray``; optimizers update it in place.
        grad: a Tensor accumulated by ``backward`` (for leaves), or None.

    Examples:
        >>> x = minnet.tensor([[1.0, 2.0]], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([[2., 4.]])
    """

    __slots__ = ("data", "requires_grad", "grad", "_ctx", "_retains_grad", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators (ndarray + Tensor)

    def __init__(self, data, requires_grad=False, dtype=None):
        self.data = _as_array(data, dtype)
        self.grad = None
        self._ctx = None
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, arr):
        """A Tensor around arr without checks (used by Function.apply)."""
        t = object.__new__(Tensor)
        t.data = arr if type(arr) is np.ndarray else np.asarray(arr)
        t.requires_grad = False
        t.grad = None
        t._ctx = None
        t._retains_grad = False
        return t

    # ---- facts --------------------------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def device(self):
        """Always ``minnet.device('cpu')``."""
        return _CPU

    @property
    def is_cuda(self):
        return False

    def is_floating_point(self):
        return self.data.dtype.kind == "f"

    @property
    def is_leaf(self):
        """True for tensors not made by a recorded operation (parameters, inputs)."""
        return self._ctx is None

    @property
    def grad_fn(self):
        """The Function that made this tensor (None for leaves)."""
        return self._ctx

    def size(self, dim=None):
        """The shape as a tuple, or the extent of one dim."""
        if dim is None:
            return self.data.shape
        return self.data.shape[_norm_dim(dim, self.data.ndim, "size")]

    def dim(self):
        return self.data.ndim

    def numel(self):
        return self.data.size

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="tensor(")
        extra = ""
        if self.data.dtype not in (get_default_dtype(), np.int64, np.bool_) or self.data.size == 0:
            extra += f", dtype={self.data.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn={self._ctx!r}"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    # ---- conversion ---------------------------------------------------------------------
    def numpy(self):
        """The underlying NumPy array (shared, not copied)."""
        return self.data

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to Python "
                f"scalars, got shape {self.data.shape}"
            )
        return self.data.item()

    def tolist(self):
        return self.data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(f"bool value of a tensor with shape {self.data.shape} is ambiguous")
        return bool(self.data.item())

    def __index__(self):
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError("only integer tensors of a single element can be an index")
        return int(self.data.item())

    __hash__ = object.__hash__

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def to(self, *args, **kwargs):
        """This tensor converted, with PyTorch's signatures: ``to(dtype)``,
        ``to(device=None, dtype=None)``, ``to(other)`` (other's dtype), each with
        ``non_blocking`` (ignored) and ``copy``. The device must be the CPU (a ``'cuda'``
        device raises); returns self when nothing changes and ``copy`` is False. Between
        floating dtypes the conversion is differentiable."""
        dtype, copy = _to_args(args, kwargs, "Tensor.to")
        if dtype is None or dtype == self.data.dtype:
            return Clone.apply(self) if copy else self
        return Cast.apply(self, dtype=dtype)

    def type(self, dtype):
        return self.to(dtype)

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def type_as(self, other):
        return self.to(other.dtype)

    def cpu(self):
        return self

    def cuda(self, *args, **kwargs):
        raise accelerator_error("Tensor.cuda()")

    def contiguous(self):
        return self

    # new tensors with this one's dtype (and device), as torch's Tensor.new_*
    def _dtype_or(self, dtype):
        return self.data.dtype if dtype is None else dtype

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return _filled(np.zeros, "zeros", size, self._dtype_or(dtype), requires_grad, device)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _filled(np.ones, "ones", size, self._dtype_or(dtype), requires_grad, device)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _filled(np.empty, "empty", size, self._dtype_or(dtype), requires_grad, device)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        dt = self._dtype_or(dtype)
        return _filled(np.full, "full", (size,), dt, requires_grad, device, fill_value)

    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return tensor(
            data, dtype=self._dtype_or(dtype), device=device, requires_grad=requires_grad
        )

    # ---- autograd -----------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=False):
        """Accumulate the gradient of this tensor into ``.grad`` of every leaf it depends on.

        Args:
            gradient: d(loss)/d(self), needed unless self has one element.
            retain_graph: keep the graph's saved values so backward can run through it
                again; by default they are freed and a second backward raises.
        """
        autograd.backward(self, gradient, retain_graph)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.data.dtype.kind != "f":
            raise RuntimeError(
                f"only floating point tensors can require gradients, got dtype {self.data.dtype}"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(self)`` after each backward has accumulated this leaf's ``.grad``, as
        soon as it is complete (the rest of the backward may still be running).

        Returns:
            a handle whose ``remove()`` unregisters the hook.

        Examples:
            >>> w = minnet.zeros(3, requires_grad=True)
            >>> h = w.register_post_accumulate_grad_hook(lambda t: print(t.grad))
        """
        return autograd.register_post_accumulate_grad_hook(self, hook)

    def retain_grad(self):
        """Also keep ``.grad`` for this non-leaf tensor during backward."""
        if self._ctx is not None:
            self._retains_grad = True

    def detach(self):
        """A new leaf tensor sharing this one's data, outside the graph."""
        return Tensor._wrap(self.data)

    def detach_(self):
        self._ctx = None
        self.requires_grad = False
        return self

    def clone(self):
        """A copy of the data that stays in the graph."""
        return Clone.apply(self)

    # ---- in place (no graph) ------------------------------------------------------------
    def _check_inplace(self, op):
        if autograd.is_grad_enabled() and self.requires_grad:
            if self._ctx is None:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad is being used in "
                    f"an in-place operation; wrap it in minnet.no_grad()"
                )
            raise RuntimeError(
                f"{op}: in-place changes to a tensor recorded in the graph are not supported"
            )

    def zero_(self):
        self._check_inplace("zero_")
        self.data[...] = 0
        return self

    def fill_(self, value):
        self._check_inplace("fill_")
        self.data[...] = value
        return self

    def copy_(self, src):
        self._check_inplace("copy_")
        self.data[...] = src.data if isinstance(src, Tensor) else src
        return self

    def __setitem__(self, index, value):
        self._check_inplace("__setitem__")
        self.data[_index_arg(index)] = value.data if isinstance(value, Tensor) else value

    # ---- arithmetic ---------------------------------------------------------------------
    def _other(self, other, op):
        """other as something the binary Functions take: a Tensor, an ndarray or a Python
        scalar, with dtypes chosen like PyTorch (a float wins over an int; Python scalars
        do not widen a tensor's dtype)."""
        kind = self.data.dtype.kind
        if isinstance(other, Tensor):
            okind = other.data.dtype.kind
            if okind != "f" and kind == "f":
                return other.data.astype(self.data.dtype)
            return other
        if isinstance(other, np.generic):
            other = other.item()  # NumPy scalars act like Python scalars, as in PyTorch
        if isinstance(other, numbers.Number):
            if kind != "f" and isinstance(other, float):
                return np.asarray(other, dtype=get_default_dtype())
            if isinstance(other, complex):
                raise TypeError(f"{op}: complex numbers are not supported")
            return other
        if isinstance(other, np.ndarray):
            okind = other.dtype.kind
            if okind not in "fiub":
                raise TypeError(f"{op}: unsupported operand of dtype {other.dtype}")
            if okind != "f" and kind == "f":
                return np.asarray(other, dtype=self.data.dtype)
            if okind == "f" and kind == "f" and other.dtype.itemsize < self.data.itemsize:
                return np.asarray(other, dtype=self.data.dtype)
            return np.asarray(other)
        raise TypeError(f"{op}: unsupported operand type {type(other).__name__}")

    def _self_for(self, other):
        """self, cast to float when an int tensor meets a floating operand."""
        if self.data.dtype.kind != "f":
            okind = (
                other.data.dtype.kind
                if isinstance(other, Tensor)
                else np.asarray(other).dtype.kind
            )
            if okind == "f":
                odt = other.data.dtype if isinstance(other, Tensor) else np.asarray(other).dtype
                return self.data.astype(odt)
        return self

    def _binary(self, cls, other, op, reverse=False):
        other = self._other(other, op)
        me = self._self_for(other)
        return cls.apply(other, me) if reverse else cls.apply(me, other)

    def __add__(self, other):
        return self._binary(Add, other, "add")

    def __radd__(self, other):
        return self._binary(Add, other, "add", reverse=True)

    def __sub__(self, other):
        return self._binary(Sub, other, "sub")

    def __rsub__(self, other):
        return self._binary(Sub, other, "sub", reverse=True)

    def __mul__(self, other):
        return self._binary(Mul, other, "mul")

    def __rmul__(self, other):
        return self._binary(Mul, other, "mul", reverse=True)

    def __truediv__(self, other):
        return self._binary(Div, other, "div")

    def __rtruediv__(self, other):
        return self._binary(Div, other, "div", reverse=True)

    def __pow__(self, other):
        return self._binary(Pow, other, "pow")

    def __rpow__(self, other):
        return self._binary(Pow, other, "pow", reverse=True)

    # in place: `p -= lr * p.grad` under no_grad updates p's array, as in PyTorch
    def _inplace(self, other, ufunc, cls, op):
        o = other.data if isinstance(other, Tensor) else other
        if autograd.is_grad_enabled() and (
            self.requires_grad or (isinstance(other, Tensor) and other.requires_grad)
        ):
            if self._ctx is None and self.requires_grad:
                raise RuntimeError(
                    f"{op}: a leaf tensor that requires grad is being used in "
                    f"an in-place operation; wrap it in minnet.no_grad()"
                )
            return self._binary(cls, other, op)  # recorded: a new node, as x = x + y
        try:
            ufunc(self.data, o, out=self.data, casting="same_kind")
        except TypeError as e:
            raise TypeError(
                f"{op}: cannot update a {self.data.dtype} tensor in place with "
                f"{np.asarray(o).dtype} values ({e})"
            ) from None
        return self

    def __iadd__(self, other):
        return self._inplace(other, np.add, Add, "add_")

    def __isub__(self, other):
        return self._inplace(other, np.subtract, Sub, "sub_")

    def __imul__(self, other):
        return self._inplace(other, np.multiply, Mul, "mul_")

    def __itruediv__(self, other):
        return self._inplace(other, np.true_divide, Div, "div_")

    def add_(self, other, alpha=1):
        return self.__iadd__(other if alpha == 1 else other * alpha)

    def sub_(self, other, alpha=1):
        return self.__isub__(other if alpha == 1 else other * alpha)

    def mul_(self, other):
        return self.__imul__(other)

    def div_(self, other):
        return self.__itruediv__(other)

    def __matmul__(self, other):
        return matmul(self, other)

    def __rmatmul__(self, other):
        return matmul(other, self)

    def __neg__(self):
        return Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return Abs.apply(self)

    add = __add__
    sub = __sub__
    mul = __mul__
    div = __truediv__
    pow = __pow__
    neg = __neg__
    abs = __abs__

    def matmul(self, other):
        return matmul(self, other)

    # comparisons: plain boolean tensors, never differentiable
    def _compare(self, other, ufunc):
        o = other.data if isinstance(other, Tensor) else other
        return Tensor._wrap(ufunc(self.data, o))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    lt, le, gt, ge, eq, ne = __lt__, __le__, __gt__, __ge__, __eq__, __ne__

    def __invert__(self):
        return Tensor._wrap(~self.data)

    def __and__(self, other):
        return self._compare(
            other, np.logical_and if self.data.dtype == np.bool_ else np.bitwise_and
        )

    def __or__(self, other):
        return self._compare(
            other, np.logical_or if self.data.dtype == np.bool_ else np.bitwise_or
        )

    def __floordiv__(self, other):
        return self._compare(other, np.floor_divide)

    def __mod__(self, other):
        return self._compare(other, np.mod)

    # ---- elementwise maths --------------------------------------------------------------
    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def sqrt(self):
        return Sqrt.apply(self)

    def clamp(self, min=None, max=None):
        """Limit values to [min, max]; the gradient flows where min <= x <= max."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return Clamp.apply(self, lo=min, hi=max)

    clip = clamp

    def relu(self):
        return activation(self, "relu", 0.0, "relu")

    def sigmoid(self):
        return activation(self, "sigmoid", 0.0, "sigmoid")

    def tanh(self):
        return activation(self, "tanh", 0.0, "tanh")

    def softmax(self, dim):
        return softmax(self, dim, False, "softmax")

    def log_softmax(self, dim):
        return softmax(self, dim, True, "log_softmax")

    def maximum(self, other):
        return maximum(self, other)

    def minimum(self, other):
        return minimum(self, other)

    # ---- reductions ---------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        """Sum over dim (an int, a tuple, or None for all). Integer and bool tensors sum to
        int64, as in PyTorch; ``dtype`` converts the input first."""
        x = self if dtype is None else self.to(dtype)
        return Sum.apply(x, axes=_norm_dims(dim, x.data.ndim, "sum"), keepdim=keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        """Mean over dim (an int, a tuple, or None for all) of a floating tensor (or of any
        tensor converted to the floating ``dtype`` first)."""
        x = self if dtype is None else self.to(dtype)
        if x.data.dtype.kind != "f":
            raise TypeError(f"mean: needs a floating tensor (or dtype=), got {x.data.dtype}")
        return Mean.apply(x, axes=_norm_dims(dim, x.data.ndim, "mean"), keepdim=keepdim)

    def var(self, dim=None, unbiased=True, keepdim=False, correction=None):
        """Variance over dim with Bessel's correction (``unbiased`` or ``correction=``)."""
        ddof = (1 if unbiased else 0) if correction is None else correction
        return Var.apply(
            self, axes=_norm_dims(dim, self.data.ndim, "var"), ddof=ddof, keepdim=keepdim
        )

    def std(self, dim=None, unbiased=True, keepdim=False, correction=None):
        return self.var(dim, unbiased, keepdim, correction).sqrt()

    def _extreme(self, dim, keepdim, is_max, other, name):
        if isinstance(dim, Tensor) or other is not None:
            o = dim if other is None else other
            return maximum(self, o) if is_max else minimum(self, o)
        if dim is None:
            if self.data.size == 0:
                raise RuntimeError(f"{name}: empty tensor has no {name}")
            return Extreme.apply(self, axis=None, keepdim=False, is_max=is_max)
        axis = _norm_dim(dim, self.data.ndim, name)
        values = Extreme.apply(self, axis=axis, keepdim=keepdim, is_max=is_max)
        idx = (np.argmax if is_max else np.argmin)(self.data, axis=axis, keepdims=keepdim)
        return (_MaxResult if is_max else _MinResult)(values, Tensor._wrap(idx))

    def max(self, dim=None, keepdim=False, other=None):
        """The maximum: of all elements (dim=None, a 0-d tensor), or along dim, returning
        ``(values, indices)`` like PyTorch; ``x.max(y)`` with a tensor is ``maximum``."""
        return self._extreme(dim, keepdim, True, other, "max")

    def min(self, dim=None, keepdim=False, other=None):
        """Like :meth:`max`, for the minimum."""
        return self._extreme(dim, keepdim, False, other, "min")

    def _arg_extreme(self, dim, keepdim, fn, name):
        if dim is None:  # index into the flattened tensor; keepdim keeps every dim as 1
            idx = np.asarray(fn(self.data), dtype=np.int64)
            return Tensor._wrap(idx.reshape((1,) * self.data.ndim) if keepdim else idx)
        axis = _norm_dim(dim, self.data.ndim, name)
        return Tensor._wrap(
            fn(self.data, axis=axis, keepdims=keepdim).astype(np.int64, copy=False)
        )

    def argmax(self, dim=None, keepdim=False):
        """Index of the (first) maximum along dim, or in the flattened tensor when dim is
        None, as int64."""
        return self._arg_extreme(dim, keepdim, np.argmax, "argmax")

    def argmin(self, dim=None, keepdim=False):
        """Index of the (first) minimum along dim, or in the flattened tensor, as int64."""
        return self._arg_extreme(dim, keepdim, np.argmin, "argmin")

    # ---- shape --------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = _resolve_shape(_dims_arg(shape), self.data.shape, self.data.size)
        if shape == self.data.shape:
            return self
        return Reshape.apply(self, shape=shape)

    view = reshape

    def view_as(self, other):
        return self.reshape(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        """Merge dims start_dim..end_dim into one."""
        nd = self.data.ndim
        if nd == 0:
            return self.reshape(1)
        s = _norm_dim(start_dim, nd, "flatten")
        e = _norm_dim(end_dim, nd, "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}")
        shape = self.data.shape
        return self.reshape(shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :])

    def transpose(self, dim0, dim1):
        nd = self.data.ndim
        perm = list(range(nd))
        a, b = _norm_dim(dim0, nd, "transpose"), _norm_dim(dim1, nd, "transpose")
        perm[a], perm[b] = perm[b], perm[a]
        return Permute.apply(self, perm=tuple(perm))

    def permute(self, *dims):
        dims = _dims_arg(dims)
        nd = self.data.ndim
        if len(dims) != nd:
            raise ValueError(f"permute: got {len(dims)} dims {dims} for a tensor with {nd} dims")
        perm = tuple(_norm_dim(d, nd, "permute") for d in dims)
        if sorted(perm) != list(range(nd)):
            raise ValueError(f"permute: dims {dims} are not a permutation of range({nd})")
        return Permute.apply(self, perm=perm)

    @property
    def T(self):
        """The tensor with its dims reversed (the transpose of a matrix)."""
        return Permute.apply(self, perm=tuple(range(self.data.ndim))[::-1])

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def t(self):
        """The transpose of a matrix; a 0-d or 1-d tensor is returned as is (as torch)."""
        if self.data.ndim > 2:
            raise ValueError(
                f"t: expects a tensor with <= 2 dims, got shape {self.data.shape}; "
                f"use transpose(dim0, dim1)"
            )
        return self if self.data.ndim < 2 else self.transpose(0, 1)

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(s for s in self.data.shape if s != 1)
        else:
            axes = _norm_dims(dim, self.data.ndim, "squeeze")
            shape = tuple(s for i, s in enumerate(self.data.shape) if not (i in axes and s == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim):
        nd = self.data.ndim + 1
        d = _norm_dim(dim, nd, "unsqueeze")
        return self.reshape(self.data.shape[:d] + (1,) + self.data.shape[d:])

    def expand(self, *sizes):
        """Broadcast to sizes (-1 keeps a dim) without copying."""
        sizes = _dims_arg(sizes)
        lead = len(sizes) - self.data.ndim
        if lead < 0:
            raise ValueError(
                f"expand: {len(sizes)} sizes {sizes} for a tensor of shape {self.data.shape}"
            )
        shape = tuple(self.data.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
        try:
            np.broadcast_shapes(self.data.shape, shape)
        except ValueError:
            raise ValueError(f"expand: cannot expand shape {self.data.shape} to {sizes}") from None
        return BroadcastTo.apply(self, shape=shape)

    def expand_as(self, other):
        return self.expand(other.shape)

    def split(self, split_size_or_sections, dim=0):
        """Pieces along dim: of split_size each (the last may be smaller), or of the listed
        sizes. Each piece is a view node; their gradients meet in this tensor."""
        axis = _norm_dim(dim, self.data.ndim, "split")
        n = self.data.shape[axis]
        if isinstance(split_size_or_sections, (int, np.integer)):
            step = int(split_size_or_sections)
            if step <= 0:
                raise ValueError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, n - i) for i in range(0, n, step)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != n:
                raise ValueError(
                    f"split: sizes {sizes} do not add up to {n}, the extent of "
                    f"dim {dim} in shape {self.data.shape}"
                )
        lead = (slice(None),) * axis
        starts = np.cumsum([0] + sizes[:-1])
        return tuple(self[lead + (slice(int(a), int(a) + s),)] for a, s in zip(starts, sizes))

    def chunk(self, chunks, dim=0):
        """Split into `chunks` pieces of ceil(n / chunks) along dim (fewer when n is small)."""
        n = self.data.shape[_norm_dim(dim, self.data.ndim, "chunk")]
        return self.split(max(-(-n // chunks), 1), dim)

    def __getitem__(self, index):
        return Index.apply(self, index=_index_arg(index))


# what max(dim) / min(dim) return, named like torch.return_types.max / .min


_MaxResult = collections.namedtuple("max", ["values", "indices"])
_MinResult = collections.namedtuple("min", ["values", "indices"])


def _index_arg(index):
    """An index with Tensors replaced by their arrays (and lists by arrays)."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(
            i.data if isinstance(i, Tensor) else (np.asarray(i) if isinstance(i, list) else i)
            for i in index
        )
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _to_args(args, kwargs, what):
    """(dtype or None, copy) from the arguments of ``Tensor.to`` / ``Module.to``, which take
    PyTorch's three forms: ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``, plus
    ``non_blocking``, ``copy`` and ``memory_format`` (ignored but ``copy``). A device must
    be the CPU. A string is a device when it names one ('cpu', 'cuda:0'), else a NumPy
    dtype name ('float64', a minnet extension)."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{what}() got unexpected keyword arguments {sorted(unknown)}")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    copy = kwargs.get("copy", False)
    args = list(args)
    if args and isinstance(args[0], Tensor):
        dtype = args.pop(0).data.dtype
    elif args and (
        isinstance(args[0], _Device)
        or (isinstance(args[0], str) and args[0].partition(":")[0] in _TORCH_TYPES)
    ):
        device = args.pop(0)
        if args and not isinstance(args[0], bool):
            dtype = args.pop(0)
    elif args and not isinstance(args[0], bool):
        dtype = args.pop(0)
    if args:  # positional non_blocking, then copy (their order in torch)
        if len(args) > 2 or not all(isinstance(a, bool) for a in args):
            raise TypeError(f"{what}(): unexpected positional arguments {args}")
        if len(args) == 2:
            copy = args[1]
    check_cpu(device, f"{what}: device")
    return (None if dtype is None else _to_dtype(dtype, what)), bool(copy)


def matmul(a, b):
    """Matrix product with NumPy's rules for 1-D and batched operands."""
    if not isinstance(a, Tensor):
        a = Tensor(a)
    if not isinstance(b, Tensor):
        b = Tensor(b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: both operands need at least one dim, got shapes {a.shape} and {b.shape}"
        )
    ka = a.shape[-1]
    kb = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if ka != kb:
        raise ValueError(
            f"matmul: shapes {a.shape} and {b.shape} cannot be multiplied ({ka} != {kb})"
        )
    if a.dtype != b.dtype and a.dtype.kind == "f" and b.dtype.kind == "f":
        raise TypeError(f"matmul: operands must have the same dtype, got {a.dtype} and {b.dtype}")
    if (a.dtype.kind == "f") != (b.dtype.kind == "f"):
        raise TypeError(f"matmul: cannot multiply {a.dtype} by {b.dtype}; convert one with .to()")
    return MatMul.apply(a, b)


def maximum(input, other):
    """Elementwise maximum (ties share the gradient)."""
    if not isinstance(input, Tensor):
        input = Tensor(input)
    return Maximum.apply(input, input._other(other, "maximum"), is_max=True)


def minimum(input, other):
    """Elementwise minimum (ties share the gradient)."""
    if not isinstance(input, Tensor):
        input = Tensor(input)
    return Maximum.apply(input, input._other(other, "minimum"), is_max=False)


def _filled(make, what, size, dtype, requires_grad, device, *fill):
    """A new tensor of ``make(shape, *fill, dtype)`` (np.zeros, np.ones, np.empty, np.full):
    the one body of the ``what`` factory and of Tensor.new_<what>, with their checks."""
    check_cpu(device, f"{what}: device")
    return Tensor(make(_size_args(size, what), *fill, dtype), requires_grad)


def tensor(data, dtype=None, requires_grad=False, *, device=None, pin_memory=False):
    """A new tensor holding a copy of data (Python floats become float32)."""
    check_cpu(device, "tensor: device")
    arr = _as_array(data, dtype)
    if isinstance(data, (np.ndarray, Tensor)) and (
        arr is data or (isinstance(data, Tensor) and arr is data.data)
    ):
        arr = arr.copy()
    return Tensor(arr, requires_grad=requires_grad)


autograd.register_tensor_type(Tensor)
