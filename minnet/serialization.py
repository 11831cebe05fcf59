"""``minnet.save`` / ``minnet.load``: state dicts in a documented, pickle-free ``.npz`` file.

Format (version 1). The file is an ordinary NumPy ``.npz`` (a zip of ``.npy`` members):

* ``__minnet__``: a uint8 array holding UTF-8 JSON, the manifest::

      {"format": "minnet", "version": 1, "root": <node>}

* one member per array, named by the array's flattened key path (keys joined with ``.``,
  e.g. ``state.0.exp_avg`` or ``0.weight``; ``#2``, ``#3``... appended if two paths collide).

A ``<node>`` is one of::

    null | true | false | "text" | 12 | 1.5            plain JSON values (int stays int)
    {"float": "nan" | "inf" | "-inf"}                  non-finite floats
    {"array": "<member name>"}                          a NumPy array (or a Tensor's .data)
    {"dict": [[key, <node>], ...]}                      keys are str or int, order kept
    {"list": [<node>, ...]}   {"tuple": [<node>, ...]}

Reading uses ``np.load(allow_pickle=False)``: nothing is ever unpickled, and object arrays
cannot be saved. Writing is atomic: a temporary file in the destination folder, flushed and
fsync'ed, then ``os.replace``'d over the destination.

For ``import minnet as torch``: the file name is used as given, so ``torch.save(sd, "x.pt")``
and ``"x.pth"`` write this format too (a ``.pt`` written by minnet is not a PyTorch pickle and
PyTorch cannot read it; minnet cannot read PyTorch's and says how to convert it).
``load`` takes ``torch.load``'s ``map_location`` (any spelling of the CPU) and
``weights_only`` (either value: nothing is unpickled in any case), and reads a plain NumPy
``.npz`` (one without the manifest) as a dict of its arrays.
"""

import json
import math
import numbers
import os
import zipfile

import numpy as np

from minnet._atomic import atomic_write

__all__ = ["save", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_MANIFEST = "__minnet__"


def _encode(obj, path, arrays):
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, numbers.Integral) and not isinstance(obj, np.generic):
        return int(obj)
    if isinstance(obj, float):
        if math.isfinite(obj):
            return obj
        return {"float": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
    if isinstance(obj, (np.ndarray, np.generic)) or (
        hasattr(obj, "data") and isinstance(getattr(obj, "data", None), np.ndarray)
    ):
        arr = np.asarray(obj.data if not isinstance(obj, (np.ndarray, np.generic)) else obj)
        if arr.dtype.hasobject:
            raise TypeError(f"minnet.save: cannot save an object array at '{path or '<root>'}'")
        name = path or "root"
        base, k = name, 1
        while name in arrays or name == _MANIFEST:
            k += 1
            name = f"{base}#{k}"
        arrays[name] = arr
        return {"array": name}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if isinstance(key, (np.integer,)):
                key = int(key)
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(
                    f"minnet.save: dict keys must be str or int, got "
                    f"{type(key).__name__} at '{path or '<root>'}'"
                )
            items.append([key, _encode(value, f"{path}.{key}" if path else str(key), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {
            kind: [
                _encode(v, f"{path}.{i}" if path else str(i), arrays) for i, v in enumerate(obj)
            ]
        }
    hint = (
        ": save its state_dict() instead and rebuild the object before load_state_dict"
        if hasattr(obj, "state_dict")
        else ""
    )
    raise TypeError(
        f"minnet.save: cannot save a {type(obj).__name__} at '{path or '<root>'}'"
        " (only dicts, lists, tuples, arrays/Tensors, numbers, strings, bools, None; "
        f"nothing is pickled){hint}"
    )


def save(obj, path):
    """Save ``obj`` (a state dict: nested dicts/lists/tuples of arrays or Tensors, numbers,
    strings, bools and None) to ``path``, atomically. Nothing is pickled.

    Args:
        obj: what to save, e.g. ``model.state_dict()`` or ``optimizer.state_dict()``, or a
            checkpoint dict of them with the epoch and the loss.
        path (str, os.PathLike or a binary file object): destination; a file name is used as
            given (``.pt``, ``.pth``, ``.npz``: the same format). A file object (``io.BytesIO``)
            is written in place, not atomically.

    Examples::

        >>> minnet.save({"model": model.state_dict(), "optim": opt.state_dict(),
        ...              "epoch": 5}, "ckpt.pt")
        >>> ckpt = minnet.load("ckpt.pt")
        >>> model.load_state_dict(ckpt["model"])
    """
    arrays = {}
    manifest = {"format": "minnet", "version": FORMAT_VERSION, "root": _encode(obj, "", arrays)}
    blob = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **{_MANIFEST: blob}, **arrays)
        return
    with atomic_write(os.fspath(path)) as f:
        np.savez(f, **{_MANIFEST: blob}, **arrays)


def _decode(node, arrays, path):
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        ((kind, value),) = node.items()
        if kind == "float":
            return float(value)
        if kind == "array":
            if value not in arrays:
                raise ValueError(f"{path}: corrupt minnet file: array '{value}' is missing")
            return arrays[value]
        if kind == "dict":
            return {k: _decode(v, arrays, path) for k, v in value}
        if kind == "list":
            return [_decode(v, arrays, path) for v in value]
        if kind == "tuple":
            return tuple(_decode(v, arrays, path) for v in value)
    raise ValueError(f"{path}: corrupt minnet file: unexpected manifest entry {node!r:.80}")


_CONVERT = (
    "convert it where PyTorch is installed: python -c \"import torch, numpy as np; "
    "sd = torch.load('{name}', map_location='cpu'); np.savez('{stem}.npz', "
    "**{{k: v.numpy() for k, v in sd.items()}})\" and minnet.load('{stem}.npz') "
    "gives the dict of arrays, which load_state_dict takes"
)


def _pytorch_file_error(path, kind):
    name = os.path.basename(path)
    stem = os.path.splitext(name)[0]
    return ValueError(
        f"{path}: this is a PyTorch {kind}, which minnet does not read (it "
        f"would have to be unpickled); " + _CONVERT.format(name=name, stem=stem)
    )


def _check_map_location(map_location):
    """torch.load's map_location: None, any spelling of the CPU, a {from: to} dict whose
    targets are the CPU, or a function (everything is on the CPU already)."""
    from minnet.device import check_cpu

    if map_location is None or callable(map_location):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        check_cpu(target, "load: map_location")


def load(path, map_location=None, *, weights_only=None, mmap=None):
    """Load what :func:`save` wrote. Arrays and Tensors come back as NumPy arrays (not
    Tensors; NumPy scalars as 0-d arrays) in the same nesting of dicts (keys keep their int
    or str type), lists and tuples; ``Module.load_state_dict`` and
    ``Optimizer.load_state_dict`` accept them directly. A plain NumPy ``.npz`` (as written by
    ``np.savez``) loads as a dict from its member names to its arrays.

    Args:
        path (str, os.PathLike or a binary file object): a file written by :func:`save`.
        map_location: accepted for ``torch.load``: None, ``'cpu'``, ``device('cpu')``, a dict
            mapping locations to the CPU (``{'cuda:0': 'cpu'}``) or a function. An
            accelerator target raises RuntimeError.
        weights_only (bool, optional): accepted for ``torch.load``; minnet never unpickles,
            so loading is always as safe as ``weights_only=True``.
        mmap: accepted for ``torch.load`` when None or False.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is truncated, corrupt, a PyTorch pickle (the message says how to
            convert it), not a minnet file, or of a newer format version; the message names
            the path.
    """
    _check_map_location(map_location)
    if weights_only not in (None, True, False):
        raise TypeError(f"load: weights_only must be a bool or None, got {weights_only!r}")
    if mmap:
        raise ValueError("load: mmap=True is not supported (the arrays are read into memory)")
    if hasattr(path, "read"):
        return _load(path, "<file object>")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"minnet.load: no such file: '{path}'")
    with open(path, "rb") as f:
        head = f.read(2)
    # PyTorch's legacy format is a pickle stream: protocol 2+ starts with the PROTO opcode
    if len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        raise _pytorch_file_error(path, "pickle (legacy torch.save format)")
    return _load(path, path)


def _load(source, path):
    try:
        with np.load(source, allow_pickle=False) as npz:
            if _MANIFEST not in npz.files:
                if any(n.endswith("data.pkl") for n in npz.files):
                    raise _pytorch_file_error(
                        path, "file (a zip holding data.pkl, written by torch.save)"
                    )
                if not npz.files or any(n.endswith(".pkl") for n in npz.files):
                    raise ValueError(f"{path}: not a minnet file (no '{_MANIFEST}' manifest)")
                return {name: npz[name] for name in npz.files}  # a plain np.savez file
            blob = npz[_MANIFEST]
            if blob.dtype != np.uint8 or blob.ndim != 1:
                raise ValueError(f"{path}: not a minnet file (bad manifest)")
            manifest = json.loads(blob.tobytes().decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != "minnet":
                raise ValueError(f"{path}: not a minnet file (manifest format is not 'minnet')")
            version = manifest.get("version")
            if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
                raise ValueError(
                    f"{path}: unsupported minnet file version {version!r} "
                    f"(this minnet reads version {FORMAT_VERSION})"
                )
            arrays = {name: npz[name] for name in npz.files if name != _MANIFEST}
        return _decode(manifest.get("root"), arrays, path)
    except ValueError as e:
        if str(e).startswith(path + ":"):
            raise
        raise ValueError(f"{path}: not a valid minnet file (truncated or corrupt): {e}") from e
    except zipfile.BadZipFile as e:
        raise ValueError(
            f"{path}: not a valid minnet file (truncated or corrupt): {type(e).__name__}: {e}"
        ) from e
    except Exception as e:  # zlib.error, EOFError, KeyError, ...
        raise ValueError(
            f"{path}: not a valid minnet file (truncated or corrupt): {type(e).__name__}: {e}"
        ) from e
