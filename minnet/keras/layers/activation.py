"""Activation layers with their own names: ReLU, Softmax, LeakyReLU, ELU."""

from minnet.keras import activations
from minnet.keras.layers.core import Activation

__all__ = ["ReLU", "Softmax", "LeakyReLU", "ELU"]


class ReLU(Activation):
    """max(x, 0) (``max_value``, ``negative_slope`` and ``threshold`` must keep their
    defaults)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        if max_value is not None or negative_slope or threshold:
            raise ValueError(
                "ReLU: only the defaults max_value=None, negative_slope=0, "
                "threshold=0 are supported; use LeakyReLU for a slope"
            )
        super().__init__("relu", **kwargs)


class Softmax(Activation):
    """Softmax over the last axis (fused into a following crossentropy by fit)."""

    def __init__(self, axis=-1, **kwargs):
        if axis != -1:
            raise ValueError("Softmax: only axis=-1 is supported")
        super().__init__("softmax", **kwargs)


class LeakyReLU(Activation):
    """x if x > 0 else negative_slope * x; Keras 3's default slope is 0.3."""

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(lambda x: activations.leaky_relu(x, negative_slope), **kwargs)
        self.negative_slope = negative_slope

    def nchw_ok(self):
        return True


class ELU(Activation):
    """x if x > 0 else alpha (exp(x) - 1)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(lambda x: activations.elu(x, alpha), **kwargs)
        self.alpha = alpha

    def nchw_ok(self):
        return True
