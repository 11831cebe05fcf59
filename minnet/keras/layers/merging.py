"""Merge layers for functional models: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate. Each takes a list of same-shaped inputs (Concatenate: equal but for ``axis``).

Examples::

    >>> x = keras.Input((8, 8, 16))
    >>> y = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    >>> out = layers.Add()([x, y])                      # a residual connection
"""

from minnet.keras.layers.base import KerasTensor, Layer, shape_str, to_tensor
from minnet.tensor import cat, maximum, minimum

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"]


class _Merge(Layer):
    merge = True  # a model passes this layer the list of its inputs' values
    _arity = None  # exactly this many inputs (Subtract: 2), else two or more

    def __call__(self, inputs, training=None, **kwargs):
        if (
            not isinstance(inputs, (list, tuple))
            or len(inputs) < 2
            or (self._arity and len(inputs) != self._arity)
        ):
            raise ValueError(
                f'{type(self).__name__} "{self.name}": expects a list of '
                f"{self._arity or 'two or more'} inputs, got {inputs!r}"
            )
        if all(isinstance(t, KerasTensor) for t in inputs):
            shapes = [t.shape for t in inputs]
            out = self.compute_output_shape(shapes)
            self.built = True
            return KerasTensor(out, self, inputs, self.name)
        return self.call([to_tensor(t) for t in inputs], training=bool(training))

    def compute_output_shape(self, input_shape):
        first = tuple(input_shape[0])
        for s in input_shape[1:]:
            if tuple(s) != first:
                raise ValueError(
                    f'{type(self).__name__} "{self.name}": inputs must have the '
                    f"same shape, got {[shape_str(tuple(t)) for t in input_shape]}"
                )
        return first

    def call(self, inputs, training=False):
        out = inputs[0]
        for t in inputs[1:]:
            out = self._combine(out, t)
        return out


class Add(_Merge):
    """The elementwise sum of the inputs."""

    def _combine(self, a, b):
        return a + b


class Subtract(_Merge):
    """inputs[0] - inputs[1]."""

    _arity = 2

    def _combine(self, a, b):
        return a - b


class Multiply(_Merge):
    """The elementwise product of the inputs."""

    def _combine(self, a, b):
        return a * b


class Average(Add):
    """The elementwise mean of the inputs."""

    def call(self, inputs, training=False):
        return super().call(inputs) * (1.0 / len(inputs))


class Maximum(_Merge):
    def _combine(self, a, b):
        return maximum(a, b)


class Minimum(_Merge):
    def _combine(self, a, b):
        return minimum(a, b)


class Concatenate(_Merge):
    """Joins the inputs along ``axis`` (default -1, the channels/features)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        axis = self.axis % rank
        for s in shapes[1:]:
            if len(s) != rank or any(
                a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != axis
            ):
                raise ValueError(
                    f'Concatenate "{self.name}": inputs must match except on '
                    f"axis {self.axis}, got {[shape_str(t) for t in shapes]}"
                )
        sizes = [s[axis] for s in shapes]
        out = list(shapes[0])
        out[axis] = None if None in sizes else sum(sizes)
        return tuple(out)

    def call(self, inputs, training=False):
        return cat(inputs, dim=self.axis % inputs[0].ndim)
