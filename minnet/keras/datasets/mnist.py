"""MNIST from local files (nothing is downloaded), looked for in order: the ``path``
argument (a folder with the four IDX files, or a Keras ``mnist.npz``);
``$MINNET_DATASETS/mnist`` (IDX files or ``mnist.npz``); Keras's cache
``~/.keras/datasets/mnist.npz``; ``/usr/share/datasets/mnist``. ``MINNET_DATA_NO_SYSTEM=1``
skips the last two. Without them it raises FileNotFoundError saying where to put the files
(Fashion-MNIST, in contrast, is always available offline: ``keras.datasets.fashion_mnist``)."""

import os
import zipfile

import numpy as np

from minnet.datasets.fashion_mnist import FILES, Splits, _find, keras_cache, no_system
from minnet.datasets.idx import read_idx

__all__ = ["load_data"]

SYSTEM_DIR = "/usr/share/datasets/mnist"


def _candidates(path):
    if path is not None:
        return [os.fspath(path)]
    out = []
    if os.environ.get("MINNET_DATASETS"):
        out.append(os.path.join(os.environ["MINNET_DATASETS"], "mnist"))
    if not no_system():
        out += [os.path.join(os.path.dirname(keras_cache("mnist")), "mnist.npz"), SYSTEM_DIR]
    return out


def _load_npz(p):
    try:
        with np.load(p, allow_pickle=False) as z:
            a = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"mnist: {p} is not a readable Keras mnist.npz ({e})") from None
    return a


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and labels (N,), as
    :class:`minnet.datasets.fashion_mnist.Splits` (``.source`` says where they were found)."""
    tried = _candidates(path)
    for where in tried:
        npz = where if where.endswith(".npz") else os.path.join(where, "mnist.npz")
        if os.path.isfile(npz):
            a = _load_npz(npz)
            source = npz
        elif os.path.isdir(where) and all(_find(where, stem) for stem in FILES.values()):
            files = {k: _find(where, stem) for k, stem in FILES.items()}
            r = {k: np.asarray(read_idx(p)) for k, p in files.items()}
            a = {
                "x_train": r["train_images"],
                "y_train": r["train_labels"],
                "x_test": r["test_images"],
                "y_test": r["test_labels"],
            }
            source = where
        else:
            continue
        for split in ("train", "test"):
            x, y = a[f"x_{split}"], a[f"y_{split}"]
            if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
                raise ValueError(
                    f"mnist: {source}: {split} images {x.shape} and labels {y.shape} do not match"
                )
        return Splits((a["x_train"], a["y_train"]), (a["x_test"], a["y_test"]), False, source)
    raise FileNotFoundError(
        f"MNIST not found in {tried} and nothing is downloaded: put Keras's mnist.npz in "
        f"~/.keras/datasets/, or the four IDX files ({', '.join(FILES.values())}, optionally "
        f".gz) in $MINNET_DATASETS/mnist, or pass path=. Fashion-MNIST works offline: "
        f"keras.datasets.fashion_mnist.load_data()"
    )
