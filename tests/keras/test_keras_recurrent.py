"""keras.layers GRU / LSTM / SimpleRNN: Keras's equations in Keras's weight layout."""

import re

import numpy as np
import pytest

from minnet import keras
from minnet.keras import layers


def _sign_of_sum(n, steps, seed):
    """A toy task: n sequences of normal numbers (n, steps, 1), labelled 1.0 where their sum
    is positive."""
    x = np.random.default_rng(seed).normal(size=(n, steps, 1)).astype(np.float32)
    return x, (x.sum(axis=(1, 2)) > 0).astype(np.float32)


def _sig(z):
    return 1 / (1 + np.exp(-z))


def _keras_gru(x, kernel, rec, bias):
    """Keras 3 GRUCell, reset_after=True, gates z, r, h."""
    h = np.zeros((x.shape[0], rec.shape[0]))
    hs = []
    for t in range(x.shape[1]):
        mx = x[:, t] @ kernel + bias[0]
        mh = h @ rec + bias[1]
        xz, xr, xh = np.split(mx, 3, axis=1)
        hz, hr, hh = np.split(mh, 3, axis=1)
        z, r = _sig(xz + hz), _sig(xr + hr)
        hh = np.tanh(xh + r * hh)
        h = z * h + (1 - z) * hh
        hs.append(h)
    return np.stack(hs, 1)


def _keras_lstm(x, kernel, rec, bias):
    units = rec.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros_like(h)
    hs = []
    for t in range(x.shape[1]):
        zz = x[:, t] @ kernel + h @ rec + bias
        i, f, g, o = np.split(zz, 4, axis=1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(c)
        hs.append(h)
    return np.stack(hs, 1), h, c


def _simple_rnn(x, kernel, rec, bias):
    h = np.zeros((x.shape[0], rec.shape[0]))
    hs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + h @ rec + bias)
        hs.append(h)
    return np.stack(hs, 1)


def _weights(rng, feat, units, gates, gru=False):
    k = rng.normal(scale=0.5, size=(feat, gates * units)).astype(np.float32)
    r = rng.normal(scale=0.5, size=(units, gates * units)).astype(np.float32)
    b = rng.normal(scale=0.5, size=(2, gates * units) if gru else (gates * units,))
    return [k, r, b.astype(np.float32)]


def test_gru_equals_keras_equations_in_keras_layout():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4)).astype(np.float32)
    layer = layers.GRU(6, return_sequences=True)
    layer(x)
    assert [w.shape for w in layer.get_weights()] == [(4, 18), (6, 18), (2, 18)]
    ws = _weights(rng, 4, 6, 3, gru=True)
    layer.set_weights(ws)
    for a, b in zip(layer.get_weights(), ws):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    np.testing.assert_allclose(layer(x).numpy(), _keras_gru(x, *ws), rtol=1e-4, atol=1e-5)
    last = layers.GRU(6)
    last(x)
    last.set_weights(ws)
    np.testing.assert_allclose(last(x).numpy(), _keras_gru(x, *ws)[:, -1], rtol=1e-4, atol=1e-5)
    assert last.count_params() == 4 * 18 + 6 * 18 + 36
    with pytest.raises(ValueError, match="reset_after=False"):
        layers.GRU(4, reset_after=False)


def test_lstm_and_simple_rnn_equal_keras_equations():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    lstm = layers.LSTM(5, return_sequences=True, return_state=True)
    lstm(x)
    b = lstm.get_weights()[2]
    np.testing.assert_array_equal(b[5:10], 1.0)  # unit_forget_bias
    np.testing.assert_array_equal(np.delete(b, range(5, 10)), 0.0)
    ws = _weights(rng, 3, 5, 4)
    lstm.set_weights(ws)
    seq, h, c = lstm(x)
    want_seq, want_h, want_c = _keras_lstm(x, *ws)
    for got, want in ((seq, want_seq), (h, want_h), (c, want_c)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-5)
    rnn = layers.SimpleRNN(4, return_sequences=True)
    rnn(x)
    ws = _weights(rng, 3, 4, 1)
    rnn.set_weights(ws)
    np.testing.assert_allclose(rnn(x).numpy(), _simple_rnn(x, *ws), rtol=1e-4, atol=1e-5)


def test_recurrent_kernel_is_orthogonal_by_default():
    keras.utils.set_random_seed(0)
    layer = layers.LSTM(8)
    layer(np.zeros((1, 2, 3), np.float32))
    rec = layer.get_weights()[1]  # (8, 32): orthonormal rows
    np.testing.assert_allclose(rec @ rec.T, np.eye(8), atol=1e-5)


def test_gru_model_learns_to_sum_a_sequence():
    keras.utils.set_random_seed(2)
    x, y = _sign_of_sum(256, 6, seed=2)
    model = keras.Sequential(
        [keras.Input((6, 1)), layers.GRU(8), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9, hist.history
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert re.search(r"gru(_\d+)? \(GRU\) +│ \(None, 8\) +│ +264 │", text), text
