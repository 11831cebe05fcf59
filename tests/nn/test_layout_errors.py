"""Conv2d given data in the wrong layout says so in the user's own shapes (issue 15)."""
import pytest

import minnet
from minnet import nn


@pytest.mark.parametrize("shape,text", [
    ((8, 28, 28, 1), r"input of shape \(8, 28, 28, 1\) looks channels-last \(N, H, W, C\).*"
                     r"x\.permute\(0, 3, 1, 2\)"),
    ((28, 28, 1), r"\(28, 28, 1\) looks channels-last \(H, W, C\).*x\.permute\(2, 0, 1\)"),
    ((8, 28, 28), r"shape \(8, 28, 28\) has 8 channels where 1 is expected.*x\.unsqueeze\(1\)"),
])
def test_conv2d_names_the_layout_mistake(shape, text):
    conv = nn.Conv2d(1, 8, 3)
    with pytest.raises(ValueError, match=text):
        conv(minnet.zeros(*shape))


def test_conv2d_channels_last_rgb_and_right_layouts():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"\(2, 32, 32, 3\) looks channels-last"):
        conv(minnet.zeros(2, 32, 32, 3))
    assert conv(minnet.zeros(2, 3, 32, 32)).shape == (2, 4, 30, 30)
    assert conv(minnet.zeros(3, 32, 32)).shape == (4, 30, 30)          # unbatched
    # channels_last memory format keeps the logical NCHW shape: no false alarm
    x = minnet.zeros(2, 3, 8, 8).contiguous(memory_format=minnet.channels_last) \
        if hasattr(minnet, "channels_last") else minnet.zeros(2, 3, 8, 8)
    assert conv(x).shape == (2, 4, 6, 6)
    # a plain channel-count mistake keeps the kernel's message
    with pytest.raises(ValueError, match="has 5 channels but weight shape"):
        conv(minnet.zeros(2, 5, 8, 8))
