"""keras.layers.RNN over SimpleRNNCell / GRUCell / LSTMCell / custom cells, go_backwards,
stateful, StackedRNNCells, register_keras_serializable, plot_model."""

import numpy as np
import pytest
from test_keras_recurrent import _keras_gru, _keras_lstm, _sign_of_sum, _simple_rnn, _weights

import minnet
from minnet import keras
from minnet.keras import layers, ops

KINDS = {
    "simple": (layers.SimpleRNNCell, layers.SimpleRNN, 1),
    "gru": (layers.GRUCell, layers.GRU, 3),
    "lstm": (layers.LSTMCell, layers.LSTM, 4),
}


def _x(seed=0, shape=(3, 5, 4)):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _reference(kind, x, ws):
    """Keras's equations (NumPy) for the whole sequence: (outputs, final states)."""
    if kind == "gru":
        seq = _keras_gru(x, *ws)
        return seq, [seq[:, -1]]
    if kind == "lstm":
        seq, h, c = _keras_lstm(x, *ws)
        return seq, [h, c]
    seq = _simple_rnn(x, *ws)
    return seq, [seq[:, -1]]


class MinimalRNNCell(keras.layers.Layer):
    """Keras's documented example cell, with a tanh: h' = tanh(x W + h U)."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer="uniform", name="kernel"
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer="orthogonal", name="recurrent_kernel"
        )

    def call(self, inputs, states):
        h = ops.tanh(
            ops.matmul(inputs, self.kernel) + ops.matmul(states[0], self.recurrent_kernel)
        )
        return h, [h]


class TwoStateCell(keras.layers.Layer):
    """A cell with state_size a list: a tanh RNN state and a running sum of the inputs."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = [units, units]
        self.output_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")

    def call(self, inputs, states):
        h, total = states
        z = ops.matmul(inputs, self.kernel)
        h = ops.tanh(z + h)
        return h, [h, total + z]


# ---------------------------------------------------------------------------- built-in cells
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "return_sequences,return_state", [(False, False), (True, False), (False, True), (True, True)]
)
def test_rnn_of_a_builtin_cell_is_the_layer(kind, return_sequences, return_state):
    cell_cls, layer_cls, gates = KINDS[kind]
    x = _x()
    ws = _weights(np.random.default_rng(1), 4, 6, gates, gru=kind == "gru")
    flags = dict(return_sequences=return_sequences, return_state=return_state)
    rnn, layer = layers.RNN(cell_cls(6), **flags), layer_cls(6, **flags)
    for lay in (rnn, layer):
        lay(x)
        lay.set_weights(ws)
    # the same minnet.nn module underneath (the fused sequence kernel), same weight layout
    assert type(rnn.cell.rnn) is type(layer.rnn)
    assert [w.shape for w in rnn.get_weights()] == [w.shape for w in ws]
    assert [w.name for w in rnn.weights] == ["kernel", "recurrent_kernel", "bias"]
    got_rnn, got_layer = rnn(x), layer(x)
    seq, states = _reference(kind, x, ws)
    want = [seq if return_sequences else seq[:, -1]] + (states if return_state else [])
    got_rnn = got_rnn if return_state else [got_rnn]
    got_layer = got_layer if return_state else [got_layer]
    assert len(got_rnn) == len(got_layer) == len(want)
    for a, b, w in zip(got_rnn, got_layer, want):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_allclose(a.numpy(), w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_builtin_cell_steps_equal_the_sequence(kind):
    cell_cls, _, gates = KINDS[kind]
    x = _x(2)
    cell = cell_cls(6)
    rnn = layers.RNN(cell, return_sequences=True, return_state=True)
    out, *final = rnn(x)
    states = cell.get_initial_state(batch_size=3)
    assert [tuple(s.shape) for s in states] == [(3, 6)] * (2 if kind == "lstm" else 1)
    for t in range(x.shape[1]):
        y, states = cell(x[:, t], states)  # Keras's cell call: (output, new_states)
        np.testing.assert_allclose(y.numpy(), out.numpy()[:, t], rtol=1e-5, atol=1e-6)
    for a, b in zip(states, final):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert cell.state_size == (6 if kind != "lstm" else [6, 6]) and cell.output_size == 6


@pytest.mark.parametrize("kind", KINDS)
def test_rnn_cell_gradients_equal_the_layer(kind):
    cell_cls, layer_cls, gates = KINDS[kind]
    x = _x(3)
    ws = _weights(np.random.default_rng(4), 4, 5, gates, gru=kind == "gru")
    r = np.random.default_rng(5).normal(size=(3, 5, 5)).astype(np.float32)
    grads = []
    for lay in (
        layers.RNN(cell_cls(5), return_sequences=True),
        layer_cls(5, return_sequences=True),
    ):
        lay(x)
        lay.set_weights(ws)
        xt = minnet.tensor(x, requires_grad=True)
        (lay(xt) * minnet.tensor(r)).sum().backward()
        grads.append([xt.grad.numpy()] + [p.grad.numpy() for p in lay.parameters()])
    assert len(grads[0]) == len(grads[1]) > 1
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


def _finite_difference_check(layer, x, r, params, eps=1e-6, rtol=1e-6):
    """Autograd gradients of sum(layer(x) * r) against central differences (float64)."""

    def loss():
        return float((layer(minnet.tensor(x)) * minnet.tensor(r)).sum().item())

    xt = minnet.tensor(x, requires_grad=True)
    (layer(xt) * minnet.tensor(r)).sum().backward()
    checks = [(xt.grad.numpy(), None)] + [(p.grad.numpy().copy(), p) for p in params]
    for grad, p in checks:
        target = x if p is None else p.data
        idx = np.random.default_rng(0).choice(target.size, size=min(target.size, 8), replace=False)
        for i in idx:
            old = target.flat[i]
            target.flat[i] = old + eps
            up = loss()
            target.flat[i] = old - eps
            down = loss()
            target.flat[i] = old
            np.testing.assert_allclose(grad.flat[i], (up - down) / (2 * eps), rtol=rtol, atol=1e-8)


def _to_float64(module):
    for p in module.parameters():
        p.data = p.data.astype(np.float64)


def test_fused_cell_gradients_by_finite_differences_float64():
    x = _x(6).astype(np.float64)
    r = np.random.default_rng(7).normal(size=(3, 5, 6))
    rnn = layers.RNN(layers.GRUCell(6), return_sequences=True, go_backwards=True)
    rnn(x.astype(np.float32))
    _to_float64(rnn)  # the kernels run float64 too: exact finite differences
    _finite_difference_check(rnn, x, r, list(rnn.parameters()))


# ---------------------------------------------------------------------------- custom cells
def test_custom_cell_matches_its_equations_and_finite_differences():
    keras.utils.set_random_seed(0)
    cell = MinimalRNNCell(5)
    rnn = layers.RNN(cell, return_sequences=True, return_state=True)
    x = _x(8)
    seq, h = rnn(x)
    k, u = rnn.get_weights()
    assert [w.path for w in rnn.weights] == [
        f"{cell.name}/kernel",
        f"{cell.name}/recurrent_kernel",
    ]
    want = np.zeros((3, 5))
    for t in range(5):
        want = np.tanh(x[:, t] @ k + want @ u)
        np.testing.assert_allclose(seq.numpy()[:, t], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), want, rtol=1e-5, atol=1e-6)
    # gradients through the Python step loop: float64 finite differences
    _to_float64(rnn)
    r = np.random.default_rng(9).normal(size=(3, 5))
    last = layers.RNN(cell)  # the same cell, last output only
    _finite_difference_check(last, x.astype(np.float64), r, list(cell.parameters()))


def test_custom_cell_with_two_states_and_initial_state():
    cell = TwoStateCell(4)
    rnn = layers.RNN(cell, return_state=True)
    x = _x(10)
    h0 = np.full((3, 4), 0.5, np.float32)
    t0 = np.ones((3, 4), np.float32)
    out, h, total = rnn(x, initial_state=[h0, t0])
    (k,) = rnn.get_weights()
    want_h = h0
    for t in range(5):
        want_h = np.tanh(x[:, t] @ k + want_h)
    np.testing.assert_allclose(out.numpy(), want_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), want_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(total.numpy(), t0 + x.sum(1) @ k, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="initial_state must hold 2"):
        rnn(x, initial_state=[h0])


def test_custom_cell_trains_on_a_toy_task():
    """Is the running sum of a sequence positive at the end? The custom cell learns it."""
    keras.utils.set_random_seed(1)
    x, y = _sign_of_sum(512, 8, seed=1)
    model = keras.Sequential(
        [keras.Input((8, 1)), layers.RNN(MinimalRNNCell(8)), layers.Dense(1, activation="sigmoid")]
    )
    model.compile(keras.optimizers.Adam(0.03), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:384], y[:384], epochs=15, batch_size=32, verbose=0)
    _, acc = model.evaluate(x[384:], y[384:], verbose=0)
    assert acc > 0.9, acc


def test_stacked_cells_fused_and_python():
    x = _x(11)
    fused = layers.RNN(
        [layers.GRUCell(6), layers.LSTMCell(5)], return_sequences=True, return_state=True
    )
    seq, h1, (h2, c2) = fused(x)
    w = fused.get_weights()
    assert len(w) == 6 and fused.cell._fused
    # the same stack as two layers
    g, lstm = (
        layers.GRU(6, return_sequences=True),
        layers.LSTM(5, return_sequences=True, return_state=True),
    )
    mid = g(x)
    g.set_weights(w[:3])
    lstm(g(x))
    lstm.set_weights(w[3:])
    want, wh, wc = lstm(g(x))
    for a, b in ((seq, want), (h2, wh), (c2, wc)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h1.numpy(), g(x).numpy()[:, -1], rtol=1e-5, atol=1e-6)
    assert mid.shape == (3, 5, 6)
    # a custom cell in the stack: the Python step loop, same numbers for the built-in part
    mixed = layers.RNN(layers.StackedRNNCells([layers.GRUCell(6), MinimalRNNCell(3)]))
    out = mixed(x)
    mixed.set_weights(w[:3] + mixed.get_weights()[3:])
    k, u = mixed.get_weights()[3:]
    hg = g(x).numpy()
    h = np.zeros((3, 3))
    for t in range(5):
        h = np.tanh(hg[:, t] @ k + h @ u)
    np.testing.assert_allclose(mixed(x).numpy(), h, rtol=1e-5, atol=1e-6)
    assert out.shape == (3, 3)


# ---------------------------------------------------------------------------- go_backwards
@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.RNN(
            layers.LSTMCell(4), return_sequences=True, return_state=True, go_backwards=True
        ),
        lambda: layers.GRU(4, return_sequences=True, return_state=True, go_backwards=True),
        lambda: layers.RNN(
            MinimalRNNCell(4), return_sequences=True, return_state=True, go_backwards=True
        ),
    ],
)
def test_go_backwards_is_the_reversed_input(make):
    """Keras: the sequence is read from its last step, and the returned sequence is in
    that (reversed) processing order."""
    back = make()
    x = _x(12)
    got = back(x)
    forward = make()
    forward.go_backwards = False
    forward(x)
    forward.set_weights(back.get_weights())
    want = forward(np.ascontiguousarray(x[:, ::-1]))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    # the last output has read the first time step last: it is the final state
    np.testing.assert_allclose(got[0].numpy()[:, -1], got[1].numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------- stateful
@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: layers.LSTM(4, **kw),
        lambda **kw: layers.RNN(layers.SimpleRNNCell(4), **kw),
        lambda **kw: layers.RNN(MinimalRNNCell(4), **kw),
    ],
)
def test_stateful_carries_states_across_calls(make):
    x = _x(13, (2, 6, 3))
    whole = make(return_sequences=True)
    want = whole(x).numpy()
    carried = make(return_sequences=True, stateful=True)
    carried(x[:, :1])
    carried.set_weights(whole.get_weights())
    carried.reset_states()
    first, second = carried(x[:, :4]).numpy(), carried(x[:, 4:]).numpy()
    np.testing.assert_allclose(np.concatenate([first, second], 1), want, rtol=1e-5, atol=1e-6)
    assert carried.states is not None
    carried.reset_state()  # back to zeros: a fresh start
    np.testing.assert_allclose(carried(x[:, :4]).numpy(), first, rtol=1e-6)
    with pytest.raises(ValueError, match="batch of 2 samples, got a batch of 3"):
        carried(_x(14, (3, 2, 3)))
    # without stateful, the second call starts from zeros again
    plain = make(return_sequences=True)
    plain(x)
    plain.set_weights(whole.get_weights())
    plain(x[:, :4])
    assert not np.allclose(plain(x[:, 4:]).numpy(), second)


def test_stateful_model_predicts_a_long_sequence_in_chunks():
    keras.utils.set_random_seed(3)
    x = _x(15, (4, 12, 2))
    model = keras.Sequential(
        [keras.Input((None, 2)), layers.GRU(5, stateful=True), layers.Dense(1)]
    )
    ref = keras.Sequential([keras.Input((12, 2)), layers.GRU(5), layers.Dense(1)])
    ref.set_weights(model.get_weights())
    want = ref.predict(x, verbose=0)
    for chunk in range(3):
        got = model.predict(x[:, 4 * chunk : 4 * chunk + 4], batch_size=4, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    model.reset_states()  # Keras 2's name; reset_state() is Keras 3's
    np.testing.assert_allclose(
        model.predict(x, batch_size=4, verbose=0), want, rtol=1e-5, atol=1e-6
    )


# ---------------------------------------------------------------------------- errors
def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(layers.Dense(3))
    with pytest.raises(TypeError, match="keras.layers.Layer"):
        layers.RNN(lambda x, s: (x, s))
    with pytest.raises(ValueError, match='GRU "my_gru": units must be a positive int'):
        layers.GRU(0, name="my_gru")
    with pytest.raises(ValueError, match="masking is not supported"):
        layers.RNN(layers.GRUCell(3))(_x(), mask=np.ones((3, 5), bool))
    with pytest.raises(ValueError, match="go_backwards=True or stateful=True"):
        layers.Bidirectional(layers.GRU(3, go_backwards=True))
    with pytest.raises(ImportError, match="model.summary"):
        keras.utils.plot_model(keras.Sequential([layers.Dense(1)]))


def test_bidirectional_accepts_rnn_of_a_builtin_cell():
    x = _x(16)
    a = layers.Bidirectional(layers.RNN(layers.GRUCell(3), return_sequences=True))
    b = layers.Bidirectional(layers.GRU(3, return_sequences=True))
    a(x)
    b(x)
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    assert a(x).shape == (3, 5, 6)


# ---------------------------------------------------------------------------- saving
def test_register_keras_serializable_round_trip(tmp_path):
    @keras.saving.register_keras_serializable(package="course_test")
    class RegisteredCell(MinimalRNNCell):
        pass

    assert keras.saving.get_registered_name(RegisteredCell) == "course_test>RegisteredCell"
    assert keras.saving.get_registered_object("course_test>RegisteredCell") is RegisteredCell
    assert keras.utils.register_keras_serializable is keras.saving.register_keras_serializable
    model = keras.Sequential(
        [
            keras.Input((5, 4)),
            layers.RNN(RegisteredCell(6), return_sequences=True),
            layers.RNN([layers.GRUCell(4), layers.LSTMCell(3)]),
            layers.Dense(2),
        ]
    )
    model.compile("adam", "mse")
    path = tmp_path / "m.keras.npz"
    model.save(path)
    loaded = keras.models.load_model(path)  # no custom_objects needed
    assert type(loaded.layers[0].cell) is RegisteredCell
    assert isinstance(loaded.layers[1].cell, layers.StackedRNNCells)
    x = _x(17)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )


def test_load_model_with_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input((5, 4)), layers.RNN(TwoStateCell(3)), layers.Dense(1)])
    path = tmp_path / "m.keras.npz"
    model.save(path)
    with pytest.raises(ValueError, match="custom_objects=.*register_keras_serializable"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(path, custom_objects={"TwoStateCell": TwoStateCell})
    x = _x(18)
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )
    with keras.saving.custom_object_scope({"TwoStateCell": TwoStateCell}):
        assert keras.models.load_model(path).layers[0].cell.units == 3
    assert "TwoStateCell" not in keras.saving.get_custom_objects()


def test_registered_function_is_saved_by_name(tmp_path):
    @keras.saving.register_keras_serializable(package="course_test", name="scaled_tanh")
    def scaled_tanh(x):
        return ops.tanh(x) * 2.0

    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, activation=scaled_tanh)])
    path = tmp_path / "f.keras.npz"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = _x(19, (4, 3))
    np.testing.assert_allclose(
        loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6
    )


# ---------------------------------------------------------------------------- a script
def test_script_gru_cell_classifies_image_rows():
    """The Keras RNN-API shape of a course exercise: each image's 28 rows are 28 time
    steps into RNN(GRUCell(32)); on the embedded Fashion-MNIST subset (6,500 train, 1,000
    test images) two epochs reach 0.75-0.78 test accuracy (seeds 0-2); asserted > 0.72."""
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data(subset=True)
    x_train, x_test = x_train / 255.0, x_test / 255.0
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.RNN(layers.GRUCell(32)),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=2, batch_size=32, verbose=0)
    _, acc = model.evaluate(x_test, y_test, verbose=0)
    assert acc > 0.72, acc
