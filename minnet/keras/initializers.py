"""Weight initializers by Keras name, drawing from minnet's generator (``minnet.manual_seed``
or ``keras.utils.set_random_seed`` make them repeat). Shapes are in Keras's layouts: a Dense
kernel is (in, out), a Conv2D kernel (kh, kw, in, out); fans are computed as Keras does.
"""

import math

import numpy as np

from minnet.random import get_generator

__all__ = [
    "get",
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomNormal",
    "RandomUniform",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
]


def _fans(shape):
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """``init(shape, dtype)`` -> a NumPy array."""

    def __call__(self, shape, dtype="float32"):
        return np.asarray(self._draw(tuple(int(s) for s in shape)), dtype=dtype)

    def _draw(self, shape):
        raise NotImplementedError


class Zeros(Initializer):
    def _draw(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    def _draw(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = value

    def _draw(self, shape):
        return np.full(shape, self.value)


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def _draw(self, shape):
        return _rng(self.seed).normal(self.mean, self.stddev, shape)


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def _draw(self, shape):
        return _rng(self.seed).uniform(self.minval, self.maxval, shape)


class VarianceScaling(Initializer):
    """scale / fan ('fan_in', 'fan_out', 'fan_avg') as the variance of a truncated normal
    (cut at 2 std, Keras's 'truncated_normal'), or of a uniform."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def _draw(self, shape):
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, fan)
        rng = _rng(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * var)
            return rng.uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(var), shape)
        std = math.sqrt(var) / 0.87962566103423978  # std of a unit normal cut at +-2
        out = rng.normal(0.0, std, shape)
        bad = np.abs(out) > 2 * std
        while bad.any():
            out[bad] = rng.normal(0.0, std, int(bad.sum()))
            bad = np.abs(out) > 2 * std
        return out


class GlorotUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)


class GlorotNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)


class HeUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)


class HeNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)


class LecunUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)


class LecunNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "truncated_normal", seed)


class Orthogonal(Initializer):
    """An orthogonal matrix (rows or columns orthonormal), from the QR of a normal draw;
    Keras's default for recurrent kernels."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def _draw(self, shape):
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = shape[-1]
        a = _rng(self.seed).normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)


def _rng(seed):
    return get_generator() if seed is None else np.random.default_rng(seed)


_TABLE = {
    "zeros": Zeros,
    "ones": Ones,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    # Keras's short aliases (its own RNN-cell example uses initializer='uniform')
    "uniform": RandomUniform,
    "normal": RandomNormal,
    "zero": Zeros,
    "one": Ones,
}


def get(identifier):
    """An initializer for a Keras name ('glorot_uniform', 'he_normal', ...), an Initializer,
    or any callable ``(shape, dtype) -> array``."""
    if isinstance(identifier, str):
        key = (
            identifier
            if identifier in _TABLE
            else "".join("_" + c.lower() if c.isupper() else c for c in identifier).lstrip("_")
        )
        if key not in _TABLE:
            raise ValueError(
                f"Unknown initializer {identifier!r}; expected one of {sorted(_TABLE)}"
            )
        return _TABLE[key]()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")
