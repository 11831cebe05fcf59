"""Embedding: integer token ids -> learned vectors, on minnet.nn.Embedding."""

import numpy as np

from minnet import nn
from minnet.keras import initializers
from minnet.keras.layers.base import Layer, identity
from minnet.tensor import Tensor

__all__ = ["Embedding"]


class Embedding(Layer):
    """Turns token ids (batch, length) into vectors (batch, length, output_dim).

    Args:
        input_dim (int): vocabulary size (ids in [0, input_dim)).
        output_dim (int): vector size.
        embeddings_initializer: Default: 'uniform' (U(-0.05, 0.05), Keras's).
        mask_zero: only False is supported (no masking in minnet's RNN layers).

    Weights: embeddings (input_dim, output_dim).
    """

    input_dtype = np.int64

    def __init__(
        self, input_dim, output_dim, embeddings_initializer="uniform", mask_zero=False, **kwargs
    ):
        kwargs.pop("input_length", None)
        super().__init__(**kwargs)
        if mask_zero:
            raise ValueError(f'Embedding "{self.name}": mask_zero=True is not supported')
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        init = "random_uniform" if embeddings_initializer == "uniform" else embeddings_initializer
        self.embeddings_initializer = initializers.get(init)

    def build(self, input_shape):
        self.embedding = nn.Embedding(self.input_dim, self.output_dim)
        self.embedding.weight.data[...] = self.embeddings_initializer(
            (self.input_dim, self.output_dim)
        )

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def _variables(self):
        return (
            [("embeddings", self.embedding.weight, identity, identity, True)] if self.built else []
        )

    def call(self, x, training=False):
        if x.dtype.kind != "i":
            x = Tensor(x.data.astype(np.int64))
        return self.embedding(x)
