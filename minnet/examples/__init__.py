"""The course's lecture exercises as runnable examples.

Each example is a module ``minnet.examples.NAME`` with

* a module docstring whose first line is the one-line description listed here;
* ``run(quick=False, epochs=None, threads=None, seed=0, out_dir=".", verbose=1) -> dict``:
  the exercise itself, written like lecture code; it prints what it reached and returns the
  figures (``accuracy``, ``mse``, ...) plus ``"data"`` naming the data it used;
* ``main(argv=None) -> int``: the command line (``python -m minnet.examples.NAME --quick``,
  or ``minnet run NAME --quick``), built by :func:`minnet.examples._common.main_for`.

``--quick`` runs a small version (seconds) whose criterion the test suite asserts. The
notebooks under ``minnet/examples/notebooks/`` are generated from the modules
(``minnet notebook NAME``), so the code a student reads in one is the code in the other.
"""

import importlib

# name -> one-line description (the module docstring's first line; a test keeps them equal).
EXAMPLES = {
    "linear_regression": "y = mx + b three ways: normal equations, gradient descent, minibatch SGD.",
    "logistic_regression": "One sigmoid neuron with log loss separating two point clouds.",
    "sin_regression": "1-4-1 and 1-64-1 relu nets fitting sin(x) on [0, 2pi] (the Flux lecture).",
    "xor": "Dense(2->3, tanh) + BatchNorm + Dense(3->2) + softmax on noisy XOR (Flux quick-start).",
    "mnist_dense": "Keras: Dense(512, relu) + Dense(10, softmax) with RMSprop, and a 3x128 Adam variant.",
    "lines_cnn": "Horizontal vs vertical lines: a dense net against a small CNN.",
    "cnn": "The lecture CNN (16-32-32 3x3 convs, max-pool, Dense) with a hand-written training loop.",
    "cnn_tfdoc": "The '2 Conv + pooling' Fashion-MNIST model (5x5 convs, Dense 1024, dropout) with Adam.",
    "gru_classifier": "Image rows as 28-step sequences into a GRU(28 -> 128) + Linear(128, 10).",
    "rnn_lstm_compare": "RNN, LSTM and GRU on a long-dependency task: the vanishing-gradient lesson.",
    "seq2seq_reverse": "A GRU encoder-decoder that learns to reverse words (teacher forcing, greedy decoding).",
    "autoencoder": "A dense autoencoder with a 32-dimensional code; saves inputs vs reconstructions.",
    "ddp_mnist": "The lecture CNN trained data-parallel on several processes (mpirun + DistributedDataParallel).",
}

# the examples written for several ranks: `minnet run NAME --ranks N` starts them with mpirun
DISTRIBUTED = ("ddp_mnist",)

__all__ = ["EXAMPLES", "DISTRIBUTED", "names", "load"]


def names():
    """The example names, in course order."""
    return list(EXAMPLES)


def load(name):
    """The example's module; ValueError naming the known examples for an unknown name."""
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; the examples are: {', '.join(EXAMPLES)}")
    return importlib.import_module(f"minnet.examples.{name}")
