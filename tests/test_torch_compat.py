"""`import minnet as torch`: the torch namespace names against PyTorch's documented behaviour.

Tests named *_vs_torch compare with the real PyTorch on small inputs and are skipped when it is
not installed; the others hard-check the documented behaviour without it.
"""

import io
import warnings

import numpy as np
import pytest
from tests_helpers_run import run_python

import minnet
import minnet as torch  # the way the porting guide imports it
import minnet.nn as nn
import minnet.nn.functional as F
import minnet.optim as optim
from minnet.optim import lr_scheduler
from minnet.utils.data import DataLoader, TensorDataset


@pytest.fixture(scope="module")
def ref():
    """The real PyTorch, single-threaded (the machine's cores are shared)."""
    real = pytest.importorskip("torch")
    real.set_num_threads(1)
    return real


def rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------------- dtypes
ALIASES = {
    "float": np.float32,
    "float32": np.float32,
    "double": np.float64,
    "float64": np.float64,
    "half": np.float16,
    "float16": np.float16,
    "long": np.int64,
    "int64": np.int64,
    "int": np.int32,
    "int32": np.int32,
    "short": np.int16,
    "int16": np.int16,
    "int8": np.int8,
    "uint8": np.uint8,
    "bool": np.bool_,
}


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_dtype_aliases(name):
    dt = getattr(torch, name)
    assert np.dtype(dt) == ALIASES[name]
    assert isinstance(dt, torch.dtype)
    x = torch.zeros(2, dtype=dt)
    assert x.dtype == dt and isinstance(x.dtype, torch.dtype)


def test_dtype_aliases_vs_torch(ref):
    for name, np_type in ALIASES.items():
        assert str(getattr(ref, name)) == f"torch.{np.dtype(np_type).name}", name


def test_dtype_comparisons_of_tensors():
    x, i = torch.randn(3), torch.tensor([1, 2])
    assert x.dtype == torch.float and x.dtype == torch.float32 and x.dtype != torch.double
    assert i.dtype == torch.long and i.dtype != torch.int
    assert (x > 0).dtype == torch.bool
    assert not isinstance("float32", torch.dtype) and not isinstance(np.str_, torch.dtype)
    assert torch.dtype("float32") == torch.float
    # the builtins are untouched: only attributes of the package
    assert float is not torch.float and int("3") == 3


# ---------------------------------------------------------------------------------- devices
@pytest.mark.parametrize(
    "args,kwargs,text,rep",
    [
        (("cpu",), {}, "cpu", "device(type='cpu')"),
        (("cpu:0",), {}, "cpu:0", "device(type='cpu', index=0)"),
        (("cpu", 0), {}, "cpu:0", "device(type='cpu', index=0)"),
        ((), {"type": "cpu"}, "cpu", "device(type='cpu')"),
        ((), {"type": "cpu", "index": 1}, "cpu:1", "device(type='cpu', index=1)"),
    ],
)
def test_device_construction(args, kwargs, text, rep):
    d = torch.device(*args, **kwargs)
    assert str(d) == text and repr(d) == rep and d.type == "cpu"
    assert torch.device(d) == d and hash(torch.device(d)) == hash(d)


def test_device_semantics_vs_torch(ref):
    for spec in ("cpu", "cpu:0", "cpu:3"):
        mine, theirs = torch.device(spec), ref.device(spec)
        assert (str(mine), repr(mine), mine.index) == (str(theirs), repr(theirs), theirs.index)
    # equality compares type and index; a device never equals a string (as in torch)
    assert (
        (torch.device("cpu") == torch.device("cpu:0"))
        == (ref.device("cpu") == ref.device("cpu:0"))
        is False
    )
    assert (torch.device("cpu") == "cpu") == (ref.device("cpu") == "cpu") is False
    assert len({torch.device("cpu"), torch.device("cpu"), torch.device("cpu:0")}) == 2


@pytest.mark.parametrize("spec", ["cuda", "cuda:0", "mps", "xpu", "meta", "hip:1"])
def test_accelerator_devices_raise_one_clear_line(spec):
    with pytest.raises(RuntimeError, match="CPU only.*torch.cuda.is_available") as e:
        torch.device(spec)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "spec,exc",
    [
        ("gpu", ValueError),
        ("CPU", ValueError),
        ("cpu:x", ValueError),
        ("cpu:-1", ValueError),
        (" cpu", ValueError),
        (1.5, TypeError),
        (None, TypeError),
        (0, RuntimeError),
    ],
)
def test_bad_device_specs(spec, exc):
    with pytest.raises(exc):
        torch.device(spec)
    with pytest.raises(ValueError):
        torch.device("cpu:0", 1)  # index twice
    with pytest.raises(ValueError):
        torch.device("cpu", -1)


def test_the_device_idioms_pick_the_cpu():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert device == torch.device("cpu")
    use_accel = torch.accelerator.is_available()
    device = torch.accelerator.current_accelerator() if use_accel else torch.device("cpu")
    assert device.type == "cpu"
    assert (torch.accelerator.current_accelerator(), torch.accelerator.device_count()) == (None, 0)
    assert torch.cuda.device_count() == 0 and not torch.backends.mps.is_available()
    assert torch.cuda.manual_seed(1) is None and torch.cuda.manual_seed_all(1) is None
    with torch.device("cpu"):
        assert torch.zeros(1).device == torch.device("cpu")


def test_accelerator_probes_vs_torch(ref):
    assert torch.cuda.is_available() == ref.cuda.is_available() is False
    assert torch.cuda.device_count() == ref.cuda.device_count() == 0
    assert torch.accelerator.is_available() == ref.accelerator.is_available() is False
    assert torch.accelerator.current_accelerator() is ref.accelerator.current_accelerator() is None
    assert torch.backends.mps.is_available() == ref.backends.mps.is_available() is False


def test_backends_flags_are_settable_and_importable():
    import minnet.backends.cudnn as cudnn

    assert cudnn is torch.backends.cudnn and not cudnn.is_available()
    old = cudnn.benchmark
    cudnn.benchmark, cudnn.deterministic = True, True
    assert torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic
    cudnn.benchmark, cudnn.deterministic = old, False
    import minnet.cuda

    assert minnet.cuda is torch.cuda
    with pytest.raises(AttributeError, match="torch.cuda.amp is not available.*CPU only"):
        torch.cuda.amp
    with pytest.raises(RuntimeError, match="CPU only"):
        torch.cuda.get_device_name(0)


# ---------------------------------------------------------------------------------- .to()
def test_tensor_to_forms():
    x = torch.randn(2, 3)
    other = torch.zeros(1, dtype=torch.float64)
    dev = torch.device("cpu")
    assert x.to("cpu") is x and x.to(dev) is x and x.to(device="cpu:0") is x
    assert x.to(torch.float32) is x and x.to("cpu", non_blocking=True) is x
    assert x.to(dev, torch.float64).dtype == torch.float64
    assert x.to(device=dev, dtype=torch.long).dtype == torch.long
    assert x.to(other).dtype == torch.float64
    assert x.to(torch.float64, True).dtype == torch.float64  # positional non_blocking
    c = x.to("cpu", copy=True)
    assert c is not x and np.array_equal(c.numpy(), x.numpy())
    c.data[0, 0] = 99
    assert x.data[0, 0] != 99
    assert x.to("float64").dtype == torch.float64  # NumPy names: an extension
    assert x.cpu() is x and x.device == dev and not x.is_cuda
    y = x.requires_grad_().to(torch.device("cpu"), torch.float64)
    y.sum().backward()  # still differentiable
    assert x.grad.dtype == torch.float32 and np.all(x.grad.numpy() == 1)


def test_tensor_to_errors():
    x = torch.randn(2)
    with pytest.raises(RuntimeError, match="CPU only"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        x.to(device="cuda:0", dtype=torch.float)
    with pytest.raises(RuntimeError, match="CPU only"):
        x.cuda()
    with pytest.raises(ValueError, match="neither a device"):
        x.to("gpu")
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(torch.float, blocking=True)


def test_module_to_device_and_dtype():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    w = model[0].weight
    assert model.to(torch.device("cpu")) is model and model.to("cpu") is model
    assert model[0].weight is w and w.dtype == torch.float32
    model.to(torch.float64)
    assert model[0].weight is w and w.dtype == torch.float64
    model.to(torch.device("cpu"), torch.float32, non_blocking=True)
    assert w.dtype == torch.float32 and model[1].running_mean.dtype == torch.float32
    model.to(torch.zeros(1, dtype=torch.double))
    assert w.dtype == torch.float64
    assert model[1].num_batches_tracked.dtype == torch.long  # integer buffers untouched
    with pytest.raises(TypeError, match="floating"):
        model.to(torch.long)
    with pytest.raises(RuntimeError, match="CPU only"):
        model.to("cuda")
    with pytest.raises(RuntimeError, match="CPU only"):
        model.cuda()


@pytest.mark.parametrize(
    "make",
    [
        lambda d: torch.zeros(2, 3, device=d),
        lambda d: torch.ones(2, device=d),
        lambda d: torch.empty(2, device=d),
        lambda d: torch.full((2,), 1.0, device=d),
        lambda d: torch.randn(2, device=d),
        lambda d: torch.rand(2, device=d),
        lambda d: torch.randint(0, 5, (3,), device=d),
        lambda d: torch.arange(3, device=d),
        lambda d: torch.eye(2, device=d),
        lambda d: torch.tensor([1.0], device=d),
        lambda d: torch.zeros_like(torch.ones(2), device=d),
        lambda d: torch.linspace(0, 1, 3, device=d),
        lambda d: torch.randperm(4, device=d),
    ],
)
def test_factories_take_device(make):
    assert make(torch.device("cpu")).device == torch.device("cpu")
    assert make("cpu").device.type == "cpu"
    with pytest.raises(RuntimeError, match="CPU only"):
        make("cuda")


# ---------------------------------------------------------------------------------- functions
def _both(ref, arr):
    return torch.tensor(arr), ref.from_numpy(np.array(arr))


def _same(mine, theirs, exact=True):
    theirs = theirs.detach().numpy()
    assert mine.shape == theirs.shape, (mine.shape, theirs.shape)
    assert mine.dtype == theirs.dtype, (mine.dtype, theirs.dtype)
    if exact:
        np.testing.assert_array_equal(mine.numpy(), theirs)
    else:
        np.testing.assert_allclose(mine.numpy(), theirs, rtol=1e-6, atol=1e-7)


X = rng(1).integers(0, 4, (2, 3, 4)).astype(np.float32)  # ties on purpose


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_vs_torch(ref, dim, keepdim):
    a, b = _both(ref, X)
    for name in ("argmax", "argmin"):
        _same(
            getattr(torch, name)(a, dim=dim, keepdim=keepdim),
            getattr(ref, name)(b, dim=dim, keepdim=keepdim),
        )
        _same(getattr(a, name)(dim, keepdim), getattr(b, name)(dim, keepdim))
    kw = {} if dim is None else {"dim": dim, "keepdim": keepdim}  # torch: no keepdim alone
    _same(torch.sum(a, **kw), ref.sum(b, **kw), False)
    _same(torch.mean(a, **kw), ref.mean(b, **kw), False)
    _same(torch.sum(a, dtype=torch.float64, **kw), ref.sum(b, dtype=ref.float64, **kw), False)
    if dim is not None:
        for name in ("max", "min"):
            mine, theirs = (
                getattr(torch, name)(a, dim, keepdim),
                getattr(ref, name)(b, dim, keepdim),
            )
            _same(mine.values, theirs.values)
            _same(mine.indices, theirs.indices)
            assert mine[0] is mine.values and type(mine).__name__ == name
            m2 = getattr(a, name)(dim=dim, keepdim=keepdim)
            _same(m2[1], theirs[1])


def test_elementwise_and_whole_max_vs_torch(ref):
    a, b = _both(ref, X)
    c, d = _both(ref, X[::-1].copy())
    for name in ("max", "min"):
        _same(getattr(torch, name)(a), getattr(ref, name)(b))
        _same(getattr(torch, name)(a, c), getattr(ref, name)(b, d))
        _same(getattr(a, name)(c), getattr(b, name)(d))


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64"])
def test_integer_sums_are_int64_vs_torch(ref, dtype):
    arr = (X > 1).astype(dtype)
    a, b = _both(ref, arr)
    _same(torch.sum(a), ref.sum(b))
    _same(a.sum(1), b.sum(1))
    _same(torch.mean(a, dtype=torch.float32), ref.mean(b, dtype=ref.float32), False)


def test_mean_of_integers_needs_dtype():
    with pytest.raises(TypeError, match="floating"):
        torch.tensor([1, 2]).mean()
    assert torch.tensor([1, 2]).mean(dtype=torch.float).item() == 1.5


@pytest.mark.parametrize("start,end", [(0, -1), (1, -1), (1, 2), (0, 1), (-2, -1)])
def test_flatten_vs_torch(ref, start, end):
    a, b = _both(ref, X)
    _same(torch.flatten(a, start, end), ref.flatten(b, start, end))
    _same(torch.flatten(a, start_dim=start, end_dim=end), b.flatten(start, end))
    _same(torch.flatten(torch.tensor(3.0)), ref.flatten(ref.tensor(3.0)))


def test_activations_and_softmax_vs_torch(ref):
    arr = rng(2).standard_normal((3, 5)).astype(np.float32)
    a, b = _both(ref, arr)
    for name in ("sigmoid", "tanh", "relu", "abs"):
        _same(getattr(torch, name)(a), getattr(ref, name)(b), False)
    for dim in (0, 1, -1):
        _same(torch.softmax(a, dim), ref.softmax(b, dim), False)
        _same(torch.log_softmax(a, dim=dim), ref.log_softmax(b, dim=dim), False)
    _same(torch.softmax(a, 1, dtype=torch.float64), ref.softmax(b, 1, dtype=ref.float64), False)


def test_shape_methods_and_comparisons_vs_torch(ref):
    a, b = _both(ref, X)
    m, n = _both(ref, X[0])
    v, w = _both(ref, np.array([1.0, 2.0], np.float32))
    _same(m.t(), n.t())
    _same(v.t(), w.t())
    _same(torch.t(m), ref.t(n))
    with pytest.raises(ValueError):
        a.t()
    _same(a.view_as(torch.zeros(4, 6)), b.view_as(ref.zeros(4, 6)))
    assert a.numel() == torch.numel(a) == ref.numel(b) == 24
    assert torch.is_tensor(a) and not torch.is_tensor(X) and not torch.is_tensor(1)
    for op in ("eq", "ne", "lt", "gt", "le", "ge"):
        _same(getattr(a, op)(1.0), getattr(b, op)(1.0))
        _same(
            getattr(a, op)(torch.tensor(X[::-1].copy())),
            getattr(b, op)(ref.from_numpy(X[::-1].copy())),
        )
    assert a[0, 1, 2].item() == b[0, 1, 2].item() and isinstance(a[0, 0, 0].item(), float)
    assert torch.tensor([3]).item() == 3 and isinstance(torch.tensor([3]).item(), int)
    _same(torch.squeeze(torch.unsqueeze(a, 1), 1), ref.squeeze(ref.unsqueeze(b, 1), 1))
    _same(torch.transpose(a, 0, 2), ref.transpose(b, 0, 2))
    _same(torch.permute(a, (2, 0, 1)), ref.permute(b, (2, 0, 1)))
    _same(torch.reshape(a, (6, -1)), ref.reshape(b, (6, -1)))
    _same(torch.linspace(-1, 2, 7), ref.linspace(-1, 2, 7), False)


def test_new_tensors_vs_torch(ref):
    a, b = _both(ref, X)
    i, j = _both(ref, np.array([1, 2]))
    _same(a.new_zeros(2, 3), b.new_zeros(2, 3))
    _same(a.new_ones((1, 2)), b.new_ones((1, 2)))
    _same(a.new_full((2,), 3), b.new_full((2,), 3))
    _same(i.new_full((2,), 3), j.new_full((2,), 3))
    _same(i.new_zeros(2, dtype=torch.float64), j.new_zeros(2, dtype=ref.float64))
    _same(a.new_tensor([1, 2]), b.new_tensor([1, 2]))
    assert a.new_empty(4).shape == (4,) and a.new_empty(4).dtype == torch.float32


def test_random_like_factories_vs_torch(ref):
    a, b = _both(ref, X)
    i, j = _both(ref, np.array([[1, 2, 3]]))
    for fn in ("randn_like", "rand_like", "empty_like"):
        mine, theirs = getattr(torch, fn)(a), getattr(ref, fn)(b)
        assert mine.shape == tuple(theirs.shape) and str(mine.dtype) == "float32"
        assert getattr(torch, fn)(a, dtype=torch.float64).dtype == np.float64
    r = torch.randint_like(i, 10)
    assert r.shape == tuple(ref.randint_like(j, 10).shape) and r.dtype == np.int64
    assert 0 <= int(r.numpy().min()) and int(r.numpy().max()) < 10
    s = torch.randint_like(a, 3, 5)
    assert s.dtype == np.float32 and set(np.unique(s.numpy())) <= {3.0, 4.0}
    u = torch.rand_like(torch.zeros(4000)).numpy()
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.03
    n = torch.randn_like(torch.zeros(4000)).numpy()
    assert abs(n.mean()) < 0.1 and abs(n.std() - 1) < 0.1
    torch.manual_seed(3)
    first = torch.randn_like(a).numpy()
    torch.manual_seed(3)
    assert np.array_equal(first, torch.randn_like(a).numpy())  # the global generator
    assert torch.randn_like(a, requires_grad=True).requires_grad
    with pytest.raises(TypeError, match="floating-point dtype"):
        torch.randn_like(i)  # PyTorch refuses too (for a Long tensor)
    with pytest.raises(RuntimeError, match="normal"):
        ref.randn_like(j)


def test_functions_take_tensors_only():
    with pytest.raises(TypeError, match="must be a Tensor"):
        torch.max([1, 2])
    with pytest.raises(TypeError, match="must be a Tensor"):
        torch.flatten(np.zeros((2, 2)))


def test_documented_reduction_shapes_without_torch():
    x = torch.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]])
    assert torch.argmax(x).item() == 3 and torch.argmax(x, keepdim=True).shape == (1, 1)
    assert torch.argmax(x, 1).tolist() == [1, 0]  # the first of the ties
    assert torch.argmax(x, 1, keepdim=True).shape == (2, 1)
    values, indices = torch.max(x, 1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]
    assert torch.max(x, 1, keepdim=True).values.shape == (2, 1)
    assert torch.max(x).shape == () and torch.max(x).item() == 7.0
    assert torch.sum(x > 2).item() == 4 and torch.sum(x > 2).dtype == torch.long
    assert torch.sum(x, (0, 1), keepdim=True).shape == (1, 1)
    pred = x.argmax(dim=1, keepdim=True)
    target = torch.tensor([1, 2])
    assert pred.eq(target.view_as(pred)).sum().item() == 1  # the MNIST example's count


# ---------------------------------------------------------------------------------- grad modes
def test_no_grad_and_inference_mode_forms():
    w = torch.randn(3, requires_grad=True)

    @torch.no_grad()
    def f1():
        return w * 2

    @torch.no_grad
    def f2():
        return w * 2

    @torch.inference_mode()
    def f3():
        return w * 2

    @torch.inference_mode
    def f4():
        return w * 2

    for f in (f1, f2, f3, f4):
        assert not f().requires_grad and torch.is_grad_enabled()
    with torch.inference_mode():
        assert not (w * 2).requires_grad
        with torch.inference_mode(False):  # leaves inference mode: grad is back on
            assert (w * 2).requires_grad
        assert not (w * 2).requires_grad
    assert (w * 2).requires_grad
    with torch.no_grad():
        with torch.inference_mode(False):
            assert (w * 2).requires_grad


def test_inference_mode_vs_torch(ref):
    w = ref.randn(3, requires_grad=True)
    with ref.inference_mode():
        with ref.inference_mode(False):
            theirs = (w * 2).requires_grad
    with torch.inference_mode():
        with torch.inference_mode(False):
            mine = (torch.randn(3, requires_grad=True) * 2).requires_grad
    assert mine == theirs


# ---------------------------------------------------------------------------------- seeds
def test_manual_seed_returns_a_generator():
    g = torch.manual_seed(7)
    assert isinstance(g, torch.Generator) and isinstance(g, np.random.Generator)
    assert g.initial_seed() == 7 == torch.initial_seed()
    a = torch.randn(4).numpy().copy()
    torch.manual_seed(7)
    assert np.array_equal(torch.randn(4).numpy(), a)
    g1 = torch.Generator().manual_seed(42)
    g2 = torch.Generator(device="cpu").manual_seed(42)
    assert g1.initial_seed() == 42 and np.array_equal(g1.random(3), g2.random(3))
    ds = TensorDataset(np.arange(10))
    s1 = torch.utils.data.random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(1))
    s2 = torch.utils.data.random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(1))
    assert s1[1].indices == s2[1].indices and len(s1[0]) == 8
    la = [
        b[0].tolist()
        for b in DataLoader(ds, 4, shuffle=True, generator=torch.Generator().manual_seed(3))
    ]
    lb = [
        b[0].tolist()
        for b in DataLoader(ds, 4, shuffle=True, generator=torch.Generator().manual_seed(3))
    ]
    assert la == lb and sorted(sum(la, [])) == list(range(10))
    import pickle

    g3 = pickle.loads(pickle.dumps(g1))
    assert isinstance(g3, torch.Generator) and g3.initial_seed() == 42
    assert np.array_equal(g3.random(2), g1.random(2))
    with pytest.raises(RuntimeError, match="CPU only"):
        torch.Generator(device="cuda")


# ---------------------------------------------------------------------------------- save/load
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(F.relu(self.bn(self.fc1(x))))


def _trained(seed=0):
    torch.manual_seed(seed)
    model = Net()
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    x = torch.tensor(rng(seed).standard_normal((16, 4)).astype(np.float32))
    y = torch.tensor(rng(seed).integers(0, 3, 16))
    for _ in range(3):
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
    return model, opt, sched, loss, x


@pytest.mark.parametrize("name", ["mnist_cnn.pt", "model.pth", "ckpt.npz", "noext"])
def test_checkpoint_round_trip_whatever_the_suffix(tmp_path, name):
    model, opt, sched, loss, x = _trained()
    path = tmp_path / name
    torch.save(
        {
            "epoch": 3,
            "model_state_dict": model.state_dict(),
            "optimizer_state_dict": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "loss": loss,
            "note": "fashion",
            "history": [1.5, 0.75],
            "best": None,
        },
        str(path),
    )
    assert path.exists() and not (tmp_path / (name + ".npz")).exists()
    ckpt = torch.load(str(path), weights_only=True, map_location="cpu")
    assert ckpt["epoch"] == 3 and ckpt["note"] == "fashion" and ckpt["best"] is None
    assert ckpt["history"] == [1.5, 0.75]
    assert float(ckpt["loss"]) == pytest.approx(loss.item())
    model2, opt2, sched2, _, _ = _trained(seed=1)
    model2.load_state_dict(ckpt["model_state_dict"])
    opt2.load_state_dict(ckpt["optimizer_state_dict"])
    sched2.load_state_dict(ckpt["scheduler"])
    model.eval(), model2.eval()
    np.testing.assert_array_equal(model(x).numpy(), model2(x).numpy())
    assert sched2.get_last_lr() == sched.get_last_lr()
    # one more identical step from both: the optimizer state really came back
    for m, o in ((model, opt), (model2, opt2)):
        m.train()
        o.zero_grad()
        m(x).sum().backward()
        o.step()
    np.testing.assert_array_equal(model.fc1.weight.numpy(), model2.fc1.weight.numpy())


def test_save_load_file_objects_and_map_locations(tmp_path):
    model, *_ = _trained()
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    buf.seek(0)
    sd = torch.load(buf)
    assert list(sd) == list(model.state_dict())
    path = tmp_path / "m.pt"
    torch.save(model.state_dict(), path)
    for loc in (
        None,
        "cpu",
        "cpu:0",
        torch.device("cpu"),
        {"cuda:0": "cpu"},
        lambda storage, loc: storage,
    ):
        for wo in (True, False, None):
            assert list(torch.load(path, map_location=loc, weights_only=wo)) == list(sd)
    for loc in ("cuda", "cuda:0", {"cpu": "cuda:1"}):
        with pytest.raises(RuntimeError, match="CPU only"):
            torch.load(path, map_location=loc)
    with pytest.raises(TypeError, match="state_dict"):
        torch.save(model, tmp_path / "whole.pt")  # minnet never pickles objects


def test_pytorch_files_give_a_conversion_hint_that_works(ref, tmp_path):
    ref.manual_seed(0)
    tmodel = ref.nn.Sequential(ref.nn.Linear(4, 8), ref.nn.ReLU(), ref.nn.Linear(8, 3))
    zip_file, legacy = tmp_path / "x.pt", tmp_path / "legacy.pth"
    ref.save(tmodel.state_dict(), zip_file)
    ref.save(tmodel.state_dict(), legacy, _use_new_zipfile_serialization=False)
    for path in (zip_file, legacy):
        with pytest.raises(ValueError, match="PyTorch .*convert it") as e:
            torch.load(path)
        assert "\n" not in str(e.value)
    # the advice, run as given, next to the file
    with pytest.raises(ValueError) as e:
        torch.load(zip_file)
    command = str(e.value).split('python -c "', 1)[1].split('" and', 1)[0]
    run_python("-c", command, cwd=tmp_path)
    sd = torch.load(tmp_path / "x.npz")
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    model.load_state_dict(sd)
    x = rng(3).standard_normal((5, 4)).astype(np.float32)
    with ref.no_grad():
        want = tmodel(ref.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(torch.tensor(x)).numpy(), want, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------- Adadelta
def _adadelta_run(lib, Optim, weights, grads_fn, steps, **kw):
    params = [lib.tensor(w.copy(), requires_grad=True) for w in weights]
    opt = Optim(params, **kw)
    for t in range(steps):
        opt.zero_grad()
        loss = sum((p * p * float(1 + t)).sum() + (p**3).sum() for p in params)
        loss.backward()
        opt.step()
    return [p.detach().numpy() for p in params], opt


@pytest.mark.parametrize(
    "kw", [{}, {"lr": 0.5, "rho": 0.8, "eps": 1e-4}, {"weight_decay": 0.1}, {"maximize": True}]
)
def test_adadelta_vs_torch(ref, kw):
    r = rng(4)
    weights = [r.standard_normal((3, 4)), r.standard_normal(5)]
    mine, opt = _adadelta_run(torch, optim.Adadelta, weights, None, 8, **kw)
    theirs, _ = _adadelta_run(ref, ref.optim.Adadelta, weights, None, 8, **kw)
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert opt.state[opt.param_groups[0]["params"][0]]["step"] == 8


def test_adadelta_first_step_by_hand():
    # v = (1 - rho) g^2, dx = sqrt(eps) / sqrt(v + eps) * g, theta -= lr * dx
    p = torch.tensor([1.0, -2.0], dtype=torch.float64, requires_grad=True)
    opt = optim.Adadelta([p], lr=1.0, rho=0.9, eps=1e-6)
    (p * torch.tensor([3.0, 4.0], dtype=torch.float64)).sum().backward()
    opt.step()
    g = np.array([3.0, 4.0])
    dx = np.sqrt(1e-6) / np.sqrt(0.1 * g**2 + 1e-6) * g
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0]) - dx, rtol=1e-14)
    st = opt.state_dict()["state"][0]
    np.testing.assert_allclose(st["acc_delta"], 0.1 * dx**2, rtol=1e-14)
    assert opt.defaults == {
        "lr": 1.0,
        "rho": 0.9,
        "eps": 1e-6,
        "weight_decay": 0,
        "maximize": False,
    }
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta([p], rho=1.5)


# ---------------------------------------------------------------------------------- schedulers
SCHEDULES = {
    "LinearLR": lambda L, o: L.LinearLR(o, start_factor=0.25, total_iters=6),
    "LinearLR_down": lambda L, o: L.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=10),
    "ConstantLR": lambda L, o: L.ConstantLR(o, factor=0.5, total_iters=4),
    "PolynomialLR": lambda L, o: L.PolynomialLR(o, total_iters=12, power=2.0),
    "MultiplicativeLR": lambda L, o: L.MultiplicativeLR(o, lambda e: 0.9 if e % 2 else 1.0),
    "CosineAnnealingWarmRestarts": lambda L, o: L.CosineAnnealingWarmRestarts(
        o, T_0=4, T_mult=2, eta_min=0.01
    ),
    "CosineAnnealingWarmRestarts_1": lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=7),
    "CyclicLR": lambda L, o: L.CyclicLR(
        o, base_lr=0.01, max_lr=0.1, step_size_up=4, step_size_down=3
    ),
    "CyclicLR_triangular2": lambda L, o: L.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, mode="triangular2"
    ),
    "CyclicLR_exp_range": lambda L, o: L.CyclicLR(
        o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.97
    ),
    "OneCycleLR": lambda L, o: L.OneCycleLR(o, max_lr=0.5, total_steps=30),
    "OneCycleLR_linear3": lambda L, o: L.OneCycleLR(
        o,
        max_lr=0.5,
        epochs=3,
        steps_per_epoch=10,
        pct_start=0.25,
        anneal_strategy="linear",
        three_phase=True,
    ),
    "SequentialLR": lambda L, o: L.SequentialLR(
        o, [L.LinearLR(o, 0.1, total_iters=5), L.ExponentialLR(o, gamma=0.9)], [5]
    ),
    "SequentialLR_3": lambda L, o: L.SequentialLR(
        o,
        [
            L.ConstantLR(o, 0.5, total_iters=3),
            L.StepLR(o, 4, 0.5),
            L.CosineAnnealingLR(o, T_max=8),
        ],
        milestones=[6, 15],
    ),
    "ChainedScheduler": lambda L, o: L.ChainedScheduler(
        [L.ConstantLR(o, 0.3, total_iters=4), L.ExponentialLR(o, gamma=0.9)]
    ),
    "StepLR": lambda L, o: L.StepLR(o, step_size=1, gamma=0.7),
}


def _schedule(lib, make, optimizer, steps=30):
    p = lib.zeros(2, requires_grad=True)
    opt = optimizer(lib, p)
    sched = make(lib.optim.lr_scheduler, opt)
    out = []
    for _ in range(steps):
        g = opt.param_groups[0]
        out.append((g["lr"], g.get("momentum", g.get("betas", (0,))[0])))
        p.grad = lib.zeros(2)
        opt.step()
        sched.step()
    return out, sched


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("which", ["sgd", "adam"])
def test_schedulers_vs_torch(ref, name, which):
    def optimizer(lib, p):
        if which == "sgd":
            return lib.optim.SGD([p], lr=0.1, momentum=0.9)
        return lib.optim.Adam([p], lr=0.1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about SequentialLR internals
        mine, sched = _schedule(torch, SCHEDULES[name], optimizer)
        theirs, _ = _schedule(ref, SCHEDULES[name], optimizer)
    np.testing.assert_allclose(np.array(mine), np.array(theirs), rtol=1e-12, atol=1e-15)
    assert sched.get_last_lr()[0] == pytest.approx(
        sched.optimizer.param_groups[0]["lr"], rel=1e-15
    )


def test_step_with_an_epoch_uses_the_closed_form_vs_torch(ref):
    got = []
    for lib in (torch, ref):
        p = lib.zeros(1, requires_grad=True)
        opt = lib.optim.SGD([p], lr=0.1)
        sched = lib.optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4], gamma=0.5)
        opt.step()
        with pytest.warns(UserWarning, match="deprecated"):
            sched.step(5)
        got.append(sched.get_last_lr())
    assert got[0] == pytest.approx(got[1]) and got[0] == pytest.approx([0.025])


def test_sequential_lr_state_dict_resume():
    def run(steps, resume_from=None):
        p = torch.zeros(1, requires_grad=True)
        opt = optim.SGD([p], lr=0.1)
        sched = SCHEDULES["SequentialLR"](lr_scheduler, opt)
        if resume_from is not None:
            opt.load_state_dict(resume_from[0])
            sched.load_state_dict(resume_from[1])
        lrs = []
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(sched.get_last_lr()[0])
        return lrs, (opt.state_dict(), sched.state_dict())

    full, _ = run(12)
    first, state = run(7)
    rest, _ = run(5, resume_from=state)
    np.testing.assert_allclose(first + rest, full, rtol=1e-12)


def test_one_cycle_documented_shape_without_torch():
    p = torch.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=20, pct_start=0.25)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(19):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs[0] == pytest.approx(1.0 / 25)  # max_lr / div_factor
    assert max(lrs) == pytest.approx(1.0) and int(np.argmax(lrs)) == 4
    assert lrs[-1] == pytest.approx(1.0 / 25 / 1e4)  # initial_lr / final_div_factor
    opt.step()
    sched.step()  # step 20 == total_steps: allowed
    with pytest.raises(ValueError, match="total steps is 20"):
        opt.step()
        sched.step()
    with pytest.raises(ValueError, match="momentum"):
        lr_scheduler.OneCycleLR(optim.Adadelta([p]), max_lr=1.0, total_steps=5)


# ---------------------------------------------------------------------------------- dropout
@pytest.mark.parametrize(
    "shape,module,fn",
    [
        ((8, 6, 5, 5), nn.Dropout2d, F.dropout2d),
        ((8, 6, 7), nn.Dropout1d, F.dropout1d),
        ((6, 7), nn.Dropout1d, F.dropout1d),
    ],
)
def test_channel_dropout_zeroes_whole_channels(shape, module, fn):
    x = torch.ones(*shape, requires_grad=True)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the documented ranks do not warn
        y = module(p=0.4)(x)
    lead = 2 if len(shape) > 2 else 1  # (N, C, ...) or unbatched (C, L)
    per_channel = y.numpy().reshape(int(np.prod(shape[:lead])), -1)
    assert (np.ptp(per_channel, axis=1) == 0).all()  # each channel all 0 or all 1/(1-p)
    np.testing.assert_allclose(np.unique(per_channel), [0.0, 1 / 0.6], rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.numpy())
    m = module(0.4).eval()
    assert m(x) is x and fn(x, 0.4, training=False) is x
    assert np.all(fn(x, 1.0).numpy() == 0) and fn(x, 0.0) is x


def test_channel_dropout_rate():
    torch.manual_seed(1)
    y = F.dropout2d(torch.ones(200, 50, 2, 2), p=0.3)
    dropped = (y.numpy()[:, :, 0, 0] == 0).mean()
    assert abs(dropped - 0.3) < 0.02


def test_dropout2d_odd_ranks_as_torch(ref):
    x2, x3 = torch.ones(50, 40), torch.ones(20, 30, 8)
    for mine_in, theirs_in in ((x2, ref.ones(50, 40)), (x3, ref.ones(20, 30, 8))):
        with warnings.catch_warnings(record=True) as mine_w:
            warnings.simplefilter("always")
            y = nn.Dropout2d(0.5)(mine_in)
        with warnings.catch_warnings(record=True) as theirs_w:
            warnings.simplefilter("always")
            ref.nn.Dropout2d(0.5)(theirs_in)
        assert [str(w.message) for w in mine_w] == [str(w.message) for w in theirs_w]
        assert len(mine_w) >= 1
    # 2-D: elementwise (an LSTM's (N, H) output in the MNIST RNN example); 3-D: per (N, C)
    z = y.numpy()
    assert np.unique(z, axis=-1).shape[-1] == 1
    with pytest.warns(UserWarning, match="2-D input to dropout2d"):
        y2 = nn.Dropout2d(0.5)(x2).numpy()
    assert 0.3 < (y2 == 0).mean() < 0.7 and set(np.unique(y2)) == {0.0, 2.0}
    assert (np.ptp(y2, axis=1) > 0).all()  # rows mix kept and dropped elements
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D"):
        F.dropout1d(torch.ones(2, 3, 4, 5))
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout2d(1.5)


# ---------------------------------------------------------------------------------- losses
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_and_cross_entropy_vs_torch(ref, reduction, ignore_index, weighted):
    r = rng(5)
    logits = r.standard_normal((7, 4))
    target = np.array([0, 2, 1, 3, 2, 0, 1])
    weight = r.uniform(0.5, 2.0, 4) if weighted else None
    kw = dict(reduction=reduction, ignore_index=ignore_index)
    for ls in (0.0, 0.2):
        a = torch.tensor(logits, requires_grad=True)
        b = ref.tensor(logits, requires_grad=True)
        wa = None if weight is None else torch.tensor(weight)
        wb = None if weight is None else ref.tensor(weight)
        mine = F.cross_entropy(a, torch.tensor(target), weight=wa, label_smoothing=ls, **kw)
        theirs = ref.nn.functional.cross_entropy(
            b, ref.tensor(target), weight=wb, label_smoothing=ls, **kw
        )
        np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=1e-10)
        mine.sum().backward()
        theirs.sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-14)
    a = torch.tensor(logits, requires_grad=True)
    b = ref.tensor(logits, requires_grad=True)
    mine = F.nll_loss(
        F.log_softmax(a, 1),
        torch.tensor(target),
        weight=None if weight is None else torch.tensor(weight),
        **kw,
    )
    theirs = ref.nn.functional.nll_loss(
        ref.log_softmax(b, 1),
        ref.tensor(target),
        weight=None if weight is None else ref.tensor(weight),
        **kw,
    )
    np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=1e-10)
    mine.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------------------------- namespace
@pytest.mark.parametrize(
    "name,advice",
    [
        ("compile", "no JIT: remove torch.compile"),
        ("jit", "TorchScript"),
        ("amp", "GradScaler"),
        ("autocast", "mixed precision"),
        ("bfloat16", "float32"),
        ("fx", ""),
    ],
)
def test_deliberately_absent_names_say_what_to_do(name, advice):
    with pytest.raises(
        AttributeError, match=f"minnet has no '{name}' \\(PyTorch's torch.{name}\\); .*{advice}"
    ):
        getattr(torch, name)
    assert not hasattr(torch, name)


def test_unknown_names_get_the_plain_error():
    with pytest.raises(AttributeError, match="^module 'minnet' has no attribute 'nonsense'$"):
        torch.nonsense
    assert torch.keras.__name__ == "minnet.keras"  # lazily imported subpackage


def test_utils_data_is_minnet_data():
    import minnet.utils.data as tud
    from minnet.utils.data import (  # noqa: F401
        BatchSampler,
        ConcatDataset,
        Dataset,
        Subset,
        SubsetRandomSampler,
        WeightedRandomSampler,
        default_collate,
        get_worker_info,
        random_split,
    )

    for name in minnet.data.__all__:
        assert getattr(tud, name) is getattr(minnet.data, name), name
    assert torch.utils.data.DataLoader is minnet.data.DataLoader
    assert get_worker_info() is None


def test_import_minnet_stays_fast():
    code = "import time; t = time.perf_counter(); import minnet; print(time.perf_counter() - t)"
    out = run_python("-c", code, timeout=60)
    assert float(out.stdout) < 2.0
    heavy = run_python(
        "-c",
        "import sys, minnet; print(sorted(m for m in "
        "('torch', 'minnet.keras', 'matplotlib') if m in sys.modules))",
        timeout=60,
    )
    assert heavy.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------- DataLoader
def test_dataloader_takes_pytorch_arguments():
    ds = TensorDataset(np.arange(10.0), np.arange(10))
    loader = DataLoader(
        ds,
        batch_size=4,
        shuffle=True,
        num_workers=0,
        pin_memory=True,
        drop_last=True,
        timeout=0,
        worker_init_fn=None,
        generator=None,
        persistent_workers=False,
        pin_memory_device="",
        in_order=True,
    )
    assert len(loader) == 2 and len(loader.dataset) == 10 and loader.pin_memory
    assert all(len(b[0]) == 4 for b in loader)
    with pytest.raises(ValueError, match="prefetch_factor"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="num_workers"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="start method"):
        DataLoader(ds, num_workers=1, multiprocessing_context="teleport")
    with pytest.raises(ValueError, match="timeout"):
        DataLoader(ds, timeout=-1)


def test_samplers_and_batch_samplers():
    ds = TensorDataset(np.arange(20))
    from minnet.utils.data import (
        BatchSampler,
        SequentialSampler,
        SubsetRandomSampler,
        WeightedRandomSampler,
    )

    idx = [3, 5, 7, 11, 13]
    loader = DataLoader(ds, batch_size=2, sampler=SubsetRandomSampler(idx))
    seen = [v for b in loader for v in b[0].tolist()]
    assert sorted(seen) == idx and len(loader) == 3 and len(loader.sampler) == 5
    w = np.zeros(20)
    w[[2, 4]] = [1.0, 3.0]
    draws = [
        v
        for b in DataLoader(ds, batch_size=50, sampler=WeightedRandomSampler(w, 400))
        for v in b[0].tolist()
    ]
    assert set(draws) == {2, 4} and 0.65 < draws.count(4) / 400 < 0.85
    bs = BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    batches = [b[0].tolist() for b in DataLoader(ds, batch_sampler=[[1, 2], [9], [0, 4, 8]])]
    assert batches == [[1, 2], [9], [0, 4, 8]]
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 20 and single[3][0].shape == () and single[3][0].item() == 3
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=4, batch_sampler=bs)
    with pytest.raises(ValueError, match="drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_samples"):
        WeightedRandomSampler(w, 0)
