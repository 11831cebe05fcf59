"""A dense autoencoder with a 32-dimensional code; saves inputs vs reconstructions.

An autoencoder learns to copy its input through a bottleneck: the encoder squeezes each 28x28
image (784 numbers) into a code of 32, the decoder rebuilds the 784 pixels from it, and the
loss is the mean squared difference between input and output. No labels are needed: the image
is its own target. To copy well through 32 numbers the net must find what Fashion-MNIST's
images have in common (shapes of shirts, shoes, bags), so the code is a compressed summary.
The yardstick is the best "reconstruction" without looking at the image, the mean training
image: the autoencoder's test error is about a third of that after 3 epochs on the embedded
subset and well under a fifth after 10 on the full set. The picture ``autoencoder.png`` shows
test images (top) and their reconstructions (bottom): blurrier, the fine print lost."""

import os
import sys

import numpy as np

import minnet
from minnet import nn
from minnet.datasets.fashion_mnist import CLASSES
from minnet.examples import _common


def autoencoder():
    """784 -> 128 -> 32 (the code) -> 128 -> 784, relu inside, sigmoid out (pixels in [0, 1])."""
    encoder = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 32), nn.ReLU())
    decoder = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 784), nn.Sigmoid())
    return nn.Sequential(encoder, decoder)


def reconstruct(model, x):
    """The model's output for every row of x, in eval mode and without a graph."""
    model.eval()
    with minnet.no_grad():
        return model(minnet.tensor(x)).numpy()


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## The data
    # Images as vectors of 784 pixels in [0, 1]; the labels are only used to pick one test
    # image of each class for the picture.
    # %%
    _common.setup(threads, seed)
    (x_train, _), (x_test, y_test), data = _common.image_data(quick)
    x_train = (x_train.reshape(len(x_train), 784) / 255).astype(np.float32)
    x_test = (x_test.reshape(len(x_test), 784) / 255).astype(np.float32)
    # input and target are the same images
    loader = minnet.data.DataLoader(
        minnet.data.TensorDataset(x_train, x_train), batch_size=64, shuffle=True
    )

    # %% [markdown]
    # ## The yardstick: the mean image
    # %%
    mean_image = x_train.mean(axis=0)
    baseline_mse = float(np.mean((x_test - mean_image) ** 2))
    print(f"test MSE of predicting the mean image: {baseline_mse:.4f}")

    # %% [markdown]
    # ## Train
    # %%
    model = autoencoder()
    print(model)
    loss_fn = nn.MSELoss()
    optimizer = minnet.optim.Adam(model.parameters(), lr=1e-3)
    epochs = epochs or (3 if quick else 10)
    for epoch in range(epochs):
        model.train()
        running, seen = 0.0, 0
        for x, target in loader:
            loss = loss_fn(model(x), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            running += loss.item() * len(x)
            seen += len(x)
        if verbose:
            test_mse = float(np.mean((reconstruct(model, x_test) - x_test) ** 2))
            print(
                f"epoch {epoch + 1}/{epochs}: training MSE {running / seen:.4f}, "
                f"test MSE {test_mse:.4f}",
                flush=True,
            )

    # %% [markdown]
    # ## How well does it copy?
    # %%
    test_mse = float(np.mean((reconstruct(model, x_test) - x_test) ** 2))
    print(
        f"test reconstruction MSE {test_mse:.4f} = {test_mse / baseline_mse:.2f} x the mean "
        f"image's"
    )

    # %% [markdown]
    # ## The picture
    # One test image of each class (top row) and its reconstruction (bottom row).
    # %%
    from minnet import plot

    picks = [int(np.flatnonzero(y_test == k)[0]) for k in range(10)]
    shown = np.concatenate([x_test[picks], reconstruct(model, x_test[picks])])
    titles = [CLASSES[int(y_test[i])].split("/")[0] for i in picks] + ["decoded"] * 10
    picture = os.path.join(out_dir, "autoencoder.png")
    try:
        os.makedirs(out_dir, exist_ok=True)
        plot.images(shown.reshape(-1, 28, 28), labels=titles, ncols=10, path=picture)
        print(f"saved {picture}")
    except ImportError as e:  # matplotlib is optional
        print(f"no picture: {e}")
        picture = None
    return _common.report(
        "autoencoder",
        mse=test_mse,
        baseline_mse=baseline_mse,
        ratio=test_mse / baseline_mse,
        epochs=epochs,
        picture=picture,
        data=data,
    )


main = _common.main_for("autoencoder", run)

if __name__ == "__main__":
    sys.exit(main())
