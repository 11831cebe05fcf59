"""minnet.nn.init against PyTorch's formulas: bounds, moments, gains, fans, orthogonality."""

import math

import numpy as np
import pytest

from minnet.nn import init
from minnet.tensor import Tensor


def rng(seed=0):
    return np.random.default_rng(seed)


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(np.empty((10, 20))) == (20, 10)
    assert init._calculate_fan_in_and_fan_out(np.empty((8, 3, 5, 5))) == (75, 200)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(np.empty(5))


def test_in_place_keeps_dtype_and_identity():
    t = Tensor(np.zeros((30, 40), dtype=np.float32))
    buf = t.data
    out = init.kaiming_uniform_(t, a=math.sqrt(5), generator=rng())
    assert out is t and t.data is buf and t.data.dtype == np.float32
    init.constant_(t, 0.5)
    assert (t.data == 0.5).all()
    init.ones_(t)
    assert (t.data == 1).all()
    init.zeros_(t)
    assert not t.data.any()
    init.eye_(t)
    np.testing.assert_array_equal(t.data, np.eye(30, 40))


def test_uniform_and_normal_moments():
    a = np.empty((200, 300))
    init.uniform_(a, -2, 3, generator=rng(1))
    assert a.min() >= -2 and a.max() < 3
    assert a.mean() == pytest.approx(0.5, abs=0.03)
    init.normal_(a, 1.0, 2.0, generator=rng(2))
    assert a.mean() == pytest.approx(1.0, abs=0.03) and a.std() == pytest.approx(2.0, rel=0.02)
    init.trunc_normal_(a, 0.0, 1.0, -1.0, 1.5, generator=rng(3))
    assert a.min() >= -1.0 and a.max() <= 1.5


@pytest.mark.parametrize("shape", [(64, 128), (16, 8, 3, 3)])
def test_xavier_and_kaiming_bounds_and_std(shape):
    w = np.empty(shape)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(w)
    init.xavier_uniform_(w, gain=2.0, generator=rng(4))
    bound = 2.0 * math.sqrt(6.0 / (fan_in + fan_out))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    init.xavier_normal_(w, generator=rng(5))
    assert w.std() == pytest.approx(math.sqrt(2.0 / (fan_in + fan_out)), rel=0.05)
    init.kaiming_uniform_(w, a=math.sqrt(5), generator=rng(6))  # nn.Linear's default
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    init.kaiming_uniform_(w, mode="fan_out", nonlinearity="relu", generator=rng(7))
    bound = math.sqrt(2) * math.sqrt(3 / fan_out)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    init.kaiming_normal_(w, nonlinearity="relu", generator=rng(8))
    assert w.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_normal_(w, mode="fan_avg")


@pytest.mark.parametrize("shape", [(20, 50), (50, 20), (6, 2, 3)])
def test_orthogonal(shape):
    w = np.empty(shape)
    init.orthogonal_(w, gain=3.0, generator=rng(9))
    m = w.reshape(shape[0], -1)
    if m.shape[0] <= m.shape[1]:
        np.testing.assert_allclose(m @ m.T, 9.0 * np.eye(m.shape[0]), atol=1e-10)
    else:
        np.testing.assert_allclose(m.T @ m, 9.0 * np.eye(m.shape[1]), atol=1e-10)


def test_uses_minnet_generator_by_default():
    import minnet.random

    a, b = np.empty(100), np.empty(100)
    minnet.random.manual_seed(42)
    init.normal_(a)
    minnet.random.manual_seed(42)
    init.normal_(b)
    np.testing.assert_array_equal(a, b)
    # float32 and float64 targets seeded alike get the same values (drawn in float64)
    c = np.empty(100, dtype=np.float32)
    minnet.random.manual_seed(42)
    init.normal_(c)
    np.testing.assert_array_equal(c, a.astype(np.float32))
