"""minnet.keras: the Keras 3 front end. Port a Keras exercise by changing
``from tensorflow import keras`` / ``import keras`` to ``from minnet import keras``, or a
``tf.keras`` tutorial by changing ``import tensorflow as tf`` to ``import minnet as tf``
(``tf.keras`` is this package; the few ``tf.*`` functions such tutorials call are in
minnet._tf_compat).

    >>> from minnet import keras
    >>> from minnet.keras import layers
    >>> model = keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten(),
    ...                           layers.Dense(128, activation="relu"),
    ...                           layers.Dense(10, activation="softmax")])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
    ...               metrics=["accuracy"])
    >>> history = model.fit(x_train, y_train, epochs=5, validation_split=0.1)
    >>> model.evaluate(x_test, y_test)

Keras's names, argument names, defaults and weight layouts (Dense kernel (in, out), Conv2D
kernel (kh, kw, in, out), channels-last images, Keras's RNN gate orders); underneath, layers
are minnet.nn modules in PyTorch's layouts, converted at the ``get_weights`` /
``set_weights`` boundary. Built on minnet.nn only.

What is here:

* Models: ``Sequential`` (list or ``add``, ``keras.Input`` / ``input_shape=`` / lazy build
  on first data), functional ``Model(inputs, outputs)`` (chains, residual connections and
  merges), subclassed ``keras.Model`` with its own ``call``; ``compile``, ``fit``
  (``History``), ``evaluate``, ``predict``, ``train_on_batch`` / ``test_on_batch`` /
  ``predict_on_batch``, ``summary``, ``count_params``, ``get_weights`` / ``set_weights``,
  ``save_weights`` / ``load_weights``, ``save`` / ``keras.models.load_model``, ``layers``,
  ``get_layer``.
* ``keras.layers``: Dense, Activation, ReLU, Softmax, LeakyReLU, ELU, Dropout, Flatten,
  Reshape, Rescaling, Normalization (``adapt``), BatchNormalization, LayerNormalization,
  Embedding, Input, InputLayer, Conv2D, MaxPooling2D, AveragePooling2D,
  GlobalAverage/MaxPooling2D, Conv1D, Max/AveragePooling1D, GlobalAverage/MaxPooling1D,
  SimpleRNN, GRU, LSTM, ``RNN`` over SimpleRNNCell / GRUCell / LSTMCell / StackedRNNCells
  or a custom cell, Bidirectional, TimeDistributed, Add, Subtract, Multiply, Average,
  Maximum, Minimum, Concatenate; custom layers subclass ``keras.layers.Layer`` (``build``
  with ``add_weight``, ``call``).
* ``keras.optimizers`` SGD, Adam, AdamW, RMSprop, Adagrad (+ ``schedules``);
  ``keras.losses``, ``keras.metrics`` (accuracy family, mse, mae, precision, recall),
  ``keras.callbacks`` (History, EarlyStopping, LearningRateScheduler, ReduceLROnPlateau,
  ModelCheckpoint, CSVLogger, LambdaCallback, TerminateOnNaN), ``keras.activations``,
  ``keras.initializers``, ``keras.regularizers``, ``keras.utils`` (to_categorical,
  normalize, set_random_seed, clear_session), ``keras.saving`` (load_model,
  register_keras_serializable, get_registered_name/object, custom_object_scope),
  ``keras.datasets`` (fashion_mnist, mnist),
  ``keras.ops`` (a NumPy-like subset on Tensors).

What fit does for speed: batches are NumPy slices (or one gather per batch when shuffling)
of the whole arrays, cast to float32 per batch; a final ``softmax`` (``sigmoid``) with a
categorical (binary) crossentropy is fused: the model runs to its logits and the loss is
minnet's log-softmax cross-entropy kernel (as TensorFlow's Keras does with a softmax
output); Dense's relu/sigmoid/tanh and Conv2D's relu run in the kernels' epilogues; runs of
convolution/pooling layers stay in NCHW between their first and last layer.

Deliberate differences from Keras 3 (everything else is meant to match):

* Backend: no ``keras.backend``; ``keras.ops`` is a small subset. Layers take and return
  ``minnet.Tensor`` (``model(x)`` returns a Tensor, ``predict`` a NumPy array); float32
  only. ``optimizer.iterations`` is a plain int.
* Files: ``save_weights``/``load_weights`` need a name ending in ``.weights.npz`` and
  ``model.save``/``keras.models.load_model`` one ending in ``.keras.npz`` (minnet's
  pickle-free .npz via minnet.save, written atomically), not Keras's ``.weights.h5`` /
  ``.keras``; weights load by layer order, every shape checked first. Whole-model files hold
  the architecture (constructor arguments), weights and compile settings but not the
  optimizer's slots; layers built with Python callables (unless registered with
  ``keras.saving.register_keras_serializable``), and subclassed models, cannot be saved
  whole (their weights can). ``ModelCheckpoint`` saves weights only.
* Models: functional models have one input and one output, and apply each layer once (no
  shared layers). fit/evaluate/predict take NumPy arrays (or lists, Tensors), not tf.data /
  generators. ``sample_weight`` / ``class_weight`` weight the loss as Keras (sum of weighted
  per-sample losses over the batch size); metrics stay unweighted (no ``weighted_metrics``).
  Subclassed models show "?" output shapes in ``summary``.
* Crossentropy with a fused final softmax/sigmoid computes the exact log-softmax; Keras on
  probabilities clips them to [1e-7, 1 - 1e-7] (so losses differ only where a predicted
  probability is below 1e-7). Unfused probability outputs are clipped as Keras does.
* Optimizers (see keras.optimizers): Adam's epsilon placement is reproduced exactly (eps
  rescaled per step); SGD momentum uses PyTorch's velocity, identical while the learning
  rate is constant (it differs after a learning-rate change); RMSprop and Adagrad follow
  Keras's sqrt(v + epsilon) in NumPy instead of minnet's fused kernels; no EMA.
* BatchNormalization, LayerNormalization, Normalization: axis=-1 only. BatchNormalization's
  moving variance uses the biased batch variance as Keras (corrected from minnet.nn's
  unbiased update).
* Dropout: ``noise_shape`` unsupported, ``seed`` ignored (masks come from minnet's
  generator). RNNs: ``recurrent_dropout``, masking (``Embedding(mask_zero=True)``) and
  non-default activations (except SimpleRNN's relu) are unsupported; GRU only
  ``reset_after=True``; Bidirectional only ``merge_mode='concat'``. ``RNN`` runs a custom
  cell step by step in Python (the built-in cells on the fused kernels); a ``stateful``
  layer takes its fixed batch size from its first call (no ``Input(batch_size=)``);
  ``unroll`` is accepted and changes nothing. ``keras.utils.plot_model`` raises
  ImportError (no pydot/Graphviz): use ``model.summary()``.
* Metrics: no AUC; Precision/Recall take one threshold (no ``top_k``).
  ``keras.utils.to_categorical`` returns float32. Random streams differ from TensorFlow's:
  ``keras.utils.set_random_seed`` makes minnet runs repeat, not match TensorFlow's numbers.
* Datasets come from local files only (``keras.datasets.fashion_mnist`` / ``mnist``).
* ``callbacks.TensorBoard`` is accepted but writes nothing (it warns).
* Progress output: Keras 3's format; the bar redraws in place on a terminal, in Jupyter or
  PyCharm, and prints once per epoch when the output is piped.
"""

from minnet.keras import (
    activations,
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    ops,
    optimizers,
    regularizers,
    saving,
    utils,
)
from minnet.keras.layers import Input, Layer
from minnet.keras.models import Model, Sequential

__all__ = [
    "Sequential",
    "Model",
    "Input",
    "Layer",
    "layers",
    "optimizers",
    "losses",
    "metrics",
    "callbacks",
    "utils",
    "datasets",
    "activations",
    "initializers",
    "regularizers",
    "models",
    "saving",
    "ops",
]

from minnet.keras import models  # noqa: E402
