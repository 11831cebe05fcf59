"""Layer: the base of the Keras layers, a minnet.nn.Module built lazily from the first input
shape (Keras 3's ``build(input_shape)``), holding its weights in minnet.nn's layouts and
showing them in Keras's (``get_weights``/``set_weights``)."""

import re

import numpy as np

from minnet.keras import initializers
from minnet.keras.saving import RecordsInit
from minnet.nn.modules.module import Module
from minnet.nn.parameter import Parameter
from minnet.tensor import Tensor

__all__ = ["Layer", "Weight", "KerasTensor", "to_tensor", "shape_str"]

_NAME_COUNTS = {}


def _unique_name(base):
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def reset_names():
    _NAME_COUNTS.clear()


def _snake(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()


def shape_str(shape):
    return (
        "("
        + ", ".join("None" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def to_tensor(x, dtype=np.float32):
    """A Tensor of a NumPy array, list or Tensor (floats become float32, Keras's floatx)."""
    if isinstance(x, Tensor):
        return x
    a = np.asarray(x)
    if a.dtype != dtype:
        a = a.astype(dtype)
    return Tensor(a)


class KerasTensor:
    """The symbolic tensor ``keras.Input(shape)`` returns, and a layer returns when called
    on one (or, for merge layers, on a list of them): its shape (batch dim None), the layer
    that made it and that layer's inputs, so ``keras.Model(inputs, outputs)`` can recover
    the graph."""

    def __init__(self, shape, layer=None, parents=None, name=None):
        self.shape = tuple(shape)
        self.layer, self.name = layer, name
        self.parents = (
            []
            if parents is None
            else (list(parents) if isinstance(parents, (list, tuple)) else [parents])
        )
        self.dtype = "float32"

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={shape_str(self.shape)}, name={self.name}>"


class Weight:
    """A view of one weight in Keras's layout (what ``layer.weights`` lists): ``.numpy()``,
    ``.shape``, ``.name``, ``.path``, ``.trainable``, ``.assign(value)``."""

    def __init__(self, layer, index, name, trainable):
        self.layer, self.index, self.name, self.trainable = layer, index, name, trainable

    @property
    def path(self):
        return f"{self.layer.name}/{self.name}"

    def numpy(self):
        return self.layer.get_weights()[self.index]

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    @property
    def shape(self):
        return self.numpy().shape

    @property
    def dtype(self):
        return str(self.numpy().dtype)

    def assign(self, value):
        ws = self.layer.get_weights()
        ws[self.index] = np.asarray(value)
        self.layer.set_weights(ws)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


class Layer(RecordsInit, Module):
    """Base class of the Keras layers.

    Subclasses implement ``build(input_shape)`` (create the minnet modules and parameters;
    ``input_shape`` includes the batch dim as None), ``call(x, training)`` on Tensors,
    ``compute_output_shape(input_shape)``, and ``_variables()``: the weights in Keras's
    ``get_weights`` order as ``(name, tensor, to_keras, from_keras, trainable)``, the two
    functions converting between the tensor's minnet layout and Keras's.

    Args:
        name (str): unique by default ('dense', 'dense_1', ...).
        input_shape (tuple): the shape of one sample; on a model's first layer it builds the
            model at once, as ``keras.Input(shape)`` does.
        trainable (bool): whether fit updates the weights. Default: True.
    """

    def __init__(
        self, name=None, input_shape=None, input_dim=None, trainable=True, dtype=None, **kwargs
    ):
        super().__init__()
        kwargs.pop("batch_input_shape", None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: unrecognized keyword arguments {sorted(kwargs)}"
            )
        if dtype not in (None, "float32", np.float32):
            raise ValueError(
                f"{type(self).__name__}: only float32 layers are supported, got dtype={dtype!r}"
            )
        self.name = name or _unique_name(_snake(type(self).__name__))
        self.built = False
        self._build_shape = None  # input shape at build time, batch dim None
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self._declared_input_shape = None if input_shape is None else (None,) + tuple(input_shape)
        self._trainable = bool(trainable)

    # ------------------------------------------------------------------ building
    def build(self, input_shape):
        pass

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def output_shape_for(self, input_shape):
        """``compute_output_shape``, or for a user's layer that does not define it, the shape
        of its output on zeros (batch 1; Keras traces the layer symbolically instead)."""
        input_shape = tuple(input_shape)
        if (
            type(self).compute_output_shape is not Layer.compute_output_shape
            or type(self).__module__.startswith("minnet.keras")
            or None in input_shape[1:]
        ):
            return tuple(self.compute_output_shape(input_shape))
        from minnet.autograd import no_grad

        with no_grad():
            out = self(np.zeros((1,) + input_shape[1:], self.input_dtype))
        return (None,) + tuple(out.shape[1:])

    def _maybe_build(self, input_shape):
        if not self.built:
            input_shape = (None,) + tuple(input_shape[1:])
            self.build(input_shape)
            self._build_shape = input_shape
            self.built = True
            self._apply_trainable()

    # the input dims a built layer checks, {axis: size} (None: any input), and its ndim
    _input_axes = None
    _input_ndim = None

    def _check_input(self, shape):
        """Raise Keras's error when a built layer gets an input it was not built for."""
        if not self.built:
            return
        if self._input_ndim is not None and len(shape) != self._input_ndim:
            raise ValueError(
                f'Input 0 of layer "{self.name}" ({type(self).__name__}) is '
                f"incompatible with the layer: expected ndim={self._input_ndim}, "
                f"found ndim={len(shape)}. Full shape received: "
                f"{shape_str(tuple(shape))}"
            )
        for axis, size in (self._input_axes or {}).items():
            if len(shape) < abs(axis) or shape[axis] != size:
                raise ValueError(
                    f'Input 0 of layer "{self.name}" ({type(self).__name__}) is '
                    f"incompatible with the layer: expected axis {axis} of input "
                    f"shape to have value {size}, but received input with shape "
                    f"{shape_str(tuple(shape))} (the layer was built for "
                    f"{shape_str(self._build_shape)})"
                )

    input_dtype = np.float32  # what NumPy inputs are cast to (Keras's floatx)

    def __call__(self, x, *args, training=None, **kwargs):
        # further positional arguments go to call: an RNN cell's ``cell(inputs, states)``;
        # ``layer(x, True)`` stays ``training=True`` for a call(x, training) as in Keras
        if args and _training_second(type(self)):
            training, args = args[0], args[1:]
        if isinstance(x, KerasTensor):
            self._maybe_build(x.shape)
            self._check_input(x.shape)
            return KerasTensor(self.output_shape_for(x.shape), self, x, self.name)
        x = to_tensor(x, self.input_dtype)
        self._maybe_build(x.shape)
        self._check_input(x.shape)
        # Keras: a direct call is inference (dropout off, batch norm on its moving
        # statistics) unless training=True is passed; fit passes it
        if not _takes_training(type(self)):  # a user's call(self, inputs)
            return self.call(x, *args, **kwargs)
        return self.call(x, *args, training=bool(training), **kwargs)

    def forward(self, x, training=None):
        return self(x, training=training)

    def call(self, x, training=False):
        raise NotImplementedError(f"{type(self).__name__} has no call()")

    # A model keeps images in NCHW across a run of layers that can take them so: layers with
    # ``nchw = True`` (convolutions, pooling) start such a run, layers whose ``nchw_ok()``
    # (dropout, elementwise activations, batch norm) continue it; ``call_nchw`` is the body.
    nchw = False

    def nchw_ok(self):
        return False

    def fusion_role(self):
        """This layer's role for the fusion planner (minnet.nn._fusion), or None: Sequential
        runs some runs of layers as one kernel call (Conv2D(relu) + MaxPooling2D(2))."""
        return None

    def call_nchw(self, x, training=False, **kwargs):
        raise NotImplementedError

    # ------------------------------------------------------------------ weights
    def add_weight(
        self,
        shape=None,
        initializer="glorot_uniform",
        dtype=None,
        trainable=True,
        name=None,
        regularizer=None,
        constraint=None,
        **kwargs,
    ):
        """Create a weight (for custom layers' ``build``): a float32 Parameter of ``shape``
        initialised by ``initializer`` (a Keras name or callable), listed by
        ``get_weights`` in creation order; not trainable with ``trainable=False``."""
        added = self.__dict__.setdefault("_added_weights", [])
        arr = initializers.get(initializer)(tuple(shape or ()), "float32")
        p = Parameter(np.asarray(arr, np.float32))
        p.requires_grad_(bool(trainable) and self.trainable)
        name = name or f"weight_{len(added)}"
        self.register_parameter(f"_added_{len(added)}", p)
        added.append((name, p, identity, identity, bool(trainable)))
        if regularizer is not None:
            self.__dict__.setdefault("_added_regularizers", []).append((regularizer, p))
        return p

    def _penalized(self):
        """[(regularizer or None, parameter)]: the penalties added to the training loss."""
        return self.__dict__.get("_added_regularizers", [])

    def regularization_losses(self):
        return [reg(p) for reg, p in self._penalized() if reg is not None and p is not None]

    def _variables(self):
        return list(self.__dict__.get("_added_weights", []))

    @property
    def weights(self):
        return [Weight(self, i, v[0], v[4]) for i, v in enumerate(self._variables())]

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for w in self.weights if not (w.trainable and self.trainable)]

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        self._apply_trainable()

    def _apply_trainable(self):
        for _, t, _, _, trainable in self._variables():
            if t.__class__.__name__ == "Parameter":
                t.requires_grad_(self._trainable and trainable)

    def get_weights(self):
        """The weights as NumPy arrays in Keras's layouts (copies)."""
        return [np.array(to_keras(t.data)) for _, t, to_keras, _, _ in self._variables()]

    def set_weights(self, weights):
        """Set the weights from arrays in Keras's layouts (as ``get_weights`` returns);
        every count and shape is checked before anything is written."""
        vs = self._variables()
        weights = list(weights)
        if len(weights) != len(vs):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects {len(vs)} '
                f"weights, but the weight list has {len(weights)} elements"
            )
        arrays = []
        for (name, t, to_keras, from_keras, _), w in zip(vs, weights):
            w = np.asarray(w)
            want = to_keras(t.data).shape
            if w.shape != want:
                raise ValueError(
                    f'Layer "{self.name}" weight "{name}" has shape '
                    f"{want}, not compatible with provided weight shape "
                    f"{w.shape}"
                )
            arrays.append(from_keras(w))
        for (_, t, _, _, _), a in zip(vs, arrays):
            t.data[...] = a

    def count_params(self):
        if not self.built:
            raise ValueError(
                f'Layer "{self.name}" is not built yet, so its weights are not '
                f"created: call it on data or build it first"
            )
        return int(sum(t.data.size for _, t, _, _, _ in self._variables()))

    def get_config(self):
        """The constructor arguments this layer was made with (and its name)."""
        return dict(self._constructor_config(), name=self.name)

    def extra_repr(self):
        return f"name={self.name!r}"

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _call_accepts(cls, argument):
    """Whether ``cls.call`` takes ``argument`` (a user's layer may not take ``training``)."""
    key = "_call_accepts_" + argument
    cached = cls.__dict__.get(key)
    if cached is None:
        import inspect

        params = inspect.signature(cls.call).parameters
        cached = argument in params or any(p.kind == p.VAR_KEYWORD for p in params.values())
        setattr(cls, key, cached)
    return cached


def _takes_training(cls):
    return _call_accepts(cls, "training")


def _training_second(cls):
    """Whether ``cls.call``'s parameter after the input is ``training``."""
    cached = cls.__dict__.get("_call_training_second")
    if cached is None:
        import inspect

        params = list(inspect.signature(cls.call).parameters)
        cached = len(params) > 2 and params[2] == "training"
        setattr(cls, "_call_training_second", cached)
    return cached


def identity(a):
    return a


def transpose(a):
    return np.ascontiguousarray(np.asarray(a).T)
