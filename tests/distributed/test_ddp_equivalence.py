"""DistributedDataParallel against one process: N ranks with per-rank batch B take the same
steps as one process with batch N*B (the gradient of a mean loss over N*B samples is the
mean over ranks of the per-rank means), for SGD and Adam on an MLP, a small CNN and a GRU
classifier. The ranks start from different random initializations: DDP must broadcast rank
0's. One mpirun job (2 ranks) runs every case; rank 0 also runs the one-process reference."""

import pytest
from tests_helpers_mpi import requires_mpi, run_mpi

pytestmark = requires_mpi

# float32: the two sides sum the same per-sample gradients in a different order (two half
# batches, then the allreduce), so the parameters agree to rounding, amplified a little by
# K optimizer steps (Adam divides by sqrt(v)); observed differences are ~1e-7
ATOL = 1e-5
K = 3  # optimizer steps
B = 4  # per-rank batch

CHILD = r"""
import numpy as np
import minnet
import minnet.distributed as dist
from minnet import nn
from minnet.nn import functional as F
from minnet.nn.parallel import DistributedDataParallel as DDP

dist.init()
rank, world = dist.get_rank(), dist.get_world_size()
K, B = %(K)d, %(B)d


class GRUClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(6, 16, batch_first=True)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        _, h = self.gru(x)
        return self.fc(h[-1])


MODELS = {
    "mlp": (lambda: nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 5)), (12,)),
    "cnn": (
        lambda: nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(8 * 2 * 2, 5),
        ),
        (1, 8, 8),
    ),
    "gru": (GRUClassifier, (7, 6)),
}
OPTIMS = {
    "sgd": lambda p: minnet.optim.SGD(p, lr=0.1, momentum=0.9),
    "adam": lambda p: minnet.optim.Adam(p, lr=1e-2),
}
CASES = [(m, o, True) for m in MODELS for o in OPTIMS] + [("mlp", "adam", False)]


def train(model, opt, x, y, per_step):
    for s in range(K):
        xb = minnet.tensor(x[s * per_step : (s + 1) * per_step])
        yb = minnet.tensor(y[s * per_step : (s + 1) * per_step])
        loss = F.cross_entropy(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()


def flat(module):
    return np.concatenate([p.data.ravel() for p in module.parameters()])


out = {"rank": rank, "cases": {}}
for mname, oname, as_view in CASES:
    make, shape = MODELS[mname]
    make_opt = OPTIMS[oname]
    rng = np.random.default_rng(7)
    x = rng.standard_normal((K * world * B,) + shape).astype(np.float32)
    y = rng.integers(0, 5, K * world * B)
    # this rank's samples of each step: its B-slice of the step's N*B global batch
    mine = np.concatenate([np.arange(s * world * B + rank * B, s * world * B + (rank + 1) * B) for s in range(K)])
    minnet.manual_seed(100 + rank)  # a different init on each rank
    model = make()
    # ~500-byte buckets: several per model
    ddp = DDP(model, bucket_cap_mb=0.0005, gradient_as_bucket_view=as_view)
    start = {k: v.data.copy() for k, v in model.state_dict().items()}
    train(ddp, make_opt(ddp.parameters()), x[mine], y[mine], B)
    got = flat(model)
    every = [np.empty_like(got) for _ in range(world)]
    dist.all_gather(every, got)
    case = {
        "buckets": len(ddp._buckets),
        "ranks_differ": float(max(np.abs(e - every[0]).max() for e in every)),
    }
    if rank == 0:
        ref = make()
        ref.load_state_dict(start)
        train(ref, make_opt(ref.parameters()), x, y, world * B)
        case["vs_one_process"] = float(np.abs(got - flat(ref)).max())
        case["moved"] = float(np.abs(got - np.concatenate([v.ravel() for v in start.values()])).max())
    out["cases"][f"{mname}-{oname}" + ("" if as_view else "-copy")] = case

# no_sync: two micro-batches, the first accumulated locally, the second synchronized, give
# the gradient of both (summed), averaged over the ranks
minnet.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
ddp = DDP(model)
rng = np.random.default_rng(3)
xs = rng.standard_normal((2, world, 5, 3)).astype(np.float32)  # (micro, rank, batch, in)
with ddp.no_sync():
    ddp(minnet.tensor(xs[0, rank])).pow(2).sum().backward()
local_only = [p.grad.data.copy() for p in model.parameters()]
ddp(minnet.tensor(xs[1, rank])).pow(2).sum().backward()
got = [p.grad.data.copy() for p in model.parameters()]
if rank == 0:
    ref = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    ref.load_state_dict(model.state_dict())
    ref(minnet.tensor(xs[0, 0])).pow(2).sum().backward()
    ok_local = max(float(np.abs(a - p.grad.data).max()) for a, p in zip(local_only, ref.parameters()))
    ref.zero_grad()
    for m in range(2):
        for r in range(world):
            ref(minnet.tensor(xs[m, r])).pow(2).sum().backward()
    out["no_sync_local"] = ok_local
    out["no_sync"] = max(float(np.abs(g - p.grad.data / world).max()) for g, p in zip(got, ref.parameters()))


# overlap: with small buckets, the last layer's bucket has started its allreduce by the time
# the first layer's gradient is ready (the backward is still running)
minnet.manual_seed(0)
model = nn.Sequential(nn.Linear(16, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 4))
ddp = DDP(model, bucket_cap_mb=0.01)
seen = []
model[0].weight.register_post_accumulate_grad_hook(
    lambda p: seen.append([b.request is not None for b in ddp._buckets])
)
ddp(minnet.randn(8, 16)).sum().backward()
out["started_during_backward"] = seen
out["buckets_after"] = [b.request is None for b in ddp._buckets]  # all finished, reset


# buffers: rank 0's at wrap time, and again at the start of each training forward
bn = nn.BatchNorm1d(3)
bn.running_mean.data[...] = rank + 1.0  # differs per rank before the wrap
ddp = DDP(nn.Sequential(bn))
out["bn_after_wrap"] = bn.running_mean.data.tolist()
bn.running_mean.data[...] = 5.0 * rank  # rank 1 drifts; the forward takes rank 0's first
xb = np.random.default_rng(rank).standard_normal((6, 3)).astype(np.float32)
ddp(minnet.tensor(xb))
out["bn_after_forward"] = bn.running_mean.data.tolist()
out["bn_expected"] = (0.1 * xb.mean(0)).tolist()  # 0.9 * rank 0's (0) + 0.1 * this batch's


# parameters without a gradient: one never used (keeps grad None), one used on rank 0 only
# (averaged with zeros), and neither hangs the allreduce
class Partly(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 3)
        self.only_rank0 = nn.Linear(3, 3)
        self.never = nn.Linear(3, 3)

    def forward(self, x, use):
        h = self.a(x)
        return self.only_rank0(h) if use else h


minnet.manual_seed(0)
model = Partly()
ddp = DDP(model)
ddp(minnet.ones(2, 3), rank == 0).sum().backward()
g0 = model.only_rank0.weight.grad
out["never_grad_is_none"] = model.never.weight.grad is None
local = np.full(1, 0.0 if g0 is None else float(g0.data.sum()))
out["only_rank0_sum"] = float(local[0])
report(out)
"""


@pytest.fixture(scope="module")
def job():
    return run_mpi(CHILD % {"K": K, "B": B}, n=2, timeout=120).results


@pytest.mark.parametrize(
    "model, optim",
    [(m, o) for m in ("mlp", "cnn", "gru") for o in ("sgd", "adam")] + [("mlp", "adam-copy")],
)
def test_two_ranks_step_like_one_process_with_twice_the_batch(job, model, optim):
    """(``adam-copy``: gradient_as_bucket_view=False, the averages copied into .grad.)"""
    r0, r1 = job
    case = r0["cases"][f"{model}-{optim}"]
    assert case["buckets"] >= 2  # the small bucket cap splits every model
    assert case["moved"] > 1e-3  # the steps did something
    assert case["vs_one_process"] < ATOL, case
    # the ranks apply the same averaged gradients: identical parameters
    assert case["ranks_differ"] < 1e-7 and r1["cases"][f"{model}-{optim}"]["ranks_differ"] < 1e-7


def test_no_sync_accumulates_locally_then_averages_everything(job):
    r0 = job[0]
    assert r0["no_sync_local"] < 1e-6  # inside no_sync: this rank's gradient only
    assert r0["no_sync"] < 1e-5


def test_allreduces_start_during_the_backward(job):
    for r in job:
        (started,) = r["started_during_backward"]
        # when the first layer's gradient is ready: the earlier buckets (the later layers')
        # are under way, the last (the first layer's own) is left for the end of backward
        assert len(started) >= 3
        assert all(started[:-2]) and not started[-1], started
        assert all(r["buckets_after"])


def test_buffers_are_rank_0s(job):
    for r in job:
        assert r["bn_after_wrap"] == [1.0, 1.0, 1.0]
        assert r["bn_after_forward"] == pytest.approx(r["bn_expected"], abs=1e-6)


def test_parameters_without_gradient_do_not_hang(job):
    r0, r1 = job
    assert r0["never_grad_is_none"] and r1["never_grad_is_none"]
    # used on rank 0 only: both ranks hold rank 0's gradient / 2, the same everywhere
    assert r0["only_rank0_sum"] == pytest.approx(r1["only_rank0_sum"], abs=1e-6)
    assert abs(r0["only_rank0_sum"]) > 0
