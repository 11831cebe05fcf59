"""minnet.Tensor: construction, dtypes, every differentiable op against NumPy (forward) and
finite differences (backward, float64), and bad input."""

import numpy as np
import pytest

import minnet
from minnet.testing import gradcheck


def leaf(rng, *shape, positive=False):
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return minnet.tensor(a, dtype=np.float64, requires_grad=True)


# ---- construction and dtypes ------------------------------------------------------------
def test_tensor_from_python_defaults_to_float32_and_int64():
    assert minnet.tensor([1.0, 2.0]).dtype == np.float32
    assert minnet.tensor(3.5).dtype == np.float32
    assert minnet.tensor([1, 2]).dtype == np.int64
    assert minnet.tensor([True, False]).dtype == np.bool_
    assert minnet.tensor([1, 2], dtype=np.float64).dtype == np.float64


def test_tensor_copies_but_from_numpy_shares():
    a = np.arange(3.0)
    t = minnet.tensor(a)
    assert t.dtype == np.float64  # arrays keep their dtype
    a[0] = 7
    assert t.data[0] == 0
    s = minnet.from_numpy(a)
    a[1] = 9
    assert s.data[1] == 9 and s.data is a
    with pytest.raises(TypeError, match="from_numpy"):
        minnet.from_numpy([1, 2])


def test_factories():
    assert minnet.zeros(2, 3).shape == (2, 3) and minnet.zeros((2, 3)).dtype == np.float32
    assert minnet.ones([4]).data.tolist() == [1, 1, 1, 1]
    assert minnet.zeros(2, dtype=minnet.float64).dtype == np.float64
    assert minnet.full((2,), 7).dtype == np.int64
    assert minnet.full((2,), 7.0).data.tolist() == [7.0, 7.0]
    assert minnet.arange(4).data.tolist() == [0, 1, 2, 3]
    assert minnet.arange(0, 1, 0.5).dtype == np.float32
    assert minnet.eye(2).data.tolist() == [[1, 0], [0, 1]]
    x = minnet.ones(2, 2)
    assert minnet.zeros_like(x).data.sum() == 0 and minnet.ones_like(x).dtype == np.float32
    with pytest.raises(ValueError, match="non-negative"):
        minnet.zeros(-1)


def test_random_factories_follow_manual_seed():
    minnet.manual_seed(3)
    a = minnet.randn(3, 4)
    b = minnet.rand(5)
    minnet.manual_seed(3)
    assert np.array_equal(a.data, minnet.randn(3, 4).data)
    assert np.array_equal(b.data, minnet.rand(5).data)
    assert a.dtype == np.float32 and minnet.randn(2, dtype=np.float64).dtype == np.float64
    assert ((b.data >= 0) & (b.data < 1)).all()
    r = minnet.randint(0, 5, (100,))
    assert r.dtype == np.int64 and r.data.min() >= 0 and r.data.max() < 5
    g = np.random.default_rng(0)
    assert np.array_equal(
        minnet.randn(3, generator=g).data,
        np.random.default_rng(0).standard_normal(3, dtype=np.float32),
    )


def test_facts_and_conversions():
    x = minnet.tensor(np.arange(6.0).reshape(2, 3))
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert x.numpy() is x.data
    assert minnet.tensor([2.5]).item() == 2.5 and float(minnet.tensor(1.5)) == 1.5
    assert x.tolist() == [[0, 1, 2], [3, 4, 5]]
    assert np.asarray(x) is x.data
    with pytest.raises(ValueError, match="one-element"):
        x.item()
    assert "tensor(" in repr(x) and "requires_grad=True" in repr(
        minnet.ones(1, requires_grad=True)
    )
    assert [r.tolist() for r in x] == [[0, 1, 2], [3, 4, 5]]


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        minnet.tensor([1, 2], requires_grad=True)
    assert minnet.tensor([1.0], requires_grad=True).requires_grad


def test_dtype_promotion_like_pytorch():
    f32 = minnet.ones(2)
    f64 = minnet.ones(2, dtype=np.float64)
    i64 = minnet.tensor([1, 2])
    assert (f32 + 1.5).dtype == np.float32  # Python scalars do not widen
    assert (f32 + np.float64(2)).dtype == np.float32
    assert (f32 + i64).dtype == np.float32  # float wins over int
    assert (i64 + f32).dtype == np.float32
    assert (f32 + f64).dtype == np.float64
    assert (i64 * 2).dtype == np.int64
    assert (i64 * 0.5).dtype == np.float32
    assert (i64 / 2).dtype == np.float32  # true division gives floats
    assert (2 - f64).dtype == np.float64
    assert (np.ones(2, np.float32) + f32).dtype == np.float32  # numpy defers to Tensor
    assert (np.ones(2) + f32).dtype == np.float64  # an array counts as a tensor
    assert isinstance(np.ones(2) + f32, minnet.Tensor)


def test_mixed_dtype_gradients_come_back_in_each_leaf_dtype():
    a = minnet.tensor([1.0, 2.0], requires_grad=True)  # float32
    b = minnet.tensor([3.0, 4.0], dtype=np.float64, requires_grad=True)  # float64
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_allclose(a.grad.data, [3, 4])
    np.testing.assert_allclose(b.grad.data, [1, 2])


def test_to_casts_and_is_differentiable():
    x = minnet.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and x.to(np.float32) is x
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad.data, [3, 5])
    assert x.long().data.tolist() == [1, 2] and not x.long().requires_grad


# ---- arithmetic -------------------------------------------------------------------------
BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b),
    ("sub", lambda a, b: a - b, lambda a, b: a - b),
    ("mul", lambda a, b: a * b, lambda a, b: a * b),
    ("div", lambda a, b: a / b, lambda a, b: a / b),
    ("pow", lambda a, b: a**b, lambda a, b: a**b),
    ("maximum", minnet.maximum, np.maximum),
    ("minimum", minnet.minimum, np.minimum),
]
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((3, 1), (1, 5))]


@pytest.mark.parametrize("name,op,ref", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("sa,sb", SHAPES)
def test_binary_forward_and_broadcast_backward(name, op, ref, sa, sb):
    rng = np.random.default_rng(1)
    positive = name in ("pow", "div")
    a, b = leaf(rng, *sa, positive=positive), leaf(rng, *sb, positive=positive)
    out = op(a, b)
    np.testing.assert_allclose(out.data, ref(a.data, b.data), rtol=1e-12)
    assert out.shape == np.broadcast_shapes(sa, sb)
    assert gradcheck(op, (a, b))


@pytest.mark.parametrize(
    "op",
    [
        lambda a: a + 2,
        lambda a: 2 + a,
        lambda a: a - 3,
        lambda a: 3 - a,
        lambda a: a * 1.5,
        lambda a: 1.5 * a,
        lambda a: a / 4,
        lambda a: 4 / a,
        lambda a: a**3,
        lambda a: a**0.5,
        lambda a: 2**a,
        lambda a: -a,
        lambda a: abs(a),
        lambda a: +a,
    ],
)
def test_scalar_operators(op):
    rng = np.random.default_rng(2)
    a = leaf(rng, 3, 2, positive=True)
    ref = op(a.data.copy())
    np.testing.assert_allclose(op(a).data, ref, rtol=1e-12)
    assert gradcheck(op, (a,))


def test_constant_array_operand_gets_no_gradient_but_input_does():
    rng = np.random.default_rng(3)
    a = leaf(rng, 2, 3)
    c = rng.standard_normal((2, 3))
    assert gradcheck(lambda a: a * c + c, (a,))


def test_comparisons_are_boolean_and_not_differentiable():
    a = minnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = minnet.tensor([3.0, 2.0, 1.0])
    assert (a < b).data.tolist() == [True, False, False]
    assert (a <= b).data.tolist() == [True, True, False]
    assert (a > 2).data.tolist() == [False, False, True]
    assert (a >= 2).dtype == np.bool_
    assert (a == b).data.tolist() == [False, True, False]
    assert (a != b).data.tolist() == [True, False, True]
    assert not (a < b).requires_grad
    assert {a: 1}[a] == 1  # tensors stay hashable by identity


# ---- matmul -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sa,sb",
    [
        ((3, 4), (4, 5)),
        ((1, 4), (4, 1)),
        ((4,), (4,)),
        ((4,), (4, 2)),
        ((3, 4), (4,)),
        ((2, 3, 4), (4, 5)),
        ((2, 3, 4), (2, 4, 5)),
        ((3, 4), (2, 4, 5)),
        ((2, 1, 3, 4), (5, 4, 2)),
    ],
)
def test_matmul(sa, sb):
    rng = np.random.default_rng(4)
    a, b = leaf(rng, *sa), leaf(rng, *sb)
    np.testing.assert_allclose((a @ b).data, a.data @ b.data, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, b: a @ b, (a, b))


def test_matmul_float32_uses_gemm_and_matches_numpy():
    rng = np.random.default_rng(5)
    a = minnet.tensor(rng.standard_normal((33, 17)).astype(np.float32), requires_grad=True)
    b = minnet.tensor(rng.standard_normal((17, 9)).astype(np.float32), requires_grad=True)
    out = a @ b
    assert out.dtype == np.float32
    ref = a.data.astype(np.float64) @ b.data.astype(np.float64)
    np.testing.assert_allclose(out.data, ref, rtol=1e-4, atol=1e-4)
    g = rng.standard_normal((33, 9)).astype(np.float32)
    out.backward(g)
    np.testing.assert_allclose(a.grad.data, g @ b.data.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(b.grad.data, a.data.T @ g, rtol=1e-4, atol=1e-4)


def test_matmul_errors():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\)"):
        minnet.ones(2, 3) @ minnet.ones(4, 5)
    with pytest.raises(TypeError, match="same dtype"):
        minnet.ones(2, 3) @ minnet.ones(3, 2, dtype=np.float64)


# ---- elementwise maths --------------------------------------------------------------------
UNARY = [
    ("exp", lambda t: t.exp(), np.exp),
    ("log", lambda t: t.log(), np.log),
    ("sqrt", lambda t: t.sqrt(), np.sqrt),
    ("abs", lambda t: t.abs(), np.abs),
    ("clamp", lambda t: t.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7)),
    ("clamp_min", lambda t: t.clamp(min=0.1), lambda a: np.maximum(a, 0.1)),
    ("clip_max", lambda t: t.clip(max=0.2), lambda a: np.minimum(a, 0.2)),
    ("relu", lambda t: t.relu(), lambda a: np.maximum(a, 0)),
    ("sigmoid", lambda t: t.sigmoid(), lambda a: 1 / (1 + np.exp(-a))),
    ("tanh", lambda t: t.tanh(), np.tanh),
]


@pytest.mark.parametrize("name,op,ref", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, op, ref):
    rng = np.random.default_rng(6)
    x = leaf(rng, 4, 3, positive=name in ("log", "sqrt"))
    if name not in ("log", "sqrt"):  # keep away from the kinks
        x.data[np.abs(x.data) < 0.05] += 0.1
        x.data[np.abs(x.data - 0.7) < 0.01] += 0.05
    np.testing.assert_allclose(op(x).data, ref(x.data), rtol=1e-12)
    assert gradcheck(op, (x,))


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp"):
        minnet.ones(2).clamp()


# ---- reductions -------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_mean(dim, keepdim):
    rng = np.random.default_rng(7)
    x = leaf(rng, 2, 3, 4)
    axis = dim if not isinstance(dim, tuple) else tuple(dim)
    np.testing.assert_allclose(x.sum(dim, keepdim).data, x.data.sum(axis=axis, keepdims=keepdim))
    np.testing.assert_allclose(
        x.mean(dim=dim, keepdim=keepdim).data, x.data.mean(axis=axis, keepdims=keepdim)
    )
    assert gradcheck(lambda x: x.sum(dim, keepdim), (x,))
    assert gradcheck(lambda x: x.mean(dim=dim, keepdim=keepdim), (x,))


@pytest.mark.parametrize("dim", [None, 1])
def test_var_std(dim):
    rng = np.random.default_rng(8)
    x = leaf(rng, 3, 4)
    np.testing.assert_allclose(x.var(dim).data, x.data.var(axis=dim, ddof=1))
    np.testing.assert_allclose(x.var(dim, unbiased=False).data, x.data.var(axis=dim))
    np.testing.assert_allclose(x.std(dim).data, x.data.std(axis=dim, ddof=1))
    assert gradcheck(lambda x: x.var(dim), (x,))
    assert gradcheck(lambda x: x.std(dim, keepdim=True), (x,))


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_along_dim_returns_values_and_indices(dim, keepdim):
    rng = np.random.default_rng(9)
    x = leaf(rng, 3, 5)
    values, indices = x.max(dim=dim, keepdim=keepdim)
    np.testing.assert_array_equal(values.data, x.data.max(axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(indices.data, x.data.argmax(axis=dim, keepdims=keepdim))
    assert indices.dtype == np.int64 and not indices.requires_grad
    mn = x.min(dim, keepdim)
    np.testing.assert_array_equal(mn.values.data, x.data.min(axis=dim, keepdims=keepdim))
    np.testing.assert_array_equal(mn.indices.data, x.data.argmin(axis=dim, keepdims=keepdim))
    assert gradcheck(lambda x: x.max(dim, keepdim)[0], (x,))
    assert gradcheck(lambda x: x.min(dim=dim, keepdim=keepdim).values, (x,))


def test_max_of_all_elements_splits_ties():
    rng = np.random.default_rng(10)
    x = leaf(rng, 3, 4)
    assert x.max().item() == x.data.max() and x.max().shape == ()
    assert gradcheck(lambda x: x.max(), (x,))
    assert gradcheck(lambda x: x.min(), (x,))
    t = minnet.tensor([1.0, 3.0, 3.0], requires_grad=True)
    t.max().backward()
    np.testing.assert_allclose(t.grad.data, [0, 0.5, 0.5])


def test_max_with_a_tensor_is_maximum():
    a, b = minnet.tensor([1.0, 5.0]), minnet.tensor([2.0, 3.0])
    assert a.max(b).data.tolist() == [2, 5]


def test_argmax_argmin():
    x = minnet.tensor([[1.0, 9.0, 3.0], [7.0, 2.0, 8.0]])
    assert x.argmax().item() == 1 and x.argmin().item() == 0
    assert x.argmax(dim=1).data.tolist() == [1, 2]
    assert x.argmin(1, keepdim=True).data.tolist() == [[0], [1]]
    assert x.argmax(dim=0).dtype == np.int64


def test_reduction_dim_out_of_range():
    with pytest.raises(IndexError, match="sum: dim 2 out of range"):
        minnet.ones(2, 3).sum(2)


# ---- shapes -----------------------------------------------------------------------------
SHAPE_OPS = [
    ("reshape", lambda t: t.reshape(4, 6), lambda a: a.reshape(4, 6)),
    ("reshape_tuple", lambda t: t.reshape((-1, 3)), lambda a: a.reshape(-1, 3)),
    ("view", lambda t: t.view(2, -1), lambda a: a.reshape(2, -1)),
    ("flatten", lambda t: t.flatten(), lambda a: a.reshape(-1)),
    ("flatten1", lambda t: t.flatten(1), lambda a: a.reshape(2, -1)),
    ("flatten01", lambda t: t.flatten(0, 1), lambda a: a.reshape(6, 4)),
    ("transpose", lambda t: t.transpose(0, 2), lambda a: a.transpose(2, 1, 0)),
    ("permute", lambda t: t.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0)),
    ("T", lambda t: t.T, lambda a: a.T),
    ("unsqueeze", lambda t: t.unsqueeze(1), lambda a: a[:, None]),
    ("unsqueeze_last", lambda t: t.unsqueeze(-1), lambda a: a[..., None]),
    ("squeeze", lambda t: t.unsqueeze(0).squeeze(), lambda a: a),
    ("squeeze_dim", lambda t: t.unsqueeze(2).squeeze(2), lambda a: a),
    ("expand", lambda t: t[:, :1].expand(2, 3, 4), lambda a: np.broadcast_to(a[:, :1], (2, 3, 4))),
]


@pytest.mark.parametrize("name,op,ref", SHAPE_OPS, ids=[s[0] for s in SHAPE_OPS])
def test_shape_ops(name, op, ref):
    rng = np.random.default_rng(11)
    x = leaf(rng, 2, 3, 4)
    np.testing.assert_array_equal(op(x).data, ref(x.data))
    assert gradcheck(op, (x,))


def test_squeeze_only_size_one_dims():
    x = minnet.zeros(1, 3, 1)
    assert x.squeeze().shape == (3,) and x.squeeze(1).shape == (1, 3, 1)
    assert x.squeeze(0).shape == (3, 1)


def test_reshape_error_names_shapes():
    with pytest.raises(
        RuntimeError,
        match=r"shape \(4, 4\) is invalid for a tensor of shape "
        r"\(2, 3\)",
    ):
        minnet.ones(2, 3).reshape(4, 4)
    with pytest.raises(ValueError, match="permute"):
        minnet.ones(2, 3).permute(0, 0)


# ---- indexing -----------------------------------------------------------------------------
INDEXES = [
    ("int", 1),
    ("slice", slice(1, 3)),
    ("tuple", (0, slice(1, None))),
    ("step", (slice(None, None, 2), slice(None, None, -1))),
    ("ellipsis", (Ellipsis, 1)),
    ("newaxis", (None, 1)),
    ("int_array", np.array([2, 0, 2, 2])),
    ("list", [0, 0, 1]),
    ("int_pairs", (np.array([0, 1, 1]), np.array([3, 0, 3]))),
    ("bool_mask", np.array([True, False, True])),
    ("mixed", (slice(None), np.array([1, 1, 3]))),
]


@pytest.mark.parametrize("name,index", INDEXES, ids=[i[0] for i in INDEXES])
def test_indexing(name, index):
    rng = np.random.default_rng(12)
    x = leaf(rng, 3, 4)
    np.testing.assert_array_equal(x[index].data, x.data[index])
    assert gradcheck(lambda x: x[index], (x,))


def test_index_with_a_tensor_and_repeated_indices_accumulate():
    x = minnet.tensor([1.0, 2.0, 3.0], requires_grad=True)
    idx = minnet.tensor([0, 2, 0, 0])
    x[idx].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3, 0, 1])


def test_row_gather_like_cross_entropy_picks():
    rng = np.random.default_rng(13)
    x = leaf(rng, 4, 3)
    t = np.array([2, 0, 1, 2])
    assert gradcheck(lambda x: x[np.arange(4), t], (x,))


def test_index_out_of_range():
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        minnet.ones(2, 3)[5]


def test_setitem_and_in_place_guards():
    x = minnet.zeros(3)
    x[1] = 5
    x[minnet.tensor([0])] = minnet.tensor([2.0])
    assert x.data.tolist() == [2, 5, 0]
    w = minnet.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 1
    with pytest.raises(RuntimeError, match="in-place"):
        w.zero_()
    with minnet.no_grad():
        w[0] = 1
        w.fill_(2.0)
    assert w.data.tolist() == [2, 2, 2]


# ---- cat / stack / where --------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat(dim):
    rng = np.random.default_rng(14)
    a, b, c = leaf(rng, 2, 3), leaf(rng, 2, 3), leaf(rng, 2, 3)
    np.testing.assert_array_equal(
        minnet.cat([a, b, c], dim).data, np.concatenate([a.data, b.data, c.data], axis=dim)
    )
    assert gradcheck(lambda a, b, c: minnet.cat((a, b, c), dim=dim), (a, b, c))


def test_cat_uneven_sizes_and_non_differentiable_parts():
    rng = np.random.default_rng(15)
    a = leaf(rng, 2, 3)
    b = minnet.tensor(rng.standard_normal((5, 3)))
    assert minnet.cat([a, b]).shape == (7, 3)
    assert gradcheck(lambda a: minnet.cat([b, a, b]), (a,))
    with pytest.raises(ValueError, match=r"cat: tensor 1 has shape \(2, 4\)"):
        minnet.cat([a, minnet.zeros(2, 4, dtype=np.float64)])


@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_stack(dim):
    rng = np.random.default_rng(16)
    a, b = leaf(rng, 2, 3), leaf(rng, 2, 3)
    np.testing.assert_array_equal(
        minnet.stack([a, b], dim).data, np.stack([a.data, b.data], axis=dim)
    )
    assert gradcheck(lambda a, b: minnet.stack([a, b], dim=dim), (a, b))
    with pytest.raises(ValueError, match="stack"):
        minnet.stack([a, minnet.zeros(3, 2)])


def test_where():
    rng = np.random.default_rng(17)
    a, b = leaf(rng, 3, 4), leaf(rng, 4)
    cond = a.data > 0
    np.testing.assert_array_equal(minnet.where(cond, a, b).data, np.where(cond, a.data, b.data))
    assert gradcheck(lambda a, b: minnet.where(cond, a, b), (a, b))
    assert gradcheck(lambda a: minnet.where(a > 0, a, 0.0), (a,))


def test_detach_and_clone():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.data is x.data and d.is_leaf
    c = (x * 2).clone()
    assert c.requires_grad and c.data is not x.data
    c.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [2, 2])


# ---- minnet.random ----------------------------------------------------------------------
def test_manual_seed_reseeds_the_shared_generator_in_place():
    g = minnet.random.get_generator()
    assert minnet.manual_seed(5) is g
    first = g.random(3)
    minnet.manual_seed(5)
    np.testing.assert_array_equal(minnet.random.get_generator().random(3), first)
    np.testing.assert_array_equal(first, np.random.default_rng(5).random(3))
    assert minnet.random.initial_seed() == 5
    with pytest.raises(TypeError, match="int"):
        minnet.manual_seed(1.5)
    with pytest.raises(ValueError, match="non-negative"):
        minnet.manual_seed(-1)


def test_default_dtype_can_be_float64():
    try:
        minnet.set_default_dtype(np.float64)
        assert minnet.tensor([1.0]).dtype == np.float64
        assert minnet.zeros(2).dtype == np.float64 and minnet.randn(2).dtype == np.float64
    finally:
        minnet.set_default_dtype(np.float32)
    assert minnet.get_default_dtype() == np.float32
    with pytest.raises(TypeError, match="float32 and float64"):
        minnet.set_default_dtype(np.int64)


def test_clone_and_cast_gradients():
    rng = np.random.default_rng(18)
    x = leaf(rng, 3, 2)
    assert gradcheck(lambda x: x.clone() * x, (x,))
    assert gradcheck(lambda x: x.to(np.float64).sum(0), (x,))
    assert gradcheck(lambda x: x.var(1, correction=0), (x,))
    assert gradcheck(lambda x: x.mT, (x,))


def test_in_place_operators_under_no_grad_update_the_same_array():
    p = minnet.tensor([1.0, 2.0], requires_grad=True)
    (p * p).sum().backward()
    arr = p.data
    q = p
    with minnet.no_grad():
        p -= 0.5 * p.grad
        p *= 2
        p.add_(minnet.ones(2), alpha=3)
    assert p is q and p.data is arr
    np.testing.assert_allclose(p.data, [(1 - 1) * 2 + 3, (2 - 2) * 2 + 3])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        p += 1
    c = minnet.tensor([1, 2])
    c += 1
    assert c.data.tolist() == [2, 3]
    with pytest.raises(TypeError, match="in place"):
        c += 0.5


def test_in_place_on_a_recorded_tensor_records_a_new_node():
    x = minnet.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    y = x * 1
    y *= x  # y = x^2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [2, 4])


@pytest.mark.parametrize("how,dim", [(2, 0), ([1, 3], 1), (3, -1)])
def test_split_and_chunk(how, dim):
    rng = np.random.default_rng(19)
    x = leaf(rng, 3, 4)
    parts = x.split(how, dim)
    ref = np.split(
        x.data,
        np.cumsum(how)[:-1] if isinstance(how, list) else range(how, x.shape[dim], how),
        axis=dim,
    )
    assert len(parts) == len(ref)
    for p, r in zip(parts, ref):
        np.testing.assert_array_equal(p.data, r)
    assert gradcheck(
        lambda x: minnet.cat([p * (i + 1) for i, p in enumerate(x.split(how, dim))], dim), (x,)
    )
    assert [c.shape for c in x.chunk(2, 1)] == [(3, 2), (3, 2)]
    with pytest.raises(ValueError, match="do not add up"):
        x.split([1, 1], 0)
