"""minnet.testing.gradcheck: passes correct gradients, catches wrong ones, says where."""

import numpy as np
import pytest

import minnet
from minnet.autograd import Function
from minnet.testing import gradcheck


class Square(Function):
    """x^2 with a backward that is off by `error` (0 gives the right gradient)."""

    def forward(self, x, error):
        self.x, self.error = x, error
        return x * x

    def backward(self, g):
        return g * (2 * self.x + self.error), None


def t64(a):
    return minnet.tensor(np.asarray(a, np.float64), requires_grad=True)


def test_passes_a_correct_gradient():
    x = t64(np.random.default_rng(0).standard_normal((3, 2)))
    assert gradcheck(lambda x: Square.apply(x, 0.0), (x,)) is True
    assert x.grad is None  # gradcheck leaves the inputs as it found them


def test_reports_the_worst_element_of_a_wrong_gradient():
    x = t64([1.0, 2.0, 3.0])
    with pytest.raises(AssertionError, match=r"gradient of input 0 .*analytical .*numerical"):
        gradcheck(lambda x: Square.apply(x, 1e-2), (x,))


def test_tolerances_are_respected():
    x = t64([1.0, 2.0])
    assert gradcheck(lambda x: Square.apply(x, 1e-7), (x,))  # inside atol 1e-5
    with pytest.raises(AssertionError):
        gradcheck(lambda x: Square.apply(x, 1e-7), (x,), atol=1e-9, rtol=1e-9)


def test_checks_the_full_jacobian_of_a_vector_output():
    class SwapWrong(Function):  # y = (x1, x0); the backward forgets to swap
        def forward(self, x):
            return x[::-1].copy()

        def backward(self, g):
            return g

    x = t64([1.0, 2.0])
    with pytest.raises(AssertionError):
        gradcheck(SwapWrong.apply, (x,))
    assert gradcheck(lambda x: x[::-1], (x,))


def test_only_inputs_that_require_grad_are_checked():
    a = t64([1.0, 2.0])
    b = minnet.tensor([3.0, 4.0], dtype=np.float64)
    assert gradcheck(
        lambda a, b: a * b,
        (
            a,
            b,
        ),
    )
    assert gradcheck(lambda a, k: a * k, (a, 2.5))


def test_missing_graph_is_an_error_not_a_pass():
    x = t64([1.0, 2.0])
    with pytest.raises(AssertionError):
        gradcheck(lambda x: minnet.tensor(x.data * 2), (x,))


def test_tuple_outputs():
    x = t64([1.0, 2.0])
    assert gradcheck(lambda x: (x * 2, x.exp()), (x,))


def test_bad_arguments():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(lambda x: x * 2, (minnet.tensor([1.0], requires_grad=True),))
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * 2, (minnet.tensor([1.0], dtype=np.float64),))
    with pytest.raises(TypeError, match="must return"):
        gradcheck(lambda x: 3.0, (t64([1.0]),))
