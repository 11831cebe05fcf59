"""The autograd engine: graph order, accumulation, graph freeing, grad modes, custom
Functions."""

import sys
import threading

import numpy as np
import pytest

import minnet
from minnet.autograd import Function


def test_deep_chain_needs_no_recursion():
    x = minnet.tensor([1.0], dtype=np.float64, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001 + 0.0
    assert 10_000 * 2 > sys.getrecursionlimit()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.0001**10_000], rtol=1e-9)


def test_node_used_many_times_accumulates():
    x = minnet.tensor([2.0, 3.0], dtype=np.float64, requires_grad=True)
    h = x * x  # used four times below
    y = (h + h * 3 + h.exp().log() - h / 2).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data * (1 + 3 + 1 - 0.5))


def test_diamond_graph():
    a = minnet.tensor(1.5, dtype=np.float64, requires_grad=True)
    b = a * 2
    c = a * 3
    d = b * c  # 6 a^2
    d.backward()
    assert a.grad.item() == pytest.approx(12 * 1.5)


def test_leaf_grad_accumulates_across_backward_calls():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    grad_array = x.grad.data
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3 + 2, 3 + 4])
    assert x.grad.data is grad_array  # accumulated in place
    x.grad = None
    (x * 1).sum().backward()
    np.testing.assert_allclose(x.grad.data, [1, 1])


def test_grad_is_not_shared_between_leaves():
    a = minnet.tensor([1.0, 2.0], requires_grad=True)
    b = minnet.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad.data += 10
    np.testing.assert_array_equal(b.grad.data, [1, 1])


def test_graph_freed_after_backward_second_backward_raises():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.data, [4, 8])


def test_backward_frees_saved_arrays():
    x = minnet.tensor(np.ones(3), requires_grad=True)
    y = x.exp()
    z = y.sum()
    z.backward()
    assert not hasattr(y.grad_fn, "y") and y.grad_fn._released


def test_non_scalar_backward_needs_gradient():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*shape \(2,\)"):
        y.backward()
    y.backward(minnet.tensor([1.0, 10.0]))
    np.testing.assert_allclose(x.grad.data, [2, 20])
    with pytest.raises(RuntimeError, match="gradient has shape"):
        (x * 2).backward(np.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        minnet.tensor([1.0]).sum().backward()


def test_backward_on_a_leaf():
    x = minnet.tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad.item() == 1


def test_only_leaves_keep_grad_unless_retain_grad():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    k = x * 3
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_allclose(k.grad.data, h.data)
    assert x.is_leaf and not h.is_leaf and h.grad_fn is not None


def test_branch_without_grad_is_skipped():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    c = minnet.tensor([5.0, 6.0])
    y = (x * c + c * c).sum()
    y.backward()
    np.testing.assert_allclose(x.grad.data, [5, 6])
    assert c.grad is None


def test_no_grad_context_and_decorators():
    x = minnet.tensor([1.0], requires_grad=True)
    with minnet.no_grad():
        assert not minnet.is_grad_enabled()
        y = x * 2
        with minnet.enable_grad():
            z = x * 2
    assert minnet.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @minnet.no_grad()
    def f(t):
        return t * 2

    @minnet.no_grad
    def g(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad
    assert minnet.is_grad_enabled()


def test_set_grad_enabled():
    x = minnet.tensor([1.0], requires_grad=True)
    with minnet.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert minnet.is_grad_enabled()
    minnet.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        minnet.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_no_grad_restores_on_exception():
    with pytest.raises(ZeroDivisionError):
        with minnet.no_grad():
            1 / 0
    assert minnet.is_grad_enabled()


def test_grad_mode_is_per_thread():
    seen = []
    with minnet.no_grad():
        t = threading.Thread(target=lambda: seen.append(minnet.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


class Cube(Function):
    def forward(self, x, scale):
        self.x = x
        return scale * x**3

    def backward(self, g):
        return g * 3 * self.x**2 * 2.0, None


def test_custom_function():
    x = minnet.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = Cube.apply(x, 2.0)
    np.testing.assert_allclose(y.data, [2, 16])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [6, 24])
    assert repr(y.grad_fn) == "<CubeBackward>"
    with minnet.no_grad():
        assert Cube.apply(x, 2.0).grad_fn is None


class WrongShape(Function):
    def forward(self, x):
        return x.sum()

    def backward(self, g):
        return np.ones(5)


def test_engine_checks_gradient_shapes():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"WrongShape.backward returned a gradient of shape"):
        WrongShape.apply(x).backward()


def test_integer_results_never_require_grad():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    assert not x.argmax().requires_grad
    assert not (x > 1).requires_grad


def test_detach_cuts_the_graph():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).detach() * x
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1, 4])
