"""minnet.kernels.batch_norm_forward / batch_norm_backward against the float64 reference
(minnet.reference.norm): shapes (N, C), (N, C, L), (N, C, H, W) with odd sizes and size 1,
training and eval, with and without weight and bias, every gradient subset, every ISA, 1 and
2 threads. Tolerance: per-channel sums of m values, ~m * eps relative to the data's scale."""

import numpy as np
import pytest
from tests_helpers_kernels import at_1_and_2_threads

from minnet import kernels, reference

SHAPES = [(7, 5), (1, 3, 9), (4, 3, 5, 6), (2, 1, 1, 1), (3, 16, 33, 17), (64, 2, 1)]


def _data(rng, shape, dtype, scale=3.0, shift=10.0):
    c = shape[1]
    x = (rng.standard_normal(shape) * scale + shift).astype(dtype)
    return x, rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)


def _tol(dtype, m):
    return 8 * (m + 8) * np.finfo(dtype).eps


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_matches_reference(shape, dtype, training, affine, threads, isa):
    rng = np.random.default_rng(sum(shape))
    x, w, b = _data(rng, shape, dtype)
    if not affine:
        w = b = None
    c, m = shape[1], x.size // shape[1]
    if training and m < 2:
        pytest.skip("one value per channel")
    rm, rv = rng.standard_normal(c) + 10, rng.uniform(1, 5, c)
    y, mean, var = kernels.batch_norm_forward(x, w, b, rm, rv, training, 1e-5)
    yr, meanr, varr = reference.batch_norm_forward(x, w, b, rm, rv, training, 1e-5)
    assert y.dtype == dtype and mean.dtype == var.dtype == np.float64
    np.testing.assert_allclose(mean, meanr, rtol=_tol(dtype, m), atol=0)
    np.testing.assert_allclose(var, varr, rtol=100 * _tol(dtype, m), atol=_tol(dtype, m))
    scale = 1 if w is None else np.abs(w).max()
    np.testing.assert_allclose(y, yr, rtol=0, atol=_tol(dtype, m) * 50 * scale)
    dy = rng.standard_normal(shape).astype(dtype)
    for ig, wg, bg in [
        (True, True, True),
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]:
        got = kernels.batch_norm_backward(
            dy, x, mean, var, w, 1e-5, training, input_grad=ig, weight_grad=wg, bias_grad=bg
        )
        want = reference.batch_norm_backward(
            dy, x, meanr, varr, w, 1e-5, training, input_grad=ig, weight_grad=wg, bias_grad=bg
        )
        for a, r in zip(got, want):
            assert (a is None) == (r is None)
            if a is not None:
                assert a.dtype == dtype
                np.testing.assert_allclose(
                    a, r, rtol=0, atol=_tol(dtype, m) * 50 * max(1, np.abs(r).max())
                )


def test_normalises_and_leaves_running_stats_alone():
    rng = np.random.default_rng(0)
    x, _, _ = _data(rng, (8, 4, 6, 6), np.float32, scale=2.0, shift=1000.0)
    rm, rv = np.zeros(4), np.ones(4)
    y, mean, var = kernels.batch_norm_forward(x, None, None, rm, rv, True, 0.0)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=2e-4)  # a large mean cancels
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, atol=1e-4)
    assert (rm == 0).all() and (rv == 1).all()


def test_threads_give_equal_results():
    rng = np.random.default_rng(1)
    x, w, b = _data(rng, (16, 8, 20, 20), np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)

    def run():
        y, mean, var = kernels.batch_norm_forward(x, w, b)
        return (y, mean, var) + kernels.batch_norm_backward(dy, x, mean, var, w)

    for a, r in zip(*at_1_and_2_threads(run)):
        np.testing.assert_array_equal(a, r)


def test_out_arrays():
    rng = np.random.default_rng(2)
    x, w, b = _data(rng, (3, 4, 5), np.float64)
    out, dxo = np.empty_like(x), np.empty_like(x)
    y, mean, var = kernels.batch_norm_forward(x, w, b, out=out)
    assert y is out
    dx, _, _ = kernels.batch_norm_backward(np.ones_like(x), x, mean, var, w, dx_out=dxo)
    assert dx is dxo


def test_bad_input():
    x = np.zeros((4, 3, 5), np.float32)
    with pytest.raises(ValueError, match="input must be"):
        kernels.batch_norm_forward(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"weight must have shape \(3,\)"):
        kernels.batch_norm_forward(x, np.ones(4, np.float32))
    with pytest.raises(TypeError, match="bias has dtype float64"):
        kernels.batch_norm_forward(x, None, np.ones(3))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        kernels.batch_norm_forward(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="running_mean and running_var are needed"):
        kernels.batch_norm_forward(x, training=False)
    with pytest.raises(ValueError, match=r"running_var must have shape \(3,\)"):
        kernels.batch_norm_forward(x, None, None, np.zeros(3), np.ones(2), False)
    with pytest.raises(ValueError, match="grad_output must have the input's shape"):
        kernels.batch_norm_backward(np.zeros((4, 3, 4), np.float32), x, np.zeros(3), np.ones(3))
    with pytest.raises(TypeError, match="input must be float32 or float64"):
        kernels.batch_norm_forward(np.zeros((4, 3), np.int32))
