"""Containers: Sequential, ModuleList, ModuleDict."""

from __future__ import annotations

import collections
import operator
from typing import (
    TYPE_CHECKING,
    Any,
    ItemsView,
    Iterable,
    Iterator,
    KeysView,
    Mapping,
    NoReturn,
    SupportsIndex,
    ValuesView,
    cast,
    overload,
)

from minnet.nn._fusion import plan
from minnet.nn.modules.activation import ReLU
from minnet.nn.modules.conv import Conv2d
from minnet.nn.modules.linear import Linear
from minnet.nn.modules.module import Module
from minnet.nn.modules.pooling import MaxPool2d

if TYPE_CHECKING:
    from typing_extensions import Self

_module_call = Module.__call__


def _is_pool2(m: Module | None) -> bool:
    """m is MaxPool2d(2): 2x2 windows, stride 2, no padding or dilation, floor mode."""
    two = lambda v, want: v == want or v == (want, want)
    return (
        type(m) is MaxPool2d
        and two(m.kernel_size, 2)
        and two(m.stride, 2)
        and two(m.padding, 0)
        and two(m.dilation, 1)
        and not m.ceil_mode
        and not m.return_indices
    )


def _role(m: Module | None) -> str | None:
    """The module's role for the fusion planner (minnet.nn._fusion), or None."""
    t = type(m)
    if t is Linear:
        return "linear"
    if t is Conv2d:
        return "conv"
    if t is ReLU:
        return "relu"
    return "pool2" if _is_pool2(m) else None


__all__ = ["Sequential", "ModuleList", "ModuleDict"]


class Sequential(Module):
    """Modules applied one after another; ``forward`` feeds each one's output to the next.

    Args:
        *args: the modules in order, or a single ``OrderedDict`` of name -> module.

    A :class:`Linear` (or :class:`Conv2d`) directly followed by a :class:`ReLU` runs as one
    graph node, the ReLU applied in the kernel's epilogue: the same values and gradients,
    bitwise (relu is exact, and its backward mask is the same from the output as from the
    input: y > 0 iff x > 0), without a separate pass over the activations. A Conv2d, ReLU,
    :class:`MaxPool2d` (2) run goes further: one node whose kernel pools each image's
    convolution output from cache (``F.conv2d_relu_max_pool2d``): the same values, and the same
    gradients up to the order of the bias gradient's additions. Set ``fuse = False`` (on the
    instance or the class) to run the modules one by one.

    Supports ``len``, iteration, integer indexing (``seq[0]``, ``seq[-1]``), slicing
    (a new Sequential sharing the modules), ``append``, ``insert`` and ``extend``.

    Examples::

        >>> model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2))
        >>> model = nn.Sequential(collections.OrderedDict([
        ...     ("fc1", nn.Linear(2, 3)), ("act", nn.Tanh()), ("fc2", nn.Linear(3, 2))]))
        >>> model.fc1 is model[0]
        True
    """

    fuse = True

    @overload
    def __init__(self, *args: Module) -> None: ...
    @overload
    def __init__(self, arg: Mapping[str, Module], /) -> None: ...
    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (collections.OrderedDict, dict)):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for idx, module in enumerate(args):
                self.add_module(str(idx), module)

    def _index(self, idx: SupportsIndex) -> str:
        n = len(self)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for Sequential of length {n}")
        return list(self._modules)[idx % n]

    @overload
    def __getitem__(self, idx: slice) -> Self: ...
    @overload
    def __getitem__(self, idx: SupportsIndex) -> Module: ...
    def __getitem__(self, idx: slice | SupportsIndex) -> Self | Module:
        if isinstance(idx, slice):
            items = cast("list[tuple[str, Module]]", list(self._modules.items())[idx])
            return type(self)(collections.OrderedDict(items))
        return cast(Module, self._modules[self._index(idx)])

    def __setitem__(self, idx: SupportsIndex, module: Module) -> None:
        setattr(self, self._index(idx), module)

    def __delitem__(self, idx: SupportsIndex | slice) -> None:
        keys = list(self._modules)[idx] if isinstance(idx, slice) else [self._index(idx)]
        for key in keys:
            del self._modules[key]
        if not all(k.isdigit() for k in self._modules):
            return
        items = list(self._modules.values())  # keep numbering 0..n-1
        self._modules.clear()
        for i, m in enumerate(items):
            self._modules[str(i)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return cast("Iterator[Module]", iter(self._modules.values()))

    def append(self, module: Module) -> Self:
        """Add ``module`` at the end. Returns self."""
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> Self:
        """Insert ``module`` before position ``index``. Returns self."""
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        for m in modules:
            self.append(m)
        return self

    def forward(self, input: Any) -> Any:
        mods: list[Any] = list(self._modules.values())
        steps = (
            plan([_role(m) for m in mods])
            if self.fuse
            else ((i, 1, None) for i in range(len(mods)))
        )
        for i, _, fusion in steps:
            m = mods[i]
            if fusion == "relu_pool":
                input = m.forward(input, activation="relu", max_pool=2)  # conv+relu+pool
            elif fusion == "relu":
                input = m.forward(input, activation="relu")  # one node, relu in the epilogue
            else:
                # m(input) without the extra frame, unless m's class has its own __call__
                input = m.forward(input) if type(m).__call__ is _module_call else m(input)
        return input


class ModuleList(Module):
    """A list of modules, registered so their parameters are found (a plain Python list
    hides them from ``parameters()``).

    Args:
        modules (iterable, optional): modules to add.

    Examples::

        >>> self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        >>> for layer in self.layers:
        ...     x = layer(x)
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _key(self, idx: SupportsIndex) -> str:
        n = len(self)
        idx = operator.index(idx)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range for ModuleList of length {n}")
        return str(idx % n)

    @overload
    def __getitem__(self, idx: slice) -> Self: ...
    @overload
    def __getitem__(self, idx: SupportsIndex) -> Module: ...
    def __getitem__(self, idx: slice | SupportsIndex) -> Self | Module:
        if isinstance(idx, slice):
            return type(self)(cast("list[Module]", list(self._modules.values())[idx]))
        return cast(Module, self._modules[self._key(idx)])

    def __setitem__(self, idx: SupportsIndex, module: Module) -> None:
        self.add_module(self._key(idx), module)

    def __delitem__(self, idx: SupportsIndex | slice) -> None:
        items = list(self._modules.values())
        del items[idx]
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return cast("Iterator[Module]", iter(self._modules.values()))

    def __iadd__(self, modules: Iterable[Module]) -> Self:
        return self.extend(modules)

    def append(self, module: Module) -> Self:
        """Add ``module`` at the end. Returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Self:
        """Add each of ``modules`` at the end. Returns self."""
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Insert ``module`` before ``index``."""
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(items):
            self.add_module(str(i), m)

    def forward(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError("ModuleList has no forward: iterate over it")


class ModuleDict(Module):
    """A dict of modules, registered under their keys.

    Args:
        modules (dict or iterable of (str, Module), optional): modules to add.

    Examples::

        >>> self.heads = nn.ModuleDict({"cls": nn.Linear(8, 3), "reg": nn.Linear(8, 1)})
    """

    def __init__(
        self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None
    ) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return cast(Module, self._modules[key])

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def keys(self) -> KeysView[str]:
        return self._modules.keys()

    def items(self) -> ItemsView[str, Module]:
        return cast("ItemsView[str, Module]", self._modules.items())

    def values(self) -> ValuesView[Module]:
        return cast("ValuesView[Module]", self._modules.values())

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for key, module in items:
            self[key] = module

    def forward(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError("ModuleDict has no forward: index it")
