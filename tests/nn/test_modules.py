"""minnet.nn modules: registration, state dicts, dtype, repr, PyTorch's initialisation,
BatchNorm1d against NumPy, and gradcheck of every module with parameters."""

import collections
import math

import numpy as np
import pytest

import minnet
import minnet.nn.functional as F
from minnet import nn
from minnet.testing import gradcheck


def T(a, requires_grad=False):
    return minnet.Tensor(np.asarray(a), requires_grad=requires_grad)


def rng(seed=0):
    return np.random.default_rng(seed)


def xor_net():
    return nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3), nn.Tanh(), nn.Linear(3, 2))


# ---------------------------------------------------------------------- Module machinery
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.blocks = nn.ModuleList([nn.Linear(3, 3), nn.ReLU()])
        self.head = nn.Linear(3, 2, bias=False)
        self.register_buffer("scale", np.ones(2, dtype=np.float32))
        self.register_buffer("cache", np.zeros(1), persistent=False)
        self.not_a_param = np.zeros(3)

    def forward(self, x):
        x = self.bn(self.fc1(x))
        for b in self.blocks:
            x = b(x)
        return self.head(x) * self.scale


def test_registration_and_traversal():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "fc1.weight",
        "fc1.bias",
        "bn.weight",
        "bn.bias",
        "blocks.0.weight",
        "blocks.0.bias",
        "head.weight",
    ]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert [n for n, _ in net.named_children()] == ["fc1", "bn", "blocks", "head"]
    assert len(list(net.modules())) == 7
    assert [n for n, _ in net.named_buffers()] == [
        "scale",
        "cache",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
    ]
    assert net.head.bias is None
    assert net.get_submodule("blocks.0") is net.blocks[0]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        net.nope
    with pytest.raises(TypeError, match="cannot assign 'ndarray' as parameter 'weight'"):
        net.fc1.weight = np.zeros((3, 4))


def test_shared_parameter_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, nn.Tanh(), lin)
    assert len(list(seq.parameters())) == 2
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_train_eval_propagate():
    net = Net()
    assert net.training and net.bn.training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_and_requires_grad():
    lin = nn.Linear(3, 2)
    F.mse_loss(
        lin(T(rng().standard_normal((4, 3)).astype(np.float32))), T(np.zeros((4, 2), np.float32))
    ).backward()
    assert lin.weight.grad is not None
    lin.zero_grad(set_to_none=False)
    assert not lin.weight.grad.data.any()
    lin.zero_grad()
    assert lin.weight.grad is None and lin.bias.grad is None
    lin.requires_grad_(False)
    assert not lin.weight.requires_grad


def test_state_dict_keys_buffers_and_sharing():
    net = Net()
    sd = net.state_dict()
    # PyTorch's order: a module's own parameters, then its buffers, then its children
    assert list(sd) == [
        "scale",
        "fc1.weight",
        "fc1.bias",
        "bn.weight",
        "bn.bias",
        "bn.running_mean",
        "bn.running_var",
        "bn.num_batches_tracked",
        "blocks.0.weight",
        "blocks.0.bias",
        "head.weight",
    ]
    assert "cache" not in sd  # not persistent
    nbt = sd["bn.num_batches_tracked"]
    assert nbt.dtype == np.int64 and nbt.shape == ()
    assert not sd["fc1.weight"].requires_grad
    assert np.shares_memory(sd["fc1.weight"].data, net.fc1.weight.data)


def test_load_state_dict_copies_in_place():
    a, b = Net(), Net()
    w = b.fc1.weight
    buf = w.data
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert b.fc1.weight is w and w.data is buf
    np.testing.assert_array_equal(buf, a.fc1.weight.data)
    # plain arrays (as minnet.load returns) in another dtype are cast
    sd = {
        k: v.data.astype(np.float64) if v.data.dtype.kind == "f" else v.data
        for k, v in a.state_dict().items()
    }
    b.load_state_dict(sd)
    assert b.fc1.weight.data.dtype == np.float32


def test_strict_load_names_missing_unexpected_and_mismatched():
    net = xor_net()
    sd = dict(net.state_dict())
    del sd["1.running_var"]
    sd["9.weight"] = np.zeros(3)
    sd["0.weight"] = np.zeros((4, 2), np.float32)
    before = net[3].weight.data.copy()
    sd["3.weight"] = np.zeros((2, 3), np.float32)
    with pytest.raises(RuntimeError) as e:
        net.load_state_dict(sd)
    msg = str(e.value)
    assert 'Missing key(s) in state_dict: "1.running_var"' in msg
    assert 'Unexpected key(s) in state_dict: "9.weight"' in msg
    assert (
        "size mismatch for 0.weight: copying a param with shape (4, 2) from checkpoint, "
        "the shape in current model is (3, 2)"
    ) in msg
    assert msg.startswith("Error(s) in loading state_dict for Sequential")
    np.testing.assert_array_equal(net[3].weight.data, before)  # nothing was copied
    # non-strict: missing/unexpected are reported, a shape mismatch still raises
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        net.load_state_dict(sd, strict=False)
    sd["0.weight"] = np.zeros((3, 2), np.float32)
    res = net.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["1.running_var"] and res.unexpected_keys == ["9.weight"]
    assert not net[3].weight.data.any()


def test_to_dtype_keeps_parameter_identity():
    net = xor_net()
    w = net[0].weight
    opt = minnet.optim.SGD(net.parameters(), lr=0.1)
    assert net.double() is net
    assert w is net[0].weight and w.dtype == np.float64
    assert net[1].running_mean.dtype == np.float64
    assert net[1].num_batches_tracked.dtype == np.int64
    assert opt.param_groups[0]["params"][0] is w
    net.float()
    assert all(p.dtype == np.float32 for p in net.parameters())
    net.to(np.float64)
    assert net[3].bias.dtype == np.float64


def test_repr_like_pytorch():
    net = nn.Sequential(
        collections.OrderedDict(
            [
                ("fc", nn.Linear(2, 3)),
                ("bn", nn.BatchNorm1d(3)),
                ("act", nn.Tanh()),
                ("drop", nn.Dropout(0.1)),
                ("inner", nn.Sequential(nn.Linear(3, 2, bias=False), nn.LogSoftmax(dim=1))),
            ]
        )
    )
    assert repr(net) == (
        "Sequential(\n"
        "  (fc): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (bn): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, "
        "track_running_stats=True)\n"
        "  (act): Tanh()\n"
        "  (drop): Dropout(p=0.1, inplace=False)\n"
        "  (inner): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=2, bias=False)\n"
        "    (1): LogSoftmax(dim=1)\n"
        "  )\n"
        ")"
    )
    assert repr(nn.Embedding(10, 3, padding_idx=0)) == "Embedding(10, 3, padding_idx=0)"
    assert repr(nn.LayerNorm(4)) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True)"
    assert repr(nn.LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"


def test_sequential_and_module_list():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(collections.OrderedDict([("a", a), ("b", b), ("c", c)]))
    assert seq.a is a and seq[0] is a and seq[-1] is c and len(seq) == 3
    assert list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    with pytest.raises(IndexError):
        seq[3]
    x = T(rng().standard_normal((5, 2)).astype(np.float32))
    np.testing.assert_array_equal(seq(x).data, c(b(a(x))).data)
    seq2 = nn.Sequential(a).append(b).append(c)
    assert [n for n, _ in seq2.named_children()] == ["0", "1", "2"]
    del seq2[0]
    assert list(seq2._modules) == ["0", "1"] and seq2[0] is b
    ml = nn.ModuleList([a])
    ml.append(b)
    ml += [c]
    assert (
        len(ml) == 3
        and ml[-1] is c
        and [p is q for p, q in zip(ml.parameters(), seq.parameters())]
    )
    md = nn.ModuleDict({"x": a})
    assert "x" in md and md["x"] is a and list(md.keys()) == ["x"]


# ---------------------------------------------------------------------- initialisation
def test_linear_init_follows_pytorch():
    minnet.manual_seed(0)
    lin = nn.Linear(400, 300)
    assert lin.weight.shape == (300, 400) and lin.bias.shape == (300,)
    assert lin.weight.dtype == np.float32
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) on fan_in 400
    w, b = lin.weight.data, lin.bias.data
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.9 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)  # U(-k, k) std
    assert abs(w.mean()) < 0.01 * bound * 3
    lin.weight.data[...] = 0
    lin.reset_parameters()
    assert lin.weight.data.any()


def test_other_inits():
    minnet.manual_seed(1)
    bn = nn.BatchNorm1d(5)
    np.testing.assert_array_equal(bn.weight.data, np.ones(5))
    np.testing.assert_array_equal(bn.bias.data, np.zeros(5))
    np.testing.assert_array_equal(bn.running_mean.data, np.zeros(5))
    np.testing.assert_array_equal(bn.running_var.data, np.ones(5))
    assert int(bn.num_batches_tracked.data) == 0
    ln = nn.LayerNorm((2, 3))
    assert ln.weight.shape == (2, 3) and (ln.weight.data == 1).all() and not ln.bias.data.any()
    emb = nn.Embedding(500, 100, padding_idx=3)
    w = emb.weight.data
    assert w.shape == (500, 100)
    assert not w[3].any()
    rest = np.delete(w, 3, axis=0)
    assert rest.mean() == pytest.approx(0, abs=0.01) and rest.std() == pytest.approx(1, rel=0.02)


def test_seeded_init_is_reproducible():
    minnet.manual_seed(7)
    a = xor_net()
    minnet.manual_seed(7)
    b = xor_net()
    for (n, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data, err_msg=n)


# ---------------------------------------------------------------------- layers
def test_linear_matches_numpy_and_shape_error():
    lin = nn.Linear(4, 3)
    x = rng(2).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(
        lin(T(x)).data, x @ lin.weight.data.T + lin.bias.data, rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError) as e:
        nn.Linear(784, 10)(T(np.zeros((32, 28), np.float32)))
    assert str(e.value) == (
        "Linear(in_features=784, out_features=10, bias=True): expected "
        "input with last dimension 784, got shape (32, 28)"
    )


def bn_numpy(x, w, b, eps):
    axes = (0,) if x.ndim == 2 else (0, 2)
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = (1, -1) + (1,) * (x.ndim - 2)
    return (x - mean) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5)])
def test_batchnorm1d_train_and_eval_against_numpy(shape):
    r = rng(3)
    bn = nn.BatchNorm1d(3, momentum=0.2).double()
    bn.weight.data[...] = r.standard_normal(3)
    bn.bias.data[...] = r.standard_normal(3)
    rm, rv = np.zeros(3), np.ones(3)
    axes = (0,) if len(shape) == 2 else (0, 2)
    n = shape[0] * (shape[2] if len(shape) == 3 else 1)
    for step in range(3):
        x = r.standard_normal(shape) * 2 + 1
        y = bn(T(x))
        np.testing.assert_allclose(
            y.data, bn_numpy(x, bn.weight.data, bn.bias.data, 1e-5), rtol=1e-10, atol=1e-12
        )
        rm = 0.8 * rm + 0.2 * x.mean(axis=axes)
        rv = 0.8 * rv + 0.2 * x.var(axis=axes) * n / (n - 1)  # unbiased
        np.testing.assert_allclose(bn.running_mean.data, rm, rtol=1e-12)
        np.testing.assert_allclose(bn.running_var.data, rv, rtol=1e-12)
        assert int(bn.num_batches_tracked.data) == step + 1
    bn.eval()
    x = r.standard_normal(shape)
    sh = (1, -1) + (1,) * (len(shape) - 2)
    want = (x - rm.reshape(sh)) / np.sqrt(rv.reshape(sh) + 1e-5) * bn.weight.data.reshape(
        sh
    ) + bn.bias.data.reshape(sh)
    np.testing.assert_allclose(bn(T(x)).data, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(bn.running_mean.data, rm)  # eval: no update
    assert int(bn.num_batches_tracked.data) == 3


def test_batchnorm1d_momentum_none_and_untracked():
    r = rng(4)
    bn = nn.BatchNorm1d(2, momentum=None).double()
    xs = [r.standard_normal((6, 2)) for _ in range(3)]
    for x in xs:
        bn(T(x))
    np.testing.assert_allclose(
        bn.running_mean.data, np.mean([x.mean(0) for x in xs], axis=0), rtol=1e-12
    )
    plain = nn.BatchNorm1d(2, affine=False, track_running_stats=False).double()
    assert list(plain.state_dict()) == [] and plain.running_mean is None
    plain.eval()
    x = r.standard_normal((6, 2))
    np.testing.assert_allclose(
        plain(T(x)).data, bn_numpy(x, np.ones(2), np.zeros(2), 1e-5), rtol=1e-10
    )
    with pytest.raises(
        ValueError,
        match=r"BatchNorm1d\(2, .*\): expected input of shape "
        r"\(N, 2\) or \(N, 2, L\), got shape \(6, 3\)",
    ):
        bn(T(np.zeros((6, 3))))


def test_layernorm_embedding_dropout():
    r = rng(5)
    ln = nn.LayerNorm(4).double()
    ln.weight.data[...] = r.standard_normal(4)
    x = r.standard_normal((3, 2, 4))
    want = (x - x.mean(-1, keepdims=True)) / np.sqrt(
        x.var(-1, keepdims=True) + 1e-5
    ) * ln.weight.data + ln.bias.data
    np.testing.assert_allclose(ln(T(x)).data, want, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\).*got shape \(3, 5\)"):
        ln(T(np.zeros((3, 5))))
    emb = nn.Embedding(6, 2)
    idx = np.array([[0, 5], [2, 2]])
    np.testing.assert_array_equal(emb(T(idx)).data, emb.weight.data[idx])
    with pytest.raises(ValueError, match=r"Embedding\(6, 2\): index out of range.*\[0, 6\)"):
        emb(T(np.array([6])))
    drop = nn.Dropout(0.25)
    minnet.manual_seed(3)
    y = drop(T(np.ones((200, 200))))
    kept = y.data != 0
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    np.testing.assert_allclose(y.data[kept], 1 / 0.75)
    drop.eval()
    x = T(np.ones((3, 3)))
    np.testing.assert_array_equal(drop(x).data, x.data)
    with pytest.raises(ValueError, match="dropout probability"):
        nn.Dropout(1.5)


def test_flatten_unflatten_identity():
    x = T(np.arange(24.0).reshape(2, 3, 4))
    assert nn.Flatten()(x).shape == (2, 12)
    assert nn.Flatten(0, 1)(x).shape == (6, 4)
    assert nn.Unflatten(1, (3, 4))(T(np.zeros((2, 12)))).shape == (2, 3, 4)
    assert nn.Unflatten(-1, (2, -1))(T(np.zeros((2, 12)))).shape == (2, 2, 6)
    with pytest.raises(ValueError, match="cannot unflatten"):
        nn.Unflatten(1, (5, 2))(T(np.zeros((2, 12))))
    assert nn.Identity(3, foo=1)(x) is x


ACT = [
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.ELU(0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    (
        nn.GELU("tanh"),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    ),
    (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    (nn.Tanh(), np.tanh),
    (nn.Softmax(dim=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (nn.LogSoftmax(dim=1), lambda x: x - np.log(np.exp(x).sum(1, keepdims=True))),
]


@pytest.mark.parametrize("mod,ref", ACT, ids=[type(m).__name__ for m, _ in ACT])
def test_activations(mod, ref):
    x = rng(6).standard_normal((4, 5))
    np.testing.assert_allclose(mod(T(x)).data, ref(x), rtol=1e-7, atol=1e-10)


def test_gelu_exact():
    from math import erf

    x = rng(7).standard_normal(20)
    want = np.array([0.5 * v * (1 + erf(v / math.sqrt(2))) for v in x])
    np.testing.assert_allclose(nn.GELU()(T(x)).data, want, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------------- losses
def test_loss_modules_equal_formulas():
    r = rng(8)
    x = r.standard_normal((6, 4))
    t = r.standard_normal((6, 4))
    d = x - t
    assert nn.MSELoss()(T(x), T(t)).item() == pytest.approx((d**2).mean())
    assert nn.L1Loss(reduction="sum")(T(x), T(t)).item() == pytest.approx(np.abs(d).sum())
    hub = np.where(np.abs(d) < 0.5, 0.5 * d**2, 0.5 * (np.abs(d) - 0.25))
    assert nn.HuberLoss(delta=0.5)(T(x), T(t)).item() == pytest.approx(hub.mean())
    np.testing.assert_allclose(
        nn.SmoothL1Loss(reduction="none", beta=0.5)(T(x), T(t)).data, hub / 0.5
    )
    p = 1 / (1 + np.exp(-x))
    y = (t > 0).astype(np.float64)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert nn.BCELoss()(T(p), T(y)).item() == pytest.approx(bce.mean())
    pw = np.array([1.0, 2.0, 3.0, 4.0])
    bcel = -(pw * y * np.log(p) + (1 - y) * np.log(1 - p))
    loss = nn.BCEWithLogitsLoss(pos_weight=T(pw))
    assert loss(T(x), T(y)).item() == pytest.approx(bcel.mean())
    assert "pos_weight" in loss.state_dict()
    labels = r.integers(0, 4, 6)
    labels[2] = -100
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    w = np.array([1.0, 0.5, 2.0, 1.0])
    keep = labels != -100
    nll = -logp[keep, labels[keep]] * w[labels[keep]]
    ce = nn.CrossEntropyLoss(weight=T(w))
    assert ce(T(x), T(labels)).item() == pytest.approx(nll.sum() / w[labels[keep]].sum())
    assert list(ce.state_dict()) == ["weight"]
    assert nn.NLLLoss(weight=T(w))(T(logp), T(labels)).item() == pytest.approx(
        nll.sum() / w[labels[keep]].sum()
    )
    eps = 0.1
    lab = np.where(keep, labels, 0)
    smooth = -((1 - eps) * logp[np.arange(6), lab] + eps * logp.mean(1))
    assert nn.CrossEntropyLoss(label_smoothing=eps)(T(x), T(lab)).item() == pytest.approx(
        smooth.mean()
    )
    q = np.exp(logp[::-1].copy())
    kl = q * (np.log(q) - logp)
    assert nn.KLDivLoss(reduction="batchmean")(T(logp), T(q)).item() == pytest.approx(kl.sum() / 6)
    assert nn.KLDivLoss(reduction="sum", log_target=True)(
        T(logp), T(np.log(q))
    ).item() == pytest.approx(kl.sum())
    with pytest.raises(ValueError, match="reduction"):
        nn.MSELoss(reduction="avg")


# ---------------------------------------------------------------------- gradcheck
def _check(module, x):
    params = list(module.parameters())
    assert gradcheck(lambda inp, *ps: module(inp), (x, *params))


def test_gradcheck_linear_and_sequential():
    r = rng(9)
    _check(nn.Linear(3, 2).double(), T(r.standard_normal((4, 3)), requires_grad=True))
    _check(nn.Linear(3, 2, bias=False).double(), T(r.standard_normal((2, 3)), requires_grad=True))
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2), nn.LogSoftmax(dim=1))
    _check(net.double(), T(r.standard_normal((3, 3)), requires_grad=True))


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (3, 3, 2)])
def test_gradcheck_batchnorm(training, shape):
    r = rng(10)
    bn = nn.BatchNorm1d(3).double()
    bn.weight.data[...] = r.standard_normal(3)
    bn.bias.data[...] = r.standard_normal(3)
    bn.running_mean.data[...] = r.standard_normal(3)
    bn.running_var.data[...] = r.uniform(0.5, 2, 3)
    bn.train(training)
    _check(bn, T(r.standard_normal(shape), requires_grad=True))


def test_gradcheck_layernorm_and_embedding():
    r = rng(11)
    ln = nn.LayerNorm((2, 3)).double()
    ln.weight.data[...] = r.standard_normal((2, 3))
    _check(ln, T(r.standard_normal((2, 2, 3)), requires_grad=True))
    emb = nn.Embedding(5, 3).double()
    idx = T(np.array([[0, 1], [4, 0]]))
    assert gradcheck(lambda w: emb(idx), (emb.weight,))
    emb = nn.Embedding(5, 3, padding_idx=1).double()
    F.mse_loss(emb(idx), T(np.zeros((2, 2, 3)))).backward()
    assert emb.weight.grad.data[0].any()
    assert not emb.weight.grad.data[1].any()  # padding row gets no gradient


# ---------------------------------------------------------------------- utils
def test_clip_grad():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(3))
    a.grad = T(np.array([3.0, 0.0]))
    b.grad = T(np.array([0.0, 4.0, 0.0]))
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert float(total.data) == pytest.approx(5.0)
    np.testing.assert_allclose(a.grad.data, [3 / (5 + 1e-6), 0])
    np.testing.assert_allclose(b.grad.data, [0, 4 / (5 + 1e-6), 0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=10.0)  # below: unchanged
    np.testing.assert_allclose(a.grad.data, [3 / (5 + 1e-6), 0])
    a.grad = T(np.array([-3.0, 1.0]))
    assert float(nn.utils.clip_grad_norm_(a, 1.0, norm_type=float("inf")).data) == 3.0
    np.testing.assert_allclose(a.grad.data, [-3 / (3 + 1e-6), 1 / (3 + 1e-6)])
    a.grad = T(np.array([-3.0, 0.2]))
    nn.utils.clip_grad_value_([a], 0.5)
    np.testing.assert_allclose(a.grad.data, [-0.5, 0.2])
    a.grad = T(np.array([np.nan, 0.0]))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([a], 1.0, error_if_nonfinite=True)


def test_deepcopy_is_independent():
    import copy

    net = xor_net()
    twin = copy.deepcopy(net)
    assert isinstance(twin[0].weight, nn.Parameter) and twin[0].weight.requires_grad
    twin[0].weight.data[...] = 0
    twin[1].running_mean.data[...] = 5
    assert net[0].weight.data.any() and not net[1].running_mean.data.any()
    assert list(twin.state_dict()) == list(net.state_dict())
