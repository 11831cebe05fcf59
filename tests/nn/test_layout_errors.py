"""Conv2d given data in the wrong layout says so in the user's own shapes (issue 15)."""

import pytest

import minnet
from minnet import nn

# a channels-last image or batch, and what every layer that takes images says of it
CHANNELS_LAST = [
    (
        (8, 28, 28, 1),
        r"input of shape \(8, 28, 28, 1\) looks channels-last \(N, H, W, C\).*"
        r"x\.permute\(0, 3, 1, 2\)",
    ),
    ((28, 28, 1), r"\(28, 28, 1\) looks channels-last \(H, W, C\).*x\.permute\(2, 0, 1\)"),
]


@pytest.mark.parametrize(
    "shape,text",
    [
        *CHANNELS_LAST,
        (
            (8, 28, 28),
            r"shape \(8, 28, 28\) has 8 channels where 1 is expected.*x\.unsqueeze\(1\)",
        ),
    ],
)
def test_conv2d_names_the_layout_mistake(shape, text):
    conv = nn.Conv2d(1, 8, 3)
    with pytest.raises(ValueError, match=text):
        conv(minnet.zeros(*shape))


def test_conv2d_channels_last_rgb_and_right_layouts():
    conv = nn.Conv2d(3, 4, 3)
    with pytest.raises(ValueError, match=r"\(2, 32, 32, 3\) looks channels-last"):
        conv(minnet.zeros(2, 32, 32, 3))
    assert conv(minnet.zeros(2, 3, 32, 32)).shape == (2, 4, 30, 30)
    assert conv(minnet.zeros(3, 32, 32)).shape == (4, 30, 30)  # unbatched
    # channels_last memory format keeps the logical NCHW shape: no false alarm
    x = (
        minnet.zeros(2, 3, 8, 8).contiguous(memory_format=minnet.channels_last)
        if hasattr(minnet, "channels_last")
        else minnet.zeros(2, 3, 8, 8)
    )
    assert conv(x).shape == (2, 4, 6, 6)
    # a plain channel-count mistake keeps the kernel's message
    with pytest.raises(ValueError, match="has 5 channels but weight shape"):
        conv(minnet.zeros(2, 5, 8, 8))


def test_conv2d_two_dimensional_input_names_the_missing_channel_axis():
    with pytest.raises(ValueError, match=r"\(28, 28\) has no channel axis.*x\.unsqueeze\(0\)"):
        nn.Conv2d(1, 4, 3)(minnet.zeros(28, 28))


def test_unbatched_kernel_errors_quote_the_users_shape():
    # the layers batch a (C, H, W) input internally as (1, C, H, W); messages must not show it
    with pytest.raises(ValueError, match=r"\(4, 3, 3\) has 4 channels") as e:
        nn.Conv2d(2, 4, 3)(minnet.zeros(4, 3, 3))
    assert "(1, 4, 3, 3)" not in str(e.value)
    with pytest.raises(ValueError, match=r"too small for input shape \(4, 1, 9\)") as e:
        nn.MaxPool2d(2)(minnet.zeros(4, 1, 9))
    assert "(1, 4, 1, 9)" not in str(e.value)
    with pytest.raises(ValueError, match=r"input shape \(3, 0, 5\)"):
        nn.AdaptiveAvgPool2d(1)(minnet.zeros(3, 0, 5))


@pytest.mark.parametrize("layer", [nn.MaxPool2d(2), nn.AvgPool2d(3)])
@pytest.mark.parametrize(
    "shape,text", [*CHANNELS_LAST, ((28, 28), r"\(28, 28\) has no channel axis")]
)
def test_pools_name_the_layout_mistake(layer, shape, text):
    with pytest.raises(ValueError, match=text):
        layer(minnet.zeros(*shape))


def test_pool_errors_without_a_layout_mistake_have_no_hint():
    with pytest.raises(ValueError, match="too small") as e:
        nn.MaxPool2d(5)(minnet.zeros(1, 3, 4, 4))
    assert "channels-last" not in str(e.value)
    assert nn.MaxPool2d(2)(minnet.zeros(2, 3, 8, 8)).shape == (2, 3, 4, 4)


def test_batchnorm2d_names_the_layout_mistake():
    bn = nn.BatchNorm2d(3)
    with pytest.raises(
        ValueError,
        match=r"\(2, 8, 8, 3\) looks channels-last.*"
        r"x\.permute\(0, 3, 1, 2\)",
    ):
        bn(minnet.zeros(2, 8, 8, 3))
    with pytest.raises(ValueError, match=r"for one image \(C, H, W\) pass x\.unsqueeze\(0\)"):
        bn(minnet.zeros(3, 8, 8))
    with pytest.raises(ValueError, match=r"got shape \(2, 5, 8, 8\)$"):
        bn(minnet.zeros(2, 5, 8, 8))
