"""minnet.vision.datasets on small files the tests write (torchvision's root/<Name>/raw layout
and the other places), download=True without a network, and the DataLoader batch path."""

import gzip
import hashlib
import os

import numpy as np
import pytest
from tests_helpers_fake import fake_idx_folder

import minnet
from minnet.data import DataLoader, Subset, random_split
from minnet.datasets import fashion_mnist, write_idx
from minnet.vision import datasets
from minnet.vision import transforms as T
from minnet.vision.datasets import _download

FILES = fashion_mnist.FILES


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    """No real data set leaks in: no $MINNET_DATASETS, no system folders, no ~/.keras."""
    monkeypatch.delenv("MINNET_DATASETS", raising=False)
    monkeypatch.setenv("MINNET_DATA_NO_SYSTEM", "1")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST, datasets.KMNIST])
def test_torchvision_layout_and_attributes(tmp_path, cls):
    a = fake_idx_folder(tmp_path / cls.__name__ / "raw")
    ds = cls(tmp_path, train=True)
    assert len(ds) == 12 and ds.source == str(tmp_path / cls.__name__ / "raw")
    assert ds.data.shape == (12, 28, 28) and ds.data.dtype == np.uint8
    assert ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data.data, a["train_images"])
    img, target = ds[3]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    assert type(target) is int and target == a["train_labels"][3]
    assert len(ds.classes) == 10 and ds.class_to_idx[ds.classes[4]] == 4
    test = cls(str(tmp_path), train=False)
    np.testing.assert_array_equal(test.targets.data, a["test_labels"])
    assert "Split: Test" in repr(test)


def test_fashion_classes_are_torchvisions():
    assert datasets.FashionMNIST.classes[0] == "T-shirt/top"
    assert datasets.FashionMNIST.classes[-1] == "Ankle boot"
    assert datasets.MNIST.classes[7] == "7 - seven"
    assert datasets.KMNIST.classes[:3] == ["o", "ki", "su"]


def test_transforms_are_applied(tmp_path):
    a = fake_idx_folder(tmp_path / "MNIST", gz=False)  # root/<Name>/ directly, not gzipped
    t = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    ds = datasets.MNIST(tmp_path, transform=t, target_transform=lambda y: y + 100)
    x, y = ds[0]
    assert isinstance(x, minnet.Tensor) and x.shape == (1, 28, 28)
    np.testing.assert_allclose(x.data[0], a["train_images"][0] / 127.5 - 1, atol=1e-6)
    assert y == a["train_labels"][0] + 100
    with pytest.raises(TypeError, match="transform should be callable"):
        datasets.MNIST(tmp_path, transform="ToTensor")


def test_assigning_data_and_targets_filters(tmp_path):
    fake_idx_folder(tmp_path / "MNIST" / "raw")
    ds = datasets.MNIST(tmp_path)
    keep = (ds.targets.data % 2) == 0
    ds.data, ds.targets = ds.data[keep], ds.targets[keep]
    assert len(ds) == int(keep.sum())
    assert all(ds[i][1] % 2 == 0 for i in range(len(ds)))


def test_search_order_and_env_folder(tmp_path, monkeypatch):
    env = tmp_path / "env"
    fake_idx_folder(env / "fashion-mnist", n_train=7, seed=2)
    fake_idx_folder(env / "kmnist", n_train=8, seed=3)
    monkeypatch.setenv("MINNET_DATASETS", str(env))
    assert len(datasets.FashionMNIST(tmp_path / "empty")) == 7
    assert len(datasets.KMNIST(tmp_path / "empty")) == 8
    fake_idx_folder(tmp_path / "root" / "FashionMNIST" / "raw", n_train=9)  # root comes first
    assert len(datasets.FashionMNIST(tmp_path / "root")) == 9


def test_system_folders_and_no_system(tmp_path, monkeypatch):
    fake_idx_folder(tmp_path / "debian", n_train=6)
    monkeypatch.setattr(fashion_mnist, "SYSTEM_DIR", str(tmp_path / "debian"))
    monkeypatch.delenv("MINNET_DATA_NO_SYSTEM")
    ds = datasets.FashionMNIST(tmp_path / "empty")
    assert len(ds) == 6 and ds.source == str(tmp_path / "debian") and not ds.subset


def test_mnist_reads_keras_npz(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    home = tmp_path / "keras-home" / "datasets"
    home.mkdir(parents=True)
    x = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    np.savez(
        home / "mnist.npz",
        x_train=x,
        y_train=np.arange(4, dtype=np.uint8),
        x_test=x[:2],
        y_test=np.arange(2, dtype=np.uint8),
    )
    monkeypatch.delenv("MINNET_DATA_NO_SYSTEM")
    ds = datasets.MNIST(tmp_path / "empty")
    assert len(ds) == 4 and ds.source.endswith("mnist.npz")
    np.testing.assert_array_equal(ds[2][0], x[2])


def test_fashion_falls_back_to_the_embedded_subset(tmp_path, capfd):
    ds = datasets.FashionMNIST(tmp_path / "empty", train=False)
    assert ds.subset and ds.source == "embedded subset" and len(ds) == 1000
    assert "embedded subset" in capfd.readouterr().err
    assert sorted(np.bincount(ds.targets.data)) == [100] * 10


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.KMNIST])
def test_not_found_says_where_to_put_the_files(tmp_path, cls):
    with pytest.raises(RuntimeError) as e:
        cls(tmp_path / "data")
    msg = str(e.value)
    assert "\n" not in msg and "dataset not found" in msg and "download=True downloads" in msg
    assert os.path.join(str(tmp_path / "data"), cls.__name__, "raw") in msg
    assert f"$MINNET_DATASETS/{cls.env_name}" in msg and "train-images-idx3-ubyte" in msg


def test_download_true_without_network(tmp_path, monkeypatch):
    """A mirror that cannot be reached (a file:// URL of a missing folder stands for no
    network): one line saying it could not be downloaded and where to put the files."""
    monkeypatch.setattr(datasets.MNIST, "mirrors", [(tmp_path / "nowhere").as_uri() + "/"])
    with pytest.raises(RuntimeError) as e:
        datasets.MNIST(tmp_path / "data", download=True)
    msg = str(e.value)
    assert (
        "\n" not in msg and "could not be downloaded" in msg and "without a network, put " in msg
    )
    assert "train-images-idx3-ubyte.gz: file://" in msg
    assert not [f for f in os.listdir(tmp_path / "data" / "MNIST" / "raw")]  # nothing left
    # FashionMNIST says so too, then uses the embedded subset
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [(tmp_path / "nowhere").as_uri() + "/"])
    ds = datasets.FashionMNIST(tmp_path / "data", download=True)
    assert ds.subset and len(ds) == 6500


def _mirror(tmp_path):
    """A local mirror with gzipped IDX files, and torchvision-style (name, md5) resources."""
    a = fake_idx_folder(tmp_path / "mirror", n_train=10, n_test=4)
    resources = [
        (
            stem + ".gz",
            hashlib.md5((tmp_path / "mirror" / (stem + ".gz")).read_bytes()).hexdigest(),
        )
        for stem in FILES.values()
    ]
    return a, resources


def test_download_from_a_mirror_checks_md5_and_is_atomic(tmp_path, monkeypatch):
    a, resources = _mirror(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    for name, _ in resources:  # a mirror serving corrupt files first
        (bad / name).write_bytes(gzip.compress(b"not the data"))
    monkeypatch.setattr(datasets.KMNIST, "resources", resources)
    monkeypatch.setattr(
        datasets.KMNIST, "mirrors", [bad.as_uri() + "/", (tmp_path / "mirror").as_uri() + "/"]
    )
    ds = datasets.KMNIST(tmp_path / "data", train=False, download=True)
    raw = tmp_path / "data" / "KMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(name for name, _ in resources)  # no temp files
    np.testing.assert_array_equal(ds.data.data, a["test_images"])
    assert ds.source == str(raw)
    # found locally now: download=True does not fetch again
    monkeypatch.setattr(datasets.KMNIST, "mirrors", [])
    assert len(datasets.KMNIST(tmp_path / "data", download=True)) == 10


def test_download_helper(tmp_path):
    src = tmp_path / "file.bin"
    src.write_bytes(b"minnet" * 1000)
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    _download(src.as_uri(), tmp_path / "out" / "copy.bin", md5)
    assert (tmp_path / "out" / "copy.bin").read_bytes() == src.read_bytes()
    with pytest.raises(RuntimeError, match="md5 .* is not the expected 0{32}"):
        _download(src.as_uri(), tmp_path / "out" / "bad.bin", "0" * 32)
    assert os.listdir(tmp_path / "out") == ["copy.bin"]
    with pytest.raises(OSError):
        _download((tmp_path / "missing").as_uri(), tmp_path / "out" / "x.bin")


def test_corrupt_files_are_named(tmp_path):
    fake_idx_folder(tmp_path / "MNIST" / "raw")
    p = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz"
    write_idx(p, np.full(12, 11, np.uint8))
    with pytest.raises(ValueError, match="labels outside"):
        datasets.MNIST(tmp_path)
    p.write_bytes(b"\0\0\x08\x01garbage")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz"):
        datasets.MNIST(tmp_path)


def test_missing_datasets_say_so():
    with pytest.raises(AttributeError, match="CIFAR100.*available: MNIST"):
        datasets.CIFAR100


# ------------------------------------------------------------------ CIFAR-10 (binary)


def fake_cifar(folder, per_file=3, seed=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels = rng.integers(0, 10, per_file, dtype=np.uint8)
        planes = rng.integers(0, 256, (per_file, 3, 32, 32), dtype=np.uint8)
        records = np.concatenate([labels[:, None], planes.reshape(per_file, -1)], axis=1)
        (folder / name).write_bytes(records.tobytes())
        out[name] = (labels, planes)
    return out


def test_cifar10_binary_version(tmp_path):
    batches = fake_cifar(tmp_path / "cifar-10-batches-bin")
    (tmp_path / "cifar-10-batches-bin" / "batches.meta.txt").write_text(
        "\n".join(f"class{i}" for i in range(10)) + "\n\n"
    )
    ds = datasets.CIFAR10(tmp_path, train=True)
    assert len(ds) == 15 and ds.data.shape == (15, 32, 32, 3) and ds.data.dtype == np.uint8
    labels, planes = batches["data_batch_2.bin"]
    img, target = ds[4]  # the second record of the second file
    np.testing.assert_array_equal(img[:, :, 0], planes[1, 0])  # red plane -> channel 0
    np.testing.assert_array_equal(img[:, :, 2], planes[1, 2])
    assert type(target) is int and target == labels[1] and isinstance(ds.targets, list)
    assert ds.classes[3] == "class3"
    test = datasets.CIFAR10(tmp_path, train=False, transform=T.ToTensor())
    x, _ = test[0]
    assert x.shape == (3, 32, 32)
    np.testing.assert_allclose(x.data[1], batches["test_batch.bin"][1][0, 1] / 255.0, atol=1e-7)
    xb, yb = next(iter(DataLoader(test, batch_size=3)))
    np.testing.assert_array_equal(xb.data[0], x.data)
    np.testing.assert_array_equal(yb.data, batches["test_batch.bin"][0])


def test_cifar10_errors(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    with pytest.raises(RuntimeError, match="pickles.*binary version"):
        datasets.CIFAR10(tmp_path)
    with pytest.raises(RuntimeError, match="not found.*cifar-10-binary.tar.gz"):
        datasets.CIFAR10(tmp_path / "other", download=True)
    fake_cifar(tmp_path / "cifar-10-batches-bin")
    with open(tmp_path / "cifar-10-batches-bin" / "test_batch.bin", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ValueError, match="test_batch.bin is not a CIFAR-10 binary batch"):
        datasets.CIFAR10(tmp_path, train=False)


# ------------------------------------------------------------------ with the DataLoader


def _per_sample_batches(ds, order, bs):
    for s in range(0, len(order), bs):
        items = [ds[int(i)] for i in order[s : s + bs]]
        yield (np.stack([x.data for x, _ in items]), np.array([y for _, y in items]))


def test_loader_batches_equal_per_sample_ones(tmp_path):
    fake_idx_folder(tmp_path / "FashionMNIST" / "raw", n_train=23)
    aug = [
        T.RandomCrop(28, padding=2),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        T.Normalize((0.2860,), (0.3530,)),
    ]
    fast = datasets.FashionMNIST(tmp_path, transform=T.Compose(aug))
    # the same transforms behind a Lambda are per-sample only: the reference path
    slow = datasets.FashionMNIST(tmp_path, transform=T.Compose([T.Lambda(lambda im: im)] + aug))
    runs = []
    for ds in (fast, slow):
        minnet.manual_seed(7)
        runs.append([(x.data, y.data) for x, y in DataLoader(ds, batch_size=5, shuffle=True)])
    assert len(runs[0]) == 5
    for (xf, yf), (xs, ys) in zip(*runs):
        assert xf.dtype == np.float32 and xf.shape[1:] == (1, 28, 28) and yf.dtype == np.int64
        np.testing.assert_array_equal(xf, xs)
        np.testing.assert_array_equal(yf, ys)
    # and those are the per-sample samples, collated by hand, in the loader's order
    minnet.manual_seed(7)
    order = minnet.random.get_generator().permutation(23)
    for (xf, yf), (xh, yh) in zip(runs[0], _per_sample_batches(slow, order, 5)):
        np.testing.assert_array_equal(yf, yh)


def test_getitems_protocol(tmp_path):
    a = fake_idx_folder(tmp_path / "MNIST" / "raw")
    ds = datasets.MNIST(tmp_path, transform=T.ToTensor())
    batch = ds.__getitems__([4, 0, 4])
    assert len(batch) == 3
    x4, y4 = batch[0]  # as a sequence: the samples one by one
    np.testing.assert_array_equal(x4.data, ds[4][0].data)
    assert y4 == a["train_labels"][4]
    seen = []
    loader = DataLoader(
        ds,
        batch_size=4,
        collate_fn=lambda samples: seen.append([y for _, y in samples]) or len(samples),
    )
    assert list(loader) == [4, 4, 4]
    assert seen[0] == list(a["train_labels"][:4])
    # no transform: the uint8 images themselves, as default_collate stacks them
    raw = datasets.MNIST(tmp_path)
    xb, yb = next(iter(DataLoader(raw, batch_size=6)))
    assert xb.dtype == np.uint8 and xb.shape == (6, 28, 28)
    np.testing.assert_array_equal(xb.data, a["train_images"][:6])


def test_subset_uses_the_batch_path(tmp_path, monkeypatch):
    fake_idx_folder(tmp_path / "MNIST" / "raw", n_train=20)
    ds = datasets.MNIST(tmp_path, transform=T.Compose([T.ToTensor(), T.Normalize((0.5,), (1,))]))
    calls = []
    original = datasets.MNIST.__getitems__
    monkeypatch.setattr(
        datasets.MNIST,
        "__getitems__",
        lambda self, idx: calls.append(list(idx)) or original(self, idx),
    )
    train, val = random_split(ds, [15, 5], generator=np.random.default_rng(0))
    xb, yb = next(iter(DataLoader(val, batch_size=5)))
    assert calls == [[val.indices[i] for i in range(5)]]
    np.testing.assert_array_equal(xb.data, np.stack([ds[i][0].data for i in val.indices]))
    # a Subset of a dataset without __getitems__: the plain list of samples
    plain = minnet.data.TensorDataset(np.arange(6.0))
    samples = Subset(plain, [5, 1]).__getitems__([1, 0])
    assert isinstance(samples, list) and [s[0].item() for s in samples] == [1.0, 5.0]


def test_loader_with_two_workers(tmp_path):
    """The issue's course-code shape: a torchvision-style dataset, DataLoader(num_workers=2)."""
    fake_idx_folder(tmp_path / "FashionMNIST" / "raw", n_train=30)
    t = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    ds = datasets.FashionMNIST(tmp_path, train=True, download=True, transform=t)
    one = [(x.data, y.data) for x, y in DataLoader(ds, batch_size=8)]
    two = [(x.data, y.data) for x, y in DataLoader(ds, batch_size=8, num_workers=2)]
    assert len(two) == 4
    for (x1, y1), (x2, y2) in zip(one, two):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
