"""Conv1d/Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, BatchNorm2d and their functional
forms: gradcheck in float64 through the autograd nodes, PyTorch names/layouts/init, loading a
PyTorch-style state_dict (checked against the NumPy reference, not torch), layer-named errors,
and a small CNN that learns horizontal vs vertical lines."""

import math

import numpy as np
import pytest

import minnet
import minnet.nn.functional as F
from minnet import nn, optim, reference
from minnet.testing import gradcheck


def _t(rng, shape, grad=True):
    return minnet.Tensor(rng.uniform(-1, 1, shape), requires_grad=grad)


@pytest.mark.parametrize(
    "kw",
    [
        dict(),
        dict(padding=1),
        dict(stride=2, padding=(1, 0)),
        dict(dilation=2, padding="same"),
        dict(groups=2),
        dict(groups=4, padding=1),  # depthwise
    ],
)
def test_conv2d_gradcheck(kw):
    rng = np.random.default_rng(0)
    x, w, b = _t(rng, (2, 4, 5, 5)), _t(rng, (4, 4 // kw.get("groups", 1), 3, 3)), _t(rng, (4,))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize(
    "xs, ws, kw",
    [
        ((2, 8, 4, 5), (8, 8, 3, 3), dict(padding=1)),  # implicit tiles, relu in dY
        ((2, 8, 5, 5), (8, 8, 3, 3), dict(stride=2, padding=1)),  # phases (strided dX)
        ((2, 1, 5, 6), (8, 1, 3, 3), dict(padding=1)),  # first layer: depthwise bwd
        ((2, 3, 5, 5), (6, 1, 3, 3), dict(padding=1, groups=3)),  # depthwise, multiplier 2
    ],
)
def test_conv2d_relu_gradcheck_every_path(xs, ws, kw):
    """float64 through each backward path of the fused relu (the mask applied in C)."""
    rng = np.random.default_rng(2)
    x, w, b = _t(rng, xs), _t(rng, ws), _t(rng, (ws[0],))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, activation="relu", **kw), [x, w, b])


def test_conv2d_relu_gradcheck_and_conv1d():
    rng = np.random.default_rng(1)
    x, w, b = _t(rng, (2, 3, 4, 4)), _t(rng, (2, 3, 3, 3)), _t(rng, (2,))
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, padding=1, activation="relu"), [x, w, b])
    x1, w1 = _t(rng, (2, 3, 7)), _t(rng, (4, 3, 3))
    assert gradcheck(lambda x, w: F.conv1d(x, w, None, stride=2, padding=1), [x1, w1])


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: F.max_pool2d(x, 2),
        lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
        lambda x: F.avg_pool2d(x, 2, ceil_mode=True),
        lambda x: F.adaptive_avg_pool2d(x, (2, 3)),
        lambda x: F.adaptive_avg_pool2d(x, 1),
    ],
)
def test_pool_gradcheck(fn):
    rng = np.random.default_rng(2)
    x = minnet.Tensor(
        rng.permutation(2 * 3 * 5 * 7).reshape(2, 3, 5, 7) / 10.0, requires_grad=True
    )  # distinct values: max pooling is differentiable
    assert gradcheck(fn, [x])


def test_max_pool_return_indices_and_unbatched():
    x = minnet.Tensor(np.arange(16, dtype=np.float32).reshape(1, 4, 4))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    assert y.shape == (1, 2, 2) and idx.numpy().tolist() == [[[5, 7], [13, 15]]]
    y2, idx2 = nn.MaxPool2d(2, return_indices=True)(x.reshape(1, 1, 4, 4))
    assert idx2.shape == (1, 1, 2, 2)


def test_conv2d_module_names_layout_init():
    minnet.manual_seed(0)
    m = nn.Conv2d(6, 8, (3, 5), stride=2, padding=1, groups=2)
    assert m.weight.shape == (8, 3, 3, 5) and m.bias.shape == (8,)
    assert list(m.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(3 * 3 * 5)  # PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert np.abs(m.weight.numpy()).max() <= bound and np.abs(m.bias.numpy()).max() <= bound
    assert np.abs(m.weight.numpy()).max() > 0.8 * bound
    assert repr(m) == "Conv2d(6, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 1), groups=2)"
    assert nn.Conv2d(1, 2, 3, bias=False).bias is None
    assert nn.Conv1d(3, 4, 5).weight.shape == (4, 3, 5)
    bn = nn.BatchNorm2d(8)
    assert list(bn.state_dict()) == [
        "weight",
        "bias",
        "running_mean",
        "running_var",
        "num_batches_tracked",
    ]


def _np_cnn(sd, x):
    """The CNN below written with the NumPy references only."""
    h = x
    for i in (0, 3, 6):
        h = reference.conv2d_forward(
            h, sd[f"{i}.weight"], sd[f"{i}.bias"], padding=1, activation="relu"
        )
        h = reference.max_pool2d_forward(h, 2)[0]
    h = h.reshape(h.shape[0], -1)
    return h @ sd["10.weight"].T + sd["10.bias"]


def cnn():
    """The course's CNN: (Conv 3x3 pad 1, ReLU, MaxPool 2) x 3, 1->16->32->32, Linear(288, 10)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(288, 10),
    )


def test_pytorch_state_dict_loads_and_matches_reference():
    rng = np.random.default_rng(3)
    # keys and layouts of torch's state_dict for the same nn.Sequential
    sd = {
        "0.weight": (16, 1, 3, 3),
        "0.bias": (16,),
        "3.weight": (32, 16, 3, 3),
        "3.bias": (32,),
        "6.weight": (32, 32, 3, 3),
        "6.bias": (32,),
        "10.weight": (10, 288),
        "10.bias": (10,),
    }
    sd = {k: rng.uniform(-0.3, 0.3, s).astype(np.float32) for k, s in sd.items()}
    model = cnn()
    model.load_state_dict(sd)
    x = rng.uniform(0, 1, (4, 1, 28, 28)).astype(np.float32)
    with minnet.no_grad():
        y = model(minnet.Tensor(x)).numpy()
    expect = _np_cnn({k: v.astype(np.float64) for k, v in sd.items()}, x.astype(np.float64))
    np.testing.assert_allclose(y, expect, rtol=1e-4, atol=1e-4)


def test_batchnorm2d_per_channel():
    rng = np.random.default_rng(4)
    x = rng.normal(3, 2, (4, 3, 5, 5))
    bn = nn.BatchNorm2d(3, dtype=np.float64)
    y = bn(minnet.Tensor(x)).numpy()
    mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-5), atol=1e-10)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mean.ravel(), atol=1e-12)
    with pytest.raises(ValueError, match="BatchNorm2d\\(3.*\\(N, 3, H, W\\).*\\(4, 3, 5\\)"):
        bn(minnet.Tensor(x[:, :, 0]))


@pytest.mark.parametrize(
    "layer,shape,match",
    [
        (nn.Conv2d(3, 8, 3), (3, 8), "Conv2d\\(3, 8.*4-D input.*\\(3, 8\\)"),
        (nn.Conv2d(3, 8, 3), (2, 5, 8, 8), "Conv2d\\(3, 8.*\\(2, 5, 8, 8\\) has 5 channels"),
        (nn.Conv2d(3, 8, 5), (2, 3, 3, 3), "Conv2d\\(3, 8.*larger than the padded input"),
        (nn.MaxPool2d(4), (1, 1, 3, 3), "MaxPool2d\\(kernel_size=4.*output size"),
        (nn.AvgPool2d(2, padding=2), (1, 1, 8, 8), "AvgPool2d.*padding.*at most half"),
    ],
)
def test_bad_input_names_layer(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer(minnet.zeros(*shape))


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(groups=2), "groups=2"),
        (dict(stride=0), "stride"),
        (dict(padding="same", stride=2), "'same' needs stride 1"),
    ],
)
def test_bad_module_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        nn.Conv2d(3, 8, 3, **kw)


def lines_dataset(n, rng, size=12):
    """Images with one horizontal (class 0) or vertical (class 1) line, plus noise."""
    x = rng.uniform(0, 0.2, (n, 1, size, size)).astype(np.float32)
    y = rng.integers(0, 2, n)
    pos = rng.integers(1, size - 1, n)
    for i in range(n):
        if y[i] == 0:
            x[i, 0, pos[i], 1:-1] = 1
        else:
            x[i, 0, 1:-1, pos[i]] = 1
    return x, y


def test_small_cnn_learns_horizontal_vs_vertical_lines():
    minnet.manual_seed(0)
    rng = np.random.default_rng(0)
    x, y = lines_dataset(256, rng)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding="same"),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(8, 2),
    )
    opt = optim.Adam(model.parameters(), lr=0.02)
    xt, yt = minnet.Tensor(x), minnet.Tensor(y)
    for step in range(60):
        idx = rng.integers(0, 256, 64)
        loss = F.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    xv, yv = lines_dataset(200, np.random.default_rng(1))
    with minnet.no_grad():
        pred = model(minnet.Tensor(xv)).numpy().argmax(1)
    assert (pred == yv).mean() == 1.0


@pytest.mark.parametrize(
    "xs, ws, kw",
    [
        ((2, 8, 6, 5), (8, 8, 3, 3), dict(padding=1)),  # implicit, odd columns
        ((2, 1, 6, 6), (8, 1, 3, 3), dict(padding=1)),  # first layer: depthwise bwd
        ((2, 8, 7, 7), (8, 8, 3, 3), dict(stride=2, padding=1)),  # phases
        ((2, 3, 5, 6), (3, 1, 3, 3), dict(padding=1, groups=3)),  # depthwise (direct forward)
    ],
)
def test_conv2d_relu_max_pool2d_gradcheck_and_equals_three_ops(xs, ws, kw):
    """The fused node: float64 gradcheck, and the values and gradients of conv -> relu ->
    max_pool2d(2) run as three nodes."""
    rng = np.random.default_rng(4)
    x, w, b = _t(rng, xs), _t(rng, ws), _t(rng, (ws[0],))
    fused = lambda x, w, b: F.conv2d_relu_max_pool2d(x, w, b, **kw)
    assert gradcheck(fused, [x, w, b])
    p = fused(x, w, b)
    q = F.max_pool2d(F.relu(F.conv2d(x, w, b, **kw)), 2)
    np.testing.assert_array_equal(p.numpy(), q.numpy())
    g = rng.uniform(-1, 1, p.shape)
    grads = []
    for out in (p, q):
        for t in (x, w, b):
            t.grad = None
        (out * minnet.Tensor(g)).sum().backward()
        grads.append([t.grad.numpy().copy() for t in (x, w, b)])
    for a, r in zip(*grads):
        np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


def test_sequential_fuses_conv_relu_maxpool_only_when_it_is_2x2():
    minnet.manual_seed(0)
    rng = np.random.default_rng(5)
    x = minnet.Tensor(rng.uniform(-1, 1, (3, 2, 9, 8)).astype(np.float32))
    for pool, fused in [
        (nn.MaxPool2d(2), True),
        (nn.MaxPool2d((2, 2), stride=2), True),
        (nn.MaxPool2d(2, ceil_mode=True), False),
        (nn.MaxPool2d(3), False),
        (nn.MaxPool2d(2, stride=1), False),
    ]:
        model = nn.Sequential(nn.Conv2d(2, 8, 3, padding=1), nn.ReLU(), pool)
        y = model(x)
        assert (type(y.grad_fn).__name__ == "Conv2dReluMaxPool2d") == fused
        model.fuse = False
        ref = model(x)
        np.testing.assert_array_equal(y.numpy(), ref.numpy())
        y.sum().backward()
        gw = model[0].weight.grad.numpy().copy()
        model.zero_grad()
        ref.sum().backward()
        np.testing.assert_allclose(gw, model[0].weight.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_conv2d_max_pool_argument_and_small_output_are_refused():
    conv = nn.Conv2d(2, 4, 3)
    x = minnet.Tensor(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match="max_pool must be None or 2"):
        conv(x, activation="relu", max_pool=3)
    with pytest.raises(ValueError, match="max_pool must be None or 2"):
        conv(x, max_pool=2)
    with pytest.raises(ValueError, match=r"at least 2x2.*\(1, 2, 3, 3\).*1x1"):
        conv(minnet.Tensor(np.zeros((1, 2, 3, 3), np.float32)), activation="relu", max_pool=2)
