"""linear (one GEMM with a fused bias + activation epilogue), embedding and one_hot."""

import numpy as np

from minnet import kernels as _kernels
from minnet._arena import empty as _empty
from minnet._functions import _act_bwd
from minnet.autograd import Function
from minnet.nn.functional._checks import (
    _floating,
    _same_dtype,
    _tensor,
)
from minnet.tensor import Tensor


class Linear(Function):
    """y = act(x @ W^T + b) in one GEMM with a fused epilogue; x is (M, in), W is (out, in).
    Outputs and gradients are arena buffers (minnet._arena), reused across steps."""

    def forward(self, x, w, b, activation):
        lead = x.shape[:-1]
        x2 = x if len(lead) == 1 else x.reshape(-1, x.shape[-1])
        y = _kernels.gemm(
            x2,
            w,
            trans_b=True,
            bias=b,
            activation=activation,
            out=_empty((x2.shape[0], w.shape[0]), x.dtype),
        )
        self.x2, self.w, self.lead = x2, w, lead
        if activation in (None, "identity", "linear"):
            self.act = self.y = None
        else:
            self.act, self.y = activation, y
        return y if len(lead) == 1 else y.reshape(lead + (w.shape[0],))

    def backward(self, g):
        nx, nw, nb = self.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        w = self.w
        dt = w.dtype
        if self.act is not None:  # relu's mask is the same from y as from x: y > 0 iff x > 0
            g2 = _act_bwd(g2, self.y, self.act, out=_empty(g2.shape, dt))
        elif not g2.flags.c_contiguous:
            g2 = np.ascontiguousarray(g2)
        dx = dw = db = None
        if nx:  # dY W
            dx = _kernels.gemm(g2, w, out=_empty((g2.shape[0], w.shape[1]), dt))
            if len(self.lead) != 1:
                dx = dx.reshape(self.lead + (w.shape[1],))
        if nw:  # dY^T X
            dw = _kernels.gemm(g2, self.x2, trans_a=True, out=_empty(w.shape, dt))
        if nb:
            db = _kernels.colsum(g2, out=_empty((w.shape[0],), dt))
        return dx, dw, db


_LINEAR_FAST_ACTS = (None, "relu", "sigmoid", "tanh")
_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)


def linear(input, weight, bias=None, activation=None):
    """y = x W^T + b, as one graph node (one GEMM forward, two GEMMs and a column sum back).

    Args:
        input: ``(*, in_features)``. Leading dims are flattened for the GEMM and restored.
        weight: (out_features, in_features), PyTorch's layout.
        bias: optional (out_features,).
        activation: minnet extension: None, 'relu', 'sigmoid' or 'tanh', applied in the
            GEMM's epilogue (``linear(x, w, b, activation='relu')`` equals
            ``relu(linear(x, w, b))`` in one node and one pass over the output).

    Shape:
        input ``(*, in)``, output ``(*, out)``.

    Examples:
        >>> y = F.linear(x, w, b)                      # x (64, 784), w (10, 784), b (10,)
        >>> h = F.linear(x, w1, b1, activation="relu")
    """
    # the common case in one test (a layer's 2-D batch of its weight's float dtype); the
    # checks below run for everything else and give its messages
    if type(input) is Tensor and activation in _LINEAR_FAST_ACTS and isinstance(weight, Tensor):
        x, wd = input.data, weight.data
        dt = x.dtype
        if (
            x.ndim == 2
            and wd.ndim == 2
            and x.shape[1] == wd.shape[1]
            and wd.dtype is dt
            and (dt is _F32 or dt is _F64)
            and (
                bias is None
                or (
                    isinstance(bias, Tensor)
                    and bias.data.dtype is dt
                    and bias.data.shape == (wd.shape[0],)
                )
            )
        ):
            return Linear.apply(input, weight, bias, activation=activation)
    input = _tensor(input, "input", "linear")
    weight = _tensor(weight, "weight", "linear")
    if weight.ndim != 2:
        raise ValueError(
            f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}"
        )
    if input.ndim == 0:
        raise ValueError("linear: input must have at least one dim, got a 0-d tensor")
    if input.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: input last dimension {input.shape[-1]} does not match "
            f"weight shape {weight.shape} (input shape {input.shape}, expected "
            f"(*, {weight.shape[1]}))"
        )
    if bias is not None:
        bias = _tensor(bias, "bias", "linear")
        if bias.shape != (weight.shape[0],):
            raise ValueError(
                f"linear: bias shape {bias.shape} does not match weight shape "
                f"{weight.shape} (expected ({weight.shape[0]},))"
            )
    _floating(input, "input", "linear")
    _floating(weight, "weight", "linear")
    _same_dtype("linear", input=input, weight=weight, bias=bias)
    if activation not in (None, "identity", "linear", "relu", "sigmoid", "tanh"):
        raise ValueError(
            f"linear: activation must be None, 'relu', 'sigmoid' or 'tanh', got {activation!r}"
        )
    if input.ndim == 1:
        return Linear.apply(input.reshape(1, -1), weight, bias, activation=activation).reshape(-1)
    return Linear.apply(input, weight, bias, activation=activation)


class Embedding(Function):
    def forward(self, w, idx, padding_idx):
        self.idx, self.wshape, self.padding_idx = idx, w.shape, padding_idx
        return w[idx]

    def backward(self, g):
        dw = np.zeros(self.wshape, g.dtype)
        np.add.at(dw, self.idx.reshape(-1), g.reshape(-1, self.wshape[1]))
        if self.padding_idx is not None:
            dw[self.padding_idx] = 0
        return dw, None


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type=2.0,
    scale_grad_by_freq=False,
    sparse=False,
):
    """Rows of weight (num_embeddings, embedding_dim) picked by the int tensor input; the
    row at padding_idx gets no gradient. max_norm, scale_grad_by_freq and sparse are not
    supported."""
    op = "embedding"
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError(
            f"{op}: max_norm, scale_grad_by_freq and sparse are not supported"
        )
    input = _tensor(input, "input", op)
    weight = _tensor(weight, "weight", op)
    if weight.ndim != 2:
        raise ValueError(
            f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}"
        )
    if input.dtype.kind not in "iu":
        raise TypeError(f"{op}: input must hold integer indices, got dtype {input.dtype}")
    n = weight.shape[0]
    idx = input.data
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        bad = idx[(idx < 0) | (idx >= n)].flat[0]
        raise ValueError(
            f"{op}: index {bad} out of range [0, {n}) for weight of shape {weight.shape}"
        )
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"{op}: padding_idx {padding_idx} out of range [-{n}, {n})")
        padding_idx %= n
    return Embedding.apply(weight, idx, padding_idx=padding_idx)


def one_hot(tensor, num_classes=-1):
    """int64 tensor with a trailing dim of num_classes (max + 1 when -1) holding 1 at each
    index."""
    tensor = _tensor(tensor, "tensor", "one_hot")
    idx = tensor.data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected an integer tensor, got {idx.dtype}")
    if num_classes == -1:
        num_classes = int(idx.max()) + 1 if idx.size else 0
    if idx.size and (idx.min() < 0 or idx.max() >= num_classes):
        raise ValueError(f"one_hot: class values must be in [0, {num_classes})")
    return Tensor((idx[..., None] == np.arange(num_classes)).astype(np.int64))
