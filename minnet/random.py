"""minnet's random state: one NumPy Generator behind parameter init, dropout and shuffling.

``minnet.manual_seed(s)`` reseeds it in place, so a generator obtained earlier with
:func:`get_generator` follows the new seed too. Code that wants its own stream passes a
``numpy.random.Generator`` explicitly instead.
"""
import numpy as np

__all__ = ["manual_seed", "get_generator", "initial_seed", "seed"]

_generator = np.random.default_rng()
_initial_seed = None


def manual_seed(seed):
    """Seed minnet's generator (init, dropout, shuffling) so runs repeat exactly.

    Args:
        seed: a non-negative int.

    Returns:
        The generator, like ``torch.manual_seed`` returns its generator.
    """
    global _initial_seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"manual_seed: seed must be non-negative, got {seed}")
    _initial_seed = int(seed)
    _generator.bit_generator.state = np.random.PCG64(int(seed)).state
    return _generator


def seed():
    """Reseed minnet's generator from fresh OS entropy; returns the seed used."""
    s = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    manual_seed(s)
    return s


def initial_seed():
    """The last seed given to manual_seed (None when never seeded by hand)."""
    return _initial_seed


def get_generator():
    """The numpy.random.Generator that minnet's init, dropout and shuffling draw from."""
    return _generator
