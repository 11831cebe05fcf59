"""Files minnet writes get the mode any new file gets: 0o666 trimmed by the umask (0644 under
the usual 022), not mkstemp's 0600, although they are written through a temporary file
(minnet._atomic). Overwriting keeps that rule. One case per writer."""

import os
import stat

import numpy as np
import pytest

import minnet
from minnet import nn


def _save(path):
    minnet.save(nn.Linear(2, 3).state_dict(), path)


def _keras(path):
    from minnet import keras

    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    m.save(path)


def _keras_weights(path):
    from minnet import keras

    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    m.save_weights(path)


def _idx(path):
    from minnet.datasets.idx import write_idx

    write_idx(path, np.zeros((3, 4), np.uint8))


def _image(path):
    pytest.importorskip("PIL", reason="save_image writes PNG through Pillow")
    from minnet.vision.utils import save_image

    save_image(minnet.rand(1, 8, 8), path)


def _notebook(path):
    pytest.importorskip("nbformat")
    from minnet.examples._notebook import write_notebook

    write_notebook("xor", path)


WRITERS = {
    "minnet.save": (_save, "m.pt"),
    "keras Model.save": (_keras, "m.keras.npz"),
    "keras save_weights": (_keras_weights, "m.weights.npz"),
    "write_idx": (_idx, "x-idx1-ubyte"),
    "vision.save_image": (_image, "g.png"),
    "write_notebook": (_notebook, "xor.ipynb"),
}


@pytest.fixture
def umask():
    old = os.umask(0o022)
    yield lambda m: os.umask(m)
    os.umask(old)


@pytest.mark.parametrize("name", WRITERS)
@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_file_honours_the_umask(tmp_path, umask, name, mask, mode):
    write, filename = WRITERS[name]
    path = str(tmp_path / filename)
    umask(mask)
    write(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    write(path)  # overwrite: replaced, same rule
    assert stat.S_IMODE(os.stat(path).st_mode) == mode
    assert sorted(os.listdir(tmp_path)) == [filename], "a temporary file was left behind"
