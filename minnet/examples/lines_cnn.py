"""Horizontal vs vertical lines: a dense net against a small CNN.

Each 28x28 image holds one noisy line, horizontal or vertical; the label is its orientation.
Training shows horizontal lines only in the top half and vertical lines only in the left half;
the second test set puts them in the bottom and right halves, positions never seen. A dense
net learns *which pixels* light up: it is near perfect on the training positions and, on the
new ones, confidently wrong (the bottom half's pixels were lit, in training, only by vertical
lines). A CNN with a hundredth of the parameters learns *what a line looks like*: its 3x3
filters slide over every position (translation equivariance) and a max-pool over the whole
image keeps only whether they fired, not where (invariance), so it is right everywhere."""

import sys

import numpy as np

import minnet
from minnet import nn
from minnet.examples import _common

SIZE = 28


def make_lines(n, rng, positions, noise=0.3):
    """``n`` images (n, 1, SIZE, SIZE) float32 and labels (0 horizontal, 1 vertical): a line
    of ones at a row (horizontal) or column (vertical) drawn from ``positions``, plus
    Gaussian pixel noise."""
    labels = rng.integers(0, 2, n)
    where = rng.choice(positions, n)
    images = rng.normal(0.0, noise, (n, 1, SIZE, SIZE)).astype(np.float32)
    horizontal, vertical = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
    images[horizontal, 0, where[horizontal], :] += 1.0
    images[vertical, 0, :, where[vertical]] += 1.0
    return images, labels


def train(model, images, labels, epochs, name, verbose=1):
    """The usual loop: Adam, cross-entropy, shuffled batches of 64."""
    optimizer = minnet.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()
    loader = minnet.data.DataLoader(
        minnet.data.TensorDataset(images, labels), batch_size=64, shuffle=True
    )
    model.train()
    for epoch in range(epochs):
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(y)
        if verbose:
            print(f"{name} epoch {epoch + 1}/{epochs}: loss {total / len(labels):.4f}")


def accuracy(model, images, labels):
    """Fraction of images whose predicted orientation is right."""
    model.eval()
    with minnet.no_grad():
        predicted = model(minnet.tensor(images)).numpy().argmax(axis=1)
    return float((predicted == labels).mean())


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## The data
    # Training lines sit in rows / columns 0-13 only; the "shifted" test set uses 14-27.
    # %%
    rng = _common.setup(threads, seed)
    n_train = 1000 if quick else 4000
    epochs = epochs or 5
    seen, unseen = np.arange(0, SIZE // 2), np.arange(SIZE // 2, SIZE)
    train_x, train_y = make_lines(n_train, rng, seen)
    same_x, same_y = make_lines(500, rng, seen)  # test lines at the training positions
    shifted_x, shifted_y = make_lines(500, rng, unseen)  # test lines where none were seen
    print(f"{n_train} training images, 500 + 500 test images, {SIZE}x{SIZE}")

    # %% [markdown]
    # ## A dense net: every pixel has its own weight
    # %%
    dense = nn.Sequential(
        nn.Flatten(),
        nn.Linear(SIZE * SIZE, 16),
        nn.ReLU(),
        nn.Linear(16, 2),
    )
    train(dense, train_x, train_y, epochs, "dense", verbose)

    # %% [markdown]
    # ## A CNN: 8 filters of 3x3, shared by every position, then the maximum over the image
    # `MaxPool2d(SIZE)` pools the whole 28x28 map into one number per filter: "did this
    # filter fire anywhere?". (Flattening the map into a Linear layer instead would give
    # the Linear one weight per position again, and the dense net's problem back.)
    # %%
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(SIZE),
        nn.Flatten(),
        nn.Linear(8, 2),
    )
    train(cnn, train_x, train_y, epochs, "cnn", verbose)

    # %% [markdown]
    # ## Seen positions vs unseen positions
    # %%
    dense_same = accuracy(dense, same_x, same_y)
    dense_shifted = accuracy(dense, shifted_x, shifted_y)
    cnn_same = accuracy(cnn, same_x, same_y)
    cnn_shifted = accuracy(cnn, shifted_x, shifted_y)
    print(f"{'':6} {'parameters':>10} {'seen positions':>15} {'unseen positions':>17}")
    print(f"{'dense':6} {count_parameters(dense):10d} {dense_same:15.3f} {dense_shifted:17.3f}")
    print(f"{'cnn':6} {count_parameters(cnn):10d} {cnn_same:15.3f} {cnn_shifted:17.3f}")
    # Below 0.5 means worse than guessing: the dense net answers "vertical" for a line in the
    # bottom half because, in training, only vertical lines lit those pixels.
    return _common.report(
        "lines_cnn",
        cnn_accuracy=cnn_shifted,
        dense_accuracy=dense_shifted,
        cnn_seen=cnn_same,
        dense_seen=dense_same,
        cnn_parameters=count_parameters(cnn),
        dense_parameters=count_parameters(dense),
        data="synthetic lines",
    )


main = _common.main_for("lines_cnn", run)

if __name__ == "__main__":
    sys.exit(main())
