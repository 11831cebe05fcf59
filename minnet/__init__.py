"""minnet: a small, fast neural-network framework over OpenMP Cython kernels."""
__version__ = "0.1.0"

from minnet._config import build_info, empty_cache, get_num_threads, set_num_threads, threads
from minnet.serialization import load, save

__all__ = ["__version__", "build_info", "empty_cache", "get_num_threads", "set_num_threads",
           "threads", "save", "load"]
