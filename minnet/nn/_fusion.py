"""The one fusion planner: which runs of consecutive layers execute as one kernel call.

Both ``minnet.nn.Sequential`` and ``minnet.keras.Sequential`` describe each of their layers by
a *role* (or None) and ask :func:`plan` how to group them; the rules live only here:

==========================  ==========  =====================================================
roles                       fusion      what runs
==========================  ==========  =====================================================
conv, relu, pool2           relu_pool   conv2d + relu + 2x2/2 max pooling in one node
                                        (F.conv2d_relu_max_pool2d: each image pooled from
                                        cache); same values, and gradients up to the order
                                        of the bias gradient's additions
conv_relu, pool2            relu_pool   the same, for a layer that carries its own relu
                                        (keras Conv2D(activation='relu'))
conv, relu / linear, relu   relu        the relu in the GEMM/conv epilogue: bitwise the same
                                        values and gradients (y > 0 iff x > 0)
==========================  ==========  =====================================================

Roles: ``linear`` (nn.Linear), ``conv`` (nn.Conv2d), ``conv_relu`` (a conv with its relu
inside), ``relu`` (nn.ReLU), ``pool2`` (a 2x2 max pooling of stride 2, no padding, floor mode).
"""

from typing import Iterator, Optional, Sequence, Tuple

__all__ = ["RULES", "plan"]

RULES: Tuple[Tuple[Tuple[str, ...], str], ...] = (
    (("conv", "relu", "pool2"), "relu_pool"),
    (("conv_relu", "pool2"), "relu_pool"),
    (("conv", "relu"), "relu"),
    (("linear", "relu"), "relu"),
)


def plan(roles: Sequence[Optional[str]]) -> Iterator[Tuple[int, int, Optional[str]]]:
    """Cover ``roles`` left to right with (start, count, fusion) steps: the first rule whose
    pattern starts at ``start`` (longest rules first), else the single layer (fusion None)."""
    i, n = 0, len(roles)
    while i < n:
        for pattern, fusion in RULES:
            k = len(pattern)
            if tuple(roles[i : i + k]) == pattern:
                yield i, k, fusion
                i += k
                break
        else:
            yield i, 1, None
            i += 1
