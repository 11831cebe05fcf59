"""minnet.kernels.gemm / colsum against the NumPy reference (minnet.reference).

Tolerance: the componentwise bound for a dot product of length K in floating point,
|fl(A@B) - A@B| <= gamma_K |A| @ |B| with gamma_K ~ K * eps; we allow 2 * (K + 2) * eps times
|alpha| |op(A)| @ |op(B)| + |beta C| + |bias|, plus a few ulps for the activation. The
reference is evaluated in float64, so its own error is far below this.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minnet
from minnet import kernels, reference
from minnet._kernels import _runtime

DTYPES = [np.float32, np.float64]
ACTS = [None, "relu", "sigmoid", "tanh"]

# (m, k, n): edge sizes, odd sizes, and the course's dense-layer shapes
SHAPES = [
    (1, 1, 1),
    (2, 3, 4),
    (7, 5, 3),
    (17, 33, 65),
    (1, 1000, 1),
    (1000, 1, 7),
    (33, 513, 65),
    (100, 2, 300),
    (9, 17, 31),
    (8, 32, 32),
    (16, 64, 64),
    (1, 784, 512),
    (2, 1100, 1000),
    (10, 1, 784),
    (512, 128, 784),
    (128, 784, 512),
    (128, 512, 10),
    (128, 128, 128),
    (64, 128, 384),
]


def _operands(rng, m, k, n, dtype, trans_a, trans_b):
    a = rng.uniform(-1, 1, (k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.uniform(-1, 1, (n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def _check(
    c,
    a,
    b,
    *,
    trans_a=False,
    trans_b=False,
    alpha=1.0,
    beta=0.0,
    bias=None,
    activation=None,
    c0=None,
):
    dtype = a.dtype
    f64 = lambda x: None if x is None else x.astype(np.float64)
    expect = reference.gemm(
        f64(a),
        f64(b),
        trans_a=trans_a,
        trans_b=trans_b,
        alpha=alpha,
        beta=beta,
        bias=f64(bias),
        activation=activation,
        out=None if c0 is None else f64(c0).copy(),
    )
    op_a = np.abs(f64(a).T if trans_a else f64(a))
    op_b = np.abs(f64(b).T if trans_b else f64(b))
    k = op_a.shape[1]
    scale = abs(alpha) * (op_a @ op_b)
    if beta != 0:
        scale = scale + abs(beta) * np.abs(f64(c0))
    if bias is not None:
        scale = scale + np.abs(f64(bias))
    eps = np.finfo(dtype).eps
    tol = 2 * (k + 2) * eps * scale + 8 * eps * np.maximum(np.abs(expect), 1e-30)
    if activation in ("sigmoid", "tanh"):
        tol = tol + 8 * eps  # the activation's own rounding, near |y| ~ 1
    assert c.dtype == dtype and c.shape == expect.shape
    err = np.abs(c.astype(np.float64) - expect)
    worst = np.unravel_index(np.argmax(err - tol), err.shape) if err.size else None
    assert np.all(err <= tol), (
        f"max excess at {worst}: got {c[worst]}, expected {expect[worst]}, tol {tol[worst]}"
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a,trans_b", list(itertools.product([False, True], repeat=2)))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_gemm_matches_reference(isa, shape, trans_a, trans_b, dtype):
    m, k, n = shape
    rng = np.random.default_rng(m * 1000003 + k * 1009 + n)
    a, b = _operands(rng, m, k, n, dtype, trans_a, trans_b)
    c = kernels.gemm(a, b, trans_a=trans_a, trans_b=trans_b)
    _check(c, a, b, trans_a=trans_a, trans_b=trans_b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize(
    "shape",
    [(1, 1, 1), (17, 33, 65), (128, 512, 10), (64, 700, 384), (5, 9, 100)],
    ids=lambda s: "x".join(map(str, s)),
)
def test_gemm_epilogue(isa, shape, activation, dtype):
    """alpha, beta, bias and activation together, including k > KC (the epilogue runs only
    after the last k block) and the narrow-N transposed path (bias along rows)."""
    m, k, n = shape
    rng = np.random.default_rng(42 + m + n)
    for trans_a, trans_b in [(False, True), (True, False)]:
        a, b = _operands(rng, m, k, n, dtype, trans_a, trans_b)
        bias = rng.uniform(-2, 2, n).astype(dtype)
        c0 = rng.uniform(-1, 1, (m, n)).astype(dtype)
        for alpha, beta in [(1.0, 0.0), (0.5, 1.0), (-2.0, -0.25)]:
            kw = dict(trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta, bias=bias)
            out = c0.copy()
            c = kernels.gemm(a, b, **kw, activation=activation, out=out)
            assert c is out
            _check(c, a, b, **kw, activation=activation, c0=c0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_weight_gradient_shape(dtype):
    """dW = X^T @ dY for a 784-512 layer at batch 128: A transposed, K = 128."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((128, 784)).astype(dtype)
    dy = rng.standard_normal((128, 512)).astype(dtype)
    _check(kernels.gemm(x, dy, trans_a=True), x, dy, trans_a=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape",
    [
        (128, 784, 512), (200, 300, 10), (1024, 64, 96), (3, 5, 7), (1, 784, 512),
        (2, 1100, 1000),
        # one row block (m <= MC): gemm_driver.h's panel mode, with partial tiles, several k
        # blocks, and a last column block (n > NC) too narrow for it at 3 threads
        (128, 128, 128), (131, 1100, 97), (60, 200, 4200),
    ],
)  # fmt: skip
@pytest.mark.parametrize("nt", [2, 3])
def test_threads_give_identical_results(shape, dtype, nt):
    """Threads split micro-tiles, never a dot product: 1, 2 and 3 threads agree bit for bit."""
    m, k, n = shape
    rng = np.random.default_rng(3)
    a, b = _operands(rng, m, k, n, dtype, False, True)
    bias = rng.standard_normal(n).astype(dtype)
    with minnet.threads(1):
        c1 = kernels.gemm(a, b, trans_b=True, bias=bias, activation="tanh")
    with minnet.threads(nt):
        c2 = kernels.gemm(a, b, trans_b=True, bias=bias, activation="tanh")
    np.testing.assert_array_equal(c1, c2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_views_and_layouts(dtype):
    """Transposed, Fortran-ordered, sliced and negative-stride views give the same answer."""
    rng = np.random.default_rng(11)
    base_a = rng.standard_normal((40, 60)).astype(dtype)
    base_b = rng.standard_normal((60, 50)).astype(dtype)
    views_a = [
        base_a,
        np.asfortranarray(base_a),
        base_a[:, :],
        base_a[::-1, :][::-1, :],
        np.ascontiguousarray(base_a.T).T,
        base_a[:, ::-1][:, ::-1],
    ]
    views_b = [base_b, np.asfortranarray(base_b), np.ascontiguousarray(base_b.T).T]
    expect = kernels.gemm(np.ascontiguousarray(base_a), np.ascontiguousarray(base_b))
    for va in views_a:
        for vb in views_b:
            np.testing.assert_allclose(kernels.gemm(va, vb), expect, rtol=0, atol=0)
    # strided (every other column) views are copied, not misread
    wide = rng.standard_normal((40, 120)).astype(dtype)
    _check(kernels.gemm(wide[:, ::2], base_b), np.ascontiguousarray(wide[:, ::2]), base_b)
    # a padded row stride (a slice of a wider array) is used in place
    _check(kernels.gemm(wide[:, :60], base_b), np.ascontiguousarray(wide[:, :60]), base_b)


def test_out_aliasing_inputs_is_safe():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((33, 33)).astype(np.float32)
    b = rng.standard_normal((33, 33)).astype(np.float32)
    expect = reference.gemm(a.astype(np.float64), b.astype(np.float64))
    x = a.copy()
    kernels.gemm(x, b, out=x)  # out is a: a is read in full before C is written
    np.testing.assert_allclose(x, expect, rtol=1e-4, atol=1e-4)
    y = b.copy()
    kernels.gemm(a, y, alpha=1.0, beta=1.0, out=y)  # C := A @ B + B, with out = b
    np.testing.assert_allclose(y, expect + b, rtol=1e-4, atol=1e-4)


def test_special_sizes():
    a = np.ones((0, 5), np.float32)
    b = np.ones((5, 3), np.float32)
    assert kernels.gemm(a, b).shape == (0, 3)
    # k == 0: op(A) @ op(B) is zeros, the epilogue still applies
    a0 = np.ones((4, 0), np.float32)
    b0 = np.ones((0, 3), np.float32)
    bias = np.array([1.0, -1.0, 2.0], np.float32)
    c = kernels.gemm(a0, b0, bias=bias, activation="relu")
    np.testing.assert_array_equal(c, np.tile([1.0, 0.0, 2.0], (4, 1)))


def test_nan_inf_propagate_like_numpy():
    a = np.ones((20, 40), np.float32)
    b = np.ones((40, 36), np.float32)
    a[3, 7] = np.nan
    b[5, 30] = np.inf
    c = kernels.gemm(a, b)
    ref = a @ b
    np.testing.assert_array_equal(np.isnan(c), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(c), np.isinf(ref))
    # relu keeps NaN, as np.maximum does
    assert np.isnan(kernels.gemm(a, b, activation="relu")[3, 0])
    # beta == 0 never reads out: NaN garbage in it does not leak
    out = np.full((20, 36), np.nan, np.float32)
    kernels.gemm(np.ones((20, 40), np.float32), b, out=out)
    assert not np.isnan(out).any()


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 70),
    k=st.integers(1, 90),
    n=st.integers(1, 70),
    trans_a=st.booleans(),
    trans_b=st.booleans(),
    f64=st.booleans(),
    activation=st.sampled_from(ACTS),
    with_bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_gemm_hypothesis(m, k, n, trans_a, trans_b, f64, activation, with_bias, seed):
    dtype = np.float64 if f64 else np.float32
    rng = np.random.default_rng(seed)
    a, b = _operands(rng, m, k, n, dtype, trans_a, trans_b)
    bias = rng.uniform(-1, 1, n).astype(dtype) if with_bias else None
    c = kernels.gemm(a, b, trans_a=trans_a, trans_b=trans_b, bias=bias, activation=activation)
    _check(c, a, b, trans_a=trans_a, trans_b=trans_b, bias=bias, activation=activation)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape", [(1, 1), (0, 4), (4, 0), (128, 512), (3, 1000), (1000, 3), (517, 300)]
)
def test_colsum_matches_reference(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape).astype(dtype)
    got = kernels.colsum(a)
    expect = reference.colsum(a.astype(np.float64))
    tol = 2 * (shape[0] + 1) * np.finfo(dtype).eps * np.abs(a.astype(np.float64)).sum(axis=0)
    assert np.all(np.abs(got - expect) <= tol)
    out = np.ones(shape[1], dtype)
    kernels.colsum(a, out=out, accumulate=True)
    assert np.all(np.abs(out - (expect + 1)) <= tol + np.finfo(dtype).eps * 2)
    with minnet.threads(1):
        one = kernels.colsum(a)
    np.testing.assert_array_equal(one, got)


BAD_CALLS = [
    (lambda: kernels.gemm([[1.0]], np.ones((1, 1))), TypeError, "a must be a numpy.ndarray"),
    (
        lambda: kernels.gemm(np.ones(3), np.ones((3, 1))),
        ValueError,
        r"a must be 2-D, got shape \(3,\)",
    ),
    (
        lambda: kernels.gemm(np.ones((2, 3), np.int64), np.ones((3, 1))),
        TypeError,
        "float32 or float64",
    ),
    (lambda: kernels.gemm(np.ones((2, 3), np.float32), np.ones((3, 1))), TypeError, "same dtype"),
    (
        lambda: kernels.gemm(np.ones((2, 3)), np.ones((4, 1))),
        ValueError,
        r"inner dimensions differ: op\(a\) is \(2, 3\).*op\(b\) is \(4, 1\)",
    ),
    (
        lambda: kernels.gemm(np.ones((2, 3)), np.ones((2, 3)), trans_b=False),
        ValueError,
        "inner dimensions",
    ),
    (
        lambda: kernels.gemm(np.ones((2, 3)), np.ones((3, 4)), out=np.ones((4, 2))),
        ValueError,
        r"out must have shape \(2, 4\), got \(4, 2\)",
    ),
    (
        lambda: kernels.gemm(np.ones((2, 3)), np.ones((3, 4)), out=np.ones((2, 4), np.float32)),
        TypeError,
        "out must have dtype float64",
    ),
    (
        lambda: kernels.gemm(np.ones((2, 3)), np.ones((3, 4)), out=np.ones((4, 2)).T),
        ValueError,
        "C-contiguous",
    ),
    (lambda: kernels.gemm(np.ones((2, 3)), np.ones((3, 4)), beta=1.0), ValueError, "needs out="),
    (
        lambda: kernels.gemm(np.ones((2, 3)), np.ones((3, 4)), bias=np.ones(3)),
        ValueError,
        r"bias must have shape \(4,\)",
    ),
    (
        lambda: kernels.gemm(np.ones((2, 3)), np.ones((3, 4)), activation="softplus"),
        ValueError,
        "activation must be one of",
    ),
    (lambda: kernels.colsum(np.ones(3)), ValueError, "colsum: a must be 2-D"),
    (
        lambda: kernels.colsum(np.ones((2, 3)), out=np.ones(2)),
        ValueError,
        r"out must have shape \(3,\)",
    ),
]


@pytest.mark.parametrize("call,exc,match", BAD_CALLS)
def test_bad_input_raises_clearly(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_read_only_out_rejected():
    out = np.ones((2, 4))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        kernels.gemm(np.ones((2, 3)), np.ones((3, 4)), out=out)


def test_threads_api():
    n = minnet.get_num_threads()
    with minnet.threads(1):
        assert minnet.get_num_threads() == 1
    assert minnet.get_num_threads() == n
    with pytest.raises(ValueError):
        minnet.set_num_threads(0)
    with pytest.raises(TypeError):
        minnet.set_num_threads(1.5)
    info = minnet.build_info()
    assert info["pool_workers"] >= 0 and info["isa"] in _runtime.ISA_NAMES
