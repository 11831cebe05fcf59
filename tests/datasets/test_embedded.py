"""The embedded Fashion-MNIST subset, the offline fallback of the loaders, and
keras.datasets.mnist's search path: on files the tests make, with no network and (through
MINNET_DATA_NO_SYSTEM and an empty $MINNET_DATASETS) no system data set."""

import os
import stat

import numpy as np
import pytest
from tests_helpers_fake import fake_idx_folder
from tests_helpers_run import run_python

from minnet.datasets import fashion_mnist, make_subset
from minnet.keras.datasets import fashion_mnist as keras_fm
from minnet.keras.datasets import mnist as keras_mnist


@pytest.fixture
def offline(tmp_path, monkeypatch):
    """No system folder, an empty $MINNET_DATASETS, a Keras home with nothing in it."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("MINNET_DATA_NO_SYSTEM", "1")
    monkeypatch.setenv("MINNET_DATASETS", str(empty))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return empty


def test_subset_file_is_small_balanced_real_images():
    assert os.path.getsize(fashion_mnist.SUBSET_FILE) < 3_000_000  # the wheel's budget
    s = fashion_mnist.load_data(subset=True)
    (xtr, ytr), (xte, yte) = s
    assert s.subset is True and s.source == "embedded subset"
    assert xtr.shape == (6500, 28, 28) and xte.shape == (1000, 28, 28)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.uint8
    assert np.bincount(ytr, minlength=10).tolist() == [650] * 10
    assert np.bincount(yte, minlength=10).tolist() == [100] * 10
    # class-interleaved: the first 1,000 training images hold every class 70-130 times
    assert np.bincount(ytr[:1000], minlength=10).min() >= 70
    # real photographs, not noise: mostly dark background, a few hundred distinct images
    assert 0.3 < (xtr[:200] == 0).mean() < 0.8
    assert len({x.tobytes() for x in xtr[:500]}) == 500


@pytest.mark.skipif(
    not os.path.isdir(fashion_mnist.SYSTEM_DIR), reason="dataset-fashion-mnist is not installed"
)
def test_subset_images_are_the_originals():
    import io
    import lzma

    with open(fashion_mnist.SUBSET_FILE, "rb") as f:
        z = np.load(io.BytesIO(lzma.decompress(f.read())), allow_pickle=False)
        itr, ite, xs, ys = (
            z["source_index_train"],
            z["source_index_test"],
            z["x_train"],
            z["y_test"],
        )
    (xtr, _), (_, yte) = fashion_mnist.load_data(subset=False)
    np.testing.assert_array_equal(xs, xtr[itr])
    np.testing.assert_array_equal(ys, yte[ite])


def test_fallback_is_loud_and_marked(offline, capsys):
    s = fashion_mnist.load_data()
    err = capsys.readouterr().err
    assert s.subset and err.count("\n") == 1 and "embedded subset" in err
    assert "MINNET_DATA_NO_SYSTEM" in err and "dataset-fashion-mnist" in err
    (xtr, ytr), _ = keras_fm.load_data()  # keras's loader falls back the same way
    assert xtr.shape == (6500, 28, 28)
    with pytest.raises(FileNotFoundError, match="subset=True"):
        fashion_mnist.load_data(subset=False)
    with pytest.raises(FileNotFoundError):  # an explicit folder never falls back
        fashion_mnist.load_data(offline)
    with pytest.raises(TypeError, match="subset"):
        fashion_mnist.load_data(subset="yes")


def test_no_system_skips_system_folders(monkeypatch):
    monkeypatch.delenv("MINNET_DATASETS", raising=False)
    monkeypatch.setenv("MINNET_DATA_NO_SYSTEM", "1")
    assert fashion_mnist._candidates(None) == []
    monkeypatch.setenv("MINNET_DATA_NO_SYSTEM", "0")
    assert fashion_mnist.SYSTEM_DIR in fashion_mnist._candidates(None)


def test_full_set_preferred_when_found(offline, monkeypatch):
    arrays = fake_idx_folder(offline / "fashion-mnist")
    s = fashion_mnist.load_data()
    assert not s.subset and s.source == str(offline / "fashion-mnist")
    np.testing.assert_array_equal(s[0][0], arrays["train_images"])


def test_offline_in_a_fresh_process(tmp_path):
    """As a user on a machine with no data set: a new interpreter, nothing on the path."""
    env = dict(
        os.environ,
        MINNET_DATA_NO_SYSTEM="1",
        MINNET_DATASETS=str(tmp_path),
        KERAS_HOME=str(tmp_path),
    )
    code = (
        "from minnet.keras.datasets import fashion_mnist as f; s = f.load_data(); "
        "print(s.subset, s[0][0].shape, s[1][0].shape)"
    )
    r = run_python("-c", code, env=env, cwd=tmp_path)
    assert r.stdout.strip() == "True (6500, 28, 28) (1000, 28, 28)"
    assert "using the embedded subset" in r.stderr


def test_damaged_subset_file(tmp_path, monkeypatch):
    bad = tmp_path / "bad.npz.xz"
    bad.write_bytes(b"\xfd7zXZ\x00 not really xz")
    monkeypatch.setattr(fashion_mnist, "SUBSET_FILE", str(bad))
    with pytest.raises(ValueError, match="damaged"):
        fashion_mnist.load_data(subset=True)
    monkeypatch.setattr(fashion_mnist, "SUBSET_FILE", str(tmp_path / "missing.npz.xz"))
    with pytest.raises(FileNotFoundError, match="missing"):
        fashion_mnist.load_data(subset=True)


def test_make_subset_round_trip(tmp_path, monkeypatch):
    fake_idx_folder(tmp_path / "src", n_train=60, n_test=30, balanced=True)
    out = tmp_path / "sub.npz.xz"
    old = os.umask(0o022)
    try:
        a = make_subset.make(
            str(tmp_path / "src"), str(out), per_class_train=4, per_class_test=2, seed=1
        )
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp-")]
    monkeypatch.setattr(fashion_mnist, "SUBSET_FILE", str(out))
    (xtr, ytr), (xte, yte) = fashion_mnist.load_data(subset=True)
    assert xtr.shape == (40, 28, 28) and np.bincount(ytr).tolist() == [4] * 10
    np.testing.assert_array_equal(xtr, a["x_train"])
    with pytest.raises(ValueError, match="class 0 has only"):
        make_subset.make(str(tmp_path / "src"), str(out), per_class_train=100)
    assert (
        make_subset.main(
            ["--source", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.npz.xz")]
        )
        == 1
    )


def test_keras_mnist_search_path(offline, tmp_path, monkeypatch, capsys):
    with pytest.raises(FileNotFoundError, match="fashion_mnist"):
        keras_mnist.load_data()
    # Keras's cache file
    rng = np.random.default_rng(0)
    a = {
        "x_train": rng.integers(0, 256, (8, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 8, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    (tmp_path / "keras" / "datasets").mkdir(parents=True)
    np.savez(tmp_path / "keras" / "datasets" / "mnist.npz", **a)
    monkeypatch.setenv("MINNET_DATA_NO_SYSTEM", "0")
    (x, y), (xt, yt) = keras_mnist.load_data()
    np.testing.assert_array_equal(x, a["x_train"])
    np.testing.assert_array_equal(yt, a["y_test"])
    # $MINNET_DATASETS/mnist with IDX files comes first
    idx = fake_idx_folder(offline / "mnist", n_train=5, n_test=2)
    s = keras_mnist.load_data()
    assert s.source == str(offline / "mnist")
    np.testing.assert_array_equal(s[0][0], idx["train_images"])
    # a damaged npz is a clear error
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(ValueError, match="bad.npz"):
        keras_mnist.load_data(bad)
