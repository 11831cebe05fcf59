"""pytest-benchmark cases for the eltwise and optim kernel families: one case per kernel, the
fast kernel against its NumPy reference, grouped by case so the two sit in one table.

    pytest bench/test_bench_eltwise.py --benchmark-only --benchmark-min-rounds=5

Sizes are the course's: a (128, 512) hidden layer's worth of activations times 4, a (512, 1000)
classifier head, and a 1M-parameter model's optimizer step. float32 throughout.
"""

import numpy as np
import pytest

from minnet import kernels, reference

N_ACT = 128 * 512 * 4
N_PARAM = 1 << 20
HEAD = (512, 1000)


def _cases():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(N_ACT).astype(np.float32)
    g = rng.standard_normal(N_ACT).astype(np.float32)
    y_sig = kernels.act_forward(x, "sigmoid")
    logits = (rng.standard_normal(HEAD) * 3).astype(np.float32)
    target = rng.integers(0, HEAD[1], HEAD[0])
    probs = kernels.softmax(logits)
    dprobs = rng.standard_normal(HEAD).astype(np.float32)
    _, lse = kernels.cross_entropy_forward(logits, target)
    bt = (rng.random(N_ACT) < 0.5).astype(np.float32)
    p = rng.standard_normal(N_PARAM).astype(np.float32)
    pg = rng.standard_normal(N_PARAM).astype(np.float32)
    st = [np.zeros(N_PARAM, np.float32) for _ in range(3)]

    def both(fn):
        return {"minnet": lambda: fn(kernels), "numpy": lambda: fn(reference)}

    return {
        "relu fwd": both(lambda k: k.act_forward(x, "relu")),
        "gelu fwd": both(lambda k: k.act_forward(x, "gelu")),
        "gelu bwd": both(lambda k: k.act_backward(g, x, "gelu")),
        "gelu_tanh fwd": both(lambda k: k.act_forward(x, "gelu_tanh")),
        "sigmoid fwd": both(lambda k: k.act_forward(x, "sigmoid")),
        "sigmoid bwd": both(lambda k: k.act_backward(g, y_sig, "sigmoid")),
        "tanh fwd": both(lambda k: k.act_forward(x, "tanh")),
        "elu fwd": both(lambda k: k.act_forward(x, "elu")),
        "softmax fwd": both(lambda k: k.softmax(logits)),
        "log_softmax fwd": both(lambda k: k.softmax(logits, log=True)),
        "softmax bwd": both(lambda k: k.softmax_backward(dprobs, probs)),
        "cross_entropy fwd": both(
            lambda k: k.cross_entropy_forward(logits, target, label_smoothing=0.1)
        ),
        "cross_entropy bwd": both(
            lambda k: k.cross_entropy_backward(1.0, logits, target, lse, label_smoothing=0.1)
        ),
        "bce_with_logits fwd": both(lambda k: k.bce_with_logits_forward(x, bt)),
        "bce_with_logits bwd": both(lambda k: k.bce_with_logits_backward(1.0, x, bt)),
        "sgd_step momentum": both(lambda k: k.sgd_step(p, pg, st[0], lr=1e-3, momentum=0.9)),
        "adam_step": both(lambda k: k.adam_step(p, pg, st[0], st[1], step=10, lr=1e-3)),
        "adamw_step": both(
            lambda k: k.adam_step(
                p, pg, st[0], st[1], step=10, lr=1e-3, weight_decay=1e-2, decoupled=True
            )
        ),
        "rmsprop_step": both(lambda k: k.rmsprop_step(p, pg, st[2], lr=1e-3)),
        "adagrad_step": both(lambda k: k.adagrad_step(p, pg, st[2], step=10, lr=1e-3)),
    }


CASES = _cases()
PARAMS = [(name, impl) for name in CASES for impl in CASES[name]]


@pytest.mark.parametrize("name,impl", PARAMS, ids=[f"{n}-{i}" for n, i in PARAMS])
def test_eltwise(benchmark, name, impl):
    benchmark.group = name
    benchmark(CASES[name][impl])
