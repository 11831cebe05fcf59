"""The buffer arena (minnet._arena): arrays reused across steps, never while referenced; and
training that is bitwise the same with the arena (and Linear+ReLU fusion) on or off."""

import numpy as np
import pytest

import minnet
from minnet import _arena, nn


@pytest.fixture
def arena_on():
    old = _arena.enabled
    _arena.enabled = True
    yield
    _arena.enabled = old


def test_empty_reuses_only_unreferenced_arrays(arena_on):
    dt = np.dtype(np.float32)
    a = _arena.empty((3, 5), dt)
    b = _arena.empty((3, 5), dt)
    assert a is not b and _arena.is_pooled(a) and _arena.is_pooled(b)
    view = a.reshape(-1)  # a view holds its base
    a_id = id(a)
    del a
    c = _arena.empty((3, 5), dt)
    assert id(c) != a_id and c is not b
    del view
    d = _arena.empty((3, 5), dt)  # now the first one is free again
    assert id(d) == a_id
    assert _arena.empty((5, 3), dt) is not d  # other shape, other pool


def test_disabled_arena_hands_out_fresh_arrays(arena_on):
    dt = np.dtype(np.float64)
    _arena.enabled = False
    a = _arena.empty((4,), dt)
    assert not _arena.is_pooled(a)
    del a
    assert not _arena.is_pooled(_arena.empty((4,), dt))


def _mlp(seed, fuse=True):
    minnet.manual_seed(seed)
    model = nn.Sequential(
        nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 5)
    )
    model.fuse = fuse
    return model


def _data(n=8):
    rng = np.random.default_rng(3)
    return (
        minnet.from_numpy(rng.standard_normal((n, 12)).astype(np.float32)),
        minnet.from_numpy(rng.integers(0, 5, n)),
    )


def _train(model, opt, steps=6):
    x, y = _data()
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize("opt_name", ["SGD", "Adam", "RMSprop"])
def test_training_bitwise_equal_with_arena_and_fusion_on_or_off(arena_on, opt_name):
    results = []
    for enabled, fuse in [(True, True), (False, True), (True, False), (False, False)]:
        _arena.enabled = enabled
        model = _mlp(0, fuse)
        opt = getattr(minnet.optim, opt_name)(model.parameters(), lr=1e-2)
        results.append(_train(model, opt))
    losses0, params0 = results[0]
    for losses, params in results[1:]:
        assert losses == losses0
        for a, b in zip(params, params0):
            assert a.tobytes() == b.tobytes()


def test_outputs_kept_by_the_user_stay_intact_across_steps(arena_on):
    model = _mlp(1)
    opt = minnet.optim.Adam(model.parameters(), lr=1e-2)
    x, y = _data()
    kept = []
    for _ in range(4):
        opt.zero_grad()
        out = model(x)
        loss = nn.functional.cross_entropy(out, y)
        loss.backward()
        opt.step()
        kept.append((out, out.data.copy(), loss, loss.data.copy()))
    for out, saved, loss, saved_loss in kept:  # later steps did not write into them
        np.testing.assert_array_equal(out.data, saved)
        np.testing.assert_array_equal(loss.data, saved_loss)
    arrays = [out.data for out, *_ in kept]
    assert len({id(a) for a in arrays}) == len(arrays)


def test_gradients_kept_by_the_user_stay_intact(arena_on):
    model = _mlp(2)
    opt = minnet.optim.SGD(model.parameters(), lr=0.1)
    x, y = _data()
    held = []
    for _ in range(3):
        opt.zero_grad()  # set_to_none: the array of the old .grad may be reused...
        nn.functional.cross_entropy(model(x), y).backward()
        g = model[0].weight.grad
        held.append((g, g.data.copy()))  # ...unless someone still holds it, as here
        opt.step()
    for g, saved in held:
        np.testing.assert_array_equal(g.data, saved)
    assert len({id(g.data) for g, _ in held}) == 3


def test_grad_never_aliases_an_array_the_caller_holds(arena_on):
    w = minnet.randn(3, 4, requires_grad=True)
    gradient = np.ones((3, 4), np.float32)
    (w * 1.0).backward(gradient)
    assert w.grad.data is not gradient and not np.shares_memory(w.grad.data, gradient)
    x = minnet.randn(5, requires_grad=True)
    x.backward(gradient=np.ones(5, np.float32))  # root is the leaf itself
    x.grad.data[0] = 7
    x2 = minnet.randn(5, requires_grad=True)
    g2 = np.ones(5, np.float32)
    x2.backward(gradient=g2)
    assert g2[0] == 1


def test_diamond_graph_order():
    x = minnet.tensor([1.0, 2.0], requires_grad=True)
    a = x * 2.0
    b = a * 3.0  # b depends on a; the root on both
    (a + b).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [8.0, 8.0])


def test_steady_state_steps_allocate_no_new_pooled_buffers(arena_on):
    _arena.clear()
    model = _mlp(4)
    opt = minnet.optim.RMSprop(model.parameters(), lr=1e-3)
    _train(model, opt, steps=3)
    before = _arena.pooled_bytes()
    assert before > 0
    _train(model, opt, steps=5)
    assert _arena.pooled_bytes() == before


def test_empty_cache_releases_the_arena(arena_on):
    dt = np.dtype(np.float32)
    a = _arena.empty((256, 256), dt)
    del a
    assert _arena.pooled_bytes() >= 256 * 256 * 4
    minnet.empty_cache()
    assert _arena.pooled_bytes() == 0


_FAULTS_SCRIPT = """
import resource, sys
import numpy as np
import minnet
from minnet import _arena, nn
_arena.enabled = sys.argv[1] == "on"
minnet.manual_seed(0)
model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10))
opt = minnet.optim.RMSprop(model.parameters(), lr=1e-3)
rng = np.random.default_rng(0)
x = minnet.from_numpy(rng.random((64, 784), dtype=np.float32))
y = minnet.from_numpy(rng.integers(0, 10, 64))
loss_fn = nn.CrossEntropyLoss()
def step():
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()
for _ in range(5):
    step()
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0) / 10)
"""


def test_steady_state_steps_do_not_fault_in_fresh_pages(tmp_path):
    """With glibc's mmap threshold pinned low (no dynamic raise), every array above it that
    is freed goes back to the OS: without the arena each step re-faults its activations and
    gradients; with it, a steady-state step touches no fresh page."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", OMP_NUM_THREADS="1")

    def faults(mode):
        # cwd away from the source tree: `python -c` puts the cwd first on sys.path, and a
        # source checkout without built kernels would shadow the installed package
        out = subprocess.run(
            [sys.executable, "-c", _FAULTS_SCRIPT, mode],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        )
        return float(out.stdout.strip().splitlines()[-1])

    off = faults("off")
    if off < 20:
        pytest.skip(f"this allocator does not re-fault freed arrays ({off} faults/step)")
    assert faults("on") < 5, off


def test_shapes_not_used_lately_are_forgotten_when_a_new_shape_turns_up(arena_on):
    _arena.clear()
    f32 = np.dtype(np.float32)
    old = _arena.empty((64, 33), f32)
    kept = _arena.empty((64, 35), f32)  # in use: stays pooled however idle
    del old
    for _ in range(_arena.IDLE_CALLS + 2):  # training at another shape for a while
        _arena.empty((8, 8), f32)
    before = _arena.pooled_bytes()
    _arena.empty((3, 3), f32)  # a new shape: the idle free array goes
    assert _arena.pooled_bytes() == before - 64 * 33 * 4 + 3 * 3 * 4
    assert _arena.is_pooled(kept)
