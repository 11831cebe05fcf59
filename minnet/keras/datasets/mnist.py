"""MNIST from local IDX files (the same four file names as Fashion-MNIST), found in the
``path`` argument, ``$MINNET_DATASETS/mnist`` or ``/usr/share/datasets/mnist``."""
import os

import numpy as np

from minnet.datasets.fashion_mnist import FILES, _find
from minnet.datasets.idx import read_idx

__all__ = ["load_data"]


def load_data(path=None):
    """((x_train, y_train), (x_test, y_test)): uint8 images (N, 28, 28) and labels (N,)."""
    tried = [os.fspath(path)] if path is not None else \
        ([os.path.join(os.environ["MINNET_DATASETS"], "mnist")]
         if os.environ.get("MINNET_DATASETS") else []) + ["/usr/share/datasets/mnist"]
    for folder in tried:
        files = {k: _find(folder, stem) for k, stem in FILES.items()}
        if all(files.values()):
            a = {k: np.asarray(read_idx(p)) for k, p in files.items()}
            return ((a["train_images"], a["train_labels"]),
                    (a["test_images"], a["test_labels"]))
    raise FileNotFoundError(f"MNIST IDX files ({', '.join(FILES.values())}, optionally .gz) "
                            f"not found in {tried}; nothing is downloaded. Put them there or "
                            f"pass path=, or use keras.datasets.fashion_mnist")
