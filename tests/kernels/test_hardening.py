"""Regression tests for what an adversarial caller found (issue 11): caller-supplied buffers,
empty recurrences, corrupt batch-norm statistics and pool codes, absurd thread counts.
Each must be a clear ValueError/TypeError naming the argument, never a crash or a silent
wrong answer."""

import numpy as np
import pytest
from tests_helpers_run import run_python

import minnet
from minnet import kernels as K
from minnet import reference
from minnet.reference import rnn as ref_rnn

RNG = np.random.default_rng(0)


def _gru_args(T=3, B=2, I=4, H=5, G=3, dt=np.float64):
    r = np.random.default_rng(1)
    return dict(
        x=r.standard_normal((T, B, I)).astype(dt),
        h0=r.standard_normal((B, H)).astype(dt),
        w_ih=r.standard_normal((G * H, I)).astype(dt) * 0.3,
        w_hh=r.standard_normal((G * H, H)).astype(dt) * 0.3,
        b_ih=r.standard_normal(G * H).astype(dt),
        b_hh=r.standard_normal(G * H).astype(dt),
    )


BAD_ALLOCS = {
    "a list": (lambda s, d: [0.0], TypeError, "must return a numpy.ndarray"),
    "one element": (lambda s, d: np.empty(1, d), ValueError, "of shape"),
    "float16": (lambda s, d: np.empty(s, np.float16), ValueError, "float64 array"),
    "read-only": (lambda s, d: np.broadcast_to(np.zeros(1, d), s), ValueError, "writeable"),
    "strided": (
        lambda s, d: np.empty(s[:-1] + (2 * s[-1],), d)[..., ::2],
        ValueError,
        "C-contiguous",
    ),
    "not callable": (3, TypeError, "callable"),
}


@pytest.mark.parametrize("case", sorted(BAD_ALLOCS))
@pytest.mark.parametrize("kind", ["gru", "rnn", "lstm"])
def test_bad_alloc_results_are_refused(kind, case):
    alloc, exc, text = BAD_ALLOCS[case]
    a = _gru_args(G={"gru": 3, "rnn": 1, "lstm": 4}[kind])
    fwd = getattr(K, f"{kind}_forward")
    args = (
        [a["x"], a["h0"]]
        + ([a["h0"].copy()] if kind == "lstm" else [])
        + [a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"]]
    )
    with pytest.raises(exc, match=text):
        fwd(*args, alloc=alloc)
    # the backward's outputs too
    res = fwd(*args)
    saved = res[-1]
    bwd = getattr(K, f"{kind}_backward")
    dy = np.ones_like(res[0])
    bargs = [dy, None] + ([None] if kind == "lstm" else []) + [a["x"], a["w_ih"], a["w_hh"], saved]
    with pytest.raises(exc, match=text):
        bwd(*bargs, alloc=alloc)
    # and the calls still work afterwards (nothing was corrupted)
    again = fwd(*args)
    np.testing.assert_array_equal(again[0], res[0])


def test_a_good_alloc_is_used():
    got = []

    def alloc(shape, dtype):
        a = np.empty(shape, dtype)
        got.append(a)
        return a

    a = _gru_args()
    y, hn, _ = K.gru_forward(
        a["x"], a["h0"], a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"], alloc=alloc
    )
    assert any(y is g for g in got)
    ry, rhn, _ = ref_rnn.gru_forward(a["x"], a["h0"], a["w_ih"], a["w_hh"], a["b_ih"], a["b_hh"])
    np.testing.assert_allclose(y, ry, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["gru", "rnn", "lstm"])
@pytest.mark.parametrize("shape", [(0, 2, 4, 5), (3, 2, 4, 0), (3, 0, 4, 5), (3, 2, 0, 5)])
def test_backward_refuses_empty_recurrences_as_the_forward_does(kind, shape):
    T, B, I, H = shape
    G = {"gru": 3, "rnn": 1, "lstm": 4}[kind]
    K_saved = {"gru": 4, "rnn": 0, "lstm": 4}[kind]
    x = np.zeros((T, B, I))
    w_ih, w_hh = np.zeros((G * H, I)), np.zeros((G * H, H))
    states = np.zeros((T + 1, B, H))
    saved = {
        "gru": (np.zeros((T, B, K_saved * H)), states),
        "rnn": (states,),
        "lstm": (np.zeros((T, B, K_saved * H)), states, states.copy()),
    }[kind]
    bargs = (
        [np.zeros((T, B, H)), np.zeros((B, H))]
        + ([np.zeros((B, H))] if kind == "lstm" else [])
        + [x, w_ih, w_hh, saved]
    )
    with pytest.raises(ValueError, match=">= 1"):
        getattr(K, f"{kind}_backward")(*bargs)


def test_batch_norm_refuses_bad_eps_and_negative_variances():
    x = RNG.standard_normal((4, 3, 2, 2))
    mean, var = np.zeros(3), np.ones(3)
    for eps in (-1e-5, float("nan")):
        with pytest.raises(ValueError, match="eps must be >= 0"):
            K.batch_norm_forward(x, eps=eps)
        with pytest.raises(ValueError, match="eps must be >= 0"):
            K.batch_norm_backward(x, x, mean, var, eps=eps)
    bad = np.array([1.0, -0.5, 1.0])
    with pytest.raises(ValueError, match=r"running_var must be >= 0.*channel 1"):
        K.batch_norm_forward(x, running_mean=mean, running_var=bad, training=False)
    with pytest.raises(ValueError, match="var must be >= 0"):
        K.batch_norm_backward(x, x, mean, bad)
    with pytest.raises(TypeError, match="real-valued"):
        K.batch_norm_forward(x, running_mean=mean.astype(complex), running_var=var, training=False)
    # eps = 0 is PyTorch's too; a NaN statistic passes through as in PyTorch
    y, _, _ = K.batch_norm_forward(
        x, running_mean=mean, running_var=np.array([1, np.nan, 1.0]), training=False, eps=0.0
    )
    assert np.isnan(y[:, 1]).all() and np.isfinite(y[:, [0, 2]]).all()
    bn = minnet.nn.BatchNorm2d(3, eps=-1)
    with pytest.raises(ValueError, match="eps"):
        bn(minnet.tensor(x.astype(np.float32)))


def test_conv_backward_refuses_corrupt_pool_codes():
    x = RNG.standard_normal((2, 3, 6, 6)).astype(np.float32)
    w = RNG.standard_normal((4, 3, 3, 3)).astype(np.float32)
    p, code = K.conv2d_relu_maxpool2d_forward(x, w, None, padding=1)
    dy = np.ones_like(p)
    K.conv2d_backward(dy, x, w, padding=1, pool_code=code)  # the real code works
    bad = code.copy()
    bad.flat[5] = 255
    with pytest.raises(ValueError, match="pool_code holds 255 at flat index 5"):
        K.conv2d_backward(dy, x, w, padding=1, pool_code=bad)


@pytest.mark.parametrize("n", [10**6, 2**31 - 1, minnet._config.MAX_THREADS + 1])
def test_absurd_thread_counts_are_refused(n):
    old = minnet.get_num_threads()
    with pytest.raises(ValueError, match="between 1 and"):
        minnet.set_num_threads(n)
    assert minnet.get_num_threads() == old
    a = np.ones((8, 8), np.float32)
    np.testing.assert_array_equal(K.gemm(a, a), a @ a)  # and kernels still run


def test_an_absurd_omp_num_threads_is_capped():
    import os

    code = "import minnet; print(minnet.get_num_threads(), minnet._config.MAX_THREADS)"
    out = run_python("-c", code, env=dict(os.environ, OMP_NUM_THREADS="1000000"))
    n, cap = map(int, out.stdout.split())
    assert n == cap


def test_conv_scratch_left_by_a_non_finite_call_does_not_leak_into_the_next():
    """Found by tests/fuzz: the stride-1 direct path's weight gradient read a few elements of
    scratch past the padded image (against zero columns of dY); a NaN left there by an earlier
    call with an infinite weight turned into NaN gradients (0 * NaN)."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((2, 3, 6, 3)).astype(np.float32)
    w0 = rng.standard_normal((1, 3, 2, 2)).astype(np.float32)
    w0[0, 1, 1, 0] = np.inf
    x = rng.standard_normal((1, 3, 7, 4)).astype(np.float32)
    w = rng.standard_normal((2, 3, 3, 3)).astype(np.float32)
    dy = rng.standard_normal((1, 2, 5, 2)).astype(np.float32)
    want = reference.conv2d_backward(
        dy.astype(np.float64), x.astype(np.float64), w.astype(np.float64)
    )
    for _ in range(3):
        K.conv2d_forward(x0, w0, padding=1)  # leaves inf/NaN in the scratch
        got = K.conv2d_backward(dy, x, w)
        for g, r in zip(got, want):
            if r is not None:
                np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-5)


def test_eval_batch_norm_gradient_does_not_read_x():
    """Found by tests/fuzz: eval-mode dx = dy * weight / sqrt(var + eps) was computed as
    p*dy + 0*(x - mean), so a NaN in x leaked into dx (PyTorch's does not)."""
    rng = np.random.default_rng(0)
    x, dy = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 4))
    x[1, 0, 2] = np.nan
    mean, var, w = np.zeros(2), np.array([1.0, 4.0]), np.array([2.0, 3.0])
    for dt in (np.float32, np.float64):
        dx, _, _ = K.batch_norm_backward(
            dy.astype(dt), x.astype(dt), mean, var, w.astype(dt), training=False, eps=0.0
        )
        np.testing.assert_allclose(dx, dy * (w / np.sqrt(var))[None, :, None], rtol=1e-6)


@pytest.mark.parametrize("step", ["rmsprop_step", "adagrad_step", "sgd_step", "adam_step"])
def test_no_weight_decay_means_the_parameter_never_reaches_the_state(step):
    """Found by tests/fuzz: RMSprop added wd * p even for wd = 0, so an inf parameter made
    its square average NaN."""
    p = np.array([1.0, np.inf, 2.0], np.float32)
    g = np.array([0.5, 0.5, 0.5], np.float32)
    state = np.zeros(3, np.float32)
    kw = {
        "rmsprop_step": dict(lr=1e-2),
        "adagrad_step": dict(step=1, lr=1e-2),
        "sgd_step": dict(lr=0.1, momentum=0.9),
        "adam_step": dict(step=1),
    }[step]
    args = [p, g, state] + ([np.zeros(3, np.float32)] if step == "adam_step" else [])
    getattr(K, step)(*args, **kw)
    assert np.isfinite(state).all(), state
