"""The buffer arena: arrays reused from one training step to the next.

Fresh memory is expensive (about 3 us to touch each new 4 KiB page; an array allocated and
freed every step is re-faulted every step once glibc hands it back to the OS). So the
autograd Functions take their outputs and gradients from :func:`empty`, which keeps a few
arrays per ``(shape, dtype)`` and hands out one that nobody is using any more.

"Nobody is using it" is decided by the reference count, not by a promise: a pooled array is
free when the pool's own list is its only holder. A Tensor, a saved activation, a view
(``reshape``, slicing: a view holds its base), a ``.grad``, a user's variable, an
``np.asarray`` or ``torch.from_numpy`` of it all hold a reference, so a buffer is never handed
out while anything can still see it, and nothing needs to give buffers back: when the graph is
freed after ``backward()`` (or the user drops a result) its arrays become free by themselves.
When a new shape turns up (another batch size, another model), the free arrays of shapes not
asked for lately are dropped; ``minnet.empty_cache()`` drops them all.

Arrays are only ever handed out through ``empty`` (contents undefined, like ``np.empty``): the
kernels that fill them overwrite every element, so training with the arena on and off gives
bitwise-identical results (tested). Switch it off with ``minnet._arena.enabled = False``;
``minnet.empty_cache()`` drops every pooled array (those still in use live on with their
users, outside the pool).
"""

import sys

import numpy as np

__all__ = ["empty", "clear", "pooled_bytes", "is_pooled", "enabled"]

enabled = True
MAX_PER_KEY = 16  # live same-shaped buffers per (shape, dtype) we keep track of
MAX_BYTES = 512 << 20  # pooled bytes beyond which new arrays are not pooled
IDLE_CALLS = 1 << 14  # a shape not asked for in this many calls is forgotten when a new
# shape turns up

_getrefcount = sys.getrefcount
_np_empty = np.empty
_pools = {}  # (shape, dtype) -> [arrays]
_pooled = set()  # id() of the arrays the pools hold (they stay alive: ids stable)
_bytes = 0
_tick = 0  # calls of empty() so far
_last_use = {}  # (shape, dtype) -> _tick of its last call
# sys.getrefcount(a) of a pooled array held by nothing else, seen from the loop in empty():
# the pool's list, the loop variable and getrefcount's own argument.
_FREE = 3


def empty(shape, dtype):
    """An uninitialised C-contiguous array of ``shape`` (a tuple of ints) and ``dtype`` (a
    ``numpy.dtype`` instance, e.g. ``x.dtype``: the key is hashed as given), reused from an
    earlier step when one of that shape is no longer referenced."""
    global _tick
    if not enabled:
        return _np_empty(shape, dtype)
    key = (shape, dtype)
    _tick += 1
    pool = _pools.get(key)
    if pool is not None:
        _last_use[key] = _tick
        for a in pool:
            if _getrefcount(a) == _FREE:
                return a
    else:  # a shape not seen lately: the shapes changed, forget the long-idle ones
        _forget_idle()
        _last_use[key] = _tick
    a = _np_empty(shape, dtype)
    _adopt(key, pool, a)
    return a


def _forget_idle():
    """Drop the free arrays of the shapes not asked for in the last IDLE_CALLS calls (another
    batch size, a model no longer trained)."""
    global _bytes
    for key in [k for k, t in _last_use.items() if _tick - t > IDLE_CALLS]:
        keep = []
        for a in _pools.get(key, ()):
            if _getrefcount(a) > _FREE:
                keep.append(a)
            else:
                _pooled.discard(id(a))
                _bytes -= a.nbytes
        if keep:
            _pools[key] = keep
        else:
            _pools.pop(key, None)
            del _last_use[key]


def _adopt(key, pool, a):
    global _bytes
    if pool is None:
        pool = _pools[key] = []
    elif len(pool) >= MAX_PER_KEY:
        return
    if _bytes + a.nbytes > MAX_BYTES:
        _trim()
        if _bytes + a.nbytes > MAX_BYTES:
            return
        pool = _pools.setdefault(key, [])
        _last_use[key] = _tick
    pool.append(a)
    _pooled.add(id(a))
    _bytes += a.nbytes


def _trim():
    """Forget the free arrays of every pool (shapes from an earlier phase, e.g. another batch
    size); the ones in use stay pooled."""
    global _bytes
    for key in list(_pools):
        keep = []
        for a in _pools[key]:
            if _getrefcount(a) > _FREE:
                keep.append(a)
            else:
                _pooled.discard(id(a))
                _bytes -= a.nbytes
        if keep:
            _pools[key] = keep
        else:
            del _pools[key]
            _last_use.pop(key, None)


def is_pooled(a):
    """True when ``a`` is one of the arena's arrays."""
    return id(a) in _pooled


def pooled_bytes():
    """Bytes of the arrays the arena holds (free or in use)."""
    return _bytes


def clear():
    """Drop every pooled array; returns the bytes of those that were free (released now)."""
    global _bytes
    freed = 0
    for pool in _pools.values():
        for a in pool:
            if _getrefcount(a) <= _FREE:
                freed += a.nbytes
    _pools.clear()
    _pooled.clear()
    _last_use.clear()
    _bytes = 0
    return freed
