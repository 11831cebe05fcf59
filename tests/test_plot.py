"""minnet.plot: the PNGs it renders are real pictures, the confusion counts match a matrix
counted by hand, bad inputs name the argument, and without matplotlib the module still imports
(confusion_counts works) while drawing says how to install it."""

import os

import numpy as np
import pytest
from tests_helpers_run import run_python

from minnet import plot

mpl_image = pytest.importorskip("matplotlib.image")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def check_png(path, min_bytes=3000):
    """A PNG file of plausible size whose pixels are not all one colour."""
    with open(path, "rb") as f:
        head = f.read(8)
    assert head == PNG_MAGIC, f"{path} is not a PNG"
    assert os.path.getsize(path) > min_bytes
    pixels = mpl_image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.var() > 0
    colours = np.unique(pixels[..., :3].reshape(-1, 3), axis=0)
    assert len(colours) >= 10, f"{path}: only {len(colours)} colours"
    return pixels


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


# ---- history ------------------------------------------------------------------------------
def test_history_from_dict_draws_one_panel_per_metric(tmp_path):
    logs = {
        "loss": [1.0, 0.6, 0.4, 0.3],
        "accuracy": [0.5, 0.7, 0.8, 0.85],
        "val_loss": [1.1, 0.8, 0.6, 0.55],
        "val_accuracy": [0.45, 0.6, 0.7, 0.75],
    }
    fig = plot.history(logs, path=tmp_path / "h.png")
    check_png(tmp_path / "h.png")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    lines = fig.axes[1].get_lines()
    assert [ln.get_label() for ln in lines] == ["training", "validation"]
    np.testing.assert_array_equal(lines[1].get_xdata(), [1, 2, 3, 4])  # epochs from 1
    np.testing.assert_allclose(lines[1].get_ydata(), logs["val_accuracy"])


def test_history_of_a_keras_fit_and_metric_selection(tmp_path):
    from minnet import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    fig = plot.history(hist, path=str(tmp_path / "fit.png"))
    check_png(tmp_path / "fit.png")
    assert sorted(ax.get_title() for ax in fig.axes) == ["accuracy", "loss"]
    assert fig.axes[0].get_title() == "loss"
    only = plot.history(hist, metrics=["accuracy"])
    assert [ax.get_title() for ax in only.axes] == ["accuracy"]
    assert len(only.axes[0].get_lines()) == 2


def test_history_without_validation_has_training_lines_only():
    fig = plot.history({"loss": [3.0, 2.0, 1.0]})
    assert [ln.get_label() for ln in fig.axes[0].get_lines()] == ["training"]


def test_history_bad_inputs():
    with pytest.raises(ValueError, match="not among the recorded metrics"):
        plot.history({"loss": [1.0]}, metrics=["accuracy"])
    with pytest.raises(ValueError, match="empty"):
        plot.history({})
    with pytest.raises(TypeError, match="History or a dict"):
        plot.history([1.0, 0.5])


# ---- images -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape", [(6, 12, 10), (6, 12, 10, 1), (6, 12, 10, 3), (6, 1, 12, 10), (6, 3, 12, 10)]
)
def test_images_layouts(shape, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, shape, dtype=np.uint8)
    fig = plot.images(x, ncols=4, path=tmp_path / "g.png")
    check_png(tmp_path / "g.png")
    shown = image_axes(fig)
    assert len(shown) == 6 and len(fig.axes) == 8  # 2 rows of 4, two cells empty
    height, width = shown[0].images[0].get_array().shape[:2]
    assert (height, width) == (12, 10)
    first = shown[0].images[0].get_array()
    expect = x[0].transpose(1, 2, 0) if shape[1] in (1, 3) else x[0]
    np.testing.assert_array_equal(np.squeeze(first), np.squeeze(expect))


def test_images_titles_mark_wrong_predictions_in_red(tmp_path):
    x = np.random.default_rng(1).random((4, 8, 8))
    names = ["cat", "dog", "bird"]
    fig = plot.images(
        x,
        labels=[0, 1, 2, 1],
        predictions=[0, 2, 2, 0],
        class_names=names,
        path=tmp_path / "p.png",
    )
    check_png(tmp_path / "p.png")
    titles = [ax.title for ax in image_axes(fig)]
    assert [t.get_text() for t in titles] == ["cat", "bird (dog)", "bird", "cat (dog)"]
    red = [t.get_color() in ("red", "r", (1.0, 0.0, 0.0, 1.0)) for t in titles]
    assert red == [False, True, False, True]


def test_images_labels_only_and_float_scaling():
    x = np.random.default_rng(2).normal(size=(3, 5, 5))  # outside [0, 1]: rescaled
    fig = plot.images(x, labels=[7, 8, 9])
    assert [ax.get_title() for ax in image_axes(fig)] == ["7", "8", "9"]
    values = np.concatenate([ax.images[0].get_array().ravel() for ax in image_axes(fig)])
    assert values.min() == pytest.approx(0.0) and values.max() == pytest.approx(1.0)


def test_images_bad_inputs():
    x = np.zeros((4, 8, 8))
    with pytest.raises(ValueError, match=r"x must be .*got shape \(4, 8\)"):
        plot.images(np.zeros((4, 8)))
    with pytest.raises(ValueError, match=r"x must be .*got shape \(4, 8, 8, 5\)"):
        plot.images(np.zeros((4, 8, 8, 5)))
    with pytest.raises(
        ValueError,
        match=r"labels must have one entry per image \(4\), "
        r"got shape \(3,\)",
    ):
        plot.images(x, labels=[0, 1, 2])
    with pytest.raises(ValueError, match="predictions must have one entry per image"):
        plot.images(x, labels=[0, 1, 2, 3], predictions=[[0, 1], [2, 3]])
    with pytest.raises(ValueError, match="labels holds values outside 0..1"):
        plot.images(x, labels=[0, 1, 2, 0], class_names=["a", "b"])
    with pytest.raises(ValueError, match="with class_names, labels must be integer class"):
        plot.images(x, labels=["a", "b", "a", "b"], class_names=["a", "b"])
    with pytest.raises(ValueError, match="ncols"):
        plot.images(x, ncols=0)
    with pytest.raises(ValueError, match="no images"):
        plot.images(np.zeros((0, 8, 8)))


# ---- confusion matrices -------------------------------------------------------------------
def test_confusion_counts_by_hand():
    y_true = [0, 0, 1, 1, 1, 2, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 2, 0, 2, 2]
    expected = np.array(
        [
            [1, 1, 0],  # true 0: once right, once taken for 1
            [0, 2, 1],
            [1, 0, 3],
        ]
    )
    m = plot.confusion_counts(y_true, y_pred)
    np.testing.assert_array_equal(m, expected)
    assert m.dtype == np.int64
    np.testing.assert_array_equal(
        plot.confusion_counts(y_true, y_pred, num_classes=4)[:3, :3], expected
    )
    # scores / one-hot rows are argmax-ed, and give K
    scores = np.eye(3)[y_pred] * 0.8 + 0.1
    np.testing.assert_array_equal(plot.confusion_counts(np.eye(3)[y_true], scores), expected)
    assert plot.confusion_counts([0, 0], np.eye(5)[[1, 1]]).shape == (5, 5)


def test_confusion_counts_bad_inputs():
    with pytest.raises(ValueError, match=r"same length, got shapes \(3,\) and \(2,\)"):
        plot.confusion_counts([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match=r"y_true must be class indices .* got shape"):
        plot.confusion_counts(np.zeros((2, 2, 2)), [0, 1])
    with pytest.raises(ValueError, match="class index 3 is out of range for num_classes=3"):
        plot.confusion_counts([0, 1, 3], [0, 1, 2], num_classes=3)
    with pytest.raises(ValueError, match="negative"):
        plot.confusion_counts([0, -1], [0, 1])
    with pytest.raises(ValueError, match="non-integer"):
        plot.confusion_counts([0.5, 1.0], [0, 1])
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        plot.confusion_counts([0], [0], num_classes=0)


def test_confusion_matrix_heatmap_counts_and_normalised(tmp_path):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 4, 200))
    names = ["a", "b", "c", "d"]
    fig = plot.confusion_matrix(y_true, y_pred, class_names=names, path=tmp_path / "cm.png")
    check_png(tmp_path / "cm.png")
    counts = plot.confusion_counts(y_true, y_pred)
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), counts)
    assert [t.get_text() for t in ax.texts] == [str(v) for v in counts.ravel()]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"

    fig = plot.confusion_matrix(y_true, y_pred, normalize=True)
    rates = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(rates.sum(axis=1), 1.0)
    np.testing.assert_allclose(rates, counts / counts.sum(axis=1, keepdims=True))
    assert fig.axes[0].texts[0].get_text() == f"{rates[0, 0]:.2f}"


def test_confusion_matrix_class_names_fix_k():
    fig = plot.confusion_matrix([0, 1], [0, 1], class_names=["x", "y", "z"])
    assert fig.axes[0].images[0].get_array().shape == (3, 3)
    with pytest.raises(ValueError, match="out of range for num_classes=2"):
        plot.confusion_matrix([0, 2], [0, 1], class_names=["x", "y"])


# ---- saving and display -------------------------------------------------------------------
def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "out.png"
    target.write_bytes(b"old")
    plot.history({"loss": [1.0, 0.5]}, path=target)
    check_png(target)
    assert os.listdir(tmp_path) == ["out.png"]
    with pytest.raises(FileNotFoundError):
        plot.history({"loss": [1.0, 0.5]}, path=tmp_path / "missing" / "out.png")
    assert os.listdir(tmp_path) == ["out.png"]


def test_figure_shows_itself_in_jupyter():
    fig = plot.history({"loss": [1.0, 0.5]})
    assert fig._repr_png_().startswith(PNG_MAGIC)  # what IPython displays


# ---- without matplotlib -------------------------------------------------------------------
def test_without_matplotlib_import_works_and_drawing_says_how_to_install():
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"  # 'import matplotlib' now fails
        "import minnet.plot as plot\n"
        "print(plot.confusion_counts([0, 1, 1], [0, 1, 0]).tolist())\n"
        "for call in (lambda: plot.history({'loss': [1.0]}),\n"
        "             lambda: plot.images([[[0.0]]]),\n"
        "             lambda: plot.confusion_matrix([0], [0])):\n"
        "    try:\n"
        "        call()\n"
        "    except ImportError as e:\n"
        "        print('ImportError:', e)\n"
    )
    lines = run_python("-c", code).stdout.splitlines()
    assert lines[0] == "[[1, 0], [1, 1]]"
    assert len(lines) == 4
    for line, who in zip(lines[1:], ["history", "images", "confusion_matrix"]):
        assert line.startswith(f"ImportError: minnet.plot.{who} needs matplotlib")
        assert 'pip install "minnet-nn[plot]"' in line
