"""Keras: Dense(512, relu) + Dense(10, softmax) with RMSprop, and a 3x128 Adam variant.

Chollet's "first look at a neural network": flatten each 28x28 image into 784 numbers in
[0, 1], one hidden layer of 512 relu units, a 10-way softmax, one-hot labels and categorical
crossentropy. Five epochs reach about 98% on MNIST and about 87% on Fashion-MNIST (harder: a
shirt and a T-shirt differ by less than a 4 and a 9). The variant shows the other common way
to write the same thing: a final layer of raw scores (logits), integer labels and
``SparseCategoricalCrossentropy(from_logits=True)``, which applies the softmax inside the loss
(more accurate than taking the log of a rounded probability). Without MNIST's files the
example uses Fashion-MNIST and says so."""

import sys

import numpy as np

from minnet import keras
from minnet.examples import _common
from minnet.keras import layers


def flatten_images(x):
    """(N, 28, 28) uint8 -> (N, 784) float32 in [0, 1]: a Dense layer sees a vector."""
    return x.reshape((len(x), 28 * 28)).astype("float32") / 255


def dense_512():
    """The lecture's network: 784 -> 512 relu -> 10 softmax."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28 * 28,)),
            layers.Dense(512, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def dense_3x128():
    """The variant: three 128-unit relu layers and 10 logits (no softmax)."""
    model = keras.Sequential(
        [
            keras.Input(shape=(28 * 28,)),
            layers.Dense(128, activation="relu"),
            layers.Dense(128, activation="relu"),
            layers.Dense(128, activation="relu"),
            layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## The data
    # 60,000 training and 10,000 test images of 28x28 grey pixels (MNIST digits when their
    # files are found, else Fashion-MNIST's clothes). `--quick` takes the 6,500 / 1,000
    # image subset embedded in minnet.
    # %%
    _common.setup(threads, seed)
    (train_images, train_labels), (test_images, test_labels), data = _common.image_data(
        quick, prefer_mnist=True
    )
    epochs = epochs or (2 if quick else 5)

    # A Dense layer takes vectors: flatten each image to 784 values, scaled to [0, 1]
    # (raw 0..255 inputs make the first layer's pre-activations huge and training erratic).
    train_x = flatten_images(train_images)
    test_x = flatten_images(test_images)
    # categorical_crossentropy wants one-hot rows: label 3 -> [0, 0, 0, 1, 0, ..., 0].
    train_y = keras.utils.to_categorical(train_labels, 10)
    test_y = keras.utils.to_categorical(test_labels, 10)
    print("train:", train_x.shape, train_y.shape, " test:", test_x.shape, test_y.shape)

    # %% [markdown]
    # ## The network: 784 -> 512 relu -> 10 softmax, RMSprop
    # 784 * 512 + 512 weights and biases in the hidden layer, 512 * 10 + 10 in the output:
    # 407,050 parameters. The softmax turns the 10 scores into probabilities.
    # %%
    model = dense_512()
    model.summary()
    model.fit(train_x, train_y, epochs=epochs, batch_size=128, verbose=verbose)

    # %%
    test_loss, test_acc = model.evaluate(test_x, test_y, verbose=0)
    print(f"test loss {test_loss:.4f}, test accuracy {test_acc:.4f}")

    # predict gives one row of 10 probabilities per image; argmax is the predicted class.
    probs = model.predict(test_x[:10], verbose=0)
    first = int(probs[0].argmax())
    print(
        f"first test image: predicted class {first} with probability {probs[0, first]:.3f} "
        f"(true class {test_labels[0]}); the row sums to {probs[0].sum():.3f}"
    )

    # %% [markdown]
    # ## Variant: three 128-unit layers, logits and sparse labels, Adam
    # The last layer has no softmax: it outputs logits, and the loss applies the softmax
    # itself (`from_logits=True`). The labels stay integers (`Sparse...`), no one-hot.
    # %%
    variant = dense_3x128()
    variant.summary()
    variant.fit(train_x, train_labels, epochs=epochs, batch_size=128, verbose=verbose)
    _, variant_acc = variant.evaluate(test_x, test_labels, verbose=0)
    print(f"variant test accuracy {variant_acc:.4f}")
    # For probabilities from a logits model, apply the softmax yourself.
    logits = variant.predict(test_x[:1], verbose=0)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    print(
        f"variant on the first test image: class {int(p[0].argmax())} "
        f"with probability {p[0].max():.3f}"
    )
    return _common.report(
        "mnist_dense", accuracy=float(test_acc), variant_accuracy=float(variant_acc), data=data
    )


main = _common.main_for("mnist_dense", run)

if __name__ == "__main__":
    sys.exit(main())
