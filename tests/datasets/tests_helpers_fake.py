"""Small fake IDX data sets for the loader tests."""

import numpy as np

from minnet.datasets import fashion_mnist, write_idx


def fake_idx_folder(folder, n_train=12, n_test=5, balanced=False, seed=1):
    """Write the four (Fashion-)MNIST IDX files (gzip) with random images into ``folder``."""
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
        write_idx(folder / (stem + ".gz"), arrays[key])
    return arrays
