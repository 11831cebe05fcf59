"""Bidirectional, TimeDistributed and the 1-D convolution layers against NumPy."""

import numpy as np
import pytest
from test_keras_extras import _saved_and_loaded
from test_keras_recurrent import _keras_gru, _weights

from minnet import keras
from minnet.keras import layers


def test_bidirectional_gru_equals_two_keras_grus():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 4)).astype(np.float32)
    fw, bw = _weights(rng, 4, 6, 3, gru=True), _weights(rng, 4, 6, 3, gru=True)
    seq = layers.Bidirectional(layers.GRU(6, return_sequences=True))
    seq(x)
    assert [w.shape for w in seq.get_weights()] == [(4, 18), (6, 18), (2, 18)] * 2
    seq.set_weights(fw + bw)
    fwd = _keras_gru(x, *fw)
    bwd = _keras_gru(x[:, ::-1], *bw)[:, ::-1]  # aligned with the input's steps
    np.testing.assert_allclose(
        seq(x).numpy(), np.concatenate([fwd, bwd], -1), rtol=1e-4, atol=1e-5
    )
    last = layers.Bidirectional(layers.GRU(6))
    last(x)
    last.set_weights(fw + bw)
    np.testing.assert_allclose(
        last(x).numpy(), np.concatenate([fwd[:, -1], bwd[:, 0]], -1), rtol=1e-4, atol=1e-5
    )
    assert last.compute_output_shape((None, 5, 4)) == (None, 12)
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.GRU(2), merge_mode="sum")


def test_bidirectional_lstm_model_trains_and_saves(tmp_path):
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 6, 2)).astype(np.float32)
    y = (x[:, 0, 0] > 0).astype(np.int64)  # needs the first step
    model = keras.Sequential(
        [
            keras.Input((6, 2)),
            layers.Bidirectional(layers.LSTM(8)),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    hist = model.fit(x, y, epochs=10, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9
    _saved_and_loaded(model, tmp_path / "bi.keras.npz", x)


def test_time_distributed_dense():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 3)).astype(np.float32)
    td = layers.TimeDistributed(layers.Dense(5))
    y = td(x).numpy()
    k, b = td.get_weights()
    np.testing.assert_allclose(y, x @ k + b, rtol=1e-5, atol=1e-6)
    assert td.count_params() == 20


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_equals_numpy(padding):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 9, 3)).astype(np.float32)
    layer = layers.Conv1D(4, 3, padding=padding, dilation_rate=2 if padding == "causal" else 1)
    layer(x)
    k = rng.normal(size=(3, 3, 4)).astype(np.float32)
    b = rng.normal(size=4).astype(np.float32)
    layer.set_weights([k, b])
    d = layer.dilation_rate[1]
    left, right = {"valid": (0, 0), "same": (1, 1), "causal": (2 * d, 0)}[padding]
    xp = np.pad(x.astype(np.float64), ((0, 0), (left, right), (0, 0)))
    steps = xp.shape[1] - d * 2
    want = np.stack([sum(xp[:, t + j * d] @ k[j] for j in range(3)) for t in range(steps)], 1)
    np.testing.assert_allclose(layer(x).numpy(), want + b, rtol=1e-4, atol=1e-4)
    assert layer.compute_output_shape((None, 9, 3)) == (None,) + want.shape[1:]


def test_1d_pooling():
    x = np.random.default_rng(4).normal(size=(2, 7, 3)).astype(np.float32)
    np.testing.assert_allclose(
        layers.MaxPooling1D()(x).numpy(), x[:, :6].reshape(2, 3, 2, 3).max(2)
    )
    np.testing.assert_allclose(
        layers.AveragePooling1D()(x).numpy(), x[:, :6].reshape(2, 3, 2, 3).mean(2), rtol=1e-6
    )
    np.testing.assert_allclose(layers.GlobalAveragePooling1D()(x).numpy(), x.mean(1), rtol=1e-6)
    np.testing.assert_allclose(layers.GlobalMaxPooling1D()(x).numpy(), x.max(1))
