r"""Reference recurrent layers: the specification of minnet.kernels' rnn family (GRU, Elman RNN,
LSTM over a whole sequence, forward and backpropagation through time), in plain NumPy, written
to be read. Same names, signatures and return values as the kernels; validation is the
kernels' job, not the oracle's.

Layouts (PyTorch's): x is time-major (T, B, I); weight_ih is (G H, I), weight_hh (G H, H) with
the G gate blocks stacked in PyTorch's order; biases (G H,) or None.

GRU (PyTorch's "reset-after" form, gates r, z, n)::

    r  = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z  = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
    h' = (1 - z) * n + z * h

Mapping to the lecture (Cho et al. 2014) form ``h' = z * h~ + (1 - z) * h`` with
``h~ = tanh(W x + U (r * h))``: (1) z and 1 - z swap roles, so the lecture's update gate is
PyTorch's 1 - z (negate W_z, U_z and the z biases to convert); (2) the reset gate multiplies
the *result* of the hidden matmul (plus b_hn) instead of h before it; with r applied after,
W_hh h is one (3H, H) GEMM per step for all three gates, which is why PyTorch and cuDNN use it.
Keras's GRU with ``reset_after=True`` (its default) is this same form, with kernels transposed
to (I, 3H), (H, 3H), gates in z, r, h order and biases stacked as (2, 3H) (see
minnet.nn.rnn_interop); ``reset_after=False`` is the lecture form and is not provided.

Elman RNN: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``, act tanh or relu.

LSTM (gates i, f, g, o)::

    i = sigmoid(.), f = sigmoid(.), g = tanh(.), o = sigmoid(.)
        (each . = W_i* x + b_i* + W_h* h + b_h* for its gate)
    c' = f * c + i * g
    h' = o * tanh(c')

Sequences and variable lengths. Step t of direction ``reverse=False`` reads the state left by
step t - 1 (h0 before step 0); with ``reverse=True`` the steps run from T - 1 down to 0. With
``lengths`` (B,), batch row b takes part only in steps t < lengths[b]: at other steps its state
is left unchanged and its output is zero, as PyTorch's packed sequences (the reverse direction
thus starts at each row's own last element).

Memory keywords, as the kernels': a forward's ``out`` ((T + 1, B, H), LSTM (T + 2, B, H))
receives y then h_n (then c_n), which are returned as its views; ``alloc(shape, dtype)`` is
where a kernel takes the arrays it returns (an allocation strategy, not a result: the
reference accepts it and allocates with NumPy).

What the forward keeps for the backward (``saved``, a tuple of arrays):
    states (T + 1, B, H): the state before and after every step; for reverse=False the step at
        t reads states[t] and writes states[t + 1], for reverse=True it reads states[t + 1] and
        writes states[t] (so h0 is states[0] or states[T]).
    GRU:  gates (T, B, 4H) = r, z, n and W_hn h + b_hn (the reset gate's gradient needs it).
    RNN:  nothing else: the activation's derivative comes from its output.
    LSTM: gates (T, B, 4H) = i, f, g, o after their activations, and cells (T + 1, B, H) laid
        out as states.
"""

import numpy as np

__all__ = [
    "gru_forward",
    "gru_backward",
    "rnn_forward",
    "rnn_backward",
    "lstm_forward",
    "lstm_backward",
]


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # overflow-free logistic


def _affine(x, w, b):
    y = x @ w.T
    return y if b is None else y + b


# ---- one step of each cell: forward and backward side by side ---------------------------------
def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step: returns h' and the saved gates (B, 4H) = r, z, n, W_hn h + b_hn."""
    H = h.shape[1]
    gi = _affine(x, w_ih, b_ih)
    gh = _affine(h, w_hh, b_hh)
    r = _sigmoid(gi[:, :H] + gh[:, :H])
    z = _sigmoid(gi[:, H : 2 * H] + gh[:, H : 2 * H])
    n = np.tanh(gi[:, 2 * H :] + r * gh[:, 2 * H :])
    h_new = (1 - z) * n + z * h
    return h_new, np.concatenate([r, z, n, gh[:, 2 * H :]], axis=1)


def gru_cell_backward(dh_new, h, gates, w_hh):
    """Gradients of one GRU step: (d gi, d gh, dh) where gi = W_ih x + b_ih, gh = W_hh h + b_hh
    are the pre-activation projections (B, 3H), dh the gradient reaching h directly and through
    gh."""
    H = h.shape[1]
    r, z, n, ghn = (gates[:, k * H : (k + 1) * H] for k in range(4))
    dn = dh_new * (1 - z)
    dz = dh_new * (h - n)
    dan = dn * (1 - n * n)  # through tanh
    dr = dan * ghn
    dar = dr * r * (1 - r)
    daz = dz * z * (1 - z)
    dgi = np.concatenate([dar, daz, dan], axis=1)
    dgh = np.concatenate([dar, daz, dan * r], axis=1)
    dh = dh_new * z + dgh @ w_hh
    return dgi, dgh, dh


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman step: h' = act(W_ih x + b_ih + W_hh h + b_hh)."""
    a = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    return np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0)


def rnn_cell_backward(dh_new, h_new, w_hh, nonlinearity="tanh"):
    """(d a, dh): the gradient of the pre-activation (B, H) and of the previous state."""
    if nonlinearity == "tanh":
        da = dh_new * (1 - h_new * h_new)
    else:
        da = dh_new * (h_new > 0)
    return da, da @ w_hh


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step: returns h', c' and the gate activations (B, 4H) = i, f, g, o."""
    H = h.shape[1]
    a = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    i = _sigmoid(a[:, :H])
    f = _sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = _sigmoid(a[:, 3 * H :])
    c_new = f * c + i * g
    h_new = o * np.tanh(c_new)
    return h_new, c_new, np.concatenate([i, f, g, o], axis=1)


def lstm_cell_backward(dh_new, dc_new, c, c_new, gates, w_hh):
    """(d a, dh, dc): gradient of the pre-activations (B, 4H), of h and of c."""
    H = c.shape[1]
    i, f, g, o = (gates[:, k * H : (k + 1) * H] for k in range(4))
    tc = np.tanh(c_new)
    do = dh_new * tc
    dc = dc_new + dh_new * o * (1 - tc * tc)
    da = np.concatenate(
        [dc * g * i * (1 - i), dc * c * f * (1 - f), dc * i * (1 - g * g), do * o * (1 - o)],
        axis=1,
    )
    return da, da @ w_hh, dc * f


# ---- whole sequences ----------------------------------------------------------------------------
def _steps(T, reverse):
    """(t, index of the state read, index of the state written) in processing order."""
    if reverse:
        return [(t, t + 1, t) for t in range(T - 1, -1, -1)]
    return [(t, t, t + 1) for t in range(T)]


def _masks(T, B, lengths, dtype):
    """(T, B, 1): 1 where row b takes part in step t."""
    if lengths is None:
        return np.ones((T, B, 1), dtype)
    return (np.arange(T)[:, None] < np.asarray(lengths)[None, :]).astype(dtype)[:, :, None]


def _grad_or_zeros(g, shape, dtype):
    """An incoming gradient (B, H) as a fresh array to accumulate into: zeros for None."""
    return np.zeros(shape, dtype) if g is None else g.astype(dtype, copy=True)


def _weight_grads(dgi, dgh, x, states, reverse, w_ih, w_hh, has_bias):
    """dW_ih = sum_t dgi_t^T x_t, dW_hh = sum_t dgh_t^T h_prev_t, and the bias sums."""
    T = x.shape[0]
    h_prev = states[1:] if reverse else states[:-1]
    dw_ih = np.einsum("tbg,tbi->gi", dgi, x).astype(w_ih.dtype)
    dw_hh = np.einsum("tbg,tbh->gh", dgh, h_prev).astype(w_hh.dtype)
    if not has_bias or T == 0:
        return dw_ih, dw_hh, None, None
    return dw_ih, dw_hh, dgi.sum(axis=(0, 1)), dgh.sum(axis=(0, 1))


def _to_out(out, *arrays):
    """Copy y, h_n (, c_n) into out and return its views, or the arrays when out is None."""
    if out is None:
        return arrays
    T = arrays[0].shape[0]
    out[:T] = arrays[0]
    for k, a in enumerate(arrays[1:]):
        out[T + k] = a
    return (out[:T],) + tuple(out[T + k] for k in range(len(arrays) - 1))


def gru_forward(
    x, h0, w_ih, w_hh, b_ih=None, b_hh=None, *, lengths=None, reverse=False, out=None, alloc=None
):
    """A GRU layer over a sequence. Returns (y (T, B, H), h_n (B, H), saved=(gates, states))."""
    T, B, _ = x.shape
    H = h0.shape[1]
    m = _masks(T, B, lengths, x.dtype)
    states = np.empty((T + 1, B, H), x.dtype)
    gates = np.zeros((T, B, 4 * H), x.dtype)
    y = np.zeros((T, B, H), x.dtype)
    states[T if reverse else 0] = h0
    for t, rd, wr in _steps(T, reverse):
        h_new, gates[t] = gru_cell(x[t], states[rd], w_ih, w_hh, b_ih, b_hh)
        states[wr] = m[t] * h_new + (1 - m[t]) * states[rd]
        y[t] = m[t] * h_new
    return _to_out(out, y, states[0 if reverse else T].copy()) + ((gates, states),)


def gru_backward(
    dy,
    dh_n,
    x,
    w_ih,
    w_hh,
    saved,
    *,
    has_bias=True,
    lengths=None,
    reverse=False,
    need_dx=True,
    alloc=None,
):
    """Backpropagation through time for gru_forward. dy (T, B, H) and dh_n (B, H) may be None
    (no gradient). Returns (dx, dh0, dw_ih, dw_hh, db_ih, db_hh); the bias gradients are None
    when has_bias is False, dx is None when need_dx is False."""
    gates, states = saved
    T, B, _ = x.shape
    H = states.shape[2]
    m = _masks(T, B, lengths, x.dtype)
    dh = _grad_or_zeros(dh_n, (B, H), x.dtype)
    dgi = np.zeros((T, B, 3 * H), x.dtype)
    dgh = np.zeros((T, B, 3 * H), x.dtype)
    for t, rd, wr in reversed(_steps(T, reverse)):
        d_new = m[t] * (dh if dy is None else dh + dy[t])
        dgi[t], dgh[t], dh_cell = gru_cell_backward(d_new, states[rd], gates[t], w_hh)
        dh = (1 - m[t]) * dh + dh_cell
    dx = dgi @ w_ih if need_dx else None
    return (dx, dh) + _weight_grads(dgi, dgh, x, states, reverse, w_ih, w_hh, has_bias)


def rnn_forward(
    x,
    h0,
    w_ih,
    w_hh,
    b_ih=None,
    b_hh=None,
    *,
    nonlinearity="tanh",
    lengths=None,
    reverse=False,
    out=None,
    alloc=None,
):
    """An Elman RNN layer (tanh or relu). Returns (y, h_n, saved=(states,))."""
    T, B, _ = x.shape
    H = h0.shape[1]
    m = _masks(T, B, lengths, x.dtype)
    states = np.empty((T + 1, B, H), x.dtype)
    y = np.zeros((T, B, H), x.dtype)
    states[T if reverse else 0] = h0
    for t, rd, wr in _steps(T, reverse):
        h_new = rnn_cell(x[t], states[rd], w_ih, w_hh, b_ih, b_hh, nonlinearity)
        states[wr] = m[t] * h_new + (1 - m[t]) * states[rd]
        y[t] = m[t] * h_new
    return _to_out(out, y, states[0 if reverse else T].copy()) + ((states,),)


def rnn_backward(
    dy,
    dh_n,
    x,
    w_ih,
    w_hh,
    saved,
    *,
    has_bias=True,
    nonlinearity="tanh",
    lengths=None,
    reverse=False,
    need_dx=True,
    alloc=None,
):
    """BPTT for rnn_forward. Returns (dx, dh0, dw_ih, dw_hh, db_ih, db_hh)."""
    (states,) = saved
    T, B, _ = x.shape
    H = states.shape[2]
    m = _masks(T, B, lengths, x.dtype)
    dh = _grad_or_zeros(dh_n, (B, H), x.dtype)
    da = np.zeros((T, B, H), x.dtype)
    for t, rd, wr in reversed(_steps(T, reverse)):
        d_new = m[t] * (dh if dy is None else dh + dy[t])
        da[t], dh_cell = rnn_cell_backward(d_new, states[wr], w_hh, nonlinearity)
        dh = (1 - m[t]) * dh + dh_cell
    dx = da @ w_ih if need_dx else None
    return (dx, dh) + _weight_grads(da, da, x, states, reverse, w_ih, w_hh, has_bias)


def lstm_forward(
    x,
    h0,
    c0,
    w_ih,
    w_hh,
    b_ih=None,
    b_hh=None,
    *,
    lengths=None,
    reverse=False,
    out=None,
    alloc=None,
):
    """An LSTM layer. Returns (y, h_n, c_n, saved=(gates, states, cells))."""
    T, B, _ = x.shape
    H = h0.shape[1]
    m = _masks(T, B, lengths, x.dtype)
    states = np.empty((T + 1, B, H), x.dtype)
    cells = np.empty((T + 1, B, H), x.dtype)
    gates = np.zeros((T, B, 4 * H), x.dtype)
    y = np.zeros((T, B, H), x.dtype)
    states[T if reverse else 0] = h0
    cells[T if reverse else 0] = c0
    for t, rd, wr in _steps(T, reverse):
        h_new, c_new, gates[t] = lstm_cell(x[t], states[rd], cells[rd], w_ih, w_hh, b_ih, b_hh)
        states[wr] = m[t] * h_new + (1 - m[t]) * states[rd]
        cells[wr] = m[t] * c_new + (1 - m[t]) * cells[rd]
        y[t] = m[t] * h_new
    last = 0 if reverse else T
    return _to_out(out, y, states[last].copy(), cells[last].copy()) + ((gates, states, cells),)


def lstm_backward(
    dy,
    dh_n,
    dc_n,
    x,
    w_ih,
    w_hh,
    saved,
    *,
    has_bias=True,
    lengths=None,
    reverse=False,
    need_dx=True,
    alloc=None,
):
    """BPTT for lstm_forward. dy, dh_n, dc_n may be None. Returns (dx, dh0, dc0, dw_ih, dw_hh,
    db_ih, db_hh)."""
    gates, states, cells = saved
    T, B, _ = x.shape
    H = states.shape[2]
    m = _masks(T, B, lengths, x.dtype)
    dh = _grad_or_zeros(dh_n, (B, H), x.dtype)
    dc = _grad_or_zeros(dc_n, (B, H), x.dtype)
    da = np.zeros((T, B, 4 * H), x.dtype)
    for t, rd, wr in reversed(_steps(T, reverse)):
        dh_new = m[t] * (dh if dy is None else dh + dy[t])
        # a row that skips the step keeps c, so its c' is its c and the mask zeroes its grads
        da[t], dh_cell, dc_cell = lstm_cell_backward(
            dh_new, m[t] * dc, cells[rd], cells[wr], gates[t], w_hh
        )
        dh = (1 - m[t]) * dh + dh_cell
        dc = (1 - m[t]) * dc + m[t] * dc_cell
    dx = da @ w_ih if need_dx else None
    dw_ih, dw_hh, db_ih, db_hh = _weight_grads(da, da, x, states, reverse, w_ih, w_hh, has_bias)
    return dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh
