"""The registry of benchmark cases. A Case is one problem measured by several implementations
in the same run: minnet's kernel, and for comparison NumPy and (when importable) PyTorch."""

from dataclasses import dataclass, field
from typing import Callable, Dict, Optional


@dataclass
class Case:
    op: str  # kernel family: "gemm", later "conv2d", "gru", ...
    name: str  # what is measured, e.g. "128x784x512 +bias+relu"
    flops: float  # floating-point operations per call (0: not meaningful)
    # implementation name -> zero-argument callable; "minnet" is the subject, the others the
    # baselines whose time is divided by minnet's to give the ratio
    impls: Dict[str, Callable[[], object]] = field(default_factory=dict)
    note: Optional[str] = None
    dtype: str = "float32"  # the dtype of the FLOPs: % peak divides by this dtype's FMA peak


def _gemm_cases(quick, torch):
    from minnet.bench import gemm

    return gemm.cases(quick=quick, torch=torch)


# op name -> builder(quick: bool, torch: module | None) -> list[Case]
KERNEL_SUITES = {
    "gemm": _gemm_cases,
}


def _rnn_cases(op):
    def build(quick, torch):
        from minnet.bench import rnn

        return rnn.cases(op, quick=quick, torch=torch)

    return build


KERNEL_SUITES.update({op: _rnn_cases(op) for op in ("gru", "lstm", "rnn")})


def _conv_cases(name):
    def build(quick, torch):
        from minnet.bench import conv

        return getattr(conv, name)(quick=quick, torch=torch)

    return build


KERNEL_SUITES.update(
    {
        "conv2d": _conv_cases("conv_cases"),
        "maxpool2d": _conv_cases("maxpool_cases"),
        "avgpool2d": _conv_cases("avgpool_cases"),
        "batchnorm2d": _conv_cases("batchnorm_cases"),
        "conv_relu_pool": _conv_cases("conv_relu_pool_cases"),
    }
)


def _eltwise_cases(name):
    def build(quick, torch):
        from minnet.bench import eltwise

        return getattr(eltwise, name)(quick=quick, torch=torch)

    return build


KERNEL_SUITES.update(
    {"eltwise": _eltwise_cases("eltwise_cases"), "optim": _eltwise_cases("optim_cases")}
)


def _family_suites():
    from minnet._ops import FAMILIES, ops_of

    return {family: list(dict.fromkeys(op.bench for op in ops_of(family))) for family in FAMILIES}


# What `minnet-bench kernels --op` accepts: a kernel family (minnet._ops.FAMILIES: every suite
# of its ops; `rnn` is the whole recurrent family, GRU and LSTM included) or one suite by name.
_FAMILY_SUITES = _family_suites()
KERNEL_SELECTORS = {
    **_FAMILY_SUITES,
    **{name: [name] for name in KERNEL_SUITES if name not in _FAMILY_SUITES},
}


def select_suites(names):
    """The suites (keys of KERNEL_SUITES) that the --op names select, in registry order."""
    chosen = {suite for name in names for suite in KERNEL_SELECTORS[name]}
    return [suite for suite in KERNEL_SUITES if suite in chosen]
