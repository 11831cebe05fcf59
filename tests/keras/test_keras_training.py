"""Sequential / Model: compile, fit, evaluate, predict, summary, weights and their files."""

import numpy as np
import pytest

import minnet
from minnet import keras, nn
from minnet.keras import layers
from minnet.nn import functional as F


def _blobs(n=600, seed=0, classes=3, dim=8):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 3, size=(classes, dim))
    y = rng.integers(0, classes, n)
    x = (centers[y] + rng.normal(size=(n, dim))).astype(np.float32)
    return x, y


def _mlp(dim=8, classes=3, hidden=16, act="softmax"):
    return keras.Sequential(
        [
            keras.Input(shape=(dim,)),
            layers.Dense(hidden, activation="relu"),
            layers.Dense(classes, activation=act),
        ]
    )


def test_dense_net_learns_blobs_to_95_percent():
    keras.utils.set_random_seed(0)
    x, y = _blobs()
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x[:500], y[:500], epochs=15, batch_size=32, verbose=0)
    assert set(hist.history) == {"loss", "accuracy"}
    assert len(hist.history["loss"]) == 15 and hist.epoch == list(range(15))
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc = model.evaluate(x[500:], y[500:], verbose=0)
    assert acc >= 0.95, acc
    probs = model.predict(x[500:], verbose=0)
    assert probs.dtype == np.float32 and probs.shape == (100, 3)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    assert np.mean(probs.argmax(1) == y[500:]) == pytest.approx(acc)


def test_history_equals_hand_written_minnet_loop():
    keras.utils.set_random_seed(1)
    x, y = _blobs(n=100, seed=1)
    model = _mlp()
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    k1, b1, k2, b2 = model.get_weights()
    hist = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)

    l1, l2 = nn.Linear(8, 16), nn.Linear(16, 3)
    for lin, k, b in ((l1, k1, b1), (l2, k2, b2)):
        lin.weight.data[...] = k.T
        lin.bias.data[...] = b
    opt = minnet.optim.SGD(list(l1.parameters()) + list(l2.parameters()), lr=0.1, momentum=0.9)
    losses, accs = [], []
    for _ in range(3):
        total = correct = 0.0
        for s in range(0, 100, 16):
            xb, yb = minnet.tensor(x[s : s + 16]), minnet.tensor(y[s : s + 16])
            logits = l2(F.relu(l1(xb)))
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.data) * len(yb.data)
            correct += float((logits.data.argmax(1) == yb.data).sum())
        losses.append(total / 100)
        accs.append(correct / 100)
    np.testing.assert_allclose(hist.history["loss"], losses, rtol=1e-5)
    np.testing.assert_allclose(hist.history["accuracy"], accs)
    np.testing.assert_allclose(
        model.layers[1].get_weights()[0], l2.weight.data.T, rtol=1e-5, atol=1e-6
    )


def test_fused_softmax_loss_equals_keras_probability_formula():
    keras.utils.set_random_seed(2)
    x, y = _blobs(n=64, seed=2)
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert model._fused_activation() == "softmax"
    probs = model.predict(x, verbose=0).astype(np.float64)
    want = -np.log(np.clip(probs[np.arange(64), y], 1e-7, 1 - 1e-7)).mean()
    assert model.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-5)
    # the same loss object on probabilities (not fused) gives the same value
    got = keras.losses.SparseCategoricalCrossentropy()(y, probs.astype(np.float32))
    assert float(got.data) == pytest.approx(want, rel=1e-5)


def test_categorical_and_binary_and_regression_losses_train():
    keras.utils.set_random_seed(3)
    x, y = _blobs(n=200, seed=3, classes=2)
    for loss, target, act, units, metric in [
        ("categorical_crossentropy", keras.utils.to_categorical(y, 2), "softmax", 2, "accuracy"),
        ("binary_crossentropy", y.astype(np.float32), "sigmoid", 1, "accuracy"),
        ("mse", y.astype(np.float32), None, 1, "mae"),
        ("huber", y.astype(np.float32), None, 1, "mae"),
        ("mae", y.astype(np.float32), None, 1, "mse"),
    ]:
        model = _mlp(classes=units, act=act)
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss=loss, metrics=[metric])
        hist = model.fit(x, target, epochs=5, verbose=0)
        assert hist.history["loss"][-1] < hist.history["loss"][0], loss
        if metric == "accuracy":
            assert hist.history["accuracy"][-1] > 0.9, loss


def test_validation_split_takes_the_last_fraction():
    x = np.arange(50, dtype=np.float32).reshape(50, 1)
    y = np.zeros(50, np.int64)
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            seen.append(batch)

    model = keras.Sequential([keras.Input((1,)), layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    calls = []
    real = model._evaluate

    def spy_eval(xv, yv, *a, **k):
        calls.append(xv.copy())
        return real(xv, yv, *a, **k)

    model._evaluate = spy_eval
    hist = model.fit(
        x, y, epochs=1, validation_split=0.3, batch_size=8, verbose=0, callbacks=[Spy()]
    )
    np.testing.assert_array_equal(calls[0][:, 0], np.arange(35, 50))  # floor(50 * 0.7) = 35
    assert "val_loss" in hist.history and len(seen) == 2  # 15 samples / 8
    with pytest.raises(ValueError, match="not sufficient"):
        model.fit(x[:1], y[:1], validation_split=0.5, verbose=0)


def test_early_stopping_stops_and_restores():
    keras.utils.set_random_seed(4)
    x, y = _blobs(n=64, seed=4)
    model = _mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    losses = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1])

    class FakeVal(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)

    es = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    snapshots = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    hist = model.fit(x, y, epochs=8, verbose=0, callbacks=[FakeVal(), Snap(), es])
    assert len(hist.history["loss"]) == 4 and es.stopped_epoch == 3 and es.best_epoch == 1
    for a, b in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)


def test_learning_rate_scheduler_sets_and_logs_rate():
    x, y = _blobs(n=32)
    model = _mlp()
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)
    hist = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched])
    assert hist.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])
    assert model.optimizer._impl.param_groups[0]["lr"] == pytest.approx(0.0125)


def test_evaluate_return_forms_and_predict_batches():
    x, y = _blobs(n=70)
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", "acc"])
    res = model.evaluate(x, y, verbose=0)
    assert isinstance(res, list) and len(res) == 3 and res[1] == res[2]
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(d) == {"loss", "accuracy", "acc"}
    np.testing.assert_allclose(
        model.predict(x, batch_size=16, verbose=0), model(x).numpy(), rtol=1e-6
    )


def test_fit_prints_keras_progress(capsys):
    x, y = _blobs(n=40)
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=20, validation_data=(x, y))
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "2/2 " in out and "accuracy: " in out and "val_loss: " in out
    model.fit(x, y, epochs=1, batch_size=20, verbose=2)
    assert "2/2 - " in capsys.readouterr().out
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_save_and_load_weights_reproduce_predictions(tmp_path):
    keras.utils.set_random_seed(5)
    x, _ = _blobs(n=20)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            layers.Dense(16, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(3),
        ]
    )
    model.compile("adam", "mse")
    model.fit(x, np.zeros((20, 3), np.float32), epochs=2, verbose=0)
    path = tmp_path / "m.weights.npz"
    model.save_weights(path)
    other = keras.Sequential(
        [
            keras.Input((8,)),
            layers.Dense(16, activation="relu"),
            layers.BatchNormalization(),
            layers.Dense(3),
        ]
    )
    assert not np.array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match=r"\.weights\.npz"):
        model.save_weights(tmp_path / "m.weights.h5")
    wrong = keras.Sequential(
        [keras.Input((8,)), layers.Dense(4), layers.BatchNormalization(), layers.Dense(3)]
    )
    with pytest.raises(ValueError, match="dense"):
        wrong.load_weights(path)


def test_model_get_set_weights_round_trip():
    model = _mlp()
    ws = model.get_weights()
    assert [w.shape for w in ws] == [(8, 16), (16,), (16, 3), (3,)]
    new = [np.full(w.shape, i, np.float32) for i, w in enumerate(ws)]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], new[0])
    with pytest.raises(ValueError, match="expecting 4 weights"):
        model.set_weights(new[:3])


def test_summary_and_param_counts():
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
            layers.BatchNormalization(),
            layers.Dropout(0.2),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist",
    )
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "mnist"' in text
    assert "(None, 784)" in text and "50,240" in text and "650" in text and "256" in text
    assert "Total params: 51,146" in text
    assert "Trainable params: 51,018" in text and "Non-trainable params: 128" in text
    assert model.count_params() == 51146
    assert [la.count_params() for la in model.layers] == [0, 50240, 256, 0, 650]


def test_lazy_build_and_input_shape_kwarg():
    model = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)])
    assert not model.built
    lines = []
    model.summary(print_fn=lines.append)
    assert "unbuilt" in "\n".join(lines)
    assert model(np.zeros((3, 5), np.float32)).shape == (3, 2)
    assert model.built and model.count_params() == 5 * 4 + 4 + 4 * 2 + 2
    m2 = keras.Sequential([layers.Dense(4, input_shape=(7,)), layers.Dense(1)])
    assert m2.built and m2.count_params() == 7 * 4 + 4 + 5
    m3 = keras.Sequential()
    m3.add(keras.Input((3,)))
    m3.add(layers.Dense(2))
    assert m3.built and m3.output_shape == (None, 2)


def test_functional_chain_model():
    keras.utils.set_random_seed(6)
    inputs = keras.Input(shape=(8,))
    h = layers.Dense(16, activation="relu")(inputs)
    outputs = layers.Dense(3, activation="softmax")(h)
    model = keras.Model(inputs=inputs, outputs=outputs)
    assert h.shape == (None, 16) and len(model.layers) == 2
    x, y = _blobs(n=100, seed=6)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    assert model.predict(x, verbose=0).shape == (100, 3)


def test_bad_inputs_raise_clear_errors():
    model = _mlp()
    with pytest.raises(ValueError, match=r'"dense.*expected shape=\(None, 8\).*\(4, 5\)'):
        model.predict(np.zeros((4, 5), np.float32), verbose=0)
    with pytest.raises(ValueError, match="must call `compile"):
        model.fit(np.zeros((4, 8)), np.zeros(4))
    with pytest.raises(ValueError, match="Unknown loss 'sparse_crossentropy'"):
        model.compile("adam", "sparse_crossentropy")
    with pytest.raises(ValueError, match="Unknown optimizer 'adamax2'"):
        model.compile("adamax2", "mse")
    with pytest.raises(ValueError, match="Unknown metric"):
        model.compile("adam", "mse", metrics=["acuracy"])
        model.fit(np.zeros((4, 8)), np.zeros((4, 3)), verbose=0)
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(np.zeros((4, 8)), np.zeros((5, 3)), verbose=0)


def test_trainable_false_freezes_layer():
    x, y = _blobs(n=32)
    model = _mlp()
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2


def test_sample_and_class_weights_weight_the_loss_as_keras():
    x, y = _blobs(n=40, seed=9)
    model = _mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    probs = model.predict(x, verbose=0).astype(np.float64)
    per_sample = -np.log(probs[np.arange(40), y])
    w = np.linspace(0.1, 2.0, 40)
    got = model.evaluate(x, y, sample_weight=w, batch_size=40, verbose=0)
    assert got == pytest.approx((per_sample * w).sum() / 40, rel=1e-5)
    cw = {0: 0.5, 1: 2.0, 2: 1.0}
    w0 = model.get_weights()
    h1 = model.fit(x, y, class_weight=cw, epochs=2, shuffle=False, verbose=0)
    model.set_weights(w0)
    h2 = model.fit(
        x, y, sample_weight=np.array([cw[c] for c in y]), epochs=2, shuffle=False, verbose=0
    )
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-6)
    with pytest.raises(ValueError, match="no entry for classes"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_kernel_regularizer_adds_its_penalty_to_the_loss():
    x, _ = _blobs(n=16, seed=10)
    t = np.zeros((16, 2), np.float32)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            layers.Dense(
                2,
                kernel_regularizer=keras.regularizers.L2(0.1),
                bias_regularizer=keras.regularizers.L1(0.5),
                bias_initializer="ones",
            ),
        ]
    )
    model.compile("sgd", "mse")
    k, b = model.get_weights()
    mse = float((((x @ k + b) - t) ** 2).mean())
    want = mse + 0.1 * float((k**2).sum()) + 0.5 * float(np.abs(b).sum())
    assert model.evaluate(x, t, verbose=0) == pytest.approx(want, rel=1e-5)


def test_set_random_seed_makes_fit_repeat():
    x, y = _blobs(n=64, seed=11)
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(11)
        model = keras.Sequential(
            [
                keras.Input((8,)),
                layers.Dense(8, activation="relu"),
                layers.Dropout(0.3),
                layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        runs.append(model.fit(x, y, epochs=3, batch_size=16, verbose=0).history["loss"])
    assert runs[0] == runs[1]


def test_pop_get_layer_and_uint8_inputs():
    model = keras.Sequential(
        [
            keras.Input((2, 2)),
            layers.Flatten(),
            layers.Dense(3, name="hidden"),
            layers.Dense(2, name="out"),
        ]
    )
    assert model.get_layer("hidden") is model.layers[1]
    assert model.get_layer(index=-1).name == "out"
    with pytest.raises(ValueError, match="No such layer"):
        model.get_layer("nope")
    popped = model.pop()
    assert popped.name == "out" and model.output_shape == (None, 3)
    x = np.arange(8, dtype=np.uint8).reshape(2, 2, 2)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), model(x.astype(np.float32)).numpy(), rtol=1e-6
    )
    with pytest.raises(ValueError, match=r'"flatten(_\d+)?".*expected shape=\(None, 2, 2\)'):
        model.predict(np.zeros((2, 3, 2), np.uint8), verbose=0)
