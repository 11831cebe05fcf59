"""The fusion planner (minnet.nn._fusion) that both Sequentials use."""

import pytest

from minnet import nn
from minnet.nn._fusion import plan
from minnet.nn.modules.container import _role


@pytest.mark.parametrize(
    "roles,steps",
    [
        ([], []),
        (["conv", "relu", "pool2"], [(0, 3, "relu_pool")]),
        (["conv", "relu"], [(0, 2, "relu")]),
        (["linear", "relu", "linear"], [(0, 2, "relu"), (2, 1, None)]),
        (["conv_relu", "pool2", None], [(0, 2, "relu_pool"), (2, 1, None)]),
        (["relu", "conv", "pool2"], [(0, 1, None), (1, 1, None), (2, 1, None)]),
        (["conv", "relu", "relu", "pool2"], [(0, 2, "relu"), (2, 1, None), (3, 1, None)]),
        (["linear", "relu", "pool2"], [(0, 2, "relu"), (2, 1, None)]),  # no linear+pool rule
    ],
)
def test_plan_covers_the_layers_in_order(roles, steps):
    got = list(plan(roles))
    assert got == steps
    assert sum(k for _, k, _ in got) == len(roles)


def test_nn_roles():
    assert [
        _role(m)
        for m in [
            nn.Linear(2, 2),
            nn.Conv2d(1, 1, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.MaxPool2d(2, ceil_mode=True),
            nn.MaxPool2d(3),
            nn.Tanh(),
        ]
    ] == ["linear", "conv", "relu", "pool2", None, None, None]
