"""keras.layers: outputs against NumPy in Keras's weight layouts, get/set_weights, errors."""

import math

import numpy as np
import pytest

from minnet import keras
from minnet.keras import layers


def _np_act(name, z):
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "softmax":
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    if name == "gelu":
        from math import erf

        return 0.5 * z * (1 + np.vectorize(erf)(z / math.sqrt(2)))
    if name == "elu":
        return np.where(z > 0, z, np.exp(z) - 1)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.2 * z)
    if name == "softplus":
        return np.log1p(np.exp(z))
    return z


@pytest.mark.parametrize(
    "act",
    [
        None,
        "linear",
        "relu",
        "sigmoid",
        "tanh",
        "softmax",
        "gelu",
        "elu",
        "leaky_relu",
        "softplus",
    ],
)
def test_dense_equals_numpy_in_keras_layout(act):
    rng = np.random.default_rng(1)
    layer = layers.Dense(5, activation=act)
    x = rng.normal(size=(7, 4)).astype(np.float32)
    layer(x)
    kernel = rng.normal(size=(4, 5)).astype(np.float32)
    bias = rng.normal(size=5).astype(np.float32)
    layer.set_weights([kernel, bias])
    got = layer(x).numpy()
    want = _np_act(act, x.astype(np.float64) @ kernel + bias)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_dense_weights_round_trip_and_layout():
    keras.utils.set_random_seed(3)
    layer = layers.Dense(3)
    layer(np.zeros((2, 6), np.float32))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (6, 3) and bias.shape == (3,)
    assert np.all(bias == 0)  # bias_initializer='zeros'
    limit = math.sqrt(6 / (6 + 3))  # glorot_uniform
    assert np.all(np.abs(kernel) <= limit) and kernel.std() > limit / 4
    new = [np.arange(18, dtype=np.float32).reshape(6, 3), np.ones(3, np.float32)]
    layer.set_weights(new)
    for a, b in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert layer.weights[0].shape == (6, 3)
    np.testing.assert_array_equal(layer.kernel.numpy(), new[0])
    with pytest.raises(ValueError, match=r"dense.*\(6, 3\).*\(3, 6\)"):
        layer.set_weights([new[0].T, new[1]])
    with pytest.raises(ValueError, match="expects 2 weights"):
        layer.set_weights([new[0]])


def test_dense_applies_to_last_axis():
    layer = layers.Dense(4)
    assert layer(np.zeros((2, 3, 5), np.float32)).shape == (2, 3, 4)


def test_unbuilt_layer_has_no_weights_and_unknown_activation_raises():
    layer = layers.Dense(3)
    assert layer.get_weights() == [] and not layer.built
    with pytest.raises(ValueError, match="Unknown activation 'relux'"):
        layers.Dense(3, activation="relux")
    with pytest.raises(TypeError, match="unrecognized keyword"):
        layers.Dense(3, kernal_initializer="zeros")


def test_wrong_input_shape_into_built_layer_names_layer_and_shapes():
    layer = layers.Dense(3, name="hidden")
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r'"hidden".*value 4.*\(2, 5\).*\(None, 4\)'):
        layer(np.zeros((2, 5), np.float32))


def test_flatten_reshape_activation_dropout():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    np.testing.assert_array_equal(layers.Flatten()(x).numpy(), x.reshape(2, 12))
    assert layers.Flatten().compute_output_shape((None, 3, 4)) == (None, 12)
    np.testing.assert_array_equal(layers.Reshape((4, 3))(x).numpy(), x.reshape(2, 4, 3))
    assert layers.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    np.testing.assert_allclose(layers.Activation("tanh")(x).numpy(), np.tanh(x), rtol=1e-6)
    d = layers.Dropout(0.5)
    np.testing.assert_array_equal(d(x, training=False).numpy(), x)
    keras.utils.set_random_seed(0)
    y = d(np.ones((100, 100), np.float32), training=True).numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6


def test_batch_normalization_matches_keras_equations():
    rng = np.random.default_rng(2)
    bn = layers.BatchNormalization()
    x = rng.normal(2.0, 3.0, size=(16, 5)).astype(np.float32)
    bn(x)
    gamma, beta = rng.normal(size=5).astype(np.float32), rng.normal(size=5).astype(np.float32)
    mm, mv = rng.normal(size=5).astype(np.float32), rng.uniform(1, 2, 5).astype(np.float32)
    bn.set_weights([gamma, beta, mm, mv])
    y = bn(x, training=True).numpy()
    mean, var = x.mean(0), x.var(0)  # biased, as Keras
    np.testing.assert_allclose(
        y, gamma * (x - mean) / np.sqrt(var + 1e-3) + beta, rtol=1e-4, atol=1e-4
    )
    g, b, new_mm, new_mv = bn.get_weights()
    np.testing.assert_allclose(new_mm, 0.99 * mm + 0.01 * mean, rtol=1e-5)
    np.testing.assert_allclose(new_mv, 0.99 * mv + 0.01 * var, rtol=1e-5)
    y = bn(x, training=False).numpy()
    np.testing.assert_allclose(
        y, gamma * (x - new_mm) / np.sqrt(new_mv + 1e-3) + beta, rtol=1e-4, atol=1e-4
    )
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2


def test_batch_normalization_channels_last_images():
    rng = np.random.default_rng(4)
    bn = layers.BatchNormalization(epsilon=1e-5)
    x = rng.normal(size=(4, 3, 3, 2)).astype(np.float32)
    y = bn(x, training=True).numpy()
    mean, var = x.mean((0, 1, 2)), x.var((0, 1, 2))
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-4, atol=1e-4)


def test_direct_call_is_inference_unless_training_true():
    keras.utils.set_random_seed(5)
    model = keras.Sequential([keras.Input((4,)), layers.Dropout(0.5), layers.BatchNormalization()])
    x = np.random.default_rng(5).normal(size=(8, 4)).astype(np.float32)
    before = model.get_weights()
    np.testing.assert_allclose(model(x).numpy(), x / np.sqrt(1 + 1e-3), rtol=1e-5)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # moving statistics untouched
    assert not np.allclose(model(x, training=True).numpy(), x / np.sqrt(1 + 1e-3))
