"""keras.layers Conv2D / pooling on channels-last images against NumPy references written
with Keras's kernel layout (kh, kw, in, out) and TensorFlow's 'same' padding."""

import math

import numpy as np
import pytest

from minnet import keras, nn
from minnet.keras import layers

pytestmark = pytest.mark.skipif(not hasattr(nn, "Conv2d"), reason="no minnet.nn.Conv2d")


def _same(size, k, s):
    total = max((math.ceil(size / s) - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _sliding(x, kh, kw, stride, padding, channels, reduce, fill=0.0):
    """reduce(window) -> (n, channels) over every (kh, kw) window of the NHWC batch x, padded
    as TensorFlow pads ('same': with fill, the odd row/column at the end)."""
    if padding == "same":
        (t, b), (l, r) = _same(x.shape[1], kh, stride), _same(x.shape[2], kw, stride)
        x = np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)), constant_values=fill)
    n, h, w, _ = x.shape
    oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
    out = np.zeros((n, oh, ow, channels))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = reduce(x[:, i * stride : i * stride + kh, j * stride : j * stride + kw])
    return out


def _conv_nhwc(x, kernel, bias, stride, padding):
    kh, kw, _, co = kernel.shape
    dot = lambda patch: np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return _sliding(x, kh, kw, stride, padding, co, dot) + bias


def _pool_nhwc(x, k, stride, padding, kind):
    if kind == "max":
        fill, reduce = -np.inf, lambda win: win.max((1, 2))
    else:
        fill, reduce = np.nan, lambda win: np.nanmean(win, (1, 2))
    return _sliding(x.astype(np.float64), k, k, stride, padding, x.shape[3], reduce, fill)


@pytest.mark.parametrize(
    "k,stride,padding",
    [
        (3, 1, "valid"),
        (3, 1, "same"),
        (2, 1, "same"),
        (3, 2, "same"),
        (2, 2, "valid"),
        (4, 2, "same"),
    ],
)
def test_conv2d_channels_last_equals_numpy_with_keras_kernel(k, stride, padding):
    rng = np.random.default_rng(k * 10 + stride)
    x = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    layer = layers.Conv2D(4, k, strides=stride, padding=padding)
    layer(x)  # builds the layer
    kernel, bias = layer.get_weights()
    assert kernel.shape == (k, k, 3, 4) and bias.shape == (4,)
    bias = rng.normal(size=4).astype(np.float32)
    layer.set_weights([kernel, bias])
    want = _conv_nhwc(x.astype(np.float64), kernel, bias, stride, padding)
    got = layer(x).numpy()
    assert got.shape == want.shape == (2,) + layer.compute_output_shape((None, 7, 6, 3))[1:]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    relu = layers.Conv2D(4, k, strides=stride, padding=padding, activation="relu")
    relu(x)
    relu.set_weights([kernel, bias])
    np.testing.assert_allclose(relu(x).numpy(), np.maximum(want, 0), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "cls,kind", [(layers.MaxPooling2D, "max"), (layers.AveragePooling2D, "avg")]
)
@pytest.mark.parametrize(
    "k,stride,padding",
    [(2, None, "valid"), (2, None, "same"), (3, 2, "same"), (3, 1, "same"), (2, 1, "valid")],
)
def test_pooling_equals_numpy(cls, kind, k, stride, padding):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 7, 6, 3)).astype(np.float32)
    layer = cls(pool_size=k, strides=stride, padding=padding)
    want = _pool_nhwc(x, k, stride or k, padding, kind)
    got = layer(x).numpy()
    assert got.shape == want.shape
    assert layer.compute_output_shape((None, 7, 6, 3)) == (None,) + want.shape[1:]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_global_pooling():
    x = np.random.default_rng(6).normal(size=(2, 4, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        layers.GlobalAveragePooling2D()(x).numpy(), x.mean((1, 2)), rtol=1e-5
    )
    np.testing.assert_allclose(layers.GlobalMaxPooling2D()(x).numpy(), x.max((1, 2)))
    assert layers.GlobalAveragePooling2D(keepdims=True)(x).shape == (2, 1, 1, 3)


def test_model_nchw_chain_equals_layer_by_layer():
    keras.utils.set_random_seed(7)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            layers.Conv2D(4, 3, padding="same", activation="relu"),
            layers.BatchNormalization(),
            layers.Activation("tanh"),
            layers.MaxPooling2D(),
            layers.Dropout(0.3),
            layers.Conv2D(3, 3, strides=2, padding="same"),
            layers.Flatten(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    x = np.random.default_rng(7).normal(size=(5, 8, 8, 2)).astype(np.float32)
    y = x
    for layer in model.layers:
        y = layer(y, training=False)
    np.testing.assert_allclose(model.predict(x, verbose=0), y.numpy(), rtol=1e-5, atol=1e-6)
    # batch norm in training mode: the same statistics in NCHW as channels-last
    bn = model.layers[1]
    before = bn.get_weights()
    h = model.layers[0](x)
    bn(h, training=True)
    nhwc = bn.get_weights()
    bn.set_weights(before)
    from minnet.keras.layers.convolutional import to_nchw

    bn.call_nchw(to_nchw(h), training=True)
    for a, b in zip(nhwc, bn.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_tiny_cnn_trains():
    keras.utils.set_random_seed(8)
    rng = np.random.default_rng(8)
    n = 256
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 0.5, size=(n, 8, 8, 1)).astype(np.float32)
    x[y == 1, 2:6, 3:5, 0] += 2.0  # class 1: a vertical bar
    x[y == 0, 3:5, 2:6, 0] += 2.0  # class 0: a horizontal bar
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            layers.Conv2D(8, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(8, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    hist = model.fit(x, y, epochs=8, batch_size=32, verbose=0, validation_split=0.25)
    assert hist.history["val_accuracy"][-1] >= 0.95, hist.history
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 8, 8, 8)" in text and "(None, 4, 4, 8)" in text and "(None, 2, 2, 8)" in text
    assert model.count_params() == (9 * 8 + 8) + (72 * 8 + 8) + (8 * 2 + 2)


def test_conv_relu_maxpool_runs_fused_with_the_same_values_and_gradients(monkeypatch):
    """Sequential runs Conv2D(relu) + MaxPooling2D() as one node (minnet.nn._fusion); its
    output and weight gradients equal the layers called one by one."""
    import minnet
    from minnet.keras.layers import convolutional

    calls = []
    fused_fn = convolutional.F.conv2d_relu_max_pool2d
    monkeypatch.setattr(
        convolutional.F,
        "conv2d_relu_max_pool2d",
        lambda *a, **k: calls.append(1) or fused_fn(*a, **k),
    )
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((9, 10, 2)),
            layers.Conv2D(8, 3, padding="same", activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(3),
        ]
    )
    conv, pool = model.layers[0], model.layers[1]
    from minnet.nn._fusion import plan

    assert (conv.fusion_role(), pool.fusion_role()) == ("conv_relu", "pool2")
    assert list(plan([conv.fusion_role(), pool.fusion_role()])) == [(0, 2, "relu_pool")]
    assert layers.MaxPooling2D(3).fusion_role() is None
    assert layers.MaxPooling2D(2, padding="same").fusion_role() is None
    assert layers.Conv2D(4, 3, activation="tanh").fusion_role() is None
    x = np.random.default_rng(3).normal(size=(4, 9, 10, 2)).astype(np.float32)
    grads = []
    for fused in (True, False):
        xt = minnet.Tensor(x)
        if fused:
            out = model(xt, training=True)
        else:
            out = xt
            for layer in model.layers:
                out = layer(out, training=True)
        params = [conv.conv.weight, conv.conv.bias]
        for w in params:
            w.grad = None
        (out * out).sum().backward()
        grads.append((out.numpy(), [w.grad.numpy().copy() for w in params]))
    assert len(calls) == 1  # the model's own call only
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-6, atol=1e-6)
    for a, b in zip(grads[0][1], grads[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
