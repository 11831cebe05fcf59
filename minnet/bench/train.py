"""Training-step benchmark models: one full step (forward, loss, backward, optimizer step) of a
small network on synthetic MNIST-shaped data, in minnet and, for comparison, in PyTorch.

``TRAIN_MODELS`` maps a model name to a :class:`TrainModel`; ``minnet-bench train --model NAME``
and ``bench/test_bench_train.py`` both read it.

Registering a model (e.g. from the conv or RNN work) takes one function and one line::

    # in minnet/bench/train.py, or in your own module imported at the bottom of this file
    from minnet.bench.train import TrainModel, register

    def _cnn(batch, torch):
        x, y = synthetic_mnist(batch, image=True)   # fixed seed, (batch, 1, 28, 28) + labels
        model = minnet.nn.Sequential(...)
        opt = minnet.optim.Adam(model.parameters(), lr=1e-3)
        impls = {"minnet": minnet_step(model, minnet.nn.CrossEntropyLoss(), opt, x, y)}
        if torch is not None:               # the same model written the natural PyTorch way
            tm = torch.nn.Sequential(...)
            topt = torch.optim.Adam(tm.parameters(), lr=1e-3)
            impls["torch"] = torch_step(torch, tm, torch.nn.CrossEntropyLoss(), topt, x, y)
        return impls

    register("cnn", _cnn, "conv 1->16 5x5, pool, ... Adam, batch 128", default_batch=128)

A builder is ``(batch: int, torch: module | None) -> dict[impl name, zero-arg callable]``.
Each callable runs one training step; ``"minnet"`` is the subject, every other entry (usually
``"torch"``) a baseline whose time is divided by minnet's. Builders take ``batch`` from the
command line (``--batch``; ``default_batch`` when not given) and must build everything
(data, model, optimizer) up front so that the callable times only the step itself.
:func:`minnet_step` and :func:`torch_step` write the usual loop for you.
"""

from dataclasses import dataclass
from typing import Callable, Dict, Optional

import numpy as np

import minnet

__all__ = [
    "TrainModel",
    "TRAIN_MODELS",
    "register",
    "synthetic_mnist",
    "minnet_step",
    "torch_step",
]


@dataclass
class TrainModel:
    name: str
    builder: Callable[[int, object], Dict[str, Callable[[], object]]]
    description: str
    default_batch: Optional[int] = 128  # None: the model fixes its batch (tiny: 1)


# model name -> TrainModel
TRAIN_MODELS: Dict[str, TrainModel] = {}


def register(name, builder, description, default_batch=128):
    """Add a training model to the registry (``minnet-bench train --model name``)."""
    TRAIN_MODELS[name] = TrainModel(name, builder, description, default_batch)
    return builder


def synthetic_mnist(batch, image=False, classes=10, seed=0):
    """A fixed-seed float32 batch shaped like MNIST: x (batch, 784) or (batch, 1, 28, 28) in
    [0, 1), and int64 labels in [0, classes)."""
    rng = np.random.default_rng(seed)
    x = rng.random((batch, 1, 28, 28) if image else (batch, 784), dtype=np.float32)
    y = rng.integers(0, classes, size=batch, dtype=np.int64)
    return x, y


def minnet_step(model, loss_fn, opt, x, y):
    """The canonical minnet training step over fixed numpy data x, y, as a zero-arg callable."""
    return _loop(model, loss_fn, opt, minnet.from_numpy(x), minnet.from_numpy(y))


def torch_step(torch, model, loss_fn, opt, x, y, memory_format=None):
    """The same step written the natural PyTorch way. ``memory_format=torch.channels_last``
    converts the model and the input batch to it first (PyTorch's recipe for faster CPU
    convolutions)."""
    xt = torch.from_numpy(x)
    if memory_format is not None:
        model.to(memory_format=memory_format)
        xt = xt.contiguous(memory_format=memory_format)
    return _loop(model, loss_fn, opt, xt, torch.from_numpy(y))


def _loop(model, loss_fn, opt, xt, yt):
    # the same four lines for both frameworks: their APIs agree here
    def step():
        opt.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        opt.step()
        return loss

    # what minnet.bench.roofline.step_flops needs to count the step's FLOPs
    step.model, step.inputs = model, (xt,)
    return step


def _mlp(sizes, nn):
    """Linear/ReLU stack for either framework (same module names in minnet.nn and torch.nn)."""
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _builder(sizes, make_opt, fixed_batch=None):
    def build(batch, torch):
        if fixed_batch is not None:
            batch = fixed_batch
        x, y = synthetic_mnist(batch)
        minnet.manual_seed(0)
        model = _mlp(sizes, minnet.nn)
        impls = {
            "minnet": minnet_step(
                model,
                minnet.nn.CrossEntropyLoss(),
                make_opt(minnet.optim, model.parameters()),
                x,
                y,
            )
        }
        if torch is not None:
            torch.manual_seed(0)
            tm = _mlp(sizes, torch.nn)
            impls["torch"] = torch_step(
                torch,
                tm,
                torch.nn.CrossEntropyLoss(),
                make_opt(torch.optim, tm.parameters()),
                x,
                y,
            )
        return impls

    return build


register(
    "tiny",
    _builder([784, 10], lambda optim, p: optim.SGD(p, lr=0.01), fixed_batch=1),
    "Linear(784, 10) at batch 1, SGD(lr 0.01), cross-entropy: fixed per-step overhead",
    default_batch=None,
)
register(
    "mlp512",
    _builder([784, 512, 10], lambda optim, p: optim.RMSprop(p, lr=1e-3)),
    "784-512(relu)-10, RMSprop(lr 1e-3), cross-entropy",
)
register(
    "mlp3x128",
    _builder([784, 128, 128, 128, 10], lambda optim, p: optim.Adam(p, lr=1e-3)),
    "784-128-128-128-10 relu, Adam(lr 1e-3), cross-entropy",
)

from minnet.bench import conv as _conv  # noqa: E402,F401  (registers cnn)
from minnet.bench import rnn as _rnn  # noqa: E402,F401  (registers seq2seq)


def _course_builder(spec):
    """A train-step builder for a course model of minnet.bench.course (the epoch benchmark's
    models), on synthetic batches of its input shape, with its optimizer and learning rate."""

    def build(batch, torch):
        rng = np.random.default_rng(0)
        x = rng.random((batch,) + spec.input_shape, dtype=np.float32)
        y = rng.integers(0, 10, batch).astype(np.int64)
        minnet.manual_seed(0)
        model = spec.build(minnet.nn)
        opt = getattr(minnet.optim, spec.optimizer)(model.parameters(), lr=spec.lr)
        impls = {"minnet": minnet_step(model, minnet.nn.CrossEntropyLoss(), opt, x, y)}
        if torch is not None:
            torch.manual_seed(0)
            tm = spec.build(torch.nn)
            topt = getattr(torch.optim, spec.optimizer)(tm.parameters(), lr=spec.lr)
            impls["torch"] = torch_step(torch, tm, torch.nn.CrossEntropyLoss(), topt, x, y)
        return impls

    return build


def _register_course_models():
    from minnet.bench.course import EPOCH_MODELS

    for name in ("cnn_tfdoc", "gru_rows"):
        spec = EPOCH_MODELS[name]
        register(name, _course_builder(spec), spec.description, default_batch=spec.batch)


_register_course_models()
