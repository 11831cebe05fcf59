"""minnet.vision.transforms against torchvision's documented behaviour (hand-checked values),
and the batch path against the per-sample path."""

import numpy as np
import pytest

import minnet
from minnet.vision import transforms as T
from minnet.vision.transforms import batch_transform

try:
    from PIL import Image
except ImportError:  # Pillow is optional
    Image = None

try:  # real torchvision, only when it imports here
    import torchvision.transforms as TT
except Exception:
    TT = None


def _img(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_to_tensor_scales_uint8_and_moves_channels_first():
    g = np.array([[0, 51], [255, 102]], np.uint8)
    x = T.ToTensor()(g)
    assert isinstance(x, minnet.Tensor) and x.shape == (1, 2, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x.data[0], np.float32([[0, 0.2], [1, 0.4]]))
    rgb = _img((4, 5, 3))
    y = T.ToTensor()(rgb)
    assert y.shape == (3, 4, 5) and y.data.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(y.data[2], rgb[:, :, 2].astype(np.float32) / np.float32(255))
    # other dtypes keep their values and dtype (torchvision: "returned without scaling")
    f = np.random.default_rng(1).random((3, 4)).astype(np.float64) * 7
    z = T.ToTensor()(f)
    assert z.dtype == np.float64 and z.shape == (1, 3, 4)
    np.testing.assert_array_equal(z.data[0], f)


def test_to_tensor_bad_input():
    with pytest.raises(TypeError, match="already"):
        T.ToTensor()(minnet.Tensor(np.zeros((1, 2, 2), np.float32)))
    with pytest.raises(ValueError, match="2/3 dimensional"):
        T.ToTensor()(np.zeros((1, 2, 2, 3), np.uint8))
    with pytest.raises(TypeError, match="img should be"):
        T.ToTensor()([[1, 2]])


@pytest.mark.skipif(Image is None, reason="Pillow not installed")
def test_pil_images_in_and_out():
    rgb = _img((6, 7, 3))
    np.testing.assert_array_equal(T.ToTensor()(Image.fromarray(rgb)).data, T.ToTensor()(rgb).data)
    bilevel = Image.fromarray(np.array([[0, 255]], np.uint8)).convert("1")
    np.testing.assert_array_equal(T.ToTensor()(bilevel).data, [[[0.0, 1.0]]])
    flipped = T.RandomHorizontalFlip(p=1.0)(Image.fromarray(rgb))  # geometric: PIL stays PIL
    assert isinstance(flipped, Image.Image)
    np.testing.assert_array_equal(np.asarray(flipped), rgb[:, ::-1])


def test_normalize_values_per_channel():
    x = T.ToTensor()(np.full((2, 2), 51, np.uint8))
    y = T.Normalize((0.1307,), (0.3081,))(x)
    expected = (np.float32(0.2) - np.float32(0.1307)) / np.float32(0.3081)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.full((1, 2, 2), expected, np.float32))
    np.testing.assert_array_equal(x.data, np.float32(0.2))  # not in place
    rgb = minnet.Tensor(np.ones((3, 2, 2), np.float32))
    z = T.Normalize([0.5, 0.0, 1.0], [0.5, 2.0, 1.0])(rgb).data
    np.testing.assert_array_equal(z[:, 0, 0], [1.0, 0.5, 0.0])
    np.testing.assert_array_equal(T.Normalize(0.5, 0.25)(rgb).data, 2.0)  # one value: all
    T.Normalize((0.5,), (0.5,), inplace=True)(rgb)
    np.testing.assert_array_equal(rgb.data, 1.0)  # (1 - .5) / .5


def test_normalize_bad_input():
    x = minnet.Tensor(np.zeros((3, 2, 2), np.float32))
    with pytest.raises(ValueError, match="same length"):
        T.Normalize((0.1, 0.2), (0.3, 0.4, 0.5))
    with pytest.raises(ValueError, match="mean has 2 values but the image has 3 channels"):
        T.Normalize((0.1, 0.2), (0.3,))(x)
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0.1,), (0.0,))(x)
    with pytest.raises(TypeError, match="mean should be"):
        T.Normalize("abc", (0.1,))
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.1,), (0.2,))(minnet.Tensor(np.zeros((1, 2, 2), np.uint8)))
    with pytest.raises(TypeError, match="put ToTensor"):
        T.Normalize((0.1,), (0.2,))(np.zeros((2, 2), np.uint8))
    with pytest.raises(TypeError, match="unexpected keyword argument 'stdd'"):
        T.Normalize((0.1,), stdd=(0.2,))


def test_lambda_and_compose():
    t = T.Compose([T.Lambda(lambda im: im[::2]), T.ToTensor()])
    assert t(np.zeros((4, 3), np.uint8)).shape == (1, 2, 3)
    assert "ToTensor()" in repr(t)
    with pytest.raises(TypeError, match="lambd should be callable"):
        T.Lambda(3)
    with pytest.raises(TypeError, match="callable"):
        T.Compose([T.ToTensor(), "Normalize"])
    with pytest.raises(TypeError, match="list of transforms"):
        T.Compose(T.ToTensor())


def test_flips():
    a = _img((3, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(a), a[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(a), a)
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(a), a[::-1])
    x = minnet.Tensor(np.arange(12, dtype=np.float32).reshape(1, 3, 4))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x).data, x.data[:, :, ::-1])
    minnet.manual_seed(3)
    flip = T.RandomHorizontalFlip(p=0.3)
    b = np.array([[0, 1]], np.uint8)
    n = sum(int(flip(b)[0, 0] == 1) for _ in range(2000))
    assert 0.26 < n / 2000 < 0.34
    with pytest.raises(ValueError, match=r"p should be in \[0, 1\]"):
        T.RandomHorizontalFlip(1.5)
    with pytest.raises(TypeError, match="p should be a number"):
        T.RandomHorizontalFlip("0.5")


def test_padding_modes_as_torchvision_documents():
    # torchvision's RandomCrop docstring: [1, 2, 3, 4] padded by 2 on both sides
    row = np.array([[1, 2, 3, 4]], np.uint8)
    expected = {
        "reflect": [3, 2, 1, 2, 3, 4, 3, 2],
        "symmetric": [2, 1, 1, 2, 3, 4, 4, 3],
        "edge": [1, 1, 1, 2, 3, 4, 4, 4],
        "constant": [9, 9, 1, 2, 3, 4, 9, 9],
    }
    for mode, want in expected.items():
        out = T.RandomCrop((1, 8), padding=(2, 0), fill=9, padding_mode=mode)(row)
        np.testing.assert_array_equal(out[0], want, err_msg=mode)


def test_padding_forms_and_tuple_fill():
    a = _img((4, 5))
    # (left, top, right, bottom): a crop the size of the padded image sees all of it
    out = T.RandomCrop((4 + 2 + 4, 5 + 1 + 3), padding=(1, 2, 3, 4))(a)
    np.testing.assert_array_equal(out, np.pad(a, ((2, 4), (1, 3))))
    out = T.RandomCrop((4 + 6, 5 + 6), padding=3, fill=7)(a)
    np.testing.assert_array_equal(out, np.pad(a, 3, constant_values=7))
    rgb = _img((2, 2, 3))
    out = T.RandomCrop(4, padding=1, fill=(10, 20, 30))(rgb)
    np.testing.assert_array_equal(out[0, 0], [10, 20, 30])
    np.testing.assert_array_equal(out[1:3, 1:3], rgb)


def test_random_crop_positions_are_uniform_windows():
    a = np.arange(6 * 6, dtype=np.uint8).reshape(6, 6)
    crop = T.RandomCrop(4)
    minnet.manual_seed(0)
    seen = {}
    for _ in range(900):
        out = crop(a)
        top, left = divmod(int(out[0, 0]), 6)  # the window's first pixel says where
        np.testing.assert_array_equal(out, a[top : top + 4, left : left + 4])
        seen[(top, left)] = seen.get((top, left), 0) + 1
    assert sorted(seen) == [(i, j) for i in range(3) for j in range(3)]
    assert min(seen.values()) > 60  # 9 positions, 100 each expected


def test_random_crop_pad_if_needed_and_errors():
    a = _img((3, 5))
    out = T.RandomCrop((5, 9), pad_if_needed=True)(a)
    assert out.shape == (5, 9)
    assert (out != 0).sum() == (a != 0).sum()  # the image is inside, padding is 0
    with pytest.raises(
        ValueError,
        match=r"required crop size \(5, 9\) is larger than input "
        r"image size \(3, 5\)",
    ):
        T.RandomCrop((5, 9))(a)
    with pytest.raises(ValueError, match="padding_mode"):
        T.RandomCrop(2, padding_mode="wrap")
    with pytest.raises(TypeError, match="padding should be"):
        T.RandomCrop(2, padding=(1, 2, 3))
    with pytest.raises(TypeError, match="size should be"):
        T.RandomCrop("24")
    with pytest.raises(TypeError, match="unexpected keyword argument 'paddding'"):
        T.RandomCrop(24, paddding=4)


def test_center_crop():
    a = np.arange(7 * 8, dtype=np.uint8).reshape(7, 8)
    # torchvision: top = round((7 - 4) / 2) = 2 (round half to even), left = round(4 / 2) = 2
    np.testing.assert_array_equal(T.CenterCrop((4, 4))(a), a[2:6, 2:6])
    big = T.CenterCrop(9)(a)
    assert big.shape == (9, 9) and big[1:8, 0:8].sum() == a.sum()


def test_resize_bilinear_and_nearest_by_hand():
    x = minnet.Tensor(np.array([[[0.0, 1.0], [2.0, 3.0]]], np.float32))
    up = T.Resize((4, 4))(x).data[0]
    # half-pixel centres: output column positions -0.25, 0.25, 0.75, 1.25, clamped
    np.testing.assert_allclose(up[0], [0, 0.25, 0.75, 1], atol=1e-7)
    np.testing.assert_allclose(up[:, 0], [0, 0.5, 1.5, 2], atol=1e-7)
    near = T.Resize((4, 4), interpolation=T.InterpolationMode.NEAREST)(x).data[0]
    np.testing.assert_array_equal(near[0], [0, 0, 1, 1])
    # shrinking 4 -> 2 with antialias: a triangle 2 pixels wide, weights .75 .75 .25 / 1.75
    row = minnet.Tensor(np.array([[[0.0, 1.0, 2.0, 3.0]]], np.float32))
    expected = [(0.75 * 1 + 0.25 * 2) / 1.75, (0.25 * 1 + 0.75 * 2 + 0.75 * 3) / 1.75]
    np.testing.assert_allclose(T.Resize((1, 2))(row).data[0, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(T.Resize((1, 2), antialias=False)(row).data[0, 0], [0.5, 2.5])
    # an int size matches the smaller edge, keeping the aspect ratio
    assert T.Resize(14)(np.zeros((28, 56), np.uint8)).shape == (14, 28)
    assert T.Resize(20, max_size=30)(np.zeros((20, 40), np.uint8)).shape == (15, 30)
    with pytest.raises(ValueError, match="not implemented"):
        T.Resize(10, interpolation=T.InterpolationMode.BICUBIC)


@pytest.mark.parametrize("size", [(40, 50), (13, 11), (28, 28)])
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_matches_torch_interpolate(size, mode, antialias):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).random((2, 3, 28, 30)).astype(np.float32)
    ref = torch.nn.functional.interpolate(
        torch.from_numpy(x),
        size=size,
        mode=mode,
        antialias=antialias and mode == "bilinear",
        **({"align_corners": False} if mode == "bilinear" else {}),
    ).numpy()
    out, _ = T.Resize(size, interpolation=mode, antialias=antialias)._batch(x, True, None)
    np.testing.assert_allclose(out, ref, atol=2e-6)


def test_missing_transforms_say_so():
    with pytest.raises(AttributeError, match="ColorJitter.*available: Compose"):
        T.ColorJitter


# ------------------------------------------------------------------ the batch path

PIPELINES = {
    "mnist example": lambda: T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
    "augmented": lambda: T.Compose(
        [
            T.RandomCrop(24, padding=2, padding_mode="reflect"),
            T.RandomHorizontalFlip(),
            T.ToTensor(),
            T.Normalize((0.5,), (0.25,)),
        ]
    ),
    "tensor ops": lambda: T.Compose(
        [
            T.ToTensor(),
            T.RandomCrop(26, padding=(1, 2)),
            T.RandomVerticalFlip(0.4),
            T.Normalize((0.2,), (0.3,)),
            T.Resize((20, 22)),
        ]
    ),
    "geometric only": lambda: T.Compose([T.CenterCrop(20), T.RandomHorizontalFlip()]),
    "one transform": lambda: T.RandomCrop(20, padding=4),
}


@pytest.mark.parametrize("name", sorted(PIPELINES))
@pytest.mark.parametrize("channels", [None, 3])
def test_batch_path_equals_per_sample_bit_for_bit(name, channels):
    """The guarantee: from the same generator state the batch path gives exactly the images
    of the per-sample path, random transforms included."""
    t = PIPELINES[name]()
    shape = (9, 28, 28) if channels is None else (9, 28, 28, channels)
    if name == "mnist example" and channels == 3:
        t = T.Compose([T.ToTensor(), T.Normalize((0.1, 0.2, 0.3), (0.3, 0.2, 0.1))])
    imgs = _img(shape, seed=5)
    minnet.manual_seed(11)
    x, is_tensor = batch_transform(t)(imgs)
    after_batch = minnet.random.get_generator().random()
    minnet.manual_seed(11)
    per = [t(img) for img in imgs]
    assert minnet.random.get_generator().random() == after_batch  # same number of draws
    stacked = np.stack([p.data if isinstance(p, minnet.Tensor) else p for p in per])
    assert is_tensor == isinstance(per[0], minnet.Tensor)
    assert x.dtype == stacked.dtype and x.shape == stacked.shape
    np.testing.assert_array_equal(x, stacked)


def test_batch_path_draws_differ_per_image():
    imgs = np.repeat(np.arange(64, dtype=np.uint8).reshape(1, 8, 8), 200, axis=0)
    minnet.manual_seed(0)
    x, _ = batch_transform(T.Compose([T.RandomCrop(6), T.RandomHorizontalFlip()]))(imgs)
    assert len({xi.tobytes() for xi in x}) == 18  # 9 positions x 2 flips, all drawn


def test_what_is_not_vectorisable():
    assert batch_transform(T.Compose([T.ToTensor(), T.Lambda(lambda x: x)])) is None
    assert batch_transform(lambda x: x) is None
    assert batch_transform(T.ToPILImage()) is None
    x, is_tensor = batch_transform(None)(_img((2, 3, 3)))
    assert not is_tensor and x.shape == (2, 3, 3)
    nested = T.Compose([T.Compose([T.ToTensor()]), T.Normalize((0.5,), (0.5,))])
    assert batch_transform(nested) is not None


@pytest.mark.skipif(TT is None, reason="torchvision does not import here")
def test_against_real_torchvision():
    g, rgb = _img((28, 28)), _img((20, 24, 3))
    for img, m, s in ((g, (0.1307,), (0.3081,)), (rgb, (0.4, 0.5, 0.6), (0.2, 0.3, 0.1))):
        ref = TT.Compose([TT.ToTensor(), TT.Normalize(m, s)])(img).numpy()
        ours = T.Compose([T.ToTensor(), T.Normalize(m, s)])
        np.testing.assert_array_equal(ours(img).data, ref)
        np.testing.assert_array_equal(batch_transform(ours)(img[None])[0][0], ref)
