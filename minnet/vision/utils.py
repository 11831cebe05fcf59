"""torchvision.utils' make_grid and save_image (PNG written with zlib: no extra dependency)."""

import math
import numbers
import os
import struct
import zlib

import numpy as np

from minnet._atomic import atomic_write
from minnet.tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _array(x, who):
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, np.ndarray):
        return x
    raise TypeError(f"{who}: tensor or list of tensors expected, got {type(x).__name__}")


def make_grid(
    tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0
):
    """Tile a batch of images into one image, as ``torchvision.utils.make_grid``.

    Args:
        tensor (Tensor or list of Tensors): (B, C, H, W), one image (C, H, W) or (H, W), or a
            list of same-sized images. One-channel images become three (grey RGB).
        nrow (int): images per row. Default: 8.
        padding (int): pixels between and around the images. Default: 2.
        normalize (bool): shift to [0, 1] by ``value_range`` (default: the min and max).
        value_range (tuple, optional): (low, high) used by ``normalize``; values are
            clamped to it.
        scale_each (bool): with ``normalize``, each image by its own min and max.
        pad_value (float): the padding's value. Default: 0.

    Returns:
        Tensor (C, (H + padding) * rows + padding, (W + padding) * min(nrow, B) + padding), or
        the single image itself when B is 1.
    """
    if isinstance(tensor, (list, tuple)):
        x = np.stack([_array(t, "make_grid") for t in tensor])
    else:
        x = _array(tensor, "make_grid")
    for name, v, low, what in (
        ("nrow", nrow, 1, "positive"),
        ("padding", padding, 0, "non-negative"),
    ):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
            raise ValueError(f"make_grid: {name} should be a {what} int, got {v!r}")
    if x.ndim == 2:
        x = x[None]
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(
            f"make_grid: expected images (B, C, H, W), (C, H, W) or (H, W), got shape {x.shape}"
        )
    if x.shape[1] == 1:
        x = np.concatenate([x, x, x], axis=1)
    if normalize:
        if value_range is not None and not (
            isinstance(value_range, tuple) and len(value_range) == 2
        ):
            raise TypeError("make_grid: value_range has to be a tuple (min, max) if specified")
        x = x.astype(np.float32) if x.dtype.kind != "f" else x.copy()
        parts = x if scale_each else x[None]
        for img in parts:  # each a view: normalised in place
            low, high = value_range if value_range is not None else (img.min(), img.max())
            np.clip(img, low, high, out=img)
            img -= low
            img /= max(high - low, 1e-5)
    if len(x) == 1:
        return Tensor(x[0])
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((c, cell_h * rows + padding, cell_w * cols + padding), pad_value, x.dtype)
    for k in range(n):
        r, q = divmod(k, cols)
        top, left = r * cell_h + padding, q * cell_w + padding
        grid[:, top : top + h, left : left + w] = x[k]
    return Tensor(grid)


def _png(pixels):
    """The bytes of a PNG file of a uint8 image (H, W) or (H, W, C), C in 1 to 4: the
    signature, IHDR, one zlib-compressed IDAT (each row prefixed by filter type 0) and IEND,
    each chunk with its CRC, as the PNG specification lays them out."""
    h, w = pixels.shape[:2]
    channels = 1 if pixels.ndim == 2 else pixels.shape[2]
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]  # grey, grey+alpha, RGB, RGBA
    rows = np.ascontiguousarray(pixels).reshape(h, w * channels)
    raw = np.hstack([np.zeros((h, 1), np.uint8), rows]).tobytes()

    def chunk(tag, data):
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )


def save_image(tensor, fp, format=None, **kwargs):
    """Save an image or a batch of images (tiled by :func:`make_grid`, whose arguments
    ``kwargs`` are) as a PNG file, as ``torchvision.utils.save_image``: values in [0, 1]
    become ``int(v * 255 + 0.5)`` clamped to [0, 255].

    Args:
        tensor (Tensor or list of Tensors): what :func:`make_grid` takes.
        fp (str, path or binary file object): where to write. A path is written atomically
            (a temporary file in the same folder, then renamed).
        format (str, optional): only ``'png'`` (the default, and what a path must end in).
    """
    name = fp if isinstance(fp, (str, os.PathLike)) else None
    ext = os.path.splitext(os.fspath(name))[1].lower().lstrip(".") if name is not None else ""
    fmt = (format or ext or "png").lower()
    if fmt != "png":
        raise ValueError(
            f"save_image: only PNG files are written, got format {fmt!r}; use a "
            f".png name (or pip install pillow and save with PIL)"
        )
    grid = make_grid(tensor, **kwargs).data
    if grid.ndim == 2:
        grid = grid[None]
    if grid.shape[0] > 4:
        raise ValueError(f"save_image: {grid.shape[0]} channels cannot be a PNG (1 to 4)")
    pixels = np.clip(grid.astype(np.float64) * 255 + 0.5, 0, 255).astype(np.uint8)
    data = _png(
        pixels.transpose(1, 2, 0)[:, :, 0] if grid.shape[0] == 1 else pixels.transpose(1, 2, 0)
    )
    if name is None:
        if not hasattr(fp, "write"):
            raise TypeError(
                f"save_image: fp should be a file name or a binary file object, "
                f"got {type(fp).__name__}"
            )
        fp.write(data)
        return
    with atomic_write(os.fspath(name)) as f:
        f.write(data)
