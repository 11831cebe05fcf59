"""IDX reading/writing and the Fashion-MNIST loader, on small files the tests make."""

import gzip
import os

import numpy as np
import pytest
from tests_helpers_fake import fake_idx_folder

from minnet.datasets import FashionMNIST, fashion_mnist, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["x.idx", "x.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((3, 5, 7)) * 50).astype(dtype)
    p = tmp_path / name
    write_idx(p, a)
    assert (p.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    b = read_idx(p)
    assert b.dtype == a.dtype and b.dtype.isnative
    np.testing.assert_array_equal(a, b)
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]


def test_idx_matches_the_published_layout(tmp_path):
    """Header bytes as the MNIST page defines them: 0 0 0x08 ndim, then big-endian sizes."""
    p = tmp_path / "labels"
    write_idx(p, np.array([7, 2, 1], np.uint8))
    assert p.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


def test_idx_rejects_bad_files(tmp_path):
    a = np.arange(60, dtype=np.uint8).reshape(3, 4, 5)
    good = tmp_path / "good"
    write_idx(good, a)
    raw = good.read_bytes()
    cases = {
        "truncated": raw[:-1],
        "header": raw[:6],
        "extra": raw + b"\0",
        "magic": b"PK\x03\x04" + raw[4:],
        "empty": b"",
    }
    for name, content in cases.items():
        p = tmp_path / name
        p.write_bytes(content)
        with pytest.raises(ValueError, match=name if name != "header" else "truncated"):
            read_idx(p)
    bad_gz = tmp_path / "bad.gz"
    bad_gz.write_bytes(gzip.compress(raw)[:-8])
    with pytest.raises(ValueError, match="bad.gz"):
        read_idx(bad_gz)
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(tmp_path / "c", np.zeros(3, np.complex64))


@pytest.mark.parametrize("gz", [True, False])
def test_load_data_from_a_folder(tmp_path, gz):
    arrays = fake_idx_folder(tmp_path / "fm", gz=gz)
    (xtr, ytr), (xte, yte) = fashion_mnist.load_data(tmp_path / "fm")
    np.testing.assert_array_equal(xtr, arrays["train_images"])
    np.testing.assert_array_equal(yte, arrays["test_labels"])
    ds = FashionMNIST(tmp_path / "fm", train=False)
    img, label = ds[2]
    assert len(ds) == 5 and img.shape == (1, 28, 28) and img.dtype == np.float32
    assert label == int(arrays["test_labels"][2])
    np.testing.assert_allclose(img[0], arrays["test_images"][2] / 255.0, rtol=1e-6)
    x, y = ds.arrays()
    assert x.shape == (5, 1, 28, 28) and y.dtype == np.int64 and x.max() <= 1.0


def test_load_data_env_var_and_errors(tmp_path, monkeypatch):
    fake_idx_folder(tmp_path / "fashion-mnist")
    monkeypatch.setenv("MINNET_DATASETS", str(tmp_path))
    assert fashion_mnist.find_dir() == str(tmp_path / "fashion-mnist")
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        fashion_mnist.load_data(tmp_path / "nowhere")
    # mismatched counts
    write_idx(tmp_path / "fashion-mnist" / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="do not match"):
        fashion_mnist.load_data()


@pytest.mark.skipif(
    not os.path.isdir(fashion_mnist.SYSTEM_DIR), reason="dataset-fashion-mnist is not installed"
)
def test_real_fashion_mnist_files():
    (xtr, ytr), (xte, yte) = fashion_mnist.load_data(fashion_mnist.SYSTEM_DIR)
    assert xtr.shape == (60000, 28, 28) and xte.shape == (10000, 28, 28)
    # the published set is balanced: 6,000 training and 1,000 test images per class
    assert np.bincount(ytr).tolist() == [6000] * 10
    assert np.bincount(yte).tolist() == [1000] * 10


@pytest.mark.skipif(
    not os.path.isdir(fashion_mnist.SYSTEM_DIR), reason="dataset-fashion-mnist is not installed"
)
def test_mlp_learns_real_fashion_mnist():
    """A 784-64-10 relu net, Adam, 2 epochs on 12,000 training images: > 78% on 2,000 test
    images (the dataset's benchmark page lists ~84% for logistic regression on all of it)."""
    import minnet
    from minnet import nn
    from minnet.data import DataLoader, TensorDataset

    minnet.manual_seed(0)
    (xtr, ytr), (xte, yte) = fashion_mnist.load_data(fashion_mnist.SYSTEM_DIR)
    x = (xtr[:12000].reshape(-1, 784) / np.float32(255)).astype(np.float32)
    y = ytr[:12000].astype(np.int64)
    loader = DataLoader(
        TensorDataset(minnet.from_numpy(x), minnet.from_numpy(y)), batch_size=128, shuffle=True
    )
    model = nn.Sequential(nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
    opt = minnet.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
    with minnet.no_grad():
        logits = model(
            minnet.from_numpy((xte[:2000].reshape(-1, 784) / np.float32(255)).astype(np.float32))
        )
    acc = float((logits.numpy().argmax(1) == yte[:2000]).mean())
    assert acc > 0.78, acc


def test_idx_header_is_checked_before_the_payload_is_read(tmp_path):
    """A tiny file declaring gigabytes is refused from its header, with Python-int size
    arithmetic (no overflow), and the limit can be raised for genuine big files."""
    import resource
    import struct

    huge = tmp_path / "huge.gz"  # declares 3 x 1024^3 uint8, holds 10 bytes
    huge.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 3 << 30) + b"\0" * 10))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ValueError, match=r"3221225472 bytes, more than max_bytes"):
        read_idx(huge)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB
    over = tmp_path / "over"  # 4 dims of 2^32-1: the product overflows int64
    over.write_bytes(bytes([0, 0, 0x0E, 4]) + struct.pack(">IIII", *[2**32 - 1] * 4))
    with pytest.raises(ValueError, match="more than max_bytes") as e:
        read_idx(over)
    assert "-" not in str(e.value).split("bytes")[0].split(":")[-1]  # no negative size
    with pytest.raises(ValueError, match="truncated: only 18 bytes, expected 3221225480"):
        read_idx(huge, max_bytes=4 << 30)  # allowed now: then it is merely truncated
    a = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    write_idx(tmp_path / "ok.gz", a)
    np.testing.assert_array_equal(read_idx(tmp_path / "ok.gz", max_bytes=96), a)
    with pytest.raises(ValueError, match="max_bytes=95"):
        read_idx(tmp_path / "ok.gz", max_bytes=95)


def test_idx_files_get_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        write_idx(tmp_path / "p", np.zeros(3, np.uint8))
    finally:
        os.umask(umask)
    assert (tmp_path / "p").stat().st_mode & 0o777 == 0o644
    assert [n for n in os.listdir(tmp_path)] == ["p"]


def test_idx_damaged_deflate_data_is_a_value_error(tmp_path):
    """Found by tests/fuzz/test_atheris.py: a gzip header followed by invalid deflate data
    raised zlib.error out of read_idx."""
    p = tmp_path / "bad.gz"
    p.write_bytes(bytes.fromhex("1f8b08000000000002036360e01f8b0800000000000203636065"))
    with pytest.raises(ValueError, match="bad.gz: cannot read"):
        read_idx(p)
