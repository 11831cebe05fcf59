"""Autograd nodes for recurrent layers: a whole-sequence GRU/RNN/LSTM layer (one direction of
one layer) is ONE node over minnet.kernels' fused sequence kernels, and a single cell step is
one node too (decoder loops). The equations are minnet.reference.rnn's.

A Function returns one array, so a layer node returns its outputs stacked along time:
``(T + 1, B, H)`` = y then h_n (LSTM: ``(T + 2, B, H)`` = y, h_n, c_n), written there by the
kernel (out=), and _Rows slices it. Every array the nodes return or save comes from the
buffer arena (minnet._arena): a steady training loop faults in no fresh pages.
"""

import numpy as np

from minnet import kernels
from minnet._arena import empty as _empty
from minnet.autograd import Function
from minnet.tensor import Tensor

__all__ = ["rnn_layer", "gru_cell", "rnn_cell", "lstm_cell"]


def _kernels(mode):
    """The (forward, backward) sequence kernels of a GRU or RNN mode."""
    if mode == "GRU":
        return kernels.gru_forward, kernels.gru_backward
    return kernels.rnn_forward, kernels.rnn_backward


def _kernel_kwargs(mode):
    return {"nonlinearity": mode[4:].lower()} if mode.startswith("RNN") else {}


class _Recurrent(Function):
    """What the layer and cell nodes share: each saves the same things for one call of its
    kernel's backward (``*_backward(grads..., x, w_ih, w_hh, saved, ...)``)."""

    def _save(self, backward, x, w_ih, w_hh, saved, b_ih, kw):
        if any(self.needs_input_grad):
            self.saved = (backward, x, w_ih, w_hh, saved, b_ih is not None, kw)

    def _backward(self, *grads):
        backward, x, w_ih, w_hh, saved, has_bias, kw = self.saved
        return backward(
            *grads,
            x,
            w_ih,
            w_hh,
            saved,
            has_bias=has_bias,
            need_dx=self.needs_input_grad[0],
            alloc=_empty,
            **kw,
        )


class _Layer(_Recurrent):
    """GRU / RNN over a sequence: forward(x, h0, w_ih, w_hh, b_ih, b_hh) -> [y; h_n]."""

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, mode, lengths, reverse):
        fwd, bwd = _kernels(mode)
        kw = dict(lengths=lengths, reverse=reverse, **_kernel_kwargs(mode))
        T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
        out = _empty((T + 1, B, H), x.dtype)
        *_, saved = fwd(x, h0, w_ih, w_hh, b_ih, b_hh, out=out, alloc=_empty, **kw)
        self._save(bwd, x, w_ih, w_hh, saved, b_ih, kw)
        return out

    def backward(self, g):
        T = g.shape[0] - 1
        return self._backward(g[:T], g[T])


class _LSTMLayer(_Recurrent):
    """LSTM over a sequence: forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> [y; h_n; c_n]."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, *, lengths, reverse):
        kw = dict(lengths=lengths, reverse=reverse)
        T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
        out = _empty((T + 2, B, H), x.dtype)
        *_, saved = kernels.lstm_forward(
            x, h0, c0, w_ih, w_hh, b_ih, b_hh, out=out, alloc=_empty, **kw
        )
        self._save(kernels.lstm_backward, x, w_ih, w_hh, saved, b_ih, kw)
        return out

    def backward(self, g):
        T = g.shape[0] - 2
        return self._backward(g[:T], g[T], g[T + 1])


class _Rows(Function):
    """rows [lo, hi) of a stacked output (a view), or row lo alone when hi is None; the
    gradient is zero elsewhere, in an arena buffer (Tensor indexing would np.zeros a fresh
    one every step)."""

    def forward(self, p, *, lo, hi):
        self.shape, self.lo, self.hi = p.shape, lo, hi
        return p[lo] if hi is None else p[lo:hi]

    def backward(self, g):
        gp = _empty(self.shape, g.dtype)
        hi = self.lo + 1 if self.hi is None else self.hi
        gp[: self.lo] = 0
        gp[self.lo : hi] = g
        gp[hi:] = 0
        return gp


def rnn_layer(mode, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, lengths=None, reverse=False):
    """One direction of one recurrent layer over a time-major sequence x (T, B, I).

    mode: 'GRU', 'RNN_TANH', 'RNN_RELU' or 'LSTM'. Returns (y (T, B, H), h_n (B, H)) and for the
    LSTM (y, h_n, c_n). c0 is ignored except for the LSTM."""
    T = x.shape[0]
    if mode == "LSTM":
        out = _LSTMLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=lengths, reverse=reverse)
        return (
            _Rows.apply(out, lo=0, hi=T),
            _Rows.apply(out, lo=T, hi=None),
            _Rows.apply(out, lo=T + 1, hi=None),
        )
    out = _Layer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, mode=mode, lengths=lengths, reverse=reverse)
    return _Rows.apply(out, lo=0, hi=T), _Rows.apply(out, lo=T, hi=None)


class _Cell(_Recurrent):
    """One GRU / RNN step: forward(x (B, I), h (B, H), w_ih, w_hh, b_ih, b_hh) -> h'."""

    def forward(self, x, h, w_ih, w_hh, b_ih, b_hh, *, mode):
        fwd, bwd = _kernels(mode)
        kw = _kernel_kwargs(mode)
        x1 = x[None]
        _, hn, saved = fwd(x1, h, w_ih, w_hh, b_ih, b_hh, alloc=_empty, **kw)
        self._save(bwd, x1, w_ih, w_hh, saved, b_ih, kw)
        return hn

    def backward(self, g):
        dx, *grads = self._backward(None, g)
        return (None if dx is None else dx[0], *grads)


class _LSTMCell(_Recurrent):
    """One LSTM step: forward(x, h, c, w_ih, w_hh, b_ih, b_hh) -> [h'; c'] (2, B, H)."""

    def forward(self, x, h, c, w_ih, w_hh, b_ih, b_hh):
        x1 = x[None]
        out = _empty((3,) + h.shape, x.dtype)
        *_, saved = kernels.lstm_forward(x1, h, c, w_ih, w_hh, b_ih, b_hh, out=out, alloc=_empty)
        self._save(kernels.lstm_backward, x1, w_ih, w_hh, saved, b_ih, {})
        return out[1:]

    def backward(self, g):
        dx, *grads = self._backward(None, g[0], g[1])
        return (None if dx is None else dx[0], *grads)


def _zeros_state(x, hidden):
    return Tensor(np.zeros((x.shape[0], hidden), dtype=x.dtype))


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' for one GRU step: input (B, I), hx (B, H) or None (zeros). One autograd node."""
    if hx is None:
        hx = _zeros_state(input, w_hh.shape[1])
    return _Cell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, mode="GRU")


def rnn_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """h' for one Elman step (tanh or relu). One autograd node."""
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_cell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    if hx is None:
        hx = _zeros_state(input, w_hh.shape[1])
    return _Cell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, mode="RNN_" + nonlinearity.upper())


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(h', c') for one LSTM step: hx = (h, c) or None (zeros). One autograd node."""
    if hx is None:
        hx = (_zeros_state(input, w_hh.shape[1]), _zeros_state(input, w_hh.shape[1]))
    h, c = hx
    out = _LSTMCell.apply(input, h, c, w_ih, w_hh, b_ih, b_hh)
    return _Rows.apply(out, lo=0, hi=None), _Rows.apply(out, lo=1, hi=None)
