"""minnet.kernels' rnn family (GRU, RNN tanh/relu, LSTM over whole sequences, forward and BPTT)
against the NumPy reference, and the reference against finite differences.

Tolerances: the reference is evaluated in float64; float32 kernels differ by rounding that the
recurrence carries along, so they get a relative 2e-4 (float64: 1e-11).
"""

import numpy as np
import pytest

import minnet
from minnet import kernels, reference
from minnet._kernels import _runtime
from minnet.testing import numerical_grad

ISAS = [
    name
    for name in _runtime.ISA_NAMES
    if _runtime.ISA_NAMES.index(name) <= _runtime.ISA_NAMES.index(_runtime.cpu_isa())
]
CELLS = ["gru", "rnn_tanh", "rnn_relu", "lstm"]
GATES = {"gru": 3, "rnn_tanh": 1, "rnn_relu": 1, "lstm": 4}
TOL = {np.float32: 2e-4, np.float64: 1e-11}

# (T, B, I, H): one step, batch 1, odd sizes, and one of the course's shapes
SHAPES = [(1, 1, 1, 1), (1, 4, 3, 5), (6, 1, 4, 3), (7, 5, 9, 17), (10, 64, 28, 128)]


def _params(rng, cell, T, B, I, H, dtype, bias=True):
    G = GATES[cell]
    p = dict(
        x=rng.standard_normal((T, B, I)),
        h0=rng.standard_normal((B, H)),
        c0=rng.standard_normal((B, H)),
        w_ih=rng.uniform(-1, 1, (G * H, I)) / np.sqrt(H),
        w_hh=rng.uniform(-1, 1, (G * H, H)) / np.sqrt(H),
        b_ih=rng.uniform(-1, 1, G * H) if bias else None,
        b_hh=rng.uniform(-1, 1, G * H) if bias else None,
    )
    return {k: None if v is None else v.astype(dtype) for k, v in p.items()}


def _run(mod, cell, p, dy, dh_n, dc_n, lengths=None, reverse=False):
    """Forward then backward through module `mod` (kernels or reference): a flat list of every
    output and gradient."""
    kw = dict(lengths=lengths, reverse=reverse)
    has_bias = p["b_ih"] is not None
    if cell == "lstm":
        y, hn, cn, saved = mod.lstm_forward(
            p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], **kw
        )
        grads = mod.lstm_backward(
            dy, dh_n, dc_n, p["x"], p["w_ih"], p["w_hh"], saved, has_bias=has_bias, **kw
        )
        return [y, hn, cn, *grads]
    if cell == "gru":
        fwd, bwd = mod.gru_forward, mod.gru_backward
    else:
        kw["nonlinearity"] = cell[4:]
        fwd, bwd = mod.rnn_forward, mod.rnn_backward
    y, hn, saved = fwd(p["x"], p["h0"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], **kw)
    grads = bwd(dy, dh_n, p["x"], p["w_ih"], p["w_hh"], saved, has_bias=has_bias, **kw)
    return [y, hn, *grads]


def _compare(got, want, dtype):
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        if w is None:
            assert g is None, i
            continue
        assert g.dtype == dtype and g.shape == w.shape, (i, g.dtype, g.shape, w.shape)
        scale = 1 + np.abs(w).max()
        err = np.abs(g.astype(np.float64) - w).max() / scale
        assert err <= TOL[dtype], f"output {i}: relative error {err:.2e}"


def _case(cell, shape, dtype, seed, bias=True, lengths=False, reverse=False, grads="all"):
    T, B, I, H = shape
    rng = np.random.default_rng(seed)
    p = _params(rng, cell, T, B, I, H, dtype, bias)
    dy = rng.standard_normal((T, B, H)).astype(dtype) if grads in ("all", "y") else None
    dh_n = rng.standard_normal((B, H)).astype(dtype) if grads in ("all", "h") else None
    dc_n = rng.standard_normal((B, H)).astype(dtype) if grads == "all" else None
    lens = rng.integers(0, T + 1, B) if lengths else None
    got = _run(kernels, cell, p, dy, dh_n, dc_n, lens, reverse)
    p64 = {k: None if v is None else v.astype(np.float64) for k, v in p.items()}
    f64 = lambda a: None if a is None else a.astype(np.float64)
    want = _run(reference, cell, p64, f64(dy), f64(dh_n), f64(dc_n), lens, reverse)
    _compare(got, want, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("cell", CELLS)
def test_matches_reference(cell, shape, dtype):
    _case(cell, shape, dtype, seed=sum(shape))


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [False, True])
def test_reverse_lengths_no_bias(cell, reverse, lengths):
    for dtype in (np.float32, np.float64):
        _case(
            cell, (9, 6, 5, 7), dtype, seed=3, bias=not lengths, lengths=lengths, reverse=reverse
        )


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("grads", ["y", "h", "none"])
def test_missing_output_gradients(cell, grads):
    """dy, dh_n (and dc_n) may each be None: a zero gradient."""
    _case(cell, (4, 3, 2, 5), np.float64, seed=11, grads=grads)


@pytest.mark.parametrize("cell", CELLS)
def test_need_dx_false_skips_dx_only(cell):
    rng = np.random.default_rng(12)
    p = _params(rng, cell, 4, 3, 5, 6, np.float64)
    dy = rng.standard_normal((4, 3, 6))
    full = _run(kernels, cell, p, dy, None, None)
    kw = {"nonlinearity": cell[4:]} if cell.startswith("rnn") else {}
    if cell == "lstm":
        *_, saved = kernels.lstm_forward(
            p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"]
        )
        part = kernels.lstm_backward(
            dy, None, None, p["x"], p["w_ih"], p["w_hh"], saved, need_dx=False
        )
        rest = full[3:]
    else:
        fwd = kernels.gru_forward if cell == "gru" else kernels.rnn_forward
        bwd = kernels.gru_backward if cell == "gru" else kernels.rnn_backward
        *_, saved = fwd(p["x"], p["h0"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], **kw)
        part = bwd(dy, None, p["x"], p["w_ih"], p["w_hh"], saved, need_dx=False, **kw)
        rest = full[2:]
    assert part[0] is None
    for a, b in zip(part[1:], rest[1:]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", CELLS)
def test_every_isa(isa, cell):
    _runtime.set_isa(isa)
    try:
        for dtype in (np.float32, np.float64):
            _case(cell, (5, 7, 6, 37), dtype, seed=5, lengths=True)
            _case(cell, (3, 9, 4, 70), dtype, seed=6, reverse=True)
    finally:
        _runtime.set_isa(None)


@pytest.mark.parametrize("cell", CELLS)
def test_threads_give_identical_results(cell):
    """Threads split batch rows and GEMM tiles, never a sum: 1 and 2 threads agree bit for bit."""
    rng = np.random.default_rng(9)
    # the second shape: unit blocks of unequal width, a partial row tile, lengths
    for (T, B, I, H), lens in [((6, 64, 28, 128), None), ((5, 13, 7, 100), [5, 1, 3] + [4] * 10)]:
        p = _params(rng, cell, T, B, I, H, np.float32)
        dy = rng.standard_normal((T, B, H)).astype(np.float32)
        dh = rng.standard_normal((B, H)).astype(np.float32)
        with minnet.threads(1):
            one = _run(kernels, cell, p, dy, dh, dh, lens)
        with minnet.threads(2):
            two = _run(kernels, cell, p, dy, dh, dh, lens)
        for a, b in zip(one, two):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", CELLS)
def test_long_sequence_stays_finite(cell):
    """200 steps with large inputs: gates saturate, nothing overflows. (A relu RNN with a
    recurrent gain above 1 grows without bound by definition: it keeps the default scale.)"""
    rng = np.random.default_rng(1)
    T, B, I, H = 200, 4, 3, 8
    p = _params(rng, cell, T, B, I, H, np.float32)
    if cell != "rnn_relu":
        p["x"] *= 30
        p["w_hh"] *= 3
    dy = rng.standard_normal((T, B, H)).astype(np.float32)
    out = _run(kernels, cell, p, dy, None, None)
    for a in out:
        if a is not None:
            assert np.all(np.isfinite(a))


# ---- the reference itself, against central differences -------------------------------------
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("lengths", [None, [3, 1, 0]])
def test_reference_finite_differences(cell, reverse, lengths):
    rng = np.random.default_rng(2)
    T, B, I, H = 3, 3, 2, 3
    p = _params(rng, cell, T, B, I, H, np.float64)
    dy = rng.standard_normal((T, B, H))
    dh_n = rng.standard_normal((B, H))
    dc_n = rng.standard_normal((B, H))
    names = ["x", "h0"] + (["c0"] if cell == "lstm" else []) + ["w_ih", "w_hh", "b_ih", "b_hh"]
    lens = None if lengths is None else np.array(lengths)

    def loss():
        out = _run(reference, cell, p, None, None, None, lens, reverse)
        total = (out[0] * dy).sum() + (out[1] * dh_n).sum()
        return total + ((out[2] * dc_n).sum() if cell == "lstm" else 0.0)

    out = _run(reference, cell, p, dy, dh_n, dc_n, lens, reverse)
    analytic = dict(zip(names, out[3:] if cell == "lstm" else out[2:]))
    for name in names:
        num = numerical_grad(loss, p[name])
        np.testing.assert_allclose(analytic[name], num, atol=1e-7, rtol=1e-6, err_msg=name)


# ---- bad input ---------------------------------------------------------------------------------
def test_bad_input_names_the_function_and_shapes():
    rng = np.random.default_rng(0)
    p = _params(rng, "gru", 3, 2, 4, 5, np.float32)
    x, h0, wi, wh = p["x"], p["h0"], p["w_ih"], p["w_hh"]
    with pytest.raises(
        ValueError, match=r"gru_forward: h0 must have shape \(2, 5\), got \(3, 5\)"
    ):
        kernels.gru_forward(x, np.zeros((3, 5), np.float32), wi, wh)
    with pytest.raises(
        ValueError, match=r"gru_forward: w_ih must have shape \(15, 3\), got \(15, 4\)"
    ):
        kernels.gru_forward(x[..., :3], h0, wi, wh)
    with pytest.raises(ValueError, match=r"gru_forward: x must have shape"):
        kernels.gru_forward(x[0], h0, wi, wh)
    with pytest.raises(ValueError, match="T, B, I >= 1"):
        kernels.gru_forward(x[:0], h0, wi, wh)
    with pytest.raises(TypeError, match="dtype float32"):
        kernels.gru_forward(x, h0.astype(np.float64), wi, wh)
    with pytest.raises(ValueError, match=r"lengths must lie in \[0, 3\]"):
        kernels.gru_forward(x, h0, wi, wh, lengths=[4, 1])
    with pytest.raises(ValueError, match=r"lengths must have shape \(2,\)"):
        kernels.gru_forward(x, h0, wi, wh, lengths=[3])
    with pytest.raises(ValueError, match="nonlinearity"):
        kernels.rnn_forward(x, h0, wi[:5], wh[:5], nonlinearity="sigmoid")
    q = _params(rng, "lstm", 3, 2, 4, 5, np.float32)
    with pytest.raises(ValueError, match=r"lstm_forward: c0 must have shape \(2, 5\)"):
        kernels.lstm_forward(q["x"], q["h0"], np.zeros(5, np.float32), q["w_ih"], q["w_hh"])


@pytest.mark.parametrize("mod", [kernels, reference], ids=["kernels", "reference"])
@pytest.mark.parametrize("cell", ["gru", "rnn_tanh", "lstm"])
def test_out_and_alloc(mod, cell):
    """out= receives y then the final state(s) and the results are its views; alloc= is where
    the other arrays come from; the values do not change."""
    rng = np.random.default_rng(13)
    T, B, H = 4, 3, 5
    p = _params(rng, cell, T, B, 2, H, np.float32)
    made = []

    def alloc(shape, dtype):
        a = np.full(shape, np.nan, dtype)  # every element must be overwritten
        made.append(a)
        return a

    extra = 2 if cell == "lstm" else 1
    out = np.full((T + extra, B, H), np.nan, np.float32)
    if cell == "lstm":
        y, hn, cn, saved = mod.lstm_forward(
            p["x"],
            p["h0"],
            p["c0"],
            p["w_ih"],
            p["w_hh"],
            p["b_ih"],
            p["b_hh"],
            out=out,
            alloc=alloc,
        )
        assert np.shares_memory(cn, out)
        ref = reference.lstm_forward(
            p["x"], p["h0"], p["c0"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"]
        )
        grads = mod.lstm_backward(None, hn, cn, p["x"], p["w_ih"], p["w_hh"], saved, alloc=alloc)
    else:
        kw = {"nonlinearity": "tanh"} if cell != "gru" else {}
        fwd = mod.gru_forward if cell == "gru" else mod.rnn_forward
        bwd = mod.gru_backward if cell == "gru" else mod.rnn_backward
        y, hn, saved = fwd(
            p["x"], p["h0"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], out=out, alloc=alloc, **kw
        )
        ref = getattr(reference, fwd.__name__)(
            p["x"], p["h0"], p["w_ih"], p["w_hh"], p["b_ih"], p["b_hh"], **kw
        )
        grads = bwd(None, hn, p["x"], p["w_ih"], p["w_hh"], saved, alloc=alloc, **kw)
    assert np.shares_memory(y, out) and np.shares_memory(hn, out)
    np.testing.assert_allclose(out[:T], ref[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out[T], ref[1], rtol=1e-5, atol=1e-6)
    assert not np.isnan(out).any()
    for g in grads:
        assert g is None or not np.isnan(g).any()
    if mod is kernels:
        assert made and all(not np.isnan(a).any() for a in made)
    if mod is kernels:
        q = _params(rng, "lstm" if cell == "lstm" else "gru", T, B, 2, H, np.float32)
        args = (p["x"], p["h0"], p["c0"]) if cell == "lstm" else (p["x"], p["h0"])
        fwd_bad = kernels.lstm_forward if cell == "lstm" else kernels.gru_forward
        with pytest.raises(ValueError, match="out must be a float32 array of shape"):
            fwd_bad(*args, q["w_ih"], q["w_hh"], out=np.zeros((T, B, H), np.float32))
