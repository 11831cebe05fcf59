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
backward returned (only into sums it made itself). A leaf's first ``.grad`` is the returned
array itself when nothing else references it, else a copy, so a Function may return a
workspace it reuses from step to step.

Memory: a Function should take the arrays it returns (outputs, input gradients) from
``minnet._arena.empty(shape, dtype)`` and pass them to the kernels as ``out=``. The arena hands
an array out again only once nothing references it (the graph was freed, the user dropped
it), so a steady-state training step reuses the previous step's buffers instead of faulting
in fresh pages (see minnet/_arena.py).
"""

import functools
import sys
import threading
import weakref

import numpy as np

from minnet import _arena

__all__ = [
    "Function",
    "backward",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "queue_callback",
]

# The tensor type this engine records and wraps. minnet._tensor (the layer above, which
# imports this module) registers it once with register_tensor_type: the engine needs the type
# for isinstance checks and to wrap results, and must not import the layer that builds on it.
Tensor = None


class _GradState(threading.local):
    enabled = True  # the class attribute is every new thread's default, found without a miss
    callbacks = None  # the running backward's queue_callback list (None outside backward)


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


class inference_mode(_GradMode):
    """``torch.inference_mode(mode=True)``: a context manager (or decorator, with or without
    parentheses) for evaluation code. In minnet it is :class:`no_grad` (PyTorch's extra
    bookkeeping savings have no counterpart here); ``inference_mode(False)`` turns recording
    on, as leaving inference mode does in PyTorch.

    Examples:
        >>> @minnet.inference_mode()
        ... def predict(model, x): return model(x).argmax(1)
    """

    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = is_grad_enabled()
        _state.enabled = not self.mode
        return self

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


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


_new = object.__new__
_object_init = object.__init__
_wrap = None  # Tensor._wrap, set by register_tensor_type


def register_tensor_type(cls):
    """Make ``cls`` the tensor type of the engine: Function.apply unwraps instances of it and
    wraps results with ``cls._wrap(array)``. minnet._tensor calls this once, for Tensor."""
    global Tensor, _wrap
    if Tensor is not None and Tensor is not cls:
        raise RuntimeError(f"autograd: a tensor type is already registered ({Tensor.__name__})")
    Tensor, _wrap = cls, cls._wrap


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
        fn = _new(cls)
        if cls.__init__ is not _object_init:  # a subclass with its own (no-argument) __init__
            fn.__init__()
        raw = list(args)
        parents = [None] * len(args)
        needs = [False] * len(args)
        track = False
        enabled = _state.enabled
        i = 0
        for a in args:
            if isinstance(a, Tensor):
                raw[i] = a.data
                parents[i] = a
                if enabled and a.requires_grad:
                    needs[i] = track = True
            i += 1
        fn.needs_input_grad = tuple(needs)
        result = _wrap(fn.forward(*raw, **kwargs))
        if track and result.data.dtype.kind == "f":
            result.requires_grad = True
            result._ctx = fn
            fn.parents = tuple(parents)
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


# Post-accumulate-grad hooks (Tensor.register_post_accumulate_grad_hook): id(leaf) -> (a weak
# reference to the leaf, its hooks). Kept here rather than in a Tensor slot so the hot
# Tensor._wrap sets nothing more; the engine looks at it only when it is not empty.
_post_hooks = {}


class RemovableHandle:
    """What registering a hook returns: ``handle.remove()`` unregisters it."""

    def __init__(self, key, hook):
        self._key, self._hook = key, hook

    def remove(self):
        entry = _post_hooks.get(self._key)
        if entry is not None:
            hooks = entry[1]
            if self._hook in hooks:
                hooks.remove(self._hook)
            if not hooks:
                del _post_hooks[self._key]


def register_post_accumulate_grad_hook(tensor, hook):
    """Call ``hook(tensor)`` each time a backward has finished accumulating ``tensor.grad``
    (a leaf that requires grad), as soon as no node left in that backward can add to it, in
    the order of registration. :meth:`minnet.Tensor.register_post_accumulate_grad_hook`."""
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: hook must be callable, got {hook!r}")
    if tensor._ctx is not None:
        raise RuntimeError(
            "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be "
            "registered on non-leaf tensors"
        )
    if not tensor.requires_grad:
        raise RuntimeError(
            "register_post_accumulate_grad_hook: cannot register a hook on a tensor that "
            "doesn't require gradient"
        )
    key = id(tensor)
    entry = _post_hooks.get(key)
    if entry is None or entry[0]() is not tensor:
        # the callback drops the entry when the tensor dies (its id may then be reused)
        ref = weakref.ref(tensor, lambda _, k=key, d=_post_hooks: d.pop(k, None))
        entry = _post_hooks[key] = (ref, [])
    entry[1].append(hook)
    return RemovableHandle(key, hook)


def _run_post_hooks(leaf):
    entry = _post_hooks.get(id(leaf))
    if entry is not None and entry[0]() is leaf:
        for hook in list(entry[1]):
            hook(leaf)


def queue_callback(callback):
    """Run ``callback()`` once the running backward has finished (every ``.grad`` set and
    every post-accumulate-grad hook run); PyTorch's
    ``Variable._execution_engine.queue_callback``. Only valid inside a backward, from a
    post-accumulate-grad hook.
    """
    callbacks = _state.callbacks
    if callbacks is None:
        raise RuntimeError("queue_callback: can only be called while a backward is running")
    callbacks.append(callback)


def _last_uses(order):
    """{index in order: [hooked leaves whose gradient is complete after that node]}."""
    last = {}
    for i, t in enumerate(order):
        for p in t._ctx.parents:
            if p is not None and p._ctx is None and p.requires_grad and id(p) in _post_hooks:
                last[id(p)] = (i, p)
    finish = {}
    for i, p in last.values():
        finish.setdefault(i, []).append(p)
    return finish


_SECOND_BACKWARD = (
    "backward: trying to backward through the graph a second time (or directly access saved "
    "tensors after they have already been freed). Saved intermediate values of the graph are "
    "freed when you call .backward(). Specify retain_graph=True if you need to backward "
    "through the graph a second time."
)


_ONES = {}


def _ones(shape, dtype):
    """A read-only array of ones: the implicit gradient of a one-element root, made once per
    shape and dtype (backward never writes into a gradient it is given)."""
    key = (shape, dtype)
    g = _ONES.get(key)
    if g is None:
        g = np.ones(shape, dtype)
        g.flags.writeable = False
        _ONES[key] = g
    return g


def _order(root):
    """The nodes (tensors made by a recorded op) that root depends on, root first, each
    before all of its inputs: a depth-first post-order, reversed; iterative, no recursion.
    A node is marked visited when it is expanded (not when pushed), so one reached again
    deeper in the search still lands after everything that feeds a gradient into it."""
    # a chain (each node fed by at most one recorded tensor, as in a Sequential model): the
    # order is the chain itself
    order = []
    t = root
    while t is not None:
        ctx = t._ctx
        if ctx._released:
            raise RuntimeError(_SECOND_BACKWARD)
        order.append(t)
        t = None
        for p in ctx.parents:
            if p is not None and p._ctx is not None and p.requires_grad:
                if t is not None:
                    break
                t = p
        else:
            continue
        break  # a node fed by two recorded tensors: the general search below
    else:
        return order
    post = []
    visited = set()
    stack = [(root, False)]
    while stack:
        t, done = stack.pop()
        if done:
            post.append(t)
            continue
        k = id(t)
        if k in visited:
            continue
        visited.add(k)
        ctx = t._ctx
        if ctx._released:
            raise RuntimeError(_SECOND_BACKWARD)
        stack.append((t, True))
        for p in ctx.parents:
            if p is not None and p._ctx is not None and p.requires_grad and id(p) not in visited:
                stack.append((p, False))
    post.reverse()
    return post


def backward(root, gradient=None, retain_graph=False):
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires grad.

    ``gradient`` is d(loss)/d(root); it may be omitted only when root has one element.
    A leaf's post-accumulate-grad hooks run as soon as its gradient is complete; the
    callbacks they queue (:func:`queue_callback`) run at the end.
    """
    if not _post_hooks:  # no hooks, nothing can queue a callback: the plain engine
        _backward(root, gradient, retain_graph)
        return
    prev = _state.callbacks
    _state.callbacks = callbacks = []
    try:
        _backward(root, gradient, retain_graph)
        # a callback may queue another: run until the list is drained
        i = 0
        while i < len(callbacks):
            callbacks[i]()
            i += 1
    finally:
        _state.callbacks = prev


def _backward(root, gradient, retain_graph):
    if not root.requires_grad:
        raise RuntimeError(
            "backward: tensor does not require grad and has no grad_fn "
            "(was it computed under no_grad, or from leaves without "
            "requires_grad=True?)"
        )
    if gradient is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"backward: grad can be implicitly created only for scalar "
                f"outputs; this tensor has shape {root.data.shape}: pass "
                f"gradient= of that shape"
            )
        g = _ones(root.data.shape, root.data.dtype)
    else:
        g = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
        if g.shape != root.data.shape:
            raise RuntimeError(
                f"backward: gradient has shape {g.shape} but the tensor has "
                f"shape {root.data.shape}"
            )
        g = g.astype(root.data.dtype, copy=False)

    grads = {id(root): g}  # id(tensor) -> its gradient so far
    owned = set()  # ids whose gradient is a sum the engine made (safe to add into)
    leaves = {}
    if root._ctx is None:
        leaves[id(root)] = root
        order = ()
    else:
        order = _order(root)
    finish = _last_uses(order) if _post_hooks and order else None
    g = None
    for i, t in enumerate(order):
        key = id(t)
        g = grads.pop(key, None)
        owned.discard(key)
        if t._retains_grad and g is not None:
            _set_grad(t, g, adopt=False)  # g flows on: .grad gets a copy
        ctx = t._ctx
        if g is None:  # no path from root carries a gradient here
            if not retain_graph:
                ctx.release()
            if finish is not None and i in finish:
                _finish_leaves(finish.pop(i), grads, leaves)
            continue
        in_grads = ctx.backward(g)
        parents = ctx.parents
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        if len(in_grads) != len(parents):
            raise RuntimeError(
                f"{type(ctx).__name__}.backward returned {len(in_grads)} "
                f"gradients for {len(parents)} inputs"
            )
        for p, gp in zip(parents, in_grads):
            if p is None or gp is None or not p.requires_grad:
                continue
            pd = p.data
            if gp.shape != pd.shape:
                raise RuntimeError(
                    f"{type(ctx).__name__}.backward returned a gradient of "
                    f"shape {gp.shape} for an input of shape {pd.shape}"
                )
            if gp.dtype is not pd.dtype and gp.dtype != pd.dtype:
                gp = gp.astype(pd.dtype)
            k = id(p)
            prev = grads.get(k)
            if prev is None:
                grads[k] = gp
                if p._ctx is None:
                    leaves[k] = p
            elif k in owned:
                np.add(prev, gp, out=prev, casting="unsafe")
            else:
                grads[k] = np.add(prev, gp, out=_arena.empty(prev.shape, prev.dtype))
                owned.add(k)
        # drop this frame's references before the next node and the leaves: the arena
        # (and _set_grad's adoption) count references to know what is free
        in_grads = gp = prev = g = None
        if not retain_graph:
            ctx.release()
        if finish is not None and i in finish:
            _finish_leaves(finish.pop(i), grads, leaves)
    ctx = t = None
    for key, leaf in leaves.items():
        g = grads.pop(key, None)
        if g is not None:
            _set_grad(leaf, g)
            g = None
            if _post_hooks:
                _run_post_hooks(leaf)


def _finish_leaves(done, grads, leaves):
    """Set the complete gradients of the hooked leaves ``done`` and run their hooks, before
    the rest of the graph (what lets a DistributedDataParallel bucket start its allreduce
    while the backward goes on)."""
    for leaf in done:
        key = id(leaf)
        g = grads.pop(key, None)
        leaves.pop(key, None)
        if g is not None:
            _set_grad(leaf, g)
            g = None
            _run_post_hooks(leaf)


_getrefcount = sys.getrefcount
_pooled = _arena._pooled


def _set_grad(t, g, adopt=True):
    """t.grad += g, in place once t.grad exists (optimizers may hold on to the array).

    A first gradient is the array g itself when nothing else can see it (the engine's only
    reference; an arena buffer counts its pool's reference too), else a copy in an arena
    buffer: .grad never aliases an array a Function, the user or another gradient holds.
    """
    d = t.data
    if t.grad is None:
        # references to g: the caller's variable, this frame's argument, getrefcount's own
        free = 4 if id(g) in _pooled else 3
        if (
            adopt
            and _getrefcount(g) == free
            and g.base is None
            and g.dtype == d.dtype
            and g.shape == d.shape
            and g.flags.c_contiguous
            and g.flags.writeable
        ):
            t.grad = Tensor._wrap(g)
        else:
            buf = _arena.empty(d.shape, d.dtype)
            np.copyto(buf, g, casting="unsafe")
            t.grad = Tensor._wrap(buf)
    else:
        np.add(t.grad.data, g, out=t.grad.data, casting="unsafe")
