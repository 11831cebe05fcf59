"""Generated calls of every minnet.kernels family (hypothesis): a valid call is built at a
random small shape (sizes 1 and odd sizes included), then one argument is mutated: another
dtype (ints, bool, float16, complex, object), a non-contiguous / negative-stride / broadcast
view, NaN and inf values, a zero-size or wrong-rank array, a list. Each call must either
equal minnet.reference on the same arguments (relative 1e-4 in float32, 1e-9 in float64, NaN
where the reference has NaN) or raise ValueError/TypeError; never crash, hang or return a
wrong answer. ``MINNET_FUZZ_EXAMPLES`` sets the examples per family (default 60)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from tests_helpers_fuzz import fuzz_settings

from minnet import kernels, reference

FUZZ = fuzz_settings(60, HealthCheck.filter_too_much)
TOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-9}
MUTATIONS = [
    "none",
    "dtype",
    "noncontig",
    "negstride",
    "broadcast",
    "nan",
    "inf",
    "empty",
    "rank",
    "list",
]
DTYPES = [np.int32, np.int64, np.uint8, np.bool_, np.float16, np.complex64, object]


def _f(rng, shape, dt, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, shape).astype(dt)


# ---- one valid call per family: (name, positional args, keyword args); arrays only in args
def _gemm(rng, dt):
    m, k, n = (int(rng.integers(1, 9)) for _ in range(3))
    ta, tb = bool(rng.integers(2)), bool(rng.integers(2))
    a = _f(rng, (k, m) if ta else (m, k), dt)
    b = _f(rng, (n, k) if tb else (k, n), dt)
    kw = dict(
        trans_a=ta, trans_b=tb, activation=[None, "relu", "sigmoid", "tanh"][int(rng.integers(4))]
    )
    args = [a, b]
    if rng.integers(2):
        kw["bias"] = _f(rng, (n,), dt)
    return "gemm", args, kw


def _act(rng, dt):
    kind = sorted(kernels.ACT_BACKWARD_INPUT)[int(rng.integers(len(kernels.ACT_BACKWARD_INPUT)))]
    shape = tuple(int(s) for s in rng.integers(1, 6, int(rng.integers(1, 4))))
    return "act_forward", [_f(rng, shape, dt, -3, 3)], dict(kind=kind)


def _act_bwd(rng, dt):
    kind = sorted(kernels.ACT_BACKWARD_INPUT)[int(rng.integers(len(kernels.ACT_BACKWARD_INPUT)))]
    shape = tuple(int(s) for s in rng.integers(1, 6, int(rng.integers(1, 4))))
    saved = _f(rng, shape, dt, -3, 3)
    if kernels.ACT_BACKWARD_INPUT[kind] == "y":
        saved = np.tanh(saved) if kind == "tanh" else 1 / (1 + np.exp(-saved))
    return "act_backward", [_f(rng, shape, dt), saved.astype(dt)], dict(kind=kind)


def _softmax(rng, dt):
    shape = (int(rng.integers(1, 6)), int(rng.integers(1, 9)))
    return "softmax", [_f(rng, shape, dt, -5, 5)], dict(log=bool(rng.integers(2)))


def _xent(rng, dt):
    n, c = int(rng.integers(1, 7)), int(rng.integers(1, 8))
    t = rng.integers(0, c, n).astype(np.int64)
    kw = dict(
        reduction=["mean", "sum", "none"][int(rng.integers(3))],
        label_smoothing=float(rng.choice([0.0, 0.1])),
    )
    args = [_f(rng, (n, c), dt, -4, 4), t]
    if rng.integers(2):
        kw["weight"] = _f(rng, (c,), dt, 0.1, 2)
    return "cross_entropy_forward", args, kw


def _conv(rng, dt):
    n, ci, co = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    k = int(rng.integers(1, 4))
    h, w = int(rng.integers(k, 9)), int(rng.integers(k, 9))
    kw = dict(stride=int(rng.integers(1, 3)), padding=int(rng.integers(0, 2)), dilation=1)
    args = [_f(rng, (n, ci, h, w), dt), _f(rng, (co, ci, k, k), dt)]
    if rng.integers(2):
        kw["bias"] = _f(rng, (co,), dt)
    return "conv2d_forward", args, kw


def _conv_bwd(rng, dt):
    _, args, kw = _conv(rng, dt)
    x, w = args
    kw.pop("bias", None)
    y = reference.conv2d_forward(x.astype(np.float64), w.astype(np.float64), **kw)
    return "conv2d_backward", [_f(rng, y.shape, dt), x, w], kw


def _maxpool(rng, dt):
    k = int(rng.integers(1, 4))
    x = _f(
        rng,
        (
            int(rng.integers(1, 3)),
            int(rng.integers(1, 4)),
            int(rng.integers(k, 9)),
            int(rng.integers(k, 9)),
        ),
        dt,
    )
    return (
        "max_pool2d_forward",
        [x],
        dict(
            kernel_size=k,
            stride=int(rng.integers(1, 3)),
            padding=int(rng.integers(0, k // 2 + 1)),
            ceil_mode=bool(rng.integers(2)),
        ),
    )


def _avgpool(rng, dt):
    name, args, kw = _maxpool(rng, dt)
    kw["count_include_pad"] = bool(rng.integers(2))
    return "avg_pool2d_forward", args, kw


def _bn(rng, dt):
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4))) + tuple(
        int(s) for s in rng.integers(1, 4, int(rng.integers(0, 3)))
    )
    c = shape[1]
    training = bool(rng.integers(2))
    kw = dict(training=training, eps=float(rng.choice([1e-5, 1e-3, 0.0])) or 1e-5)
    args = [_f(rng, shape, dt, -2, 2), _f(rng, (c,), dt, 0.5, 2), _f(rng, (c,), dt)]
    if not training:
        kw.update(running_mean=rng.uniform(-1, 1, c), running_var=rng.uniform(0.1, 2, c))
    return "batch_norm_forward", args, kw


def _adam(rng, dt):
    shape = tuple(int(s) for s in rng.integers(1, 7, int(rng.integers(1, 3))))
    args = [
        _f(rng, shape, dt),
        _f(rng, shape, dt),
        _f(rng, shape, dt, -0.1, 0.1),
        _f(rng, shape, dt, 0, 0.1),
    ]
    return (
        "adam_step",
        args,
        dict(
            step=int(rng.integers(1, 5)),
            lr=1e-2,
            weight_decay=float(rng.choice([0.0, 0.1])),
            decoupled=bool(rng.integers(2)),
        ),
    )


def _sgd(rng, dt):
    shape = tuple(int(s) for s in rng.integers(1, 7, int(rng.integers(1, 3))))
    args = [_f(rng, shape, dt), _f(rng, shape, dt), _f(rng, shape, dt)]
    return "sgd_step", args, dict(lr=0.1, momentum=0.9, nesterov=bool(rng.integers(2)))


def _colsum(rng, dt):
    return "colsum", [_f(rng, (int(rng.integers(1, 9)), int(rng.integers(1, 9))), dt)], {}


def _softmax_bwd(rng, dt):
    shape = (int(rng.integers(1, 6)), int(rng.integers(1, 9)))
    log = bool(rng.integers(2))
    y = reference.softmax(rng.uniform(-3, 3, shape), log=log).astype(dt)
    return "softmax_backward", [_f(rng, shape, dt), y], dict(log=log)


def _bce(rng, dt):
    shape = (int(rng.integers(1, 6)), int(rng.integers(1, 5)))
    kw = dict(reduction=["mean", "sum", "none"][int(rng.integers(3))])
    args = [_f(rng, shape, dt, -4, 4), _f(rng, shape, dt, 0, 1)]
    if rng.integers(2):
        kw["pos_weight"] = _f(rng, shape[-1:], dt, 0.5, 2)
    return "bce_with_logits_forward", args, kw


def _rmsprop(rng, dt):
    shape = tuple(int(s) for s in rng.integers(1, 7, int(rng.integers(1, 3))))
    args = [_f(rng, shape, dt), _f(rng, shape, dt), _f(rng, shape, dt, 0, 0.1)]
    return "rmsprop_step", args, dict(lr=1e-2, weight_decay=float(rng.choice([0.0, 0.1])))


def _adagrad(rng, dt):
    shape = tuple(int(s) for s in rng.integers(1, 7, int(rng.integers(1, 3))))
    args = [_f(rng, shape, dt), _f(rng, shape, dt), _f(rng, shape, dt, 0, 0.1)]
    return "adagrad_step", args, dict(step=int(rng.integers(1, 5)), lr=1e-2)


def _adaptive(rng, dt):
    x = _f(
        rng,
        (
            int(rng.integers(1, 3)),
            int(rng.integers(1, 4)),
            int(rng.integers(1, 9)),
            int(rng.integers(1, 9)),
        ),
        dt,
    )
    return (
        "adaptive_avg_pool2d_forward",
        [x],
        dict(output_size=(int(rng.integers(1, 5)), int(rng.integers(1, 5)))),
    )


def _maxpool_bwd(rng, dt):
    _, (x,), kw = _maxpool(rng, dt)
    y, idx = reference.max_pool2d_forward(x.astype(np.float64), **kw)
    return "max_pool2d_backward", [_f(rng, y.shape, dt), idx], dict(input_shape=x.shape)


def _bn_bwd(rng, dt):
    shape = (int(rng.integers(2, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 4)))
    x = _f(rng, shape, dt, -2, 2)
    _, mean, var = reference.batch_norm_forward(x.astype(np.float64))
    return (
        "batch_norm_backward",
        [_f(rng, shape, dt), x, mean, var, _f(rng, (shape[1],), dt, 0.5, 2)],
        dict(training=bool(rng.integers(2))),
    )


def _conv_pool(rng, dt):
    n, ci, co = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    h, w = int(rng.integers(4, 10)), int(rng.integers(4, 10))
    return (
        "conv2d_relu_maxpool2d_forward",
        [_f(rng, (n, ci, h, w), dt), _f(rng, (co, ci, 3, 3), dt)],
        dict(padding=1),
    )


def _xent_bwd(rng, dt):
    _, (logits, t), kw = _xent(rng, dt)
    _, lse = reference.cross_entropy_forward(
        logits.astype(np.float64),
        t,
        **{k: (v.astype(np.float64) if isinstance(v, np.ndarray) else v) for k, v in kw.items()},
    )
    g = _f(rng, (len(t),), dt) if kw["reduction"] == "none" else np.asarray(rng.uniform(-1, 1), dt)
    return "cross_entropy_backward", [g, logits, t, lse.astype(np.float64)], kw


def _bce_bwd(rng, dt):
    _, (logits, target), kw = _bce(rng, dt)
    g = (
        _f(rng, logits.shape, dt)
        if kw["reduction"] == "none"
        else np.asarray(rng.uniform(-1, 1), dt)
    )
    return "bce_with_logits_backward", [g, logits, target], kw


def _avgpool_bwd(rng, dt):
    _, (x,), kw = _avgpool(rng, dt)
    y = reference.avg_pool2d_forward(x.astype(np.float64), **kw)
    return "avg_pool2d_backward", [_f(rng, y.shape, dt)], dict(input_shape=x.shape, **kw)


def _adaptive_bwd(rng, dt):
    _, (x,), kw = _adaptive(rng, dt)
    y = reference.adaptive_avg_pool2d_forward(x.astype(np.float64), **kw)
    return "adaptive_avg_pool2d_backward", [_f(rng, y.shape, dt)], dict(input_shape=x.shape)


FAMILIES = {
    "cross_entropy_backward": _xent_bwd,
    "bce_with_logits_backward": _bce_bwd,
    "avg_pool2d_backward": _avgpool_bwd,
    "adaptive_avg_pool2d_backward": _adaptive_bwd,
    "colsum": _colsum,
    "softmax_backward": _softmax_bwd,
    "bce_with_logits": _bce,
    "rmsprop_step": _rmsprop,
    "adagrad_step": _adagrad,
    "adaptive_avg_pool2d": _adaptive,
    "max_pool2d_backward": _maxpool_bwd,
    "batch_norm_backward": _bn_bwd,
    "conv2d_relu_maxpool2d": _conv_pool,
    "gemm": _gemm,
    "act_forward": _act,
    "act_backward": _act_bwd,
    "softmax": _softmax,
    "cross_entropy": _xent,
    "conv2d_forward": _conv,
    "conv2d_backward": _conv_bwd,
    "max_pool2d": _maxpool,
    "avg_pool2d": _avgpool,
    "batch_norm": _bn,
    "adam_step": _adam,
    "sgd_step": _sgd,
}


def _mutate(rng, a, how):
    """A mutated version of array a (or None when this mutation does not apply to it)."""
    if how == "dtype":
        dt = DTYPES[int(rng.integers(len(DTYPES)))]
        return a.astype(dt) if dt is not object else a.astype(object)
    if how == "noncontig":
        big = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype) if a.ndim else None
        if big is None:
            return None
        big[..., ::2] = a
        return big[..., ::2]
    if how == "negstride":
        return np.ascontiguousarray(a[..., ::-1])[..., ::-1] if a.ndim else None
    if how == "broadcast":
        if a.ndim == 0 or a.shape[-1] == 1:
            return None
        return np.broadcast_to(a[..., :1], a.shape)
    if how in ("nan", "inf"):
        if a.dtype.kind != "f" or a.size == 0:
            return None
        b = a.copy()
        b.flat[int(rng.integers(b.size))] = (
            np.nan if how == "nan" else (np.inf if rng.integers(2) else -np.inf)
        )
        return b
    if how == "empty":
        return a[..., :0] if a.ndim else None
    if how == "rank":
        return a[None] if rng.integers(2) or a.ndim == 0 else a.reshape(-1)
    if how == "list":
        return a.tolist()
    return a


def _call(mod, name, args, kw):
    """The call; the optimizer steps update their arrays in place and "return" them."""
    fn = getattr(mod, name)
    if name in ("adam_step", "sgd_step", "rmsprop_step", "adagrad_step"):
        fn(*args, **kw)
        return [a for a in args if isinstance(a, np.ndarray)]
    return fn(*args, **kw)


def _own(a):
    """A private copy for one side of the comparison: a writeable contiguous array keeps
    being one; views (strided, broadcast, read-only) are rebuilt as the same kind of view
    over fresh memory, so each side sees exactly what the mutation made."""
    if not isinstance(a, np.ndarray) or a.dtype == object:
        return a if not isinstance(a, np.ndarray) else a.copy()
    if a.flags.c_contiguous and a.flags.writeable:
        return a.copy()
    if not a.flags.writeable:
        return a  # nothing can write it: sharing is safe
    base = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    v = base[..., ::2]
    v[...] = a
    return v


def _flat(res):
    if isinstance(res, np.ndarray):
        return [res]
    if isinstance(res, (tuple, list)):
        return [r for x in res for r in _flat(x)]
    if res is None:
        return []
    return [np.asarray(res)]


def _compare(got, want, dt, lenient=False, both_finite=False):
    """Equal within the tolerance, NaN where the reference has NaN. ``lenient``: compare only
    where the reference is finite (and there the kernel must be finite and close), for the
    cases where which non-finite value comes out depends on the order of operations, not on
    correctness: an infinite operand (inf * 0 is NaN in one summation order, inf in another:
    batch norm's fused scale-and-shift is PyTorch's order, the reference's is the textbook
    one) and a non-finite conv weight over zero padding (some paths skip the padded taps,
    others multiply the zeros: NaN * 0; see the issue-11 note). ``both_finite``: compare only
    where both sides are finite (a NaN conv weight: the dx path's zero-padded dY makes NaN * 0
    at border taps the exact gradient does not have; a NaN in dY or x reaches dW through
    the padded taps in the reference and not in the paths that skip them)."""
    got, want = _flat(got), _flat(want)
    assert len(got) == len(want), (len(got), len(want))
    tol = TOL.get(np.dtype(dt), 1e-4)
    for i, (g, w) in enumerate(zip(got, want)):
        g = np.asarray(g)
        w = np.asarray(w)
        assert g.shape == w.shape, (i, g.shape, w.shape)
        if g.dtype.kind not in "fc" or w.dtype.kind not in "fc":
            if both_finite and i > 0 and np.shape(got[0]) == g.shape:
                # a record of where a non-finite value went (the fused pool's code): only
                # where the values themselves are finite on both sides
                fin = np.isfinite(np.asarray(got[0], np.float64)) & np.isfinite(
                    np.asarray(want[0], np.float64)
                )
                g, w = g[fin], w[fin]
            np.testing.assert_array_equal(g, w)
            continue
        g64, w64 = g.astype(np.float64), w.astype(np.float64)
        if both_finite:
            fin = np.isfinite(w64) & np.isfinite(g64)
            g64, w64 = g64[fin], w64[fin]
        elif lenient:
            fin = np.isfinite(w64)
            assert np.isfinite(g64[fin]).all(), (
                f"output {i}: non-finite where the reference is not"
            )
            g64, w64 = g64[fin], w64[fin]
        nan_g, nan_w = np.isnan(g64), np.isnan(w64)
        assert np.array_equal(nan_g, nan_w), (
            f"output {i}: NaN at {np.argwhere(nan_g != nan_w)[:3]}"
        )
        inf_w = np.isinf(w64)
        assert np.array_equal(g64[inf_w], w64[inf_w]), f"output {i}: inf mismatch"
        ok = ~(nan_w | inf_w)
        if not ok.any():
            continue
        scale = 1 + np.abs(w64[ok]).max()
        err = np.abs(g64[ok] - w64[ok]).max() / scale
        assert err <= tol * max(1, np.sqrt(w.size)), f"output {i}: relative error {err:.2e}"


def _check_pool_code(got, want, ref_args, kw, dt, mutation):
    """The fused conv+relu+pool: the pooled values as any kernel (NaN-lenient like the other
    conv families), and the code by what it means rather than bit for bit: two taps whose
    values differ by rounding may tie either way, so the coded tap must hold the window's
    maximum within the tolerance (code 4: a maximum of 0, the relu's dead zone)."""
    p, code = got
    _compare([p], [want[0]], dt, both_finite=mutation in ("nan", "inf"))
    y = reference.conv2d_forward(*ref_args, activation="relu", **kw)
    n, c, oh, ow = y.shape
    ph, pw = oh // 2, ow // 2
    taps = (
        y[:, :, : 2 * ph, : 2 * pw]
        .reshape(n, c, ph, 2, pw, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, ph, pw, 4)
    )
    m = taps.max(axis=-1)
    fin = np.isfinite(taps).all(axis=-1)
    tol = TOL[np.dtype(dt)] * 10 * (1 + np.abs(np.where(np.isfinite(y), y, 0)).max())
    chosen = np.take_along_axis(
        np.concatenate([taps, np.zeros(taps.shape[:-1] + (1,))], -1),
        code[..., None].astype(np.int64),
        -1,
    )[..., 0]
    assert (np.abs(chosen - m)[fin] <= tol).all(), "a code names a tap that is not the max"
    assert ((code == 4) <= (m <= tol))[fin].all(), "code 4 for a window with a positive max"


@pytest.mark.parametrize("family", sorted(FAMILIES))
@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    mutation=st.sampled_from(MUTATIONS),
    dt=st.sampled_from([np.float32, np.float64]),
)
def test_kernel_equals_reference_or_raises(family, seed, mutation, dt):
    rng = np.random.default_rng(seed)
    name, args, kw = FAMILIES[family](rng, dt)
    which = int(rng.integers(len(args)))
    if mutation != "none":
        m = _mutate(rng, args[which], mutation)
        if m is None:
            mutation = "none"
        else:
            args = list(args)
            args[which] = m
    ref_args = [
        np.asarray(a).astype(np.float64)
        if isinstance(a, (np.ndarray, list)) and np.asarray(a).dtype.kind in "fc"
        else _own(a)
        for a in args
    ]
    try:
        got = _call(kernels, name, [_own(a) for a in args], kw)
    except (ValueError, TypeError):
        return  # a clear refusal is always allowed
    # the kernel accepted it: it must equal the reference on the same values (in float64)
    if (
        name.endswith("_backward")
        and name[:3] in ("cro", "bce")
        and which == 0
        and mutation == "rank"
        and np.size(args[0]) == 1
    ):
        return  # a 1-element gradient of a scalar loss is taken as that scalar: fine
    try:
        want = _call(
            reference,
            name,
            ref_args,
            {
                k: (
                    v.astype(np.float64)
                    if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                    else v
                )
                for k, v in kw.items()
            },
        )
    except Exception as e:  # noqa: BLE001
        pytest.fail(
            f"{name}: the kernel accepted {mutation} of argument {which} that the "
            f"reference cannot compute ({type(e).__name__}: {e})"
        )
    if name == "conv2d_relu_maxpool2d_forward":
        _check_pool_code(got, want, ref_args, kw, dt, mutation)
        return
    out_dt = np.asarray(_flat(got)[0]).dtype if _flat(got) else dt
    # any non-finite value in a convolution meets the padding zeros somewhere (NaN * 0)
    both_finite = name.startswith("conv2d") and mutation in ("nan", "inf")
    # an infinite logit makes its row's softmax undefined (inf - inf): a NaN row, as PyTorch
    both_finite = both_finite or (name == "cross_entropy_backward" and mutation == "inf")
    _compare(
        got,
        want,
        out_dt if out_dt.kind == "f" else dt,
        lenient=mutation == "inf",
        both_finite=both_finite,
    )
