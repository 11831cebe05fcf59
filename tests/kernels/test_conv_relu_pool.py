"""The fused conv2d + relu + 2x2 max pool (kernels.conv2d_relu_maxpool2d_forward and
conv2d_backward(pool_code=...)) against the NumPy reference (minnet.reference.conv), whose
own gradient is checked here by finite differences.

p is compared with the reference in float64 at the conv tests' tolerance (4 * (K + 2) * eps);
the codes exactly against the reference pooling of the kernel's own unfused conv output (the
same conv values, so the same window maxima); the gradients as the conv tests do.
"""

import numpy as np
import pytest
from tests_helpers_kernels import at_1_and_2_threads, check_conv_backward, conv_tol

from minnet import kernels, reference
from minnet.testing import numerical_grad

DTYPES = [np.float32, np.float64]

# (x shape, w shape, stride, padding, dilation, groups)
CASES = [
    ((3, 1, 28, 28), (16, 1, 3, 3), 1, 1, 1, 1),  # the course CNN's layers (batch cut)
    ((3, 16, 14, 14), (32, 16, 3, 3), 1, 1, 1, 1),
    ((2, 32, 7, 7), (32, 32, 3, 3), 1, 1, 1, 1),  # odd output: last row/column dropped
    ((2, 3, 9, 8), (8, 3, 3, 3), 1, 1, 1, 1),  # odd rows, even columns
    ((1, 2, 5, 5), (3, 2, 3, 3), 1, 0, 1, 1),  # batch 1, valid, 3x3 -> 1x1
    ((2, 4, 9, 11), (8, 2, 3, 3), 2, 1, 1, 2),  # stride 2, groups
    ((2, 3, 10, 10), (9, 3, 3, 3), 1, 2, 2, 1),  # dilation
    ((2, 4, 8, 8), (4, 1, 3, 3), 1, 1, 1, 4),  # depthwise
    ((2, 4, 6, 7), (12, 4, 1, 1), 1, 0, 1, 1),  # 1x1
    ((1, 2, 40, 36), (8, 2, 3, 3), 1, 1, 1, 1),  # rows of more than 16 windows
    ((2, 3, 2, 2), (8, 3, 1, 1), 1, 0, 1, 1),  # a 2x2 output: one window
]


def _data(rng, xs, ws, dtype):
    x = rng.uniform(-1, 1, xs).astype(dtype)
    w = rng.uniform(-1, 1, ws).astype(dtype)
    b = rng.uniform(-0.5, 0.5, ws[0]).astype(dtype)
    return x, w, b


def _check(xs, ws, stride, padding, dilation, groups, dtype, seed=0):
    rng = np.random.default_rng(seed)
    x, w, b = _data(rng, xs, ws, dtype)
    args = (stride, padding, dilation, groups)
    f64 = lambda a: a.astype(np.float64)
    p, code = kernels.conv2d_relu_maxpool2d_forward(x, w, b, *args)
    rp, rcode = reference.conv2d_relu_maxpool2d_forward(f64(x), f64(w), f64(b), *args)
    k = ws[1] * ws[2] * ws[3]
    assert p.dtype == dtype and code.dtype == np.uint8 and p.shape == rp.shape == code.shape
    np.testing.assert_allclose(p, rp, rtol=0, atol=conv_tol(dtype, k))
    # codes: exactly those of the reference pooling of the kernel's own conv output
    y = kernels.conv2d_forward(x, w, b, *args, activation="relu")
    ep, ecode = _pool_codes(y)
    np.testing.assert_array_equal(code, ecode)
    np.testing.assert_array_equal(p, ep)
    assert (code == 4).any() or p.size < 8  # the relu's mask matters
    dp = rng.uniform(-1, 1, p.shape).astype(dtype)
    check_conv_backward(dp, x, w, args, y, pool_code=code)
    return p, code


def _pool_codes(y):
    """2x2 max pool of relu output y by the rule of the contract, written as loops."""
    n, c, oh, ow = y.shape
    p = np.zeros((n, c, oh // 2, ow // 2), y.dtype)
    code = np.zeros(p.shape, np.uint8)
    for i in range(oh // 2):
        for j in range(ow // 2):
            taps = [
                y[:, :, 2 * i, 2 * j],
                y[:, :, 2 * i, 2 * j + 1],
                y[:, :, 2 * i + 1, 2 * j],
                y[:, :, 2 * i + 1, 2 * j + 1],
            ]
            best, at = taps[0].copy(), np.zeros(p.shape[:2], np.uint8)
            for t in (1, 2, 3):
                more = taps[t] > best
                best[more], at[more] = taps[t][more], t
            p[:, :, i, j] = best
            code[:, :, i, j] = np.where(best > 0, at, 4)
    return p, code


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_fused_matches_reference(case, dtype, threads, algorithm):
    _check(*case, dtype)


@pytest.mark.parametrize("case", CASES[:4], ids=[str(i) for i in range(4)])
def test_fused_every_isa(case, isa):
    _check(*case, np.float32, seed=1)


def test_ties_take_the_first_tap():
    """Equal maxima (a constant image gives equal conv outputs inside the padding border):
    the first tap in row-major order wins, and zero windows pass nothing back."""
    x = np.ones((1, 1, 6, 6), np.float32)
    w = np.ones((2, 1, 1, 1), np.float32)
    b = np.array([0.5, -2.0], np.float32)
    p, code = kernels.conv2d_relu_maxpool2d_forward(x, w, b)
    np.testing.assert_array_equal(p[0, 0], 1.5)
    np.testing.assert_array_equal(code[0, 0], 0)
    np.testing.assert_array_equal(p[0, 1], 0)
    np.testing.assert_array_equal(code[0, 1], 4)
    dx, dw, db = kernels.conv2d_backward(np.ones_like(p), x, w, pool_code=code)
    np.testing.assert_array_equal(dx[0, 0, ::2, ::2], 1)  # weight 1 of channel 0 only
    assert dx[0, 0, 1::2].sum() == 0 and dx[0, 0, :, 1::2].sum() == 0
    np.testing.assert_array_equal(db, [9, 0])


@pytest.mark.parametrize(
    "xs,ws", [((5, 16, 14, 14), (32, 16, 3, 3)), ((5, 1, 12, 12), (16, 1, 3, 3))]
)
def test_threads_give_equal_results(xs, ws):
    """p, codes, dx and db bitwise equal at 1 and 2 threads; dW is summed per thread then
    added, so only its rounding may differ."""
    rng = np.random.default_rng(3)
    x, w, b = _data(rng, xs, ws, np.float32)

    def run():
        p, code = kernels.conv2d_relu_maxpool2d_forward(x, w, b, 1, 1)
        return (p, code) + kernels.conv2d_backward(np.cos(p), x, w, 1, 1, pool_code=code)

    (p1, c1, dx1, dw1, db1), (p2, c2, dx2, dw2, db2) = at_1_and_2_threads(run)
    for a, b_ in ((p1, p2), (c1, c2), (dx1, dx2), (db1, db2)):
        np.testing.assert_array_equal(a, b_)
    np.testing.assert_allclose(dw1, dw2, rtol=1e-5, atol=1e-5)


def test_reference_backward_matches_finite_differences():
    """The oracle's fused gradient against central differences of its forward (float64)."""
    rng = np.random.default_rng(5)
    args = (1, 1, 1, 1)
    x, w, b = _data(rng, (2, 2, 5, 4), (3, 2, 3, 3), np.float64)
    p, code = reference.conv2d_relu_maxpool2d_forward(x, w, b, *args)
    dp = rng.uniform(-1, 1, p.shape)
    dx, dw, db = reference.conv2d_backward(dp, x, w, *args, pool_code=code)
    loss = lambda: float((reference.conv2d_relu_maxpool2d_forward(x, w, b, *args)[0] * dp).sum())
    for arr, grad in ((x, dx), (w, dw), (b, db)):
        np.testing.assert_allclose(grad, numerical_grad(loss, arr), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("impl", [kernels, reference], ids=["kernels", "reference"])
def test_conv_output_under_2x2_is_refused(impl):
    x, w = np.zeros((2, 3, 3, 3), np.float32), np.zeros((4, 3, 3, 3), np.float32)
    with pytest.raises(ValueError, match=r"at least 2x2.*\(2, 3, 3, 3\).*1x1"):
        impl.conv2d_relu_maxpool2d_forward(x, w)


def test_bad_pool_code():
    rng = np.random.default_rng(0)
    x, w, b = _data(rng, (2, 3, 6, 6), (4, 3, 3, 3), np.float32)
    p, code = kernels.conv2d_relu_maxpool2d_forward(x, w, b, 1, 1)
    with pytest.raises(TypeError, match="pool_code must be a uint8"):
        kernels.conv2d_backward(p, x, w, 1, 1, pool_code=code.astype(np.int64))
    with pytest.raises(ValueError, match=r"pool_code must have the pooled shape \(2, 4, 3, 3\)"):
        kernels.conv2d_backward(p, x, w, 1, 1, pool_code=code[:1])
    with pytest.raises(ValueError, match=r"grad_output must have shape \(2, 4, 3, 3\)"):
        kernels.conv2d_backward(np.zeros((2, 4, 6, 6), np.float32), x, w, 1, 1, pool_code=code)
    with pytest.raises(ValueError, match="relu_out or pool_code, not both"):
        kernels.conv2d_backward(p, x, w, 1, 1, pool_code=code, relu_out=p)
    with pytest.raises(
        ValueError,
        match=r"code_out must have shape \(2, 4, 3, 3\) and dtype "
        r"uint8",
    ):
        kernels.conv2d_relu_maxpool2d_forward(x, w, b, 1, 1, code_out=np.empty((2, 4, 3, 3)))
