"""Post-accumulate-grad hooks and queue_callback: a leaf's hook runs as soon as its gradient
is complete, while the rest of the backward is still to run (what DistributedDataParallel
starts its allreduces from), and the queued callbacks run once at the end."""

import numpy as np
import pytest

import minnet
from minnet import autograd, nn


def test_hooks_run_in_backward_order_before_the_end():
    minnet.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    events = []
    names = dict((id(p), n) for n, p in model.named_parameters())

    def hook(p):
        assert p.grad is not None
        events.append(names[id(p)])
        autograd.queue_callback(lambda: events.append("end"))

    for p in model.parameters():
        p.register_post_accumulate_grad_hook(hook)
    model(minnet.randn(5, 3)).sum().backward()
    # the last layer's gradients are complete first; one "end" per queued callback, after
    assert events[:2] == ["2.weight", "2.bias"] or events[:2] == ["2.bias", "2.weight"]
    assert set(events[2:4]) == {"0.weight", "0.bias"}
    assert events[4:] == ["end"] * 4


def test_the_gradient_is_final_when_the_hook_runs():
    w = minnet.tensor(np.array([1.0, 2.0], np.float32), requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.data.copy()))
    y = (w * 3).sum() + (w * w).sum()  # w used twice: the hook waits for both
    y.backward()
    np.testing.assert_allclose(seen[0], [5.0, 7.0])
    assert len(seen) == 1
    w.grad = None
    (w * 2).sum().backward()
    np.testing.assert_allclose(seen[1], [2.0, 2.0])


def test_accumulates_and_remove():
    w = minnet.ones(2, requires_grad=True)
    calls = []
    h = w.register_post_accumulate_grad_hook(lambda t: calls.append(float(t.grad.data[0])))
    (w * 2).sum().backward()
    (w * 2).sum().backward()
    assert calls == [2.0, 4.0]  # after accumulation into .grad
    h.remove()
    (w * 2).sum().backward()
    assert calls == [2.0, 4.0]
    assert not autograd._post_hooks


def test_a_leaf_root_and_the_errors():
    w = minnet.ones(1, requires_grad=True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    w.backward()
    assert calls == [1]
    with pytest.raises(RuntimeError, match="non-leaf"):
        (w * 2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        minnet.ones(1).register_post_accumulate_grad_hook(print)
    with pytest.raises(TypeError, match="callable"):
        w.register_post_accumulate_grad_hook(3)
    with pytest.raises(RuntimeError, match="while a backward is running"):
        autograd.queue_callback(print)


def test_hooks_die_with_their_tensor():
    w = minnet.ones(1, requires_grad=True)
    w.register_post_accumulate_grad_hook(print)
    assert autograd._post_hooks
    del w
    assert not autograd._post_hooks
