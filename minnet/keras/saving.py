"""Whole-model files: ``model.save(path)`` / ``keras.models.load_model(path)``.

A model file (name ending in ``.keras.npz``) is written with minnet.save (pickle-free .npz,
atomic): the model's class and name, its input shape, each layer's class, constructor
arguments (recorded when the layer was made, see ``RecordsInit``) and weights in Keras's
layouts, and the compile settings (optimizer class and arguments, loss, metrics). The
optimizer's slots (Adam's moments, ...) are not saved: a loaded model's optimizer starts
fresh. Layers or losses made with Python callables (custom activations, ...) cannot be
saved and raise ValueError naming the argument, unless the callable is registered with
``register_keras_serializable``.

Custom classes (a layer, an RNN cell, a loss...) are rebuilt from their recorded constructor
arguments: pass them to ``load_model(path, custom_objects={"MyCell": MyCell})``, or
decorate them with ``@keras.saving.register_keras_serializable(package="my_package")``,
which stores them under ``"my_package>MyCell"`` so ``load_model`` finds them by itself.
"""

import functools
import inspect
import os

import numpy as np

from minnet.serialization import load as _load
from minnet.serialization import save as _save

__all__ = [
    "RecordsInit",
    "save_model",
    "load_model",
    "check_name",
    "read_file",
    "MODEL_SUFFIX",
    "register_keras_serializable",
    "get_registered_name",
    "get_registered_object",
    "get_custom_objects",
    "custom_object_scope",
    "CustomObjectScope",
]

MODEL_SUFFIX = ".keras.npz"

# register_keras_serializable's registry, as Keras 3's: "package>name" -> object, and back
_GLOBAL_CUSTOM_OBJECTS = {}
_GLOBAL_CUSTOM_NAMES = {}


def register_keras_serializable(package="Custom", name=None):
    """Decorator: register a custom class (layer, RNN cell, loss, metric...) or function
    under ``"package>name"`` (name defaults to its ``__name__``), so that whole-model files
    record it by that name and ``load_model`` rebuilds it without ``custom_objects``.

    Examples::

        >>> @keras.saving.register_keras_serializable(package="course")
        ... class MinimalRNNCell(keras.layers.Layer):
        ...     ...
        >>> keras.saving.get_registered_name(MinimalRNNCell)
        'course>MinimalRNNCell'
    """
    if not isinstance(package, str) or (name is not None and not isinstance(name, str)):
        raise TypeError(
            f"register_keras_serializable: package and name must be strings, got "
            f"package={package!r}, name={name!r}"
        )

    def decorator(arg):
        registered = f"{package}>{name if name is not None else arg.__name__}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError(
                f"register_keras_serializable: cannot register {arg.__name__}, "
                f"a class without a get_config() method"
            )
        _GLOBAL_CUSTOM_OBJECTS[registered] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered
        return arg

    return decorator


def get_registered_name(obj):
    """The name ``obj`` is registered under ("package>name"), else its ``__name__``."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered (or in scope) under ``name``, else from ``custom_objects`` or
    ``module_objects`` (dicts); None when none has it."""
    for table in (_GLOBAL_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}):
        if name in table:
            return table[name]
    return None


def get_custom_objects():
    """The live registry dict (name -> object): adding to it registers an object."""
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """``with keras.saving.custom_object_scope({"MyCell": MyCell}): load_model(...)``:
    the objects are registered inside the block only."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        self._backup = dict(_GLOBAL_CUSTOM_OBJECTS)
        _GLOBAL_CUSTOM_OBJECTS.update(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _GLOBAL_CUSTOM_OBJECTS.clear()
        _GLOBAL_CUSTOM_OBJECTS.update(self._backup)
        return False


custom_object_scope = CustomObjectScope


def _registered_function(value):
    """The registered name of a function (not a class), else None."""
    if callable(value) and not inspect.isclass(value):
        try:
            return _GLOBAL_CUSTOM_NAMES.get(value)
        except TypeError:  # an unhashable callable object
            return None
    return None


class RecordsInit:
    """Mixin: remembers the arguments the most-derived constructor was called with, so
    ``get_config()`` can return them and the object can be rebuilt from its file."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None or getattr(init, "_records", False):
            return

        @functools.wraps(init)
        def wrapper(self, *args, **kw):
            if "_init_args" not in self.__dict__:
                object.__setattr__(self, "_init_args", (type(self), args, kw))
            init(self, *args, **kw)

        wrapper._records = True
        cls.__init__ = wrapper

    def _constructor_config(self):
        owner, args, kw = self.__dict__.get("_init_args", (type(self), (), {}))
        init = None
        for klass in type(self).__mro__:
            if "__init__" in klass.__dict__:
                init = inspect.unwrap(klass.__dict__["__init__"])
                break
        bound = inspect.signature(init).bind(self, *args, **kw)
        config = {}
        for name, value in list(bound.arguments.items())[1:]:
            param = inspect.signature(init).parameters[name]
            if param.kind == param.VAR_KEYWORD:
                config.update(value)
            elif param.kind == param.VAR_POSITIONAL:
                if value:
                    raise ValueError(f"{type(self).__name__}: cannot record *{name}")
            else:
                config[name] = value
        return config


def _plain(value, where):
    """value as JSON-like data (str, number, bool, None, lists/tuples of them); a nested
    keras object (Bidirectional's layer) as {"nested": its serialization}."""
    if value is None or isinstance(value, (bool, str, int, float)):
        return value
    if isinstance(value, RecordsInit):
        return {"nested": _serialize(value, where)}
    if _registered_function(value) is not None:
        return {"function": _registered_function(value)}
    if isinstance(value, (np.integer, np.floating, np.bool_)):
        return value.item()
    if isinstance(value, (list, tuple)):
        out = [_plain(v, where) for v in value]
        return tuple(out) if isinstance(value, tuple) else out
    raise ValueError(
        f"{where}={value!r} cannot be saved: only strings, numbers, booleans, "
        f"None and lists of them (a callable or object argument is Python code)"
    )


def _serialize(obj, what):
    if obj is None or isinstance(obj, str):
        return obj
    if _registered_function(obj) is not None:
        return {"function": _registered_function(obj)}
    if not isinstance(obj, RecordsInit):
        raise ValueError(
            f"{what} {obj!r} cannot be saved (use a name or a keras object, "
            f"or register it with keras.saving.register_keras_serializable)"
        )
    config = obj._constructor_config()
    return {
        "class": _GLOBAL_CUSTOM_NAMES.get(type(obj), type(obj).__name__),
        "config": {k: _plain(v, f"{type(obj).__name__} argument {k}") for k, v in config.items()},
    }


def _lookup(name, table, custom, what):
    """A saved class or function name: custom_objects (by the full "package>name" or the
    bare name), the registry, then minnet's own table."""
    bare = name.split(">")[-1]
    found = (
        custom.get(name) or custom.get(bare) or _GLOBAL_CUSTOM_OBJECTS.get(name) or table.get(name)
    )
    if found is None:
        raise ValueError(
            f"Unknown {what} {name!r}: pass it in load_model(..., "
            f"custom_objects={{{bare!r}: {bare}}}) or decorate it with "
            f"@keras.saving.register_keras_serializable()"
        )
    return found


def _revive(value, table, custom, what):
    """A saved argument value back to Python: nested keras objects, registered functions,
    lists of them."""
    if isinstance(value, dict) and "nested" in value:
        return _deserialize(value["nested"], table, custom, what)
    if isinstance(value, dict) and "function" in value:
        return _lookup(value["function"], {}, custom, "function")
    if isinstance(value, (list, tuple)):
        out = [_revive(v, table, custom, what) for v in value]
        return tuple(out) if isinstance(value, tuple) else out
    return value


def _deserialize(entry, table, custom, what):
    if entry is None or isinstance(entry, str):
        return entry
    if "function" in entry:
        return _lookup(entry["function"], {}, custom, "function")
    cls = _lookup(entry["class"], table, custom, f"{what} class")
    config = {k: _revive(v, table, custom, what) for k, v in entry["config"].items()}
    return cls(**config)


def check_name(filepath, suffix, not_format, overwrite=True):
    """filepath as a str, after checking its suffix (and that it may be overwritten)."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(suffix):
        raise ValueError(
            f"The filename must end in `{suffix}` (minnet writes its own "
            f".npz format, not {not_format}). Received: filepath={filepath}"
        )
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    return filepath


def read_file(filepath, suffix, fmt):
    """The dict minnet.load reads from a keras file of format ``fmt``."""
    filepath = check_name(filepath, suffix, "another format")
    state = _load(filepath)
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise ValueError(f"{filepath} is not a {fmt} file written by minnet")
    return state


def save_model(model, filepath):
    filepath = check_name(filepath, MODEL_SUFFIX, "Keras's zip")
    if model._subclassed:
        raise ValueError(
            f'Model "{model.name}" is a subclassed model: its call is Python '
            f"code, which minnet does not save; use save_weights"
        )
    if not model.built:
        raise ValueError(f'Model "{model.name}" must be built before it is saved')
    layers = []
    for layer in model.layers:
        entry = _serialize(layer, f'Layer "{layer.name}"')
        entry["config"]["name"] = layer.name
        entry["weights"] = layer.get_weights()
        layers.append(entry)
    compiled = None
    if model.compiled:
        compiled = {
            "optimizer": _serialize(model.optimizer, "optimizer"),
            "learning_rate": float(model.optimizer.learning_rate),
            "loss": _serialize(model.loss if isinstance(model.loss, str) else model._loss, "loss"),
            "metrics": [_serialize(m, "metric") for m in model._metric_ids],
        }
    graph = None if model._graph is None else [parents for _, parents in model._graph]
    _save(
        {
            "format": "minnet.keras.model",
            "version": 1,
            "class": type(model).__name__,
            "name": model.name,
            "input_shape": _plain(model.input_shape, "input_shape"),
            "layers": layers,
            "graph": graph,
            "compile": compiled,
        },
        filepath,
    )


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved with ``model.save``: architecture, weights and (with
    ``compile``) its compile settings. ``custom_objects`` maps class names to classes for
    layers (RNN cells too), losses or metrics defined outside minnet.keras; classes
    registered with ``register_keras_serializable`` are found without it."""
    from minnet.keras import layers as layers_module
    from minnet.keras import losses, metrics, optimizers
    from minnet.keras.models import Sequential

    state = read_file(filepath, MODEL_SUFFIX, "minnet.keras.model")
    custom = dict(custom_objects or {})
    table = {name: getattr(layers_module, name) for name in layers_module.__all__}
    made = [_deserialize(entry, table, custom, "layer") for entry in state["layers"]]
    if state.get("graph") is not None:  # a functional graph: call the layers again
        from minnet.keras.layers.core import Input
        from minnet.keras.models import Model

        nodes = [Input(shape=tuple(state["input_shape"])[1:])]
        for layer, parents in zip(made, state["graph"]):
            arg = (
                [nodes[p] for p in parents]
                if getattr(layer, "merge", False)
                else nodes[parents[0]]
            )
            nodes.append(layer(arg))
        model = Model(nodes[0], nodes[-1], name=state["name"])
    else:
        model = Sequential(name=state["name"])
        if state["input_shape"] is not None:
            model._input_shape = tuple(state["input_shape"])
        for layer in made:
            model.add(layer, rebuild=False)
        model.build(model._input_shape)
    for layer, entry in zip(model.layers, state["layers"]):
        layer.set_weights(entry["weights"])
    if compile and state["compile"] is not None:
        c = state["compile"]
        opt = _deserialize(c["optimizer"], dict(optimizers._TABLE_BY_CLASS), custom, "optimizer")
        opt.learning_rate = c["learning_rate"]
        loss = _deserialize(
            c["loss"], {cls.__name__: cls for cls in losses._TABLE.values()}, custom, "loss"
        )
        mets = [
            _deserialize(
                m, {cls.__name__: cls for cls in metrics._TABLE.values()}, custom, "metric"
            )
            for m in c["metrics"]
        ]
        model.compile(optimizer=opt, loss=loss, metrics=mets)
    return model
