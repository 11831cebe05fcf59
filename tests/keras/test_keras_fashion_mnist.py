"""The course exercise itself, ported by changing the import: a dense net and a CNN on the
real Fashion-MNIST through keras.datasets (skipped when the files are not installed)."""

import os

import numpy as np
import pytest

from minnet import keras
from minnet.datasets import fashion_mnist as _fm
from minnet.keras import layers

pytestmark = pytest.mark.skipif(
    not os.path.isdir(_fm.SYSTEM_DIR), reason="Fashion-MNIST not installed (dataset-fashion-mnist)"
)


@pytest.fixture(scope="module")
def data():
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    return (x_train[:8000] / 255.0, y_train[:8000]), (x_test[:2000] / 255.0, y_test[:2000])


def test_dense_exercise(data):
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=2, validation_split=0.1, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.78
    test_loss, test_acc = model.evaluate(x_test, y_test, verbose=0)
    assert test_acc > 0.78


def test_cnn_exercise(data):
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train[:4000, ..., None], y_train[:4000], epochs=1, batch_size=64, verbose=0)
    assert model.evaluate(x_test[..., None], y_test, verbose=0)[1] > 0.7
