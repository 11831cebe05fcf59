"""keras.callbacks beyond History/EarlyStopping: ModelCheckpoint, ReduceLROnPlateau,
LambdaCallback, TerminateOnNaN, and the hook order fit follows."""

import numpy as np
import pytest

from minnet import keras
from minnet.keras import layers


def _model():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    return model


class FakeVal(keras.callbacks.Callback):
    def __init__(self, values):
        super().__init__()
        self.values = iter(values)

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = next(self.values)


def test_model_checkpoint_saves_best_weights(tmp_path):
    x = np.ones((4, 2), np.float32)
    model = _model()
    path = str(tmp_path / "best.weights.npz")
    snaps = []
    cb = keras.callbacks.ModelCheckpoint(
        path, monitor="val_loss", save_best_only=True, save_weights_only=True
    )
    snap = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snaps.append(model.get_weights())
    )
    model.fit(
        x,
        np.zeros((4, 1)),
        epochs=4,
        verbose=0,
        callbacks=[FakeVal([3.0, 1.0, 2.0, 1.5]), snap, cb],
    )
    other = _model()
    other.load_weights(path)
    for a, b in zip(other.get_weights(), snaps[1]):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"\.weights\.npz"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))


def test_reduce_lr_on_plateau():
    model = _model()
    cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.03)
    hist = model.fit(
        np.ones((4, 2)),
        np.zeros((4, 1)),
        epochs=6,
        verbose=0,
        callbacks=[FakeVal([1.0, 1.0, 1.0, 1.0, 1.0, 1.0]), cb],
    )
    # logged before the epoch's reduction, as Keras; the second is clipped at min_lr
    assert hist.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.03])
    assert model.optimizer.learning_rate == pytest.approx(0.03)


def test_terminate_on_nan_and_hook_order():
    calls = []

    class Order(keras.callbacks.Callback):
        def __getattribute__(self, name):
            if name.startswith("on_"):
                calls.append(name)
            return object.__getattribute__(self, name)

    model = _model()
    model.fit(
        np.ones((4, 2)),
        np.zeros((4, 1)),
        epochs=1,
        batch_size=2,
        verbose=0,
        validation_data=(np.ones((2, 2)), np.zeros((2, 1))),
        callbacks=[Order()],
    )
    assert calls == [
        "on_train_begin",
        "on_epoch_begin",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_test_begin",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_test_end",
        "on_epoch_end",
        "on_train_end",
    ]
    model = _model()
    x = np.full((8, 2), 1e18, np.float32)
    hist = model.fit(
        x,
        np.zeros((8, 1)),
        epochs=3,
        batch_size=2,
        verbose=0,
        callbacks=[keras.callbacks.TerminateOnNaN()],
    )
    assert len(hist.history["loss"]) == 1


def test_lambda_callback_train_batch_hooks_once_per_batch():
    """Keras 3's on_train_batch_begin/end (batch, logs), positional as Keras documents them,
    and Keras 2's on_batch_begin/end spelling of the same hooks."""
    begins, ends, old = [], [], []
    cb = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: begins.append(batch),
        on_train_batch_end=lambda batch, logs: ends.append((batch, logs["loss"])),
    )
    keras2 = keras.callbacks.LambdaCallback(on_batch_end=lambda b, l: old.append(b))
    model = _model()
    x = np.random.default_rng(0).normal(size=(10, 2)).astype(np.float32)
    model.fit(x, np.zeros((10, 1)), epochs=2, batch_size=4, verbose=0, callbacks=[cb, keras2])
    assert begins == [0, 1, 2, 0, 1, 2]  # 10 samples in batches of 4: 3 per epoch
    assert [b for b, _ in ends] == begins and old == begins
    assert all(np.isfinite(loss) for _, loss in ends)
    with pytest.raises(TypeError, match="same hook"):
        keras.callbacks.LambdaCallback(on_batch_end=print, on_train_batch_end=print)
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_ned'"):
        keras.callbacks.LambdaCallback(on_epoch_ned=print)
