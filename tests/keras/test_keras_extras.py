"""keras: whole-model files, Embedding / LayerNormalization / Rescaling / activation layers,
losses and metrics as functions, utils, naming."""

import numpy as np
import pytest

from minnet import keras
from minnet.keras import layers


def _saved_and_loaded(model, path, x):
    """model.save(path), then keras.models.load_model(path), which must predict x exactly as
    the model does; returns the loaded model."""
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    return loaded


def test_model_save_and_load_model_round_trip(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            layers.Conv2D(2, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(4, activation="relu"),
            layers.Dropout(0.1),
            layers.BatchNormalization(momentum=0.9),
            layers.Dense(3, activation="softmax"),
        ],
        name="cnn",
    )
    model.compile(
        keras.optimizers.Adam(learning_rate=0.01, beta_1=0.8),
        keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )
    x = np.random.default_rng(0).random((20, 6, 6, 1)).astype(np.float32)
    y = np.arange(20) % 3
    model.fit(x, y, epochs=2, verbose=0)
    loaded = _saved_and_loaded(model, tmp_path / "cnn.keras.npz", x)
    assert loaded.name == "cnn" and [la.name for la in loaded.layers] == [
        la.name for la in model.layers
    ]
    assert loaded.optimizer.beta_1 == 0.8 and loaded.optimizer.learning_rate == 0.01
    assert loaded.layers[-2].momentum == 0.9
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    with pytest.raises(ValueError, match=r"\.keras\.npz"):
        model.save(tmp_path / "cnn.keras")
    custom = keras.Sequential([keras.Input((2,)), layers.Dense(2, activation=lambda t: t)])
    with pytest.raises(ValueError, match="activation"):
        custom.save(tmp_path / "c.keras.npz")


def test_embedding_layer_norm_rescaling():
    keras.utils.set_random_seed(1)
    emb = layers.Embedding(10, 4)
    ids = np.array([[1, 2, 3], [0, 9, 9]])
    out = emb(ids).numpy()
    (table,) = emb.get_weights()
    assert table.shape == (10, 4) and np.abs(table).max() <= 0.05
    np.testing.assert_array_equal(out, table[ids])
    ln = layers.LayerNormalization()
    x = np.random.default_rng(1).normal(size=(3, 5)).astype(np.float32)
    want = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(ln(x).numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        layers.Rescaling(1 / 255, offset=-1)(np.full((1, 2), 255)).numpy(), [[0.0, 0.0]], atol=1e-6
    )
    np.testing.assert_allclose(
        layers.LeakyReLU()(np.array([[-1.0, 2.0]])).numpy(), [[-0.3, 2.0]], rtol=1e-6
    )
    np.testing.assert_allclose(layers.ReLU()(np.array([[-1.0, 2.0]])).numpy(), [[0.0, 2.0]])
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3), layers.Softmax()])
    model.compile("sgd", "categorical_crossentropy")
    assert model._fused_activation() == "softmax"


def test_text_classifier_with_embedding_trains():
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    x = rng.integers(0, 20, (300, 6))
    y = ((x < 5).sum(1) > 1).astype(np.float32)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            layers.Embedding(20, 8),
            layers.Flatten(),
            layers.Dense(16, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=10, verbose=0)
    assert hist.history["accuracy"][-1] > 0.9


def test_loss_and_metric_functions():
    y_true = np.array([0, 2])
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], np.float32)
    got = keras.losses.sparse_categorical_crossentropy(y_true, probs).numpy()
    np.testing.assert_allclose(got, -np.log([0.7, 0.8]), rtol=1e-6)
    onehot = keras.utils.to_categorical(y_true, 3)
    np.testing.assert_allclose(
        keras.losses.categorical_crossentropy(onehot, probs).numpy(),
        -np.log([0.7, 0.8]),
        rtol=1e-6,
    )
    logits = np.log(probs)
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)(onehot, logits)
    assert float(loss.data) == pytest.approx(-np.log([0.7, 0.8]).mean(), rel=1e-5)
    p = np.array([[0.9], [0.2]], np.float32)
    t = np.array([1.0, 1.0], np.float32)
    np.testing.assert_allclose(
        keras.losses.binary_crossentropy(t, p).numpy(), -np.log([0.9, 0.2]), rtol=1e-6
    )
    assert float(keras.losses.MeanSquaredError()(np.ones((2, 2)), np.zeros((2, 2))).data) == 1
    assert float(keras.losses.Huber(delta=1.0)(np.array([3.0]), np.array([0.0])).data) == 2.5
    assert (
        float(
            keras.losses.MeanAbsoluteError(reduction="sum")(
                np.array([[1.0, 3.0]]), np.zeros((1, 2))
            ).data
        )
        == 2.0
    )
    np.testing.assert_array_equal(keras.metrics.sparse_categorical_accuracy(y_true, probs), [1, 1])
    np.testing.assert_array_equal(keras.metrics.binary_accuracy(t, p), [1, 0])
    m = keras.metrics.SparseCategoricalAccuracy()
    m.update_state([1, 2], probs)
    assert m.result() == 0.5
    with pytest.raises(ValueError, match="Unknown loss"):
        keras.losses.get("crossentropy")


def test_to_categorical_and_names():
    out = keras.utils.to_categorical(np.array([[1], [0], [3]]))
    np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[[1, 0, 3]])
    assert out.dtype == np.float32
    with pytest.raises(ValueError, match="out of range"):
        keras.utils.to_categorical([5], num_classes=3)
    keras.utils.clear_session()
    assert layers.Dense(1).name == "dense" and layers.Dense(1).name == "dense_1"
    assert layers.Conv2D(1, 1).name == "conv2d"
    assert layers.GlobalAveragePooling2D().name == "global_average_pooling2d"
    assert keras.Sequential().name == "sequential"


def test_precision_recall():
    y = np.array([1, 0, 1, 1, 0], np.float32)
    p = np.array([[0.9], [0.8], [0.2], [0.7], [0.1]], np.float32)
    prec, rec = keras.metrics.Precision(), keras.metrics.Recall()
    prec.update_state(y, p)
    rec.update_state(y, p)
    assert prec.result() == pytest.approx(2 / 3) and rec.result() == pytest.approx(2 / 3)
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1, activation="sigmoid")])
    model.compile(
        "adam", "binary_crossentropy", metrics=["accuracy", "precision", keras.metrics.Recall()]
    )
    res = model.evaluate(np.ones((4, 2)), np.array([1, 1, 0, 1]), verbose=0, return_dict=True)
    assert set(res) == {"loss", "accuracy", "precision", "recall"}


def test_one_hot_targets_take_the_index_kernel_with_the_same_loss_and_gradient():
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(6, 4)).astype(np.float32)
    onehot = keras.utils.to_categorical(rng.integers(0, 4, 6), 4)
    soft = onehot * 0.9 + 0.025  # not one-hot: the probability path
    loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    for t in (onehot, soft):
        x = keras.ops.convert_to_tensor(logits)
        x.requires_grad_()
        value = loss.compute(t, x, True)
        value.backward()
        want = -(t * (logits - np.log(np.exp(logits).sum(1, keepdims=True)))).sum(1).mean()
        assert float(value.data) == pytest.approx(want, rel=1e-5)
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        np.testing.assert_allclose(x.grad.numpy(), (p - t) / 6, rtol=1e-4, atol=1e-6)
