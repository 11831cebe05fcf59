r"""Convert recurrent weights between PyTorch's layout (minnet.nn) and Keras's.

=========  ==========================================  =========================================
cell       minnet / PyTorch                            Keras
=========  ==========================================  =========================================
GRU        weight_ih (3H, I), weight_hh (3H, H),       kernel (I, 3H), recurrent_kernel (H, 3H),
           bias_ih, bias_hh (3H,); gates r, z, n       bias (2, 3H) = [input; recurrent];
                                                       gates z, r, h; ``reset_after=True``
LSTM       weight_ih (4H, I), weight_hh (4H, H),       kernel (I, 4H), recurrent_kernel (H, 4H),
           bias_ih, bias_hh (4H,); gates i, f, g, o    bias (4H,); gates i, f, c, o
RNN        weight_ih (H, I), weight_hh (H, H),         SimpleRNN: kernel (I, H),
           bias_ih, bias_hh (H,)                       recurrent_kernel (H, H), bias (H,)
=========  ==========================================  =========================================

Keras's GRU with ``reset_after=True`` (its default since TF 2) computes exactly PyTorch's
equations, ``h' = z * h + (1 - z) * hh`` with the reset gate applied to the recurrent
projection plus its bias, so conversion is a transpose and a permutation of gate blocks. A
GRU with ``reset_after=False`` (the lecture's Cho et al. form) is a different function and is
rejected. Keras's LSTM and SimpleRNN have one bias; going to Keras adds PyTorch's two,
coming from Keras puts it in bias_ih and zeros in bias_hh (the outputs are equal).

``get_keras_weights(module)`` / ``set_keras_weights(module, weights)`` work on a GRU, LSTM or
RNN module (any number of layers, either direction: the list holds [kernel, recurrent_kernel,
bias] per layer and direction, forward before backward as Keras's ``Bidirectional``) and on
the cells, in the order of Keras's ``layer.get_weights()``.
"""

import numpy as np

__all__ = [
    "gru_to_keras",
    "gru_from_keras",
    "lstm_to_keras",
    "lstm_from_keras",
    "rnn_to_keras",
    "rnn_from_keras",
    "get_keras_weights",
    "set_keras_weights",
]

# Keras's block k holds PyTorch's block _GRU_PERM[k]: z, r, h  <-  r(0), z(1), n(2)
_GRU_PERM = [1, 0, 2]


def _blocks(a, g, axis):
    return np.split(np.asarray(a), g, axis=axis)


def _permute(a, perm, axis):
    parts = _blocks(a, len(perm), axis)
    return np.concatenate([parts[p] for p in perm], axis=axis)


def gru_to_keras(weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """PyTorch GRU weights -> (kernel (I, 3H), recurrent_kernel (H, 3H), bias (2, 3H))."""
    kernel = _permute(np.asarray(weight_ih).T, _GRU_PERM, axis=1)
    recurrent = _permute(np.asarray(weight_hh).T, _GRU_PERM, axis=1)
    gh = kernel.shape[1]
    b_i = np.zeros(gh, kernel.dtype) if bias_ih is None else _permute(bias_ih, _GRU_PERM, 0)
    b_h = np.zeros(gh, kernel.dtype) if bias_hh is None else _permute(bias_hh, _GRU_PERM, 0)
    return np.ascontiguousarray(kernel), np.ascontiguousarray(recurrent), np.stack([b_i, b_h])


def gru_from_keras(kernel, recurrent_kernel, bias=None):
    """Keras GRU (reset_after=True) weights -> (weight_ih, weight_hh, bias_ih, bias_hh)."""
    kernel = np.asarray(kernel)
    gh = kernel.shape[1]
    if bias is not None:
        bias = np.asarray(bias)
        if bias.shape != (2, gh):
            raise ValueError(
                f"gru_from_keras: bias must have shape (2, {gh}) (a GRU with "
                f"reset_after=True); got {bias.shape}. reset_after=False is the "
                f"lecture's GRU, a different function, and is not supported"
            )
    w_ih = np.ascontiguousarray(_permute(kernel, _GRU_PERM, axis=1).T)
    w_hh = np.ascontiguousarray(_permute(np.asarray(recurrent_kernel), _GRU_PERM, axis=1).T)
    if bias is None:
        return w_ih, w_hh, None, None
    return w_ih, w_hh, _permute(bias[0], _GRU_PERM, 0), _permute(bias[1], _GRU_PERM, 0)


def _single_bias_to_keras(weight_ih, weight_hh, bias_ih, bias_hh):
    kernel = np.ascontiguousarray(np.asarray(weight_ih).T)
    recurrent = np.ascontiguousarray(np.asarray(weight_hh).T)
    bias = np.zeros(kernel.shape[1], kernel.dtype)
    for b in (bias_ih, bias_hh):
        if b is not None:
            bias = bias + np.asarray(b)
    return kernel, recurrent, bias


def _single_bias_from_keras(kernel, recurrent_kernel, bias):
    w_ih = np.ascontiguousarray(np.asarray(kernel).T)
    w_hh = np.ascontiguousarray(np.asarray(recurrent_kernel).T)
    if bias is None:
        return w_ih, w_hh, None, None
    bias = np.asarray(bias)
    return w_ih, w_hh, bias.copy(), np.zeros_like(bias)


def lstm_to_keras(weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """PyTorch LSTM weights -> (kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H,)); the
    gate order i, f, g(c), o is the same on both sides."""
    return _single_bias_to_keras(weight_ih, weight_hh, bias_ih, bias_hh)


def lstm_from_keras(kernel, recurrent_kernel, bias=None):
    """Keras LSTM weights -> (weight_ih, weight_hh, bias_ih = bias, bias_hh = 0)."""
    return _single_bias_from_keras(kernel, recurrent_kernel, bias)


def rnn_to_keras(weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """PyTorch (Elman) RNN weights -> Keras SimpleRNN (kernel, recurrent_kernel, bias)."""
    return _single_bias_to_keras(weight_ih, weight_hh, bias_ih, bias_hh)


def rnn_from_keras(kernel, recurrent_kernel, bias=None):
    """Keras SimpleRNN weights -> (weight_ih, weight_hh, bias_ih = bias, bias_hh = 0)."""
    return _single_bias_from_keras(kernel, recurrent_kernel, bias)


_CONVERTERS = {
    "GRU": (gru_to_keras, gru_from_keras),
    "LSTM": (lstm_to_keras, lstm_from_keras),
    "RNN": (rnn_to_keras, rnn_from_keras),
}


def _kind(module):
    name = type(module).__name__
    for kind in ("GRU", "LSTM", "RNN"):
        if name.startswith(kind):
            return kind
    raise TypeError(f"keras interop: expected a GRU, LSTM or RNN module or cell, got {name}")


def _groups(module):
    """[(names of w_ih, w_hh, b_ih, b_hh)] per layer and direction, in Keras's order."""
    if hasattr(module, "num_layers"):
        dirs = 2 if module.bidirectional else 1
        out = []
        for layer in range(module.num_layers):
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                out.append(
                    tuple(n + sfx for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))
                )
        return out
    return [("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def get_keras_weights(module):
    """The module's weights as Keras's ``get_weights()`` list: [kernel, recurrent_kernel,
    bias] per layer and direction (no bias entry when the module has none)."""
    to_keras = _CONVERTERS[_kind(module)][0]
    out = []
    for names in _groups(module):
        ps = [getattr(module, n, None) for n in names]
        arrays = [None if p is None else p.data for p in ps]
        kernel, recurrent, bias = to_keras(*arrays)
        out += [kernel, recurrent] + ([bias] if arrays[2] is not None else [])
    return out


def set_keras_weights(module, weights):
    """Load Keras's ``get_weights()`` list (as returned by get_keras_weights) into the module,
    in place, checking every shape."""
    kind = _kind(module)
    from_keras = _CONVERTERS[kind][1]
    groups = _groups(module)
    has_bias = getattr(module, groups[0][2], None) is not None
    per = 3 if has_bias else 2
    weights = list(weights)
    if len(weights) != per * len(groups):
        raise ValueError(
            f"set_keras_weights: {type(module).__name__} needs {per * len(groups)} "
            f"arrays ({per} per layer and direction), got {len(weights)}"
        )
    for k, names in enumerate(groups):
        chunk = weights[k * per : (k + 1) * per]
        arrays = from_keras(*chunk) if has_bias else from_keras(chunk[0], chunk[1], None)
        for name, arr in zip(names, arrays):
            p = getattr(module, name, None)
            if p is None:
                continue
            if arr.shape != p.data.shape:
                raise ValueError(
                    f"set_keras_weights: {type(module).__name__}.{name} has shape "
                    f"{p.data.shape}, the Keras weights give {arr.shape}"
                )
            p.data[...] = arr
    return module
