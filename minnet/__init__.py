"""minnet: a small, fast neural-network framework over multi-threaded Cython kernels.

``import minnet as torch`` is a supported way to port beginners' PyTorch code: the names of
the ``torch`` namespace such code uses exist here with PyTorch's behaviour (dtype aliases,
``device`` and the accelerator probes, ``no_grad``/``inference_mode``, ``manual_seed``,
``flatten``/``max``/``argmax``/``sum``..., ``save``/``load``, ``nn``, ``optim``,
``utils.data``). Names minnet deliberately lacks (``torch.compile``, ``torch.jit``,
``torch.amp``...) raise an AttributeError that says what to do instead.
"""

__version__ = "0.1.0"

from minnet import _torch_functions, random
from minnet._config import build_info, empty_cache, get_num_threads, set_num_threads, threads
from minnet._torch_functions import (
    abs,
    argmax,
    argmin,
    dtype,
    flatten,
    is_floating_point,
    is_tensor,
    linspace,
    log_softmax,
    max,
    mean,
    min,
    numel,
    permute,
    randperm,
    relu,
    reshape,
    sigmoid,
    softmax,
    squeeze,
    sum,
    t,
    tanh,
    transpose,
    unsqueeze,
)
from minnet.autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from minnet.device import (
    accelerator,
    backends,
    cuda,
    device,
    get_default_device,
    set_default_device,
)
from minnet.random import Generator, default_generator, initial_seed, manual_seed, seed
from minnet.tensor import (
    Tensor,
    arange,
    bool_,
    cat,
    clamp,
    empty,
    empty_like,
    exp,
    eye,
    float16,
    float32,
    float64,
    from_numpy,
    full,
    full_like,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    log,
    matmul,
    maximum,
    minimum,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    set_default_dtype,
    sqrt,
    stack,
    tensor,
    uint8,
    where,
    zeros,
    zeros_like,
)

# PyTorch's dtype names (torch.float is float32, torch.int int32, torch.long int64). They
# shadow the builtins only as attributes of the package, and are left out of __all__.
float, double, half = float32, float64, float16
long, int, short, bool = int64, int32, int16, bool_
Size = tuple  # x.shape is a plain tuple; torch.Size([2, 3]) == (2, 3) as in torch

__all__ = [
    "__version__",
    "build_info",
    "empty_cache",
    "get_num_threads",
    "set_num_threads",
    "threads",
    # autograd core (minnet.tensor, minnet.autograd, minnet.random)
    "Tensor",
    "tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "empty",
    "zeros_like",
    "ones_like",
    "full_like",
    "empty_like",
    "randn_like",
    "rand_like",
    "randint_like",
    "randn",
    "rand",
    "randint",
    "arange",
    "eye",
    "cat",
    "stack",
    "where",
    "maximum",
    "minimum",
    "matmul",
    "exp",
    "log",
    "sqrt",
    "clamp",
    "no_grad",
    "enable_grad",
    "set_grad_enabled",
    "is_grad_enabled",
    "inference_mode",
    "manual_seed",
    "seed",
    "initial_seed",
    "Generator",
    "default_generator",
    "random",
    "get_default_dtype",
    "set_default_dtype",
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool_",
    "save",
    "load",
    "nn",
    "optim",
    "data",
    "utils",
    "distributed",
    # the torch namespace (minnet.device, minnet._torch_functions)
    "device",
    "cuda",
    "accelerator",
    "backends",
    "set_default_device",
    "get_default_device",
    *_torch_functions.__all__,  # dtype, is_tensor, flatten, max, sum, softmax, ...
]

# Every public subpackage is reachable after a plain ``import minnet`` (``minnet.nn``,
# ``minnet.datasets.fashion_mnist`` without ``import minnet.datasets``), but each is imported
# on first use (PEP 562), so ``import minnet`` stays fast: about 30 ms on top of NumPy's own
# import (tests/test_import.py checks it).
_LAZY_SUBMODULES = (
    "nn",
    "optim",
    "data",
    "utils",
    "distributed",
    "keras",
    "datasets",
    "vision",
    "examples",
    "reference",
    "testing",
    "bench",
    "kernels",
    "plot",
    "serialization",
    "autograd",
    "random",
    "cli",
    "demo",
)
# Functions of a lazy submodule exported at the top level.
_LAZY_FUNCTIONS = {"save": "minnet.serialization", "load": "minnet.serialization"}

# torch names minnet deliberately does not provide, and what to do instead.
_NOT_PROVIDED = {
    "compile": "no JIT: remove torch.compile(model) and use the model as it is",
    "jit": "no TorchScript: remove @torch.jit.script / torch.jit.trace; save weights with "
    "minnet.save(model.state_dict(), path)",
    "fx": "no graph tracing: call the model directly",
    "export": "no graph export: save the weights with minnet.save(model.state_dict(), path)",
    "onnx": "no ONNX export: save the weights with minnet.save(model.state_dict(), path)",
    "multiprocessing": "use Python's multiprocessing; DataLoader(num_workers=n) has workers",
    "autocast": "no mixed precision: remove `with torch.autocast(...)` (minnet computes in "
    "float32 or float64)",
    "amp": "no mixed precision: remove autocast and GradScaler; call loss.backward() and "
    "optimizer.step() directly",
    "bfloat16": "NumPy has no bfloat16: use minnet.float32",
    "complex64": "complex tensors are not supported",
    "cfloat": "complex tensors are not supported",
    "complex128": "complex tensors are not supported",
    "cdouble": "complex tensors are not supported",
    "sparse": "no sparse tensors: use dense ones",
    "quantization": "no quantization: keep float32 weights",
    "ao": "no quantization: keep float32 weights",
    "linalg": "use numpy.linalg on x.numpy() (not differentiable)",
    "fft": "use numpy.fft on x.numpy() (not differentiable)",
    "distributions": "no torch.distributions: sample with minnet.randn / minnet.rand or NumPy",
    "hub": "no model hub (nothing is downloaded): build the model from minnet.nn layers",
    "profiler": "no profiler: time steps with time.perf_counter()",
    "mps": "minnet runs on the CPU only (no Apple GPU): use device('cpu')",
    "xpu": "minnet runs on the CPU only (no Intel GPU): use device('cpu')",
    "set_float32_matmul_precision": "minnet's float32 GEMM is always full float32: remove "
    "the call",
    "FloatTensor": "legacy constructor: use minnet.tensor(data, dtype=minnet.float32)",
    "LongTensor": "legacy constructor: use minnet.tensor(data, dtype=minnet.long)",
    "DoubleTensor": "legacy constructor: use minnet.tensor(data, dtype=minnet.float64)",
}


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBMODULES) | set(_LAZY_FUNCTIONS))


def __getattr__(name):
    import importlib

    if name in _LAZY_SUBMODULES:
        try:
            return importlib.import_module(f"minnet.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"minnet.{name}":
                raise
    if name in _LAZY_FUNCTIONS:
        value = getattr(importlib.import_module(_LAZY_FUNCTIONS[name]), name)
        globals()[name] = value
        return value
    if name in _NOT_PROVIDED:
        raise AttributeError(
            f"minnet has no {name!r} (PyTorch's torch.{name}); {_NOT_PROVIDED[name]}"
        )
    raise AttributeError(f"module 'minnet' has no attribute {name!r}")


# --- tf compat (helper H) ---
# ``import minnet as tf``: tf.keras is the lazy minnet.keras above; these are the tf.* names
# Keras tutorials call (see minnet._tf_compat); argmax takes torch's dim= and tf's axis=.
from minnet._tf_compat import (  # noqa: E402,F811
    argmax,
    cast,
    constant,
    convert_to_tensor,
    expand_dims,
    one_hot,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_sum,
)
