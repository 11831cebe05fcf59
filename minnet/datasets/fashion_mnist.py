"""Fashion-MNIST from local IDX files (nothing is downloaded).

The files are found, in order, in: the `path` argument; `$MINNET_DATASETS/fashion-mnist`;
`/usr/share/datasets/fashion-mnist` (Debian: `apt-get install dataset-fashion-mnist`).
"""
import os

import numpy as np

from minnet.datasets.idx import read_idx

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot")
SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"


def _candidates(path):
    if path is not None:
        return [os.fspath(path)]
    out = []
    if os.environ.get("MINNET_DATASETS"):
        out.append(os.path.join(os.environ["MINNET_DATASETS"], "fashion-mnist"))
    out.append(SYSTEM_DIR)
    return out


def _find(folder, stem):
    for name in (stem, stem + ".gz"):
        p = os.path.join(folder, name)
        if os.path.isfile(p):
            return p
    return None


def find_dir(path=None):
    """The folder holding the four Fashion-MNIST files, or FileNotFoundError saying where it
    looked and how to install them."""
    tried = _candidates(path)
    for folder in tried:
        if all(_find(folder, stem) for stem in FILES.values()):
            return folder
    raise FileNotFoundError(
        f"Fashion-MNIST IDX files ({', '.join(FILES.values())}, optionally .gz) not found in "
        f"{tried}. Install them with `apt-get install dataset-fashion-mnist`, or pass path=.")


def load_data(path=None):
    """Keras-style: ((x_train, y_train), (x_test, y_test)) as uint8 arrays, images (N, 28, 28).

    Raises ValueError if a file is corrupt or the image and label counts disagree."""
    folder = find_dir(path)
    arrays = {key: read_idx(_find(folder, stem)) for key, stem in FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if x.ndim != 3 or y.ndim != 1 or x.shape[0] != y.shape[0]:
            raise ValueError(f"fashion_mnist: {folder}: {split} images {x.shape} and labels "
                             f"{y.shape} do not match")
        if y.size and (y.min() < 0 or y.max() >= len(CLASSES)):
            raise ValueError(f"fashion_mnist: {folder}: {split} labels outside [0, 10)")
    return ((arrays["train_images"], arrays["train_labels"]),
            (arrays["test_images"], arrays["test_labels"]))


class FashionMNIST:
    """torchvision-style dataset: item i is (image, label) with the image a float32 array
    (1, 28, 28) scaled to [0, 1] (or `transform(uint8 image)` when given) and the label an int.

    Args:
        root: folder with the IDX files (default: see module docstring).
        train: the 60,000 training images, else the 10,000 test images.
        transform: optional callable applied to each uint8 (28, 28) image.
    """

    classes = CLASSES

    def __init__(self, root=None, train=True, transform=None):
        (xtr, ytr), (xte, yte) = load_data(root)
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
