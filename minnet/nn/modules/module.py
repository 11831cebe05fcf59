"""Module: the base class of layers, owning parameters, buffers and submodules."""

from __future__ import annotations

import collections
import collections.abc
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, NoReturn

import numpy as np

from minnet._tensor import Tensor, _to_args
from minnet.device import accelerator_error
from minnet.nn.parameter import Parameter

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from typing_extensions import Self

__all__ = ["Module"]


class _IncompatibleKeys(
    collections.namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])
):
    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(s: str, n: int) -> str:
    lines = s.split("\n")
    if len(lines) == 1:
        return s
    return lines[0] + "\n" + "\n".join(" " * n + line for line in lines[1:])


def _array_of(value: object) -> NDArray[Any]:
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, Tensor):
        return value.data
    return np.asarray(value)


class Module:
    """Base class of all layers. Subclasses call ``super().__init__()``, assign
    :class:`Parameter` s, submodules and buffers (:meth:`register_buffer`) as attributes,
    and define :meth:`forward`; calling the module runs ``forward``.

    Attributes:
        training (bool): train (True) or eval (False) mode; see :meth:`train`, :meth:`eval`.

    Examples::

        >>> class Net(nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc1 = nn.Linear(2, 8)
        ...         self.fc2 = nn.Linear(8, 1)
        ...     def forward(self, x):
        ...         return self.fc2(F.relu(self.fc1(x)))
    """

    # set in __init__ with object.__setattr__, beside the attribute machinery below
    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module | None]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", {})

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ registration
    def _check_name(self, name: str, kind: str) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name or name == "":
            raise KeyError(f'{kind} name can\'t contain "." or be empty, got "{name}"')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (a :class:`Parameter` or None) under ``name``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter "
                f"'{name}' (nn.Parameter or None required)"
            )
        self._parameters[name] = param

    def register_buffer(
        self, name: str, tensor: Tensor | NDArray[Any] | None, persistent: bool = True
    ) -> None:
        """Add a buffer: state that is not learnable but belongs to the module (BatchNorm's
        running statistics). Arrays are wrapped in a Tensor. Persistent buffers are part of
        :meth:`state_dict`.

        Args:
            name (str): the buffer's attribute name.
            tensor (Tensor, numpy.ndarray or None): its value.
            persistent (bool): whether it is saved in the state dict. Default: True.
        """
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if isinstance(tensor, np.ndarray):
            tensor = Tensor(tensor)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer "
                f"'{name}' (Tensor, numpy.ndarray or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a submodule (or None) under ``name``."""
        self._check_name(name, "module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._discard(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter "
                    f"'{name}' (nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._discard(name)
            self._modules[name] = value
        elif params is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module "
                    f"'{name}' (nn.Module or None expected)"
                )
            d["_modules"][name] = None
        elif params is not None and name in d["_buffers"]:
            if isinstance(value, np.ndarray):
                value = Tensor(value)
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    "(Tensor, numpy.ndarray or None expected)"
                )
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def _discard(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            self.__dict__[key].pop(name, None)
        self.__dict__.pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        for key in ("_parameters", "_buffers", "_modules"):
            store = d.get(key)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for key in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(key, ()):
                del self.__dict__[key][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(
            set(super().__dir__())
            | set(self._parameters)
            | set(self._buffers)
            | set(self._modules)
        )

    # ------------------------------------------------------------------ traversal
    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """Yield this module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Yield ``(name, module)`` for each direct submodule."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        """Yield each direct submodule."""
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, store: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Any]]:
        seen = set()
        modules = (
            self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
            if recurse
            else [(prefix, self)]
        )
        for mod_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield mod_prefix + ("." if mod_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(name, parameter)``, names dotted like ``'0.weight'``; a parameter shared
        by two modules is yielded once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Yield the learnable parameters (what an optimizer is given)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Yield ``(name, buffer)`` for every (non-None) buffer."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The submodule at a dotted path like ``'encoder.0'``."""
        mod: Any = self  # a None child raises AttributeError at the next step
        for item in target.split(".") if target else []:
            if item not in mod._modules:
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    # ------------------------------------------------------------------ modes, grads
    def train(self, mode: bool = True) -> Self:
        """Set train mode (``mode=True``) or eval mode on this module and all descendants;
        affects Dropout and BatchNorm. Returns self."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> Self:
        """Set eval mode (same as ``train(False)``). Returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Self:
        """Switch gradient recording of all parameters on or off. Returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters: to None (default) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.data[...] = 0

    def apply(self, fn: Callable[[Module], object]) -> Self:
        """Call ``fn`` on every submodule (children first) and on self. Returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------------------ device, dtype
    def to(self, *args: Any, **kwargs: Any) -> Self:
        """Convert floating parameters and buffers (and gradients) in place, with
        ``Tensor.to``'s signatures: ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``
        (``non_blocking`` accepted). The Parameter objects stay the same, so optimizers
        keep working. A device must be the CPU (``'cuda'`` raises), where everything
        already is. Returns self.

        Examples::

            >>> device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
            >>> model = Net().to(device)
            >>> model.to(torch.float64)
        """
        dtype, _ = _to_args(args, kwargs, "Module.to")
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating dtypes, got {dtype}")
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None or t.data.dtype.kind != "f":
                        continue
                    t.data = t.data.astype(dtype)
                    if t.grad is not None:
                        t.grad.data = t.grad.data.astype(dtype)
        return self

    def double(self) -> Self:
        """Convert floating parameters and buffers to float64. Returns self."""
        return self.to(np.float64)

    def float(self) -> Self:
        """Convert floating parameters and buffers to float32. Returns self."""
        return self.to(np.float32)

    def cpu(self) -> Self:
        return self

    def cuda(self, device: object = None) -> NoReturn:
        raise accelerator_error("Module.cuda()")

    # ------------------------------------------------------------------ state dict
    def state_dict(
        self,
        destination: dict[str, Tensor] | None = None,
        prefix: str = "",
        keep_vars: bool = False,
    ) -> dict[str, Tensor]:
        """A dict from dotted names (``'0.weight'``, ``'1.running_mean'``) to the
        parameters and persistent buffers, as detached Tensors sharing their data (or the
        Parameters themselves with ``keep_vars=True``). Save it with ``minnet.save``."""
        if destination is None:
            destination = collections.OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> _IncompatibleKeys:
        """Copy parameters and buffers from ``state_dict`` (Tensors or NumPy arrays, e.g.
        from ``minnet.load``) into this module's, in place and cast to their dtypes.

        Args:
            state_dict (dict): as returned by :meth:`state_dict`.
            strict (bool): require the keys to match exactly. Default: True.

        Returns:
            ``(missing_keys, unexpected_keys)``, a namedtuple of lists of names.

        Raises:
            RuntimeError: naming every key whose shape differs (always), and every missing
                and unexpected key (when ``strict``). Nothing is copied when it raises.
        """
        if not isinstance(state_dict, collections.abc.Mapping):
            raise TypeError(
                f"Expected state_dict to be dict-like, got {type(state_dict).__name__}."
            )
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            src = _array_of(state_dict[key])
            if src.shape != target.data.shape:
                errors.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{tuple(src.shape)} from checkpoint, the shape in current "
                    f"model is {tuple(target.data.shape)}."
                )
        if strict:
            if unexpected:
                errors.insert(
                    0,
                    "Unexpected key(s) in state_dict: "
                    + ", ".join(f'"{k}"' for k in unexpected)
                    + ". ",
                )
            if missing:
                errors.insert(
                    0,
                    "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ",
                )
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors)
            )
        for key, target in own.items():
            if key in state_dict:
                target.data[...] = _array_of(state_dict[key])
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------ repr
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The text inside this module's parentheses in its repr (override it)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def _layer_error(self, message: str) -> ValueError:
        """A ValueError that names the layer, e.g. "Linear(in_features=2, ...): ..."."""
        return ValueError(f"{self._get_name()}({self.extra_repr()}): {message}")
