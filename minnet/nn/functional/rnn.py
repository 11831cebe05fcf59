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


def _kernel_kwargs(mode):
    return {"nonlinearity": mode[4:].lower()} if mode.startswith("RNN") else {}


class _Layer(Function):
    """GRU / RNN over a sequence: forward(x, h0, w_ih, w_hh, b_ih, b_hh) -> [y; h_n]."""

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, mode, lengths, reverse):
        fwd = kernels.gru_forward if mode == "GRU" else kernels.rnn_forward
        kw = dict(lengths=lengths, reverse=reverse, **_kernel_kwargs(mode))
        T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
        out = _empty((T + 1, B, H), x.dtype)
        *_, saved = fwd(x, h0, w_ih, w_hh, b_ih, b_hh, out=out, alloc=_empty, **kw)
        if any(self.needs_input_grad):
            self.saved = (x, w_ih, w_hh, saved, b_ih is not None, kw)
        return out

    def backward(self, g):
        x, w_ih, w_hh, saved, has_bias, kw = self.saved
        bwd = kernels.gru_backward if "nonlinearity" not in kw else kernels.rnn_backward
        T = x.shape[0]
        return bwd(
            g[:T],
            g[T],
            x,
            w_ih,
            w_hh,
            saved,
            has_bias=has_bias,
            need_dx=self.needs_input_grad[0],
            alloc=_empty,
            **kw,
        )


class _LSTMLayer(Function):
    """LSTM over a sequence: forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh) -> [y; h_n; c_n]."""

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, *, lengths, reverse):
        kw = dict(lengths=lengths, reverse=reverse)
        T, B, H = x.shape[0], x.shape[1], w_hh.shape[1]
        out = _empty((T + 2, B, H), x.dtype)
        *_, saved = kernels.lstm_forward(
            x, h0, c0, w_ih, w_hh, b_ih, b_hh, out=out, alloc=_empty, **kw
        )
        if any(self.needs_input_grad):
            self.saved = (x, w_ih, w_hh, saved, b_ih is not None, kw)
        return out

    def backward(self, g):
        x, w_ih, w_hh, saved, has_bias, kw = self.saved
        T = x.shape[0]
        return kernels.lstm_backward(
            g[:T],
            g[T],
            g[T + 1],
            x,
            w_ih,
            w_hh,
            saved,
            has_bias=has_bias,
            need_dx=self.needs_input_grad[0],
            alloc=_empty,
            **kw,
        )


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


class _Cell(Function):
    """One GRU / RNN step: forward(x (B, I), h (B, H), w_ih, w_hh, b_ih, b_hh) -> h'."""

    def forward(self, x, h, w_ih, w_hh, b_ih, b_hh, *, mode):
        fwd = kernels.gru_forward if mode == "GRU" else kernels.rnn_forward
        kw = _kernel_kwargs(mode)
        x1 = x[None]
        _, hn, saved = fwd(x1, h, w_ih, w_hh, b_ih, b_hh, alloc=_empty, **kw)
        if any(self.needs_input_grad):
            self.saved = (x1, w_ih, w_hh, saved, b_ih is not None, kw)
        return hn

    def backward(self, g):
        x1, w_ih, w_hh, saved, has_bias, kw = self.saved
        bwd = kernels.gru_backward if "nonlinearity" not in kw else kernels.rnn_backward
        dx, dh, dw_ih, dw_hh, db_ih, db_hh = bwd(
            None,
            g,
            x1,
            w_ih,
            w_hh,
            saved,
            has_bias=has_bias,
            alloc=_empty,
            need_dx=self.needs_input_grad[0],
            **kw,
        )
        return None if dx is None else dx[0], dh, dw_ih, dw_hh, db_ih, db_hh


class _LSTMCell(Function):
    """One LSTM step: forward(x, h, c, w_ih, w_hh, b_ih, b_hh) -> [h'; c'] (2, B, H)."""

    def forward(self, x, h, c, w_ih, w_hh, b_ih, b_hh):
        x1 = x[None]
        out = _empty((3,) + h.shape, x.dtype)
        *_, saved = kernels.lstm_forward(x1, h, c, w_ih, w_hh, b_ih, b_hh, out=out, alloc=_empty)
        if any(self.needs_input_grad):
            self.saved = (x1, w_ih, w_hh, saved, b_ih is not None)
        return out[1:]

    def backward(self, g):
        x1, w_ih, w_hh, saved, has_bias = self.saved
        dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh = kernels.lstm_backward(
            None,
            g[0],
            g[1],
            x1,
            w_ih,
            w_hh,
            saved,
            has_bias=has_bias,
            need_dx=self.needs_input_grad[0],
            alloc=_empty,
        )
        return None if dx is None else dx[0], dh, dc, dw_ih, dw_hh, db_ih, db_hh


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
