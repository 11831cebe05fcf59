"""minnet.kernels.conv2d_forward / conv2d_backward against the NumPy reference
(minnet.reference.conv), itself checked by finite differences.

Tolerance: a dot product of length K = C_in/groups * kH * kW (or N * OH * OW for the weight
gradient) errs by at most ~K * eps * |a|.|b|; inputs are uniform in [-1, 1], so we allow
4 * K * eps absolute, in float32 and float64.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests_helpers_kernels import at_1_and_2_threads, check_conv_backward, conv_tol

from minnet import kernels, reference
from minnet._kernels import conv
from minnet.testing import numerical_grad

DTYPES = [np.float32, np.float64]

# (x shape, w shape, stride, padding, dilation, groups): the options one at a time, then mixed
CASES = [
    ((2, 3, 7, 8), (4, 3, 3, 3), 1, 1, 1, 1),  # 3x3 pad 1, non-square
    ((1, 1, 5, 5), (2, 1, 3, 3), 1, 0, 1, 1),  # batch 1, valid
    ((2, 4, 9, 7), (6, 2, 3, 2), 2, (1, 0), (2, 1), 2),  # stride, pair padding, dilation, groups
    ((3, 4, 5, 5), (4, 1, 3, 3), 1, "same", 1, 4),  # depthwise, 'same'
    ((2, 4, 5, 6), (6, 4, 1, 1), 1, 0, 1, 1),  # 1x1 shortcut
    ((2, 4, 5, 6), (6, 4, 1, 1), 2, 0, 1, 1),  # 1x1 strided (im2col path)
    ((1, 2, 6, 6), (3, 2, 4, 4), 1, "same", 1, 1),  # even kernel: asymmetric 'same'
    ((2, 2, 6, 5), (3, 2, 2, 3), 1, "same", 2, 1),  # 'same' with dilation
    ((2, 3, 4, 5), (2, 3, 4, 5), 1, "valid", 1, 1),  # kernel = input
    ((2, 2, 3, 3), (2, 2, 5, 5), 1, 1, 1, 1),  # kernel = padded input
    ((2, 3, 11, 10), (4, 3, 3, 3), 3, 2, 1, 1),  # stride 3
    ((4, 6, 6, 6), (6, 3, 3, 3), (2, 1), (0, 1), 1, 2),  # non-square stride
    ((1, 2, 4, 4), (2, 2, 3, 3), 1, (1, 2, 0, 1), 1, 1),  # explicit (top, bottom, left, right)
]


def _data(rng, xs, ws, dtype):
    x = rng.uniform(-1, 1, xs).astype(dtype)
    w = rng.uniform(-1, 1, ws).astype(dtype)
    b = rng.uniform(-1, 1, ws[0]).astype(dtype)
    return x, w, b


def _run(xs, ws, stride, padding, dilation, groups, dtype, seed=0, activation=None):
    rng = np.random.default_rng(seed)
    x, w, b = _data(rng, xs, ws, dtype)
    args = (stride, padding, dilation, groups)
    y = kernels.conv2d_forward(x, w, b, *args, activation=activation)
    f64 = lambda a: a.astype(np.float64)
    yr = reference.conv2d_forward(f64(x), f64(w), f64(b), *args, activation=activation)
    k = ws[1] * ws[2] * ws[3]
    assert y.dtype == dtype and y.shape == yr.shape
    np.testing.assert_allclose(y, yr, rtol=0, atol=conv_tol(dtype, k))
    dy = rng.uniform(-1, 1, y.shape).astype(dtype)
    dx, dw, db = kernels.conv2d_backward(dy, x, w, *args)
    rx, rw, rb = reference.conv2d_backward(f64(dy), f64(x), f64(w), *args)
    kw_ = y.shape[0] * y.shape[2] * y.shape[3]
    np.testing.assert_allclose(dx, rx, rtol=0, atol=conv_tol(dtype, ws[0] * k))
    np.testing.assert_allclose(dw, rw, rtol=0, atol=conv_tol(dtype, kw_))
    np.testing.assert_allclose(db, rb, rtol=0, atol=conv_tol(dtype, kw_))
    return y, dx, dw, db


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_conv2d_matches_reference(case, dtype, threads, algorithm, isa):
    _run(*case, dtype)


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_conv2d_dx_as_forward_conv(case, threads):
    """The alternative stride-1 input gradient (a forward conv of dY with the flipped weight)."""
    conv._set_dx_as_conv(True)
    try:
        _run(*case, np.float64)
    finally:
        conv._set_dx_as_conv(False)


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_conv2d_without_wide_rows(case, threads):
    """Stride-1 im2col with bounds-checked rows instead of zero-padded wide rows."""
    conv._set_wide(False)
    try:
        _run(*case, np.float32)
    finally:
        conv._set_wide(True)


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_relu_epilogue(dtype, algorithm):
    _run((3, 3, 6, 6), (5, 3, 3, 3), 1, 1, 1, 1, dtype, activation="relu")


def _run_relu_backward(xs, ws, stride, padding, dilation, groups, dtype, seed=0, grads=None):
    """conv2d_backward(relu_out=y) of a relu forward equals the reference's backward of the
    masked gradient, for every combination of the wanted gradients."""
    rng = np.random.default_rng(seed)
    x, w, b = _data(rng, xs, ws, dtype)
    args = (stride, padding, dilation, groups)
    y = kernels.conv2d_forward(x, w, b, *args, activation="relu")
    assert (y == 0).any() and (y > 0).any()  # the mask matters
    dy = rng.uniform(-1, 1, y.shape).astype(dtype)
    check_conv_backward(dy, x, w, args, y, grads, relu_out=y)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_conv2d_backward_through_relu(case, dtype, threads, algorithm):
    _run_relu_backward(*case, dtype)


def test_conv2d_backward_through_relu_course_layers(threads):
    """The course CNN's shapes (batch cut): first layer (implicit dW, direct dX), middle ones."""
    for xs, ws in [
        ((3, 1, 28, 28), (16, 1, 3, 3)),
        ((3, 16, 14, 14), (32, 16, 3, 3)),
        ((2, 32, 7, 7), (32, 32, 3, 3)),
    ]:
        _run_relu_backward(xs, ws, 1, 1, 1, 1, np.float32)


# depthwise path (stride 1, one input channel per group, < 8 outputs per group)
DEPTHWISE = [
    ((2, 3, 9, 10), (3, 1, 3, 3), 1, 1, 1, 3),  # plain, odd sizes
    ((1, 2, 20, 21), (4, 1, 3, 3), 1, 1, 1, 2),  # multiplier 2, rows over a vector
    ((2, 4, 7, 7), (4, 1, 3, 3), 1, 1, 2, 4),  # dilation 2
    ((2, 3, 6, 5), (3, 1, 4, 2), 1, "same", 1, 3),  # even kernel, asymmetric 'same'
    ((2, 2, 5, 5), (2, 1, 3, 3), 1, 3, 1, 2),  # padding past the kernel's reach
    ((3, 5, 1, 1), (5, 1, 1, 1), 1, 0, 1, 5),  # 1x1 images
    ((2, 2, 4, 33), (6, 1, 5, 5), 1, 2, 1, 2),  # 5x5, multiplier 3, wide rows
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", DEPTHWISE, ids=[str(i) for i in range(len(DEPTHWISE))])
def test_depthwise_path(case, dtype, threads, isa):
    _run(*case, dtype)
    if case[0][2] > 1:  # 1x1 images: too few outputs for the relu mask to matter
        _run_relu_backward(*case, dtype, grads=[(True, True, True)])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "case",
    [
        ((2, 8, 9, 9), (8, 8, 3, 3), 2, 1, 1, 1),  # stride 2, odd input: uneven phases
        ((2, 8, 10, 11), (9, 8, 3, 3), (2, 3), (1, 0), 1, 1),
        ((1, 8, 12, 12), (8, 4, 3, 3), 3, 1, 2, 2),  # stride 3 dilation 2 groups 2
        ((2, 8, 7, 7), (8, 8, 1, 1), 2, 0, 1, 1),  # 1x1 stride 2: phases without taps
        ((2, 8, 6, 6), (8, 8, 2, 2), 4, 1, 1, 1),  # stride past the kernel
        ((2, 8, 5, 5), (8, 8, 3, 3), 1, 3, 1, 1),  # stride 1, padding past the reach
        ((2, 8, 9, 8), (8, 8, 3, 3), 2, "valid", 1, 1),
    ],
    ids=str,
)
def test_input_gradient_by_phases(case, dtype, threads):
    """dX of strided (or over-padded) convolutions on the implicit path, auto (8+ channels)."""
    _run(*case, dtype)
    _run_relu_backward(*case, dtype, grads=[(True, False, False)])


@pytest.mark.parametrize(
    "case",
    [
        ((2, 9, 37, 41), (10, 9, 3, 3), 1, 1, 1, 1),  # many column tiles, 10 rows of 16
        ((2, 9, 37, 41), (10, 9, 3, 3), 2, 1, 1, 1),  # phases over wide rows
        ((3, 17, 20, 19), (24, 17, 5, 3), 1, (2, 1), (1, 2), 1),
        ((2, 12, 33, 9), (8, 6, 3, 3), (1, 2), 1, 1, 2),  # groups, mixed stride
    ],
    ids=str,
)
def test_implicit_larger_images(case, threads):
    """Images spanning many 32-pixel tiles and partial row blocks, auto and implicit."""
    for algo in ("auto", "implicit"):
        conv.set_algorithm(algo)
        try:
            _run(*case, np.float32)
        finally:
            conv.set_algorithm("auto")


def test_relu_out_bad_shape():
    x = np.zeros((2, 3, 5, 5), np.float32)
    w = np.zeros((4, 3, 3, 3), np.float32)
    dy = np.zeros((2, 4, 5, 5), np.float32)
    with pytest.raises(ValueError, match="relu_out"):
        kernels.conv2d_backward(dy, x, w, 1, 1, relu_out=np.zeros((2, 4, 5, 4), np.float32))
    with pytest.raises(TypeError, match="relu_out"):
        kernels.conv2d_backward(dy, x, w, 1, 1, relu_out=np.zeros((2, 4, 5, 5)))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 3),
    g=st.integers(1, 3),
    cig=st.integers(1, 3),
    cog=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    kh=st.integers(1, 4),
    kw=st.integers(1, 4),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
    pad=st.one_of(
        st.integers(0, 2),
        st.tuples(st.integers(0, 2), st.integers(0, 2)),
        st.just("same"),
        st.just("valid"),
    ),
    f64=st.booleans(),
    seed=st.integers(0, 1000),
    algo=st.sampled_from(["auto", "im2col", "direct", "implicit"]),
)
def test_conv2d_hypothesis(n, g, cig, cog, h, w, kh, kw, sh, sw, dh, dw, pad, f64, seed, algo):
    if pad == "same":
        sh = sw = 1
    xs, ws = (n, g * cig, h, w), (g * cog, cig, kh, kw)
    dtype = np.float64 if f64 else np.float32
    try:
        reference.conv2d_forward(np.zeros(xs), np.zeros(ws), None, (sh, sw), pad, (dh, dw), g)
    except ValueError:  # kernel larger than the padded input: both sides must refuse
        with pytest.raises(ValueError):
            kernels.conv2d_forward(
                np.zeros(xs, dtype), np.zeros(ws, dtype), None, (sh, sw), pad, (dh, dw), g
            )
        return
    conv.set_algorithm(algo)
    try:
        _run(xs, ws, (sh, sw), pad, (dh, dw), g, dtype, seed)
    finally:
        conv.set_algorithm("auto")


@pytest.mark.parametrize("algo", ["im2col", "direct", "implicit"])
def test_threads_give_equal_results(algo):
    """Forward and input gradient bitwise equal at 1 and 2 threads; the weight gradient is
    summed per thread then added, so only its rounding may differ."""
    rng = np.random.default_rng(3)
    x, w, b = _data(rng, (6, 4, 9, 9), (8, 4, 3, 3), np.float32)
    dy = rng.uniform(-1, 1, (6, 8, 9, 9)).astype(np.float32)

    def run():
        return (kernels.conv2d_forward(x, w, b, 1, 1),) + kernels.conv2d_backward(dy, x, w, 1, 1)

    conv.set_algorithm(algo)
    try:
        (y1, dx1, dw1, db1), (y2, dx2, dw2, db2) = at_1_and_2_threads(run)
    finally:
        conv.set_algorithm("auto")
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(dx1, dx2)
    np.testing.assert_array_equal(db1, db2)
    np.testing.assert_allclose(dw1, dw2, rtol=1e-5, atol=1e-5)


def test_selected_gradients_only():
    rng = np.random.default_rng(4)
    x, w, _ = _data(rng, (2, 3, 5, 5), (4, 3, 3, 3), np.float64)
    dy = rng.uniform(-1, 1, (2, 4, 3, 3))
    dx, dw, db = kernels.conv2d_backward(dy, x, w, input_grad=False, bias_grad=False)
    assert dx is None and db is None
    np.testing.assert_allclose(dw, reference.conv2d_backward(dy, x, w)[1], atol=1e-12)


def test_reference_backward_matches_finite_differences():
    """The oracle's own gradient against central differences of its forward (float64)."""
    rng = np.random.default_rng(5)
    args = ((2, 1), (1, 0), (1, 2), 2)
    x, w, b = _data(rng, (1, 4, 5, 6), (2, 2, 2, 3), np.float64)
    y = reference.conv2d_forward(x, w, b, *args)
    dy = rng.uniform(-1, 1, y.shape)
    dx, dw, db = reference.conv2d_backward(dy, x, w, *args)
    loss = lambda: float((reference.conv2d_forward(x, w, b, *args) * dy).sum())
    for arr, grad in ((x, dx), (w, dw), (b, db)):
        np.testing.assert_allclose(grad, numerical_grad(loss, arr), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("impl", [kernels, reference], ids=["kernels", "reference"])
@pytest.mark.parametrize(
    "xs,ws,kw,match",
    [
        ((2, 3, 8), (4, 3, 3, 3), {}, "input.*4-D.*shape \\(2, 3, 8\\)"),
        ((2, 3, 8, 8), (4, 2, 3, 3), {}, "has 3 channels.*weight shape \\(4, 2, 3, 3\\)"),
        ((2, 4, 8, 8), (6, 2, 3, 3), {"groups": 3}, "groups=3 must divide"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": 0}, "stride must be >= 1"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"stride": -1}, "stride must be >= 1"),
        ((2, 3, 2, 2), (4, 3, 3, 3), {}, "larger than the padded input.*\\(2, 3, 2, 2\\)"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": "same", "stride": 2}, "'same' needs stride 1"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": "full"}, "padding must be"),
        ((2, 3, 8, 8), (4, 3, 3, 3), {"dilation": 0}, "dilation must be >= 1"),
    ],
)
def test_bad_input(impl, xs, ws, kw, match):
    with pytest.raises(ValueError, match=match):
        impl.conv2d_forward(np.zeros(xs, np.float32), np.zeros(ws, np.float32), **kw)


def test_bad_dtype_and_bias():
    x, w = np.zeros((1, 2, 4, 4), np.float32), np.zeros((3, 2, 3, 3), np.float32)
    with pytest.raises(TypeError, match="weight has dtype float64"):
        kernels.conv2d_forward(x, w.astype(np.float64))
    with pytest.raises(ValueError, match="bias must have shape \\(3,\\)"):
        kernels.conv2d_forward(x, w, np.zeros(2, np.float32))
    with pytest.raises(ValueError, match="grad_output must have shape"):
        kernels.conv2d_backward(np.zeros((1, 3, 3, 3), np.float32), x, w)


@pytest.mark.parametrize("impl", [kernels, reference], ids=["kernels", "reference"])
def test_out_arrays_are_written(impl):
    rng = np.random.default_rng(6)
    x, w, b = _data(rng, (2, 3, 5, 5), (4, 3, 3, 3), np.float64)
    y = np.full((2, 4, 5, 5), np.nan)
    assert impl.conv2d_forward(x, w, b, 1, 1, out=y) is y
    np.testing.assert_allclose(y, reference.conv2d_forward(x, w, b, 1, 1), atol=1e-12)
    dx, dw = np.full(x.shape, np.nan), np.full(w.shape, np.nan)
    rx, rw, _ = impl.conv2d_backward(y, x, w, 1, 1, dx_out=dx, dw_out=dw)
    assert rx is dx and rw is dw
    ex, ew, _ = reference.conv2d_backward(y, x, w, 1, 1)
    np.testing.assert_allclose(dx, ex, atol=1e-12)
    np.testing.assert_allclose(dw, ew, atol=1e-12)
    if impl is kernels:
        with pytest.raises(ValueError, match="out must have shape"):
            impl.conv2d_forward(x, w, b, 1, 1, out=np.empty((2, 4, 4, 4)))


# Row tiles (csrc/conv_rowtile.h: float32, AVX-512 and AVX2 (8 channels x 7/8 pixels; the
# dW tiles AVX-512 only), stride and dilation 1, 3 taps wide (or 5: forward and dX at stride
# 1; their dW and stride 2 stay on the wide tiles), 16+ output rows, 4+ input planes), at
# every ISA level: partial last tiles (rows of 5, 9, 10, 13, 17, 23, 30),
# both tile widths (7/8 pixels with 32 channels, 14/16 with 16), partial channel blocks
# (17, 24, 33, 48 rows), kernel heights 1, 2 and 5, groups, valid and wider padding, stride 2,
# and the input gradient (rows = C_in) through the same tiles.
ROWTILE = [
    ((2, 4, 7, 7), (32, 4, 3, 3), 1, 1, 1, 1),
    ((2, 8, 5, 9), (17, 8, 3, 3), 1, 1, 1, 1),
    ((1, 16, 14, 14), (16, 16, 3, 3), 1, 1, 1, 1),
    ((2, 24, 10, 13), (24, 24, 3, 3), 1, 1, 1, 1),
    ((1, 33, 6, 17), (48, 33, 2, 3), 1, "same", 1, 1),
    ((2, 20, 9, 23), (33, 20, 5, 3), 1, (2, 1), 1, 1),
    ((1, 32, 4, 30), (40, 16, 1, 3), 1, (0, 1), 1, 2),
    ((2, 17, 8, 16), (20, 17, 3, 3), 1, 0, 1, 1),
    ((1, 16, 6, 20), (16, 16, 3, 3), 1, 2, 1, 1),
    # rows of 20+ pixels: 12-pixel tiles, then 8 (32 = 12+12+8, 28 = 12+8+8, 20, 36)
    ((2, 4, 3, 32), (32, 4, 3, 3), 1, 1, 1, 1),
    ((2, 6, 2, 28), (40, 6, 3, 3), 1, 1, 1, 1),
    ((2, 5, 3, 20), (17, 5, 3, 3), 1, 1, 1, 1),
    ((1, 4, 2, 36), (33, 4, 3, 3), 1, 1, 1, 1),
    ((2, 4, 5, 40), (24, 4, 3, 3), 2, 1, 1, 1),
    ((2, 24, 3, 32), (8, 24, 3, 3), 1, 1, 1, 1),  # dX by 12-pixel tiles
    # stride 2 (forward only: the planes are the padded input, rows of 2*OW + 1)
    ((2, 8, 9, 11), (32, 8, 3, 3), 2, 1, 1, 1),
    ((2, 16, 16, 16), (16, 16, 3, 3), 2, 1, 1, 1),
    ((2, 8, 10, 7), (20, 8, 4, 3), 2, (1, 2), 1, 1),
    ((2, 5, 12, 13), (24, 5, 5, 3), 2, 0, 1, 1),
    ((2, 12, 33, 34), (40, 6, 3, 3), 2, 1, 1, 2),
    # 5 taps wide: both tile widths, partial tiles and channel blocks, dX (rows = C_in),
    # cnn_tfdoc's 32->64 5x5 pad 2 at 14x14, a 5x5 at stride 2 (wide tiles), and groups
    ((2, 32, 14, 14), (64, 32, 5, 5), 1, 2, 1, 1),
    ((2, 4, 7, 9), (17, 4, 5, 5), 1, 2, 1, 1),
    ((1, 16, 6, 21), (16, 16, 3, 5), 1, (1, 2), 1, 1),
    ((2, 20, 9, 13), (33, 20, 5, 5), 1, 0, 1, 1),
    ((2, 24, 5, 30), (20, 24, 2, 5), 1, (0, 3), 1, 1),
    ((2, 8, 11, 12), (32, 8, 5, 5), 2, 2, 1, 1),
    ((1, 32, 8, 8), (48, 16, 5, 5), 1, 2, 1, 2),
]


@pytest.mark.parametrize("rowtile", [True, False], ids=["rowtile", "wide"])
@pytest.mark.parametrize("case", ROWTILE, ids=[str(i) for i in range(len(ROWTILE))])
def test_row_tiles(case, rowtile, threads, isa):
    conv._set_rowtile(rowtile)
    try:
        _run(*case, np.float32)
        _run(*case, np.float32, activation="relu", seed=1)
        _run_relu_backward(*case, np.float32, seed=2, grads=[(True, False, False)])
    finally:
        conv._set_rowtile(True)


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
def test_wide_tiles_where_row_tiles_apply(case):
    """The general cases again with the row tiles off: the wide tiles keep their coverage."""
    conv._set_rowtile(False)
    try:
        _run(*case, np.float32)
    finally:
        conv._set_rowtile(True)
