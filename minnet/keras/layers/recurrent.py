"""SimpleRNN, GRU and LSTM over (batch, timesteps, features), on minnet.nn's fused RNN
modules (batch_first), with Keras's weights, initializers and defaults via
minnet.nn.rnn_interop."""
import numpy as np

from minnet import nn
from minnet.keras import activations, initializers
from minnet.keras.layers.base import Layer
from minnet.nn import rnn_interop
from minnet.random import get_generator
from minnet.tensor import Tensor, cat

__all__ = ["SimpleRNN", "GRU", "LSTM"]


class _Recurrent(Layer):
    _gates = 1
    _kind = None

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", dropout=0.0, recurrent_dropout=0.0,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, **kwargs):
        super().__init__(**kwargs)
        who = f'{type(self).__name__} "{self.name}"'
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"{who}: units must be a positive int, got {units!r}")
        if recurrent_dropout:
            raise ValueError(f"{who}: recurrent_dropout is not supported (minnet's fused "
                             f"kernels run the whole sequence in C)")
        if go_backwards or stateful:
            raise ValueError(f"{who}: go_backwards and stateful are not supported")
        if not 0 <= dropout < 1:
            raise ValueError(f"{who}: dropout must be in [0, 1), got {dropout}")
        self.units = int(units)
        self.activation_name = activations.serialize(activations.get(activation))
        self.recurrent_activation_name = activations.serialize(
            activations.get(recurrent_activation))
        self._check_activations(who)
        self.use_bias = bool(use_bias)
        self.inits = [initializers.get(i) for i in (kernel_initializer, recurrent_initializer,
                                                    bias_initializer)]
        self.dropout = float(dropout)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)

    def _check_activations(self, who):
        if self.activation_name != "tanh" or self.recurrent_activation_name != "sigmoid":
            raise ValueError(f"{who}: minnet's fused cells use activation='tanh' and "
                             f"recurrent_activation='sigmoid', got "
                             f"{self.activation_name!r}, {self.recurrent_activation_name!r}")

    def _module(self, input_size):
        raise NotImplementedError

    def _initial_bias(self, gh):
        return self.inits[2]((gh,))

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f'{type(self).__name__} "{self.name}": expected input of shape '
                             f"(batch, timesteps, features), got {input_shape}")
        feat = input_shape[-1]
        self.rnn = self._module(feat)
        self._input_axes, self._input_ndim = {-1: feat}, 3
        gh = self._gates * self.units
        weights = []
        for _ in range(self._directions):
            weights += [self.inits[0]((feat, gh)), self.inits[1]((self.units, gh))]
            if self.use_bias:
                weights.append(self._initial_bias(gh))
        rnn_interop.set_keras_weights(self.rnn, weights)

    # keras.layers.Bidirectional sets this to 2 before building: one module, both directions
    _directions = 1

    def _module_args(self):
        return dict(bias=self.use_bias, batch_first=True, bidirectional=self._directions == 2)

    def compute_output_shape(self, input_shape):
        n, t = input_shape[0], input_shape[1]
        units = self.units * self._directions
        return (n, t, units) if self.return_sequences else (n, units)

    def _variables(self):
        return []

    def get_weights(self):
        return [np.array(w) for w in rnn_interop.get_keras_weights(self.rnn)] \
            if self.built else []

    def set_weights(self, weights):
        weights = [np.asarray(w) for w in weights]
        own = self.get_weights()
        if len(weights) != len(own) or any(a.shape != b.shape for a, b in zip(weights, own)):
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) expects weights of '
                             f"shapes {[w.shape for w in own]}, got "
                             f"{[w.shape for w in weights]}")
        rnn_interop.set_keras_weights(self.rnn, weights)

    def count_params(self):
        return int(sum(w.size for w in self.get_weights()))

    @property
    def weights(self):
        from minnet.keras.layers.base import Weight
        per = 3 if self.use_bias else 2
        names = [("forward_" if self._directions == 2 and i < per else
                  "backward_" if self._directions == 2 else "") + n
                 for i, n in enumerate(["kernel", "recurrent_kernel", "bias"][:per]
                                       * self._directions)]
        return [Weight(self, i, n, True) for i, n in enumerate(names)]

    def _apply_trainable(self):
        if self.built:
            self.rnn.requires_grad_(self.trainable)

    def call(self, x, training=False, initial_state=None):
        if training and self.dropout:  # one mask per sequence, shared by every step (Keras)
            keep = 1.0 - self.dropout
            mask = (get_generator().random((x.shape[0], 1, x.shape[2])) < keep)
            x = x * Tensor((mask / keep).astype(x.dtype))
        if initial_state is not None and self._directions == 2:
            raise ValueError(f'Bidirectional "{self.name}": initial_state is not supported')
        hx = self._initial(initial_state)
        out, state = self.rnn(x, hx)
        if self.return_sequences:
            seq_or_last = out
        elif self._directions == 1:
            seq_or_last = out[:, -1]
        else:  # the backward direction's last output is its state after step 0
            h = self._states(state)
            seq_or_last = cat([h[0], h[len(h) // 2]], dim=-1)
        if not self.return_state:
            return seq_or_last
        return [seq_or_last] + self._states(state)

    def _initial(self, initial_state):
        if initial_state is None:
            return None
        states = initial_state if isinstance(initial_state, (list, tuple)) else [initial_state]
        return Tensor(np.asarray(states[0], np.float32)[None]) \
            if not isinstance(states[0], Tensor) else states[0].unsqueeze(0)

    def _states(self, state):
        return [state[d] for d in range(self._directions)]


class SimpleRNN(_Recurrent):
    """Fully-connected recurrent layer: ``h_t = activation(x_t W + h_{t-1} U + b)``.

    Args:
        units (int); activation ('tanh' or 'relu'); use_bias; kernel_initializer
        ('glorot_uniform'), recurrent_initializer ('orthogonal'), bias_initializer ('zeros');
        dropout (input dropout, one mask per sequence); return_sequences; return_state.

    Weights: kernel (features, units), recurrent_kernel (units, units), bias (units,).
    """

    def __init__(self, units, activation="tanh", **kwargs):
        super().__init__(units, activation=activation, **kwargs)

    def _check_activations(self, who):
        if self.activation_name not in ("tanh", "relu"):
            raise ValueError(f"{who}: activation must be 'tanh' or 'relu', got "
                             f"{self.activation_name!r}")

    def _module(self, input_size):
        return nn.RNN(input_size, self.units, nonlinearity=self.activation_name,
                      **self._module_args())


class GRU(_Recurrent):
    """Gated recurrent unit, Keras's default form (``reset_after=True``, equal to PyTorch's
    GRU); ``reset_after=False`` is rejected.

    Args:
        units (int); activation ('tanh'), recurrent_activation ('sigmoid'); use_bias;
        initializers as SimpleRNN; dropout; return_sequences; return_state; reset_after.

    Weights: kernel (features, 3 units), recurrent_kernel (units, 3 units), bias
    (2, 3 units); gates z, r, h as Keras.

    Examples::

        >>> model = keras.Sequential([keras.Input((20, 8)), layers.GRU(32), layers.Dense(1)])
    """

    _gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        if not reset_after:
            raise ValueError(f'GRU "{self.name}": reset_after=False (the original Cho et al. '
                             f"GRU) is not supported; minnet's GRU is reset_after=True, "
                             f"Keras's default")
        self.reset_after = True

    def _module(self, input_size):
        return nn.GRU(input_size, self.units, **self._module_args())

    def _initial_bias(self, gh):
        return np.stack([self.inits[2]((gh,)), self.inits[2]((gh,))])


class LSTM(_Recurrent):
    """Long short-term memory layer (gates i, f, c, o).

    Args:
        units (int); activation, recurrent_activation; use_bias; initializers as SimpleRNN;
        unit_forget_bias (bool): forget-gate bias starts at 1. Default: True; dropout;
        return_sequences; return_state (returns [output, h, c]).

    Weights: kernel (features, 4 units), recurrent_kernel (units, 4 units), bias (4 units,).
    """

    _gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _module(self, input_size):
        return nn.LSTM(input_size, self.units, **self._module_args())

    def _initial_bias(self, gh):
        b = self.inits[2]((gh,))
        if self.unit_forget_bias:
            b[self.units:2 * self.units] = 1.0
        return b

    def _initial(self, initial_state):
        if initial_state is None:
            return None
        h, c = initial_state
        return tuple(s.unsqueeze(0) if isinstance(s, Tensor)
                     else Tensor(np.asarray(s, np.float32)[None]) for s in (h, c))

    def _states(self, state):
        h, c = state
        return [s for d in range(self._directions) for s in (h[d], c[d])]
