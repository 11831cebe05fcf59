"""minnet.bench.roofline: the FLOP count of a training step, from hand formulas and, where
PyTorch is installed, against torch.utils.flop_counter on the same model; and % of peak."""

import math

import numpy as np
import pytest

import minnet
from minnet.bench import roofline


def _x(shape):
    return np.random.default_rng(0).random(shape, dtype=np.float32)


def _mlp(nn):
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))


def _cnn(nn):  # conv+relu+pool runs fused in minnet: the count must still see every conv
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(1600, 10),
    )  # fmt: skip


def test_mlp_by_hand():
    fwd, step = roofline.step_flops(_mlp(minnet.nn), minnet.from_numpy(_x((128, 1, 28, 28))))
    l1, l2 = 2 * 128 * 784 * 512, 2 * 128 * 512 * 10
    assert fwd == l1 + l2
    assert step == 3 * (l1 + l2) - l1  # no dX for the first layer


def test_cnn_by_hand_through_fusion():
    fwd, step = roofline.step_flops(_cnn(minnet.nn), minnet.from_numpy(_x((8, 1, 28, 28))))
    c1 = 2 * 8 * 32 * 26 * 26 * 1 * 9
    c2 = 2 * 8 * 64 * 11 * 11 * 32 * 9
    fc = 2 * 8 * 1600 * 10
    assert fwd == c1 + c2 + fc
    assert step == 3 * fwd - c1


def test_gru_by_hand():
    t, b, i, h = 28, 16, 28, 64
    fwd, step = roofline.step_flops(
        minnet.nn.GRU(i, h, batch_first=True), minnet.from_numpy(_x((b, t, i)))
    )
    assert fwd == 2 * t * b * (i + h) * 3 * h
    # dW over both matrices, the recurrence (not into h0), no dX into the data
    assert step == 2 * fwd + 2 * (t - 1) * b * h * 3 * h


def test_layers_without_arithmetic_count_nothing():
    m = minnet.nn.Sequential(minnet.nn.ReLU(), minnet.nn.MaxPool2d(2))
    assert roofline.step_flops(m, minnet.from_numpy(_x((2, 3, 4, 4)))) == (0.0, 0.0)


CASES = [
    (_mlp, (128, 1, 28, 28)),
    (_cnn, (16, 1, 28, 28)),
    (lambda nn: nn.GRU(28, 128, batch_first=True), (32, 28, 28)),
    (lambda nn: nn.GRU(12, 16, num_layers=2, bidirectional=True), (9, 4, 12)),
    (lambda nn: nn.RNN(5, 7, num_layers=3), (6, 3, 5)),
    (lambda nn: nn.Conv2d(3, 8, (3, 5), stride=2, padding=1), (4, 3, 17, 19)),
]


@pytest.mark.parametrize("build, shape", CASES)
def test_minnet_and_torch_counts_agree_with_torch_flop_counter(build, shape):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    x = _x(shape)
    mm, tm = build(minnet.nn), build(torch.nn)
    ours = roofline.step_flops(mm, minnet.from_numpy(x))
    assert roofline.step_flops(tm, torch.from_numpy(x)) == ours
    with FlopCounterMode(display=False) as counter:
        out = tm(torch.from_numpy(x))
        (out[0] if isinstance(out, tuple) else out).sum().backward()
    assert ours[1] == counter.get_total_flops()


def test_tracing_leaves_the_model_as_it_was():
    m = _cnn(minnet.nn)
    x = minnet.from_numpy(_x((2, 1, 28, 28)))
    before = m(x).data.copy()
    roofline.step_flops(m, x)
    assert all("forward" not in vars(sub) for sub in m.modules())
    np.testing.assert_array_equal(m(x).data, before)


def test_percent_of_peak():
    peak = roofline.machine_peak(1, "float32", None)  # measured once, then cached
    assert peak > 0
    assert roofline.percent_of_peak(peak * 0.5, 1.0, 1, "float32", None) == pytest.approx(50.0)
    assert math.isnan(roofline.percent_of_peak(0, 1.0, 1))
