"""``import minnet as tf``: tf.keras, tf.nn.softmax, tf.random.set_seed, tf.constant and the
other TensorFlow names of minnet._tf_compat, against TensorFlow's documented behaviour."""

import numpy as np
import pytest
from tests_helpers_run import run_python

import minnet
import minnet as tf


def test_tf_keras_is_minnet_keras():
    from minnet import keras

    assert tf.keras is keras
    assert tf.keras.layers.Dense is keras.layers.Dense


def test_import_minnet_stays_lazy_about_keras():
    code = (
        "import sys, minnet as tf; assert 'minnet.keras' not in sys.modules; "
        "tf.keras.Sequential; assert 'minnet.keras' in sys.modules; print('ok')"
    )
    out = run_python("-c", code)
    assert out.stdout.strip() == "ok", out.stderr


def test_constant_and_convert_to_tensor_follow_tf_dtypes():
    assert tf.constant([1, 2]).dtype == np.int32  # Python ints: int32
    assert tf.constant([1.0, 2.0]).dtype == np.float32  # Python floats: float32
    assert tf.constant(np.arange(3)).dtype == np.int64  # arrays keep their dtype
    np.testing.assert_array_equal(tf.constant(0.5, shape=(2, 3)).numpy(), np.full((2, 3), 0.5))
    np.testing.assert_array_equal(
        tf.constant([1, 2, 3, 4], shape=[2, 2]).numpy(), [[1, 2], [3, 4]]
    )
    assert tf.constant([1, 2], dtype=tf.float32).dtype == np.float32
    a = np.ones((2, 2), np.float32)
    t = tf.constant(a)
    a[0, 0] = 5  # constant copies
    assert t.numpy()[0, 0] == 1
    x = minnet.ones(3)
    assert tf.convert_to_tensor(x) is x
    assert tf.convert_to_tensor(x, dtype=tf.float64).dtype == np.float64
    assert tf.convert_to_tensor([[1.5]]).shape == (1, 1)
    assert tf.cast(tf.constant([1.7, -1.7]), tf.int32).numpy().tolist() == [1, -1]


def test_reductions_take_axis_and_keepdims():
    x = [[1.0, 2.0], [3.0, 6.0]]
    assert tf.reduce_mean(x).item() == 3.0
    np.testing.assert_allclose(tf.reduce_mean(x, axis=0).numpy(), [2.0, 4.0])
    assert tf.reduce_mean(x, axis=1, keepdims=True).shape == (2, 1)
    assert tf.reduce_mean(tf.constant([1, 2])).numpy() == 1  # integer mean, as TF
    s = tf.reduce_sum(tf.constant([[1, 2], [3, 4]]), axis=[0, 1])
    assert s.item() == 10 and s.dtype == np.int32  # dtype kept, as TF
    np.testing.assert_array_equal(tf.reduce_max(x, axis=1).numpy(), [2.0, 6.0])
    assert tf.reduce_min(x, axis=[0, 1], keepdims=True).shape == (1, 1)
    assert tf.reduce_max(x).item() == 6.0
    # differentiable where it can be
    w = minnet.tensor([1.0, 3.0], requires_grad=True)
    tf.reduce_mean(w * w).backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 3.0])


def test_expand_dims_and_one_hot():
    assert tf.expand_dims(np.zeros((28, 28)), 0).shape == (1, 28, 28)
    assert tf.expand_dims(np.zeros((2, 3)), -1).shape == (2, 3, 1)
    oh = tf.one_hot([0, 2, -1, 3], 3)  # out of range: a row of zeros
    np.testing.assert_array_equal(oh.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    assert oh.dtype == np.float32
    np.testing.assert_array_equal(
        tf.one_hot([1], 2, on_value=5, off_value=-1, dtype=tf.int32).numpy(), [[-1, 5]]
    )
    assert tf.one_hot([[0, 1, 2]], 3, axis=0).shape == (3, 1, 3)
    with pytest.raises(TypeError, match="integers"):
        tf.one_hot([0.5], 2)


def test_argmax_takes_torch_dim_and_tf_axis():
    a = np.array([[1, 9, 3], [7, 2, 8]])
    np.testing.assert_array_equal(tf.argmax(a, axis=1).numpy(), [1, 2])
    np.testing.assert_array_equal(tf.argmax(a, axis=0).numpy(), [1, 0, 1])
    assert tf.argmax(a, axis=1, output_type=tf.int32).dtype == np.int32
    t = minnet.tensor(a)
    np.testing.assert_array_equal(minnet.argmax(t, dim=1).numpy(), [1, 2])  # torch's form
    assert minnet.argmax(t).item() == 1  # torch: the flattened index
    assert minnet.argmax(t, 1, keepdim=True).shape == (2, 1)
    assert tf.argmax(a, axis=1, keepdims=True).shape == (2, 1)
    with pytest.raises(TypeError, match="not both"):
        tf.argmax(t, dim=0, axis=0)


def test_tf_nn_functions_on_minnet_nn():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    p = tf.nn.softmax(logits).numpy()
    np.testing.assert_allclose(
        p, np.exp(logits) / np.exp(logits).sum(1, keepdims=True), rtol=1e-12
    )
    np.testing.assert_allclose(tf.nn.softmax(logits, axis=0).numpy().sum(0), [1, 1, 1])
    np.testing.assert_allclose(tf.nn.log_softmax(logits).numpy(), np.log(p), rtol=1e-10)
    np.testing.assert_array_equal(tf.nn.relu([-1.0, 2.0]).numpy(), [0.0, 2.0])
    np.testing.assert_allclose(tf.nn.sigmoid([0.0]).numpy(), [0.5])
    assert tf.nn.softmax([1, 2]).dtype == np.float32  # ints become float32
    assert "softmax" not in tf.nn.__all__  # not in `from nn import *`
    assert tf.nn.Softmax is minnet.nn.Softmax  # PyTorch's module intact


def test_tf_random_set_seed_repeats_a_run():
    def init():
        tf.random.set_seed(42)
        layer = tf.keras.layers.Dense(4)
        layer(np.zeros((1, 3), np.float32))
        return layer.get_weights()[0], np.random.rand(), minnet.randn(2).numpy()

    (w1, r1, n1), (w2, r2, n2) = init(), init()
    np.testing.assert_array_equal(w1, w2)
    assert r1 == r2
    np.testing.assert_array_equal(n1, n2)
    with pytest.raises(TypeError, match="seed must be an int"):
        tf.random.set_seed(1.5)


def test_basic_classification_tutorial_shape():
    """TensorFlow's basic-classification tutorial, as a student would run it after
    ``import tensorflow as tf`` -> ``import minnet as tf`` (written for this test): on the
    embedded Fashion-MNIST subset (6,500 train / 1,000 test images) three epochs reach
    about 0.81 test accuracy; asserted > 0.77."""
    tf.random.set_seed(0)
    fashion_mnist = tf.keras.datasets.fashion_mnist
    (train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data(subset=True)
    train_images = train_images / 255.0
    test_images = test_images / 255.0

    model = tf.keras.Sequential(
        [
            tf.keras.layers.Flatten(input_shape=(28, 28)),
            tf.keras.layers.Dense(128, activation="relu"),
            tf.keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    # the quickstart's look at an untrained prediction
    predictions = model(train_images[:1]).numpy()
    assert tf.nn.softmax(predictions).numpy().sum() == pytest.approx(1.0, rel=1e-6)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    assert 0.5 < float(loss_fn(train_labels[:1], predictions).numpy()) < 5.0

    model.fit(train_images, train_labels, epochs=3, verbose=0)
    test_loss, test_acc = model.evaluate(test_images, test_labels, verbose=0)
    assert test_acc > 0.77, test_acc

    probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
    predictions = probability_model.predict(test_images, verbose=0)
    assert predictions.shape == (1000, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    # the predicted labels are the model's: same accuracy as evaluate
    assert np.mean(np.argmax(predictions, axis=1) == test_labels) == pytest.approx(test_acc)
    img = np.expand_dims(test_images[1], 0)
    single = probability_model.predict(img, verbose=0)
    assert single.shape == (1, 10) and np.argmax(single[0]) == np.argmax(predictions[1])
