"""DataLoader(num_workers > 0): real worker processes, PyTorch's semantics.

Every loader here has ``timeout=`` set, so a hung worker fails the test with RuntimeError
instead of hanging it; the subprocess test has its own timeout.
"""

import gc
import multiprocessing
import os
import textwrap
import time

import numpy as np
import pytest
from tests_helpers_run import run_python

import minnet
from minnet import nn
from minnet.utils.data import DataLoader, Dataset, TensorDataset, get_worker_info

WAIT = 60  # seconds a test waits for any one batch


class ConvItems(Dataset):
    """Items computed in Python with minnet ops (a convolution, a relu), the worker's own
    pid and id: what a torchvision-style dataset with transforms does per sample."""

    def __init__(self, n=40):
        self.n = n
        self.conv = nn.Conv2d(1, 2, 3, padding=1)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = minnet.tensor(np.full((1, 1, 6, 6), float(i), np.float32))
        with minnet.no_grad():
            y = nn.functional.relu(self.conv(x))[0]
        info = get_worker_info()
        return y, i, os.getpid(), -1 if info is None else info.id


class Failing(Dataset):
    def __len__(self):
        return 20

    def __getitem__(self, i):
        if i == 13:
            raise ValueError(f"bad sample at index {i}")
        return np.float32(i)


class Sleepy(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        time.sleep(1.5)
        return i


class Dying(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


class Seeds(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return info.id, info.seed, float(minnet.rand(1).item()), float(np.random.rand())


def _warm_parent_kernels():
    """Run two-thread kernels in the parent first: the case in which a forked child that
    used more than one thread hung while kernels ran on libgomp, whose pool does not survive fork)."""
    minnet.set_num_threads(2)
    conv = nn.Conv2d(1, 8, 3)
    conv(minnet.randn(8, 1, 28, 28)).sum().backward()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_batches_equal_the_single_process_ones_in_order():
    _warm_parent_kernels()
    ds = ConvItems()
    single = list(DataLoader(ds, batch_size=6, shuffle=True, seed=4))
    multi = list(DataLoader(ds, batch_size=6, shuffle=True, seed=4, num_workers=2, timeout=WAIT))
    assert len(single) == len(multi) == 7
    for a, b in zip(single, multi):
        assert isinstance(b[0], minnet.Tensor) and b[0].dtype == minnet.float32
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
        assert a[1].tolist() == b[1].tolist()
    pids = {p for b in multi for p in b[2].tolist()}
    assert os.getpid() not in pids and len(pids) == 2  # really two other processes
    assert {w for b in multi for w in b[3].tolist()} == {0, 1}
    assert {w for b in single for w in b[3].tolist()} == {-1}
    assert not any(_alive(p) for p in pids)  # shut down at the end
    assert minnet.get_num_threads() == 2  # the parent keeps its threads


def test_an_error_in_a_worker_is_raised_with_its_traceback():
    loader = DataLoader(Failing(), batch_size=4, num_workers=2, timeout=WAIT)
    got = []
    with pytest.raises(ValueError) as e:
        for batch in loader:
            got.append(batch.tolist())
    msg = str(e.value)
    assert "Caught ValueError in DataLoader worker process" in msg
    assert "bad sample at index 13" in msg and "in __getitem__" in msg
    assert got == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]  # the batches before it


def test_unpicklable_batch_and_init_errors_are_reported():
    def one_worker_epoch(**kw):
        return list(
            DataLoader(TensorDatasetLike(), batch_size=2, num_workers=1, timeout=WAIT, **kw)
        )

    with pytest.raises(Exception, match="pickling the batch"):
        one_worker_epoch(collate_fn=lambda b: lambda: b)

    def bad_init(worker_id):
        raise KeyError("no such resource")

    with pytest.raises(KeyError, match="no such resource"):
        one_worker_epoch(worker_init_fn=bad_init)


class TensorDatasetLike(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return np.arange(3) + i


def test_workers_stop_when_an_epoch_is_abandoned():
    loader = DataLoader(ConvItems(60), batch_size=2, num_workers=2, timeout=WAIT)
    it = iter(loader)
    first = next(it)
    pid = first[2].tolist()[0]
    assert _alive(pid)
    del it
    gc.collect()
    deadline = time.time() + 10
    while _alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)
    assert not multiprocessing.active_children()


def test_persistent_workers_live_across_epochs_and_die_with_the_loader():
    loader = DataLoader(
        ConvItems(12),
        batch_size=3,
        num_workers=2,
        persistent_workers=True,
        timeout=WAIT,
        prefetch_factor=1,
    )
    epoch1 = list(loader)
    next(iter(loader))  # an abandoned epoch in between
    epoch3 = list(loader)
    assert [b[1].tolist() for b in epoch1] == [b[1].tolist() for b in epoch3]
    pids = {p for b in epoch1 for p in b[2].tolist()}
    assert pids == {p for b in epoch3 for p in b[2].tolist()} and len(pids) == 2
    assert all(_alive(p) for p in pids)
    del loader
    gc.collect()
    time.sleep(0.2)
    assert not any(_alive(p) for p in pids)


def test_worker_info_seeds_and_init_fn():
    seen = []

    def init(worker_id):
        info = get_worker_info()
        assert info.id == worker_id and info.num_workers == 3
        np.random.seed(1000 + worker_id)  # a typical worker_init_fn
        seen.append(worker_id)  # (in the worker: the parent's list stays empty)

    gen = np.random.default_rng(0)
    rows = [
        tuple(r)
        for b in DataLoader(
            Seeds(),
            batch_size=None,
            num_workers=3,
            worker_init_fn=init,
            generator=gen,
            timeout=WAIT,
        )
        for r in [b]
    ]
    assert seen == []
    ids = [r[0] for r in rows]
    assert ids == [0, 1, 2, 0, 1, 2, 0, 1]  # round robin, in order
    seeds = {r[0]: r[1] for r in rows}
    assert seeds[1] == seeds[0] + 1 and seeds[2] == seeds[0] + 2
    assert len({r[2] for r in rows}) == 8  # minnet's generator differs between workers
    firsts = {r[0]: r[3] for r in rows[:3]}
    np.testing.assert_allclose(
        [firsts[k] for k in range(3)], [np.random.RandomState(1000 + k).rand() for k in range(3)]
    )


def test_spawn_context_with_a_module_level_dataset():
    ds = ConvItems(10)
    single = [b[1].tolist() for b in DataLoader(ds, batch_size=4)]
    spawned = list(
        DataLoader(ds, batch_size=4, num_workers=2, timeout=WAIT, multiprocessing_context="spawn")
    )
    assert [b[1].tolist() for b in spawned] == single


def test_timeout_and_a_dying_worker():
    with pytest.raises(RuntimeError, match="timed out after 0.5 seconds"):
        list(DataLoader(Sleepy(), batch_size=1, num_workers=1, timeout=0.5))
    with pytest.raises(RuntimeError, match="worker exited unexpectedly.*exit code 3"):
        list(DataLoader(Dying(), batch_size=1, num_workers=1))


def test_tensor_dataset_keeps_its_fast_path_in_process():
    x = np.arange(40.0, dtype=np.float32).reshape(20, 2)
    loader = DataLoader(
        TensorDataset(x, np.arange(20)),
        batch_size=8,
        shuffle=True,
        seed=1,
        num_workers=2,
        pin_memory=True,
    )
    assert loader._fast
    batches = list(loader)
    assert not multiprocessing.active_children()
    assert sorted(v for b in batches for v in b[1].tolist()) == list(range(20))


def test_fork_after_parallel_kernels_does_not_hang_in_a_script():
    """The whole story in a fresh interpreter (no pytest state): the parent trains with two
    threads, then a 2-worker loader whose dataset runs convolutions."""
    script = textwrap.dedent("""
        import numpy as np, minnet
        from minnet import nn
        from minnet.utils.data import DataLoader, Dataset
        minnet.set_num_threads(2)
        model = nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.Flatten(),
                              nn.Linear(16 * 26 * 26, 10))
        model(minnet.randn(32, 1, 28, 28)).sum().backward()
        class DS(Dataset):
            conv = nn.Conv2d(1, 4, 3)
            def __len__(self): return 16
            def __getitem__(self, i):
                return self.conv(minnet.randn(1, 1, 28, 28)).data[0], i
        got = [b[1].tolist() for b in DataLoader(DS(), batch_size=4, num_workers=2,
                                                 timeout=30)]
        print(got)
    """)
    out = run_python("-c", script)
    assert out.stdout.strip() == str(
        [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]
    )


def test_context_objects_and_the_start_method_left_unset():
    ds = ConvItems(6)
    ctx = multiprocessing.get_context("fork")
    got = [
        b[1].tolist()
        for b in DataLoader(
            ds, batch_size=3, num_workers=1, timeout=WAIT, multiprocessing_context=ctx
        )
    ]
    assert got == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(TypeError, match="multiprocessing_context"):
        DataLoader(ds, num_workers=1, multiprocessing_context=3)
    # making a loader does not fix Python's start method (the user may still set it)
    code = (
        "import multiprocessing as mp, numpy as np\n"
        "from minnet.utils.data import DataLoader, TensorDataset\n"
        "DataLoader(TensorDataset(np.zeros(4)), num_workers=2)\n"
        "mp.set_start_method('spawn'); print(mp.get_start_method())"
    )
    out = run_python("-c", code, timeout=60)
    assert out.stdout.strip() == "spawn", out.stderr
