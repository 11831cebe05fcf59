"""The lecture CNN (16-32-32 3x3 convs, max-pool, Dense) with a hand-written training loop.

Three blocks of 3x3 convolution + relu + 2x2 max-pool shrink a 28x28 image to 32 maps of
3x3; one Linear layer turns those 288 numbers into 10 class scores. 16,938 parameters, a
sixth of a single 128-unit dense layer on the raw pixels, and more accurate: 8 epochs of Adam
(lr 1e-3, batches of 128) reach about 88% on the full Fashion-MNIST test set. The loop is
PyTorch's, line for line: DataLoader, forward, loss, zero_grad, backward, step, and an
evaluation pass in ``model.eval()`` under ``minnet.no_grad()`` after every epoch."""

import sys
import time

import numpy as np

import minnet
from minnet import nn
from minnet.examples import _common


def to_nchw(images):
    """(N, 28, 28) uint8 -> (N, 1, 28, 28) float32 in [0, 1]: convolutions take
    (batch, channels, height, width)."""
    return (images.astype(np.float32) / 255.0)[:, None, :, :]


def make_loaders(x_train, y_train, x_test, y_test, batch_size=128):
    """Shuffled training batches and fixed test batches of (images, int64 labels), the
    images as :func:`to_nchw` makes them."""
    train = minnet.data.TensorDataset(to_nchw(x_train), y_train.astype(np.int64))
    test = minnet.data.TensorDataset(to_nchw(x_test), y_test.astype(np.int64))
    return (
        minnet.data.DataLoader(train, batch_size=batch_size, shuffle=True),
        minnet.data.DataLoader(test, batch_size=500),
    )


def lecture_cnn(nn=nn):
    """28x28 -> 14x14 -> 7x7 -> 3x3 (floor), 16, 32 and 32 channels, then Linear(288, 10).

    ``nn`` is minnet.nn; given ``torch.nn``, the same lines build the model in PyTorch
    (``minnet-bench`` trains the two side by side)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 3 * 3, 10),
    )


def evaluate(model, loader):
    """Test accuracy: inference mode (dropout off, batch norm frozen) and no graph."""
    model.eval()
    correct = total = 0
    with minnet.no_grad():
        for x, y in loader:
            correct += int((model(x).argmax(dim=1) == y).sum().item())
            total += len(y)
    return correct / total


def train(model, loss_fn, optimizer, train_loader, test_loader, epochs, verbose=1):
    """PyTorch's training loop, ``epochs`` times over ``train_loader``, with the test accuracy
    after every epoch (printed when ``verbose``); returns the last one."""
    for epoch in range(epochs):
        model.train()
        start, running, seen = time.perf_counter(), 0.0, 0
        for x, y in train_loader:
            logits = model(x)  # forward
            loss = loss_fn(logits, y)
            optimizer.zero_grad()  # gradients accumulate unless cleared
            loss.backward()  # backward: d loss / d every parameter
            optimizer.step()  # update
            running += loss.item() * len(y)
            seen += len(y)
        test_acc = evaluate(model, test_loader)
        if verbose:
            print(
                f"epoch {epoch + 1}/{epochs}: train loss {running / seen:.4f}, "
                f"test accuracy {test_acc:.4f} ({time.perf_counter() - start:.1f} s)",
                flush=True,
            )
    return test_acc


def run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1):
    # %% [markdown]
    # ## The data
    # Full Fashion-MNIST when its files are found (else the embedded subset, said so);
    # `--quick` trains on the embedded 6,500-image subset.
    # %%
    _common.setup(threads, seed)
    (x_train, y_train), (x_test, y_test), data = _common.image_data(quick)
    epochs = epochs or (2 if quick else 8)
    train_loader, test_loader = make_loaders(x_train, y_train, x_test, y_test)

    # %% [markdown]
    # ## The model, the loss, the optimizer
    # `CrossEntropyLoss` takes the raw scores (logits) and integer labels: it applies the
    # log-softmax itself, so the model ends with a plain Linear layer.
    # %%
    model = lecture_cnn()
    print(model)
    print("parameters:", sum(p.numel() for p in model.parameters()))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = minnet.optim.Adam(model.parameters(), lr=1e-3)

    # %% [markdown]
    # ## The training loop
    # `train` (above): every epoch, forward, loss, zero_grad, backward and step for each
    # batch, then the test accuracy.
    # %%
    test_acc = train(model, loss_fn, optimizer, train_loader, test_loader, epochs, verbose)
    return _common.report("cnn", accuracy=test_acc, epochs=epochs, data=data)


main = _common.main_for("cnn", run)

if __name__ == "__main__":
    sys.exit(main())
