"""Reverse-mode automatic differentiation: the Function base class, grad mode, and the engine.

A graph node is a Function instance. Its ``forward`` receives NumPy arrays (Tensors unwrapped,
other arguments passed through) and returns one NumPy array; its ``backward`` receives the
gradient of that output and returns one gradient (an array, or None) per positional argument
of ``forward``. Write them next to each other::

    class Exp(Function):
        def forward(self, x):
            self.y = np.exp(x)
            return self.y

        def backward(self, grad):
            return grad * self.y

    y = Exp.apply(x)            # x a Tensor: y is a Tensor that remembers Exp and x

The engine (:func:`backward`) orders the graph with an iterative depth-first search, so a
chain of any depth works, sums the gradients of a tensor used several times, and then frees
what each node saved unless asked to retain the graph. It never writes into an array a
backward returned (only into sums it made itself), and a leaf's first ``.grad`` is a copy, so
a Function may return a workspace it reuses from step to step.
"""
import functools
import threading

import numpy as np

__all__ = ["Function", "backward", "no_grad", "enable_grad", "set_grad_enabled",
           "is_grad_enabled"]

# Filled in by minnet.tensor (which imports this module) to avoid an import cycle.
Tensor = None

class _GradState(threading.local):
    enabled = True  # the class attribute is every new thread's default, found without a miss


_state = _GradState()  # grad mode is per thread, as in PyTorch


def is_grad_enabled():
    """True when operations on tensors that require grad are recorded for backward."""
    return _state.enabled


class _GradMode:
    """Base of the grad-mode switches: a context manager that also decorates functions,
    with or without parentheses (``@no_grad()`` and ``@no_grad``)."""
    _enabled = True

    def __new__(cls, *args):
        if len(args) == 1 and callable(args[0]) and cls is not set_grad_enabled:
            return cls()(args[0])  # bare decorator: @no_grad
        return super().__new__(cls)

    def __enter__(self):
        self._prev = is_grad_enabled()
        _state.enabled = self._enabled
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Context manager (or decorator) in which no graph is recorded.

    Examples:
        >>> with minnet.no_grad():
        ...     y = model(x)          # y.requires_grad is False
        >>> @minnet.no_grad()
        ... def evaluate(model, x): ...
    """
    _enabled = False


class enable_grad(_GradMode):
    """Context manager (or decorator) that turns recording back on inside a no_grad block."""
    _enabled = True


class set_grad_enabled(_GradMode):
    """``set_grad_enabled(mode)``: switch recording on or off, as a call or a context manager."""

    def __init__(self, mode):
        self._enabled = bool(mode)
        self._prev = is_grad_enabled()
        _state.enabled = self._enabled

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self._enabled
        _state.enabled = self._prev  # used as a decorator: undo the switch made in __init__

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class Function:
    """One differentiable operation and, once applied, one node of the graph.

    Subclasses define ``forward(self, *args, **kwargs)`` on NumPy arrays, returning an array,
    and ``backward(self, grad)`` returning a gradient per positional argument (a single
    array when there is one argument). ``self.needs_input_grad[i]`` says whether argument i
    needs a gradient; return None for the others. Keyword arguments are never differentiated.
    Anything kept on ``self`` for the backward is dropped once the backward has run.
    """
    needs_input_grad = ()
    parents = None
    _released = False

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run forward on the unwrapped arguments; record the node when a gradient is needed."""
        fn = cls()
        track = False
        if _state.enabled:
            for a in args:
                if isinstance(a, Tensor) and a.requires_grad:
                    track = True
                    break
        if track:
            fn.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        else:
            fn.needs_input_grad = (False,) * len(args)
        out = fn.forward(*[a.data if isinstance(a, Tensor) else a for a in args], **kwargs)
        result = Tensor._wrap(out)
        if track and result.data.dtype.kind == "f":
            result.requires_grad = True
            result._ctx = fn
            fn.parents = tuple(a if isinstance(a, Tensor) else None for a in args)
        return result

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def backward(self, grad):
        raise NotImplementedError

    def release(self):
        """Drop everything the forward saved (and the links to the inputs)."""
        self.__dict__.clear()
        self._released = True

    def __repr__(self):
        return f"<{type(self).__name__}Backward>"


def _accumulate(grads, owned, key, g):
    prev = grads.get(key)
    if prev is None:
        grads[key] = g
    elif owned.get(key):
        np.add(prev, g, out=prev, casting="unsafe")
    else:
        grads[key] = prev + g
        owned[key] = True


def backward(root, gradient=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``gradient`` is d(loss)/d(root); it may be omitted only when root has one element.
    """
    if not root.requires_grad:
        raise RuntimeError("backward: tensor does not require grad and has no grad_fn "
                           "(was it computed under no_grad, or from leaves without "
                           "requires_grad=True?)")
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward: grad can be implicitly created only for scalar "
                               f"outputs; this tensor has shape {root.data.shape}: pass "
                               f"gradient= of that shape")
        g = np.ones_like(root.data)
    else:
        g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if g.shape != root.data.shape:
            raise RuntimeError(f"backward: gradient has shape {g.shape} but the tensor has "
                               f"shape {root.data.shape}")
        g = g.astype(root.data.dtype, copy=False)

    # Topological order by an iterative depth-first search (post-order); no recursion.
    order = []
    visited = set()
    stack = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        ctx = t._ctx
        if ctx is None:
            continue
        if ctx._released:
            raise RuntimeError(
                "backward: trying to backward through the graph a second time (or directly "
                "access saved tensors after they have already been freed). Saved "
                "intermediate values of the graph are freed when you call .backward(). "
                "Specify retain_graph=True if you need to backward through the graph a "
                "second time.")
        stack.append((t, True))
        for p in ctx.parents:
            if p is not None and p.requires_grad and id(p) not in visited:
                stack.append((p, False))

    grads = {id(root): g}
    owned = {}
    leaves = {}
    if root._ctx is None:
        leaves[id(root)] = root
    for t in reversed(order):
        key = id(t)
        g = grads.pop(key, None)
        owned.pop(key, None)
        if t._retains_grad and g is not None:
            _set_grad(t, g)
        ctx = t._ctx
        if g is None:  # no path from root carries a gradient here
            if not retain_graph:
                ctx.release()
            continue
        in_grads = ctx.backward(g)
        parents = ctx.parents
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if len(in_grads) != len(parents):
            raise RuntimeError(f"{type(ctx).__name__}.backward returned {len(in_grads)} "
                               f"gradients for {len(parents)} inputs")
        for p, gp in zip(parents, in_grads):
            if p is None or gp is None or not p.requires_grad:
                continue
            if gp.shape != p.data.shape:
                raise RuntimeError(f"{type(ctx).__name__}.backward returned a gradient of "
                                   f"shape {gp.shape} for an input of shape {p.data.shape}")
            if gp.dtype != p.data.dtype:
                gp = gp.astype(p.data.dtype)
            _accumulate(grads, owned, id(p), gp)
            if p._ctx is None:
                leaves[id(p)] = p
        if not retain_graph:
            ctx.release()
    for key, leaf in leaves.items():
        g = grads.get(key)
        if g is not None:
            _set_grad(leaf, g)


def _set_grad(t, g):
    """t.grad += g, in place once t.grad exists (optimizers may hold on to the array)."""
    if t.grad is None:
        t.grad = Tensor(np.array(g, dtype=t.data.dtype, copy=True))
    else:
        np.add(t.grad.data, g, out=t.grad.data, casting="unsafe")
