"""minnet.data: TensorDataset, DataLoader (fast and generic paths), random_split."""

import collections

import numpy as np
import pytest

from minnet.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)
from minnet.tensor import Tensor


def arrays(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 3)).astype(np.float32), rng.integers(0, 5, n)


class ListDataset(Dataset):
    def __init__(self, x, y):
        self.x, self.y = x, y

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i], int(self.y[i])


def test_tensor_dataset_items_and_errors():
    x, y = arrays()
    ds = TensorDataset(Tensor(x), y)
    assert len(ds) == 10
    xi, yi = ds[3]
    assert isinstance(xi, Tensor) and isinstance(yi, Tensor)
    np.testing.assert_array_equal(xi.data, x[3])
    assert yi.data == y[3]
    with pytest.raises(ValueError, match=r"size mismatch.*\(10, 3\), \(9,\)"):
        TensorDataset(x, y[:9])


@pytest.mark.parametrize("drop_last,sizes", [(False, [4, 4, 2]), (True, [4, 4])])
def test_batches_in_order(drop_last, sizes):
    x, y = arrays()
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=drop_last)
    assert len(loader) == len(sizes)
    batches = list(loader)
    assert [b[0].shape[0] for b in batches] == sizes
    np.testing.assert_array_equal(np.concatenate([b[0].data for b in batches]), x[: sum(sizes)])
    assert batches[0][1].dtype == y.dtype


def test_fast_path_equals_generic_path():
    x, y = arrays(n=13)
    fast = DataLoader(TensorDataset(x, y), batch_size=5, shuffle=True, seed=7)
    slow = DataLoader(
        TensorDataset(x, y), batch_size=5, shuffle=True, seed=7, collate_fn=default_collate
    )
    assert fast._fast and not slow._fast
    for epoch in range(2):
        for (fx, fy), (sx, sy) in zip(fast, slow):
            np.testing.assert_array_equal(fx.data, sx.data)
            np.testing.assert_array_equal(fy.data, sy.data)


def test_shuffle_is_a_permutation_reproducible_and_differs_by_epoch():
    x, y = arrays(n=20)
    loader = DataLoader(TensorDataset(x, np.arange(20)), batch_size=6, shuffle=True, seed=3)
    e1 = np.concatenate([b[1].data for b in loader])
    e2 = np.concatenate([b[1].data for b in loader])
    assert sorted(e1) == list(range(20)) and sorted(e2) == list(range(20))
    assert not np.array_equal(e1, e2)
    again = DataLoader(TensorDataset(x, np.arange(20)), batch_size=6, shuffle=True, seed=3)
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in again]), e1)
    gen = DataLoader(
        TensorDataset(np.arange(20)),
        batch_size=20,
        shuffle=True,
        generator=np.random.default_rng(3),
    )
    np.testing.assert_array_equal(next(iter(gen))[0].data, e1)


def test_shuffle_uses_minnet_generator_by_default():
    import minnet.random

    ds = TensorDataset(np.arange(50))
    minnet.random.manual_seed(123)
    a = next(iter(DataLoader(ds, batch_size=50, shuffle=True)))[0].data
    minnet.random.manual_seed(123)
    b = next(iter(DataLoader(ds, batch_size=50, shuffle=True)))[0].data
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, np.arange(50))


def test_default_collate_structures():
    x, y = arrays(n=4)
    loader = DataLoader(ListDataset(x, y), batch_size=3)
    xb, yb = next(iter(loader))
    np.testing.assert_array_equal(xb.data, x[:3])
    assert yb.data.dtype == np.int64 and list(yb.data) == list(y[:3])
    Pair = collections.namedtuple("Pair", "a b")
    out = default_collate(
        [{"p": Pair(1.5, np.ones(2)), "s": "u"}, {"p": Pair(2.5, np.zeros(2)), "s": "v"}]
    )
    assert isinstance(out["p"], Pair) and out["s"] == ["u", "v"]
    assert out["p"].a.data.dtype == np.float32
    np.testing.assert_array_equal(out["p"].b.data, [[1, 1], [0, 0]])
    with pytest.raises(TypeError, match="default_collate"):
        default_collate([object()])


def test_random_split_lengths_and_fractions():
    ds = TensorDataset(np.arange(10))
    a, b = random_split(ds, [7, 3], generator=np.random.default_rng(0))
    assert len(a) == 7 and len(b) == 3
    got = sorted(int(a[i][0].data) for i in range(7)) + sorted(int(b[i][0].data) for i in range(3))
    assert sorted(got) == list(range(10))
    perm = np.random.default_rng(0).permutation(10)
    assert a.indices == list(perm[:7]) and b.indices == list(perm[7:])
    parts = random_split(ds, [0.5, 0.3, 0.2], generator=np.random.default_rng(1))
    assert [len(p) for p in parts] == [5, 3, 2]
    parts = random_split(
        TensorDataset(np.arange(11)), [0.5, 0.5], generator=np.random.default_rng(1)
    )
    assert [len(p) for p in parts] == [6, 5]  # remainder dealt round-robin
    with pytest.raises(ValueError, match="does not equal"):
        random_split(ds, [3, 3])


def test_subset_of_tensor_dataset_takes_fast_path():
    x, y = arrays(n=10)
    train, _ = random_split(TensorDataset(x, y), [6, 4], generator=np.random.default_rng(2))
    loader = DataLoader(train, batch_size=4)
    assert loader._fast
    xs = np.concatenate([b[0].data for b in loader])
    np.testing.assert_array_equal(xs, x[train.indices])


def test_concat_dataset_and_bad_batch_size():
    ds = ConcatDataset([TensorDataset(np.arange(3)), TensorDataset(np.arange(3, 5))])
    assert len(ds) == 5 and [int(ds[i][0].data) for i in range(-5, 5)] == list(range(5)) * 2
    assert isinstance(Subset(ds, [4])[0][0], Tensor)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(ds, batch_size=0)
