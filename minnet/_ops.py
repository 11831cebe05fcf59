"""The declared list of minnet's kernels: one entry per op.

Everything that must know the ops is built from this table, so adding an op means adding one
entry here, its C (csrc/<family>.c), its wrapper (minnet/_kernels/<family>.pyx), its NumPy
reference (minnet/reference/<family>.py) and its test cases (tests/kernels/test_<family>.py):

* ``minnet.kernels`` and ``minnet.reference`` export exactly these names, each from its
  family's module (:func:`export`);
* ``tests/kernels/test_seam.py`` checks, per entry, that both sides exist with the same
  signature, that the family's files exist, that the family's test file exercises the op, and
  that ``minnet-bench kernels`` has the benchmark the entry names;
* ``minnet-bench kernels --op FAMILY`` runs the benchmark cases of a family's ops.

ARCHITECTURE.md walks through adding an op.
"""

import importlib
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

__all__ = ["Op", "FAMILIES", "OPS", "CONSTANTS", "ops_of", "export"]

# The kernel families, in build order. A family is one name in every layer: csrc/<family>.c,
# minnet/_kernels/<family>.pyx, minnet/reference/<family>.py, tests/kernels/test_<family>.py.
FAMILIES: Tuple[str, ...] = ("gemm", "eltwise", "optim", "rnn", "conv", "pool", "norm")


@dataclass(frozen=True)
class Op:
    """One kernel: its public name, its family, and the minnet-bench kernels suite that times
    it (a key of minnet.bench.suites.KERNEL_SUITES)."""

    name: str
    family: str
    bench: Optional[str]


def _ops(family: str, bench: Optional[str], *names: str) -> List[Op]:
    return [Op(name, family, bench) for name in names]


OPS: Tuple[Op, ...] = tuple(
    _ops("gemm", "gemm", "gemm", "colsum")
    + _ops(
        "eltwise",
        "eltwise",
        "act_forward",
        "act_backward",
        "softmax",
        "softmax_backward",
        "cross_entropy_forward",
        "cross_entropy_backward",
        "bce_with_logits_forward",
        "bce_with_logits_backward",
    )
    + _ops(
        "optim",
        "optim",
        "sgd_step",
        "adam_step",
        "rmsprop_step",
        "adagrad_step",
        "sgd_step_multi",
        "adam_step_multi",
        "rmsprop_step_multi",
        "adagrad_step_multi",
    )
    + _ops("rnn", "gru", "gru_forward", "gru_backward")
    + _ops("rnn", "rnn", "rnn_forward", "rnn_backward")
    + _ops("rnn", "lstm", "lstm_forward", "lstm_backward")
    + _ops("conv", "conv2d", "conv2d_forward", "conv2d_backward")
    + _ops("conv", "conv_relu_pool", "conv2d_relu_maxpool2d_forward")
    + _ops("pool", "maxpool2d", "max_pool2d_forward", "max_pool2d_backward")
    + _ops(
        "pool",
        "avgpool2d",
        "avg_pool2d_forward",
        "avg_pool2d_backward",
        "adaptive_avg_pool2d_forward",
        "adaptive_avg_pool2d_backward",
    )
    + _ops("norm", "batchnorm2d", "batch_norm_forward", "batch_norm_backward")
)

# Tables both sides share (equal, not just same-named): name -> family.
CONSTANTS: Dict[str, str] = {"ACT_BACKWARD_INPUT": "eltwise"}


def ops_of(family: str) -> List[Op]:
    """The ops of one family, in declaration order."""
    if family not in FAMILIES:
        raise ValueError(f"unknown kernel family {family!r}; families: {', '.join(FAMILIES)}")
    return [op for op in OPS if op.family == family]


def export(namespace: dict, package: str) -> List[str]:
    """Put every declared op and constant of ``package`` ("minnet._kernels" or
    "minnet.reference") into ``namespace`` from its family's module; returns the names (for
    ``__all__``), ops first, in declaration order."""
    names = []
    for family in FAMILIES:
        module = importlib.import_module(f"{package}.{family}")
        members = [op.name for op in ops_of(family)]
        members += [name for name, fam in CONSTANTS.items() if fam == family]
        for name in members:
            namespace[name] = getattr(module, name)
        names += members
    return names
