"""The fast kernels, taking and returning NumPy arrays. Each name here has a NumPy twin with the
same signature in minnet.reference (the oracle the tests compare against)."""
from minnet._kernels.gemm import colsum, gemm

__all__ = ["gemm", "colsum"]
