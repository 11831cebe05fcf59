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
"""
import json
import math
import numbers
import os
import tempfile

import numpy as np

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
            hasattr(obj, "data") and isinstance(getattr(obj, "data", None), np.ndarray)):
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
                raise TypeError(f"minnet.save: dict keys must be str or int, got "
                                f"{type(key).__name__} at '{path or '<root>'}'")
            items.append([key, _encode(value, f"{path}.{key}" if path else str(key), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {kind: [_encode(v, f"{path}.{i}" if path else str(i), arrays)
                       for i, v in enumerate(obj)]}
    raise TypeError(f"minnet.save: cannot save a {type(obj).__name__} at '{path or '<root>'}'"
                    " (only dicts, lists, tuples, arrays/Tensors, numbers, strings, bools, None)")


def save(obj, path):
    """Save ``obj`` (a state dict: nested dicts/lists/tuples of arrays or Tensors, numbers,
    strings, bools and None) to ``path``, atomically. Nothing is pickled.

    Args:
        obj: what to save, e.g. ``model.state_dict()`` or ``optimizer.state_dict()``.
        path (str or os.PathLike): destination file; its name is used as given.

    Examples::

        >>> minnet.save({"model": model.state_dict(), "optim": opt.state_dict()}, "ckpt.mnt")
        >>> ckpt = minnet.load("ckpt.mnt")
        >>> model.load_state_dict(ckpt["model"])
    """
    path = os.fspath(path)
    arrays = {}
    manifest = {"format": "minnet", "version": FORMAT_VERSION, "root": _encode(obj, "", arrays)}
    blob = np.frombuffer(json.dumps(manifest).encode("utf-8"), dtype=np.uint8)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **{_MANIFEST: blob}, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:   # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _decode(node, arrays, path):
    if node is None or isinstance(node, (bool, str, int, float)):
        return node
    if isinstance(node, dict) and len(node) == 1:
        (kind, value), = node.items()
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


def load(path):
    """Load what :func:`save` wrote. Arrays and Tensors come back as NumPy arrays (not
    Tensors; NumPy scalars as 0-d arrays) in the same nesting of dicts (keys keep their int
    or str type), lists and tuples; ``Module.load_state_dict`` and
    ``Optimizer.load_state_dict`` accept them directly.

    Args:
        path (str or os.PathLike): a file written by :func:`minnet.save`.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is truncated, corrupt, not a minnet file, or of a newer format
            version; the message names the path.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"minnet.load: no such file: '{path}'")
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _MANIFEST not in npz.files:
                raise ValueError(f"{path}: not a minnet file (no '{_MANIFEST}' manifest)")
            blob = npz[_MANIFEST]
            if blob.dtype != np.uint8 or blob.ndim != 1:
                raise ValueError(f"{path}: not a minnet file (bad manifest)")
            manifest = json.loads(blob.tobytes().decode("utf-8"))
            if not isinstance(manifest, dict) or manifest.get("format") != "minnet":
                raise ValueError(f"{path}: not a minnet file (manifest format is not 'minnet')")
            version = manifest.get("version")
            if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
                raise ValueError(f"{path}: unsupported minnet file version {version!r} "
                                 f"(this minnet reads version {FORMAT_VERSION})")
            arrays = {name: npz[name] for name in npz.files if name != _MANIFEST}
        return _decode(manifest.get("root"), arrays, path)
    except ValueError as e:
        if str(e).startswith(path + ":"):
            raise
        raise ValueError(f"{path}: not a valid minnet file (truncated or corrupt): {e}") from e
    except Exception as e:   # zipfile.BadZipFile, zlib.error, EOFError, KeyError, ...
        raise ValueError(f"{path}: not a valid minnet file (truncated or corrupt): "
                         f"{type(e).__name__}: {e}") from e
