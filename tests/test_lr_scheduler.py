"""Schedulers against PyTorch's documented learning-rate sequences."""

import math

import numpy as np
import pytest

from minnet import optim
from minnet.optim import lr_scheduler


class P:
    def __init__(self):
        self.data = np.zeros(1)
        self.grad = None


def lrs(sched, opt, epochs):
    out = []
    for _ in range(epochs):
        out.append(opt.param_groups[0]["lr"])
        assert sched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        opt.step()
        sched.step()
    return out


def test_step_lr():
    opt = optim.SGD([P()], lr=0.05)
    got = lrs(lr_scheduler.StepLR(opt, step_size=3, gamma=0.1), opt, 10)
    want = [0.05 * 0.1 ** (e // 3) for e in range(10)]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_multistep_lr_with_repeated_milestone():
    opt = optim.SGD([P()], lr=1.0)
    got = lrs(lr_scheduler.MultiStepLR(opt, milestones=[2, 5, 5], gamma=0.5), opt, 8)
    np.testing.assert_allclose(got, [1, 1, 0.5, 0.5, 0.5, 0.125, 0.125, 0.125], rtol=1e-12)


def test_exponential_lr():
    opt = optim.SGD([P()], lr=0.2)
    got = lrs(lr_scheduler.ExponentialLR(opt, gamma=0.9), opt, 6)
    np.testing.assert_allclose(got, [0.2 * 0.9**e for e in range(6)], rtol=1e-12)


def test_cosine_annealing_follows_closed_form_past_t_max():
    opt = optim.SGD([P()], lr=0.1)
    T, eta = 5, 0.01
    got = lrs(lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=eta), opt, 16)
    want = [eta + (0.1 - eta) * (1 + math.cos(math.pi * e / T)) / 2 for e in range(16)]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert got[T] == pytest.approx(eta)


def test_lambda_lr_and_per_group_lambdas():
    opt = optim.SGD([{"params": [P()]}, {"params": [P()], "lr": 1.0}], lr=0.1)
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 0.5**e, lambda e: 1 / (e + 1)])
    seq = []
    for e in range(4):
        seq.append(sched.get_last_lr())
        sched.step()
    np.testing.assert_allclose(seq, [[0.1 * 0.5**e, 1 / (e + 1)] for e in range(4)])
    assert "lr_lambdas" not in sched.state_dict()


def test_reduce_lr_on_plateau():
    opt = optim.SGD([P()], lr=1.0)
    s = lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=0.5, patience=2, cooldown=1, min_lr=0.2
    )
    metrics = [10, 9, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8]
    got = []
    for m in metrics:
        s.step(m)
        got.append(s.get_last_lr()[0])
    # bad epochs: 9@2,3 -> 4th bad (idx 4) exceeds patience 2 -> 0.5; cooldown 1 (idx 5);
    # then bad at 6,7,8 -> reduce at 8 -> 0.25; 8 improves at idx 9; bad 10,11,12 -> 0.2 (min)
    assert got == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2]


def test_reduce_lr_on_plateau_max_abs():
    opt = optim.SGD([P()], lr=1.0)
    s = lr_scheduler.ReduceLROnPlateau(
        opt, mode="max", threshold=0.5, threshold_mode="abs", patience=0
    )
    s.step(1.0)  # improves on -inf
    s.step(1.4)  # not > 1.0 + 0.5: bad -> reduce
    assert s.get_last_lr() == [pytest.approx(0.1)]
    s.step(2.0)  # > 1.5: better
    assert s.get_last_lr() == [pytest.approx(0.1)]


def test_scheduler_state_dict_resume():
    opt = optim.SGD([P()], lr=0.1)
    s = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    for _ in range(3):
        s.step()
    sd = s.state_dict()
    assert sd["last_epoch"] == 3 and "optimizer" not in sd
    opt2 = optim.SGD([P()], lr=0.1)
    opt2.load_state_dict(opt.state_dict())
    s2 = lr_scheduler.StepLR(opt2, step_size=99)
    s2.load_state_dict(sd)
    for _ in range(3):
        s.step()
        s2.step()
        assert s2.get_last_lr() == s.get_last_lr()
