"""Each optimizer against PyTorch's documented algorithm, written out independently here."""

import numpy as np
import pytest

import minnet
from minnet import optim
from minnet.optim import _functional


@pytest.fixture(autouse=True, params=["kernels", "numpy"])
def backend(request, monkeypatch):
    """Every test runs on the fused C kernels and on their references (minnet.reference)."""
    monkeypatch.setattr(_functional, "USE_KERNELS", request.param == "kernels")
    return request.param


class P:
    """The least an optimizer needs: .data updated in place, .grad read."""

    def __init__(self, data):
        self.data = np.array(data, dtype=np.float64)
        self.grad = None
        self.requires_grad = True


def make(seed=0, shape=(3, 4)):
    rng = np.random.default_rng(seed)
    theta0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(6)]
    return theta0, grads


def run(opt_cls, steps, theta0, grads, **kw):
    p = P(theta0)
    opt = opt_cls([p], **kw)
    for t in range(steps):
        p.grad = grads[t].copy()
        g_before = p.grad.copy()
        opt.step()
        np.testing.assert_array_equal(p.grad, g_before)  # gradients are never modified
    return p.data, opt


# ----------------------------------------------------------------------- expected updates
def sgd_ref(
    theta, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
):
    theta = theta.copy()
    b = None
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad.copy()
        if weight_decay:
            g = g + weight_decay * theta
        if momentum:
            b = g.copy() if t == 1 else momentum * b + (1 - dampening) * g
            g = g + momentum * b if nesterov else b
        theta = theta - lr * g
    return theta


def adam_ref(
    theta,
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    decoupled=False,
    maximize=False,
):
    theta = theta.copy()
    b1, b2 = betas
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    vmax = np.zeros_like(theta)
    for t, grad in enumerate(grads, start=1):
        g = -grad if maximize else grad.copy()
        if decoupled:
            theta = theta - lr * weight_decay * theta
        elif weight_decay:
            g = g + weight_decay * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vhat = vmax / (1 - b2**t)
        else:
            vhat = v / (1 - b2**t)
        mhat = m / (1 - b1**t)
        theta = theta - lr * mhat / (np.sqrt(vhat) + eps)
    return theta


def rmsprop_ref(
    theta, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False
):
    theta = theta.copy()
    v = np.zeros_like(theta)
    b = np.zeros_like(theta)
    gave = np.zeros_like(theta)
    for grad in grads:
        g = grad + weight_decay * theta
        v = alpha * v + (1 - alpha) * g * g
        vt = v
        if centered:
            gave = alpha * gave + (1 - alpha) * g
            vt = v - gave * gave
        if momentum > 0:
            b = momentum * b + g / (np.sqrt(vt) + eps)
            theta = theta - lr * b
        else:
            theta = theta - lr * g / (np.sqrt(vt) + eps)
    return theta


def adagrad_ref(
    theta, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10
):
    theta = theta.copy()
    s = np.full_like(theta, initial_accumulator_value)
    for t, grad in enumerate(grads, start=1):
        clr = lr / (1 + (t - 1) * lr_decay)
        g = grad + weight_decay * theta
        s = s + g * g
        theta = theta - clr * g / (np.sqrt(s) + eps)
    return theta


CASES = [
    (optim.SGD, sgd_ref, dict(lr=0.1)),
    (optim.SGD, sgd_ref, dict(lr=0.1, weight_decay=0.01)),
    (optim.SGD, sgd_ref, dict(lr=0.1, momentum=0.9)),
    (optim.SGD, sgd_ref, dict(lr=0.1, momentum=0.9, dampening=0.5)),
    (optim.SGD, sgd_ref, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    (optim.SGD, sgd_ref, dict(lr=0.1, momentum=0.9, maximize=True)),
    (optim.Adam, adam_ref, dict(lr=0.01)),
    (optim.Adam, adam_ref, dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1)),
    (optim.Adam, adam_ref, dict(lr=0.01, amsgrad=True)),
    (optim.Adam, adam_ref, dict(lr=0.01, maximize=True)),
    (
        optim.AdamW,
        lambda th, gs, **kw: adam_ref(th, gs, decoupled=True, **kw),
        dict(lr=0.01, weight_decay=0.1),
    ),
    (
        optim.AdamW,
        lambda th, gs, **kw: adam_ref(th, gs, decoupled=True, **kw),
        dict(lr=0.01, weight_decay=0.1, amsgrad=True),
    ),
    (optim.RMSprop, rmsprop_ref, dict()),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.01, momentum=0.9)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.01, centered=True)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.01, centered=True, momentum=0.5)),
    (optim.Adagrad, adagrad_ref, dict(lr=0.1)),
    (
        optim.Adagrad,
        adagrad_ref,
        dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, initial_accumulator_value=0.5),
    ),
]


@pytest.mark.parametrize("steps", [1, 5])
@pytest.mark.parametrize(
    "opt_cls,ref,kw", CASES, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CASES)]
)
def test_update_rule_matches_documented_algorithm(opt_cls, ref, kw, steps):
    theta0, grads = make(seed=steps)
    got, _ = run(opt_cls, steps, theta0, grads, **kw)
    want = ref(theta0, grads[:steps], **kw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_sgd_one_step_by_hand():
    p = P([1.0, -2.0])
    opt = optim.SGD([p], lr=0.5, momentum=0.9, weight_decay=0.1)
    p.grad = np.array([0.2, 0.4])
    opt.step()  # g = grad + 0.1*theta = [0.3, 0.2]; b = g; theta -= 0.5*g
    np.testing.assert_allclose(p.data, [0.85, -2.1])
    np.testing.assert_allclose(opt.state[p]["momentum_buffer"], [0.3, 0.2])
    p.grad = np.array([0.0, 0.0])
    opt.step()  # g = 0.1*theta = [0.085, -0.21]; b = 0.9*b + g = [0.355, -0.03]
    np.testing.assert_allclose(p.data, [0.85 - 0.5 * 0.355, -2.1 + 0.5 * 0.03])


def test_adam_first_step_moves_by_lr():
    # With bias correction, the first Adam step is lr * g/|g| (up to eps).
    p = P([1.0, 2.0, 3.0])
    p.grad = np.array([0.5, -3.0, 1e-3])
    optim.Adam([p], lr=0.1).step()
    np.testing.assert_allclose(p.data, [0.9, 2.1, 2.9], rtol=1e-6)


def test_float32_parameters_stay_float32_and_inplace():
    theta0, grads = make(seed=3)
    for cls in (optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad):
        p = P(theta0)
        p.data = p.data.astype(np.float32)
        buf = p.data
        opt = cls([p], lr=0.01, **({"momentum": 0.9} if cls is optim.SGD else {}))
        for t in range(3):
            p.grad = grads[t].astype(np.float32)
            opt.step()
        assert p.data is buf and p.data.dtype == np.float32
        want = {
            optim.SGD: lambda: sgd_ref(theta0, grads[:3], 0.01, momentum=0.9),
            optim.Adam: lambda: adam_ref(theta0, grads[:3], lr=0.01),
            optim.AdamW: lambda: adam_ref(
                theta0, grads[:3], lr=0.01, weight_decay=1e-2, decoupled=True
            ),
            optim.RMSprop: lambda: rmsprop_ref(theta0, grads[:3], lr=0.01),
            optim.Adagrad: lambda: adagrad_ref(theta0, grads[:3], lr=0.01),
        }[cls]()
        np.testing.assert_allclose(p.data, want, rtol=1e-4, atol=1e-5)


def test_param_groups_and_skipped_params():
    a, b, c = P([1.0]), P([1.0]), P([1.0])
    opt = optim.SGD([{"params": [a]}, {"params": [b, c], "lr": 1.0}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[1]["lr"] == 1.0
    assert opt.param_groups[1]["momentum"] == 0
    a.grad = np.array([1.0])
    b.grad = np.array([1.0])  # c has no gradient: untouched
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0], c.data[0]], [0.9, 0.0, 1.0])
    d = P([2.0])
    opt.add_param_group({"params": d, "lr": 0.5})
    d.grad = np.array([2.0])
    opt.step()
    np.testing.assert_allclose(d.data, [1.0])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([P([1.0])], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam([P([1.0])], betas=(1.0, 0.9))


def test_zero_grad():
    p = P([1.0, 2.0])
    opt = optim.SGD([p], lr=0.1)
    p.grad = np.array([3.0, 4.0])
    g = p.grad
    opt.zero_grad(set_to_none=False)
    assert p.grad is g and not g.any()
    opt.zero_grad()
    assert p.grad is None


def test_closure_is_called_and_returned():
    p = P([1.0])
    opt = optim.SGD([p], lr=0.1)
    calls = []

    def closure():
        calls.append(1)
        p.grad = np.array([2.0])
        return 7.0

    assert opt.step(closure) == 7.0 and calls == [1]
    np.testing.assert_allclose(p.data, [0.8])


@pytest.mark.parametrize(
    "cls,kw",
    [
        (optim.SGD, dict(lr=0.1, momentum=0.9)),
        (optim.Adam, dict(lr=0.01, amsgrad=True)),
        (optim.AdamW, dict(lr=0.01)),
        (optim.RMSprop, dict(momentum=0.5, centered=True)),
        (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
    ],
)
def test_state_dict_resume_is_exact(cls, kw):
    theta0, grads = make(seed=11)
    # uninterrupted: 6 steps
    full, _ = run(cls, 6, theta0, grads, **kw)
    # 3 steps, state_dict, fresh optimizer on a copy, load, 3 more steps
    p = P(theta0)
    opt = cls([p], **kw)
    for t in range(3):
        p.grad = grads[t]
        opt.step()
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["params"] == [0] and 0 in sd["state"]
    assert sd["state"][0]["step"] == 3
    q = P(p.data)
    opt2 = cls([q], lr=123.0)  # hyperparameters come from the state dict
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw.get("lr", opt.defaults["lr"])
    for t in range(3, 6):
        q.grad = grads[t]
        opt2.step()
    np.testing.assert_array_equal(q.data, full)


def test_state_dict_through_save_load(tmp_path):
    theta0, grads = make(seed=5)
    p1, p2 = P(theta0), P(theta0[0])
    opt = optim.Adam([{"params": [p1]}, {"params": [p2], "lr": 0.1}], lr=0.01)
    for t in range(2):
        p1.grad, p2.grad = grads[t], grads[t][0]
        opt.step()
    minnet.save(opt.state_dict(), tmp_path / "opt.mnt")
    loaded = minnet.load(tmp_path / "opt.mnt")
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(loaded["state"]) == {0, 1}
    q1, q2 = P(p1.data), P(p2.data)
    opt2 = optim.Adam([{"params": [q1]}, {"params": [q2]}])
    opt2.load_state_dict(loaded)
    for t in range(2, 5):
        p1.grad, p2.grad = grads[t], grads[t][0]
        q1.grad, q2.grad = grads[t], grads[t][0]
        opt.step()
        opt2.step()
    np.testing.assert_array_equal(q1.data, p1.data)
    np.testing.assert_array_equal(q2.data, p2.data)


def test_load_state_dict_mismatch():
    opt = optim.SGD([P([1.0]), P([2.0])], lr=0.1)
    other = optim.SGD([P([1.0])], lr=0.1)
    with pytest.raises(ValueError, match="group 0 has 1 parameters"):
        opt.load_state_dict(other.state_dict())


def test_repr():
    r = repr(optim.SGD([P([1.0])], lr=0.1, momentum=0.9))
    assert r.startswith("SGD (") and "lr: 0.1" in r and "momentum: 0.9" in r


def test_dispatch_takes_the_fused_kernels_only_when_they_fit(backend):
    from minnet import kernels, reference

    opt = optim.SGD([P([1.0])], lr=0.1)
    p = P(np.zeros((3, 4)))
    g = np.zeros((3, 4))
    assert _functional.step_impl(opt, p, g) is (kernels if backend == "kernels" else reference)
    assert _functional.step_impl(opt, p, g.astype(np.float32)) is reference  # dtype differs
    q = P(np.zeros((4, 3)))
    q.data = q.data.T  # not C-contiguous
    assert _functional.step_impl(opt, q, g) is reference
    with pytest.raises(ValueError, match=r"SGD: gradient of shape \(4, 3\) does not match"):
        _functional.step_impl(opt, p, np.zeros((4, 3)))


def test_non_contiguous_parameter_uses_numpy_path():
    theta0, grads = make(seed=9)
    p = P(np.asfortranarray(theta0))
    opt = optim.Adam([p], lr=0.01)
    for t in range(3):
        p.grad = grads[t]
        opt.step()
    np.testing.assert_allclose(p.data, adam_ref(theta0, grads[:3], lr=0.01), rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: minnet.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: minnet.optim.Adam(ps, lr=0.01, amsgrad=True),
        lambda ps: minnet.optim.AdamW(ps, lr=0.01),
        lambda ps: minnet.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
        lambda ps: minnet.optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
    ],
)
def test_one_group_mixing_kernel_and_reference_params(make):
    """A group whose params the kernels take (float32/float64) and one they do not (float16:
    the reference's path) updates each exactly as an optimizer holding that param alone."""
    rng = np.random.default_rng(0)
    shapes_dtypes = [
        ((3, 4), np.float32),
        ((5,), np.float16),
        ((2, 2), np.float64),
        ((7,), np.float32),
    ]
    init = [rng.standard_normal(s).astype(d) for s, d in shapes_dtypes]
    together = [minnet.nn.Parameter(minnet.tensor(a.copy())) for a in init]
    alone = [minnet.nn.Parameter(minnet.tensor(a.copy())) for a in init]
    opt = make(together)
    solo = [make([p]) for p in alone]
    for step in range(3):
        for i, (p, q) in enumerate(zip(together, alone)):
            g = rng.standard_normal(p.shape).astype(p.dtype)
            if step == 1 and i == 3:  # a param without a gradient this step is skipped
                p.grad = q.grad = None
                continue
            p.grad, q.grad = minnet.tensor(g.copy()), minnet.tensor(g.copy())
        opt.step()
        for o in solo:
            o.step()
    for p, q in zip(together, alone):
        assert p.dtype == q.dtype
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
