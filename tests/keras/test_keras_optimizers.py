"""keras.optimizers: each step equals Keras 3's update equations written out in NumPy."""

import math

import numpy as np
import pytest

from minnet import keras
from minnet.nn import Parameter
from minnet.tensor import Tensor


def _run(opt, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=(4, 3)).astype(np.float64)
    grads = [rng.normal(scale=10 ** rng.uniform(-4, 0), size=(4, 3)) for _ in range(steps)]
    p = Parameter(w0.copy())
    opt.build([p])
    for g in grads:
        p.grad = Tensor(g.copy())
        opt.apply()
    return w0, grads, p.data


def test_adam_equals_keras_equations():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
    w, grads, got = _run(keras.optimizers.Adam(learning_rate=lr))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        alpha = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
        m += (g - m) * (1 - b1)
        v += (g * g - v) * (1 - b2)
        w = w - m * alpha / (np.sqrt(v) + eps)
    np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)


def test_adamw_decays_before_the_adam_step():
    lr, wd = 0.01, 0.004
    w, grads, got = _run(keras.optimizers.AdamW(learning_rate=lr))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        w = w - w * wd * lr
        alpha = lr * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        m += (g - m) * 0.1
        v += (g * g - v) * 0.001
        w = w - m * alpha / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("momentum,centered", [(0.0, False), (0.9, False), (0.0, True)])
def test_rmsprop_equals_keras_equations(momentum, centered):
    lr, rho, eps = 0.001, 0.9, 1e-7
    w, grads, got = _run(keras.optimizers.RMSprop(momentum=momentum, centered=centered))
    v = np.zeros_like(w)
    avg = np.zeros_like(w)
    buf = np.zeros_like(w)
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        if centered:
            avg = rho * avg + (1 - rho) * g
            denom = v - avg * avg + eps
        else:
            denom = v + eps
        inc = lr * g / np.sqrt(denom)
        if momentum:
            buf = momentum * buf + inc
            inc = buf
        w = w - inc
    np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)


def test_adagrad_equals_keras_equations():
    w, grads, got = _run(keras.optimizers.Adagrad(learning_rate=0.1))
    acc = np.full_like(w, 0.1)
    for g in grads:
        acc += g * g
        w = w - 0.1 * g / np.sqrt(acc + 1e-7)
    np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_equals_keras_equations(nesterov):
    lr, mu = 0.01, 0.9
    w, grads, got = _run(keras.optimizers.SGD(momentum=mu, nesterov=nesterov))
    m = np.zeros_like(w)
    for g in grads:
        m = mu * m - lr * g
        w = w + (mu * m - lr * g if nesterov else m)
    np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)


def _decaying(lr0):
    """A schedule that changes lr at every step (so momentum buffers must follow it)."""
    return lambda step: lr0 * 0.7**step


@pytest.mark.parametrize("use_kernels", [True, False])
@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_follows_a_changing_learning_rate(nesterov, use_kernels, monkeypatch):
    from minnet.optim import _functional

    monkeypatch.setattr(_functional, "USE_KERNELS", use_kernels)
    mu, sched = 0.9, _decaying(0.05)
    w, grads, got = _run(keras.optimizers.SGD(sched, momentum=mu, nesterov=nesterov))
    m = np.zeros_like(w)
    for t, g in enumerate(grads):
        lr = sched(t)
        m = mu * m - lr * g
        w = w + (mu * m - lr * g if nesterov else m)
    np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("use_kernels", [True, False])
@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_momentum_follows_a_changing_learning_rate(centered, use_kernels, monkeypatch):
    from minnet.optim import _functional

    monkeypatch.setattr(_functional, "USE_KERNELS", use_kernels)
    rho, eps, mu, sched = 0.9, 1e-3, 0.8, _decaying(0.01)
    opt = keras.optimizers.RMSprop(sched, rho=rho, momentum=mu, epsilon=eps, centered=centered)
    w, grads, got = _run(opt)
    v, avg, buf = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads):
        v = rho * v + (1 - rho) * g * g
        avg = rho * avg + (1 - rho) * g
        denom = v - avg * avg + eps if centered else v + eps
        buf = mu * buf + sched(t) * g / np.sqrt(denom)
        w = w - buf
    np.testing.assert_allclose(got, w, rtol=1e-10, atol=1e-12)


def test_keras_rmsprop_and_adagrad_are_minnet_optim_updates():
    # one implementation of the maths: the Keras optimizers build minnet.optim ones
    from minnet import optim

    p = Parameter(np.ones(3))
    for opt, base in (
        (keras.optimizers.RMSprop(), optim.RMSprop),
        (keras.optimizers.Adagrad(), optim.Adagrad),
        (keras.optimizers.SGD(), optim.SGD),
    ):
        opt.build([p])
        assert isinstance(opt._impl, base)


def test_defaults_names_schedules_and_clipping():
    assert keras.optimizers.SGD().learning_rate == 0.01
    assert keras.optimizers.Adam().learning_rate == 0.001
    assert keras.optimizers.RMSprop().rho == 0.9
    assert keras.optimizers.Adam().epsilon == 1e-7
    assert keras.optimizers.AdamW().weight_decay == 0.004
    assert isinstance(keras.optimizers.get("rmsprop"), keras.optimizers.RMSprop)
    with pytest.raises(ValueError, match="Unknown optimizer"):
        keras.optimizers.get("adamm")
    sched = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt = keras.optimizers.SGD(learning_rate=sched)
    w, grads, got = _run(opt, steps=3)
    want = w - sum(0.1 * 0.5**t * g for t, g in enumerate(grads))
    np.testing.assert_allclose(got, want, rtol=1e-10)
    w, grads, got = _run(keras.optimizers.SGD(learning_rate=1.0, clipvalue=1e-3), steps=1)
    np.testing.assert_allclose(got, w - np.clip(grads[0], -1e-3, 1e-3), rtol=1e-12)
    w, grads, got = _run(keras.optimizers.SGD(learning_rate=1.0, global_clipnorm=1e-5), steps=1)
    assert np.linalg.norm(got - w) == pytest.approx(1e-5, rel=1e-9)


def test_learning_rate_reads_and_assigns_like_a_keras_variable():
    opt = keras.optimizers.Adam()
    assert opt.learning_rate.numpy() == 0.001
    opt.learning_rate.assign(0.01)
    assert opt.learning_rate == 0.01
    opt.learning_rate = 0.02
    assert float(opt.learning_rate) == 0.02
