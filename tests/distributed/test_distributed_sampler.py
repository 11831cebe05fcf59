"""DistributedSampler: disjoint shards that cover the dataset, the same length on every rank
(PyTorch's padding and drop_last), the same permutation on every rank per epoch. No MPI
needed: num_replicas and rank are given."""

import numpy as np
import pytest

import minnet
from minnet.data import DataLoader, DistributedSampler, TensorDataset


def shards(n, ranks, **kw):
    return [list(DistributedSampler(range(n), ranks, r, **kw)) for r in range(ranks)]


@pytest.mark.parametrize("n, ranks", [(12, 2), (12, 3), (10, 3), (7, 4), (5, 5), (101, 8)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_shards_cover_and_have_equal_length(n, ranks, shuffle):
    got = shards(n, ranks, shuffle=shuffle, seed=3)
    per = -(-n // ranks)
    assert all(len(s) == per for s in got)
    flat = [i for s in got for i in s]
    assert sorted(set(flat)) == list(range(n))  # every sample is seen
    # padding repeats exactly total - n samples (PyTorch's), nothing else is seen twice
    assert len(flat) - n == per * ranks - n
    if n % ranks == 0:
        assert len(set(flat)) == len(flat)  # disjoint


@pytest.mark.parametrize("n, ranks", [(10, 3), (7, 4), (12, 5)])
def test_drop_last_gives_disjoint_equal_shards(n, ranks):
    got = shards(n, ranks, drop_last=True, seed=1)
    flat = [i for s in got for i in s]
    assert all(len(s) == n // ranks for s in got)
    assert len(set(flat)) == len(flat) == (n // ranks) * ranks


def test_unshuffled_is_round_robin_like_pytorch():
    assert shards(10, 3, shuffle=False) == [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]


def test_epochs_change_the_order_and_every_rank_agrees():
    a = [DistributedSampler(range(20), 2, r, seed=5) for r in range(2)]
    e0 = [list(s) for s in a]
    for s in a:
        s.set_epoch(1)
    e1 = [list(s) for s in a]
    assert e0 != e1
    for e in (e0, e1):
        assert sorted(e[0] + e[1]) == list(range(20))
    assert list(DistributedSampler(range(20), 2, 0, seed=5)) == e0[0]  # deterministic


def test_a_dataloader_batches_the_shard():
    x = np.arange(10, dtype=np.float32)[:, None]
    ds = TensorDataset(x, np.arange(10))
    sampler = DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    seen = [int(i) for _, yb in DataLoader(ds, batch_size=2, sampler=sampler) for i in yb]
    assert seen == [1, 3, 5, 7, 9]
    from minnet.utils.data.distributed import DistributedSampler as TorchPath

    assert TorchPath is DistributedSampler


def test_bad_arguments():
    with pytest.raises(
        ValueError, match=r"more ranks \(num_replicas=4\) than samples \(len\(dataset\)=3\)"
    ):
        DistributedSampler(range(3), 4, 0)
    with pytest.raises(
        ValueError, match=r"invalid rank 2, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler(range(3), 2, 2)
    with pytest.raises(ValueError, match="num_replicas must be an int"):
        DistributedSampler(range(3), 2.0, 0)


def test_defaults_need_the_process_group():
    if minnet.distributed.is_initialized():
        pytest.skip("a process group is initialized in this process")
    with pytest.raises((RuntimeError, ImportError), match="minnet.distributed"):
        DistributedSampler(range(3))
