"""Fused optimizer kernels (minnet.kernels.*_step) against the NumPy transcriptions of PyTorch's
algorithms in minnet.reference.optim, run for several steps with every option.

Tolerances after 4 steps (the kernels contract a * b + c into FMAs and order a few products
differently, each a rounding or two per step):
  float32: |kernel - ref| <= 2e-6 |ref| + 2e-6 * max|ref|
  float64: |kernel - ref| <= 1e-13 |ref| + 1e-13 * max|ref|
Every case also runs at 1 thread and must give the same bits at 2.
"""

import itertools

import numpy as np
import pytest

import minnet
from minnet import kernels, reference
from minnet._kernels import _runtime

ISAS = [
    name
    for name in _runtime.ISA_NAMES
    if _runtime.ISA_NAMES.index(name) <= _runtime.ISA_NAMES.index(_runtime.cpu_isa())
]
ISA_DTYPES = [(i, d) for i in ISAS for d in (np.float32, np.float64)]
SIZES = [0, 1, 17, 1000, 150_001]  # 150_001 > 2 x the per-thread grain (65536)
TOL = {np.float32: 2e-6, np.float64: 1e-13}
STEPS = 4


@pytest.fixture(params=ISA_DTYPES, ids=lambda p: f"{p[0]}-{np.dtype(p[1]).name}")
def dtype(request):
    _runtime.set_isa(request.param[0])
    yield request.param[1]
    _runtime.set_isa(None)


def _grid(**axes):
    keys = list(axes)
    return [dict(zip(keys, vals)) for vals in itertools.product(*axes.values())]


# (function, state arrays it takes positionally or by keyword, option table)
CASES = {
    "sgd_step": (
        ["momentum_buf"],
        [
            dict(lr=0.1),
            dict(lr=0.1, weight_decay=0.01, maximize=True),
            *_grid(
                lr=[0.05],
                momentum=[0.9],
                dampening=[0.0, 0.3],
                weight_decay=[0.0, 0.1],
                maximize=[False, True],
            ),
            *_grid(lr=[0.05], momentum=[0.5], nesterov=[True], weight_decay=[0.0, 0.1]),
        ],
    ),
    "adam_step": (
        ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
        _grid(
            lr=[1e-2],
            beta1=[0.9, 0.3],
            beta2=[0.999],
            eps=[1e-8],
            weight_decay=[0.0, 0.05],
            decoupled=[False, True],
            amsgrad=[False, True],
            maximize=[False, True],
        ),
    ),
    "rmsprop_step": (
        ["square_avg", "momentum_buf", "grad_avg"],
        [
            *_grid(
                lr=[1e-2],
                alpha=[0.99, 0.4],
                eps=[1e-8],
                weight_decay=[0.0, 0.1],
                momentum=[0.0, 0.9],
                centered=[False, True],
                maximize=[False, True],
            ),
            # Keras's sqrt(v + eps), with an eps large enough to matter
            *_grid(
                lr=[1e-2],
                alpha=[0.9],
                eps=[1e-2],
                weight_decay=[0.0, 0.1],
                momentum=[0.0, 0.9],
                centered=[False, True],
                eps_inside=[True],
            ),
        ],
    ),
    "adagrad_step": (
        ["state_sum"],
        [
            *_grid(
                lr=[0.1],
                lr_decay=[0.0, 0.01],
                weight_decay=[0.0, 0.1],
                eps=[1e-10],
                maximize=[False, True],
            ),
            *_grid(lr=[0.1], eps=[1e-2], weight_decay=[0.0, 0.1], eps_inside=[True]),
        ],
    ),
}


def _needs(name, state, opts):
    """Whether the step uses this state array with these options."""
    if state == "momentum_buf":
        return opts.get("momentum", 0) > 0
    if state == "max_exp_avg_sq":
        return opts.get("amsgrad", False)
    if state == "grad_avg":
        return opts.get("centered", False)
    return True


def _run(impl, name, p, grads, states, opts):
    """STEPS updates with impl (kernels or reference); returns param and states."""
    p = p.copy()
    states = {k: v.copy() for k, v in states.items()}
    fn = getattr(impl, name)
    for step, g in enumerate(grads, start=1):
        kw = dict(opts)
        if name in ("adam_step", "adagrad_step"):
            kw["step"] = step
        if name == "sgd_step":
            kw["first_step"] = step == 1
        if name == "sgd_step":
            fn(p, g, states.get("momentum_buf"), **kw)
        elif name == "adam_step":
            fn(
                p,
                g,
                states["exp_avg"],
                states["exp_avg_sq"],
                max_exp_avg_sq=states.get("max_exp_avg_sq"),
                **kw,
            )
        elif name == "rmsprop_step":
            fn(
                p,
                g,
                states["square_avg"],
                momentum_buf=states.get("momentum_buf"),
                grad_avg=states.get("grad_avg"),
                **kw,
            )
        else:
            fn(p, g, states["state_sum"], **kw)
    return p, states


def _close(got, want, dtype, what):
    tol = TOL[dtype]
    w = want.astype(np.float64)
    bound = tol * np.abs(w) + tol * np.max(np.abs(w), initial=0)
    err = np.abs(got.astype(np.float64) - w)
    assert got.dtype == dtype
    if not np.all(err <= bound):
        i = int(np.argmax(err - bound))
        raise AssertionError(f"{what}: at {i} got {got[i]!r}, expected {want[i]!r}")


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", list(CASES))
def test_step_matches_reference(name, n, dtype):
    state_names, options = CASES[name]
    rng = np.random.default_rng(len(name) * 1000 + n)
    if n > 10_000:  # every option at small sizes; a staggered sixth at the large one
        options = options[len(options) % 6 :: 6]
    for opts in options:
        p = rng.standard_normal(n).astype(dtype)
        grads = [rng.standard_normal(n).astype(dtype) for _ in range(STEPS)]
        # PyTorch starts these at zeros (Adagrad at initial_accumulator_value; use 0.1)
        states = {
            s: (np.full(n, 0.1, dtype) if s == "state_sum" else np.zeros(n, dtype))
            for s in state_names
            if _needs(name, s, opts)
        }
        want_p, want_s = _run(reference, name, p, grads, states, opts)
        with minnet.threads(1):
            got1, s1 = _run(kernels, name, p, grads, states, opts)
        with minnet.threads(2):
            got_p, got_s = _run(kernels, name, p, grads, states, opts)
        assert np.array_equal(got1, got_p), f"{name} {opts}: 1 and 2 threads differ"
        _close(got_p, want_p, dtype, f"{name} {opts} param")
        for s in states:
            assert np.array_equal(s1[s], got_s[s])
            _close(got_s[s], want_s[s], dtype, f"{name} {opts} {s}")


def test_eps_inside_is_inside_the_square_root():
    # independent of the reference: zero state, g = 2, eps = 5 -> d = sqrt(4 + 5) = 3
    g = np.full(3, 2.0)
    p = np.zeros(3)
    kernels.adagrad_step(p, g, np.zeros(3), step=1, lr=1.0, eps=5.0, eps_inside=True)
    np.testing.assert_allclose(p, -2.0 / 3.0, rtol=1e-15)
    p, sq = np.zeros(3), np.zeros(3)  # v = (1 - 0.75) * 4 = 1 -> d = sqrt(1 + 8) = 3
    kernels.rmsprop_step(p, g, sq, lr=1.0, alpha=0.75, eps=8.0, eps_inside=True)
    np.testing.assert_allclose(p, -2.0 / 3.0, rtol=1e-15)


def test_adam_first_step_moves_by_lr_times_sign():
    # independent of the reference: with zero state, step 1 is lr * g / (|g| + eps')
    g = np.array([3.0, -0.5, 1e-3, -20.0])
    p = np.zeros(4)
    kernels.adam_step(p, g, np.zeros(4), np.zeros(4), step=1, lr=0.01, eps=1e-15)
    np.testing.assert_allclose(p, -0.01 * np.sign(g), rtol=1e-9)


def test_sgd_momentum_first_step_clones_the_gradient():
    g = np.array([1.0, -2.0, 3.0])
    p = np.zeros(3)
    buf = np.full(3, 99.0)  # garbage: first_step must not read it
    kernels.sgd_step(p, g, buf, lr=0.5, momentum=0.9, dampening=0.5, first_step=True)
    np.testing.assert_array_equal(buf, g)
    np.testing.assert_array_equal(p, -0.5 * g)
    kernels.sgd_step(p, g, buf, lr=0.5, momentum=0.9, dampening=0.5)
    np.testing.assert_allclose(buf, 0.9 * g + 0.5 * g)


def test_adagrad_and_rmsprop_by_hand():
    p = np.array([1.0, 2.0])
    g = np.array([0.5, -1.0])
    s = np.zeros(2)
    kernels.adagrad_step(p, g, s, step=3, lr=0.1, lr_decay=0.5, eps=0.0)
    np.testing.assert_allclose(p, [1.0, 2.0] - 0.1 / 2.0 * np.sign(g), rtol=1e-14)
    p = np.array([1.0, 2.0])
    sq = np.zeros(2)
    kernels.rmsprop_step(p, g, sq, lr=0.1, alpha=0.75, eps=0.0)
    np.testing.assert_allclose(sq, 0.25 * g * g, rtol=1e-14)
    np.testing.assert_allclose(p, [1.0, 2.0] - 0.1 * g / np.sqrt(0.25 * g * g), rtol=1e-14)


def test_noncontiguous_and_aliased_grad():
    p = np.ones(8)
    g = np.arange(16.0)[::2]
    m, v = np.zeros(8), np.zeros(8)
    want = reference.adam_step(p.copy(), g.copy(), m.copy(), v.copy(), step=1)
    np.testing.assert_allclose(kernels.adam_step(p, g, m, v, step=1), want, rtol=1e-14)
    # grad that IS param (a silly but legal call) is copied before the update
    p = np.ones(5)
    kernels.sgd_step(p, p, lr=0.5)
    np.testing.assert_array_equal(p, 0.5)


@pytest.mark.parametrize(
    "call,exc,pattern",
    [
        (
            lambda: kernels.sgd_step([1.0], np.ones(1), lr=0.1),
            TypeError,
            "sgd_step: param must be a numpy.ndarray, got list",
        ),
        (
            lambda: kernels.sgd_step(np.ones(3, np.int64), np.ones(3), lr=0.1),
            TypeError,
            "param must be float32 or float64",
        ),
        (
            lambda: kernels.sgd_step(np.ones(6)[::2], np.ones(3), lr=0.1),
            ValueError,
            "param must be C-contiguous and writeable",
        ),
        (
            lambda: kernels.sgd_step(np.ones(3), np.ones(4), lr=0.1),
            ValueError,
            r"grad must have the shape of param \(3,\), got \(4,\)",
        ),
        (
            lambda: kernels.sgd_step(np.ones(3), np.ones(3, np.float32), lr=0.1),
            TypeError,
            r"grad must have the dtype of param \(float64\), got float32",
        ),
        (
            lambda: kernels.sgd_step(np.ones(3), np.ones(3), lr=0.1, momentum=0.9),
            ValueError,
            "momentum=0.9 needs momentum_buf",
        ),
        (
            lambda: kernels.sgd_step(np.ones(3), np.ones(3), np.ones(2), lr=0.1, momentum=0.9),
            ValueError,
            r"momentum_buf must have the shape of param \(3,\), got \(2,\)",
        ),
        (
            lambda: kernels.sgd_step(np.ones(3), np.ones(3), lr=0.1, nesterov=True),
            ValueError,
            "nesterov needs momentum > 0 and dampening == 0",
        ),
        (lambda: kernels.sgd_step(np.ones(3), np.ones(3), lr=-1.0), ValueError, "lr must be >= 0"),
        (
            lambda: kernels.adam_step(np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), step=0),
            ValueError,
            "step must be >= 1",
        ),
        (
            lambda: kernels.adam_step(
                np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), step=1, beta1=1.0
            ),
            ValueError,
            r"betas must be in \[0, 1\)",
        ),
        (
            lambda: kernels.adam_step(
                np.ones(3), np.ones(3), np.zeros(3), np.zeros(3), step=1, amsgrad=True
            ),
            ValueError,
            "amsgrad=True needs max_exp_avg_sq",
        ),
        (
            lambda: kernels.adam_step(
                np.ones(3), np.ones(3), np.zeros(3, np.float32), np.zeros(3), step=1
            ),
            TypeError,
            r"exp_avg must have the dtype of param \(float64\), got float32",
        ),
        (
            lambda: (lambda m: kernels.adam_step(np.ones(3), np.ones(3), m, m, step=1))(
                np.zeros(3)
            ),
            ValueError,
            "exp_avg and exp_avg_sq share memory",
        ),
        (
            lambda: kernels.rmsprop_step(np.ones(3), np.ones(3), np.zeros(3), centered=True),
            ValueError,
            "centered=True needs grad_avg",
        ),
        (
            lambda: kernels.adagrad_step(np.ones(3), np.ones(3), np.zeros((3, 1)), step=1),
            ValueError,
            r"state_sum must have the shape of param \(3,\), got \(3, 1\)",
        ),
    ],
)
def test_bad_input_raises_naming_argument_and_shapes(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


# ---- multi-tensor forms ----------------------------------------------------------------------
MULTI_STATES = {  # rule -> the multi form's state-list argument names, in the single's order
    "sgd_step": {"momentum_buf": "momentum_bufs"},
    "adam_step": {
        "exp_avg": "exp_avgs",
        "exp_avg_sq": "exp_avg_sqs",
        "max_exp_avg_sq": "max_exp_avg_sqs",
    },
    "rmsprop_step": {
        "square_avg": "square_avgs",
        "momentum_buf": "momentum_bufs",
        "grad_avg": "grad_avgs",
    },
    "adagrad_step": {"state_sum": "state_sums"},
}
MULTI_SIZES = [17, 0, 1, 1000, 3]
# mixed dtypes in one call: each tensor runs the kernel of its own dtype
MULTI_DTYPES = [np.float32, np.float64, np.float32, np.float32, np.float64]


def _multi_run(impl, name, ps, grads, states, opts, steps0):
    """STEPS multi-tensor updates; tensor i's step count starts after steps0[i] (a parameter
    that joined later, as in an optimizer whose params got gradients at different times)."""
    ps = [p.copy() for p in ps]
    states = [{k: v.copy() for k, v in s.items()} for s in states]
    fn = getattr(impl, name + "_multi")
    for t in range(STEPS):
        kw = dict(opts)
        if name in ("adam_step", "adagrad_step"):
            kw["steps"] = [s0 + t + 1 for s0 in steps0]
        if name == "sgd_step":
            kw["first_steps"] = [t == 0] * len(ps)
        for state, arg in MULTI_STATES[name].items():
            if all(state in s for s in states):
                kw[arg] = [s[state] for s in states]
        gs = [g[t] for g in grads]
        if name == "sgd_step":
            fn(ps, gs, kw.pop("momentum_bufs", None), **kw)
        elif name == "adam_step":
            fn(ps, gs, kw.pop("exp_avgs"), kw.pop("exp_avg_sqs"), **kw)
        elif name == "rmsprop_step":
            fn(ps, gs, kw.pop("square_avgs"), **kw)
        else:
            fn(ps, gs, kw.pop("state_sums"), **kw)
    return ps, states


def _single_run(name, ps, grads, states, opts, steps0):
    """The same updates through the single-tensor kernel, tensor by tensor."""
    out_p, out_s = [], []
    for p, g, s, s0 in zip(ps, grads, states, steps0):
        p, s = p.copy(), {k: v.copy() for k, v in s.items()}
        fn = getattr(kernels, name)
        for t in range(STEPS):
            kw = dict(opts)
            if name in ("adam_step", "adagrad_step"):
                kw["step"] = s0 + t + 1
            if name == "sgd_step":
                fn(p, g[t], s.get("momentum_buf"), first_step=t == 0, **kw)
            elif name == "adam_step":
                fn(
                    p,
                    g[t],
                    s["exp_avg"],
                    s["exp_avg_sq"],
                    max_exp_avg_sq=s.get("max_exp_avg_sq"),
                    **kw,
                )
            elif name == "rmsprop_step":
                fn(
                    p,
                    g[t],
                    s["square_avg"],
                    momentum_buf=s.get("momentum_buf"),
                    grad_avg=s.get("grad_avg"),
                    **kw,
                )
            else:
                fn(p, g[t], s["state_sum"], **kw)
        out_p.append(p)
        out_s.append(s)
    return out_p, out_s


@pytest.mark.parametrize("name", list(CASES))
def test_multi_step_is_the_single_step_per_tensor(name):
    state_names, options = CASES[name]
    rng = np.random.default_rng(7)
    steps0 = [0, 3, 0, 1, 10]
    for opts in options[::3]:
        ps = [rng.standard_normal(n).astype(d) for n, d in zip(MULTI_SIZES, MULTI_DTYPES)]
        grads = [
            [rng.standard_normal(n).astype(d) for _ in range(STEPS)]
            for n, d in zip(MULTI_SIZES, MULTI_DTYPES)
        ]
        states = [
            {
                s: (np.full(n, 0.1, d) if s == "state_sum" else np.zeros(n, d))
                for s in state_names
                if _needs(name, s, opts)
            }
            for n, d in zip(MULTI_SIZES, MULTI_DTYPES)
        ]
        with minnet.threads(2):
            got_p, got_s = _multi_run(kernels, name, ps, grads, states, opts, steps0)
            one_p, one_s = _single_run(name, ps, grads, states, opts, steps0)
        ref_p, ref_s = _multi_run(reference, name, ps, grads, states, opts, steps0)
        for i in range(len(ps)):
            assert np.array_equal(got_p[i], one_p[i]), f"{name} {opts} tensor {i}"
            _close(got_p[i], ref_p[i], MULTI_DTYPES[i], f"{name} {opts} tensor {i}")
            for s in got_s[i]:
                assert np.array_equal(got_s[i][s], one_s[i][s])
                _close(got_s[i][s], ref_s[i][s], MULTI_DTYPES[i], f"{name} {opts} {i} {s}")


def test_multi_step_of_no_tensors_is_a_no_op():
    assert kernels.adam_step_multi([], [], [], [], steps=[]) == []
    assert kernels.sgd_step_multi([], [], lr=0.1) == []


_P = [np.zeros(3, np.float32), np.zeros(2, np.float32)]


def _z():
    return [z.copy() for z in _P]


@pytest.mark.parametrize(
    "call,exc,pattern",
    [
        (
            lambda: kernels.sgd_step_multi(_P, _P[:1], lr=0.1),
            ValueError,
            r"grads has 1 entries, params has 2",
        ),
        (
            lambda: kernels.adam_step_multi(_P, _P, _z(), _z(), steps=[1]),
            ValueError,
            r"steps has 1 entries",
        ),
        (
            lambda: kernels.adam_step_multi(_P, _P, _z(), _z(), steps=[1, 0]),
            ValueError,
            r"adam_step_multi: tensor 1: step must be >= 1",
        ),
        (
            lambda: kernels.adagrad_step_multi(
                _P, [_P[0], np.zeros(3, np.float32)], [z.copy() for z in _P], steps=[1, 1]
            ),
            ValueError,
            r"adagrad_step_multi: tensor 1: grad must have the shape of param \(2,\), got \(3,\)",
        ),
        (
            lambda: kernels.sgd_step_multi(_P, _P, lr=0.1, momentum=0.9),
            ValueError,
            r"sgd_step_multi: tensor 0: momentum=0.9 needs momentum_buf",
        ),
        (
            lambda: kernels.rmsprop_step_multi(_P, _P, [_P[0].copy(), None]),
            TypeError,
            r"rmsprop_step_multi: tensor 1: square_avg must be a numpy.ndarray, got NoneType",
        ),
        (
            lambda: kernels.adam_step_multi(
                [_P[0], _P[1].astype(np.float64)],
                _P,
                [z.copy() for z in _P],
                [z.copy() for z in _P],
                steps=[1, 1],
            ),
            TypeError,
            r"tensor 1: exp_avg must have the dtype of param \(float64\)",
        ),
        (
            lambda: kernels.sgd_step_multi(_P, _P, lr=-1.0),
            ValueError,
            r"sgd_step_multi: lr must be >= 0",
        ),
        (
            lambda: kernels.adam_step_multi(
                [_P[0], _P[0]], _P, [_P[0], _P[0]], [z.copy() for z in _P], steps=[1, 1]
            ),
            ValueError,
            r"tensor 0: param and exp_avg share memory",
        ),
    ],
)
def test_multi_step_bad_input(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
