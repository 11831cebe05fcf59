"""Fashion-MNIST from local files (nothing is downloaded).

The full data set (60,000 training and 10,000 test images) is looked for, in order, in: the
``path`` argument; ``$MINNET_DATASETS/fashion-mnist``; Keras's cache
``~/.keras/datasets/fashion-mnist``; Debian's ``/usr/share/datasets/fashion-mnist``
(``apt-get install dataset-fashion-mnist``). ``MINNET_DATA_NO_SYSTEM=1`` skips the last two
(the system-wide locations), so the offline fallback can be checked on a machine that has them.

When none has the four IDX files, :func:`load_data` falls back to the **embedded subset**
shipped inside the package (6,500 training and 1,000 test images, 650 and 100 of each
class, real Fashion-MNIST images chosen by ``minnet.datasets.make_subset``), and says so in
one line on stderr. ``load_data(subset=True)`` asks for the subset, ``subset=False`` for the
full set only. What ``load_data`` returns is Keras's ``((x_train, y_train), (x_test,
y_test))`` with two documented attributes: ``.subset`` (True for the embedded subset) and
``.source`` (the folder, or ``"embedded subset"``).
"""

import io
import lzma
import os
import sys
import zipfile

import numpy as np

from minnet.datasets.idx import read_idx

__all__ = [
    "load_data",
    "find_dir",
    "FashionMNIST",
    "Splits",
    "CLASSES",
    "FILES",
    "SUBSET_FILE",
    "SYSTEM_DIR",
]

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"
SUBSET_FILE = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "data", "fashion_mnist_subset.npz.xz"
)


class Splits(tuple):
    """``((x_train, y_train), (x_test, y_test))`` with ``.subset`` (bool) and ``.source``
    (str): where the arrays came from. Unpacks like the plain tuple Keras returns."""

    def __new__(cls, train, test, subset, source):
        self = super().__new__(cls, (train, test))
        self.subset, self.source = subset, source
        return self

    def __repr__(self):
        return (
            f"Splits(train={self[0][0].shape}, test={self[1][0].shape}, "
            f"subset={self.subset}, source={self.source!r})"
        )


def no_system():
    """True when ``MINNET_DATA_NO_SYSTEM`` asks the loaders to ignore system-wide folders."""
    return os.environ.get("MINNET_DATA_NO_SYSTEM", "").strip().lower() not in (
        "",
        "0",
        "false",
        "no",
    )


def keras_cache(name):
    """Keras's download cache folder for data set ``name`` (``$KERAS_HOME`` or ~/.keras)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets", name)


def _candidates(path):
    if path is not None:
        return [os.fspath(path)]
    out = []
    if os.environ.get("MINNET_DATASETS"):
        out.append(os.path.join(os.environ["MINNET_DATASETS"], "fashion-mnist"))
    if not no_system():
        out += [keras_cache("fashion-mnist"), SYSTEM_DIR]
    return out


def _find(folder, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            return p
    return None


def find_dir(path=None):
    """The folder holding the four full Fashion-MNIST files, or FileNotFoundError saying where
    it looked and how to install them."""
    tried = _candidates(path)
    for folder in tried:
        if all(_find(folder, stem) for stem in FILES.values()):
            return folder
    raise FileNotFoundError(
        f"Fashion-MNIST IDX files ({', '.join(FILES.values())}, optionally .gz) not found in "
        f"{tried}"
        f"{' (system folders skipped: MINNET_DATA_NO_SYSTEM is set)' if no_system() else ''}"
        f". Install them with `apt-get install dataset-fashion-mnist`, put them in "
        f"$MINNET_DATASETS/fashion-mnist, or pass path=; load_data(subset=True) uses the "
        f"embedded 6,500-image subset"
    )


def _check(x, y, where, split):
    if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"fashion_mnist: {where}: {split} images {x.shape} and labels {y.shape} do not match"
        )
    if y.size and (y.min() < 0 or y.max() >= len(CLASSES)):
        raise ValueError(f"fashion_mnist: {where}: {split} labels outside [0, 10)")


def load_subset():
    """The embedded subset as :class:`Splits` (subset=True)."""
    try:
        with open(SUBSET_FILE, "rb") as fh:
            raw = lzma.decompress(fh.read())
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            a = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except FileNotFoundError:
        raise FileNotFoundError(
            f"fashion_mnist: the embedded subset {SUBSET_FILE} is missing "
            f"from this installation of minnet"
        ) from None
    except (OSError, ValueError, KeyError, lzma.LZMAError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(
            f"fashion_mnist: the embedded subset {SUBSET_FILE} is damaged ({e}); reinstall minnet"
        ) from None
    for split in ("train", "test"):
        _check(a[f"x_{split}"], a[f"y_{split}"], SUBSET_FILE, split)
    return Splits(
        (a["x_train"], a["y_train"]), (a["x_test"], a["y_test"]), True, "embedded subset"
    )


def load_full(path=None):
    """The full data set from IDX files as :class:`Splits` (subset=False); FileNotFoundError
    when not found, ValueError when a file is corrupt."""
    folder = find_dir(path)
    arrays = {key: read_idx(_find(folder, stem)) for key, stem in FILES.items()}
    for split in ("train", "test"):
        _check(arrays[f"{split}_images"], arrays[f"{split}_labels"], folder, split)
    return Splits(
        (arrays["train_images"], arrays["train_labels"]),
        (arrays["test_images"], arrays["test_labels"]),
        False,
        folder,
    )


def load_data(path=None, subset=None):
    """Keras-style ``((x_train, y_train), (x_test, y_test))``: uint8 images (N, 28, 28) and
    uint8 labels (N,), as :class:`Splits` (``.subset``, ``.source``).

    Args:
        path: a folder with the four IDX files (then nothing else is tried).
        subset: None (default) the full set when found, else the embedded subset with a line
            on stderr; True the embedded subset; False the full set or FileNotFoundError.

    Raises:
        FileNotFoundError: ``subset=False`` (or an explicit ``path``) and no files there.
        ValueError: a file is corrupt, or image and label counts disagree.
    """
    if subset not in (None, True, False):
        raise TypeError(
            f"fashion_mnist.load_data: subset must be None, True or False, got {subset!r}"
        )
    if subset:
        return load_subset()
    if subset is False or path is not None:
        return load_full(path)
    try:
        return load_full()
    except FileNotFoundError:
        where = ", ".join(_candidates(None))
        where = f" in {where}" if where else ""
        skipped = " (MINNET_DATA_NO_SYSTEM: system folders skipped)" if no_system() else ""
        print(
            f"minnet: full Fashion-MNIST not found{where}{skipped}; using the embedded "
            f"subset (6,500 training / 1,000 test images). For the full set: "
            f"`apt-get install dataset-fashion-mnist`.",
            file=sys.stderr,
        )
        return load_subset()


class FashionMNIST:
    """torchvision-style dataset: item i is (image, label) with the image a float32 array
    (1, 28, 28) scaled to [0, 1] (or `transform(uint8 image)` when given) and the label an int.

    Args:
        root: folder with the IDX files (default: see module docstring; the embedded subset
            when the full set is not found).
        train: the training images, else the test images.
        transform: optional callable applied to each uint8 (28, 28) image.
        subset: as :func:`load_data`'s.
    """

    classes = CLASSES

    def __init__(self, root=None, train=True, transform=None, subset=None):
        splits = load_data(root, subset=subset)
        (xtr, ytr), (xte, yte) = splits
        self.subset, self.source = splits.subset, splits.source
        self.data, self.targets = (xtr, ytr) if train else (xte, yte)
        self.transform = transform

    def __len__(self):
        return len(self.targets)

    def __getitem__(self, i):
        img = self.data[i]
        if self.transform is not None:
            img = self.transform(img)
        else:
            img = (img.astype(np.float32) / 255.0)[None]
        return img, int(self.targets[i])

    def arrays(self, dtype=np.float32):
        """All images as one (N, 1, 28, 28) array in [0, 1] and the labels as int64: the fast
        way to build a minnet.data.TensorDataset."""
        return (self.data.astype(dtype)[:, None] / dtype(255.0)), self.targets.astype(np.int64)
