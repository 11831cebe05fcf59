"""minnet.tensor: the tensor API in one namespace, as ``torch`` exposes it.

The pieces live one idea a module, each importing only the ones before it:

* :mod:`minnet._dtypes`: dtypes and the default floating dtype;
* :mod:`minnet._functions`: the core differentiable ops (one ``autograd.Function`` each);
* :mod:`minnet._tensor`: the :class:`Tensor` class, whose methods apply those ops;
* :mod:`minnet._creation`: the factories (``zeros``, ``randn``, ...) and free functions.

``minnet.nn.functional`` builds on these; nothing here imports from ``minnet.nn``.
"""

from minnet._creation import (
    arange,
    cat,
    clamp,
    concatenate,
    empty,
    empty_like,
    exp,
    eye,
    from_numpy,
    full,
    full_like,
    log,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    sqrt,
    stack,
    where,
    zeros,
    zeros_like,
)
from minnet._dtypes import (
    bool_,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from minnet._tensor import Tensor, matmul, maximum, minimum, tensor
from minnet.autograd import no_grad

__all__ = [
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
    "get_default_dtype",
    "set_default_dtype",
    "float32",
    "float64",
    "float16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool_",
]

__all__ += ["matmul", "exp", "log", "sqrt", "clamp", "concatenate", "no_grad"]
