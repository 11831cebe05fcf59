# Types of minnet.kernels, whose names minnet._ops.export copies at import time from the
# Cython wrappers (minnet/_kernels/<family>.pyx), which mypy cannot read. One entry per op of
# minnet._ops.OPS and CONSTANTS, with the wrappers' signatures; tests/test_kernels_stub.py
# checks the names against minnet.kernels.__all__ and the parameters against the runtime.
# The arrays are float32/float64 unless said otherwise; minnet.reference has the same API.

from typing import Any, Callable, Literal, Sequence

from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__: list[str]

_Array = NDArray[Any]
_Pair = int | tuple[int, int]
# int, (ph, pw), (top, bottom, left, right), 'same' or 'valid'
_Padding = int | tuple[int, int] | tuple[int, int, int, int] | str
_Reduction = Literal["mean", "sum", "none"]
# alloc(shape, dtype): where a recurrent kernel takes the arrays it returns
_Alloc = Callable[[tuple[int, ...], DTypeLike], _Array]

# ---------------------------------------------------------------- gemm
def gemm(
    a: _Array,
    b: _Array,
    *,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: float = 1.0,
    beta: float = 0.0,
    bias: _Array | None = None,
    activation: str | None = None,
    out: _Array | None = None,
) -> _Array: ...
def colsum(a: _Array, *, out: _Array | None = None, accumulate: bool = False) -> _Array: ...

# ---------------------------------------------------------------- eltwise
ACT_BACKWARD_INPUT: dict[str, str]

def act_forward(
    x: _Array, kind: str, *, alpha: float | None = None, out: _Array | None = None
) -> _Array: ...
def act_backward(
    grad_out: _Array,
    saved: _Array,
    kind: str,
    *,
    alpha: float | None = None,
    out: _Array | None = None,
) -> _Array: ...
def softmax(x: _Array, *, log: bool = False, out: _Array | None = None) -> _Array: ...
def softmax_backward(
    grad_out: _Array, y: _Array, *, log: bool = False, out: _Array | None = None
) -> _Array: ...
def cross_entropy_forward(
    logits: _Array,
    target: _Array,
    *,
    weight: _Array | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: _Reduction = "mean",
) -> tuple[_Array, _Array]: ...
def cross_entropy_backward(
    grad_loss: ArrayLike,
    logits: _Array,
    target: _Array,
    lse: _Array,
    *,
    weight: _Array | None = None,
    ignore_index: int = -100,
    label_smoothing: float = 0.0,
    reduction: _Reduction = "mean",
    out: _Array | None = None,
) -> _Array: ...
def bce_with_logits_forward(
    logits: _Array,
    target: _Array,
    *,
    weight: _Array | None = None,
    pos_weight: _Array | None = None,
    reduction: _Reduction = "mean",
) -> _Array: ...
def bce_with_logits_backward(
    grad_loss: ArrayLike,
    logits: _Array,
    target: _Array,
    *,
    weight: _Array | None = None,
    pos_weight: _Array | None = None,
    reduction: _Reduction = "mean",
    out: _Array | None = None,
) -> _Array: ...

# ---------------------------------------------------------------- optim (in place; return param)
def sgd_step(
    param: _Array,
    grad: _Array,
    momentum_buf: _Array | None = None,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    maximize: bool = False,
    first_step: bool = False,
) -> _Array: ...
def adam_step(
    param: _Array,
    grad: _Array,
    exp_avg: _Array,
    exp_avg_sq: _Array,
    *,
    step: int,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
    max_exp_avg_sq: _Array | None = None,
) -> _Array: ...
def rmsprop_step(
    param: _Array,
    grad: _Array,
    square_avg: _Array,
    *,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
    momentum_buf: _Array | None = None,
    grad_avg: _Array | None = None,
    eps_inside: bool = False,
) -> _Array: ...
def adagrad_step(
    param: _Array,
    grad: _Array,
    state_sum: _Array,
    *,
    step: int,
    lr: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
    eps_inside: bool = False,
) -> _Array: ...

# multi-tensor forms: the rule above on each tensor of a list, in one call
def sgd_step_multi(
    params: Sequence[_Array],
    grads: Sequence[_Array],
    momentum_bufs: Sequence[_Array | None] | None = None,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    maximize: bool = False,
    first_steps: Sequence[bool] | None = None,
) -> list[_Array]: ...
def adam_step_multi(
    params: Sequence[_Array],
    grads: Sequence[_Array],
    exp_avgs: Sequence[_Array],
    exp_avg_sqs: Sequence[_Array],
    *,
    steps: Sequence[int],
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
    max_exp_avg_sqs: Sequence[_Array | None] | None = None,
) -> list[_Array]: ...
def rmsprop_step_multi(
    params: Sequence[_Array],
    grads: Sequence[_Array],
    square_avgs: Sequence[_Array],
    *,
    lr: float = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
    momentum_bufs: Sequence[_Array | None] | None = None,
    grad_avgs: Sequence[_Array | None] | None = None,
    eps_inside: bool = False,
) -> list[_Array]: ...
def adagrad_step_multi(
    params: Sequence[_Array],
    grads: Sequence[_Array],
    state_sums: Sequence[_Array],
    *,
    steps: Sequence[int],
    lr: float = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
    eps_inside: bool = False,
) -> list[_Array]: ...

# ---------------------------------------------------------------- rnn
# forward: (y (T, B, H), h_n (B, H)[, c_n], saved); backward: (dx or None, dh0[, dc0], dw_ih,
# dw_hh, db_ih, db_hh), the bias gradients None without bias
def gru_forward(
    x: _Array,
    h0: _Array,
    w_ih: _Array,
    w_hh: _Array,
    b_ih: _Array | None = None,
    b_hh: _Array | None = None,
    *,
    lengths: ArrayLike | None = None,
    reverse: bool = False,
    out: _Array | None = None,
    alloc: _Alloc | None = None,
) -> tuple[_Array, _Array, tuple[_Array, ...]]: ...
def gru_backward(
    dy: _Array | None,
    dh_n: _Array | None,
    x: _Array,
    w_ih: _Array,
    w_hh: _Array,
    saved: tuple[_Array, ...],
    *,
    has_bias: bool = True,
    lengths: ArrayLike | None = None,
    reverse: bool = False,
    need_dx: bool = True,
    alloc: _Alloc | None = None,
) -> tuple[_Array | None, _Array, _Array, _Array, _Array | None, _Array | None]: ...
def rnn_forward(
    x: _Array,
    h0: _Array,
    w_ih: _Array,
    w_hh: _Array,
    b_ih: _Array | None = None,
    b_hh: _Array | None = None,
    *,
    nonlinearity: str = "tanh",
    lengths: ArrayLike | None = None,
    reverse: bool = False,
    out: _Array | None = None,
    alloc: _Alloc | None = None,
) -> tuple[_Array, _Array, tuple[_Array, ...]]: ...
def rnn_backward(
    dy: _Array | None,
    dh_n: _Array | None,
    x: _Array,
    w_ih: _Array,
    w_hh: _Array,
    saved: tuple[_Array, ...],
    *,
    has_bias: bool = True,
    nonlinearity: str = "tanh",
    lengths: ArrayLike | None = None,
    reverse: bool = False,
    need_dx: bool = True,
    alloc: _Alloc | None = None,
) -> tuple[_Array | None, _Array, _Array, _Array, _Array | None, _Array | None]: ...
def lstm_forward(
    x: _Array,
    h0: _Array,
    c0: _Array,
    w_ih: _Array,
    w_hh: _Array,
    b_ih: _Array | None = None,
    b_hh: _Array | None = None,
    *,
    lengths: ArrayLike | None = None,
    reverse: bool = False,
    out: _Array | None = None,
    alloc: _Alloc | None = None,
) -> tuple[_Array, _Array, _Array, tuple[_Array, ...]]: ...
def lstm_backward(
    dy: _Array | None,
    dh_n: _Array | None,
    dc_n: _Array | None,
    x: _Array,
    w_ih: _Array,
    w_hh: _Array,
    saved: tuple[_Array, ...],
    *,
    has_bias: bool = True,
    lengths: ArrayLike | None = None,
    reverse: bool = False,
    need_dx: bool = True,
    alloc: _Alloc | None = None,
) -> tuple[_Array | None, _Array, _Array, _Array, _Array, _Array | None, _Array | None]: ...

# ---------------------------------------------------------------- conv
def conv2d_forward(
    x: _Array,
    w: _Array,
    bias: _Array | None = None,
    stride: _Pair = 1,
    padding: _Padding = 0,
    dilation: _Pair = 1,
    groups: int = 1,
    activation: str | None = None,
    out: _Array | None = None,
) -> _Array: ...
def conv2d_backward(
    dy: _Array,
    x: _Array,
    w: _Array,
    stride: _Pair = 1,
    padding: _Padding = 0,
    dilation: _Pair = 1,
    groups: int = 1,
    *,
    input_grad: bool = True,
    weight_grad: bool = True,
    bias_grad: bool = True,
    dx_out: _Array | None = None,
    dw_out: _Array | None = None,
    relu_out: _Array | None = None,
    pool_code: _Array | None = None,
) -> tuple[_Array | None, _Array | None, _Array | None]: ...
def conv2d_relu_maxpool2d_forward(
    x: _Array,
    w: _Array,
    bias: _Array | None = None,
    stride: _Pair = 1,
    padding: _Padding = 0,
    dilation: _Pair = 1,
    groups: int = 1,
    out: _Array | None = None,
    code_out: _Array | None = None,
) -> tuple[_Array, _Array]: ...

# ---------------------------------------------------------------- pool
def max_pool2d_forward(
    x: _Array,
    kernel_size: _Pair,
    stride: _Pair | None = None,
    padding: _Pair = 0,
    dilation: _Pair = 1,
    ceil_mode: bool = False,
    out: _Array | None = None,
    indices_out: _Array | None = None,
) -> tuple[_Array, _Array]: ...
def max_pool2d_backward(
    dy: _Array, indices: _Array, input_shape: tuple[int, ...], out: _Array | None = None
) -> _Array: ...
def avg_pool2d_forward(
    x: _Array,
    kernel_size: _Pair,
    stride: _Pair | None = None,
    padding: _Pair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> _Array: ...
def avg_pool2d_backward(
    dy: _Array,
    input_shape: tuple[int, ...],
    kernel_size: _Pair,
    stride: _Pair | None = None,
    padding: _Pair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> _Array: ...
def adaptive_avg_pool2d_forward(
    x: _Array, output_size: int | tuple[int | None, int | None]
) -> _Array: ...
def adaptive_avg_pool2d_backward(dy: _Array, input_shape: tuple[int, ...]) -> _Array: ...

# ---------------------------------------------------------------- norm
# forward: (y, mean, var), mean and var float64 (C,); backward: (dx, dweight, dbias), None
# where not asked
def batch_norm_forward(
    x: _Array,
    weight: _Array | None = None,
    bias: _Array | None = None,
    running_mean: _Array | None = None,
    running_var: _Array | None = None,
    training: bool = True,
    eps: float = 1e-5,
    out: _Array | None = None,
) -> tuple[_Array, _Array, _Array]: ...
def batch_norm_backward(
    dy: _Array,
    x: _Array,
    mean: _Array,
    var: _Array,
    weight: _Array | None = None,
    eps: float = 1e-5,
    training: bool = True,
    *,
    input_grad: bool = True,
    weight_grad: bool = True,
    bias_grad: bool = True,
    dx_out: _Array | None = None,
) -> tuple[_Array | None, _Array | None, _Array | None]: ...
