"""torchvision.datasets' MNIST, FashionMNIST, KMNIST and CIFAR10, from local files.

Signature and attributes are torchvision's: ``(root, train=True, transform=None,
target_transform=None, download=False)``, ``data``, ``targets``, ``classes``,
``class_to_idx``; item ``i`` is ``(transform(img), target_transform(target))`` with the target
an int. One difference: the untransformed ``img`` is the uint8 NumPy array (H, W) or
(H, W, 3), what ``np.asarray`` of torchvision's PIL Image gives, not a PIL Image (so Pillow is
not needed); every transform in :mod:`minnet.vision.transforms` takes either.

Where the files are looked for, in order (the MNIST family: the four IDX files of
``FILES``, plain or .gz; a split needs its two):

1. ``root/<Name>/raw/`` (torchvision's layout; ``<Name>`` is MNIST, FashionMNIST, KMNIST),
   then ``root/<Name>/``;
2. ``$MINNET_DATASETS/<mnist | fashion-mnist | kmnist>``;
3. MNIST: Keras's ``~/.keras/datasets/mnist.npz`` and ``/usr/share/datasets/mnist``;
   FashionMNIST: ``~/.keras/datasets/fashion-mnist`` and Debian's
   ``/usr/share/datasets/fashion-mnist`` (``apt-get install dataset-fashion-mnist``); both
   skipped when ``MINNET_DATA_NO_SYSTEM=1``;
4. FashionMNIST only: the embedded 6,500/1,000-image subset, with a line on stderr
   (``ds.subset`` is then True, and ``ds.source`` says where the images came from).

``download=True`` is accepted: when nothing is found it downloads torchvision's files from
torchvision's mirrors into ``root/<Name>/raw`` (md5-checked, written to a temporary file and
renamed, so a broken download leaves nothing behind). Without a network that fails and the
error says where to put the files; a FashionMNIST falls back to the embedded subset instead.

CIFAR10 reads the *binary* version (``cifar-10-batches-bin/*.bin``, in ``root`` or
``$MINNET_DATASETS``). torchvision's python version is pickles, which minnet never loads
(unpickling a file can run any code); CIFAR10 is never downloaded here.
"""

import hashlib
import os
import sys

import numpy as np

from minnet._atomic import atomic_write
from minnet.data import Dataset
from minnet.data.dataset import PreCollated
from minnet.datasets import fashion_mnist
from minnet.datasets.fashion_mnist import FILES, _find
from minnet.datasets.idx import read_idx
from minnet.tensor import Tensor
from minnet.vision.transforms import batch_transform

__all__ = ["VisionDataset", "MNIST", "FashionMNIST", "KMNIST", "CIFAR10"]


def _as_array(x):
    return x.data if isinstance(x, Tensor) else np.asarray(x)


class VisionDataset(Dataset):
    """The base of the datasets here (``torchvision.datasets.VisionDataset``): holds ``root``,
    ``transform`` and ``target_transform``; subclasses give ``_images()`` (uint8, N first)
    and ``_labels(idx)``.

    ``__getitems__(indices)`` is the DataLoader's batch fast path (PyTorch's protocol:
    ``DataLoader`` calls it, when a dataset has it, instead of ``dataset[i]`` for each
    index): when the transform is vectorisable (see :mod:`minnet.vision.transforms`) and there
    is no ``target_transform``, the batch's images are taken with one fancy index and
    transformed together, and what comes back is already collated; else it is the list of
    samples.
    """

    def __init__(self, root, transform=None, target_transform=None):
        if isinstance(root, str):
            root = os.path.expanduser(root)
        elif root is not None and not isinstance(root, os.PathLike):
            raise TypeError(
                f"{type(self).__name__}: root should be a folder name (str or "
                f"path), got {type(root).__name__}"
            )
        for name, fn in (("transform", transform), ("target_transform", target_transform)):
            if fn is not None and not callable(fn):
                raise TypeError(
                    f"{type(self).__name__}: {name} should be callable or None, "
                    f"got {type(fn).__name__}"
                )
        self.root = root
        self.transform, self.target_transform = transform, target_transform

    def __len__(self):
        return len(self._images())

    def __getitem__(self, index):
        img, target = self._images()[index], int(self._labels(index))
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getitems__(self, indices):
        apply = None if self.target_transform is not None else batch_transform(self.transform)
        if apply is None:
            return [self[i] for i in indices]
        idx = np.asarray(indices, dtype=np.intp)
        x, is_tensor = apply(self._images()[idx])
        y = np.asarray(self._labels(idx), dtype=np.int64)
        # a custom collate_fn gets the samples one by one, as dataset[i] gives them
        return PreCollated(
            (Tensor(x), Tensor(y)),
            len(idx),
            lambda i: (Tensor(x[i]) if is_tensor else x[i], int(y[i])),
        )

    @property
    def class_to_idx(self):
        return {c: i for i, c in enumerate(self.classes)}

    def extra_repr(self):
        return ""

    def __repr__(self):
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transform is not None:
            body += ("Transform: " + repr(self.transform)).splitlines()
        if self.target_transform is not None:
            body.append(f"Target transform: {self.target_transform!r}")
        return "\n".join([f"Dataset {type(self).__name__}"] + ["    " + b for b in body])


# ------------------------------------------------------------------ downloading


def _download_errors():
    """What a failed download raises (evaluated only then: http.client is imported lazily)."""
    import http.client

    return (OSError, RuntimeError, http.client.HTTPException)


def _download(url, path, md5=None, timeout=30):
    """Fetch ``url`` to ``path``, checked against ``md5``: written to a temporary file in the
    same folder and renamed only when complete and correct, so an interrupted or corrupt
    download never takes the final name. Raises RuntimeError on a checksum mismatch, OSError
    (urllib's URLError) when the URL cannot be read."""
    import urllib.request  # here: only a download needs it

    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    digest = hashlib.md5(usedforsecurity=False)
    with atomic_write(path) as f, urllib.request.urlopen(url, timeout=timeout) as r:
        while chunk := r.read(1 << 20):
            digest.update(chunk)
            f.write(chunk)
        if md5 is not None and digest.hexdigest() != md5:
            raise RuntimeError(
                f"{url}: md5 {digest.hexdigest()} is not the expected {md5}; the file was not kept"
            )


# ------------------------------------------------------------------ the MNIST family


class MNIST(VisionDataset):
    """`MNIST <https://yann.lecun.com/exdb/mnist/>`_ handwritten digits (torchvision's
    ``datasets.MNIST``): 60,000 training and 10,000 test images, uint8 28 x 28.

    Args:
        root (str or path): the folder holding ``MNIST/raw/`` (see the module docstring for
            the other places looked at).
        train (bool): the training split, else the test split. Default: True.
        transform (callable, optional): applied to each uint8 (28, 28) image array.
        target_transform (callable, optional): applied to each int label.
        download (bool): download torchvision's files into ``root/MNIST/raw`` when they are
            found nowhere (needs a network). Default: False.

    Attributes:
        data (Tensor): uint8 (N, 28, 28), ``targets`` (Tensor): int64 (N,); assigning
            either (e.g. filtered copies) changes what the dataset serves.
        classes, class_to_idx, source (str): the folder the images came from.

    Examples::

        >>> from minnet.vision import datasets, transforms
        >>> t = transforms.Compose([transforms.ToTensor(),
        ...                         transforms.Normalize((0.1307,), (0.3081,))])
        >>> train = datasets.MNIST("data", train=True, download=True, transform=t)
        >>> loader = minnet.data.DataLoader(train, batch_size=64, shuffle=True)
    """

    # torchvision 0.28's mirrors, file names and md5 sums (torchvision/datasets/mnist.py)
    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    classes = [
        "0 - zero",
        "1 - one",
        "2 - two",
        "3 - three",
        "4 - four",
        "5 - five",
        "6 - six",
        "7 - seven",
        "8 - eight",
        "9 - nine",
    ]
    env_name = "mnist"  # the folder under $MINNET_DATASETS
    hint = "or Keras's mnist.npz in ~/.keras/datasets/"  # the other places, for errors

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        self.subset = False
        found = self._find_local()
        failure = None
        if found is None and download:
            try:
                found = self._load_folder(self.download())
            except _download_errors() as e:
                failure = str(e).splitlines()[0] if str(e) else type(e).__name__
        if found is None:
            found = self._not_found(download, failure)
        self._images_, self._labels_, self.source = found

    # data and targets are Tensors over the arrays, as torchvision's
    @property
    def data(self):
        return Tensor(self._images_)

    @data.setter
    def data(self, value):
        self._images_ = _as_array(value)

    @property
    def targets(self):
        return Tensor(self._labels_)

    @targets.setter
    def targets(self, value):
        self._labels_ = _as_array(value).astype(np.int64, copy=False)

    def _images(self):
        return self._images_

    def _labels(self, idx):
        return self._labels_[idx]

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _folders(self):
        """The places to look, in order (folders, or .npz files)."""
        out = []
        if self.root is not None:
            out += [self.raw_folder, os.path.join(self.root, type(self).__name__)]
        if os.environ.get("MINNET_DATASETS"):
            out.append(os.path.join(os.environ["MINNET_DATASETS"], self.env_name))
        return out + self._system_folders()

    def _system_folders(self):
        from minnet.keras.datasets import mnist  # its search list, minus the env folder

        return [p for p in mnist._candidates(None) if p not in self._env_folders()]

    def _env_folders(self):
        env = os.environ.get("MINNET_DATASETS")
        return [os.path.join(env, self.env_name)] if env else []

    def _split_files(self):
        split = "train" if self.train else "test"
        return FILES[f"{split}_images"], FILES[f"{split}_labels"]

    def _find_local(self):
        for where in self._folders():
            found = self._load_folder(where)
            if found is not None:
                return found
        return None

    def _load_folder(self, where):
        """(images, labels, source) from a folder with the split's IDX files (or a Keras
        .npz), or None when they are not there."""
        npz = where if where.endswith(".npz") else os.path.join(where, "mnist.npz")
        if os.path.isfile(npz) and type(self) is MNIST:
            from minnet.keras.datasets import mnist

            a = mnist._load_npz(npz)
            split = "train" if self.train else "test"
            return self._checked(a[f"x_{split}"], a[f"y_{split}"], npz)
        paths = [_find(where, stem) for stem in self._split_files()]
        if None in paths:
            return None
        return self._checked(read_idx(paths[0]), read_idx(paths[1]), paths[0])

    def _checked(self, images, labels, where):
        name = type(self).__name__
        if images.dtype != np.uint8 or images.ndim != 3:
            raise ValueError(
                f"{name}: {where}: images should be uint8 (N, H, W), got "
                f"{images.dtype} {images.shape}"
            )
        if labels.ndim != 1 or len(labels) != len(images):
            raise ValueError(
                f"{name}: {where}: {len(images)} images but labels of shape {labels.shape}"
            )
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.classes)):
            raise ValueError(f"{name}: {where}: labels outside [0, {len(self.classes)})")
        source = where if where.endswith(".npz") else os.path.dirname(where)
        return images, labels.astype(np.int64), source

    def download(self):
        """Download the four files into ``raw_folder`` unless they are there (torchvision's
        mirrors, md5-checked, atomic); returns the folder. RuntimeError when every mirror
        fails."""
        if self.root is None:
            raise RuntimeError(f"{type(self).__name__}: download=True needs a root folder")
        raw = self.raw_folder
        for filename, md5 in self.resources:
            target = os.path.join(raw, filename)
            if _find(raw, filename[:-3]):
                continue
            errors = []
            for mirror in self.mirrors:
                try:
                    _download(mirror + filename, target, md5)
                    break
                except _download_errors() as e:
                    errors.append(f"{mirror}: {e}")
            else:
                raise RuntimeError(f"{filename}: {'; '.join(errors)}")
        return raw

    def _where_to_put(self):
        env = f"$MINNET_DATASETS/{self.env_name}"
        files = ", ".join(self._split_files())
        return (
            f"put {files} (and the other split's; .gz is fine) in "
            f"{os.path.join(str(self.root), type(self).__name__, 'raw')}/ or {env}/, "
            f"{self.hint}"
        )

    def _not_found(self, download, failure):
        where = f"{type(self).__name__}: dataset not found in {self._folders()}"
        if failure:
            raise RuntimeError(
                f"{where} and could not be downloaded ({failure}); without a "
                f"network, {self._where_to_put()}"
            )
        raise RuntimeError(
            f"{where}: {self._where_to_put()} (download=True downloads them "
            f"where there is a network)"
        )

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_ (torchvision's
    ``datasets.FashionMNIST``): Zalando's 28 x 28 clothing images, MNIST's arguments and
    attributes. Found locally as the module docstring says; when the full set is nowhere it
    falls back to minnet's embedded subset (6,500 training / 1,000 test images, a line on
    stderr; ``subset`` is then True)."""

    # torchvision 0.28's (torchvision/datasets/mnist.py)
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = list(fashion_mnist.CLASSES)
    env_name = "fashion-mnist"
    hint = "or `apt-get install dataset-fashion-mnist`"

    def _system_folders(self):
        return [p for p in fashion_mnist._candidates(None) if p not in self._env_folders()]

    def _not_found(self, download, failure):
        if failure:
            print(f"minnet: FashionMNIST could not be downloaded ({failure})", file=sys.stderr)
        splits = fashion_mnist.load_data()  # says on stderr that it uses the subset
        self.subset = splits.subset
        (x, y) = splits[0] if self.train else splits[1]
        return x, y.astype(np.int64), splits.source


class KMNIST(MNIST):
    """`Kuzushiji-MNIST <https://github.com/rois-codh/kmnist>`_ (torchvision's
    ``datasets.KMNIST``): 28 x 28 cursive Japanese characters, MNIST's arguments."""

    # torchvision 0.28's (torchvision/datasets/mnist.py)
    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    env_name = "kmnist"
    hint = "from https://github.com/rois-codh/kmnist"

    def _system_folders(self):
        return []


# ------------------------------------------------------------------ CIFAR-10


class CIFAR10(VisionDataset):
    """`CIFAR-10 <https://www.cs.toronto.edu/~kriz/cifar.html>`_ (torchvision's
    ``datasets.CIFAR10``) from its **binary** version: 50,000 training and 10,000 test
    colour images, uint8 32 x 32 x 3.

    Args:
        root (str or path): the folder holding ``cifar-10-batches-bin/`` (extracted from
            ``cifar-10-binary.tar.gz``); ``$MINNET_DATASETS/cifar-10-batches-bin`` and
            ``$MINNET_DATASETS/cifar10/cifar-10-batches-bin`` are tried next.
        train, transform, target_transform: as :class:`MNIST`'s.
        download (bool): accepted; nothing is downloaded (the error says where to put the
            files).

    Attributes:
        data (numpy.ndarray): uint8 (N, 32, 32, 3); ``targets`` (list of int); ``classes``
            (from ``batches.meta.txt`` when present).
    """

    base_folder = "cifar-10-batches-bin"
    train_list = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list = ["test_batch.bin"]
    classes = [
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ]
    _RECORD = 1 + 3 * 32 * 32  # a label byte, then the R, G and B planes

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = bool(train)
        names = self.train_list if self.train else self.test_list
        folder = next(
            (f for f in self._folders() if all(os.path.isfile(os.path.join(f, n)) for n in names)),
            None,
        )
        if folder is None:
            self._not_found(names, download)
        images, labels = [], []
        for name in names:
            raw = np.fromfile(os.path.join(folder, name), dtype=np.uint8)
            if raw.size == 0 or raw.size % self._RECORD:
                raise ValueError(
                    f"CIFAR10: {os.path.join(folder, name)} is not a CIFAR-10 "
                    f"binary batch ({raw.size} bytes, not a multiple of "
                    f"{self._RECORD})"
                )
            records = raw.reshape(-1, self._RECORD)
            labels.append(records[:, 0])
            images.append(records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        labels = np.concatenate(labels)
        if labels.max() >= 10:
            raise ValueError(f"CIFAR10: {folder}: labels outside [0, 10)")
        self.data = np.ascontiguousarray(np.concatenate(images))  # HWC, as torchvision
        self.targets = labels.astype(np.int64).tolist()
        self.source = folder
        meta = os.path.join(folder, "batches.meta.txt")
        if os.path.isfile(meta):
            with open(meta, encoding="ascii", errors="replace") as f:
                names = [line.strip() for line in f if line.strip()]
            if len(names) == 10:
                self.classes = names

    def _images(self):
        return np.asarray(self.data)

    def _labels(self, idx):
        if isinstance(idx, np.ndarray):
            return [self.targets[i] for i in idx.tolist()]
        return self.targets[idx]

    def _folders(self):
        out = [] if self.root is None else [os.path.join(self.root, self.base_folder)]
        env = os.environ.get("MINNET_DATASETS")
        if env:
            out += [
                os.path.join(env, self.base_folder),
                os.path.join(env, "cifar10", self.base_folder),
            ]
        return out

    def _not_found(self, names, download):
        py = None if self.root is None else os.path.join(self.root, "cifar-10-batches-py")
        if py is not None and os.path.isdir(py):
            raise RuntimeError(
                f"CIFAR10: {py} is the python version, whose batches are "
                f"pickles, which minnet does not load (unpickling can run any "
                f"code). Use the binary version: extract cifar-10-binary.tar.gz "
                f"from https://www.cs.toronto.edu/~kriz/cifar.html into "
                f"{self.root} (it makes {self.base_folder}/)"
            )
        why = " and nothing is downloaded for CIFAR10 (download=True)" if download else ""
        raise RuntimeError(
            f"CIFAR10: dataset not found in {self._folders()}{why}: extract "
            f"cifar-10-binary.tar.gz from "
            f"https://www.cs.toronto.edu/~kriz/cifar.html into {self.root} (it "
            f"makes {self.base_folder}/ with {', '.join(names)})"
        )

    def extra_repr(self):
        return f"Split: {'Train' if self.train else 'Test'}"


def __getattr__(name):
    if name[:1].isupper():
        raise AttributeError(
            f"minnet.vision.datasets has no {name}; available: "
            f"{', '.join(__all__[1:])} (local files only)"
        )
    raise AttributeError(f"module 'minnet.vision.datasets' has no attribute {name!r}")
