"""What goes wrong across ranks is reported, the same on every rank, instead of hanging:
models that differ, collectives on tensors that differ, a rank that raises (the whole job
aborts at once). The same job also checks DistributedSampler's defaults on real ranks."""

import time

from tests_helpers_mpi import requires_mpi, run_mpi

pytestmark = requires_mpi

MISMATCH = r"""
import numpy as np
import minnet
import minnet.distributed as dist
from minnet import nn
from minnet.nn.parallel import DistributedDataParallel as DDP

dist.init()
rank = dist.get_rank()
out = {"rank": rank}


def error(fn):
    try:
        fn()
    except (ValueError, TypeError) as e:
        return f"{type(e).__name__}: {e}"
    return None


# rank 1's hidden layer is wider: its shapes differ
out["shapes"] = error(lambda: DDP(nn.Sequential(nn.Linear(4, 8 + rank), nn.ReLU(), nn.Linear(8 + rank, 2))))
# rank 1 has one more layer
layers = [nn.Linear(4, 4)] + ([nn.Linear(4, 4)] if rank == 1 else [])
out["missing"] = error(lambda: DDP(nn.Sequential(*layers)))
out["all_reduce"] = error(lambda: dist.all_reduce(np.ones(3 + rank, np.float32)))
out["all_reduce_dtype"] = error(lambda: dist.all_reduce(np.ones(3, np.float32 if rank else np.float64)))
out["broadcast"] = error(lambda: dist.broadcast(minnet.ones(2, 1 + rank), 0))
out["bad_op"] = error(lambda: dist.all_reduce(np.ones(3), "mean"))
out["bad_src"] = error(lambda: dist.broadcast(np.ones(3), 5))
# DistributedSampler with the process group's defaults: this rank's shard, for the test to
# check that the shards are disjoint (12 samples) and cover the data
out["shard"] = list(minnet.data.DistributedSampler(range(12), seed=3))
# and the communicator still works after all of that
t = minnet.tensor([float(rank)])
dist.all_reduce(t)
out["after"] = float(t.item())
report(out)
"""

RAISES = r"""
import time
import numpy as np
import minnet.distributed as dist

dist.init()
if dist.get_rank() == 1:
    raise RuntimeError("rank 1 fails on purpose")
dist.all_reduce(np.ones(3))  # rank 0 would wait here forever without the abort
time.sleep(60)
"""


def test_mismatches_are_clear_errors_on_every_rank():
    r0, r1 = run_mpi(MISMATCH, n=2, timeout=60).results
    for r in (r0, r1):
        assert r["shapes"] == (
            "ValueError: DistributedDataParallel: the models differ across ranks: parameter "
            "'0.weight' has shape (8, 4) (float32) on rank 0 but (9, 4) (float32) on rank 1"
        )
        assert r["missing"] == (
            "ValueError: DistributedDataParallel: the models differ across ranks: parameter "
            "'1.weight' exists on rank 1 but not on rank 0"
        )
        assert r["all_reduce"] == (
            "ValueError: all_reduce: every rank must pass a tensor of the same shape and "
            "dtype, got rank 0: (3,) float32, rank 1: (4,) float32"
        )
        assert "rank 0: (3,) float64, rank 1: (3,) float32" in r["all_reduce_dtype"]
        assert "rank 0: (2, 1) float32, rank 1: (2, 2) float32" in r["broadcast"]
        assert r["bad_op"].startswith("ValueError: all_reduce: op must be a ReduceOp")
        assert r["bad_src"] == "ValueError: broadcast: src must be a rank in [0, 2), got 5"
        assert r["after"] == 1.0
    assert len(r0["shard"]) == len(r1["shard"]) == 6
    assert sorted(r0["shard"] + r1["shard"]) == list(range(12))


def test_a_rank_that_raises_aborts_the_job_fast():
    start = time.perf_counter()
    p = run_mpi(RAISES, n=2, timeout=30, check=False)
    elapsed = time.perf_counter() - start
    assert p.returncode != 0
    assert "rank 1 fails on purpose" in p.stderr
    assert "minnet.distributed: rank 1 raised RuntimeError; aborting the job" in p.stderr
    assert elapsed < 20  # not the 60 s rank 0 would otherwise sleep, nor a hang
