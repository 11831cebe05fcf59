"""Layout-aware error hints for image layers (Conv2d, BatchNorm2d, the pools).

minnet.nn is channels-first like PyTorch: a batch is (N, C, H, W), one image (C, H, W). Data
from Keras, PIL or matplotlib is often channels-last (N, H, W, C), or has no channel axis at
all (N, H, W). When a layer's check fails on such a shape, these functions say which mistake it
looks like and the one call that fixes it, quoting the shape exactly as the user passed it.
Each returns None when the shape is not a recognisable layout mistake.
"""

__all__ = ["channel_hint", "pool_hint"]

_PERMUTE = {
    4: ("(N, H, W, C)", "(N, C, H, W)", "x.permute(0, 3, 1, 2)"),
    3: ("(H, W, C)", "(C, H, W)", "x.permute(2, 0, 1)"),
}


def _channels_last(shape):
    last, want, perm = _PERMUTE[len(shape)]
    return (
        f"input of shape {tuple(shape)} looks channels-last {last}, but minnet.nn is "
        f"channels-first {want} like PyTorch: pass {perm}"
    )


def _no_channel_axis(shape):
    return (
        f"input of shape {tuple(shape)} has no channel axis: minnet.nn takes (N, C, H, W) "
        f"or one image (C, H, W); for one grey image pass x.unsqueeze(0), for a batch of "
        f"grey images (N, H, W) pass x.unsqueeze(1)"
    )


def channel_hint(shape, channels):
    """The hint for an input whose channel axis should hold ``channels`` but does not."""
    shape = tuple(shape)
    nd = len(shape)
    if nd == 2:
        return _no_channel_axis(shape)
    if nd not in (3, 4) or shape[1 if nd == 4 else 0] == channels:
        return None
    if shape[-1] == channels:
        return _channels_last(shape)
    if nd == 3 and channels == 1:
        return (
            f"a 3-D input is one unbatched image (C, H, W), and shape {shape} has "
            f"{shape[0]} channels where 1 is expected; for a batch of 1-channel images "
            f"(N, H, W) add the channel axis: x.unsqueeze(1)"
        )
    return None


def pool_hint(shape):
    """The hint for a pooling (which does not know the channel count) that failed on ``shape``:
    a last axis of at most 4 (grey, RGB, RGBA) behind a larger spatial axis looks channels-last."""
    shape = tuple(shape)
    nd = len(shape)
    if nd == 2:
        return _no_channel_axis(shape)
    if nd in (3, 4) and shape[-1] <= 4 < shape[-3]:
        return _channels_last(shape)
    return None
