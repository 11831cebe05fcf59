"""minnet.nn.functional: forward against independent NumPy/PyTorch-definition formulas,
backward against finite differences (float64), and bad input."""

import math

import numpy as np
import pytest

import minnet
import minnet.nn.functional as F
from minnet.testing import gradcheck


def t64(a, requires_grad=True):
    return minnet.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def randn(rng, *shape, requires_grad=True):
    return t64(rng.standard_normal(shape), requires_grad)


_erf = np.vectorize(math.erf)


# =========================================================================================
# activations
# =========================================================================================
ACTIVATIONS = [
    ("relu", F.relu, lambda x: np.maximum(x, 0)),
    ("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x)),
    ("leaky_relu_0.2", lambda x: F.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("elu", F.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    (
        "elu_alpha",
        lambda x: F.elu(x, alpha=0.5),
        lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1)),
    ),
    ("gelu", F.gelu, lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    (
        "gelu_tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    ),
    ("sigmoid", F.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", F.tanh, np.tanh),
    ("silu", F.silu, lambda x: x / (1 + np.exp(-x))),
    ("softplus", F.softplus, lambda x: np.logaddexp(0, x)),
    (
        "softplus_beta",
        lambda x: F.softplus(x, beta=2.0, threshold=1.0),
        lambda x: np.where(2 * x > 1, x, np.logaddexp(0, 2 * x) / 2),
    ),
    ("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0, -x)),
    (
        "selu",
        F.selu,
        lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
    ),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7)),
    ("relu6", lambda x: F.relu6(x * 4), lambda x: np.clip(x * 4, 0, 6)),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x))),
    ("hardsigmoid", lambda x: F.hardsigmoid(x * 4), lambda x: np.clip(x * 4 / 6 + 0.5, 0, 1)),
]


@pytest.mark.parametrize("name,fn,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_forward_and_gradient(name, fn, ref):
    rng = np.random.default_rng(0)
    x = randn(rng, 3, 5)
    x.data[np.abs(x.data) < 0.05] = 0.3  # away from the kinks of relu/leaky_relu/elu
    np.testing.assert_allclose(fn(x).data, ref(x.data), rtol=1e-13, atol=1e-15)
    assert gradcheck(fn, (x,))


@pytest.mark.parametrize("name,fn,ref", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_float32_and_extremes(name, fn, ref):
    x = np.array([-1e4, -50.0, -3.0, -0.5, 0.0, 0.5, 3.0, 50.0, 1e4], dtype=np.float32)
    y = fn(minnet.tensor(x)).data
    assert y.dtype == np.float32 and np.isfinite(y).all()
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(y, ref(x.astype(np.float64)), rtol=1e-6, atol=1e-6)


def test_gelu_erf_matches_math_erf_over_a_wide_range():
    x = np.linspace(-12, 12, 2001)
    ref = 0.5 * x * np.vectorize(math.erfc)(-x / math.sqrt(2))  # accurate in the left tail too
    np.testing.assert_allclose(F.gelu(t64(x, False)).data, ref, rtol=1e-13, atol=1e-300)


def test_activation_errors():
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(minnet.ones(2), approximate="fast")
    with pytest.raises(TypeError, match="relu: input must be a floating tensor"):
        F.relu(minnet.tensor([1, 2]))


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_softmax_and_log_softmax(dim):
    rng = np.random.default_rng(1)
    x = randn(rng, 2, 3, 4)
    e = np.exp(x.data - x.data.max(axis=dim, keepdims=True))
    ref = e / e.sum(axis=dim, keepdims=True)
    np.testing.assert_allclose(F.softmax(x, dim).data, ref, rtol=1e-13)
    np.testing.assert_allclose(F.log_softmax(x, dim=dim).data, np.log(ref), rtol=1e-12)
    np.testing.assert_allclose(x.softmax(dim).data.sum(axis=dim), 1, rtol=1e-13)
    assert gradcheck(lambda x: F.softmax(x, dim), (x,))
    assert gradcheck(lambda x: F.log_softmax(x, dim), (x,))


def test_softmax_is_stable_for_huge_logits():
    x = minnet.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    p = F.softmax(x, dim=1).data
    lp = F.log_softmax(x, dim=1).data
    assert np.isfinite(p).all() and np.isfinite(lp).all()
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    np.testing.assert_allclose(lp, [[0, -2e4, -1e4], [-math.log(3)] * 3], rtol=1e-6)


def test_softmax_dim_error():
    with pytest.raises(
        IndexError, match=r"softmax: dim 2 out of range for input of shape \(2, 3\)"
    ):
        F.softmax(minnet.ones(2, 3), dim=2)


# =========================================================================================
# dropout
# =========================================================================================
def test_dropout_identity_when_not_training_or_p_zero():
    x = minnet.ones(10, 10)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_masks_and_scales_and_follows_manual_seed():
    x = minnet.ones(200, 100)
    minnet.manual_seed(7)
    y = F.dropout(x, p=0.3).data
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    minnet.manual_seed(7)
    np.testing.assert_array_equal(F.dropout(x, p=0.3).data, y)
    assert np.array_equal(F.dropout(x, 1.0).data, np.zeros((200, 100)))


def test_dropout_gradient_uses_the_same_mask():
    rng = np.random.default_rng(2)
    x = randn(rng, 4, 5)

    def fn(x):
        return F.dropout(x, 0.4, generator=np.random.default_rng(3))

    assert gradcheck(fn, (x,))
    y = fn(x)
    y.backward(np.ones((4, 5)))
    np.testing.assert_allclose(x.grad.data, (y.data != 0) / 0.6)


def test_dropout_bad_p():
    with pytest.raises(ValueError, match=r"dropout: probability p must be in \[0, 1\], got 1.5"):
        F.dropout(minnet.ones(2), 1.5)


# =========================================================================================
# linear
# =========================================================================================
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_forward_and_gradient(shape, with_bias):
    rng = np.random.default_rng(4)
    x, w = randn(rng, *shape), randn(rng, 3, 5)
    b = randn(rng, 3) if with_bias else None
    ref = x.data @ w.data.T + (b.data if with_bias else 0)
    out = F.linear(x, w, b)
    assert out.shape == shape[:-1] + (3,)
    np.testing.assert_allclose(out.data, ref, rtol=1e-12, atol=1e-12)
    args = (x, w, b) if with_bias else (x, w)
    assert gradcheck(lambda *a: F.linear(*a), args)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_linear_fused_activation_equals_separate_ops(activation):
    rng = np.random.default_rng(5)
    x, w, b = randn(rng, 6, 4), randn(rng, 3, 4), randn(rng, 3)
    x.data[np.abs(x.data @ w.data.T + b.data).min(axis=1) < 0.05] += 0.2  # relu kink
    fused = F.linear(x, w, b, activation=activation)
    separate = getattr(F, activation)(F.linear(x, w, b))
    np.testing.assert_allclose(fused.data, separate.data, rtol=1e-12, atol=1e-14)
    assert fused.grad_fn is not None and type(fused.grad_fn).__name__ == "Linear"
    assert gradcheck(lambda x, w, b: F.linear(x, w, b, activation=activation), (x, w, b))


def test_linear_float32_matches_float64():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((64, 784)).astype(np.float32)
    w = (rng.standard_normal((10, 784)) * 0.03).astype(np.float32)
    b = rng.standard_normal(10).astype(np.float32)
    xs, ws, bs = (minnet.tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.linear(xs, ws, bs, activation="relu")
    assert y.dtype == np.float32
    ref = np.maximum(x.astype(np.float64) @ w.T.astype(np.float64) + b, 0)
    np.testing.assert_allclose(y.data, ref, rtol=1e-4, atol=1e-4)
    g = rng.standard_normal((64, 10)).astype(np.float32)
    y.backward(g)
    gm = g * (ref > 0)
    np.testing.assert_allclose(xs.grad.data, gm @ w.astype(np.float64), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(ws.grad.data, gm.T @ x.astype(np.float64), rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(bs.grad.data, gm.sum(axis=0), rtol=1e-4, atol=1e-4)
    assert ws.grad.dtype == np.float32


def test_linear_errors_name_the_shapes():
    with pytest.raises(
        ValueError,
        match=r"linear: input last dimension 28 does not match weight "
        r"shape \(10, 784\)",
    ):
        F.linear(minnet.ones(4, 28), minnet.ones(10, 784))
    with pytest.raises(
        ValueError, match=r"bias shape \(9,\) does not match weight shape \(10, 784\)"
    ):
        F.linear(minnet.ones(4, 784), minnet.ones(10, 784), minnet.ones(9))
    with pytest.raises(
        TypeError, match="linear: weight has dtype float64 but input has dtype float32"
    ):
        F.linear(minnet.ones(4, 3), minnet.ones(2, 3, dtype=np.float64))
    with pytest.raises(ValueError, match="activation"):
        F.linear(minnet.ones(4, 3), minnet.ones(2, 3), activation="softmax")
    with pytest.raises(ValueError, match="weight must be 2-D"):
        F.linear(minnet.ones(4, 3), minnet.ones(3))


# =========================================================================================
# regression losses
# =========================================================================================
def _huber(d, delta):
    a = np.abs(d)
    return np.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))


def _smooth_l1(d, beta):
    a = np.abs(d)
    return np.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)


REGRESSION = [
    ("mse", F.mse_loss, lambda d: d * d),
    ("l1", F.l1_loss, np.abs),
    ("huber", F.huber_loss, lambda d: _huber(d, 1.0)),
    (
        "huber_0.5",
        lambda x, y, reduction="mean": F.huber_loss(x, y, reduction=reduction, delta=0.5),
        lambda d: _huber(d, 0.5),
    ),
    ("smooth_l1", F.smooth_l1_loss, lambda d: _smooth_l1(d, 1.0)),
    (
        "smooth_l1_0.3",
        lambda x, y, reduction="mean": F.smooth_l1_loss(x, y, reduction=reduction, beta=0.3),
        lambda d: _smooth_l1(d, 0.3),
    ),
    (
        "smooth_l1_0",
        lambda x, y, reduction="mean": F.smooth_l1_loss(x, y, reduction=reduction, beta=0.0),
        np.abs,
    ),
]


@pytest.mark.parametrize("name,fn,ref", REGRESSION, ids=[r[0] for r in REGRESSION])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses(name, fn, ref, reduction):
    rng = np.random.default_rng(7)
    x, y = randn(rng, 3, 4), randn(rng, 3, 4)
    x.data *= 2
    d = x.data - y.data
    d[np.abs(np.abs(d) - 0.5) < 0.02] += 0.1  # away from the huber/smooth-l1 switch points
    d[np.abs(np.abs(d) - 1.0) < 0.02] += 0.1
    d[np.abs(np.abs(d) - 0.3) < 0.02] += 0.1
    d[np.abs(d) < 0.02] += 0.1
    x.data[...] = y.data + d
    elems = ref(d)
    expected = {"mean": elems.mean(), "sum": elems.sum(), "none": elems}[reduction]
    np.testing.assert_allclose(fn(x, y, reduction=reduction).data, expected, rtol=1e-12)
    assert gradcheck(lambda x, y: fn(x, y, reduction=reduction), (x, y))


def test_mse_hand_value():
    x = minnet.tensor([1.0, 2.0, 4.0])
    y = minnet.tensor([1.0, 0.0, 1.0])
    assert F.mse_loss(x, y).item() == pytest.approx((0 + 4 + 9) / 3)
    assert F.l1_loss(x, y, reduction="sum").item() == pytest.approx(5)
    assert F.huber_loss(x, y).item() == pytest.approx((0 + 1.5 + 2.5) / 3)
    assert F.smooth_l1_loss(x, y, beta=2.0).item() == pytest.approx((0 + 1 + 2) / 3)


def test_loss_shape_and_reduction_errors():
    with pytest.raises(
        ValueError,
        match=r"mse_loss: input shape \(4, 1\) and target shape "
        r"\(4,\) differ",
    ):
        F.mse_loss(minnet.ones(4, 1), minnet.ones(4))
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.l1_loss(minnet.ones(2), minnet.ones(2), reduction="avg")
    with pytest.raises(ValueError, match="delta must be positive"):
        F.huber_loss(minnet.ones(2), minnet.ones(2), delta=0)


def test_loss_target_of_another_dtype_is_converted():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    loss = F.mse_loss(x, np.array([0, 0]))
    assert loss.dtype == np.float32 and loss.item() == pytest.approx(2.5)


# =========================================================================================
# binary cross-entropy
# =========================================================================================
def _bce_ref(p, t, w=1.0):
    return -w * (t * np.maximum(np.log(p), -100) + (1 - t) * np.maximum(np.log1p(-p), -100))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    rng = np.random.default_rng(8)
    p = t64(rng.uniform(0.1, 0.9, (3, 4)))
    t = t64(rng.uniform(0, 1, (3, 4)))
    w = rng.uniform(0.5, 2, (4,)) if weighted else None
    elems = _bce_ref(p.data, t.data, 1.0 if w is None else w)
    expected = {"mean": elems.mean(), "sum": elems.sum(), "none": elems}[reduction]
    out = F.binary_cross_entropy(p, t, weight=w, reduction=reduction)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(lambda p, t: F.binary_cross_entropy(p, t, w, reduction=reduction), (p, t))


def test_binary_cross_entropy_clamps_log_at_minus_100():
    p = minnet.tensor([0.0, 1.0, 0.0, 1.0])
    t = minnet.tensor([1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(
        F.binary_cross_entropy(p, t, reduction="none").data, [100, 100, 0, 0]
    )
    assert F.binary_cross_entropy(
        minnet.tensor([0.5]), minnet.tensor([1.0])
    ).item() == pytest.approx(math.log(2))


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.binary_cross_entropy(minnet.tensor([1.5]), minnet.tensor([1.0]))
    with pytest.raises(
        ValueError,
        match=r"binary_cross_entropy: input shape \(3, 1\) and "
        r"target shape \(3,\) differ",
    ):
        F.binary_cross_entropy(minnet.ones(3, 1) * 0.5, minnet.ones(3))


def _bce_logits_ref(x, t, w=1.0, pw=1.0):
    logsig = -np.logaddexp(0, -x)
    log1msig = -np.logaddexp(0, x)
    return -w * (pw * t * logsig + (1 - t) * log1msig)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "weighted,pos", [(False, False), (True, False), (False, True), (True, True)]
)
def test_binary_cross_entropy_with_logits(reduction, weighted, pos):
    rng = np.random.default_rng(9)
    x = randn(rng, 3, 4)
    x.data *= 3
    t = t64(rng.uniform(0, 1, (3, 4)))
    w = rng.uniform(0.5, 2, (3, 1)) if weighted else None
    pw = rng.uniform(0.5, 3, (4,)) if pos else None
    elems = _bce_logits_ref(x.data, t.data, 1.0 if w is None else w, 1.0 if pw is None else pw)
    expected = {"mean": elems.mean(), "sum": elems.sum(), "none": elems}[reduction]
    out = F.binary_cross_entropy_with_logits(x, t, weight=w, reduction=reduction, pos_weight=pw)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, w, reduction=reduction, pos_weight=pw
        ),
        (x, t),
    )


def test_binary_cross_entropy_with_logits_is_stable():
    x = minnet.tensor([1000.0, -1000.0, 1000.0, -1000.0, 0.0])
    t = minnet.tensor([0.0, 1.0, 1.0, 0.0, 1.0])
    out = F.binary_cross_entropy_with_logits(x, t, reduction="none").data
    np.testing.assert_allclose(out, [1000, 1000, 0, 0, math.log(2)], rtol=1e-6, atol=1e-30)
    x.requires_grad_()
    F.binary_cross_entropy_with_logits(x, t, reduction="sum").backward()
    np.testing.assert_allclose(x.grad.data, [1, -1, 0, 0, -0.5], atol=1e-7)


def test_binary_cross_entropy_with_logits_pos_weight_shape_error():
    with pytest.raises(ValueError, match="pos_weight of shape"):
        F.binary_cross_entropy_with_logits(
            minnet.ones(3, 4), minnet.ones(3, 4), pos_weight=np.ones(3)
        )


# =========================================================================================
# cross-entropy and NLL
# =========================================================================================
def _log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _xent_ref(x, t, w=None, ignore_index=-100, reduction="mean", ls=0.0):
    """PyTorch's definition written out row by row: q = (1 - ls) onehot + ls / C,
    loss_n = -sum_c w_c q_c logp_nc, mean divides by sum_n w[t_n] over kept rows."""
    c = x.shape[1]
    w = np.ones(c) if w is None else w
    logp = _log_softmax(x, 1)
    losses, wsum = [], 0.0
    for n in range(x.shape[0]):
        if t[n] == ignore_index:
            losses.append(0.0)
            continue
        q = np.full(c, ls / c)
        q[t[n]] += 1 - ls
        losses.append(-(w * q * logp[n]).sum())
        wsum += w[t[n]]
    losses = np.array(losses)
    return {"mean": losses.sum() / wsum, "sum": losses.sum(), "none": losses}[reduction]


def _class_case(rng, case, n, c):
    """Logits (n, c), int targets, optional class weights, ignore_index (a real class whose
    rows 1 and 4 are then ignored) and reduction for one row of a case table."""
    x = randn(rng, n, c)
    t = rng.integers(0, c, n)
    ignore_index = -100
    if case.get("ignore"):
        ignore_index = c - 2
        t[[1, 4]] = ignore_index
    w = rng.uniform(0.2, 2, c) if case.get("weighted") else None
    return x, t, w, ignore_index, case.get("reduction", "mean")


# the first cases of every class-loss table: each reduction, then class weights
BASE_CASES = [dict(), dict(reduction="sum"), dict(reduction="none"), dict(weighted=True)]
CE_CASES = [
    *BASE_CASES,
    dict(weighted=True, reduction="none"),
    dict(ignore=True),
    dict(ignore=True, weighted=True),
    dict(ls=0.1),
    dict(ls=0.2, weighted=True),
    dict(ls=0.1, weighted=True, ignore=True),
    dict(ls=0.3, reduction="sum"),
    dict(ls=0.1, ignore=True, reduction="none"),
]


@pytest.mark.parametrize("case", CE_CASES, ids=[str(c) for c in CE_CASES])
def test_cross_entropy_class_indices(case):
    x, t, w, ignore_index, reduction = _class_case(np.random.default_rng(10), case, 6, 5)
    x.data *= 2
    ls = case.get("ls", 0.0)
    expected = _xent_ref(x.data, t, w, ignore_index, reduction, ls)

    def fn(x):
        return F.cross_entropy(
            x,
            minnet.tensor(t),
            weight=None if w is None else minnet.tensor(w),
            ignore_index=ignore_index,
            reduction=reduction,
            label_smoothing=ls,
        )

    out = fn(x)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert type(out.grad_fn).__name__ == "CrossEntropy"  # one fused node
    assert gradcheck(fn, (x,))


def test_cross_entropy_hand_values():
    assert F.cross_entropy(minnet.zeros(1, 2), minnet.tensor([0])).item() == pytest.approx(
        math.log(2)
    )
    x = minnet.tensor([[2.0, 0.0, 0.0]])
    expected = -math.log(math.exp(2) / (math.exp(2) + 2))
    assert F.cross_entropy(x, minnet.tensor([0])).item() == pytest.approx(expected, rel=1e-6)
    # weighted mean divides by the weights of the targets: (w0 l0 + w1 l1) / (w0 + w1)
    x = minnet.tensor([[0.0, 0.0], [0.0, 0.0]])
    loss = F.cross_entropy(x, minnet.tensor([0, 1]), weight=minnet.tensor([1.0, 3.0]))
    assert loss.item() == pytest.approx(math.log(2), rel=1e-6)
    loss = F.cross_entropy(
        x, minnet.tensor([0, 1]), weight=minnet.tensor([1.0, 3.0]), reduction="sum"
    )
    assert loss.item() == pytest.approx(4 * math.log(2), rel=1e-6)


def test_cross_entropy_all_ignored_is_nan_like_pytorch():
    loss = F.cross_entropy(minnet.zeros(2, 3), minnet.tensor([-100, -100]))
    assert math.isnan(loss.item())


def test_cross_entropy_spatial_and_1d_inputs():
    rng = np.random.default_rng(11)
    x = randn(rng, 2, 4, 3, 2)
    t = rng.integers(0, 4, (2, 3, 2))
    moved = np.moveaxis(x.data, 1, -1).reshape(-1, 4)
    for reduction in ("mean", "sum"):
        np.testing.assert_allclose(
            F.cross_entropy(x, minnet.tensor(t), reduction=reduction).data,
            _xent_ref(moved, t.reshape(-1), reduction=reduction),
            rtol=1e-12,
        )
    none = F.cross_entropy(x, minnet.tensor(t), reduction="none")
    assert none.shape == (2, 3, 2)
    np.testing.assert_allclose(
        none.data.reshape(-1), _xent_ref(moved, t.reshape(-1), reduction="none"), rtol=1e-12
    )
    assert gradcheck(lambda x: F.cross_entropy(x, minnet.tensor(t), label_smoothing=0.1), (x,))
    v = randn(rng, 5)
    np.testing.assert_allclose(
        F.cross_entropy(v, minnet.tensor(2)).data,
        _xent_ref(v.data[None], np.array([2])),
        rtol=1e-12,
    )
    assert F.cross_entropy(v, minnet.tensor(2), reduction="none").shape == ()
    assert gradcheck(lambda v: F.cross_entropy(v, minnet.tensor(2)), (v,))


def test_cross_entropy_is_stable_for_huge_logits_float32():
    x = minnet.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], requires_grad=True)
    loss = F.cross_entropy(x, minnet.tensor([1, 0]), reduction="none")
    assert np.isfinite(loss.data).all()
    np.testing.assert_allclose(loss.data, [2e4, 2e4 + math.log(2)], rtol=1e-6)
    loss.sum().backward()
    assert np.isfinite(x.grad.data).all()
    np.testing.assert_allclose(x.grad.data, [[1, -1, 0], [-1, 0.5, 0.5]], atol=1e-6)


@pytest.mark.parametrize(
    "case",
    [
        *BASE_CASES,
        dict(ls=0.2),
        dict(ls=0.1, weighted=True, reduction="none"),
    ],
)
def test_cross_entropy_class_probabilities(case):
    rng = np.random.default_rng(12)
    x = randn(rng, 4, 3)
    p = rng.uniform(0, 1, (4, 3))
    p /= p.sum(axis=1, keepdims=True)
    target = t64(p)
    w = rng.uniform(0.5, 2, 3) if case.get("weighted") else None
    ls, reduction = case.get("ls", 0.0), case.get("reduction", "mean")
    q = p * (1 - ls) + ls / 3
    per = -((np.ones(3) if w is None else w) * q * _log_softmax(x.data, 1)).sum(axis=1)
    expected = {"mean": per.sum() / 4, "sum": per.sum(), "none": per}[reduction]

    def fn(x, target):
        return F.cross_entropy(x, target, weight=w, reduction=reduction, label_smoothing=ls)

    np.testing.assert_allclose(fn(x, target).data, expected, rtol=1e-12)
    assert gradcheck(fn, (x, target))


def test_cross_entropy_probabilities_spatial():
    rng = np.random.default_rng(13)
    x = randn(rng, 2, 3, 2)
    p = rng.uniform(0, 1, (2, 3, 2))
    p /= p.sum(axis=1, keepdims=True)
    per = -(p * _log_softmax(x.data, 1)).sum(axis=1)
    np.testing.assert_allclose(F.cross_entropy(x, t64(p, False)).data, per.mean(), rtol=1e-12)
    assert gradcheck(lambda x: F.cross_entropy(x, t64(p, False)), (x,))


def test_cross_entropy_errors():
    logits = minnet.zeros(4, 10)
    with pytest.raises(ValueError, match=r"cross_entropy: target 10 out of range \[0, 10\)"):
        F.cross_entropy(logits, minnet.tensor([1, 10, 2, 3]))
    with pytest.raises(ValueError, match=r"target -1 out of range \[0, 10\)"):
        F.cross_entropy(logits, minnet.tensor([1, -1, 2, 3]))
    with pytest.raises(
        TypeError, match="class-index target must have an integer dtype, got float32"
    ):
        F.cross_entropy(logits, minnet.tensor([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(
        ValueError, match=r"target shape \(5,\) does not match input shape \(4, 10\)"
    ):
        F.cross_entropy(logits, minnet.tensor([1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match=r"weight must have shape \(10,\)"):
        F.cross_entropy(logits, minnet.tensor([1, 2, 3, 4]), weight=minnet.ones(3))
    with pytest.raises(ValueError, match="label_smoothing"):
        F.cross_entropy(logits, minnet.tensor([1, 2, 3, 4]), label_smoothing=1.5)
    with pytest.raises(TypeError, match="cross_entropy: input must be a floating tensor"):
        F.cross_entropy(minnet.tensor([[1, 2]]), minnet.tensor([0]))


@pytest.mark.parametrize(
    "case",
    [
        *BASE_CASES,
        dict(weighted=True, ignore=True),
        dict(ignore=True, reduction="none"),
    ],
)
def test_nll_loss(case):
    x, t, w, ignore_index, reduction = _class_case(np.random.default_rng(14), case, 6, 4)
    ww = np.ones(4) if w is None else w
    keep = t != ignore_index
    per = np.where(keep, -ww[t] * x.data[np.arange(6), t], 0)
    expected = {"mean": per.sum() / ww[t][keep].sum(), "sum": per.sum(), "none": per}[reduction]

    def fn(x):
        return F.nll_loss(
            x, minnet.tensor(t), weight=w, ignore_index=ignore_index, reduction=reduction
        )

    np.testing.assert_allclose(fn(x).data, expected, rtol=1e-12)
    assert gradcheck(fn, (x,))


def test_nll_of_log_softmax_equals_cross_entropy():
    rng = np.random.default_rng(15)
    x = randn(rng, 5, 3, 2)
    t = minnet.tensor(rng.integers(0, 3, (5, 2)))
    w = minnet.tensor(rng.uniform(0.5, 2, 3), dtype=np.float64)
    np.testing.assert_allclose(
        F.nll_loss(F.log_softmax(x, 1), t, weight=w).data,
        F.cross_entropy(x, t, weight=w).data,
        rtol=1e-12,
    )
    assert gradcheck(lambda x: F.nll_loss(F.log_softmax(x, 1), t), (x,))


def test_nll_loss_errors():
    with pytest.raises(ValueError, match=r"nll_loss: target 3 out of range \[0, 3\)"):
        F.nll_loss(minnet.zeros(2, 3), minnet.tensor([0, 3]))
    with pytest.raises(TypeError, match="integer dtype"):
        F.nll_loss(minnet.zeros(2, 3), minnet.tensor([0.0, 1.0]))


# =========================================================================================
# KL divergence
# =========================================================================================
@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    rng = np.random.default_rng(16)
    logq = t64(_log_softmax(rng.standard_normal((3, 4)), 1))
    p = rng.uniform(0.05, 1, (3, 4))
    p /= p.sum(axis=1, keepdims=True)
    target = t64(np.log(p) if log_target else p)
    elems = p * (np.log(p) - logq.data)
    expected = {
        "mean": elems.mean(),
        "batchmean": elems.sum() / 3,
        "sum": elems.sum(),
        "none": elems,
    }[reduction]
    out = F.kl_div(logq, target, reduction=reduction, log_target=log_target)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    assert gradcheck(
        lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target), (logq, target)
    )


def test_kl_div_zero_target_contributes_nothing():
    out = F.kl_div(minnet.tensor([-1.0, -2.0]), minnet.tensor([0.0, 1.0]), reduction="none")
    np.testing.assert_allclose(out.data, [0, 2])
    with pytest.raises(ValueError, match="reduction must be one of"):
        F.kl_div(minnet.ones(2), minnet.ones(2), reduction="avg")


# =========================================================================================
# normalisation and embedding
# =========================================================================================
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 2, 2)])
def test_batch_norm_training_forward_and_running_stats(shape):
    rng = np.random.default_rng(17)
    x = randn(rng, *shape)
    x.data = x.data * 2 + 1
    w, b = randn(rng, 3), randn(rng, 3)
    rm, rv = np.zeros(3), np.ones(3)
    axes = (0,) + tuple(range(2, len(shape)))
    bshape = (1, 3) + (1,) * (len(shape) - 2)
    mean, var = x.data.mean(axis=axes), x.data.var(axis=axes)
    ref = (x.data - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5) * w.data.reshape(
        bshape
    ) + b.data.reshape(bshape)
    out = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.1, eps=1e-5)
    np.testing.assert_allclose(out.data, ref, rtol=1e-10, atol=1e-12)
    m = x.data.size // 3
    np.testing.assert_allclose(rm, 0.1 * mean, rtol=1e-12)
    np.testing.assert_allclose(rv, 0.9 + 0.1 * var * m / (m - 1), rtol=1e-12)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x,))


def test_batch_norm_eval_uses_running_stats_and_tensors_are_updated_in_place():
    rng = np.random.default_rng(18)
    x = randn(rng, 4, 3)
    rm = minnet.tensor(rng.standard_normal(3), dtype=np.float64)
    rv = minnet.tensor(rng.uniform(0.5, 2, 3), dtype=np.float64)
    w, b = randn(rng, 3), randn(rng, 3)
    out = F.batch_norm(x, rm, rv, w, b, training=False, eps=1e-3)
    ref = (x.data - rm.data) / np.sqrt(rv.data + 1e-3) * w.data + b.data
    np.testing.assert_allclose(out.data, ref, rtol=1e-12)
    assert gradcheck(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, eps=1e-3), (x, w, b))
    before, old = rm.data, rm.data.copy()
    F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    assert rm.data is before  # updated in place
    np.testing.assert_allclose(rm.data, 0.5 * old + 0.5 * x.data.mean(axis=0))


def test_batch_norm_errors():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(minnet.ones(1, 3), None, None, training=True)
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        F.batch_norm(minnet.ones(4, 3), None, None, minnet.ones(4), training=True)
    with pytest.raises(ValueError, match="needed when not training"):
        F.batch_norm(minnet.ones(4, 3), None, None)
    with pytest.raises(ValueError, match=r"running_mean must have shape \(3,\)"):
        F.batch_norm(minnet.ones(4, 3), np.zeros(2), np.ones(3), training=True)


@pytest.mark.parametrize("normalized_shape", [4, (3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(normalized_shape, affine):
    rng = np.random.default_rng(19)
    x = randn(rng, 2, 3, 4)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    w = randn(rng, *ns) if affine else None
    b = randn(rng, *ns) if affine else None
    axes = tuple(range(3 - len(ns), 3))
    mean, var = x.data.mean(axis=axes, keepdims=True), x.data.var(axis=axes, keepdims=True)
    ref = (x.data - mean) / np.sqrt(var + 1e-5)
    if affine:
        ref = ref * w.data + b.data
    np.testing.assert_allclose(
        F.layer_norm(x, normalized_shape, w, b).data, ref, rtol=1e-10, atol=1e-12
    )
    args = (x, w, b) if affine else (x,)
    assert gradcheck(lambda *a: F.layer_norm(a[0], normalized_shape, *a[1:]), args)


def test_layer_norm_shape_error():
    with pytest.raises(
        ValueError, match=r"input shape \(2, 5\) does not end with normalized_shape \(4,\)"
    ):
        F.layer_norm(minnet.ones(2, 5), 4)


def test_embedding():
    rng = np.random.default_rng(20)
    w = randn(rng, 6, 3)
    idx = np.array([[0, 5, 2], [2, 2, 1]])
    out = F.embedding(minnet.tensor(idx), w)
    np.testing.assert_array_equal(out.data, w.data[idx])
    assert gradcheck(lambda w: F.embedding(minnet.tensor(idx), w), (w,))
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.data[:, 0], [1, 1, 3, 0, 0, 1])


def test_embedding_padding_idx_gets_no_gradient():
    w = minnet.ones(4, 2, requires_grad=True)
    F.embedding(minnet.tensor([0, 1, 1, 3]), w, padding_idx=1).sum().backward()
    np.testing.assert_array_equal(w.grad.data[:, 0], [1, 0, 0, 1])


def test_embedding_errors():
    with pytest.raises(ValueError, match=r"embedding: index 4 out of range \[0, 4\)"):
        F.embedding(minnet.tensor([0, 4]), minnet.ones(4, 2))
    with pytest.raises(TypeError, match="integer indices"):
        F.embedding(minnet.tensor([0.0]), minnet.ones(4, 2))


def test_one_hot():
    out = F.one_hot(minnet.tensor([0, 2, 1]), 4)
    np.testing.assert_array_equal(out.data, [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]])
    assert F.one_hot(minnet.tensor([1, 3])).shape == (2, 4)


# =========================================================================================
# a small end-to-end check: an MLP's gradients, float64, all through one backward
# =========================================================================================
def test_mlp_end_to_end_gradcheck():
    rng = np.random.default_rng(21)
    x = randn(rng, 5, 4, requires_grad=False)
    t = minnet.tensor(rng.integers(0, 3, 5))
    w1, b1, w2, b2 = randn(rng, 6, 4), randn(rng, 6), randn(rng, 3, 6), randn(rng, 3)
    g, beta = t64(rng.uniform(0.5, 1.5, 6)), randn(rng, 6)

    def net(w1, b1, g, beta, w2, b2):
        h = F.linear(x, w1, b1, activation="tanh")
        h = F.batch_norm(h, None, None, g, beta, training=True)
        h = F.gelu(h)
        return F.cross_entropy(F.linear(h, w2, b2), t, label_smoothing=0.05)

    assert gradcheck(net, (w1, b1, g, beta, w2, b2))


def test_losses_take_pytorchs_positional_order_and_legacy_reduction_arguments():
    x = minnet.tensor([[2.0, 0.0], [0.0, 1.0]])
    t = minnet.tensor([0, 1])
    w = minnet.tensor([1.0, 3.0])
    # cross_entropy(input, target, weight, size_average, ignore_index, reduce, reduction)
    positional = F.cross_entropy(x, t, w, None, 1, None, "sum")
    assert positional.item() == pytest.approx(
        F.cross_entropy(x[:1], t[:1], w, reduction="sum").item()
    )
    assert F.mse_loss(x, x * 0, reduce=False).shape == (2, 2)
    assert F.mse_loss(x, x * 0, size_average=False).item() == pytest.approx(5)
    assert F.nll_loss(x, t, None, None, -100, False).shape == (2,)
    with pytest.raises(TypeError, match="reduction='sum'"):
        F.mse_loss(x, x, "sum")
