"""Layer wrappers: Bidirectional (around GRU, LSTM, SimpleRNN) and TimeDistributed."""

from minnet.keras.layers.base import Layer
from minnet.keras.layers.recurrent import RNN, _FusedCell

__all__ = ["Bidirectional", "TimeDistributed"]


class _Wrapper(Layer):
    """A layer around ``self.layer``, whose weights are the wrapped layer's."""

    def get_weights(self):
        return self.layer.get_weights()

    def set_weights(self, weights):
        self.layer.set_weights(weights)

    def count_params(self):
        return self.layer.count_params()

    @property
    def weights(self):
        return self.layer.weights

    def _apply_trainable(self):
        self.layer.trainable = self.trainable


class Bidirectional(_Wrapper):
    """Runs a recurrent layer forwards and backwards in time and concatenates the two
    outputs (``merge_mode='concat'``, the only mode supported): one minnet.nn module with
    ``bidirectional=True``.

    With ``return_sequences`` the backward outputs are aligned with the input's time steps
    (as Keras); without, the backward half is its state after reading the first step.

    Args:
        layer: an unbuilt ``GRU``, ``LSTM`` or ``SimpleRNN`` (or ``RNN`` of their cells).
        merge_mode: 'concat'.

    Weights: the forward direction's [kernel, recurrent_kernel, bias], then the backward
    one's, as Keras's ``Bidirectional.get_weights()``.

    Examples::

        >>> layers.Bidirectional(layers.LSTM(32, return_sequences=True))
    """

    def __init__(self, layer, merge_mode="concat", backward_layer=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, RNN) or not isinstance(layer.cell, _FusedCell) or layer.built:
            raise ValueError(
                f'Bidirectional "{self.name}": expected an unbuilt GRU, LSTM, '
                f"SimpleRNN or RNN of one of their cells, got {layer!r}"
            )
        if layer.go_backwards or layer.stateful:
            raise ValueError(
                f'Bidirectional "{self.name}": a wrapped layer with '
                f"go_backwards=True or stateful=True is not supported"
            )
        if merge_mode != "concat" or backward_layer is not None:
            raise ValueError(
                f'Bidirectional "{self.name}": only merge_mode="concat" without '
                f"a separate backward_layer is supported"
            )
        layer._directions = 2
        self.layer = layer
        self.merge_mode = merge_mode

    def build(self, input_shape):
        self.layer._maybe_build(input_shape)
        self._input_axes, self._input_ndim = self.layer._input_axes, 3

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def call(self, x, training=False):
        return self.layer(x, training=training)


class TimeDistributed(_Wrapper):
    """Applies ``layer`` to every time step: (batch, time, ...) -> (batch, time, ...').

    Examples::

        >>> layers.TimeDistributed(layers.Dense(8))(np.zeros((4, 10, 16))).shape
        (4, 10, 8)
    """

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer):
            raise ValueError(
                f'TimeDistributed "{self.name}": expected a keras layer, got {layer!r}'
            )
        self.layer = layer

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                f'TimeDistributed "{self.name}": expected input of at least 3 '
                f"dims (batch, time, ...), got {input_shape}"
            )
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return tuple(input_shape[:2]) + tuple(inner[1:])

    def call(self, x, training=False):
        n, t = x.shape[0], x.shape[1]
        y = self.layer(x.reshape((n * t,) + tuple(x.shape[2:])), training=training)
        return y.reshape((n, t) + tuple(y.shape[1:]))
