"""keras: subclassed Models, custom Layers with add_weight, Normalization.adapt, CSVLogger."""

import numpy as np
import pytest
from test_keras_training import _blobs

from minnet import keras
from minnet.keras import layers


class Linear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True
        )
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)
        self.frozen = self.add_weight(shape=(2,), initializer="ones", trainable=False)

    def call(self, inputs):
        return inputs @ self.w + self.b


class MyModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(16, activation="relu")
        self.drop = layers.Dropout(0.1)
        self.head = Linear(3)

    def call(self, x, training=False):
        return self.head(self.drop(self.hidden(x), training=training))


def test_custom_layer_add_weight():
    layer = Linear(4)
    x = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    y = layer(x).numpy()
    w, b, frozen = layer.get_weights()
    assert w.shape == (5, 4) and np.all(b == 0) and np.all(frozen == 1)
    np.testing.assert_allclose(y, x @ w + b, rtol=1e-5, atol=1e-6)
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 1


def test_subclassed_model_trains_and_lists_its_layers():
    keras.utils.set_random_seed(0)
    x, y = _blobs(n=300, seed=0)
    model = MyModel()
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    hist = model.fit(x, y, epochs=8, verbose=0)
    assert hist.history["accuracy"][-1] > 0.95
    assert [type(la).__name__ for la in model.layers] == ["Dense", "Dropout", "Linear"]
    assert [w.shape for w in model.get_weights()] == [(8, 16), (16,), (16, 3), (3,), (2,)]
    assert model.count_params() == 8 * 16 + 16 + 16 * 3 + 3 + 2
    np.testing.assert_allclose(model.predict(x[:4], verbose=0), model(x[:4]).numpy(), rtol=1e-6)


def test_normalization_adapt():
    rng = np.random.default_rng(1)
    data = rng.normal(5.0, 2.0, size=(100, 3)).astype(np.float32)
    norm = layers.Normalization()
    norm.adapt(data)
    out = norm(data).numpy()
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1, rtol=1e-4)
    mean, var, count = norm.get_weights()
    np.testing.assert_allclose(mean, data.mean(0), rtol=1e-5)
    assert count == 100 and len(norm.trainable_weights) == 0
    fixed = layers.Normalization(mean=2.0, variance=4.0)
    np.testing.assert_allclose(fixed(np.array([[4.0]])).numpy(), [[1.0]])
    back = layers.Normalization(mean=2.0, variance=4.0, invert=True)
    np.testing.assert_allclose(back(np.array([[1.0]])).numpy(), [[4.0]])
    model = keras.Sequential([keras.Input((3,)), norm, layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(data, data[:, :1], epochs=1, verbose=0)
    np.testing.assert_allclose(norm.get_weights()[0], mean)  # not trained


def test_csv_logger(tmp_path):
    x = np.zeros((8, 2), np.float32)
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    path = tmp_path / "log.csv"
    model.fit(x, np.ones((8, 1)), epochs=3, verbose=0, callbacks=[keras.callbacks.CSVLogger(path)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,mae" and len(lines) == 4 and lines[3].startswith("2,")
    with pytest.warns(UserWarning, match="TensorBoard"):
        keras.callbacks.TensorBoard(log_dir=str(tmp_path))


def test_ops_in_a_custom_layer_are_differentiable():
    ops = keras.ops

    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return ops.relu(ops.multiply(x, self.s)) + ops.mean(
                ops.square(x), axis=-1, keepdims=True
            )

    x = np.array([[1.0, -2.0, 3.0]], np.float32)
    layer = Scale()
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), np.maximum(x, 0) + (x**2).mean(), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_allclose(layer.s.grad.numpy(), [1.0, 0.0, 3.0])  # x where x s > 0
    model = keras.Sequential([keras.Input((3,)), Scale(), layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3), np.float32), np.zeros((4, 1)), epochs=1, verbose=0)
    assert ops.concatenate([ops.ones((1, 2)), ops.zeros((1, 2))], axis=1).shape == (1, 4)


def test_custom_layer_in_a_sequential_gets_its_real_output_shape():
    model = keras.Sequential([keras.Input((5,)), Linear(4), layers.Dense(2)])
    assert model.layers[1].get_weights()[0].shape == (4, 2)
    assert model.output_shape == (None, 2)
    assert model.predict(np.zeros((3, 5), np.float32), verbose=0).shape == (3, 2)
    inp = keras.Input((5,))
    functional = keras.Model(inp, layers.Dense(2)(Linear(4)(inp)))
    assert functional.layers[1].get_weights()[0].shape == (4, 2)
