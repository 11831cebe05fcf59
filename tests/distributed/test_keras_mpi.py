"""keras ``Model.fit(..., distribute="mpi")`` on 2 ranks against the same fit in one process:
``batch_size`` is the global batch, so the weights and the History (loss and accuracy of
the global batches) agree to float32 rounding, also with a last batch that splits unevenly
(41 training samples after validation_split=0.2, batches of 12: the last 5 split 3 + 2). Only rank 0 prints and checkpoints."""

import pytest
from tests_helpers_mpi import requires_mpi, run_mpi

pytestmark = requires_mpi

ATOL = 1e-5  # float32, different summation order; observed ~1e-7

CHILD = r"""
import os
import numpy as np
import minnet.distributed as dist
from minnet import keras
from minnet.keras import layers

dist.init()
rank = dist.get_rank()
rng = np.random.default_rng(0)
x = rng.standard_normal((52, 6)).astype(np.float32)
y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5)


class Spy(keras.callbacks.ModelCheckpoint):
    calls = 0

    def on_epoch_end(self, epoch, logs=None):
        Spy.calls += 1
        super().on_epoch_end(epoch, logs)


def make(opt):
    keras.utils.set_random_seed(1 + rank if opt != "ref" else 1)  # ranks start differently
    model = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")])
    return model


def fit(model, optimizer, distribute, verbose, callbacks=()):
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    keras.utils.set_random_seed(5 + rank)  # rank 0's shuffle order is broadcast
    h = model.fit(x, y, batch_size=12, epochs=2, verbose=verbose, distribute=distribute, callbacks=list(callbacks), validation_split=0.2)
    return h.history, np.concatenate([w.ravel() for w in model.get_weights()])


out = {}
for name, make_opt in (("sgd", lambda: keras.optimizers.SGD(0.1, momentum=0.9)), ("adam", lambda: keras.optimizers.Adam(1e-2))):
    keras.utils.set_random_seed(1)
    model = make(name)
    ckpt = Spy(os.path.join(os.getcwd(), f"{name}.weights.npz"), save_best_only=False)
    hist, w = fit(model, make_opt(), "mpi", 1 if name == "sgd" else 0, [ckpt])
    every = [np.empty_like(w) for _ in range(2)]
    dist.all_gather(every, w)
    case = {"history": hist, "ranks_differ": float(np.abs(every[0] - every[1]).max())}
    ref = make("ref")  # on every rank: Keras numbers its layers' names per process
    if rank == 0:
        # one process, the same rank-0 start: copy the distributed run's initial state
        # (fit broadcast rank 0's weights; rank 0 started from seed 1 like ref)
        keras.utils.set_random_seed(5)
        rhist, rw = fit(ref, make_opt(), None, 0)
        case["ref_history"] = rhist
        case["vs_one_process"] = float(np.abs(w - rw).max())
    case["checkpoint_calls"] = Spy.calls
    case["checkpoint_exists"] = os.path.exists(f"{name}.weights.npz")
    Spy.calls = 0
    out[name] = case
# a plain fit afterwards does not communicate (would hang if the hooks stayed): rank 1 only
if rank == 1:
    model.fit(x, y, batch_size=12, epochs=1, verbose=0)
dist.barrier()
report(out)
"""


@pytest.fixture(scope="module")
def job():
    return run_mpi(CHILD, n=2, timeout=120)


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_fit_on_two_ranks_matches_one_process(job, opt):
    r0, r1 = job.results
    case = r0[opt]
    assert case["vs_one_process"] < ATOL
    assert case["ranks_differ"] < 1e-7 and r1[opt]["ranks_differ"] < 1e-7
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert case["history"][key] == pytest.approx(case["ref_history"][key], abs=ATOL)
        # every rank sees the global logs
        assert r1[opt]["history"][key] == pytest.approx(case["history"][key], abs=1e-12)
    assert case["history"]["loss"][1] < case["history"]["loss"][0]


def test_only_rank_0_checkpoints_and_prints(job):
    r0, r1 = job.results
    assert r0["sgd"]["checkpoint_calls"] == 2 and r0["sgd"]["checkpoint_exists"]
    assert r1["sgd"]["checkpoint_calls"] == 0
    assert job.stdout.count("Epoch 1/2") == 1  # sgd ran with verbose=1: rank 0's bar only
