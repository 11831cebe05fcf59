"""minnet: a small, fast neural-network framework over OpenMP Cython kernels."""
__version__ = "0.1.0"

from minnet._config import build_info, empty_cache, get_num_threads, set_num_threads, threads
from minnet import random
from minnet.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from minnet.random import manual_seed
from minnet.tensor import (Tensor, arange, bool_, cat, clamp, empty, exp, eye, float16, float32,
                           float64, from_numpy, full, full_like, get_default_dtype, int32, int64,
                           log, matmul, maximum, minimum, ones, ones_like, rand, randint, randn,
                           set_default_dtype, sqrt, stack, tensor, uint8, where, zeros,
                           zeros_like)
from minnet.serialization import load, save
from minnet import data, nn, optim  # noqa: E402  (after Tensor: they build on it)

__all__ = ["__version__", "build_info", "empty_cache", "get_num_threads", "set_num_threads",
           "threads",
           # autograd core (minnet.tensor, minnet.autograd, minnet.random)
           "Tensor", "tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like",
           "ones_like", "full_like", "randn", "rand", "randint", "arange", "eye", "cat", "stack",
           "where", "maximum", "minimum", "matmul", "exp", "log", "sqrt", "clamp", "no_grad",
           "enable_grad", "set_grad_enabled", "is_grad_enabled", "manual_seed", "random",
           "get_default_dtype", "set_default_dtype", "float16", "float32", "float64", "int32",
           "int64", "uint8", "bool_", "save", "load", "nn", "optim", "data"]
