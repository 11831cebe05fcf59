"""Checks the kernel tests share: the conv tolerance and gradient check, and the same call at
1 and at 2 threads."""

import numpy as np

import minnet
from minnet import kernels, reference

# every combination of wanted gradients worth telling apart: (input, weight, bias)
GRAD_CHOICES = [
    (True, True, True),
    (False, True, True),
    (True, False, False),
    (False, False, True),
]


def conv_tol(dtype, k):
    """Absolute tolerance of a conv sum of k products of values in [-1, 1]: 4 (k + 2) eps."""
    return 4 * (k + 2) * np.finfo(dtype).eps


def check_conv_backward(dy, x, w, args, y, grads=None, **saved):
    """kernels.conv2d_backward(dy, x, w, *args, **saved) against the float64 reference for
    each (input_grad, weight_grad, bias_grad) in ``grads`` (default GRAD_CHOICES): the same
    gradients are None, the others have x's dtype and agree within conv_tol of their sum's
    length (y: the conv's output, whose shape sets that of dW and db). ``saved``: relu_out=
    or pool_code= of the forward, passed to the reference in float64 if floating."""
    dtype = x.dtype
    f64 = lambda a: a.astype(np.float64)
    saved64 = {k: f64(v) if v.dtype.kind == "f" else v for k, v in saved.items()}
    k = w.shape[1] * w.shape[2] * w.shape[3]
    kw_ = y.shape[0] * y.shape[2] * y.shape[3]
    tols = (conv_tol(dtype, w.shape[0] * k), conv_tol(dtype, kw_), conv_tol(dtype, kw_))
    for ig, wg, bg in grads or GRAD_CHOICES:
        flags = dict(input_grad=ig, weight_grad=wg, bias_grad=bg)
        got = kernels.conv2d_backward(dy, x, w, *args, **flags, **saved)
        want = reference.conv2d_backward(f64(dy), f64(x), f64(w), *args, **flags, **saved64)
        for a, r, tol in zip(got, want, tols):
            assert (a is None) == (r is None)
            if a is not None:
                assert a.dtype == dtype
                np.testing.assert_allclose(a, r, rtol=0, atol=tol)


def at_1_and_2_threads(fn):
    """(fn() at 1 thread, fn() at 2 threads); the thread count is restored after."""
    with minnet.threads(1):
        one = fn()
    with minnet.threads(2):
        two = fn()
    return one, two
