"""Plain NumPy references for every kernel in minnet.kernels: same names, same signatures, same
return values. They are the specification: written to be read, not to be fast."""
from minnet.reference.gemm import colsum, gemm

__all__ = ["gemm", "colsum"]
