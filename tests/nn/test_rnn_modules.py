"""nn.GRU / nn.LSTM / nn.RNN and their cells: PyTorch's parameter names, shapes and init; the
module outputs against the NumPy reference composed layer by layer (batch_first, multi-layer,
bidirectional, lengths); gradcheck in float64 including h0; dropout; errors; and a GRU that
learns to count bits in a training loop."""

import numpy as np
import pytest

import minnet
from minnet import nn, reference
from minnet.nn import functional as F
from minnet.testing import gradcheck

MODES = {"GRU": nn.GRU, "LSTM": nn.LSTM, "RNN": nn.RNN}


def _make(mode, *args, nonlinearity="tanh", **kw):
    if mode == "RNN":
        return nn.RNN(*args, nonlinearity=nonlinearity, **kw)
    return MODES[mode](*args, **kw)


def _oracle(m, x, h0, c0=None, lengths=None):
    """The module's forward composed from minnet.reference.rnn in float64 (time-major x)."""
    dirs = 2 if m.bidirectional else 1
    layer_in = x
    hs, cs = [], []
    for layer in range(m.num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            w = [
                getattr(m, n + sfx).data.astype(np.float64)
                if m.bias or n.startswith("weight")
                else None
                for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            k = layer * dirs + d
            kw = dict(lengths=lengths, reverse=bool(d))
            if m.mode == "LSTM":
                y, h, c, _ = reference.lstm_forward(layer_in, h0[k], c0[k], *w, **kw)
                cs.append(c)
            elif m.mode == "GRU":
                y, h, _ = reference.gru_forward(layer_in, h0[k], *w, **kw)
            else:
                y, h, _ = reference.rnn_forward(
                    layer_in, h0[k], *w, nonlinearity=m.mode[4:].lower(), **kw
                )
            outs.append(y)
            hs.append(h)
        layer_in = np.concatenate(outs, axis=2)
    return layer_in, np.stack(hs), (np.stack(cs) if cs else None)


def test_parameter_names_shapes_and_init():
    m = nn.GRU(10, 20, num_layers=2, bidirectional=True)
    names = [n for n, _ in m.named_parameters()]
    assert names[:5] == [
        "weight_ih_l0",
        "weight_hh_l0",
        "bias_ih_l0",
        "bias_hh_l0",
        "weight_ih_l0_reverse",
    ]
    assert len(names) == 16
    assert m.weight_ih_l0.shape == (60, 10)
    assert m.weight_ih_l1.shape == (60, 40)
    assert m.weight_hh_l1_reverse.shape == (60, 20)
    bound = 1 / np.sqrt(20)
    for _, p in m.named_parameters():
        assert np.abs(p.data).max() <= bound and p.dtype == np.float32
    assert nn.LSTM(3, 4).weight_hh_l0.shape == (16, 4)
    assert nn.RNN(3, 4, bias=False).weight_ih_l0.shape == (4, 3)
    assert [n for n, _ in nn.RNN(3, 4, bias=False).named_parameters()] == [
        "weight_ih_l0",
        "weight_hh_l0",
    ]
    assert [n for n, _ in nn.LSTMCell(3, 4).named_parameters()] == [
        "weight_ih",
        "weight_hh",
        "bias_ih",
        "bias_hh",
    ]
    assert nn.GRUCell(3, 4).weight_ih.shape == (12, 3)
    assert "bidirectional=True" in repr(m)
    m.flatten_parameters()  # PyTorch scripts call it; a no-op here
    assert len(m.all_weights) == 4 and len(m.all_weights[0]) == 4


@pytest.mark.parametrize("mode", ["GRU", "LSTM", "RNN", "RNN_relu"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("lengths", [False, True])
def test_forward_matches_reference(mode, batch_first, bidirectional, lengths):
    rng = np.random.default_rng(0)
    name, nl = (mode, "tanh") if mode != "RNN_relu" else ("RNN", "relu")
    minnet.manual_seed(1)
    m = _make(
        name,
        4,
        6,
        nonlinearity=nl,
        num_layers=2,
        batch_first=batch_first,
        bidirectional=bidirectional,
        dtype=minnet.float64,
    )
    T, B, D = 5, 3, 2 if bidirectional else 1
    x = rng.standard_normal((T, B, 4))
    h0 = rng.standard_normal((2 * D, B, 6))
    c0 = rng.standard_normal((2 * D, B, 6))
    lens = np.array([5, 2, 3]) if lengths else None
    xin = x.transpose(1, 0, 2) if batch_first else x
    hx = (minnet.tensor(h0), minnet.tensor(c0)) if name == "LSTM" else minnet.tensor(h0)
    out, hn = m(minnet.tensor(xin), hx, lengths=lens)
    y, h_ref, c_ref = _oracle(m, x, h0, c0, lens)
    if batch_first:
        y = y.transpose(1, 0, 2)
    np.testing.assert_allclose(out.numpy(), y, rtol=1e-10, atol=1e-12)
    if name == "LSTM":
        hn, cn = hn
        np.testing.assert_allclose(cn.numpy(), c_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hn.numpy(), h_ref, rtol=1e-10, atol=1e-12)
    if lengths:
        pad = out.numpy()[1, 2:] if batch_first else out.numpy()[2:, 1]
        assert np.all(pad == 0)


@pytest.mark.parametrize("mode", ["GRU", "LSTM", "RNN"])
def test_lengths_equal_running_each_sequence_alone(mode):
    """A padded row with lengths gives the same h_n as that row alone, truncated."""
    rng = np.random.default_rng(4)
    m = _make(mode, 3, 4, bidirectional=True, dtype=minnet.float64)
    x = rng.standard_normal((6, 2, 3))
    out, hn = m(minnet.tensor(x), lengths=[6, 4])
    out1, hn1 = m(minnet.tensor(x[:4, 1:2]))
    if mode == "LSTM":
        hn, hn1 = hn[0], hn1[0]
    np.testing.assert_allclose(hn.numpy()[:, 1:2], hn1.numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.numpy()[:4, 1:2], out1.numpy(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["GRU", "LSTM", "RNN"])
def test_gradcheck_module_including_h0(mode):
    rng = np.random.default_rng(5)
    m = _make(mode, 3, 4, num_layers=2, bidirectional=True, dtype=minnet.float64)
    x = minnet.tensor(rng.standard_normal((4, 2, 3)), requires_grad=True)
    h0 = minnet.tensor(rng.standard_normal((4, 2, 4)), requires_grad=True)
    c0 = minnet.tensor(rng.standard_normal((4, 2, 4)), requires_grad=True)
    params = [m.weight_ih_l0, m.weight_hh_l1_reverse, m.bias_hh_l0, m.bias_ih_l1]

    def fn(x, h0, c0, *ps):
        out, hn = m(x, (h0, c0) if mode == "LSTM" else h0, lengths=[4, 3])
        if mode == "LSTM":
            return out, hn[0], hn[1]
        return out, hn

    inputs = (x, h0, c0 if mode == "LSTM" else c0.detach(), *params)
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("cls", [nn.GRUCell, nn.LSTMCell, nn.RNNCell])
def test_gradcheck_cells(cls):
    rng = np.random.default_rng(6)
    cell = cls(3, 4, dtype=minnet.float64)
    x = minnet.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = minnet.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    c = minnet.tensor(rng.standard_normal((2, 4)), requires_grad=True)
    if cls is nn.LSTMCell:
        assert gradcheck(lambda x, h, c, w: cell(x, (h, c)), (x, h, c, cell.weight_hh))
    else:
        assert gradcheck(lambda x, h, w, b: cell(x, h), (x, h, cell.weight_hh, cell.bias_ih))


def test_cells_match_one_step_of_the_layer():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 5)).astype(np.float32)
    h = rng.standard_normal((3, 6)).astype(np.float32)
    for cell_cls, layer_cls in [
        (nn.GRUCell, nn.GRU),
        (nn.RNNCell, nn.RNN),
        (nn.LSTMCell, nn.LSTM),
    ]:
        cell, layer = cell_cls(5, 6), layer_cls(5, 6)
        for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(layer, n + "_l0").data[...] = getattr(cell, n).data
        if cell_cls is nn.LSTMCell:
            h1, c1 = cell(minnet.tensor(x), (minnet.tensor(h), minnet.tensor(h)))
            _, (hn, cn) = layer(
                minnet.tensor(x[None]), (minnet.tensor(h[None]), minnet.tensor(h[None]))
            )
            np.testing.assert_allclose(c1.numpy(), cn.numpy()[0], rtol=1e-6)
        else:
            h1 = cell(minnet.tensor(x), minnet.tensor(h))
            _, hn = layer(minnet.tensor(x[None]), minnet.tensor(h[None]))
        np.testing.assert_allclose(h1.numpy(), hn.numpy()[0], rtol=1e-6)
        # unbatched input and default state
        assert (
            cell(minnet.tensor(x[0]))[0] if cell_cls is nn.LSTMCell else cell(minnet.tensor(x[0]))
        ).shape == (6,)


def test_unbatched_input():
    m = nn.GRU(3, 4, num_layers=2)
    x = minnet.randn(5, 3)
    out, hn = m(x)
    assert out.shape == (5, 4) and hn.shape == (2, 4)
    out2, hn2 = m(x.unsqueeze(1))
    np.testing.assert_allclose(out.numpy(), out2.numpy()[:, 0], rtol=1e-6)


def test_dropout_between_layers_only_in_training():
    minnet.manual_seed(0)
    m = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = minnet.randn(4, 2, 3)
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    m.train()
    c, _ = m(x)
    assert not np.allclose(a.numpy(), c.numpy())
    one = nn.LSTM(3, 8, dropout=0.0)
    assert one.dropout == 0.0


def test_bad_input_names_module_and_shapes():
    m = nn.GRU(3, 4, num_layers=2)
    with pytest.raises(
        ValueError, match=r"GRU\(3, 4, num_layers=2\): .*rank 3.*got shape \(2, 3, 4, 5\)"
    ):
        m(minnet.randn(2, 3, 4, 5))
    with pytest.raises(
        ValueError, match=r"GRU\(3, 4.*input_size 3, got input of shape \(5, 2, 7\)"
    ):
        m(minnet.randn(5, 2, 7))
    with pytest.raises(
        ValueError, match=r"GRU.*expected hx of shape \(2, 2, 4\), got \(1, 2, 4\)"
    ):
        m(minnet.randn(5, 2, 3), minnet.randn(1, 2, 4))
    with pytest.raises(ValueError, match=r"GRU.*lengths must lie in \[1, 5\].*max 6"):
        m(minnet.randn(5, 2, 3), lengths=[6, 2])
    with pytest.raises(ValueError, match=r"GRU.*lengths must have shape \(2,\)"):
        m(minnet.randn(5, 2, 3), lengths=[5])
    with pytest.raises(
        ValueError, match=r"LSTM.*expected c_0 of shape \(1, 2, 4\), got \(1, 3, 4\)"
    ):
        nn.LSTM(3, 4)(minnet.randn(5, 2, 3), (minnet.randn(1, 2, 4), minnet.randn(1, 3, 4)))
    with pytest.raises(ValueError, match=r"GRUCell\(3, 4\): expected hx of shape \(2, 4\)"):
        nn.GRUCell(3, 4)(minnet.randn(2, 3), minnet.randn(2, 5))
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(TypeError, match="dtype"):
        m(minnet.randn(5, 2, 3).double())


def test_gru_learns_to_count_bits():
    """A GRU reads 8 bits and classifies how many are set (9 classes): > 95% after training."""
    minnet.manual_seed(0)
    rng = np.random.default_rng(0)
    T = 8
    gru, head = nn.GRU(1, 24, batch_first=True), nn.Linear(24, T + 1)
    opt = minnet.optim.Adam(list(gru.parameters()) + list(head.parameters()), lr=0.02)

    def batch(n):
        bits = rng.integers(0, 2, (n, T))
        return minnet.tensor(bits[..., None].astype(np.float32)), minnet.tensor(bits.sum(1))

    for _ in range(300):
        x, y = batch(64)
        _, h = gru(x)
        loss = F.cross_entropy(head(h[0]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    x, y = batch(2000)
    with minnet.no_grad():
        _, h = gru(x)
        acc = (head(h[0]).argmax(1).numpy() == y.numpy()).mean()
    assert acc > 0.95, acc


# ---- Keras interop -------------------------------------------------------------------------------
def _sig(x):
    return 1 / (1 + np.exp(-x))


def _keras_gru(x_btf, kernel, recurrent, bias):
    """Keras's GRU (reset_after=True) written from its documentation, in its own layout."""
    H = recurrent.shape[0]
    h = np.zeros((x_btf.shape[0], H))
    for t in range(x_btf.shape[1]):
        xi = x_btf[:, t] @ kernel + bias[0]
        hr = h @ recurrent + bias[1]
        z = _sig(xi[:, :H] + hr[:, :H])
        r = _sig(xi[:, H : 2 * H] + hr[:, H : 2 * H])
        hh = np.tanh(xi[:, 2 * H :] + r * hr[:, 2 * H :])
        h = z * h + (1 - z) * hh
    return h


def _keras_lstm(x_btf, kernel, recurrent, bias):
    H = recurrent.shape[0]
    h = np.zeros((x_btf.shape[0], H))
    c = np.zeros_like(h)
    for t in range(x_btf.shape[1]):
        a = x_btf[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (
            _sig(a[:, :H]),
            _sig(a[:, H : 2 * H]),
            np.tanh(a[:, 2 * H : 3 * H]),
            _sig(a[:, 3 * H :]),
        )
        c = f * c + i * g
        h = o * np.tanh(c)
    return h


def _keras_simple_rnn(x_btf, kernel, recurrent, bias):
    h = np.zeros((x_btf.shape[0], recurrent.shape[0]))
    for t in range(x_btf.shape[1]):
        h = np.tanh(x_btf[:, t] @ kernel + h @ recurrent + bias)
    return h


@pytest.mark.parametrize(
    "mode,oracle", [("GRU", _keras_gru), ("LSTM", _keras_lstm), ("RNN", _keras_simple_rnn)]
)
def test_keras_weights_give_equal_outputs(mode, oracle):
    from minnet.nn import rnn_interop

    rng = np.random.default_rng(8)
    I, H = 3, 5
    G = {"GRU": 3, "LSTM": 4, "RNN": 1}[mode]
    kernel = rng.standard_normal((I, G * H)) * 0.5
    recurrent = rng.standard_normal((H, G * H)) * 0.5
    bias = rng.standard_normal((2, G * H) if mode == "GRU" else (G * H,)) * 0.5
    m = _make(mode, I, H, batch_first=True, dtype=minnet.float64)
    rnn_interop.set_keras_weights(m, [kernel, recurrent, bias])
    x = rng.standard_normal((4, 6, I))
    _, hn = m(minnet.tensor(x))
    hn = hn[0] if mode == "LSTM" else hn
    np.testing.assert_allclose(
        hn.numpy()[0], oracle(x, kernel, recurrent, bias), rtol=1e-10, atol=1e-12
    )
    # and back: the same function (for LSTM/RNN the two biases come back summed)
    back = rnn_interop.get_keras_weights(m)
    for a, b in zip(back, [kernel, recurrent, bias]):
        np.testing.assert_allclose(a, b, rtol=1e-14)


@pytest.mark.parametrize("mode", ["GRU", "LSTM", "RNN"])
def test_keras_round_trip_from_minnet(mode):
    """minnet -> Keras -> minnet keeps every weight (GRU exactly; LSTM/RNN keep the function:
    the two biases come back as one sum in bias_ih)."""
    from minnet.nn import rnn_interop

    m = _make(mode, 3, 4, num_layers=2, bidirectional=True, dtype=minnet.float64)
    m2 = _make(mode, 3, 4, num_layers=2, bidirectional=True, dtype=minnet.float64)
    weights = rnn_interop.get_keras_weights(m)
    assert len(weights) == 12
    G = {"GRU": 3, "LSTM": 4, "RNN": 1}[mode]
    assert weights[0].shape == (3, G * 4) and weights[4].shape == (4, G * 4)
    rnn_interop.set_keras_weights(m2, weights)
    x = minnet.randn(5, 2, 3, dtype=minnet.float64)
    a, b = m(x)[0].numpy(), m2(x)[0].numpy()
    np.testing.assert_allclose(a, b, rtol=1e-12)
    if mode == "GRU":
        for (n, p), (_, q) in zip(m.named_parameters(), m2.named_parameters()):
            np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=n)
    cell = nn.GRUCell(3, 4)
    k, r, bias = rnn_interop.gru_to_keras(
        cell.weight_ih.data, cell.weight_hh.data, cell.bias_ih.data, cell.bias_hh.data
    )
    assert bias.shape == (2, 12)
    # z block of Keras is PyTorch's second block
    np.testing.assert_array_equal(k[:, :4], cell.weight_ih.data[4:8].T)
    for orig, conv in zip(
        (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh),
        rnn_interop.gru_from_keras(k, r, bias),
    ):
        np.testing.assert_array_equal(orig.data, conv)


def test_keras_reset_before_rejected():
    from minnet.nn import rnn_interop

    with pytest.raises(ValueError, match="reset_after"):
        rnn_interop.gru_from_keras(np.zeros((3, 12)), np.zeros((4, 12)), np.zeros(12))
    with pytest.raises(ValueError, match="needs 3 arrays"):
        rnn_interop.set_keras_weights(nn.GRU(3, 4), [np.zeros((3, 12))])


def test_steady_training_step_faults_in_no_fresh_pages():
    """Outputs, saved arrays and gradients come from the buffer arena: after warm-up a GRU
    training step touches no new pages (each would cost ~3 us here)."""
    import resource

    minnet.manual_seed(0)
    gru, head = nn.GRU(28, 128, batch_first=True), nn.Linear(128, 28)
    opt = minnet.optim.Adam(list(gru.parameters()) + list(head.parameters()))
    x = minnet.randn(64, 10, 28)
    y = minnet.tensor(np.random.default_rng(0).integers(0, 28, 640))

    def step():
        opt.zero_grad()
        out, h = gru(x)
        loss = F.cross_entropy(head(out.reshape(-1, 128)), y) + h.sum() * 0
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        step()
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5
    assert faults < 20, faults
