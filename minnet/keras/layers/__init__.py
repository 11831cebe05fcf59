"""keras.layers: Dense, Activation (and ReLU, Softmax, LeakyReLU, ELU), Dropout, Flatten,
Reshape, Rescaling, Normalization (adapt), BatchNormalization, LayerNormalization,
Embedding, Input, InputLayer, SimpleRNN, GRU, LSTM, RNN (over SimpleRNNCell, GRUCell,
LSTMCell, StackedRNNCells or a custom cell), Bidirectional, TimeDistributed,
Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D, and
their 1-D forms Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D,
GlobalMaxPooling1D; the merge layers Add, Subtract, Multiply, Average, Maximum, Minimum and
Concatenate for functional models."""

from minnet.keras.layers.activation import ELU, LeakyReLU, ReLU, Softmax
from minnet.keras.layers.base import Layer
from minnet.keras.layers.convolutional import (
    AveragePooling2D,
    Conv2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from minnet.keras.layers.convolutional1d import (
    AveragePooling1D,
    Conv1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from minnet.keras.layers.core import (
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    Rescaling,
    Reshape,
)
from minnet.keras.layers.embedding import Embedding
from minnet.keras.layers.merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
)
from minnet.keras.layers.normalization import BatchNormalization, LayerNormalization
from minnet.keras.layers.preprocessing import Normalization
from minnet.keras.layers.recurrent import (
    GRU,
    LSTM,
    RNN,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
)
from minnet.keras.layers.wrappers import Bidirectional, TimeDistributed

__all__ = [
    "Layer",
    "Input",
    "InputLayer",
    "Dense",
    "Activation",
    "Dropout",
    "Flatten",
    "Reshape",
    "BatchNormalization",
    "SimpleRNN",
    "GRU",
    "LSTM",
    "Conv2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "Embedding",
    "LayerNormalization",
    "Rescaling",
    "ReLU",
    "Softmax",
    "LeakyReLU",
    "ELU",
    "Conv1D",
    "MaxPooling1D",
    "AveragePooling1D",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "Bidirectional",
    "TimeDistributed",
    "Normalization",
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "RNN",
    "SimpleRNNCell",
    "GRUCell",
    "LSTMCell",
    "StackedRNNCells",
]
