"""The fast kernels, taking and returning NumPy arrays. Each name here has a NumPy twin with the
same signature in minnet.reference (the oracle the tests compare against).

The names are those declared in minnet._ops (one entry per op), each imported from its
family's Cython wrapper, minnet/_kernels/<family>.pyx.
"""

from minnet._ops import export as _export

__all__ = _export(globals(), "minnet._kernels")
