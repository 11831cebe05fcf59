"""Generated recurrent-kernel calls (hypothesis): every call either equals minnet.reference
(float64, relative 1e-10) or raises ValueError/TypeError; never a crash or a silent wrong
answer. ``MINNET_FUZZ_EXAMPLES`` sets the examples per test (default 40: seconds)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests_helpers_fuzz import fuzz_settings

from minnet import kernels, reference

FUZZ = fuzz_settings(40)
GATES = {"gru": 3, "rnn_tanh": 1, "rnn_relu": 1, "lstm": 4}
SAVED_GATES = {"gru": 4, "rnn_tanh": 0, "rnn_relu": 0, "lstm": 4}


def _fns(mod, cell):
    if cell == "gru":
        return mod.gru_forward, mod.gru_backward, {}
    if cell == "lstm":
        return mod.lstm_forward, mod.lstm_backward, {}
    return mod.rnn_forward, mod.rnn_backward, {"nonlinearity": cell[4:]}


def _close(got, want):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:
            assert g is None, i
            continue
        assert g.shape == w.shape, (i, g.shape, w.shape)
        both_nan = np.isnan(g) & np.isnan(w)
        err = np.where(both_nan, 0, np.abs(g - w)).max(initial=0) / (
            1 + np.abs(np.where(np.isnan(w), 0, w)).max(initial=0)
        )
        assert err <= 1e-10, f"output {i}: relative error {err:.3e}"


@st.composite
def cases(draw):
    cell = draw(st.sampled_from(sorted(GATES)))
    T, B, I, H = (draw(st.integers(1, n)) for n in (6, 5, 6, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    return dict(
        cell=cell,
        T=T,
        B=B,
        I=I,
        H=H,
        seed=seed,
        bias=draw(st.booleans()),
        reverse=draw(st.booleans()),
        lengths=draw(st.sampled_from([None, "random", "zeros", "full"])),
        grads=draw(st.sampled_from(["all", "y", "h", "none"])),
        need_dx=draw(st.booleans()),
        saved=draw(st.sampled_from(["forward", "arbitrary"])),
        scale=draw(st.sampled_from([0.1, 1.0, 5.0])),
    )


def _inputs(c):
    rng = np.random.default_rng(c["seed"])
    G, T, B, I, H = GATES[c["cell"]], c["T"], c["B"], c["I"], c["H"]
    s = c["scale"]
    p = dict(
        x=rng.standard_normal((T, B, I)) * s,
        h0=rng.standard_normal((B, H)),
        c0=rng.standard_normal((B, H)),
        w_ih=rng.uniform(-1, 1, (G * H, I)) * s,
        w_hh=rng.uniform(-1, 1, (G * H, H)) * s,
        b_ih=rng.uniform(-1, 1, G * H) if c["bias"] else None,
        b_hh=rng.uniform(-1, 1, G * H) if c["bias"] else None,
    )
    lengths = {
        None: None,
        "random": rng.integers(0, T + 1, B),
        "zeros": np.zeros(B, int),
        "full": np.full(B, T),
    }[c["lengths"]]
    dy = rng.standard_normal((T, B, H)) if c["grads"] in ("all", "y") else None
    dh_n = rng.standard_normal((B, H)) if c["grads"] in ("all", "h") else None
    dc_n = rng.standard_normal((B, H)) if c["grads"] == "all" else None
    return rng, p, lengths, dy, dh_n, dc_n


def _forward(mod, c, p, lengths):
    fwd, _, kw = _fns(mod, c["cell"])
    args = (
        [p["x"], p["h0"]]
        + ([p["c0"]] if c["cell"] == "lstm" else [])
        + [p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"]]
    )
    return fwd(*args, lengths=lengths, reverse=c["reverse"], **kw)


def _backward(mod, c, p, lengths, dy, dh_n, dc_n, saved):
    _, bwd, kw = _fns(mod, c["cell"])
    args = (
        [dy, dh_n]
        + ([dc_n] if c["cell"] == "lstm" else [])
        + [p["x"], p["w_ih"], p["w_hh"], saved]
    )
    return bwd(
        *args,
        has_bias=c["bias"],
        lengths=lengths,
        reverse=c["reverse"],
        need_dx=c["need_dx"],
        **kw,
    )


@FUZZ
@given(cases())
def test_forward_and_backward_equal_the_reference(c):
    rng, p, lengths, dy, dh_n, dc_n = _inputs(c)
    got_f = _forward(kernels, c, p, lengths)
    want_f = _forward(reference, c, p, lengths)
    _close(list(got_f[:-1]), list(want_f[:-1]))
    if c["saved"] == "forward":
        saved_k, saved_r = got_f[-1], want_f[-1]
    else:
        # a saved tuple of the right shapes holding anything: both sides must read it the
        # same way (the backward is a function of what it is given)
        saved_k = tuple(rng.uniform(-1, 1, a.shape) for a in got_f[-1])
        saved_r = tuple(a.copy() for a in saved_k)
    got_b = _backward(kernels, c, p, lengths, dy, dh_n, dc_n, saved_k)
    want_b = _backward(reference, c, p, lengths, dy, dh_n, dc_n, saved_r)
    _close(list(got_b), list(want_b))


@FUZZ
@given(
    cases(), st.sampled_from(["T", "B", "H", "states", "gates", "dy", "lengths", "dtype", "w_ih"])
)
def test_malformed_backward_arguments_raise(c, what):
    rng, p, lengths, dy, dh_n, dc_n = _inputs(c)
    *_, saved = _forward(kernels, c, p, lengths)
    saved = list(saved)
    dy = np.zeros((c["T"], c["B"], c["H"])) if dy is None else dy
    if what == "T":
        p["x"] = p["x"][:0]
    elif what == "B":
        p["x"] = p["x"][:, :0]
    elif what == "H":
        p["w_hh"] = p["w_hh"][:, :0]
    elif what == "states":
        i = len(saved) - (2 if c["cell"] == "lstm" else 1)
        saved[i] = saved[i][:-1]
    elif what == "gates":
        if SAVED_GATES[c["cell"]] == 0:
            saved.append(np.zeros(1))
        else:
            saved[0] = saved[0][..., :-1]
    elif what == "dy":
        dy = dy[:, :, :-1] if c["H"] > 1 else dy[:-1] if c["T"] > 1 else dy[:, :0]
    elif what == "lengths":
        lengths = np.full(c["B"], c["T"] + 1)
    elif what == "dtype":
        dy = dy.astype(np.float32)
    elif what == "w_ih":
        p["w_ih"] = p["w_ih"][:-1]
    with pytest.raises((ValueError, TypeError)):
        _backward(kernels, c, p, lengths, dy, dh_n, dc_n, tuple(saved))
