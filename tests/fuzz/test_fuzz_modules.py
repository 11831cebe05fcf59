"""Generated inputs for the main modules (hypothesis): random ranks, sizes (0 and 1 included),
dtypes, strided / negative-stride / broadcast views, NaN. Each call must either raise
ValueError/TypeError or give the answer the module gives on the plain version of the same
values: a contiguous float32 copy (views and dtypes must not change results), batch rows
computed independently (eval mode: a row's output does not depend on the other rows), and a
backward whose gradients have the parameters' shapes. ``MINNET_FUZZ_EXAMPLES`` sets the
examples per module (default 40)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests_helpers_fuzz import fuzz_settings

import minnet
from minnet import nn

FUZZ = fuzz_settings(40)

# name -> (constructor, the shape of one sample (the batch dimension is added in front), the
# axis of the features whose size the module fixes: one more there must be refused; None:
# any size is valid)
MODULES = {
    "Linear": (lambda: nn.Linear(5, 3), (5,), -1),
    "Conv2d": (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 6, 5), 1),
    "Conv2d_stride": (lambda: nn.Conv2d(2, 4, 2, stride=2), (2, 7, 6), 1),
    "MaxPool2d": (lambda: nn.MaxPool2d(2), (2, 6, 5), None),
    "AvgPool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 7, 6), None),
    "BatchNorm1d": (lambda: nn.BatchNorm1d(4), (4,), 1),
    "BatchNorm2d": (lambda: nn.BatchNorm2d(3), (3, 4, 4), 1),
    "GRU": (lambda: nn.GRU(3, 4, batch_first=True), (5, 3), -1),
    "LSTM": (lambda: nn.LSTM(3, 4, batch_first=True), (5, 3), -1),
    "RNN": (lambda: nn.RNN(3, 4, batch_first=True), (5, 3), -1),
    "GRUCell": (lambda: nn.GRUCell(3, 4), (3,), -1),
    "LSTMCell": (lambda: nn.LSTMCell(3, 4), (3,), -1),
    "ReLU_Sequential": (
        lambda: nn.Sequential(nn.Flatten(), nn.Linear(12, 4), nn.ReLU(), nn.Linear(4, 2)),
        (3, 4),
        -1,
    ),
}
MUTATIONS = [
    "none",
    "float64",
    "int",
    "bool",
    "float16",
    "noncontig",
    "negstride",
    "broadcast",
    "nan",
    "empty_batch",
    "wrong_features",
    "wrong_rank",
    "list",
]


def _first(out):
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def _run(module, x):
    out = _first(module(x))
    return out.numpy()


def _mutated(rng, base, how, axis):
    if how == "float64":
        return base.astype(np.float64), base
    if how == "int":
        return np.round(base * 3).astype(np.int64), None
    if how == "bool":
        return base > 0, None
    if how == "float16":
        return base.astype(np.float16), None
    if how == "noncontig":
        big = np.zeros(base.shape[:-1] + (2 * base.shape[-1],), np.float32)
        big[..., ::2] = base
        return big[..., ::2], base
    if how == "negstride":
        return np.ascontiguousarray(base[..., ::-1])[..., ::-1], base
    if how == "broadcast":
        b = np.broadcast_to(base[:1], base.shape)
        return b, np.ascontiguousarray(b)
    if how == "nan":
        b = base.copy()
        b.flat[int(rng.integers(b.size))] = np.nan
        return b, b
    if how == "empty_batch":
        return base[:0], None
    if how == "wrong_features":
        if axis is None:
            return base, base
        extra = np.take(base, [0], axis=axis)
        return np.concatenate([base, extra], axis=axis), None
    if how == "wrong_rank":  # valid for (*, features) modules: then equal to itself
        return base[None], base[None]
    if how == "list":  # minnet's functions take array-likes: equal or refused
        return base.tolist(), base
    return base, base


@pytest.mark.parametrize("name", sorted(MODULES))
@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    mutation=st.sampled_from(MUTATIONS),
    batch=st.integers(1, 5),
    train=st.booleans(),
)
def test_module_equals_its_plain_self_or_raises(name, seed, mutation, batch, train):
    make, sample, axis = MODULES[name]
    rng = np.random.default_rng(seed)
    minnet.manual_seed(seed % 1000)
    module = make()
    base = rng.standard_normal((batch,) + sample).astype(np.float32)
    if name.startswith("BatchNorm") and train and batch == 1 and len(sample) == 1:
        batch, base = 2, rng.standard_normal((2,) + sample).astype(np.float32)
    x, plain = _mutated(rng, base, mutation, axis)
    module.train(train)
    if name.startswith("BatchNorm"):
        module.eval()  # running statistics: the batch rows are independent
    try:
        t = minnet.tensor(x) if not isinstance(x, list) else x
        got = _run(module, t)
    except (ValueError, TypeError):
        return
    if mutation == "empty_batch":  # PyTorch's modules take an empty batch too
        one = _run(module, minnet.tensor(base[:1]))
        assert got.shape == (0,) + one.shape[1:], (got.shape, one.shape)
        return
    assert plain is not None, f"{name} accepted a {mutation} input: {np.asarray(x).dtype}"
    want = _run(module, minnet.tensor(np.ascontiguousarray(plain, np.float32)))
    tol = 1e-5 if mutation != "float64" else 1e-4
    np.testing.assert_allclose(got.astype(np.float64), want, rtol=tol, atol=tol)
    if not name.startswith(("GRU", "LSTM", "RNN")) and mutation not in ("nan", "wrong_rank"):
        # batch rows are independent (eval-mode batch norm, no dropout here)
        rows = np.concatenate(
            [
                _run(module, minnet.tensor(np.ascontiguousarray(plain[i : i + 1], np.float32)))
                for i in range(len(plain))
            ]
        )
        np.testing.assert_allclose(got, rows, rtol=1e-4, atol=1e-5)
    # and a backward: every parameter gets a gradient of its own shape
    module.train(train)
    xt = minnet.tensor(np.ascontiguousarray(plain, np.float32), requires_grad=True)
    out = _first(module(xt))
    out.sum().backward()
    assert xt.grad is not None and xt.grad.shape == xt.shape
    for pname, p in module.named_parameters():
        assert p.grad is None or p.grad.shape == p.shape, pname


LOSSES = {
    "MSELoss": (nn.MSELoss, "float"),
    "L1Loss": (nn.L1Loss, "float"),
    "HuberLoss": (nn.HuberLoss, "float"),
    "SmoothL1Loss": (nn.SmoothL1Loss, "float"),
    "BCELoss": (nn.BCELoss, "prob"),
    "BCEWithLogitsLoss": (nn.BCEWithLogitsLoss, "float"),
    "CrossEntropyLoss": (nn.CrossEntropyLoss, "index"),
    "NLLLoss": (nn.NLLLoss, "index"),
    "KLDivLoss": (nn.KLDivLoss, "prob"),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 5),
    c=st.integers(1, 5),
    reduction=st.sampled_from(["mean", "sum", "none"]),
    bad=st.sampled_from(
        ["none", "label_high", "label_negative", "label_float", "shape", "target_int"]
    ),
)
def test_losses_are_right_or_refuse(name, seed, n, c, reduction, bad):
    cls, kind = LOSSES[name]
    rng = np.random.default_rng(seed)
    inp = rng.standard_normal((n, c)).astype(np.float32)
    if kind == "prob":
        inp = 1 / (1 + np.exp(-inp))
    if kind == "index":
        target = rng.integers(0, c, n)
        if bad == "label_high" and n:
            target[0] = c
        elif bad == "label_negative" and n:
            target[0] = -3
        elif bad == "label_float":
            target = target.astype(np.float32)
    else:
        target = rng.uniform(0, 1, (n, c)).astype(np.float32)
        if bad == "target_int":
            target = (target > 0.5).astype(np.int64)
    if bad == "shape":
        target = target[:-1] if n else np.zeros((1,) + target.shape[1:], target.dtype)
    loss = cls(reduction=reduction)
    x = minnet.tensor(inp, requires_grad=True)
    try:
        out = loss(x, minnet.tensor(target))
    except (ValueError, TypeError, IndexError) as e:
        assert not isinstance(e, IndexError) or "target" in str(e), e
        return
    harmless = bad in ("none", "target_int") or (
        bad.startswith("label") and (n == 0 or kind != "index")
    )
    assert harmless, f"{name} accepted a bad target: {bad}"
    val = out.numpy()
    assert val.shape == (() if reduction != "none" else val.shape)
    if n and reduction != "none":
        assert np.isfinite(val).all() or name == "KLDivLoss"
        out.backward()
        assert x.grad.shape == x.shape and np.isfinite(x.grad.numpy()).all()


OPTIMIZERS = {
    "SGD": (minnet.optim.SGD, dict(lr=0.1, momentum=0.9), ["lr", "momentum", "weight_decay"]),
    "Adam": (minnet.optim.Adam, dict(lr=1e-2), ["lr", "eps", "weight_decay", "betas"]),
    "AdamW": (minnet.optim.AdamW, dict(lr=1e-2), ["lr", "eps", "weight_decay", "betas"]),
    "RMSprop": (
        minnet.optim.RMSprop,
        dict(lr=1e-2),
        ["lr", "alpha", "eps", "momentum", "weight_decay"],
    ),
    "Adagrad": (minnet.optim.Adagrad, dict(lr=1e-2), ["lr", "eps", "weight_decay", "lr_decay"]),
    "Adadelta": (minnet.optim.Adadelta, dict(lr=1.0), ["lr", "rho", "eps", "weight_decay"]),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.lists(st.integers(0, 4), max_size=3),
    bad=st.sampled_from(["none", "negative", "nan", "betas"]),
    grad=st.booleans(),
)
def test_optimizers_step_or_refuse(name, seed, shape, bad, grad):
    cls, good, names = OPTIMIZERS[name]
    rng = np.random.default_rng(seed)
    p = minnet.nn.Parameter(minnet.tensor(rng.standard_normal(shape).astype(np.float32)))
    kw = dict(good)
    if bad != "none":
        key = names[int(rng.integers(len(names)))]
        if key == "betas" or bad == "betas":
            if "betas" not in names:
                return
            kw["betas"] = (1.5, 0.999) if rng.integers(2) else (0.9, -0.1)
        else:
            kw[key] = -0.5 if bad == "negative" else float("nan")
    try:
        opt = cls([p], **kw)
    except ValueError as e:
        assert bad != "none", e
        return
    assert bad == "none", f"{name} accepted {kw}"
    before = p.detach().numpy().copy()
    if grad:
        p.grad = minnet.tensor(rng.standard_normal(shape).astype(np.float32))
    opt.step()
    after = p.detach().numpy()
    assert after.shape == before.shape and np.isfinite(after).all()
    if not grad:
        np.testing.assert_array_equal(after, before)  # no gradient: no update


@FUZZ
@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.lists(st.integers(0, 4), max_size=3),
    kind=st.sampled_from(["ok", "high", "negative", "float", "bool", "padding"]),
)
def test_embedding_looks_up_or_refuses(seed, shape, kind):
    rng = np.random.default_rng(seed)
    num = 6
    e = nn.Embedding(num, 3, padding_idx=2 if kind == "padding" else None)
    idx = rng.integers(0, num, shape)
    if kind == "high" and idx.size:
        idx.flat[0] = num
    elif kind == "negative" and idx.size:
        idx.flat[0] = -1
    elif kind == "float":
        idx = idx.astype(np.float32)
    elif kind == "bool":
        idx = idx > 2
    try:
        out = e(minnet.tensor(idx))
    except (ValueError, TypeError):
        assert kind in ("high", "negative", "float", "bool"), kind
        return
    assert kind in ("ok", "padding") or idx.size == 0, f"accepted {kind} indices"
    np.testing.assert_array_equal(out.numpy(), e.weight.detach().numpy()[idx])


@FUZZ
@given(
    n=st.integers(0, 23),
    batch=st.one_of(st.integers(-2, 9), st.none()),
    drop_last=st.booleans(),
    shuffle=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_dataloader_batches_cover_the_dataset(n, batch, drop_last, shuffle, seed):
    from minnet.utils.data import DataLoader, TensorDataset

    x = np.arange(n * 2, dtype=np.float32).reshape(n, 2)
    y = np.arange(n)
    try:
        loader = DataLoader(
            TensorDataset(minnet.tensor(x), minnet.tensor(y)),
            batch_size=batch,
            drop_last=drop_last,
            shuffle=shuffle,
            generator=minnet.Generator().manual_seed(seed),
        )
    except ValueError:
        assert (batch is not None and batch < 1) or (batch is None and drop_last)
        return
    assert (batch is None and not drop_last) or (batch is not None and batch >= 1)
    seen = []
    for xb, yb in loader:
        xb, yb = xb.numpy(), yb.numpy()
        if batch is not None:
            assert len(yb) == batch or (not drop_last and len(yb) < batch)
        np.testing.assert_array_equal(xb, x[yb])
        seen.extend(yb.tolist() if batch is not None else [int(yb)])
    full = n if batch is None or not drop_last else n - n % batch
    assert len(seen) == full and len(set(seen)) == full
    if not shuffle:
        assert seen == list(range(full))
    assert len(loader) == (n if batch is None else (n // batch if drop_last else -(-n // batch)))


@FUZZ
@given(
    n=st.integers(1, 20),
    batch=st.integers(-1, 8),
    epochs=st.integers(0, 2),
    split=st.sampled_from([0.0, 0.25, 1.0, -0.1]),
    features=st.sampled_from([3, 4]),
    seed=st.integers(0, 1000),
)
def test_keras_fit_trains_or_refuses(n, batch, epochs, split, features, seed):
    from minnet import keras

    rng = np.random.default_rng(seed)
    minnet.random.set_seed(seed) if hasattr(minnet.random, "set_seed") else None
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = rng.integers(0, 2, n)
    try:
        h = model.fit(x, y, batch_size=batch, epochs=epochs, validation_split=split, verbose=0)
    except ValueError as e:
        assert (
            batch < 1
            or features != 3
            or not 0 <= split < 1
            or (split > 0 and int(n * (1 - split)) < 1)
        ), e
        return
    assert batch >= 1 and features == 3 and 0 <= split < 1
    assert len(h.history.get("loss", [])) == epochs  # Keras: no keys after 0 epochs
    assert all(np.isfinite(v) for v in h.history.get("loss", []))
