"""torchvision.transforms' common image transforms, per sample and vectorised over a batch.

Each transform takes what torchvision's takes: an *image* (a NumPy array H x W or H x W x C,
or a PIL Image when Pillow is installed) or, after :class:`ToTensor`, a minnet Tensor
(..., C, H, W). Geometric transforms give back the kind they were given (an array, a PIL
Image or a Tensor).

Why a batch path: a DataLoader epoch of per-sample transforms costs tens of microseconds of
Python per image. The standard transforms below therefore also work on a whole batch at once
(``_batch``): a minnet.vision dataset hands its batch of uint8 images to the composed
transform in one call (``minnet.vision.datasets.VisionDataset.__getitems__``), and
``ToTensor()`` followed by ``Normalize`` becomes a single 256-entry lookup table.

Randomness and what is guaranteed: a random transform draws its parameters from minnet's
generator (``minnet.manual_seed``) as ``n_draws`` uniform numbers per image (a flip draws 1,
a crop 2, always, even when the crop has one possible position). A batch draws them as one
``(N, sum of n_draws)`` block, which NumPy fills in the same order as per-image draws, so the
batch path gives **bit for bit** the images the per-sample path gives from the same
generator state; tests/vision/test_transforms.py checks it. The streams differ from
torchvision's (torch's generator), not the distributions.

Not provided (AttributeError says so): ColorJitter, RandomRotation, RandomAffine, RandomResizedCrop
and the other transforms not listed in ``__all__``; ``transforms.v2``.
"""

import numbers

import numpy as np

from minnet.random import get_generator
from minnet.tensor import Tensor, get_default_dtype

__all__ = [
    "Compose",
    "ToTensor",
    "Normalize",
    "Lambda",
    "RandomHorizontalFlip",
    "RandomVerticalFlip",
    "RandomCrop",
    "CenterCrop",
    "Resize",
    "ToPILImage",
    "InterpolationMode",
]


# ------------------------------------------------------------------ images as batches
# Inside, a batch is (x, chw): x is a NumPy array whose first axis is the batch; chw=False
# means torchvision's image layout (N, H, W) or (N, H, W, C), chw=True the tensor layout
# (N, ..., H, W) that ToTensor produces.


def _is_pil(img):
    try:
        from PIL import Image
    except ImportError:
        return False
    return isinstance(img, Image.Image)


def _to_batch(img, who):
    """(batch of one, chw, was_pil) for one image, or TypeError naming the transform."""
    if isinstance(img, Tensor):
        if img.data.ndim < 2:
            raise ValueError(
                f"{who}: expected a tensor image (..., H, W), got shape {img.data.shape}"
            )
        return img.data[None], True, False
    if _is_pil(img):
        arr = np.asarray(img)
        if img.mode == "1":  # bilevel: torchvision maps True to 255
            arr = arr.astype(np.uint8) * np.uint8(255)
        return arr[None], False, True
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(
                f"{who}: pic should be 2/3 dimensional (H x W or H x W x C), got "
                f"{img.ndim} dimensions"
            )
        return img[None], False, False
    raise TypeError(
        f"{who}: img should be a NumPy array, a PIL Image or a minnet Tensor, got "
        f"{type(img).__name__}"
    )


def _from_batch(x, chw, was_pil):
    if chw:
        return Tensor(x[0])
    if was_pil and x.dtype == np.uint8:
        from PIL import Image

        return Image.fromarray(x[0])
    return x[0]


def _hw_axes(x, chw):
    """The (H, W) axes of a batch."""
    return (x.ndim - 2, x.ndim - 1) if chw else (1, 2)


def _draws(n, k):
    """n rows of k uniform numbers in [0, 1) from minnet's generator (None when k is 0)."""
    return get_generator().random((n, k)) if k else None


class _Transform:
    """A standard transform: ``_batch(x, chw, u)`` maps a batch (u: the batch's uniform draws,
    ``n_draws`` per image) and ``__call__`` is the batch of one."""

    n_draws = 0

    def __call__(self, img):
        x, chw, was_pil = _to_batch(img, type(self).__name__)
        x, chw = self._batch(x, chw, _draws(1, self.n_draws))
        return _from_batch(x, chw, was_pil)

    def _batch(self, x, chw, u):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


def _check_number(value, name, who, low=None, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} should be a number, got {type(value).__name__}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{who}: {name} should be in [{low}, {high}], got {value}")
    return value


def _size2(size, who, name="size"):
    """(h, w) from an int or a sequence of 1 or 2 positive ints, as torchvision's _setup_size."""
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        size = (int(size), int(size))
    elif (
        isinstance(size, (tuple, list))
        and len(size) in (1, 2)
        and all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in size)
    ):
        size = (int(size[0]), int(size[-1]))
    else:
        raise TypeError(
            f"{who}: {name} should be an int or a sequence of 1 or 2 ints (h, w), got {size!r}"
        )
    if min(size) < 1:
        raise ValueError(f"{who}: {name} should be positive, got {size}")
    return size


# ------------------------------------------------------------------ composition


class Compose:
    """Apply several transforms in turn, as ``torchvision.transforms.Compose``.

    Args:
        transforms (list): the transforms (callables), applied first to last.

    When every transform is one of this module's standard ones, the composition is
    vectorisable: a minnet.vision dataset applies it to a whole batch at once in a
    DataLoader (same images as per sample; see the module docstring).

    Examples::

        >>> t = Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])
        >>> x = t(np.zeros((28, 28), np.uint8))      # Tensor (1, 28, 28)
    """

    def __init__(self, transforms):
        if not isinstance(transforms, (list, tuple)):
            raise TypeError(
                f"Compose: transforms should be a list of transforms, got "
                f"{type(transforms).__name__}"
            )
        for t in transforms:
            if not callable(t):
                raise TypeError(
                    f"Compose: every transform should be callable, got {type(t).__name__}"
                )
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return "Compose(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


def _steps(transform):
    """The standard transforms a transform is made of (Compose flattened), or None when one
    of them is not vectorisable (a Lambda, a user's callable, ToPILImage)."""
    if isinstance(transform, Compose):
        out = []
        for t in transform.transforms:
            sub = _steps(t)
            if sub is None:
                return None
            out += sub
        return out
    if isinstance(transform, _Transform) and type(transform)._batch is not _Transform._batch:
        return [transform]
    return None


def batch_transform(transform):
    """A function mapping a batch of images (N, H, W[, C]) as ``transform`` maps each image,
    returning ``(array, is_tensor)``, or None when ``transform`` is not vectorisable.
    ``transform=None`` is the identity. Random draws: see the module docstring."""
    steps = [] if transform is None else _steps(transform)
    if steps is None:
        return None

    def apply(images):
        x, chw = images, False
        u = _draws(len(images), sum(t.n_draws for t in steps))
        col, k = 0, 0
        while k < len(steps):
            t = steps[k]
            nxt = steps[k + 1] if k + 1 < len(steps) else None
            if isinstance(t, ToTensor) and isinstance(nxt, Normalize) and x.dtype == np.uint8:
                x, chw = nxt._lookup(x), True  # ToTensor + Normalize as one table look-up
                k += 2
                continue
            x, chw = t._batch(x, chw, None if u is None else u[:, col : col + t.n_draws])
            col += t.n_draws
            k += 1
        return x, chw

    return apply


class Lambda:
    """Apply a user-defined function as a transform (``torchvision.transforms.Lambda``).

    Args:
        lambd (callable): the function, called with the image.

    A Lambda makes a Compose per-sample only (its function sees one image at a time).
    """

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(
                f"Lambda: argument lambd should be callable, got {type(lambd).__name__!r}"
            )
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)

    def __repr__(self):
        return "Lambda()"


# ------------------------------------------------------------------ tensors


class ToTensor(_Transform):
    """Convert an image (H x W x C NumPy array or PIL Image) to a float Tensor C x H x W.

    uint8 images (and PIL images of 8-bit modes) are scaled to [0, 1] (divided by 255 in the
    default float dtype, float32); other dtypes keep their values and dtype, as torchvision's.
    An H x W array gets one channel.

    Shape:
        - Input: (H, W) or (H, W, C)
        - Output: (C, H, W)
    """

    def _batch(self, x, chw, u):
        if chw:
            raise TypeError(
                "ToTensor: pic should be a PIL Image or a NumPy array, got a Tensor "
                "(it already is one)"
            )
        x = x[:, None] if x.ndim == 3 else x.transpose(0, 3, 1, 2)
        if x.dtype == np.uint8:
            dtype = get_default_dtype()
            y = x.astype(dtype, order="C")
            np.divide(y, dtype.type(255), out=y)
            return y, True
        return np.ascontiguousarray(x), True


def _channel_values(values, name):
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        a = None
    if a is None or a.ndim > 1 or a.size == 0:
        raise TypeError(
            f"Normalize: {name} should be a number or a sequence of numbers, got {values!r}"
        )
    return a.reshape(-1)


class Normalize(_Transform):
    """Normalize a float tensor image per channel: ``out[c] = (in[c] - mean[c]) / std[c]``.

    Args:
        mean (sequence): the channels' means (one value applies to every channel).
        std (sequence): the channels' standard deviations (likewise).
        inplace (bool): overwrite the input tensor. Default: False.

    Computed in the tensor's dtype (a float32 subtraction, then a division, as torchvision).

    Shape:
        - Input: (..., C, H, W) float
        - Output: the same
    """

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std, self.inplace = mean, std, bool(inplace)
        self._mean, self._std = _channel_values(mean, "mean"), _channel_values(std, "std")
        if len(self._mean) != len(self._std) and 1 not in (len(self._mean), len(self._std)):
            raise ValueError(
                f"Normalize: mean and std should have the same length (one per "
                f"channel), got {len(self._mean)} and {len(self._std)}"
            )

    def _per_channel(self, channels, dtype):
        """mean and std as (C, 1, 1) arrays of dtype, checked against the channel count."""
        for name, a in (("mean", self._mean), ("std", self._std)):
            if len(a) not in (1, channels):
                raise ValueError(
                    f"Normalize: {name} has {len(a)} values but the image has {channels} channels"
                )
        mean, std = (
            np.broadcast_to(a.astype(dtype), (channels,)).reshape(-1, 1, 1)
            for a in (self._mean, self._std)
        )
        if not std.all():
            raise ValueError(
                f"Normalize: std evaluated to zero after conversion to {dtype}, "
                f"leading to division by zero"
            )
        return mean, std

    def _batch(self, x, chw, u):
        if not chw:
            raise TypeError(
                "Normalize: img should be a Tensor image; put ToTensor() before Normalize"
            )
        if x.dtype.kind != "f":
            raise TypeError(f"Normalize: input tensor should be a float tensor, got {x.dtype}")
        if x.ndim < 4:
            raise ValueError(
                f"Normalize: expected a tensor image of size (..., C, H, W), got {x.shape[1:]}"
            )
        mean, std = self._per_channel(x.shape[-3], x.dtype)
        out = x if self.inplace else np.empty_like(x)
        np.subtract(x, mean, out=out)
        np.divide(out, std, out=out)
        return out, True

    def _lookup(self, images):
        """ToTensor() then this Normalize on uint8 images (N, H, W[, C]), as a look-up in a
        table of the 256 results per channel computed with the same float operations (so the
        values are bit for bit those of the two steps)."""
        dtype = get_default_dtype()
        channels = 1 if images.ndim == 3 else images.shape[3]
        mean, std = self._per_channel(channels, dtype)
        table = np.arange(256, dtype=dtype) / dtype.type(255)
        table = (table - mean[:, 0]) / std[:, 0]  # (C, 256)
        if images.ndim == 3:
            return np.take(table[0], images)[:, None]
        out = np.empty((len(images), channels) + images.shape[1:3], dtype)
        for c in range(channels):
            out[:, c] = np.take(table[c], images[..., c])
        return out

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


# ------------------------------------------------------------------ flips and crops


class _RandomFlip(_Transform):
    n_draws = 1
    _axis = 1  # 0: vertical (H), 1: horizontal (W)

    def __init__(self, p=0.5):
        self.p = _check_number(p, "p", type(self).__name__, 0, 1)

    def _batch(self, x, chw, u):
        flip = u[:, 0] < self.p
        if not flip.any():
            return x, chw
        axis = _hw_axes(x, chw)[self._axis]
        mask = flip.reshape((-1,) + (1,) * (x.ndim - 1))
        return np.where(mask, np.flip(x, axis), x), chw

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Flip the image left-right with probability ``p`` (default 0.5), one draw per image."""

    _axis = 1


class RandomVerticalFlip(_RandomFlip):
    """Flip the image upside down with probability ``p`` (default 0.5), one draw per image."""

    _axis = 0


_PADDING_MODES = ("constant", "edge", "reflect", "symmetric")


def _padding4(padding, who):
    """(left, top, right, bottom) from an int or a sequence of 1, 2 or 4 ints (torchvision)."""
    if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
        padding = [int(padding)]
    if (
        not isinstance(padding, (tuple, list))
        or len(padding) not in (1, 2, 4)
        or not all(isinstance(p, numbers.Integral) and not isinstance(p, bool) for p in padding)
    ):
        raise TypeError(
            f"{who}: padding should be an int or a sequence of 1, 2 or 4 ints, got {padding!r}"
        )
    if min(padding) < 0:
        raise ValueError(f"{who}: padding should be non-negative, got {padding!r}")
    p = [int(v) for v in padding]
    if len(p) == 1:
        return (p[0],) * 4
    if len(p) == 2:  # left/right, top/bottom
        return (p[0], p[1], p[0], p[1])
    return tuple(p)


def _check_fill(fill, who):
    if isinstance(fill, (tuple, list)):
        for f in fill:
            _check_number(f, "fill", who)
        return tuple(fill)
    return _check_number(fill, "fill", who)


def _pad(x, chw, pad, fill, mode, who):
    """Pad a batch's H and W axes by pad = (left, top, right, bottom)."""
    left, top, right, bottom = pad
    if not any(pad):
        return x
    hax, wax = _hw_axes(x, chw)
    width = [(0, 0)] * x.ndim
    width[hax], width[wax] = (top, bottom), (left, right)
    if mode != "constant":
        return np.pad(x, width, mode=mode)
    if not isinstance(fill, tuple):
        return np.pad(x, width, constant_values=fill)
    channels = x.shape[3] if (not chw and x.ndim == 4) else None
    if chw or channels != len(fill):
        raise ValueError(
            f"{who}: a tuple fill needs an H x W x C image with one value per "
            f"channel ({len(fill)} values given)"
        )
    return np.stack(
        [np.pad(x[..., c], width[:3], constant_values=f) for c, f in enumerate(fill)], axis=-1
    )


def _crop(x, chw, top, left, h, w):
    """The h x w window at (top[n], left[n]) of each image n of a batch (NumPy indexing of
    the sliding windows: one gather, no Python loop over the batch)."""
    hax, wax = _hw_axes(x, chw)
    windows = np.lib.stride_tricks.sliding_window_view(x, (h, w), axis=(hax, wax))
    n = np.arange(len(x))
    if chw:  # windows (N, ..., H', W', h, w) -> (N, ..., h, w)
        return windows[(n,) + (slice(None),) * (x.ndim - 3) + (top, left)]
    out = windows[n, top, left]  # (N, [C,] h, w)
    return np.moveaxis(out, 1, -1) if x.ndim == 4 else out


class RandomCrop(_Transform):
    """Crop the image at a random position (two uniform draws per image).

    Args:
        size (int or sequence): the crop (h, w); an int gives a square.
        padding (int or sequence, optional): padding added to the borders first: one int for
            all, (left/right, top/bottom) or (left, top, right, bottom).
        pad_if_needed (bool): pad an image smaller than ``size`` (both sides, by the
            missing amount, as torchvision) instead of raising. Default: False.
        fill (number or tuple): the constant padding value (a tuple: one per channel of an
            H x W x C image). Default: 0.
        padding_mode (str): ``'constant'``, ``'edge'``, ``'reflect'`` or ``'symmetric'``.
    """

    n_draws = 2

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size = _size2(size, "RandomCrop")
        self.padding = padding
        self._padding = None if padding is None else _padding4(padding, "RandomCrop")
        self.pad_if_needed = bool(pad_if_needed)
        self.fill = _check_fill(fill, "RandomCrop")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"RandomCrop: padding_mode should be one of {_PADDING_MODES}, got {padding_mode!r}"
            )
        self.padding_mode = padding_mode

    def _batch(self, x, chw, u):
        args = (self.fill, self.padding_mode, "RandomCrop")
        if self._padding is not None:
            x = _pad(x, chw, self._padding, *args)
        th, tw = self.size
        hax, wax = _hw_axes(x, chw)
        if self.pad_if_needed and x.shape[wax] < tw:
            d = tw - x.shape[wax]
            x = _pad(x, chw, (d, 0, d, 0), *args)
        if self.pad_if_needed and x.shape[hax] < th:
            d = th - x.shape[hax]
            x = _pad(x, chw, (0, d, 0, d), *args)
        h, w = x.shape[hax], x.shape[wax]
        if h < th or w < tw:
            raise ValueError(
                f"RandomCrop: required crop size {(th, tw)} is larger than input "
                f"image size {(h, w)}"
            )
        # floor(u * count) is uniform over the count positions; min() guards u's top end
        top = np.minimum((u[:, 0] * (h - th + 1)).astype(np.intp), h - th)
        left = np.minimum((u[:, 1] * (w - tw + 1)).astype(np.intp), w - tw)
        return _crop(x, chw, top, left, th, tw), chw

    def __repr__(self):
        return f"RandomCrop(size={self.size}, padding={self.padding})"


class CenterCrop(_Transform):
    """Crop the centre (h, w) of the image (zero-padded first when it is smaller), as
    torchvision's (the top-left corner is ``round((H - h) / 2), round((W - w) / 2)``)."""

    def __init__(self, size):
        self.size = _size2(size, "CenterCrop")

    def _batch(self, x, chw, u):
        th, tw = self.size
        hax, wax = _hw_axes(x, chw)
        h, w = x.shape[hax], x.shape[wax]
        if th > h or tw > w:
            dh, dw = max(th - h, 0), max(tw - w, 0)
            x = _pad(
                x,
                chw,
                (dw // 2, dh // 2, (dw + 1) // 2, (dh + 1) // 2),
                0,
                "constant",
                "CenterCrop",
            )
            h, w = x.shape[hax], x.shape[wax]
        top = np.full(len(x), int(round((h - th) / 2.0)), np.intp)
        left = np.full(len(x), int(round((w - tw) / 2.0)), np.intp)
        return _crop(x, chw, top, left, th, tw), chw

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


# ------------------------------------------------------------------ resizing


class InterpolationMode:
    """torchvision's interpolation names (only NEAREST and BILINEAR are implemented)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


_PIL_CODES = {0: "nearest", 2: "bilinear", 3: "bicubic", 1: "lanczos", 4: "box", 5: "hamming"}


def _weights(n_in, n_out, mode, antialias):
    """The (n_out, n_in) matrix of one axis' interpolation weights: torch's
    ``F.interpolate`` (align_corners=False, half-pixel centres) for nearest and bilinear, and
    PIL's triangle filter widened by the scale (torchvision's antialias) when shrinking."""
    scale = n_in / n_out
    m = np.zeros((n_out, n_in), np.float64)
    rows = np.arange(n_out)
    if mode == "nearest":
        src = np.floor(rows.astype(np.float32) * np.float32(scale)).astype(np.intp)
        m[rows, np.minimum(src, n_in - 1)] = 1.0
        return m
    centre = (rows + 0.5) * scale  # in input pixel units
    if antialias and scale > 1:  # a triangle as wide as `scale` input pixels, normalised
        taps = np.arange(n_in) + 0.5
        w = np.maximum(0.0, 1.0 - np.abs(taps[None, :] - centre[:, None]) / scale)
        return w / w.sum(axis=1, keepdims=True)
    # plain bilinear: the two pixels around the source position, clamped at the borders
    src = np.clip(centre - 0.5, 0, n_in - 1)
    i0 = np.floor(src).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = src - i0
    np.add.at(m, (rows, i0), 1 - frac)
    np.add.at(m, (rows, i1), frac)
    return m


class Resize(_Transform):
    """Resize the image (nearest or bilinear interpolation).

    Args:
        size (int or sequence): (h, w), or an int: the smaller edge becomes ``size`` and the
            other keeps the aspect ratio (``int(size * long / short)``).
        interpolation: ``InterpolationMode.BILINEAR`` (default) or ``NEAREST`` (or their
            strings, or PIL's codes 2 and 0). Others raise ValueError.
        max_size (int, optional): with an int ``size``, the bound of the longer edge.
        antialias (bool): shrinking with bilinear filters over the scaled support (PIL's and
            torchvision's default, True), or samples two pixels (False).

    Values follow torch's ``F.interpolate`` on tensors; uint8 images are computed in float and
    rounded (half to even), which may differ by 1 from PIL's fixed-point arithmetic.
    """

    def __init__(
        self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True
    ):
        if (
            isinstance(size, numbers.Integral)
            and not isinstance(size, bool)
            or (isinstance(size, (list, tuple)) and len(size) == 1)
        ):
            self.size = size
            self._short = _size2(size, "Resize")[0]
        else:
            self.size = _size2(size, "Resize")
            self._short = None
        mode = (
            _PIL_CODES.get(interpolation, interpolation)
            if isinstance(interpolation, int)
            else interpolation
        )
        if mode not in ("nearest", "bilinear"):
            raise ValueError(
                f"Resize: interpolation {interpolation!r} is not implemented; use "
                f"InterpolationMode.BILINEAR or InterpolationMode.NEAREST"
            )
        self.interpolation = mode
        if max_size is not None:
            if self._short is None:
                raise ValueError("Resize: max_size is only supported with an int size")
            _check_number(max_size, "max_size", "Resize", 1)
        self.max_size = max_size
        self.antialias = antialias

    def _output_size(self, h, w):
        if self._short is None:
            return self.size
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = self._short, int(self._short * long / short)
        if self.max_size is not None:
            if self.max_size <= self._short:
                raise ValueError(
                    f"Resize: max_size = {self.max_size} must be strictly greater "
                    f"than the requested size for the smaller edge "
                    f"{self._short}"
                )
            if new_long > self.max_size:
                new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)

    def _batch(self, x, chw, u):
        hax, wax = _hw_axes(x, chw)
        h, w = x.shape[hax], x.shape[wax]
        oh, ow = self._output_size(h, w)
        dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)
        y = x.astype(dtype, copy=False)
        for axis, n_in, n_out in ((hax, h, oh), (wax, w, ow)):
            if n_in != n_out:
                m = _weights(n_in, n_out, self.interpolation, self.antialias).astype(dtype)
                y = np.moveaxis(np.tensordot(y, m, axes=([axis], [1])), -1, axis)
        if x.dtype.kind != "f":
            info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
            y = np.rint(y)
            if info is not None:
                y = np.clip(y, info.min, info.max)
            y = y.astype(x.dtype)
        return np.ascontiguousarray(y), chw

    def __repr__(self):
        return (
            f"Resize(size={self.size}, interpolation={self.interpolation}, "
            f"max_size={self.max_size}, antialias={self.antialias})"
        )


# ------------------------------------------------------------------ back to PIL


class ToPILImage:
    """Convert a Tensor C x H x W (floats in [0, 1] become ``x * 255`` truncated to uint8, as
    torchvision) or an H x W x C array to a PIL Image. Needs Pillow."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        try:
            from PIL import Image
        except ImportError:
            raise ImportError(
                "ToPILImage needs Pillow: pip install pillow (minnet's "
                "transforms and datasets work on NumPy arrays without it)"
            ) from None
        if isinstance(pic, Tensor):
            a = pic.data
            if a.ndim == 2:
                a = a[None]
            if a.ndim != 3:
                raise ValueError(f"ToPILImage: pic should be 2/3 dimensional, got shape {a.shape}")
            if a.dtype.kind == "f":
                a = (a * 255).astype(np.uint8)  # torchvision: pic.mul(255).byte()
            a = a.transpose(1, 2, 0)
        elif isinstance(pic, np.ndarray):
            a = pic
        else:
            raise TypeError(
                f"ToPILImage: pic should be a Tensor or a NumPy array, got {type(pic).__name__}"
            )
        if a.ndim == 3 and a.shape[2] == 1:
            a = a[:, :, 0]
        return Image.fromarray(a, mode=self.mode) if self.mode else Image.fromarray(a)

    def __repr__(self):
        return "ToPILImage()"


def __getattr__(name):
    if name[:1].isupper() or name in ("v2", "functional"):
        raise AttributeError(
            f"minnet.vision.transforms has no {name} (torchvision's "
            f"transforms are only partly provided); available: "
            f"{', '.join(__all__)}"
        )
    raise AttributeError(f"module 'minnet.vision.transforms' has no attribute {name!r}")
