"""Functional models that are not chains: residual connections and merges."""

import numpy as np
import pytest
from test_keras_extras import _saved_and_loaded
from test_keras_training import _blobs

import minnet
from minnet import keras
from minnet.keras import layers


def _residual_mlp():
    inp = keras.Input((6,))
    h = layers.Dense(8, activation="relu")(inp)
    r = layers.Dense(8, activation="tanh")(h)
    s = layers.Add()([h, r])
    c = layers.Concatenate()([s, inp])
    out = layers.Dense(3, activation="softmax")(c)
    return keras.Model(inp, out, name="residual")


def test_graph_model_equals_its_layers_by_hand():
    keras.utils.set_random_seed(0)
    model = _residual_mlp()
    assert [type(la).__name__ for la in model.layers] == [
        "Dense",
        "Dense",
        "Add",
        "Concatenate",
        "Dense",
    ]
    assert model.output_shape == (None, 3) and model.count_params() == 56 + 72 + 45
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    d1, d2, _, _, d3 = model.layers
    h = d1(x)
    s = h + d2(h)
    want = d3(minnet.cat([s, minnet.tensor(x)], dim=1)).numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    lines = []
    model.summary(print_fn=lines.append)
    assert "concatenate (Concatenate)" in "\n".join(lines) and "(None, 14)" in "\n".join(lines)


def test_graph_model_trains_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(1)
    x, y = _blobs(n=300, seed=1, dim=6)
    model = _residual_mlp()
    model.compile(
        keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    assert model._fused_activation() == "softmax"
    hist = model.fit(x, y, epochs=10, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9
    _saved_and_loaded(model, tmp_path / "res.keras.npz", x)


def test_merge_layers_on_arrays_and_errors():
    a = np.array([[1.0, 2.0]], np.float32)
    b = np.array([[3.0, 5.0]], np.float32)
    np.testing.assert_allclose(layers.Add()([a, b]).numpy(), [[4, 7]])
    np.testing.assert_allclose(layers.Subtract()([a, b]).numpy(), [[-2, -3]])
    np.testing.assert_allclose(layers.Multiply()([a, b]).numpy(), [[3, 10]])
    np.testing.assert_allclose(layers.Average()([a, b]).numpy(), [[2, 3.5]])
    np.testing.assert_allclose(layers.Maximum()([a, b]).numpy(), [[3, 5]])
    np.testing.assert_allclose(layers.Concatenate()([a, b]).numpy(), [[1, 2, 3, 5]])
    with pytest.raises(ValueError, match="same shape"):
        layers.Add()([keras.Input((2,)), keras.Input((3,))])
    with pytest.raises(ValueError, match="list"):
        layers.Add()(a)
    inp = keras.Input((4,))
    dense = layers.Dense(4)
    with pytest.raises(ValueError, match="applied twice"):
        keras.Model(inp, layers.Add()([dense(inp), dense(dense(inp))]))
