"""Devices: minnet runs on the CPU only, and says so where PyTorch code asks for a GPU.

``minnet.device`` is a small class with ``torch.device``'s constructor, ``str``/``repr``,
equality and hashing; only ``'cpu'`` (optionally ``'cpu:0'``) can be made. Any accelerator
name (``'cuda'``, ``'mps'``, ``'xpu'``, ...) raises a one-line RuntimeError that says what to
write instead; an unknown string raises ValueError.

The namespaces PyTorch code probes before choosing a device answer "no accelerator", as
PyTorch itself does on a machine without one:

* ``minnet.cuda``: ``is_available()`` False, ``device_count()`` 0, ``manual_seed``,
  ``manual_seed_all``, ``empty_cache`` and ``synchronize`` are no-ops (they are no-ops in torch
  too when CUDA is not initialised); any other attribute raises the CPU-only error.
* ``minnet.accelerator``: ``is_available()`` False, ``current_accelerator()`` None (as in
  PyTorch >= 2.6 when there is none), ``device_count()`` 0.
* ``minnet.backends.mps.is_available()`` / ``is_built()`` False, ``minnet.backends.cudnn``
  with settable ``benchmark``, ``deterministic`` and ``enabled`` attributes (they change
  nothing here), ``cudnn.is_available()`` False.

They are registered as modules, so ``import minnet.backends.cudnn as cudnn`` works.
"""

import sys
import types

__all__ = [
    "device",
    "cuda",
    "accelerator",
    "backends",
    "as_device",
    "check_cpu",
    "set_default_device",
    "get_default_device",
    "accelerator_error",
]

# Every device type torch.device knows (torch 2.x); all but 'cpu' need hardware minnet lacks.
_TORCH_TYPES = (
    "cpu",
    "cuda",
    "ipu",
    "xpu",
    "mkldnn",
    "opengl",
    "opencl",
    "ideep",
    "hip",
    "ve",
    "fpga",
    "maia",
    "xla",
    "lazy",
    "vulkan",
    "mps",
    "meta",
    "hpu",
    "mtia",
    "privateuseone",
)

CPU_ONLY = (
    "minnet runs on the CPU only; use device('cpu') -- e.g. "
    "`device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')` "
    "picks the CPU"
)


def accelerator_error(what):
    return RuntimeError(f"{what}: {CPU_ONLY}")


class device:
    """A device a tensor lives on: always the CPU in minnet.

    Args:
        type (str or device): ``'cpu'`` or ``'cpu:<index>'`` (or a device to copy).
        index (int, optional): the device index; PyTorch's CPU device has only index 0 in
            practice, but any non-negative index is accepted and kept, as torch does.

    Attributes:
        type (str): ``'cpu'``.
        index (int or None): the index given, else None.

    Raises:
        RuntimeError: an accelerator (``'cuda'``, ``'cuda:0'``, ``'mps'``, ``'xpu'``, ...).
        ValueError: an unknown or malformed device string, or a negative index.
        TypeError: neither a string nor a device (a bare int means a CUDA ordinal in torch).

    Examples::

        >>> torch.device('cpu'), torch.device('cpu:0'), torch.device(type='cpu')
        (device(type='cpu'), device(type='cpu', index=0), device(type='cpu'))
        >>> device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device: cannot give an index with a device object")
            type, index = type._type, type._index
        elif isinstance(type, int) and not isinstance(type, bool):
            raise accelerator_error(f"device({type})")  # torch: the accelerator's ordinal
        elif not isinstance(type, str):
            raise TypeError(
                f"device: type must be a str or a device, got {builtin_type(type).__name__}"
            )
        else:
            name, sep, idx = type.partition(":")
            if name not in _TORCH_TYPES:
                raise ValueError(
                    f"device: unknown device type {type!r} (minnet has only "
                    f"'cpu'; PyTorch knows {', '.join(_TORCH_TYPES)})"
                )
            if name != "cpu":
                raise accelerator_error(f"device({type!r})")
            if sep:
                if index is not None:
                    raise ValueError(
                        f"device: type (string) must not include an index "
                        f"because index was passed explicitly: {type}"
                    )
                if not idx.isdigit():
                    raise ValueError(f"device: invalid device string {type!r}")
                index = int(idx)
            type = name
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(
                    f"device: index must be an int, got {builtin_type(index).__name__}"
                )
            if index < 0:
                raise ValueError(f"device: index must not be negative, got {index}")
        self._type, self._index = type, index

    @property
    def type(self):
        return self._type

    @property
    def index(self):
        return self._index

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    # equal when type and index are equal (so 'cpu' != 'cpu:0', and a device never equals
    # a string), as torch.device
    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))

    # `with torch.device('cpu'):` makes the CPU the default device: it always is
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


builtin_type = type
CPU = device("cpu")


def as_device(value, what="device"):
    """``value`` (a str, a device or None) as a :class:`device`; errors name ``what``."""
    if value is None:
        return CPU
    if isinstance(value, device):
        return value
    if isinstance(value, str) or isinstance(value, int):
        try:
            return device(value)
        except RuntimeError:
            raise accelerator_error(f"{what}={value!r}") from None
        except ValueError as e:
            raise ValueError(f"{what}: {e}") from None
    raise TypeError(
        f"{what}: expected a device or a device string like 'cpu', got {type(value).__name__}"
    )


def check_cpu(value, what="device"):
    """Accept None or any spelling of the CPU for a ``device=`` argument; raise otherwise."""
    as_device(value, what)


def set_default_device(dev):
    """``torch.set_default_device``: only the CPU (or None) can be the default."""
    check_cpu(dev, "set_default_device")


def get_default_device():
    return CPU


class _Namespace(types.ModuleType):
    """A module object whose missing attributes raise the CPU-only error (``torch.cuda.X``
    for an X minnet does not mirror), not a bare AttributeError. Dunder lookups (made by
    import machinery, copy, pickle) still get AttributeError."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(
            f"{self.__name__.replace('minnet', 'torch')}.{name} is not available: {CPU_ONLY}"
        )


def _register(name, doc, **attrs):
    mod = _Namespace(f"minnet.{name}", doc)
    mod.__dict__.update(attrs)
    sys.modules[mod.__name__] = mod
    return mod


def _false(*args, **kwargs):
    return False


def _zero(*args, **kwargs):
    return 0


def _none(*args, **kwargs):
    return None


def _no_cuda_device(*args, **kwargs):
    raise accelerator_error("torch.cuda device query")


cuda = _register(
    "cuda",
    "torch.cuda on a CPU-only framework: no device is ever available.",
    is_available=_false,
    is_initialized=_false,
    device_count=_zero,
    manual_seed=_none,
    manual_seed_all=_none,
    seed=_none,
    seed_all=_none,
    empty_cache=_none,
    synchronize=_none,
    current_device=_no_cuda_device,
    get_device_name=_no_cuda_device,
    set_device=_no_cuda_device,
)

accelerator = _register(
    "accelerator",
    "torch.accelerator: no accelerator is ever available.",
    is_available=_false,
    current_accelerator=_none,
    device_count=_zero,
    synchronize=_none,
)

backends = _register("backends", "torch.backends: the flags PyTorch code sets or reads.")
backends.mps = _register(
    "backends.mps",
    "torch.backends.mps: Apple's GPU, never available.",
    is_available=_false,
    is_built=_false,
)
# the attributes are settable (``cudnn.benchmark = True``) and have no effect on the CPU
backends.cudnn = _register(
    "backends.cudnn",
    "torch.backends.cudnn: flags with no effect.",
    is_available=_false,
    benchmark=False,
    deterministic=False,
    enabled=True,
    allow_tf32=True,
)
