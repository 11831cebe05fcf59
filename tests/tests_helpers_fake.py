"""Small fake IDX data sets for the loader tests (minnet.datasets, minnet.vision)."""

import numpy as np

from minnet.datasets import fashion_mnist, write_idx


def fake_idx_folder(folder, n_train=12, n_test=5, balanced=False, seed=1, gz=True):
    """Write the four (Fashion-)MNIST IDX files (gzip unless ``gz`` is false) with random
    images into ``folder``; labels random, or 0-9 in turn if ``balanced``. Returns the arrays
    by key of fashion_mnist.FILES."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    lab = (
        (lambda n: (np.arange(n) % 10).astype(np.uint8))
        if balanced
        else (lambda n: rng.integers(0, 10, n, dtype=np.uint8))
    )
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": lab(n_train),
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": lab(n_test),
    }
    for key, stem in fashion_mnist.FILES.items():
        write_idx(folder / (stem + (".gz" if gz else "")), arrays[key])
    return arrays
