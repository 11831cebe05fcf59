r"""Recurrent layers: RNN, LSTM, GRU and their single-step cells, with PyTorch's constructor
arguments, parameter names, initialisation and call signatures. Each direction of each layer
is one autograd node over the fused sequence kernels (minnet.nn.functional.rnn); the
equations are minnet.reference.rnn's (GRU in PyTorch's reset-after form, gates r, z, n)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Union, cast

import numpy as np

from minnet.nn import functional as F
from minnet.nn import init
from minnet.nn.functional import rnn as RF
from minnet.nn.modules.module import Module
from minnet.nn.parameter import Parameter
from minnet.tensor import Tensor, cat, get_default_dtype, stack

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, DTypeLike, NDArray

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}

# an RNN's or GRU's initial state h_0, or an LSTM's (h_0, c_0)
_State = Union[Tensor, tuple[Tensor, Tensor]]


class RNNBase(Module):
    """The shared machinery of RNN, LSTM and GRU (see those for the documentation)."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        if not isinstance(hidden_size, int) or hidden_size <= 0:
            raise ValueError(
                f"{type(self).__name__}: hidden_size must be a positive int, got {hidden_size!r}"
            )
        if not isinstance(num_layers, int) or num_layers <= 0:
            raise ValueError(
                f"{type(self).__name__}: num_layers must be a positive int, got {num_layers!r}"
            )
        if not 0 <= float(dropout) <= 1 or isinstance(dropout, bool):
            raise ValueError(
                f"{type(self).__name__}: dropout must be a number in [0, 1], got {dropout!r}"
            )
        dtype = dtype or get_default_dtype()
        self.mode = mode
        self.input_size = int(input_size)
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        gh = _GATES[mode] * hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        for layer in range(num_layers):
            in_size = self.input_size if layer == 0 else hidden_size * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                names: list[tuple[str, tuple[int, ...]]] = [
                    ("weight_ih" + sfx, (gh, in_size)),
                    ("weight_hh" + sfx, (gh, hidden_size)),
                ]
                if self.bias:
                    names += [("bias_ih" + sfx, (gh,)), ("bias_hh" + sfx, (gh,))]
                for name, shape in names:
                    setattr(self, name, Parameter(np.empty(shape, dtype=dtype)))
                    self._flat_weights_names.append(name)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for name in self._flat_weights_names:
            init.uniform_(getattr(self, name), -stdv, stdv)

    def flatten_parameters(self) -> None:
        """PyTorch compatibility (cuDNN weight packing): nothing to do on minnet's CPU kernels."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Per layer and direction, [w_ih, w_hh(, b_ih, b_hh)], as PyTorch's."""
        per = 4 if self.bias else 2
        ws = [getattr(self, n) for n in self._flat_weights_names]
        return [ws[i : i + per] for i in range(0, len(ws), per)]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # -- checks ------------------------------------------------------------------------------
    def _check_input(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{self._get_name()}: input must be a Tensor, got {type(input).__name__}"
            )
        if input.ndim not in (2, 3):
            layout = "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"
            raise self._layer_error(
                f"expected input of rank 3 {layout} or 2 (L, H_in), got shape {tuple(input.shape)}"
            )
        if input.shape[-1] != self.input_size:
            raise self._layer_error(
                f"input.size(-1) must be equal to input_size "
                f"{self.input_size}, got input of shape {tuple(input.shape)}"
            )
        w = getattr(self, self._flat_weights_names[0])
        if input.dtype != w.dtype:
            raise TypeError(
                f"{self._get_name()}: input dtype {input.dtype} does not match the "
                f"parameters' {w.dtype}"
            )

    def _check_hidden(self, hx: object, batch: int, batched: bool, name: str = "hx") -> None:
        dirs = 2 if self.bidirectional else 1
        want = (
            (self.num_layers * dirs, batch, self.hidden_size)
            if batched
            else (self.num_layers * dirs, self.hidden_size)
        )
        if not isinstance(hx, Tensor):
            raise TypeError(
                f"{self._get_name()}: {name} must be a Tensor, got {type(hx).__name__}"
            )
        if tuple(hx.shape) != want:
            raise self._layer_error(f"expected {name} of shape {want}, got {tuple(hx.shape)}")

    def _check_lengths(
        self, lengths: Tensor | ArrayLike | None, T: int, B: int
    ) -> NDArray[np.int64] | None:
        if lengths is None:
            return None
        lens = np.asarray(lengths.data if isinstance(lengths, Tensor) else lengths)
        if lens.ndim != 1 or lens.shape[0] != B:
            raise self._layer_error(
                f"lengths must have shape ({B},) for a batch of {B}, got {lens.shape}"
            )
        if lens.size and lens.dtype.kind not in "iu":
            raise self._layer_error(f"lengths must be integers, got dtype {lens.dtype}")
        if lens.size and (lens.max() > T or lens.min() < 1):
            raise self._layer_error(
                f"lengths must lie in [1, {T}] for a sequence of length {T}"
                f", got min {lens.min()}, max {lens.max()}"
            )
        return lens.astype(np.int64)

    # -- forward -----------------------------------------------------------------------------
    def forward(
        self,
        input: Tensor,
        hx: _State | None = None,
        lengths: Tensor | ArrayLike | None = None,
    ) -> tuple[Tensor, Any]:  # (output, h_n), or an LSTM's (output, (h_n, c_n))
        self._check_input(input)
        batched = input.ndim == 3
        x = input
        if not batched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        T, B = x.shape[0], x.shape[1]
        lens = self._check_lengths(lengths, T, B)
        dirs = 2 if self.bidirectional else 1
        H = self.hidden_size
        is_lstm = self.mode == "LSTM"
        h0: Any
        c0: Any
        if hx is None:
            zeros = Tensor(np.zeros((self.num_layers * dirs, B, H), dtype=x.dtype))
            h0, c0 = zeros, (zeros if is_lstm else None)
        elif is_lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise self._layer_error("expected hx to be a tuple (h_0, c_0)")
            h0, c0 = hx
            self._check_hidden(h0, B, batched, "h_0")
            self._check_hidden(c0, B, batched, "c_0")
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        else:
            self._check_hidden(hx, B, batched)  # hx is a Tensor from here
            h0, c0 = (hx if batched else cast(Tensor, hx).unsqueeze(1)), None

        layer_in = x
        h_n: Any  # a list of the layers' states, then the stacked Tensor
        c_n: Any
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                k = layer * dirs + d
                w_ih, w_hh = getattr(self, "weight_ih" + sfx), getattr(self, "weight_hh" + sfx)
                b_ih = getattr(self, "bias_ih" + sfx) if self.bias else None
                b_hh = getattr(self, "bias_hh" + sfx) if self.bias else None
                res = RF.rnn_layer(
                    self.mode,
                    layer_in,
                    h0[k],
                    c0[k] if is_lstm else None,
                    w_ih,
                    w_hh,
                    b_ih,
                    b_hh,
                    lengths=lens,
                    reverse=bool(d),
                )
                outs.append(res[0])
                h_n.append(res[1])
                if is_lstm:
                    c_n.append(res[2])
            layer_in = outs[0] if dirs == 1 else cat(outs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_in = F.dropout(layer_in, self.dropout, training=True)
        output = layer_in
        h_n = stack(h_n, 0)
        c_n = stack(c_n, 0) if is_lstm else None
        if not batched:
            output = output.squeeze(1)
            h_n = h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return (output, (h_n, c_n)) if is_lstm else (output, h_n)


class RNN(RNNBase):
    r"""Elman RNN: :math:`h_t = \tanh(W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh})` (or relu),
    over a whole sequence, stacked ``num_layers`` deep.

    Args:
        input_size (int): features of the input x.
        hidden_size (int): features of the hidden state h.
        num_layers (int): stacked layers. Default: 1.
        nonlinearity (str): 'tanh' or 'relu'. Default: 'tanh'.
        bias (bool): use b_ih and b_hh. Default: True.
        batch_first (bool): input and output are (N, L, H) instead of (L, N, H). Default: False.
        dropout (float): dropout on the outputs of each layer but the last. Default: 0.
        bidirectional (bool): add a reverse direction; outputs are concatenated. Default: False.
        dtype: parameter dtype. Default: the default dtype.

    Call: ``output, h_n = rnn(input, h_0=None, lengths=None)``. ``lengths`` (N,) gives each
    sequence's length for a padded batch: past it, the state stays and the output is zero
    (as PyTorch's packed sequences).

    Shape:
        - input: :math:`(L, N, H_{in})`, or :math:`(N, L, H_{in})` with batch_first, or
          :math:`(L, H_{in})` unbatched.
        - h_0, h_n: :math:`(D \cdot num\_layers, N, H_{out})`, D = 2 if bidirectional else 1.
        - output: :math:`(L, N, D \cdot H_{out})` (batch_first: :math:`(N, L, D \cdot H_{out})`).

    Attributes:
        weight_ih_l[k], weight_hh_l[k], bias_ih_l[k], bias_hh_l[k] (and ``_reverse``): all
        from :math:`U(-\sqrt{k}, \sqrt{k})`, :math:`k = 1/\text{hidden\_size}`.

    Examples::

        >>> rnn = nn.RNN(10, 20, 2)
        >>> output, hn = rnn(minnet.randn(5, 3, 10), minnet.randn(2, 3, 20))
        >>> output.shape, hn.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: DTypeLike | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_" + nonlinearity.upper(),
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
        )


class LSTM(RNNBase):
    r"""Long short-term memory over a whole sequence (gates i, f, g, o)::

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)     f = sigmoid(... f ...)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)        o = sigmoid(... o ...)
        c' = f * c + i * g                             h' = o * tanh(c')

    Args: as :class:`RNN` (without nonlinearity). ``weight_ih_l[k]`` is (4 H, I), stacked
    i, f, g, o.

    Call: ``output, (h_n, c_n) = lstm(input, (h_0, c_0)=None, lengths=None)``.

    Shape: as :class:`RNN`; c_0 and c_n as h_0.

    Examples::

        >>> lstm = nn.LSTM(10, 20, 2)
        >>> output, (hn, cn) = lstm(minnet.randn(5, 3, 10))
        >>> output.shape, cn.shape
        ((5, 3, 20), (2, 3, 20))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        dtype: DTypeLike | None = None,
    ) -> None:
        if proj_size:
            raise ValueError("LSTM: proj_size is not supported")
        super().__init__(
            "LSTM",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
        )


class GRU(RNNBase):
    r"""Gated recurrent unit over a whole sequence, PyTorch's form (gates r, z, n)::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    Compared with the lecture's (Cho et al.) form, z and 1 - z swap roles and the reset gate
    multiplies the hidden matmul's result instead of h; Keras's ``reset_after=True`` is this
    form (see minnet.nn.rnn_interop for its weight layout).

    Args: as :class:`RNN` (without nonlinearity). ``weight_ih_l[k]`` is (3 H, I), stacked
    r, z, n.

    Call: ``output, h_n = gru(input, h_0=None, lengths=None)``.

    Shape: as :class:`RNN`.

    Examples::

        >>> gru = nn.GRU(28, 128, batch_first=True)
        >>> output, hn = gru(minnet.randn(64, 10, 28))
        >>> output.shape, hn.shape
        ((64, 10, 128), (1, 64, 128))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(
            "GRU",
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
        )


class RNNCellBase(Module):
    """Shared machinery of the single-step cells."""

    bias_ih: Parameter | None
    bias_hh: Parameter | None

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__()
        dtype = dtype or get_default_dtype()
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.bias = bool(bias)
        gh = num_chunks * self.hidden_size
        self.weight_ih = Parameter(np.empty((gh, self.input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((gh, self.hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(gh, dtype=dtype))
            self.bias_hh = Parameter(np.empty(gh, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _prepare(
        self, input: Tensor, hx: _State | None, lstm: bool = False
    ) -> tuple[Tensor, Any, bool]:
        """(x (B, I), states (B, H) or None, batched) after checking shapes."""
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{self._get_name()}: input must be a Tensor, got {type(input).__name__}"
            )
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise self._layer_error(
                f"expected input of shape (N, {self.input_size}) or "
                f"({self.input_size},), got {tuple(input.shape)}"
            )
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(
                f"{self._get_name()}: input dtype {input.dtype} does not match the "
                f"parameters' {self.weight_ih.dtype}"
            )
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            return x, None, batched
        hs: list[Any] = list(hx) if lstm else [hx]
        want = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
        for i, h in enumerate(hs):
            name = ("h", "c")[i] if lstm else "hx"
            if not isinstance(h, Tensor) or tuple(h.shape) != want:
                raise self._layer_error(
                    f"expected {name} of shape {want}, got {tuple(getattr(h, 'shape', ()))}"
                )
        if not batched:
            hs = [h.unsqueeze(0) for h in hs]
        return x, (tuple(hs) if lstm else hs[0]), batched


class RNNCell(RNNCellBase):
    r"""One Elman step :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})` (or relu),
    one autograd node.

    Args:
        input_size (int): features of the input x.
        hidden_size (int): features of the hidden state h.
        bias (bool): use b_ih and b_hh. Default: True.
        nonlinearity (str): 'tanh' or 'relu'. Default: 'tanh'.
        dtype: parameter dtype. Default: the default dtype.

    Shape:
        - input: :math:`(N, H_{in})` or :math:`(H_{in})`; hx and output: :math:`(N, H)` or
          :math:`(H)`; hx defaults to zeros.

    Examples::

        >>> cell = nn.RNNCell(10, 20)
        >>> h = cell(minnet.randn(3, 10))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype: DTypeLike | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, batched = self._prepare(input, hx)
        out = RF.rnn_cell(
            x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity
        )
        return out if batched else out.squeeze(0)


class GRUCell(RNNCellBase):
    r"""One GRU step (PyTorch's form, see :class:`GRU`), one autograd node on the fused kernel.

    Args:
        input_size (int): features of the input x.
        hidden_size (int): features of the hidden state h.
        bias (bool): use b_ih and b_hh. Default: True.
        dtype: parameter dtype. Default: the default dtype.

    Shape:
        - input: :math:`(N, H_{in})` or :math:`(H_{in})`; hx and output: :math:`(N, H)` or
          :math:`(H)`; hx defaults to zeros.

    Examples::

        >>> cell = nn.GRUCell(28, 128)
        >>> h = cell(minnet.randn(64, 28), h)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, h, batched = self._prepare(input, hx)
        out = RF.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out if batched else out.squeeze(0)


class LSTMCell(RNNCellBase):
    r"""One LSTM step (gates i, f, g, o), one autograd node.

    Args:
        input_size (int): features of the input x.
        hidden_size (int): features of the hidden state h.
        bias (bool): use b_ih and b_hh. Default: True.
        dtype: parameter dtype. Default: the default dtype.

    Call: ``h', c' = cell(input, (h, c)=None)``.

    Shape:
        - input: :math:`(N, H_{in})` or :math:`(H_{in})`; h, c and outputs :math:`(N, H)` or
          :math:`(H)`.

    Examples::

        >>> cell = nn.LSTMCell(10, 20)
        >>> h, c = cell(minnet.randn(3, 10))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, dtype)

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        x, hc, batched = self._prepare(input, hx, lstm=True)
        h, c = RF.lstm_cell(x, hc, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))
