"""The optimizer base class: parameter groups, per-parameter state, zero_grad, state_dict.

An optimizer only needs objects with a ``.data`` NumPy array (updated in place) and a ``.grad``
that is None, a Tensor (its ``.data`` is read) or an array. Subclasses implement
``_update_group(group)``.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, TypeAlias, Union, cast

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from minnet import Tensor

__all__ = ["Optimizer"]

# What an optimizer is given, as PyTorch's torch.optim.optimizer.ParamsT: parameters, or
# parameter groups (dicts with a 'params' key and per-group hyperparameters)
ParamsT: TypeAlias = Union[Iterable["Tensor"], Iterable[Dict[str, Any]]]


class _Required:
    def __repr__(self) -> str:
        return "<required parameter>"


required = _Required()


class _ParamState(dict):
    """``optimizer.state[p]``: per-parameter state keyed by the parameter object's identity
    (a Tensor need not be hashable, and two equal-valued parameters are different keys)."""

    def __init__(self) -> None:
        super().__init__()
        self._params: dict[int, Any] = {}

    def __getitem__(self, p: object) -> dict[str, Any]:
        return super().__getitem__(id(p))

    def __setitem__(self, p: object, value: dict[str, Any]) -> None:
        self._params[id(p)] = p
        super().__setitem__(id(p), value)

    def __contains__(self, p: object) -> bool:
        return super().__contains__(id(p))

    def __delitem__(self, p: object) -> None:
        super().__delitem__(id(p))
        del self._params[id(p)]

    def get(self, p: object, default: Any = None) -> Any:
        return super().get(id(p), default)

    def setdefault(self, p: object, default: Any = None) -> Any:
        try:
            return dict.__getitem__(self, id(p))
        except KeyError:
            self[p] = default
            return default

    def clear(self) -> None:
        super().clear()
        self._params.clear()

    # lists of the parameters themselves, not views of their ids: unlike dict's on purpose
    def keys(self) -> list[Any]:  # type: ignore[override]
        return [self._params[k] for k in super().keys()]

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys())

    def items(self) -> list[tuple[Any, dict[str, Any]]]:  # type: ignore[override]
        return [(self._params[k], v) for k, v in super().items()]


def grad_array(p: Tensor) -> NDArray[Any] | None:
    """The gradient of parameter ``p`` as a NumPy array, or None."""
    g = p.grad
    if g is None:
        return None
    if isinstance(g, np.ndarray):
        return g
    return g.data if hasattr(g, "data") else np.asarray(g)


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of parameters, or of dicts defining parameter groups (each with a
            ``'params'`` key and optional per-group hyperparameters overriding ``defaults``).
        defaults (dict): default hyperparameters of every group.

    ``param_groups`` is a list of dicts; ``state`` maps each parameter to a dict of its
    buffers (e.g. ``'momentum_buffer'``, ``'exp_avg'``) and its ``'step'`` count.
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state = _ParamState()
        self.param_groups: list[dict[str, Any]] = []
        if hasattr(params, "data") and hasattr(params, "grad"):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of "
                "Tensors or dicts, but got a single " + type(params).__name__
            )
        param_groups: list[Any] = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with ``'params'``) with its own hyperparameters;
        unspecified hyperparameters take the optimizer's defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"]
        if hasattr(params, "data") and hasattr(params, "grad"):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, "
                "but the ordering of a set changes between runs; use a list"
            )
        params = list(params)
        for p in params:
            if not (hasattr(p, "data") and hasattr(p, "grad")):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    + type(p).__name__
                )
            if not getattr(p, "requires_grad", True):
                raise ValueError("optimizing a parameter that doesn't require gradients")
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required "
                    f"optimization parameter {name}"
                )
            group.setdefault(name, default)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized parameters: to None (the default), or to zeros
        in place when ``set_to_none=False``."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g = cast("NDArray[Any]", grad_array(p))  # p.grad is not None
                    g[...] = 0

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """Perform one optimization step. ``closure``, if given, re-evaluates the model and
        returns the loss, which ``step`` returns."""
        loss = None
        if closure is not None:
            loss = closure()
        for group in self.param_groups:
            self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _stepped(
        self, group: dict[str, Any], **zeros_like: bool
    ) -> Iterator[tuple[Tensor, NDArray[Any], dict[str, Any]]]:
        """(param, gradient array, state) for each parameter of ``group`` that has a
        gradient, with ``state['step']`` counted up. A parameter's first step creates its
        state: ``step`` 0 and, for each ``name=True`` keyword, zeros shaped like it
        (``name=False`` leaves that buffer out)."""
        for p in group["params"]:
            raw = grad_array(p)
            if raw is None:
                continue
            state = self.state.setdefault(p, {})
            if not state:
                state["step"] = 0
                for name, wanted in zeros_like.items():
                    if wanted:
                        state[name] = np.zeros_like(p.data)
            state["step"] = state.get("step", 0) + 1  # PyTorch's SGD state has no step
            yield p, raw, state

    # ------------------------------------------------------------------ state dict
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state as PyTorch structures it::

            {'state': {0: {'step': 3, 'exp_avg': array, ...}, 1: {...}},
             'param_groups': [{'lr': 0.001, ..., 'params': [0, 1]}, ...]}

        Parameters are numbered in order over all groups; only parameters that have state
        appear under ``'state'``. Arrays are the live buffers (not copies), as in PyTorch.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = dict(s)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state from :meth:`state_dict` (or from ``minnet.load`` of a saved one).
        Buffers are copied and cast to their parameter's dtype; hyperparameters of each group
        are replaced by the saved ones."""
        if (
            not isinstance(state_dict, dict)
            or "param_groups" not in state_dict
            or "state" not in state_dict
        ):
            raise ValueError(
                "optimizer state_dict must be a dict with 'state' and 'param_groups' keys"
            )
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, "
                f"the optimizer has {len(self.param_groups)}"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict's parameter group {i} has "
                    f"{len(s['params'])} parameters, the optimizer's has "
                    f"{len(g['params'])}"
                )
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups):
            for p, idx in zip(g["params"], s["params"]):
                id_map[int(idx)] = p
        new_state = _ParamState()
        for idx, st in state_dict["state"].items():
            idx = int(idx)
            if idx not in id_map:
                raise ValueError(
                    f"loaded state dict has state for parameter {idx}, which is "
                    "not in any parameter group"
                )
            p = id_map[idx]
            new_state[p] = {k: self._cast_state(p, k, v) for k, v in st.items()}
        self.state = new_state
        for g, s in zip(self.param_groups, saved_groups):
            for k, v in s.items():
                if k != "params":
                    g[k] = copy.deepcopy(_normalize_hyper(g.get(k), v))

    @staticmethod
    def _cast_state(p: Tensor, key: str, value: Any) -> Any:
        if hasattr(value, "data") and not isinstance(value, np.ndarray):
            value = value.data
        if isinstance(value, np.ndarray):
            if key == "step":
                return int(value) if value.dtype.kind in "iu" else float(value)
            if value.dtype.kind == "f" and value.shape == np.shape(p.data):
                return np.array(value, dtype=p.data.dtype, copy=True)
            return np.array(value, copy=True)
        return copy.deepcopy(value)


def _normalize_hyper(current: object, saved: Any) -> Any:
    """Keep tuples tuples (betas) when the saved value came back as a list."""
    if isinstance(current, tuple) and isinstance(saved, list):
        return tuple(saved)
    return saved
