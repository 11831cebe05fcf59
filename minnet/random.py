"""minnet's random state: one NumPy Generator behind parameter init, dropout and shuffling.

``minnet.manual_seed(s)`` reseeds it in place, so a generator obtained earlier with
:func:`get_generator` follows the new seed too. Code that wants its own stream passes a
``numpy.random.Generator`` (or a :class:`Generator`, torch's name) explicitly instead.
"""

import numpy as np

from minnet.device import CPU, check_cpu

__all__ = [
    "Generator",
    "manual_seed",
    "get_generator",
    "initial_seed",
    "seed",
    "default_generator",
    "set_seed",
]


def _check_seed(seed, what):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{what}: seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{what}: seed must be non-negative, got {seed}")
    return int(seed)


class Generator(np.random.Generator):
    """``torch.Generator``: a ``numpy.random.Generator`` on PCG64 (so every ``generator=``
    argument of minnet, and NumPy itself, takes it) with torch's seeding methods.

    Args:
        device: must be the CPU (accepted for PyTorch's signature).

    Examples::

        >>> g = minnet.Generator().manual_seed(42)
        >>> train, val = random_split(ds, [0.8, 0.2], generator=g)
    """

    def __init__(self, device="cpu"):
        check_cpu(device, "Generator: device")
        super().__init__(np.random.PCG64())
        self._initial_seed = None

    def manual_seed(self, seed):
        """Restart the stream from ``seed``; returns self (so it chains, as in torch)."""
        self._initial_seed = _check_seed(seed, "manual_seed")
        self.bit_generator.state = np.random.PCG64(self._initial_seed).state
        return self

    def seed(self):
        """Reseed from fresh OS entropy; returns the seed used."""
        s = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
        self.manual_seed(s)
        return s

    def initial_seed(self):
        """The last seed given to manual_seed (None when never seeded)."""
        return self._initial_seed

    def get_state(self):
        """The bit generator's state (a dict, NumPy's form; torch returns a byte tensor)."""
        return self.bit_generator.state

    def set_state(self, state):
        self.bit_generator.state = state
        return self

    @property
    def device(self):
        return CPU

    def __reduce__(self):  # keep the class (and the seed) through pickling
        return (_rebuild_generator, (self.bit_generator.state, self._initial_seed))


def _rebuild_generator(state, initial):
    g = Generator()
    g.bit_generator.state = state
    g._initial_seed = initial
    return g


_generator = default_generator = Generator()


def manual_seed(seed):
    """Seed minnet's generator (init, dropout, shuffling) so runs repeat exactly.

    Args:
        seed: a non-negative int.

    Returns:
        The generator, like ``torch.manual_seed`` returns its generator.
    """
    return _generator.manual_seed(seed)


def seed():
    """Reseed minnet's generator from fresh OS entropy; returns the seed used."""
    return _generator.seed()


def initial_seed():
    """The last seed given to manual_seed (None when never seeded by hand)."""
    return _generator.initial_seed()


def get_generator():
    """The numpy.random.Generator that minnet's init, dropout and shuffling draw from."""
    return _generator


def set_seed(seed):
    """TensorFlow's ``tf.random.set_seed`` (and what ``keras.utils.set_random_seed`` does):
    seed minnet's generator (weight init, dropout, shuffling), Python's ``random`` and
    NumPy's global generator, so a script's run repeats exactly. It makes minnet runs
    repeat; it does not reproduce TensorFlow's random numbers.
    """
    import random as _py_random

    manual_seed(seed)  # first: it checks the seed
    _py_random.seed(seed)
    np.random.seed(seed % 2**32)  # NumPy's legacy seed takes 32 bits
