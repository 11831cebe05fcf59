"""Whole-epoch training benchmarks: the course's models trained on Fashion-MNIST with the
lectures' hand-written loop, in minnet and in PyTorch, for ``minnet-bench epoch``.

One epoch is what a student's loop does, data handling included::

    perm = rng.permutation(n)                     # a fresh shuffle every epoch
    for i in range(0, n, batch):
        idx = perm[i:i + batch]
        xb, yb = x_train[idx], y_train[idx]       # gather the batch from the float32 tensors
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

followed by the test accuracy (``model.eval()``, ``no_grad``). Only the loop above is timed.
The images are converted to float32 in [0, 1] once, before training, into one NumPy array
that both frameworks wrap without a copy; both see the same permutations, build their model
with their own PyTorch-default initialisation from the same seed, and use the same thread
count.

``EPOCH_MODELS`` maps a name to a :class:`CourseModel`. To add one, write a function that
builds the model from an ``nn`` namespace (``minnet.nn`` or ``torch.nn``: the two share the
module names, so one function serves both) and add a row::

    def _mlp3(nn):
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))

    EPOCH_MODELS["mlp3"] = CourseModel(
        "mlp3", _mlp3, input_shape=(28, 28), optimizer="Adam", lr=1e-3, epochs=5,
        target=0.87, description="Flatten-Linear(784,128)-ReLU-Linear(128,10), Adam 1e-3")

``input_shape`` is the shape of one image as the model takes it ((1, 28, 28) for NCHW
convolutions, (28, 28) for rows as a sequence); ``optimizer`` names a class that
``minnet.optim`` and ``torch.optim`` both have; ``target`` is the test accuracy the course's
example reaches with this recipe (shown beside the measured one, not enforced here).
"""

import time
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

import numpy as np

import minnet
from minnet.examples.cnn import lecture_cnn
from minnet.examples.cnn_tfdoc import tfdoc_cnn

__all__ = ["CourseModel", "EPOCH_MODELS", "load_images", "Trainer", "parameter_count"]


@dataclass
class CourseModel:
    name: str
    build: Callable[[object], object]  # nn namespace (minnet.nn or torch.nn) -> Module
    input_shape: Tuple[int, ...]  # one image as the model takes it
    optimizer: str  # a class name in both minnet.optim and torch.optim
    lr: float
    epochs: int  # the course recipe's epoch count
    target: float  # the course example's test accuracy
    description: str
    batch: int = 128


def _dense512(nn):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))


def _gru_rows(nn):
    # the class is defined per framework: its base class is that framework's nn.Module
    class GRURows(nn.Module):
        """Each image's 28 rows as a 28-step sequence of 28 features; the GRU's last hidden
        state classifies it."""

        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(28, 128, batch_first=True)
            self.fc = nn.Linear(128, 10)

        def forward(self, x):
            _, h_n = self.gru(x)  # h_n: (num_layers, N, 128)
            return self.fc(h_n[-1])

    return GRURows()


# name -> CourseModel; `minnet-bench epoch --model NAME` and the tests read it (see the
# module docstring for how to add a row)
EPOCH_MODELS: Dict[str, CourseModel] = {
    m.name: m
    for m in [
        CourseModel(
            "dense512",
            _dense512,
            (28, 28),
            "Adam",
            1e-3,
            10,
            0.883,
            "Flatten-Linear(784,512)-ReLU-Linear(512,10), Adam 1e-3",
        ),
        # the two CNNs are the examples' own: Sequentials, as a student writes them (minnet
        # fuses each Conv2d-ReLU-MaxPool2d(2) run)
        CourseModel(
            "cnn",
            lecture_cnn,
            (1, 28, 28),
            "Adam",
            1e-3,
            8,
            0.878,
            "3x [Conv2d 3x3 pad 1 (1-16-32-32)-ReLU-MaxPool2d(2)]-Flatten-Linear(288,10), "
            "Adam 1e-3",
        ),
        CourseModel(
            "cnn_tfdoc",
            tfdoc_cnn,
            (1, 28, 28),
            "Adam",
            1e-3,
            8,
            0.916,
            "2x [Conv2d 5x5 pad 2 (1-32-64)-ReLU-MaxPool2d(2)]-Flatten-Linear(3136,1024)-"
            "ReLU-Dropout(0.4)-Linear(1024,10), Adam 1e-3",
        ),
        CourseModel(
            "gru_rows",
            _gru_rows,
            (28, 28),
            "Adam",
            2e-3,
            4,
            0.868,
            "rows as 28 steps into GRU(28,128, batch_first), last h into Linear(128,10), "
            "Adam 2e-3",
        ),
    ]
}


def load_images(subset=False, limit=None):
    """Fashion-MNIST as float32 in [0, 1]: ``(x_train, y_train), (x_test, y_test), source``,
    images (N, 28, 28), labels int64 (PyTorch's cross-entropy wants int64). ``limit`` keeps
    the first training images. FileNotFoundError when ``subset=False`` and the full set is
    not installed."""
    from minnet.datasets import fashion_mnist

    splits = fashion_mnist.load_data(subset=bool(subset))
    (xtr, ytr), (xte, yte) = splits
    if limit is not None:
        xtr, ytr = xtr[:limit], ytr[:limit]
    # converted once, before training, as the lectures do (x / 255.0 in float32)
    scale = np.float32(1 / 255)
    return (
        (xtr.astype(np.float32) * scale, ytr.astype(np.int64)),
        (xte.astype(np.float32) * scale, yte.astype(np.int64)),
        splits.source,
    )


class _Lib:
    """What differs between the two frameworks in the loop: the tensor wrapper, nn, optim,
    no_grad, and how an index array is passed."""

    def __init__(self, name, torch=None):
        self.name = name
        if name == "minnet":
            self.nn, self.optim, self.no_grad = minnet.nn, minnet.optim, minnet.no_grad
            self.tensor = minnet.from_numpy
            self.index = lambda a: a  # minnet tensors take NumPy index arrays
            self.seed = minnet.manual_seed
        else:
            self.nn, self.optim, self.no_grad = torch.nn, torch.optim, torch.no_grad
            self.tensor = torch.from_numpy
            self.index = torch.from_numpy
            self.seed = torch.manual_seed


class Trainer:
    """One framework's model, optimizer and data for a :class:`CourseModel`; ``epoch(perm)``
    trains one epoch over the given permutation and returns its seconds, ``accuracy()`` the
    test accuracy.

    ``data`` is ``((x_train, y_train), (x_test, y_test))`` from :func:`load_images`; the arrays
    are wrapped (not copied) as the framework's tensors, reshaped to ``spec.input_shape``."""

    def __init__(self, spec, framework, data, batch=None, seed=0, torch=None):
        self.spec, self.lib = spec, _Lib(framework, torch)
        self.batch = batch or spec.batch
        (xtr, ytr), (xte, yte) = data
        shape = (-1,) + tuple(spec.input_shape)
        t = self.lib.tensor
        self.x_train, self.y_train = t(xtr.reshape(shape)), t(ytr)
        self.x_test, self.y_test = t(xte.reshape(shape)), yte
        self.lib.seed(seed)
        self.model = spec.build(self.lib.nn)
        self.opt = getattr(self.lib.optim, spec.optimizer)(self.model.parameters(), lr=spec.lr)
        self.loss_fn = self.lib.nn.CrossEntropyLoss()
        self.losses = []

    def epoch(self, perm):
        """Train over the images ``perm`` (a NumPy index array, usually a permutation of all
        of them) in that order, ``batch`` at a time; returns the seconds taken."""
        model, opt, loss_fn, batch = self.model, self.opt, self.loss_fn, self.batch
        x_train, y_train = self.x_train, self.y_train
        t0 = time.perf_counter()
        perm = self.lib.index(perm)
        model.train()
        for i in range(0, len(perm), batch):
            idx = perm[i : i + batch]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
        seconds = time.perf_counter() - t0
        self.losses.append(float(loss.item()))  # the last batch's loss (outside the timing)
        return seconds

    def accuracy(self, batch=1000):
        """Test accuracy in eval mode without gradients, ``batch`` images at a time."""
        self.model.eval()
        correct = 0
        with self.lib.no_grad():
            for i in range(0, len(self.y_test), batch):
                logits = self.model(self.x_test[i : i + batch]).numpy()
                correct += int((logits.argmax(1) == self.y_test[i : i + batch]).sum())
        return correct / len(self.y_test)


def parameter_count(model):
    """Number of trainable scalars (the same call works on minnet and torch modules)."""
    return sum(int(np.prod(tuple(p.shape))) for p in model.parameters())
