"""Models: Sequential, Model(inputs, outputs) for a chain of layers, subclassed Models;
weights in Keras's layouts, save_weights/load_weights and save through minnet.save,
summary()."""

import numpy as np

from minnet.keras import activations
from minnet.keras.layers.base import KerasTensor, Layer, _call_accepts, _takes_training, shape_str
from minnet.keras.layers.convolutional import to_nchw, to_nhwc
from minnet.keras.layers.core import InputLayer
from minnet.keras.saving import MODEL_SUFFIX, check_name, load_model, read_file, save_model
from minnet.keras.trainer import Trainer
from minnet.nn._fusion import plan
from minnet.serialization import save as _save
from minnet.tensor import Tensor

__all__ = ["Model", "Sequential", "load_model"]

WEIGHTS_SUFFIX = ".weights.npz"


class Model(Trainer, Layer):
    """A stack of layers with compile/fit/evaluate/predict.

    ``keras.Model(inputs, outputs)`` accepts a functional model that is a chain (each
    layer applied once, one input, one output) and runs it as a Sequential would; other
    graphs raise ValueError.

    Examples::

        >>> inputs = keras.Input(shape=(784,))
        >>> h = layers.Dense(64, activation="relu")(inputs)
        >>> model = keras.Model(inputs, layers.Dense(10, activation="softmax")(h))
    """

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        self._layers = []
        self._input_shape = None
        self.optimizer = None
        self.history = None
        if inputs is not None or outputs is not None:
            self._from_graph(inputs, outputs)

    _graph = None  # functional models that are not a chain: [(layer, parent nodes)]

    def _from_graph(self, inputs, outputs):
        """Take the layers between ``inputs`` and ``outputs``: a chain runs as a Sequential
        would; any other graph (residual connections, merges) node by node in the
        topological order, node 0 being the input."""
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
            inputs = inputs[0]
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            outputs = outputs[0]
        if not isinstance(inputs, KerasTensor) or not isinstance(outputs, KerasTensor):
            raise ValueError(
                "keras.Model(inputs, outputs): minnet supports one input and one "
                "output KerasTensor (from keras.Input and calling layers on it)"
            )
        order, done = [], {id(inputs)}
        stack = [(outputs, False)]
        while stack:  # depth-first, parents before children
            t, expanded = stack.pop()
            if id(t) in done:
                continue
            if expanded:
                done.add(id(t))
                order.append(t)
                continue
            if not t.parents or isinstance(t.layer, InputLayer):
                raise ValueError(
                    "keras.Model(inputs, outputs): outputs are not computed "
                    "from inputs by layers (another keras.Input in the graph?)"
                )
            stack.append((t, True))
            stack.extend((p, False) for p in reversed(t.parents))
        if len({id(t.layer) for t in order}) != len(order):
            raise ValueError(
                "keras.Model(inputs, outputs): a layer applied twice (shared "
                "weights) is not supported"
            )
        self._input_shape = inputs.shape
        for t in order:
            self._append(t.layer)
        chain = all(
            len(t.parents) == 1 and t.parents[0] is (order[i - 1] if i else inputs)
            for i, t in enumerate(order)
        )
        if not chain:
            node = {id(inputs): 0}
            node.update({id(t): i + 1 for i, t in enumerate(order)})
            self._graph = [(t.layer, [node[id(p)] for p in t.parents]) for t in order]
            self._graph_shapes = [t.shape for t in order]
        self.build(self._input_shape)

    # ------------------------------------------------------------------ structure
    @property
    def _subclassed(self):
        """A user's ``class MyModel(keras.Model)`` with its own ``call``."""
        return type(self).call is not Model.call

    @property
    def layers(self):
        if self._subclassed:  # the layers assigned as attributes, in order
            return [m for m in self._modules.values() if isinstance(m, Layer)]
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        """The layer at ``index``, or the one called ``name``."""
        layers = self.layers
        if index is not None:
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[la.name for la in layers]}."
        )

    def _append(self, layer):
        if any(layer is other for other in self._layers):
            raise ValueError(f'Layer "{layer.name}" is already in model "{self.name}"')
        if layer.name in self._modules:
            raise ValueError(
                f'All layers added to a model must have unique names; "'
                f'{layer.name}" is already in model "{self.name}"'
            )
        self._layers.append(layer)
        self.add_module(layer.name, layer)

    def build(self, input_shape=None):
        """Build every layer from ``input_shape`` (batch dim included, may be None)."""
        shape = tuple(input_shape) if input_shape is not None else self._input_shape
        if shape is None:
            raise ValueError(
                f'Model "{self.name}" cannot be built without an input shape: '
                f"start it with keras.Input(shape=...), pass input_shape= to the "
                f"first layer, or call it on data"
            )
        shape = (None,) + tuple(shape[1:])
        self._input_shape = shape
        if self._subclassed:  # create the weights by running the model once
            from minnet.autograd import no_grad

            with no_grad():
                self._forward(
                    Tensor(
                        np.zeros(
                            (1,) + tuple(1 if d is None else d for d in shape[1:]),
                            self.input_dtype,
                        )
                    ),
                    False,
                )
            self._output_shapes, self._build_shape, self.built = None, None, True
            return
        if self._graph is not None:  # the layers were built on the KerasTensors
            self._output_shapes, self._build_shape = list(self._graph_shapes), shape
            self.built = True
            return
        self._output_shapes = []
        for layer in self._layers:
            layer._maybe_build(shape)
            layer._check_input(shape)
            shape = layer.output_shape_for(shape)
            self._output_shapes.append(shape)
        self._build_shape = self._input_shape
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)

    def compute_output_shape(self, input_shape):
        if self._graph is not None:
            return self._graph_shapes[-1]
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    @property
    def input_shape(self):
        return self._input_shape

    @property
    def output_shape(self):
        return self._output_shapes[-1] if self.built and self._output_shapes else None

    @property
    def input_dtype(self):
        layers = self.layers
        return layers[0].input_dtype if layers and not self._subclassed else np.float32

    def _check_input(self, shape):
        want = self._build_shape
        if want is None:
            return
        if len(shape) != len(want) or any(
            w is not None and w != s for w, s in zip(want[1:], shape[1:])
        ):
            first = self._layers[0] if self._layers else self
            raise ValueError(
                f'Input 0 of layer "{first.name}" ({type(first).__name__}) is '
                f'incompatible with the layer: expected shape={shape_str(want)}, '
                f"found shape={shape_str(tuple(shape))} (in model "
                f'"{self.name}")'
            )

    def _forward(self, x, training, skip_final_activation=False):
        """The model's call as fit/evaluate/predict make it."""
        if self._subclassed:
            return self.call(x, training=training) if _takes_training(type(self)) else self.call(x)
        return self.call(x, training, skip_final_activation)

    def _final_activation(self):
        if not self._layers or self._subclassed:
            return None
        last = self._layers[-1]
        act = getattr(last, "activation", None)
        if act is None or not _call_accepts(type(last), "skip_activation"):
            return None
        name = activations.serialize(act)
        return name if name in ("softmax", "sigmoid") else None

    def regularization_losses(self):
        """Every layer's weight penalties (added to the training loss)."""
        return [r for layer in self.layers for r in layer.regularization_losses()]

    def _call_graph(self, x, training, skip_final_activation):
        values = [x]
        last = len(self._graph) - 1
        for i, (layer, parents) in enumerate(self._graph):
            kw = {"skip_activation": True} if i == last and skip_final_activation else {}
            arg = (
                [values[p] for p in parents]
                if getattr(layer, "merge", False)
                else values[parents[0]]
            )
            values.append(layer(arg, training=training, **kw))
        return values[-1]

    def call(self, x, training=False, skip_final_activation=False):
        if self._graph is not None:
            return self._call_graph(x, training, skip_final_activation)
        last = len(self._layers) - 1
        nchw = False  # x is an image batch held in NCHW (see Layer.nchw)
        skip = 0  # layers that ran inside the previous one (the pool)
        fusion_at = {i: f for i, _, f in plan([layer.fusion_role() for layer in self._layers])}
        for i, layer in enumerate(self._layers):
            if skip:
                skip -= 1
                continue
            kw = {"skip_activation": True} if i == last and skip_final_activation else {}
            if x.ndim == 4 and (nchw or layer.nchw) and layer.nchw_ok():
                if not nchw:
                    x, nchw = to_nchw(x), True
                if fusion_at.get(i) == "relu_pool":
                    kw["max_pool"], skip = True, 1  # the pool (no activation) runs inside
                x = layer.call_nchw(x, training, **kw)
                nchw = x.ndim == 4
            else:
                if nchw:
                    x, nchw = to_nhwc(x), False
                x = layer(x, training=training, **kw)
        return to_nhwc(x) if nchw else x

    def _apply_trainable(self):
        """``model.trainable = value`` sets every layer's (Keras)."""
        for layer in self.layers:
            layer.trainable = self.trainable

    # ------------------------------------------------------------------ weights
    @property
    def weights(self):
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def get_weights(self):
        """Every layer's weights in order, in Keras's layouts (NumPy copies)."""
        return [w for layer in self.layers for w in layer.get_weights()]

    def set_weights(self, weights):
        weights = list(weights)
        counts = [len(layer.get_weights()) for layer in self.layers]
        if len(weights) != sum(counts):
            raise ValueError(
                f"You called `set_weights(weights)` on model \"{self.name}\" with "
                f"a weight list of length {len(weights)}, but the model was "
                f"expecting {sum(counts)} weights"
            )
        start = 0
        for layer, k in zip(self.layers, counts):
            layer.set_weights(weights[start : start + k])
            start += k

    def count_params(self):
        if not self.built:
            raise ValueError(
                f'Model "{self.name}" is not built yet: give it an input shape '
                f"or call it on data first"
            )
        return sum(layer.count_params() for layer in self.layers)

    def reset_state(self):
        """Zero the carried states of every stateful recurrent layer (``stateful=True``)."""
        for layer in self.layers:
            if hasattr(layer, "reset_state"):
                layer.reset_state()

    def reset_states(self):
        """Keras 2's name of :meth:`reset_state`."""
        self.reset_state()

    def save_weights(self, filepath, overwrite=True):
        """Write the weights to ``filepath``, which must end in '.weights.npz' (minnet's
        pickle-free .npz format, written atomically)."""
        filepath = check_name(filepath, WEIGHTS_SUFFIX, "HDF5", overwrite)
        _save(
            {
                "format": "minnet.keras.weights",
                "version": 1,
                "layers": [
                    {
                        "name": layer.name,
                        "class": type(layer).__name__,
                        "weights": layer.get_weights(),
                    }
                    for layer in self.layers
                ],
            },
            filepath,
        )

    def load_weights(self, filepath):
        """Load weights written by ``save_weights`` into this (same-architecture) model,
        layer by layer in order; every shape is checked before anything is written."""
        saved = read_file(filepath, WEIGHTS_SUFFIX, "minnet.keras.weights")["layers"]
        if not self.built:
            raise ValueError(f'Model "{self.name}" must be built before load_weights')
        if len(saved) != len(self.layers):
            raise ValueError(
                f'Model "{self.name}" has {len(self.layers)} layers, the file holds {len(saved)}'
            )
        for layer, entry in zip(self.layers, saved):
            ws = list(entry["weights"])
            own = layer.get_weights()
            if len(ws) != len(own) or any(a.shape != b.shape for a, b in zip(ws, own)):
                raise ValueError(
                    f'Layer "{layer.name}" ({type(layer).__name__}) expects '
                    f"weights of shapes {[w.shape for w in own]}; the file has "
                    f'{[np.shape(w) for w in ws]} for layer "{entry["name"]}" '
                    f'({entry["class"]})'
                )
        for layer, entry in zip(self.layers, saved):
            layer.set_weights(entry["weights"])

    def save(self, filepath, overwrite=True, zipped=None):
        """Write the whole model (architecture, weights, compile settings) to ``filepath``,
        which must end in '.keras.npz'; ``keras.models.load_model`` reads it back."""
        save_model(self, check_name(filepath, MODEL_SUFFIX, "Keras's zip", overwrite))

    def get_config(self):
        return {
            "name": self.name,
            "layers": [
                {"class_name": type(la).__name__, "config": la.get_config()} for la in self.layers
            ],
        }

    # ------------------------------------------------------------------ summary
    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Print Keras's table: each layer's name and type, output shape and parameter
        count, then the totals (and the optimizer's state size once it has stepped)."""
        print_fn = print_fn or print
        rows = []
        for i, layer in enumerate(self.layers):
            shape = (
                shape_str(self._output_shapes[i]) if self.built and self._output_shapes else "?"
            )
            params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
            rows.append((f"{layer.name} ({type(layer).__name__})", shape, params))
        widths = [
            max(31, *(len(r[0]) for r in rows)) if rows else 31,
            max(22, *(len(r[1]) for r in rows)) if rows else 22,
            13,
        ]
        w0, w1, w2 = widths

        def line(a, b, c, d):
            return a + b * (w0 + 2) + c + b * (w1 + 2) + c + b * (w2 + 2) + d

        out = [
            f'Model: "{self.name}"',
            line("┏", "━", "┳", "┓"),
            f"┃ {'Layer (type)':<{w0}} ┃ {'Output Shape':<{w1}} ┃ {'Param #':>{w2}} ┃",
            line("┡", "━", "╇", "┩"),
        ]
        for i, (a, b, c) in enumerate(rows):
            out.append(f"│ {a:<{w0}} │ {b:<{w1}} │ {c:>{w2}} │")
            if i < len(rows) - 1:
                out.append(line("├", "─", "┼", "┤"))
        out.append(line("└", "─", "┴", "┘"))
        total = sum(int(np.prod(w.shape)) for w in self.weights) if self.built else 0
        trainable = sum(int(np.prod(w.shape)) for w in self.trainable_weights) if self.built else 0
        out += [
            f" Total params: {total:,} ({_size(total)})",
            f" Trainable params: {trainable:,} ({_size(trainable)})",
            f" Non-trainable params: {total - trainable:,} ({_size(total - trainable)})",
        ]
        impl = getattr(self.optimizer, "_impl", None)
        if impl is not None and impl.state:
            n = sum(
                int(a.size)
                for st in impl.state.values()
                for a in st.values()
                if isinstance(a, np.ndarray)
            )
            out.append(f" Optimizer params: {n:,} ({_size(n)})")
        for text in out:
            print_fn(text)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _size(n_params):
    b = 4.0 * n_params
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1024 or unit == "GB":
            return f"{b:.2f} {unit}"
        b /= 1024


class Sequential(Model):
    """A plain stack of layers, each feeding the next.

    Args:
        layers (list): optional; may start with ``keras.Input(shape=...)``.
        name (str): Default: 'sequential', 'sequential_1', ...

    The model builds as soon as its input shape is known (``keras.Input``, or
    ``input_shape=`` on the first layer), else on its first call, ``fit`` or ``build``.

    Examples::

        >>> model = keras.Sequential([
        ...     keras.Input(shape=(28, 28)),
        ...     layers.Flatten(),
        ...     layers.Dense(128, activation="relu"),
        ...     layers.Dense(10, activation="softmax")])
        >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
        ...               metrics=["accuracy"])
        >>> history = model.fit(x_train, y_train, epochs=5, validation_split=0.1)
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        for layer in layers or []:
            self.add(layer)

    def add(self, layer, rebuild=True):
        """Append a layer (or set the input with a ``keras.Input`` / ``InputLayer``)."""
        if isinstance(layer, KerasTensor):
            if not isinstance(layer.layer, InputLayer):
                raise ValueError(
                    "Sequential.add: only keras.Input(...) tensors can be added; "
                    "use keras.Model(inputs, outputs) for functional models"
                )
            layer = layer.layer
        if isinstance(layer, InputLayer):
            if self.layers:
                raise ValueError(f'Sequential "{self.name}": an Input must come first')
            self._input_shape = layer.shape
        elif not isinstance(layer, Layer):
            raise ValueError(
                f"Only instances of `keras.Layer` can be added to a Sequential "
                f"model. Received: {layer!r} (of type {type(layer).__name__})"
            )
        else:
            if (
                not self.layers
                and self._input_shape is None
                and layer._declared_input_shape is not None
            ):
                self._input_shape = layer._declared_input_shape
            self._append(layer)
        self.built = False
        if rebuild and self._input_shape is not None and self.layers:
            self.build(self._input_shape)

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        del self._modules[layer.name]
        self.built = False
        if rebuild and self._input_shape is not None and self.layers:
            self.build(self._input_shape)
        return layer
