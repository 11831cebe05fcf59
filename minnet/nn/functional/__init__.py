"""minnet.nn.functional: layer-level operations as single graph nodes, with PyTorch's names,
arguments and definitions.

Each op is one :class:`~minnet.autograd.Function` whose forward and backward sit together, in
the module of its idea:

* ``activation``: activations, softmax, dropout (their kernel nodes are the core's,
  :mod:`minnet._functions`, which ``Tensor.relu()`` and friends use too);
* ``linear``: linear (one GEMM with a fused epilogue), embedding, one_hot;
* ``loss``: the regression, binary and class losses;
* ``normalization``: batch_norm, layer_norm;
* ``conv``: convolution and pooling (NCHW, PyTorch's weight layouts);
* ``rnn``: whole-sequence GRU/RNN/LSTM layers and single cell steps;
* ``_checks``: the argument checks they share.

Every name is importable from ``minnet.nn.functional`` itself, as from ``torch.nn.functional``.
"""

# _tensor: the modules' own input conversion (Flatten, BatchNorm), as F._tensor before the split
from minnet.nn.functional._checks import _tensor  # noqa: F401
from minnet.nn.functional.activation import (
    dropout,
    dropout1d,
    dropout2d,
    elu,
    gelu,
    hardsigmoid,
    hardtanh,
    leaky_relu,
    log_softmax,
    logsigmoid,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    softmax,
    softplus,
    softsign,
    tanh,
)
from minnet.nn.functional.conv import (
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    conv2d_relu_max_pool2d,
    max_pool2d,
)
from minnet.nn.functional.linear import (
    embedding,
    linear,
    one_hot,
)
from minnet.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from minnet.nn.functional.normalization import (
    batch_norm,
    layer_norm,
)
from minnet.nn.functional.rnn import (
    gru_cell,
    lstm_cell,
    rnn_cell,
    rnn_layer,
)

__all__ = [
    "relu",
    "leaky_relu",
    "elu",
    "gelu",
    "sigmoid",
    "tanh",
    "silu",
    "softplus",
    "logsigmoid",
    "selu",
    "hardtanh",
    "relu6",
    "softsign",
    "hardsigmoid",
    "softmax",
    "log_softmax",
    "dropout",
    "dropout1d",
    "dropout2d",
    "linear",
    "embedding",
    "one_hot",
    "mse_loss",
    "l1_loss",
    "huber_loss",
    "smooth_l1_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "kl_div",
    "batch_norm",
    "layer_norm",
    "conv1d",
    "conv2d",
    "conv2d_relu_max_pool2d",
    "max_pool2d",
    "avg_pool2d",
    "adaptive_avg_pool2d",
    "rnn_layer",
    "gru_cell",
    "rnn_cell",
    "lstm_cell",
]
