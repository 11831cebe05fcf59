"""``minnet demo``: the first command to run. Trains the lecture CNN on real Fashion-MNIST
images (the subset embedded in the package: no download, no system package) with the Keras
front end, then prints the test accuracy and what the model confuses.

    minnet demo                 # ~15 s on 2 cores, about 87% test accuracy
    minnet demo --epochs 5 --threads 1
"""

import time

import numpy as np

__all__ = ["run", "DEMO_EPOCHS"]

DEMO_EPOCHS = 20


def run(epochs=None, threads=None, seed=0, quick=False, verbose=1, full=False):
    """Train and evaluate; returns ``{"accuracy", "seconds", "confusion", "data"}``.

    ``quick`` trains 2 epochs on 2,000 images (for tests); ``full`` uses the full
    Fashion-MNIST when its files are found (otherwise the embedded subset, as always)."""
    import minnet
    from minnet import keras
    from minnet.datasets import fashion_mnist
    from minnet.keras import layers
    from minnet.plot import confusion_counts

    if threads is not None:
        minnet.set_num_threads(threads)
    keras.utils.set_random_seed(seed)
    splits = fashion_mnist.load_data(subset=None if full else True)
    (x_train, y_train), (x_test, y_test) = splits
    if quick:
        x_train, y_train = x_train[:2000], y_train[:2000]
    epochs = epochs or (2 if quick else DEMO_EPOCHS)
    what = "embedded subset" if splits.subset else splits.source
    print(
        f"Fashion-MNIST ({what}): {len(y_train)} training and {len(y_test)} test images, "
        f"{minnet.get_num_threads()} threads"
    )

    # Keras wants channels last: (N, 28, 28, 1), pixels scaled to [0, 1].
    x_train = x_train[..., None].astype("float32") / 255.0
    x_test = x_test[..., None].astype("float32") / 255.0

    # The lecture CNN: three 3x3 conv + relu + 2x2 max-pool blocks, then one dense layer.
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ],
        name="lecture_cnn",
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if verbose:
        model.summary()

    t0 = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=verbose)
    seconds = time.perf_counter() - t0

    y_pred = model.predict(x_test, batch_size=500, verbose=0).argmax(axis=1)
    accuracy = float((y_pred == y_test).mean())
    cm = confusion_counts(y_test, y_pred, num_classes=10)
    names = fashion_mnist.CLASSES
    print(f"\ntrained {epochs} epochs in {seconds:.1f} s")
    print(f"test accuracy: {accuracy:.4f}")
    print(
        "per class:  "
        + ", ".join(f"{names[k]} {cm[k, k] / max(cm[k].sum(), 1):.2f}" for k in range(10))
    )
    off = cm - np.diag(np.diag(cm))
    worst = np.dstack(np.unravel_index(np.argsort(off, axis=None)[::-1][:3], off.shape))[0]
    print(
        "most confused:  "
        + "; ".join(
            f"{names[i]} taken for {names[j]} ({off[i, j]}x)" for i, j in worst if off[i, j] > 0
        )
    )
    return {
        "accuracy": accuracy,
        "seconds": seconds,
        "confusion": cm,
        "data": "Fashion-MNIST " + what,
    }
