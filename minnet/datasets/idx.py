"""The IDX file format of (Fashion-)MNIST: read and write, plain or gzip-compressed.

Layout (big-endian): two zero bytes, a type code, the number of dimensions d, then d uint32
sizes, then the data in C order. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64.
"""

import gzip
import os
import zlib

import numpy as np

from minnet._atomic import atomic_write

_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _TYPES.items()}


def _open(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


# The largest payload read_idx accepts unless told otherwise (full MNIST's training images are
# 47 MB): a small file whose header declares terabytes is refused before anything is allocated.
MAX_BYTES = 1 << 31


def read_idx(path, *, max_bytes=MAX_BYTES):
    """Read an IDX file (optionally gzip-compressed) into a native-endian NumPy array.

    The header is read and checked first; the payload is then read exactly (never more than
    the header declares, and never more than ``max_bytes``: raise it for bigger files).

    Raises:
        ValueError: naming the path, when the file is not IDX, is truncated, has extra bytes
            or declares more than ``max_bytes`` of data.
    """
    path = os.fspath(path)
    try:
        with _open(path) as f:
            return _read_stream(f, path, max_bytes)
    except (OSError, EOFError, zlib.error) as e:  # gzip's errors on a damaged stream
        if isinstance(e, FileNotFoundError):
            raise
        raise ValueError(f"read_idx: {path}: cannot read ({e})") from None


def _read_exactly(f, n):
    parts, got = [], 0
    while got < n:
        chunk = f.read(min(n - got, 1 << 24))
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _read_stream(f, path, max_bytes):
    magic = _read_exactly(f, 4)
    if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _TYPES:
        raise ValueError(f"read_idx: {path} is not an IDX file (bad magic {magic!r})")
    dtype, ndim = _TYPES[magic[2]], magic[3]
    dims = _read_exactly(f, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise ValueError(f"read_idx: {path} is truncated inside its header")
    shape = tuple(int(s) for s in np.frombuffer(dims, ">u4", count=ndim))
    size = dtype.itemsize
    for s in shape:  # Python ints: no overflow
        size *= s
    if size > max_bytes:
        raise ValueError(
            f"read_idx: {path} declares shape {shape} of "
            f"{dtype.newbyteorder('=')}: {size} bytes, more than max_bytes="
            f"{max_bytes} (pass a larger max_bytes if the file is genuine)"
        )
    header = 4 + 4 * ndim
    raw = _read_exactly(f, size)
    if len(raw) < size or f.read(1):
        what = "truncated" if len(raw) < size else "longer than its header says"
        have = header + len(raw) + (0 if len(raw) < size else 1)
        raise ValueError(
            f"read_idx: {path} is {what}: "
            f"{'only ' if len(raw) < size else 'at least '}{have} bytes, "
            f"expected {header + size} for shape {shape} of "
            f"{dtype.newbyteorder('=')}"
        )
    data = np.frombuffer(raw, dtype).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def write_idx(path, array, *, compress=None):
    """Write `array` as an IDX file, atomically (temp file in the same folder, fsync, rename).
    compress: gzip it (default: when the name ends in .gz)."""
    path = os.fspath(path)
    array = np.ascontiguousarray(array)
    code = _CODES.get(array.dtype)
    if code is None:
        raise TypeError(
            f"write_idx: dtype {array.dtype} has no IDX type code; use one of "
            f"{sorted(str(d) for d in _CODES)}"
        )
    if array.ndim > 255:
        raise ValueError(f"write_idx: at most 255 dimensions, got {array.ndim}")
    payload = (
        bytes([0, 0, code, array.ndim])
        + np.asarray(array.shape, ">u4").tobytes()
        + array.astype(_TYPES[code], copy=False).tobytes()
    )
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        payload = gzip.compress(payload, mtime=0)
    with atomic_write(path) as f:
        f.write(payload)
