"""Shared helpers of the update rules: the dispatch to the fused C kernels, and for the NumPy
path the effective gradient and a per-parameter scratch buffer, so a step allocates nothing
after the first."""
import numpy as np

from minnet.optim.optimizer import grad_array

try:
    from minnet import kernels as _kernels
except ImportError:  # pragma: no cover - kernels not built
    _kernels = None

# Set to False to run every update in NumPy (the tests run both paths).
USE_KERNELS = True
_FUSABLE = (np.dtype(np.float32), np.dtype(np.float64))


def fused(p, g):
    """minnet.kernels when its fused in-place steps can take parameter ``p`` with gradient
    ``g`` (float32/float64, C-contiguous writeable parameter, gradient of the same dtype and
    shape), else None and the NumPy path runs."""
    if not USE_KERNELS or _kernels is None:
        return None
    d = p.data
    if type(d) is not np.ndarray or d.dtype not in _FUSABLE or g.dtype != d.dtype \
            or g.shape != d.shape:
        return None
    flags = d.flags
    if not (flags.c_contiguous and flags.writeable):
        return None
    return _kernels


def scratch(opt, p, name="tmp"):
    """A reusable array shaped like ``p.data`` (not part of the saved state)."""
    cache = opt.__dict__.setdefault("_scratch", {})
    key = (id(p), name)
    buf = cache.get(key)
    if buf is None or buf.shape != p.data.shape or buf.dtype != p.data.dtype:
        buf = cache[key] = np.empty_like(p.data)
    return buf


def effective_grad(opt, p, weight_decay=0.0, maximize=False):
    """g = (-grad if maximize else grad) + weight_decay * param, written to a scratch buffer
    when it differs from the raw gradient (the gradient itself is never modified)."""
    g = grad_array(p)
    if g is None:
        return None
    if g.shape != p.data.shape:
        raise ValueError(f"{type(opt).__name__}: gradient of shape {g.shape} does not match "
                         f"its parameter of shape {p.data.shape}")
    if not maximize and weight_decay == 0:
        return g
    out = scratch(opt, p, "grad")
    if maximize:
        np.negative(g, out=out)
    else:
        out[...] = g
    if weight_decay != 0:
        tmp = scratch(opt, p, "tmp")
        np.multiply(p.data, weight_decay, out=tmp)
        np.add(out, tmp, out=out)
    return out


def check_nonneg(name, value):
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")
