"""Recurrent layers as Keras 3 structures them: ``RNN(cell)`` runs a cell over the time axis
of (batch, timesteps, features); ``SimpleRNN``, ``GRU`` and ``LSTM`` are ``RNN`` over their
built-in cell.

The built-in cells (``SimpleRNNCell``, ``GRUCell``, ``LSTMCell``) hold their weights in one
minnet.nn sequence module (``nn.RNN``/``nn.GRU``/``nn.LSTM``, batch_first), shown in Keras's
layouts through minnet.nn.rnn_interop. ``RNN`` over a built-in cell hands the whole sequence
to that module, i.e. to the fused C kernels (``RNN(GRUCell(64))`` *is* ``GRU(64)``); a cell
called on its own runs the same module for one step. Any other cell (a ``keras.layers.Layer``
with ``state_size`` and ``call(inputs, states)``) runs step by step in Python, every step an
ordinary autograd graph, so its gradients are exact but each step pays Python's overhead.
"""

import numpy as np

from minnet import nn
from minnet.keras import activations, initializers
from minnet.keras.layers.base import Layer, Weight, _snake, _unique_name
from minnet.nn import rnn_interop
from minnet.random import get_generator
from minnet.tensor import Tensor, cat, stack

__all__ = [
    "RNN",
    "StackedRNNCells",
    "SimpleRNNCell",
    "GRUCell",
    "LSTMCell",
    "SimpleRNN",
    "GRU",
    "LSTM",
]


# ---------------------------------------------------------------------------- built-in cells
class _FusedCell(Layer):
    """The weights, initialisation and one-step call shared by the three built-in cells.

    Subclasses set ``_gates`` and implement ``_module(input_size)``; the LSTM overrides the
    state handling (it has two states, h and c).
    """

    _gates = 1
    _n_states = 1
    # keras.layers.Bidirectional sets this to 2 (through its RNN) before building: one
    # module runs both directions
    _directions = 1

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        who = kwargs.pop("_who", None)  # a SimpleRNN/GRU/LSTM layer names itself
        super().__init__(**kwargs)
        self._who = who = who or f'{type(self).__name__} "{self.name}"'
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{who}: units must be a positive int, got {units!r}")
        if recurrent_dropout:
            raise ValueError(
                f"{who}: recurrent_dropout is not supported (minnet's fused "
                f"kernels run the whole sequence in C)"
            )
        if not 0 <= dropout < 1:
            raise ValueError(f"{who}: dropout must be in [0, 1), got {dropout}")
        self.units = int(units)
        self.activation_name = activations.serialize(activations.get(activation))
        self.recurrent_activation_name = activations.serialize(
            activations.get(recurrent_activation)
        )
        self._check_activations(who)
        self.use_bias = bool(use_bias)
        self.inits = [
            initializers.get(i)
            for i in (kernel_initializer, recurrent_initializer, bias_initializer)
        ]
        self.dropout = float(dropout)

    def _check_activations(self, who):
        if self.activation_name != "tanh" or self.recurrent_activation_name != "sigmoid":
            raise ValueError(
                f"{who}: minnet's fused cells use activation='tanh' and "
                f"recurrent_activation='sigmoid', got "
                f"{self.activation_name!r}, {self.recurrent_activation_name!r}"
            )

    @property
    def state_size(self):
        return self.units if self._n_states == 1 else [self.units] * self._n_states

    @property
    def output_size(self):
        return self.units

    def get_initial_state(self, batch_size=None):
        return [
            Tensor(np.zeros((batch_size, self.units), np.float32)) for _ in range(self._n_states)
        ]

    # -- weights ------------------------------------------------------------------------------
    def _module(self, input_size):
        raise NotImplementedError

    def _module_args(self):
        return dict(bias=self.use_bias, batch_first=True, bidirectional=self._directions == 2)

    def _initial_bias(self, gh):
        return self.inits[2]((gh,))

    def build(self, input_shape):
        feat = input_shape[-1]
        if feat is None:
            raise ValueError(
                f'{type(self).__name__} "{self.name}": the number of input '
                f"features must be known, got input shape {input_shape}"
            )
        self.rnn = self._module(feat)
        self._input_axes, self._input_ndim = {-1: feat}, 2
        gh = self._gates * self.units
        weights = []
        for _ in range(self._directions):
            weights += [self.inits[0]((feat, gh)), self.inits[1]((self.units, gh))]
            if self.use_bias:
                weights.append(self._initial_bias(gh))
        rnn_interop.set_keras_weights(self.rnn, weights)

    def _variables(self):
        return []

    def get_weights(self):
        return [np.array(w) for w in rnn_interop.get_keras_weights(self.rnn)] if self.built else []

    def set_weights(self, weights):
        weights = [np.asarray(w) for w in weights]
        own = self.get_weights()
        if len(weights) != len(own) or any(a.shape != b.shape for a, b in zip(weights, own)):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects weights of '
                f"shapes {[w.shape for w in own]}, got "
                f"{[w.shape for w in weights]}"
            )
        rnn_interop.set_keras_weights(self.rnn, weights)

    def count_params(self):
        return int(sum(w.size for w in self.get_weights()))

    @property
    def weights(self):
        per = 3 if self.use_bias else 2
        names = [
            (
                "forward_"
                if self._directions == 2 and i < per
                else "backward_"
                if self._directions == 2
                else ""
            )
            + n
            for i, n in enumerate(["kernel", "recurrent_kernel", "bias"][:per] * self._directions)
        ]
        return [Weight(self, i, n, True) for i, n in enumerate(names)]

    def _apply_trainable(self):
        if self.built:
            self.rnn.requires_grad_(self.trainable)

    # -- running ------------------------------------------------------------------------------
    def _hx(self, states):
        """Keras's state list [h] (LSTM: [h, c]) as the nn module's hx."""
        if states is None:
            return None
        return states[0].unsqueeze(0)

    def _state_list(self, state):
        """The nn module's final state as Keras's list: per direction, [h] (LSTM: [h, c])."""
        return [state[d] for d in range(self._directions)]

    def _sequence(self, x, states, training):
        """The whole sequence x (B, T, F) through the fused module: (outputs (B, T, units),
        final states as a list). ``states`` is Keras's state list or None (zeros)."""
        if training and self.dropout:  # one mask per sequence, shared by every step (Keras)
            keep = 1.0 - self.dropout
            mask = get_generator().random((x.shape[0], 1, x.shape[2])) < keep
            x = x * Tensor((mask / keep).astype(x.dtype))
        out, state = self.rnn(x, self._hx(states))
        return out, self._state_list(state)

    def call(self, inputs, states=None, training=False):
        """One step: ``output, new_states = cell(x_t (B, F), states)``, as Keras's cells
        (states a list, or a single tensor for the one-state cells)."""
        single = states is not None and not isinstance(states, (list, tuple))
        states = (
            None
            if states is None
            else [_as_tensor(s, inputs.dtype) for s in ([states] if single else states)]
        )
        _, new = self._sequence(inputs.unsqueeze(1), states, training)
        return new[0], (new[0] if single else new)


class SimpleRNNCell(_FusedCell):
    """One step of ``SimpleRNN``: ``h' = activation(x W + h U + b)``.

    Args:
        units (int); activation ('tanh' or 'relu'); use_bias; kernel_initializer
        ('glorot_uniform'), recurrent_initializer ('orthogonal'), bias_initializer ('zeros');
        dropout (on the inputs); recurrent_dropout (only 0); seed (ignored).

    Weights: kernel (features, units), recurrent_kernel (units, units), bias (units,).

    Examples::

        >>> layer = layers.RNN(layers.SimpleRNNCell(32))     # the same as SimpleRNN(32)
    """

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )

    def _check_activations(self, who):
        if self.activation_name not in ("tanh", "relu"):
            raise ValueError(
                f"{who}: activation must be 'tanh' or 'relu', got {self.activation_name!r}"
            )

    def _module(self, input_size):
        return nn.RNN(
            input_size, self.units, nonlinearity=self.activation_name, **self._module_args()
        )


class GRUCell(_FusedCell):
    """One step of ``GRU``, Keras's default form (``reset_after=True``, equal to PyTorch's
    GRU); ``reset_after=False`` is rejected.

    Args:
        units (int); activation ('tanh'), recurrent_activation ('sigmoid'); use_bias;
        initializers as SimpleRNNCell; dropout; recurrent_dropout (only 0); reset_after;
        seed (ignored).

    Weights: kernel (features, 3 units), recurrent_kernel (units, 3 units), bias
    (2, 3 units); gates z, r, h as Keras.

    Examples::

        >>> layer = layers.RNN(layers.GRUCell(64))           # runs GRU(64)'s fused kernel
    """

    _gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        if not reset_after:
            raise ValueError(
                f"{self._who}: reset_after=False (the original Cho et al. GRU) "
                f"is not supported; minnet's GRU is reset_after=True, Keras's "
                f"default"
            )
        self.reset_after = True

    def _module(self, input_size):
        return nn.GRU(input_size, self.units, **self._module_args())

    def _initial_bias(self, gh):
        return np.stack([self.inits[2]((gh,)), self.inits[2]((gh,))])


class LSTMCell(_FusedCell):
    """One step of ``LSTM`` (gates i, f, c, o); its states are ``[h, c]``.

    Args:
        units (int); activation, recurrent_activation; use_bias; initializers as
        SimpleRNNCell; unit_forget_bias (bool): forget-gate bias starts at 1. Default: True;
        dropout; recurrent_dropout (only 0); seed (ignored).

    Weights: kernel (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units,).
    """

    _gates = 4
    _n_states = 2

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **kwargs,
        )
        self.unit_forget_bias = bool(unit_forget_bias)

    def _module(self, input_size):
        return nn.LSTM(input_size, self.units, **self._module_args())

    def _initial_bias(self, gh):
        b = self.inits[2]((gh,))
        if self.unit_forget_bias:
            b[self.units : 2 * self.units] = 1.0
        return b

    def _hx(self, states):
        if states is None:
            return None
        h, c = states
        return h.unsqueeze(0), c.unsqueeze(0)

    def _state_list(self, state):
        h, c = state
        return [s for d in range(self._directions) for s in (h[d], c[d])]


def _as_tensor(s, dtype):
    return s if isinstance(s, Tensor) else Tensor(np.asarray(s, dtype))


def _nested_states(states):
    """A cell's returned states as a list (Keras wraps a single tensor)."""
    return list(states) if isinstance(states, (list, tuple)) else [states]


def _map(fn, tree):
    """fn applied to every tensor of a (nested list) state structure."""
    if isinstance(tree, (list, tuple)):
        return [_map(fn, t) for t in tree]
    return fn(tree)


# ---------------------------------------------------------------------------- stacked cells
class StackedRNNCells(Layer):
    """A list of cells run as one cell, each step's output feeding the next cell (a deep
    RNN). ``RNN([cell_1, cell_2])`` makes one. When every cell is a built-in one, ``RNN``
    runs the stack layer by layer over the whole sequence on the fused kernels (the same
    numbers: each layer's outputs only depend on the layer below).

    Args:
        cells (list): cell instances.

    Its states are one entry per cell (that cell's state, or its list of states).

    Examples::

        >>> layer = layers.RNN(layers.StackedRNNCells([layers.LSTMCell(64),
        ...                                            layers.LSTMCell(64)]))
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError(f'StackedRNNCells "{self.name}": cells must be a non-empty list')
        for cell in cells:
            _check_cell(cell, f'StackedRNNCells "{self.name}"')
        self.cells = cells
        for i, cell in enumerate(cells):  # registered, so their parameters are the model's
            self.add_module(f"cell_{i}", cell)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        return [_initial_state(c, batch_size, np.float32, flat=False) for c in self.cells]

    def build(self, input_shape):
        shape = (None,) + tuple(input_shape[1:])
        for cell in self.cells:
            cell._maybe_build(shape)
            shape = (None, _output_size(cell))

    def call(self, inputs, states, training=False):
        new_states = []
        for cell, s in zip(self.cells, states):
            listed = isinstance(s, (list, tuple))
            inputs, s_new = _call_cell(cell, inputs, list(s) if listed else [s], training)
            new_states.append(s_new if listed or len(s_new) != 1 else s_new[0])
        return inputs, new_states

    def _sequence(self, x, states, training):
        """Every (built-in) cell over the whole sequence in turn."""
        finals = []
        for i, cell in enumerate(self.cells):
            s = None if states is None else states[i]
            listed = isinstance(cell.state_size, (list, tuple))
            x, s_new = cell._sequence(x, None if s is None else _nested_states(s), training)
            finals.append(s_new if listed else s_new[0])
        return x, finals

    @property
    def _fused(self):
        return all(isinstance(c, _FusedCell) for c in self.cells)

    def get_weights(self):
        return [w for c in self.cells for w in c.get_weights()]

    def set_weights(self, weights):
        weights, start = list(weights), 0
        counts = [len(c.get_weights()) for c in self.cells]
        if len(weights) != sum(counts):
            raise ValueError(
                f'Layer "{self.name}" (StackedRNNCells) expects {sum(counts)} '
                f"weights, got {len(weights)}"
            )
        for c, k in zip(self.cells, counts):
            c.set_weights(weights[start : start + k])
            start += k

    def count_params(self):
        return sum(c.count_params() for c in self.cells)

    @property
    def weights(self):
        return [w for c in self.cells for w in c.weights]

    def _penalized(self):
        return [r for c in self.cells for r in c._penalized()]

    def _apply_trainable(self):
        for c in self.cells:
            c.trainable = self.trainable


def _check_cell(cell, who):
    if not isinstance(cell, Layer):
        raise TypeError(
            f"{who}: a cell must be a keras.layers.Layer (with state_size and "
            f"call(inputs, states)), got {type(cell).__name__}"
        )
    if "call" not in dir(cell) or type(cell).call is Layer.call:
        raise ValueError(f"{who}: the cell {type(cell).__name__} has no call(inputs, states)")
    if "state_size" not in dir(cell):
        raise ValueError(
            f"{who}: the cell {type(cell).__name__} has no state_size attribute "
            f"(an int, or a list of ints: one per state tensor)"
        )
    if not isinstance(cell.state_size, (list, tuple, int, np.integer)):
        raise ValueError(
            f"{who}: state_size must be an int or a list of ints, got {cell.state_size!r}"
        )


def _output_size(cell):
    size = getattr(cell, "output_size", None)
    if size is not None:
        return int(size)
    first = cell.state_size
    while isinstance(first, (list, tuple)):
        first = first[0]
    return int(first)


def _initial_state(cell, batch_size, dtype, flat=True):
    """The cell's zero states: its own ``get_initial_state`` if it has one, else zeros of
    ``state_size``; as a list (flat) or, inside a stack, Keras's per-cell entry (a tensor
    for an int state_size)."""
    if isinstance(cell, StackedRNNCells):
        init = [_initial_state(c, batch_size, dtype, flat=False) for c in cell.cells]
    elif getattr(cell, "get_initial_state", None) is not None and not isinstance(cell, _FusedCell):
        init = [
            _as_tensor(s, dtype)
            for s in _nested_states(cell.get_initial_state(batch_size=batch_size))
        ]
    else:
        sizes = cell.state_size
        sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
        init = [Tensor(np.zeros((batch_size, int(d)), dtype)) for d in sizes]
    if not flat and not isinstance(cell.state_size, (list, tuple)):
        return init[0]
    return init


def _call_cell(cell, x_t, states, training):
    """One step of any cell: (output, new states as a list)."""
    out, new = cell(x_t, states, training=training)
    return out, _nested_states(new)


# ---------------------------------------------------------------------------- the RNN layer
class RNN(Layer):
    """Runs a cell over the time axis of (batch, timesteps, features), as Keras 3's RNN.

    A cell is a layer with ``state_size`` (an int, or a list of ints: one per state tensor)
    and ``call(inputs, states)`` returning ``(output, new_states)``; optionally
    ``output_size`` and ``get_initial_state(batch_size)``. The built-in cells run the whole
    sequence on minnet's fused kernels; other cells step by step in Python (correct
    gradients, slower).

    Args:
        cell: a cell, or a list of cells (a ``StackedRNNCells``).
        return_sequences (bool): return every step's output (batch, timesteps, units), not
            only the last one. Default: False.
        return_state (bool): also return the final states: ``[output, *states]``.
        go_backwards (bool): process the sequence from its last step to its first; as Keras,
            the returned sequence is in that processing order (reversed). Default: False.
        stateful (bool): the final states of one call are the initial states of the next
            (sample i of a batch continues sample i of the previous batch); every call must
            then have the same batch size (pass ``batch_size=`` to fit/predict and
            ``shuffle=False``). ``reset_states()`` zeros them. Default: False.
        unroll (bool): accepted; it changes nothing (minnet has no symbolic loop to unroll).
        zero_output_for_mask (bool): accepted; masking is not supported.

    Call arguments: ``layer(x, initial_state=None, training=None)``; ``mask=`` raises
    ValueError (minnet does not propagate masks).

    Weights: the cell's (``get_weights``/``set_weights`` equal those of the matching
    SimpleRNN/GRU/LSTM layer for a built-in cell).

    Examples::

        >>> model = keras.Sequential([keras.Input((28, 28)), layers.RNN(layers.GRUCell(64)),
        ...                           layers.Dense(10)])
        >>> class MinimalRNNCell(keras.layers.Layer):
        ...     def __init__(self, units, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.units, self.state_size = units, units
        ...     def build(self, input_shape):
        ...         self.kernel = self.add_weight(shape=(input_shape[-1], self.units))
        ...         self.recurrent_kernel = self.add_weight(shape=(self.units, self.units))
        ...     def call(self, inputs, states):
        ...         h = keras.ops.matmul(inputs, self.kernel) + \\
        ...             keras.ops.matmul(states[0], self.recurrent_kernel)
        ...         return h, [h]
        >>> layer = layers.RNN(MinimalRNNCell(32), return_sequences=True)
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        _check_cell(cell, f'{type(self).__name__} "{self.name}"')
        self.cell = cell
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful = bool(go_backwards), bool(stateful)
        self.unroll, self.zero_output_for_mask = bool(unroll), bool(zero_output_for_mask)
        size = cell.state_size
        self.state_size = list(size) if isinstance(size, (list, tuple)) else [size]
        self._state_values = None  # stateful: the carried states (NumPy arrays)

    # keras.layers.Bidirectional sets this to 2 before building (built-in cells only)
    _directions = 1

    @property
    def _fused(self):
        """Whether the whole sequence runs on the fused kernels (built-in cells)."""
        return isinstance(self.cell, _FusedCell) or (
            isinstance(self.cell, StackedRNNCells) and self.cell._fused
        )

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(
                f'{type(self).__name__} "{self.name}": expected input of shape '
                f"(batch, timesteps, features), got {input_shape}"
            )
        if self._directions == 2:
            if self.cell.built:
                raise ValueError(
                    f'Bidirectional around "{self.name}": its cell is already '
                    f"built for one direction"
                )
            self.cell._directions = 2
        self.cell._maybe_build((None, input_shape[-1]))
        self._input_axes, self._input_ndim = {-1: input_shape[-1]}, 3

    def compute_output_shape(self, input_shape):
        n, t = input_shape[0], input_shape[1]
        units = _output_size(self.cell) * self._directions
        return (n, t, units) if self.return_sequences else (n, units)

    # -- weights: the cell's ------------------------------------------------------------------
    def _variables(self):
        return self.cell._variables()

    def get_weights(self):
        return self.cell.get_weights() if self.cell.built else []

    def set_weights(self, weights):
        self.cell.set_weights(weights)

    def count_params(self):
        return self.cell.count_params()

    @property
    def weights(self):
        return self.cell.weights

    def _penalized(self):
        return self.cell._penalized()

    def _apply_trainable(self):
        self.cell.trainable = self.trainable

    # -- stateful -----------------------------------------------------------------------------
    @property
    def states(self):
        """The carried states of a stateful layer (NumPy arrays), None before its first
        call or when not stateful."""
        return None if self._state_values is None else _map(np.copy, self._state_values)

    def reset_state(self):
        """Zero the carried states of a stateful layer (Keras 3's name)."""
        if self._state_values is not None:
            self._state_values = _map(np.zeros_like, self._state_values)

    def reset_states(self):
        """Keras 2's name of :meth:`reset_state`."""
        self.reset_state()

    def _initial_states(self, x, initial_state):
        """Keras's state list to start from, or None for zeros (the fused modules make
        them)."""
        who = f'{type(self).__name__} "{self.name}"'
        if initial_state is not None:
            if self._directions == 2:
                raise ValueError(f'Bidirectional "{self.name}": initial_state is not supported')
            states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != len(self.state_size):
                raise ValueError(
                    f"{who}: initial_state must hold {len(self.state_size)} "
                    f"state tensor(s) (state_size={self.state_size}), got "
                    f"{len(states)}"
                )
            return _map(lambda s: _as_tensor(s, x.dtype), list(states))
        if self.stateful and self._state_values is not None:
            held = self._state_values
            first = held[0]
            while isinstance(first, list):
                first = first[0]
            if first.shape[0] != x.shape[0]:
                raise ValueError(
                    f"{who}: stateful=True carries states for a batch of "
                    f"{first.shape[0]} samples, got a batch of {x.shape[0]}: "
                    f"feed batches of one fixed size (fit/predict batch_size=, "
                    f"a sample count it divides) or call reset_states() after "
                    f"rebuilding"
                )
            return _map(Tensor, held)
        if self._fused:
            return None
        return _initial_state(self.cell, x.shape[0], x.dtype)

    # -- running ------------------------------------------------------------------------------
    def call(self, x, training=False, initial_state=None, mask=None):
        if mask is not None:
            raise ValueError(
                f'{type(self).__name__} "{self.name}": masking is not supported '
                f"(pad sequences and let the model learn to ignore the padding, "
                f"or feed sequences of one length)"
            )
        if self.go_backwards:  # time-reversed input; outputs stay in that order
            x = x[:, ::-1]
        states = self._initial_states(x, initial_state)
        if self._fused:
            seq, states = self.cell._sequence(x, states, training)
            last = None
        else:
            seq, last, states = self._loop(x, states, training)
        if self.stateful:  # carried as data: no gradient across calls
            self._state_values = _map(lambda s: np.array(s.data), states)
        if self.return_sequences:
            out = seq
        elif last is not None:
            out = last
        elif self._directions == 1:
            out = seq[:, -1]
        else:  # the backward direction's last output is its state after step 0
            per = len(states) // 2
            out = cat([states[0], states[per]], dim=-1)
        if not self.return_state:
            return out
        return [out] + list(states)

    def _loop(self, x, states, training):
        """The cell step by step in Python: (outputs (B, T, units) or None, last output,
        final states)."""
        outs, out = [], None
        for t in range(x.shape[1]):
            out, states = _call_cell(self.cell, x[:, t], states, training)
            if self.return_sequences:
                outs.append(out)
        if out is None:
            raise ValueError(
                f'{type(self).__name__} "{self.name}": the input has no time '
                f"steps (shape {tuple(x.shape)})"
            )
        return (stack(outs, dim=1) if outs else None), out, states


# ---------------------------------------------------------------------------- SimpleRNN, GRU, LSTM
class _Recurrent(RNN):
    """A layer that is ``RNN(<its built-in cell>)`` (Keras 3's structure)."""

    _cell_class = None

    def _init_layer(
        self, cell_kwargs, return_sequences, return_state, go_backwards, stateful, unroll, kwargs
    ):
        # the layer's name first, so that errors about the cell's arguments name the layer
        name = kwargs.pop("name", None) or _unique_name(_snake(type(self).__name__))
        cell = self._cell_class(
            **cell_kwargs,
            name=_CELL_NAMES[self._cell_class],
            _who=f'{type(self).__name__} "{name}"',
        )
        RNN.__init__(
            self,
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            name=name,
            **kwargs,
        )

    @property
    def units(self):
        return self.cell.units

    @property
    def rnn(self):
        """The minnet.nn module that holds the weights and runs the sequence."""
        return self.cell.rnn

    @property
    def dropout(self):
        return self.cell.dropout

    @property
    def use_bias(self):
        return self.cell.use_bias


class SimpleRNN(_Recurrent):
    """Fully-connected recurrent layer: ``h_t = activation(x_t W + h_{t-1} U + b)``;
    ``RNN(SimpleRNNCell(...))``.

    Args:
        units (int); activation ('tanh' or 'relu'); use_bias; kernel_initializer
        ('glorot_uniform'), recurrent_initializer ('orthogonal'), bias_initializer ('zeros');
        dropout (input dropout, one mask per sequence); return_sequences; return_state;
        go_backwards; stateful; unroll (see :class:`RNN`).

    Weights: kernel (features, units), recurrent_kernel (units, units), bias (units,).
    """

    _cell_class = SimpleRNNCell

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        self._init_layer(
            dict(
                units=units,
                activation=activation,
                use_bias=use_bias,
                kernel_initializer=kernel_initializer,
                recurrent_initializer=recurrent_initializer,
                bias_initializer=bias_initializer,
                dropout=dropout,
                recurrent_dropout=recurrent_dropout,
                seed=seed,
            ),
            return_sequences,
            return_state,
            go_backwards,
            stateful,
            unroll,
            kwargs,
        )


class GRU(_Recurrent):
    """Gated recurrent unit, Keras's default form (``reset_after=True``, equal to PyTorch's
    GRU); ``reset_after=False`` is rejected. ``RNN(GRUCell(...))``.

    Args:
        units (int); activation ('tanh'), recurrent_activation ('sigmoid'); use_bias;
        initializers as SimpleRNN; dropout; return_sequences; return_state; go_backwards;
        stateful; unroll; reset_after.

    Weights: kernel (features, 3 units), recurrent_kernel (units, 3 units), bias
    (2, 3 units); gates z, r, h as Keras.

    Examples::

        >>> model = keras.Sequential([keras.Input((20, 8)), layers.GRU(32), layers.Dense(1)])
    """

    _cell_class = GRUCell

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        self._init_layer(
            dict(
                units=units,
                activation=activation,
                recurrent_activation=recurrent_activation,
                use_bias=use_bias,
                kernel_initializer=kernel_initializer,
                recurrent_initializer=recurrent_initializer,
                bias_initializer=bias_initializer,
                dropout=dropout,
                recurrent_dropout=recurrent_dropout,
                reset_after=reset_after,
                seed=seed,
            ),
            return_sequences,
            return_state,
            go_backwards,
            stateful,
            unroll,
            kwargs,
        )
        self.reset_after = True


class LSTM(_Recurrent):
    """Long short-term memory layer (gates i, f, c, o); ``RNN(LSTMCell(...))``.

    Args:
        units (int); activation, recurrent_activation; use_bias; initializers as SimpleRNN;
        unit_forget_bias (bool): forget-gate bias starts at 1. Default: True; dropout;
        return_sequences; return_state (returns [output, h, c]); go_backwards; stateful;
        unroll.

    Weights: kernel (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units,).
    """

    _cell_class = LSTMCell

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        self._init_layer(
            dict(
                units=units,
                activation=activation,
                recurrent_activation=recurrent_activation,
                use_bias=use_bias,
                kernel_initializer=kernel_initializer,
                recurrent_initializer=recurrent_initializer,
                bias_initializer=bias_initializer,
                unit_forget_bias=unit_forget_bias,
                dropout=dropout,
                recurrent_dropout=recurrent_dropout,
                seed=seed,
            ),
            return_sequences,
            return_state,
            go_backwards,
            stateful,
            unroll,
            kwargs,
        )


# a layer's cell is named as Keras names it (fixed names: they take no slot in the counter
# behind 'gru_cell', 'gru_cell_1', ... of the cells users make)
_CELL_NAMES = {SimpleRNNCell: "simple_rnn_cell", GRUCell: "gru_cell", LSTMCell: "lstm_cell"}
