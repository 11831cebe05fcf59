"""make_grid against torchvision's documented layout, and save_image's PNG (checked byte by
byte against the PNG specification, and decoded by Pillow when it is installed)."""

import io
import os
import struct
import zlib

import numpy as np
import pytest

import minnet
from minnet.vision.utils import make_grid, save_image


def _batch(n=10, c=1, h=5, w=6, seed=0):
    return minnet.Tensor(np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32))


def test_make_grid_layout():
    b = _batch()
    g = make_grid(b, nrow=3, padding=1, pad_value=0.5)
    # ceil(10 / 3) = 4 rows of 3, each cell (5 + 1) x (6 + 1), plus the last padding
    assert isinstance(g, minnet.Tensor) and g.shape == (3, 4 * 6 + 1, 3 * 7 + 1)
    k, r, q = 7, 2, 1  # image 7 sits in row 2, column 1
    np.testing.assert_array_equal(
        g.data[:, 1 + r * 6 : 1 + r * 6 + 5, 1 + q * 7 : 1 + q * 7 + 6],
        np.repeat(b.data[k], 3, axis=0),
    )  # grey -> 3 channels
    assert (g.data[:, 0, :] == 0.5).all() and (g.data[:, :, 0] == 0.5).all()
    assert (g.data[:, 1 + 3 * 6 :, 1 + 7 :] == 0.5).all()  # empty cells: padding
    assert make_grid(b).shape == (3, 2 * 7 + 2, 8 * 8 + 2)  # defaults: nrow 8, pad 2


def test_make_grid_inputs():
    b = _batch(n=4, c=3)
    assert make_grid([b[i] for i in range(4)], nrow=2).shape == make_grid(b, nrow=2).shape
    one = make_grid(b[:1])
    np.testing.assert_array_equal(one.data, b.data[0])  # a single image
    assert make_grid(minnet.Tensor(np.zeros((5, 6), np.float32))).shape == (3, 5, 6)
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid("images")
    with pytest.raises(ValueError, match="nrow should be a positive int"):
        make_grid(b, nrow=0)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(b, normalize=True, value_range=[0, 1])


def test_make_grid_normalize():
    b = minnet.Tensor(np.array([[[[-2.0, 0.0]]], [[[1.0, 2.0]]]], np.float32))
    g = make_grid(b, padding=0, normalize=True).data[0]
    np.testing.assert_allclose(g[0], [0, 0.5, 0.75, 1])  # one min/max for all
    g = make_grid(b, padding=0, normalize=True, scale_each=True).data[0]
    np.testing.assert_allclose(g[0], [0, 1, 0, 1])  # each its own
    g = make_grid(b, padding=0, normalize=True, value_range=(0, 1)).data[0]
    np.testing.assert_allclose(g[0], [0, 0, 1, 1])  # clamped to the range
    assert b.data.min() == -2.0  # input untouched


def _chunks(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body), tag
        out.append((tag, body))
        pos += 12 + length
    return out


def test_save_image_writes_a_valid_png(tmp_path):
    b = minnet.Tensor(np.array([[[[0.0, 0.5, 1.0], [0.2, 1.7, -1.0]]]], np.float32))
    path = tmp_path / "one.png"
    save_image(b, path)
    chunks = _chunks(path.read_bytes())
    assert [t for t, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    w, h, depth, colour, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (w, h, depth, colour, comp, filt, interlace) == (3, 2, 8, 2, 0, 0, 0)  # 8-bit RGB
    raw = np.frombuffer(zlib.decompress(chunks[1][1]), np.uint8).reshape(2, 1 + 3 * 3)
    assert (raw[:, 0] == 0).all()  # filter type None
    # torchvision: int(v * 255 + 0.5) clamped to [0, 255]; grey replicated to R, G, B
    np.testing.assert_array_equal(raw[:, 1::3], [[0, 128, 255], [51, 255, 0]])
    np.testing.assert_array_equal(raw[:, 1::3], raw[:, 2::3])
    assert os.listdir(tmp_path) == ["one.png"]  # no temporary file left


def test_save_image_grid_decodes_with_pillow(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    b = _batch(n=6, c=3, seed=3)
    buf = io.BytesIO()
    save_image(b, buf, nrow=3, padding=1)
    pixels = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
    grid = make_grid(b, nrow=3, padding=1).data
    assert pixels.shape == (grid.shape[1], grid.shape[2], 3)
    np.testing.assert_array_equal(
        pixels, np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    )


def test_save_image_bad_input(tmp_path):
    with pytest.raises(ValueError, match="only PNG"):
        save_image(_batch(), tmp_path / "x.jpg")
    with pytest.raises(TypeError, match="file name or a binary file object"):
        save_image(_batch(), 3)
    assert os.listdir(tmp_path) == []
