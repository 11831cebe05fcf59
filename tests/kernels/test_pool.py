"""minnet.kernels max/avg/adaptive pooling (forward and backward) against the NumPy reference
(minnet.reference.pool), itself checked by finite differences. Max pooling and its indices
must match exactly; sums agree to a few ulps of the window size."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests_helpers_kernels import at_1_and_2_threads

from minnet import kernels, reference
from minnet.testing import numerical_grad

DTYPES = [np.float32, np.float64]

# (x shape, kernel_size, stride, padding, dilation, ceil_mode)
MAX_CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),  # the common 2x2/2
    ((2, 3, 9, 7), 2, None, 0, 1, False),  # odd sizes: last row/column dropped
    ((2, 3, 9, 7), 2, None, 0, 1, True),  # ... or kept with ceil_mode
    ((1, 2, 7, 8), 3, 2, 1, 1, True),
    ((2, 2, 9, 8), (3, 2), (2, 1), (1, 1), (2, 1), True),
    ((1, 1, 5, 5), 5, 1, 0, 1, False),  # kernel = input
    ((3, 1, 6, 4), (1, 3), (1, 2), (0, 1), 1, False),  # non-square
]
AVG_CASES = [  # (x shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor)
    ((2, 3, 8, 8), 2, None, 0, False, True, None),
    ((2, 3, 9, 7), 3, 2, 1, True, True, None),
    ((2, 3, 9, 7), 3, 2, 1, True, False, None),
    ((1, 2, 7, 6), (3, 2), (2, 1), (1, 1), False, False, None),
    ((1, 2, 7, 6), (3, 2), (2, 1), (1, 0), True, True, 5),
]


def _x(shape, dtype, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, shape).astype(dtype)


def _check_max(xs, args, dtype, seed=0):
    x = _x(xs, dtype, seed)
    y, idx = kernels.max_pool2d_forward(x, *args)
    yr, ir = reference.max_pool2d_forward(x, *args)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(idx, ir)
    dy = _x(y.shape, dtype, seed + 1)
    np.testing.assert_allclose(
        kernels.max_pool2d_backward(dy, idx, xs),
        reference.max_pool2d_backward(dy, ir, xs),
        rtol=0,
        atol=8 * np.finfo(dtype).eps,
    )


def _check_avg(xs, args, dtype, seed=0):
    x = _x(xs, dtype, seed)
    y = kernels.avg_pool2d_forward(x, *args)
    yr = reference.avg_pool2d_forward(x.astype(np.float64), *args)
    tol = 16 * np.finfo(dtype).eps
    np.testing.assert_allclose(y, yr, rtol=0, atol=tol)
    dy = _x(y.shape, dtype, seed + 1)
    np.testing.assert_allclose(
        kernels.avg_pool2d_backward(dy, xs, *args),
        reference.avg_pool2d_backward(dy.astype(np.float64), xs, *args),
        rtol=0,
        atol=tol,
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", MAX_CASES, ids=[str(i) for i in range(len(MAX_CASES))])
def test_max_pool_matches_reference(case, dtype, threads, isa):
    _check_max(case[0], case[1:], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", AVG_CASES, ids=[str(i) for i in range(len(AVG_CASES))])
def test_avg_pool_matches_reference(case, dtype, threads, isa):
    _check_avg(case[0], case[1:], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "xs,out",
    [((2, 3, 7, 7), 1), ((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 6), (5, None)), ((1, 1, 3, 3), (5, 4))],
)
def test_adaptive_avg_pool_matches_reference(xs, out, dtype, threads, isa):
    x = _x(xs, dtype)
    y = kernels.adaptive_avg_pool2d_forward(x, out)
    tol = 16 * np.finfo(dtype).eps
    np.testing.assert_allclose(y, reference.adaptive_avg_pool2d_forward(x, out), atol=tol)
    dy = _x(y.shape, dtype, 1)
    np.testing.assert_allclose(
        kernels.adaptive_avg_pool2d_backward(dy, xs),
        reference.adaptive_avg_pool2d_backward(dy, xs),
        atol=tol,
    )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 2),
    c=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    ph=st.integers(0, 2),
    pw=st.integers(0, 2),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
    ceil=st.booleans(),
    incl=st.booleans(),
    f64=st.booleans(),
    seed=st.integers(0, 99),
)
def test_pool_hypothesis(n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil, incl, f64, seed):
    dtype = np.float64 if f64 else np.float32
    xs = (n, c, h, w)
    ph, pw = min(ph, kh // 2), min(pw, kw // 2)
    margs = ((kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil)
    try:
        reference.max_pool2d_forward(np.zeros(xs), *margs)
    except ValueError:
        with pytest.raises(ValueError):
            kernels.max_pool2d_forward(np.zeros(xs, dtype), *margs)
    else:
        _check_max(xs, margs, dtype, seed)
    aargs = ((kh, kw), (sh, sw), (ph, pw), ceil, incl)
    try:
        reference.avg_pool2d_forward(np.zeros(xs), *aargs)
    except ValueError:
        return
    _check_avg(xs, aargs, dtype, seed)


def test_max_pool_ties_take_the_first_tap():
    x = np.zeros((1, 1, 4, 4), np.float32)
    x[0, 0, 1, 1] = x[0, 0, 1, 0] = 1.0  # a tie inside the first window
    y, idx = kernels.max_pool2d_forward(x, 2)
    assert idx[0, 0, 0, 0] == 4  # (1, 0) comes before (1, 1)
    assert (idx[0, 0] == [[4, 2], [8, 10]]).all()  # all-zero windows: their first tap
    dx = kernels.max_pool2d_backward(np.ones_like(y), idx, x.shape)
    assert dx.sum() == 4 and dx[0, 0, 1, 0] == 1 and dx[0, 0, 1, 1] == 0


def test_max_pool_nan_propagates():
    x = np.zeros((1, 1, 2, 2))
    x[0, 0, 1, 1] = np.nan
    y, idx = kernels.max_pool2d_forward(x, 2)
    assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 3


def test_threads_give_equal_results():
    x = _x((4, 8, 30, 30), np.float32)

    def run():
        y, i = kernels.max_pool2d_forward(x, 3, 2, 1)
        return (
            y,
            i,
            kernels.max_pool2d_backward(y, i, x.shape),
            kernels.avg_pool2d_forward(x, 3, 2, 1),
            kernels.avg_pool2d_backward(y, x.shape, 3, 2, 1),
            kernels.adaptive_avg_pool2d_forward(x, 4),
        )

    for a, b in zip(*at_1_and_2_threads(run)):
        np.testing.assert_array_equal(a, b)


def test_references_match_finite_differences():
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (1, 2, 5, 6))
    for fwd, bwd in [
        (
            lambda x: reference.avg_pool2d_forward(x, 3, 2, 1, True, False),
            lambda dy: reference.avg_pool2d_backward(dy, x.shape, 3, 2, 1, True, False),
        ),
        (
            lambda x: reference.adaptive_avg_pool2d_forward(x, (3, 4)),
            lambda dy: reference.adaptive_avg_pool2d_backward(dy, x.shape),
        ),
        (
            lambda x: reference.max_pool2d_forward(x, 2, 1, 1)[0],
            lambda dy: reference.max_pool2d_backward(
                dy, reference.max_pool2d_forward(x, 2, 1, 1)[1], x.shape
            ),
        ),
    ]:
        dy = rng.uniform(-1, 1, fwd(x).shape)
        grad = bwd(dy)
        num = numerical_grad(lambda: float((fwd(x) * dy).sum()), x)
        np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("impl", [kernels, reference], ids=["kernels", "reference"])
def test_bad_input(impl):
    x = np.zeros((2, 3, 4, 4), np.float32)
    with pytest.raises(ValueError, match="4-D.*shape \\(3, 4, 4\\)"):
        impl.max_pool2d_forward(x[0], 2)
    with pytest.raises(ValueError, match="output size.*too small.*\\(2, 3, 4, 4\\).*kernel_size"):
        impl.max_pool2d_forward(x, 5)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        impl.avg_pool2d_forward(x, 2, 0)
    with pytest.raises(ValueError, match="padding .* at most half"):
        impl.max_pool2d_forward(x, 2, 1, 2)
    with pytest.raises(ValueError, match="output_size must be >= 1"):
        impl.adaptive_avg_pool2d_forward(x, 0)


@pytest.mark.parametrize("impl", [kernels, reference], ids=["kernels", "reference"])
def test_max_pool_out_arrays_are_written(impl):
    x = _x((2, 3, 6, 6), np.float64)
    y, idx = np.full((2, 3, 3, 3), np.nan), np.full((2, 3, 3, 3), -5, np.int64)
    ry, ri = impl.max_pool2d_forward(x, 2, out=y, indices_out=idx)
    assert ry is y and ri is idx
    ey, ei = reference.max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(y, ey)
    np.testing.assert_array_equal(idx, ei)
    dx = np.full(x.shape, np.nan)
    assert impl.max_pool2d_backward(y, idx, x.shape, out=dx) is dx
    np.testing.assert_array_equal(dx, reference.max_pool2d_backward(y, idx, x.shape))


# The 2x2 stride-2 fast paths (kernel == stride == 2, no padding): rows of <= 8 windows go two
# output rows per vector step, longer rows 16 windows per step with a masked tail; odd sizes
# drop the last row/column (which the backward must zero), ceil_mode keeps it (general loop).
FAST_SHAPES = [
    (2, 3, 8, 8),
    (1, 1, 2, 2),
    (1, 1, 3, 3),
    (1, 1, 2, 40),
    (1, 1, 5, 2),
    (2, 3, 9, 7),
    (2, 2, 7, 9),
    (1, 3, 14, 14),
    (3, 1, 15, 15),
    (2, 2, 28, 28),
    (1, 2, 17, 33),
    (1, 1, 6, 34),
    (2, 1, 4, 66),
    (3, 2, 13, 17),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("ceil", [False, True])
@pytest.mark.parametrize("xs", FAST_SHAPES, ids=[str(s) for s in FAST_SHAPES])
def test_pool_2x2_stride_2_fast_paths(xs, ceil, dtype, threads, isa):
    _check_max(xs, (2, None, 0, 1, ceil), dtype, seed=xs[2] * 100 + xs[3])
    for incl in (True, False):
        _check_avg(xs, (2, None, 0, ceil, incl, None), dtype, seed=xs[3])
    _check_avg(xs, (2, 2, 0, ceil, True, 3), dtype)


def _ordered_avg_2x2(x, d):
    """The general loop's sum order, (((0 + x00) + x01) + x10) + x11, and its division."""
    oh, ow = x.shape[2] // 2, x.shape[3] // 2
    t = [x[:, :, r : 2 * oh : 2, c : 2 * ow : 2] for r in (0, 1) for c in (0, 1)]
    return ((((x.dtype.type(0) + t[0]) + t[1]) + t[2]) + t[3]) / x.dtype.type(d)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs", [(2, 3, 14, 14), (1, 2, 9, 37), (2, 1, 7, 7)])
def test_avg_pool_2x2_fast_path_is_bitwise_the_general_loop(xs, dtype, threads):
    x = _x(xs, dtype, 3) * dtype(1e3)
    x[0, 0, :2, :2] = -0.0  # an all -0 window sums to +0 from the 0 start
    for div in (None, 3, 4):
        y = kernels.avg_pool2d_forward(x, 2, divisor_override=div)
        want = _ordered_avg_2x2(x, div or 4)
        np.testing.assert_array_equal(y, want)
        np.testing.assert_array_equal(np.signbit(y), np.signbit(want))
        dy = _x(y.shape, dtype, 4)
        dy[0, 0, 0, 0] = -0.0
        dx = kernels.avg_pool2d_backward(dy, xs, 2, divisor_override=div)
        want = reference.avg_pool2d_backward(dy, xs, 2, divisor_override=div)
        np.testing.assert_array_equal(dx, want)
        np.testing.assert_array_equal(np.signbit(dx), np.signbit(want))
        assert not np.signbit(dx[0, 0, :2, :2]).any()  # 0 + (-0 / d) is +0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("xs", [(2, 3, 14, 14), (1, 2, 9, 37), (2, 1, 7, 7), (1, 1, 3, 2)])
def test_max_pool_2x2_fast_path_nan_ties_and_signed_zero(xs, dtype, threads, isa):
    rng = np.random.default_rng(5)
    x = rng.integers(-2, 3, xs).astype(dtype)  # many ties, and zeros of both signs
    x[rng.random(xs) < 0.3] = -0.0
    x[rng.random(xs) < 0.05] = np.nan  # NaN in some windows of some rows
    y, idx = kernels.max_pool2d_forward(x, 2)
    yr, ir = reference.max_pool2d_forward(x, 2)
    np.testing.assert_array_equal(y, yr)
    np.testing.assert_array_equal(idx, ir)
    np.testing.assert_array_equal(np.signbit(y), np.signbit(yr))
    dy = rng.integers(-2, 3, y.shape).astype(dtype)
    dy[rng.random(y.shape) < 0.3] = -0.0
    dx = kernels.max_pool2d_backward(dy, idx, xs)
    want = reference.max_pool2d_backward(dy, ir, xs)
    np.testing.assert_array_equal(dx, want)
    np.testing.assert_array_equal(np.signbit(dx), np.signbit(want))


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_backward_indices_outside_2x2_windows(dtype, threads, isa):
    """The backward's fast path only sees shapes: indices that are not one per own 2x2 window
    (another pooling with the same output size, or hand-made) must still scatter-add."""
    xs = (2, 3, 8, 10)
    x = _x(xs, dtype)
    y, idx = kernels.max_pool2d_forward(x, 3, 2, 1)  # also (4, 5) outputs
    assert y.shape[2:] == (4, 5)
    dy = _x(y.shape, dtype, 1)
    np.testing.assert_allclose(
        kernels.max_pool2d_backward(dy, idx, xs),
        reference.max_pool2d_backward(dy, idx, xs),
        rtol=0,
        atol=8 * np.finfo(dtype).eps,
    )
    rng = np.random.default_rng(2)
    for trial in range(4):
        _, idx = kernels.max_pool2d_forward(x, 2)
        idx = idx.copy()
        flat = idx.reshape(-1)
        pick = rng.choice(flat.size, 3, replace=False)
        flat[pick] = [-1, 0, xs[2] * xs[3] - 1][:3] if trial else rng.integers(0, 80, 3)
        np.testing.assert_allclose(
            kernels.max_pool2d_backward(dy, idx, xs),
            reference.max_pool2d_backward(dy, idx, xs),
            rtol=0,
            atol=8 * np.finfo(dtype).eps,
        )


@pytest.mark.parametrize("bad", [-2, 80, 1 << 40, -(1 << 40)])
def test_max_pool_backward_rejects_bad_indices(bad):
    xs = (1, 2, 8, 10)
    _, idx = kernels.max_pool2d_forward(_x(xs, np.float32), 2)
    idx = idx.copy()
    idx[0, 1, 2, 3] = bad
    with pytest.raises(ValueError, match=r"indices must lie in \[0, H\*W\) = \[0, 80\)"):
        kernels.max_pool2d_backward(np.ones(idx.shape, np.float32), idx, xs)


def _avg_loop(x, dy, k, s, p, ceil, incl, div):
    """The per-window loop of csrc/pool_impl.h in x's dtype, term by term: sums from 0 in
    row-major tap order, and the backward's shares added window by window. The vectorised
    paths must give its results bit for bit."""
    from minnet._kernels.convshape import pool2d_geometry

    n, c, h, w = x.shape
    oh, ow, (kh, kw), (sh, sw), (ph, pw), _ = pool2d_geometry(x.shape, k, s, p, 1, ceil)
    t = x.dtype.type
    y = np.zeros((n, c, oh, ow), x.dtype)
    dx = np.zeros(x.shape, x.dtype)
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * sh - ph, j * sw - pw
            he, we = min(hs + kh, h + ph), min(ws + kw, w + pw)
            pool = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            d = t(div if div else pool if incl else (he - hs) * (we - ws))
            acc = np.zeros((n, c), x.dtype)
            for r in range(hs, he):
                for q in range(ws, we):
                    acc = acc + x[:, :, r, q]
            y[:, :, i, j] = acc / d
            v = dy[:, :, i, j] / d
            for r in range(hs, he):
                for q in range(ws, we):
                    dx[:, :, r, q] = dx[:, :, r, q] + v
    return y, dx


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "k,s,p,ceil,incl,div",
    [
        (3, 2, 1, False, True, None),
        (3, 2, 1, True, False, None),
        (3, 1, 1, False, False, None),
        (3, 1, 0, False, True, None),
        ((2, 4), (1, 2), (1, 2), True, True, 7),
        (3, 3, 0, True, False, None),
        ((4, 5), (4, 3), (2, 2), False, False, None),
        (2, 1, 1, True, True, None),
    ],
)
def test_avg_pool_general_paths_are_bitwise_the_per_window_loop(
    k, s, p, ceil, incl, div, dtype, threads
):
    for xs in [(2, 3, 9, 11), (1, 2, 8, 40), (1, 1, 5, 21)]:
        x = _x(xs, dtype, xs[3]) * dtype(100)
        args = (k, s, p, ceil, incl, div)
        y = kernels.avg_pool2d_forward(x, *args)
        dy = _x(y.shape, dtype, 9) * dtype(100)
        ey, edx = _avg_loop(x, dy, *args)
        np.testing.assert_array_equal(y, ey)
        np.testing.assert_array_equal(kernels.avg_pool2d_backward(dy, xs, *args), edx)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "xs,out",
    [
        ((2, 3, 8, 8), 4),
        ((2, 3, 28, 28), 14),
        ((1, 2, 9, 12), (3, 4)),
        ((2, 2, 7, 7), 1),
        ((1, 1, 6, 10), (6, 5)),
    ],
)
def test_adaptive_avg_pool_divisible_sizes_are_bitwise_the_loop(xs, out, dtype, threads):
    """Sizes that divide the input take the average pooling paths (kernel = stride = quotient):
    the same windows, divisors and sum order as the adaptive loop."""
    x = _x(xs, dtype, 2) * dtype(100)
    y = kernels.adaptive_avg_pool2d_forward(x, out)
    kh, kw = xs[2] // y.shape[2], xs[3] // y.shape[3]
    dy = _x(y.shape, dtype, 3)
    ey, edx = _avg_loop(x, dy, (kh, kw), (kh, kw), 0, False, True, None)
    np.testing.assert_array_equal(y, ey)
    np.testing.assert_array_equal(kernels.adaptive_avg_pool2d_backward(dy, xs), edx)
    np.testing.assert_allclose(
        y, reference.adaptive_avg_pool2d_forward(x, out), atol=16 * np.finfo(dtype).eps * 100
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "k,s,p,d,ceil",
    [
        (3, 2, 1, 1, False),
        (3, 1, 1, 1, True),
        (2, 1, 0, 1, False),
        (3, 3, 0, 1, True),
        ((3, 2), (1, 2), (1, 1), (2, 3), True),
        ((2, 5), (2, 3), (1, 2), 1, False),
    ],
)
def test_max_pool_general_inner_columns_nan_ties_and_signed_zero(k, s, p, d, ceil, dtype, threads):
    """General windows: the inner columns are vectorised 16 windows a step (widths up to 40
    give full and masked steps); values and indices must be the reference's exactly."""
    rng = np.random.default_rng(11)
    for xs in [(2, 3, 9, 40), (1, 2, 12, 17), (1, 1, 6, 7)]:
        x = rng.integers(-2, 3, xs).astype(dtype)
        x[rng.random(xs) < 0.3] = -0.0
        x[rng.random(xs) < 0.04] = np.nan
        args = (k, s, p, d, ceil)
        y, idx = kernels.max_pool2d_forward(x, *args)
        yr, ir = reference.max_pool2d_forward(x, *args)
        np.testing.assert_array_equal(y, yr)
        np.testing.assert_array_equal(idx, ir)
        np.testing.assert_array_equal(np.signbit(y), np.signbit(yr))
        _check_max(xs, args, dtype, seed=xs[3])
