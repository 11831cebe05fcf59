"""minnet.kernels' eltwise family (activations, softmax, cross-entropy, BCE-with-logits) against
the NumPy references in minnet.reference, which are themselves checked by finite differences.

Tolerances (the reference is computed in float64 and rounded once):
  float32: |kernel - ref| <= 4e-6 |ref| + 1e-6 * scale   (the float exp/log/erfc helpers are
           ~1-2 ulp; a derivative that cancels, e.g. GELU's Phi(x) + x phi(x) near x = -0.75,
           keeps an absolute error of a few ulps of its terms, hence the absolute part)
  float64: |kernel - ref| <= 1e-12 |ref| + 1e-13 * scale
where scale is the magnitude of the terms (1 for activations, the incoming gradient's size
for backward functions). Sizes run from 0 to ~100k elements, past the point where the kernels
go parallel; every case also runs at 1 thread and must give the same bits at 2.
"""

import numpy as np
import pytest
from tests_helpers_kernels import at_1_and_2_threads

from minnet import kernels, reference
from minnet._kernels import _runtime
from minnet.testing import numerical_grad

ISAS = [
    name
    for name in _runtime.ISA_NAMES
    if _runtime.ISA_NAMES.index(name) <= _runtime.ISA_NAMES.index(_runtime.cpu_isa())
]
# every activation code the C enum has (eltwise.pyx asserts its table is complete)
KINDS = list(kernels.ACT_BACKWARD_INPUT)
SIZES = [0, 1, 7, 33, 1000, 100_003]  # 100_003 > 2 x the largest per-thread grain
TOL = {np.float32: (4e-6, 1e-6), np.float64: (1e-12, 1e-13)}
ALPHAS = {"leaky_relu": [None, 0.2], "elu": [None, 0.5]}


# float32 loops are compiled per ISA; float64 ones once (libm, not vectorised): run float64
# at the default level only.
ISA_DTYPES = [(i, np.float32) for i in ISAS] + [(ISAS[-1], np.float64)]


@pytest.fixture(params=ISA_DTYPES, ids=lambda p: f"{p[0]}-{np.dtype(p[1]).name}")
def dtype(request):
    _runtime.set_isa(request.param[0])
    yield request.param[1]
    _runtime.set_isa(None)


def _subset(options, size, every=5):
    """All options for small cases, every `every`-th (staggered) for large ones: each option
    still meets large sizes across the table, and the file stays fast."""
    return options if size <= 10_000 else options[size % every :: every]


def assert_close(got, want, dtype, scale=1.0, what=""):
    rtol, atol = TOL[dtype]
    assert got.dtype == dtype, f"{what}: dtype {got.dtype}, expected {dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    g = got.astype(np.float64)
    w = np.asarray(want, dtype=np.float64)
    tol = rtol * np.abs(w) + atol * np.asarray(scale)
    err = np.abs(g - w)
    bad = ~(err <= tol) & ~(np.isnan(g) & np.isnan(w))
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(bad, err - tol, -np.inf)), err.shape)
        raise AssertionError(
            f"{what}: at {i} got {g[i]!r}, expected {w[i]!r} "
            f"(tol {np.broadcast_to(tol, err.shape)[i]:.3g}); "
            f"{int(bad.sum())} of {bad.size} outside"
        )


def run_both_thread_counts(fn):
    """fn() at 1 and at 2 threads: the results must be bitwise equal; returns the 2-thread one."""
    one, two = at_1_and_2_threads(fn)
    for a, b in zip(
        one if isinstance(one, tuple) else (one,), two if isinstance(two, tuple) else (two,)
    ):
        assert np.array_equal(a, b, equal_nan=True), "1 thread and 2 threads differ"
    return two


def _inputs(rng, n, dtype):
    x = rng.standard_normal(n) * 3.0
    special = [0.0, -0.0, 1e-8, -1e-8, 0.5, -0.75, 5.0, -5.0, 15.0, -15.0, 60.0, -60.0]
    k = min(n, len(special))
    x[:k] = special[:k]
    return x.astype(dtype), rng.standard_normal(n).astype(dtype)


# ---- activations ---------------------------------------------------------------------------


@pytest.mark.parametrize("n", SIZES)
def test_activations_match_reference(n, dtype):
    rng = np.random.default_rng(1000 + n)
    x, g = _inputs(rng, n, dtype)
    for kind in KINDS:
        for alpha in ALPHAS.get(kind, [None]):
            y = run_both_thread_counts(lambda: kernels.act_forward(x, kind, alpha=alpha))
            assert_close(
                y, reference.act_forward(x, kind, alpha=alpha), dtype, what=f"{kind} forward"
            )
            saved = y if kernels.ACT_BACKWARD_INPUT[kind] == "y" else x
            d = run_both_thread_counts(lambda: kernels.act_backward(g, saved, kind, alpha=alpha))
            assert_close(
                d,
                reference.act_backward(g, saved, kind, alpha=alpha),
                dtype,
                scale=np.abs(g),
                what=f"{kind} backward",
            )


@pytest.mark.parametrize("kind", KINDS)
def test_activation_shapes_out_and_inplace(kind):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    y = kernels.act_forward(x, kind)
    assert y.shape == x.shape and y is not x
    out = np.empty_like(x)
    assert kernels.act_forward(x, kind, out=out) is out
    np.testing.assert_array_equal(out, y)
    # non-contiguous input is copied, result is C-contiguous
    xt = x.transpose(2, 0, 1)
    np.testing.assert_array_equal(kernels.act_forward(xt, kind), y.transpose(2, 0, 1))
    # in place, forward and backward
    z = x.copy()
    assert kernels.act_forward(z, kind, out=z) is z
    np.testing.assert_array_equal(z, y)
    g = rng.standard_normal(x.shape).astype(np.float32)
    saved = y if kernels.ACT_BACKWARD_INPUT[kind] == "y" else x
    d = kernels.act_backward(g, saved, kind)
    g2 = g.copy()
    assert kernels.act_backward(g2, saved, kind, out=g2) is g2
    np.testing.assert_array_equal(g2, d)
    # 0-d arrays are one element
    assert kernels.act_forward(np.full((), 0.5), kind).shape == ()


def test_reference_knows_every_kernel_activation():
    assert reference.ACT_BACKWARD_INPUT == kernels.ACT_BACKWARD_INPUT


def test_silu_at_infinities_and_zero(dtype):
    x = np.array([-np.inf, np.inf, 0.0, np.nan], dtype=dtype)
    y = kernels.act_forward(x, "silu")
    assert np.isnan(y[0]) and y[1] == np.inf and y[2] == 0 and np.isnan(y[3])  # as PyTorch
    d = kernels.act_backward(np.ones_like(x), x, "silu")
    assert d[2] == 0.5  # sigmoid(0) (1 + 0)


def test_relu_and_leaky_relu_edge_semantics():
    x = np.array([-1.0, -0.0, 0.0, 2.0, np.nan], dtype=np.float32)
    g = np.ones_like(x)
    y = kernels.act_forward(x, "relu")
    assert np.isnan(y[4]) and list(y[:4]) == [0, 0, 0, 2]  # NaN propagates
    assert list(kernels.act_backward(g, x, "relu")[:4]) == [0, 0, 0, 1]  # x <= 0 -> 0
    assert list(kernels.act_backward(g, x, "leaky_relu", alpha=0.1)[:4]) == pytest.approx(
        [0.1, 0.1, 0.1, 1]
    )


@pytest.mark.parametrize("kind", KINDS)
def test_activation_references_against_finite_differences(kind):
    rng = np.random.default_rng(11)
    x = rng.uniform(-4, 4, 64)
    x = x[np.abs(x) > 1e-3]  # away from the kinks at 0
    g = rng.standard_normal(x.size)
    for alpha in ALPHAS.get(kind, [None]):
        h = 1e-6
        fd = (
            g
            * (
                reference.act_forward(x + h, kind, alpha=alpha)
                - reference.act_forward(x - h, kind, alpha=alpha)
            )
            / (2 * h)
        )
        saved = (
            reference.act_forward(x, kind, alpha=alpha)
            if reference.ACT_BACKWARD_INPUT[kind] == "y"
            else x
        )
        np.testing.assert_allclose(
            reference.act_backward(g, saved, kind, alpha=alpha), fd, rtol=1e-6, atol=1e-8
        )


def test_activations_stable_at_extremes(dtype):
    x = np.array([-1e4, -100.0, -88.0, 88.0, 100.0, 1e4, -3e38, 3e38], dtype=dtype)
    g = np.ones_like(x)
    for kind in KINDS:
        y = kernels.act_forward(x, kind)
        assert np.all(np.isfinite(y)), (kind, y)
        saved = y if kernels.ACT_BACKWARD_INPUT[kind] == "y" else x
        d = kernels.act_backward(g, saved, kind)
        if kind != "gelu_tanh":  # its x^3 overflows at 3e38, as PyTorch's does
            assert np.all(np.isfinite(d)), (kind, d)
    s = kernels.act_forward(np.array([-1e4, 1e4], dtype=dtype), "sigmoid")
    assert s[0] >= 0 and s[0] < 1e-30 and s[1] == 1
    t = kernels.act_forward(np.array([-1e4, 1e4], dtype=dtype), "tanh")
    assert list(t) == [-1, 1]


# ---- softmax -------------------------------------------------------------------------------

SOFTMAX_SHAPES = [
    (0, 5),
    (4, 0),
    (1,),
    (1, 1),
    (7,),
    (3, 10),
    (2, 3, 17),
    (33, 129),
    (1000, 100),
    (3, 20000),
]


@pytest.mark.parametrize("shape", SOFTMAX_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_softmax_matches_reference(shape, dtype):
    rng = np.random.default_rng(sum(shape) + 5)
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    for log in (False, True):
        y = run_both_thread_counts(lambda: kernels.softmax(x, log=log))
        want = reference.softmax(x, log=log)
        # log_softmax = (x - max) - log(sum): cancels to ~|terms| ulps when the result is small
        assert_close(y, want, dtype, scale=1 + np.abs(want), what=f"softmax log={log}")
        d = run_both_thread_counts(lambda: kernels.softmax_backward(g, y, log=log))
        c = shape[-1] if shape else 1
        assert_close(
            d,
            reference.softmax_backward(g, y, log=log),
            dtype,
            scale=np.sqrt(c) * (np.abs(g) + 1),
            what=f"softmax backward log={log}",
        )


def test_softmax_out_inplace_and_noncontiguous():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 9))
    y = kernels.softmax(x)
    z = x.copy()
    assert kernels.softmax(z, out=z) is z
    np.testing.assert_array_equal(z, y)
    np.testing.assert_allclose(kernels.softmax(x.T), reference.softmax(x.T), rtol=1e-12)


@pytest.mark.parametrize("log", [False, True])
def test_softmax_reference_against_finite_differences(log):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 6))
    g = rng.standard_normal((3, 6))
    y = reference.softmax(x, log=log)
    fd = numerical_grad(lambda: float((g * reference.softmax(x, log=log)).sum()), x)
    np.testing.assert_allclose(reference.softmax_backward(g, y, log=log), fd, rtol=1e-6, atol=1e-9)


def test_softmax_stable_at_extremes(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [3e4, 3e4, 1e4]], dtype=dtype)
    y = kernels.softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=1), 1, rtol=1e-6)
    np.testing.assert_array_equal(y[0], [1, 0, 0])
    ly = kernels.softmax(x, log=True)
    assert np.all(np.isfinite(ly))
    np.testing.assert_array_equal(ly[0], [0, -2e4, -1e4])


# ---- cross-entropy -------------------------------------------------------------------------

XENT_SHAPES = [(0, 5), (1, 1), (1, 10), (7, 3), (33, 17), (128, 10), (2000, 37), (3, 5000)]
XENT_OPTIONS = [
    dict(reduction=r, label_smoothing=ls, weighted=w, ignore=ig)
    for r in ("mean", "sum", "none")
    for ls in (0.0, 0.1, 1.0)
    for w in (False, True)
    for ig in ("none", "-100", "class0")
]


def _xent_case(rng, n, c, dtype, opt):
    x = (rng.standard_normal((n, c)) * 4).astype(dtype)
    t = rng.integers(0, c, n) if c else np.zeros(n, np.int64)
    ignore_index = -100
    if opt["ignore"] == "-100" and n > 1:
        t[::3] = -100
    elif opt["ignore"] == "class0":
        ignore_index = 0
    w = rng.uniform(0.1, 2.0, c).astype(dtype) if opt["weighted"] else None
    kw = dict(
        weight=w,
        ignore_index=ignore_index,
        label_smoothing=opt["label_smoothing"],
        reduction=opt["reduction"],
    )
    g = rng.standard_normal(n).astype(dtype) if opt["reduction"] == "none" else 0.7
    return x, t, kw, g


@pytest.mark.parametrize("shape", XENT_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_cross_entropy_matches_reference(shape, dtype):
    n, c = shape
    rng = np.random.default_rng(n * 7919 + c)
    for opt in _subset(XENT_OPTIONS, n * c):
        x, t, kw, g = _xent_case(rng, n, c, dtype, opt)
        what = f"cross_entropy {opt}"
        loss, lse = run_both_thread_counts(lambda: kernels.cross_entropy_forward(x, t, **kw))
        want, want_lse = reference.cross_entropy_forward(x, t, **kw)
        assert lse.dtype == np.float64 and lse.shape == (n,)
        assert_close(
            lse.astype(dtype),
            want_lse.astype(dtype),
            dtype,
            scale=np.abs(x).max(initial=1),
            what=what + " lse",
        )
        assert_close(loss, want, dtype, scale=np.log(max(c, 2)) * 4, what=what + " loss")
        d = run_both_thread_counts(lambda: kernels.cross_entropy_backward(g, x, t, lse, **kw))
        want_d = reference.cross_entropy_backward(g, x, t, want_lse, **kw)
        assert_close(d, want_d, dtype, scale=np.max(np.abs(g), initial=1), what=what + " grad")
        keep = t != kw["ignore_index"]
        assert np.all(d[~keep] == 0)


def test_cross_entropy_semantics_by_hand():
    # PyTorch: weighted mean divides by the sum of the weights of the targets not ignored
    x = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5], [1.0, 2.0, 3.0]])
    t = np.array([0, -100, 2])
    w = np.array([2.0, 1.0, 0.5])
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    nll = np.array([-2.0 * logp[0, 0], 0.0, -0.5 * logp[2, 2]])
    loss, _ = kernels.cross_entropy_forward(x, t, weight=w)
    assert float(loss) == pytest.approx(nll.sum() / 2.5, rel=1e-14)
    # label smoothing eps: (1 - eps) nll + eps / C * sum_c w_c (-logp_c), same denominator
    eps = 0.2
    smooth = -(logp * w).sum(1)
    expect = ((1 - eps) * nll.sum() + eps / 3 * (smooth[0] + smooth[2])) / 2.5
    loss, _ = kernels.cross_entropy_forward(x, t, weight=w, label_smoothing=eps)
    assert float(loss) == pytest.approx(expect, rel=1e-14)
    # everything ignored: mean is 0/0 = NaN and the gradient is 0
    loss, lse = kernels.cross_entropy_forward(x, np.full(3, -100))
    assert np.isnan(loss)
    assert np.all(kernels.cross_entropy_backward(1.0, x, np.full(3, -100), lse) == 0)
    # empty batch: 'sum' is 0
    loss, _ = kernels.cross_entropy_forward(
        np.zeros((0, 4)), np.zeros(0, np.int64), reduction="sum"
    )
    assert float(loss) == 0


@pytest.mark.parametrize(
    "opt",
    [
        dict(reduction=r, label_smoothing=ls, weighted=w, ignore="-100")
        for r in ("mean", "sum", "none")
        for ls in (0.0, 0.3)
        for w in (False, True)
    ],
    ids=str,
)
def test_cross_entropy_reference_against_finite_differences(opt):
    rng = np.random.default_rng(13)
    x, t, kw, g = _xent_case(rng, 5, 4, np.float64, opt)

    def loss():
        per, _ = reference.cross_entropy_forward(x, t, **kw)
        return float((np.asarray(g) * per).sum())

    fd = numerical_grad(loss, x)
    _, lse = reference.cross_entropy_forward(x, t, **kw)
    np.testing.assert_allclose(
        reference.cross_entropy_backward(g, x, t, lse, **kw), fd, rtol=1e-6, atol=1e-8
    )  # ~1e-16 * |loss| / h of FD noise


def test_cross_entropy_stable_at_extremes(dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4], [0.0, 0.0, 0.0]], dtype=dtype)
    t = np.array([1, 0, 2])
    for ls in (0.0, 0.1):
        loss, lse = kernels.cross_entropy_forward(x, t, label_smoothing=ls, reduction="none")
        assert np.all(np.isfinite(loss)) and np.all(np.isfinite(lse))
        if ls == 0:
            np.testing.assert_allclose(loss, [2e4, 2e4 + np.log(2), np.log(3)], rtol=1e-6)
        d = kernels.cross_entropy_backward(
            np.ones(3, dtype), x, t, lse, label_smoothing=ls, reduction="none"
        )
        assert np.all(np.isfinite(d))
        np.testing.assert_allclose(d.sum(axis=1), 0, atol=1e-6)
    # float32 logits ~1e4 apart by 0.5: the float64 lse keeps the probabilities accurate
    x = np.array([[1e4, 1e4 - 0.5]], dtype=np.float32)
    _, lse = kernels.cross_entropy_forward(x, np.array([0]))
    d = kernels.cross_entropy_backward(1.0, x, np.array([0]), lse)
    p = 1 / (1 + np.exp(-0.5))
    np.testing.assert_allclose(d[0], [p - 1, 1 - p], rtol=1e-6)


# ---- BCE with logits -----------------------------------------------------------------------

BCE_SHAPES = [(0,), (1,), (7,), (5, 3), (64, 10), (100_003,), (300, 333)]


@pytest.mark.parametrize("shape", BCE_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_bce_with_logits_matches_reference(shape, dtype):
    rng = np.random.default_rng(sum(shape) + 17)
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    t = rng.uniform(0, 1, shape).astype(dtype)
    c = shape[-1]
    options = [
        (r, w, p) for r in ("mean", "sum", "none") for w in (False, True) for p in (False, True)
    ]
    for reduction, weighted, pos in _subset(options, x.size, every=3):
        w = rng.uniform(0.5, 2, shape).astype(dtype) if weighted else None
        pw = rng.uniform(0.5, 3, c).astype(dtype) if pos else None
        kw = dict(weight=w, pos_weight=pw, reduction=reduction)
        what = f"bce {reduction} weight={weighted} pos_weight={pos}"
        loss = run_both_thread_counts(lambda: kernels.bce_with_logits_forward(x, t, **kw))
        want = reference.bce_with_logits_forward(x, t, **kw)
        # PyTorch's form (1 - t) x + lw (softplus(-x)) cancels for x << 0: the error
        # is a few ulps of its terms' size w (1 + pw) (1 + |x|), reduced like the loss
        terms = (1 if w is None else w) * (2 if pw is None else 1 + pw) * (1 + np.abs(x))
        scale = {"none": terms, "sum": terms.sum(), "mean": terms.mean() if terms.size else 1}
        assert_close(loss, want, dtype, scale=scale[reduction], what=what)
        g = rng.standard_normal(shape).astype(dtype) if reduction == "none" else 1.5
        d = run_both_thread_counts(lambda: kernels.bce_with_logits_backward(g, x, t, **kw))
        assert_close(
            d,
            reference.bce_with_logits_backward(g, x, t, **kw),
            dtype,
            scale=6 * np.max(np.abs(g), initial=1),
            what=what + " grad",
        )


def test_bce_reference_against_finite_differences():
    rng = np.random.default_rng(19)
    x = rng.standard_normal((4, 3)) * 2
    t = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (4, 3))
    pw = np.array([0.5, 1.0, 3.0])
    for reduction in ("mean", "sum", "none"):
        g = rng.standard_normal((4, 3)) if reduction == "none" else 0.7
        kw = dict(weight=w, pos_weight=pw, reduction=reduction)
        fd = numerical_grad(
            lambda: float((np.asarray(g) * reference.bce_with_logits_forward(x, t, **kw)).sum()), x
        )
        np.testing.assert_allclose(
            reference.bce_with_logits_backward(g, x, t, **kw), fd, rtol=1e-6, atol=1e-9
        )


def test_bce_stable_at_saturation(dtype):
    x = np.array([1e4, -1e4, 1e4, -1e4, 100.0, -100.0], dtype=dtype)
    t = np.array([1, 0, 0, 1, 1, 0], dtype=dtype)
    loss = kernels.bce_with_logits_forward(x, t, reduction="none")
    assert np.all(np.isfinite(loss))
    np.testing.assert_allclose(loss, [0, 0, 1e4, 1e4, 0, 0], atol=1e-30)
    d = kernels.bce_with_logits_backward(np.ones_like(x), x, t, reduction="none")
    np.testing.assert_allclose(d, [0, 0, 1, -1, 0, 0], atol=1e-30)


# ---- bad input -----------------------------------------------------------------------------


def test_target_out_of_range_is_reported_before_the_kernel():
    x = np.zeros((3, 10), np.float32)
    with pytest.raises(ValueError, match=r"^cross_entropy: target 10 out of range \[0, 10\)$"):
        kernels.cross_entropy_forward(x, np.array([1, 10, 2]))
    with pytest.raises(ValueError, match=r"cross_entropy: target -1 out of range \[0, 10\)"):
        kernels.cross_entropy_backward(1.0, x, np.array([1, -1, 2]), np.zeros(3))
    # ignore_index itself is allowed, even outside [0, C)
    kernels.cross_entropy_forward(x, np.array([1, -7, 2]), ignore_index=-7)


@pytest.mark.parametrize(
    "call,exc,pattern",
    [
        (
            lambda: kernels.act_forward([1.0], "relu"),
            TypeError,
            "act_forward: x must be a numpy.ndarray, got list",
        ),
        (
            lambda: kernels.act_forward(np.ones(3, np.int32), "relu"),
            TypeError,
            "x must be float32 or float64",
        ),
        (lambda: kernels.act_forward(np.ones(3), "swish"), ValueError, "kind must be one of"),
        (
            lambda: kernels.act_forward(np.ones(3), "relu", out=np.ones(4)),
            ValueError,
            r"out must have shape \(3,\), got \(4,\)",
        ),
        (
            lambda: kernels.act_forward(np.ones(3), "relu", out=np.ones(3, np.float32)),
            TypeError,
            "out must have dtype float64",
        ),
        (
            lambda: kernels.act_forward(np.ones(6), "relu", out=np.ones(12)[::2]),
            ValueError,
            "out must be C-contiguous",
        ),
        (
            lambda: kernels.act_backward(np.ones(3), np.ones(4), "relu"),
            ValueError,
            r"saved must have the shape of grad_out \(3,\), got \(4,\)",
        ),
        (
            lambda: kernels.act_backward(np.ones(3), np.ones(3, np.float32), "relu"),
            TypeError,
            "saved must have the dtype of grad_out",
        ),
        (
            lambda: kernels.softmax(np.ones(())),
            ValueError,
            r"softmax: x must have at least 1 dimension",
        ),
        (
            lambda: kernels.softmax_backward(np.ones((2, 3)), np.ones((3, 2))),
            ValueError,
            r"y must have the shape of grad_out \(2, 3\), got \(3, 2\)",
        ),
        (
            lambda: kernels.cross_entropy_forward(np.ones(3), np.zeros(3, np.int64)),
            ValueError,
            r"logits must be 2-D \(N, C\), got shape \(3,\)",
        ),
        (
            lambda: kernels.cross_entropy_forward(np.ones((2, 3)), np.zeros(3, np.int64)),
            ValueError,
            r"target must have shape \(2,\) to match logits of shape \(2, 3\), got \(3,\)",
        ),
        (
            lambda: kernels.cross_entropy_forward(np.ones((2, 3)), np.zeros(2)),
            TypeError,
            "target must hold integer class indices",
        ),
        (
            lambda: kernels.cross_entropy_forward(
                np.ones((2, 3)), np.zeros(2, np.int64), weight=np.ones(4)
            ),
            ValueError,
            r"weight must have shape \(3,\) to match logits of shape \(2, 3\), got \(4,\)",
        ),
        (
            lambda: kernels.cross_entropy_forward(
                np.ones((2, 3)), np.zeros(2, np.int64), weight=np.ones(3, np.float32)
            ),
            TypeError,
            "weight must have dtype float64",
        ),
        (
            lambda: kernels.cross_entropy_forward(
                np.ones((2, 3)), np.zeros(2, np.int64), label_smoothing=1.5
            ),
            ValueError,
            r"label_smoothing must be in \[0, 1\]",
        ),
        (
            lambda: kernels.cross_entropy_forward(
                np.ones((2, 3)), np.zeros(2, np.int64), reduction="avg"
            ),
            ValueError,
            "reduction must be one of",
        ),
        (
            lambda: kernels.cross_entropy_backward(
                np.ones(3), np.ones((2, 3)), np.zeros(2, np.int64), np.zeros(2), reduction="none"
            ),
            ValueError,
            r"grad_loss must have shape \(2,\) for reduction='none'",
        ),
        (
            lambda: kernels.cross_entropy_backward(
                np.ones(2), np.ones((2, 3)), np.zeros(2, np.int64), np.zeros(2)
            ),
            ValueError,
            "grad_loss must be a scalar for reduction='mean'",
        ),
        (
            lambda: kernels.cross_entropy_backward(
                1.0, np.ones((2, 3)), np.zeros(2, np.int64), np.zeros(3)
            ),
            ValueError,
            r"lse must have shape \(2,\) to match logits of shape \(2, 3\), got \(3,\)",
        ),
        (
            lambda: kernels.bce_with_logits_forward(np.ones((2, 3)), np.ones((3, 2))),
            ValueError,
            r"target must have the shape of logits \(2, 3\), got \(3, 2\)",
        ),
        (
            lambda: kernels.bce_with_logits_forward(
                np.ones((2, 3)), np.ones((2, 3)), pos_weight=np.ones(2)
            ),
            ValueError,
            r"pos_weight must have shape \(3,\)",
        ),
        (
            lambda: kernels.bce_with_logits_forward(
                np.ones((2, 3)), np.ones((2, 3)), weight=np.ones(2)
            ),
            ValueError,
            r"weight of shape \(2,\) does not broadcast to logits of shape \(2, 3\)",
        ),
    ],
)
def test_bad_input_raises_naming_argument_and_shapes(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()
