"""Plain NumPy references for every kernel in minnet.kernels: same names, same signatures, same
return values. They are the specification: written to be read, not to be fast.

The names are those declared in minnet._ops, each imported from its family's module here,
minnet/reference/<family>.py.
"""

from minnet._ops import export as _export

__all__ = _export(globals(), "minnet.reference")
