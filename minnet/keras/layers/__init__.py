"""keras.layers: Dense, Activation, Dropout, Flatten, Reshape, BatchNormalization, Input,
InputLayer, SimpleRNN, GRU, LSTM, and (with minnet.nn's convolutions) Conv2D, MaxPooling2D,
AveragePooling2D, GlobalAveragePooling2D, GlobalMaxPooling2D."""
from minnet.keras.layers.base import Layer
from minnet.keras.layers.convolutional import (AveragePooling2D, Conv2D,
                                               GlobalAveragePooling2D, GlobalMaxPooling2D,
                                               MaxPooling2D)
from minnet.keras.layers.core import (Activation, Dense, Dropout, Flatten, Input, InputLayer,
                                      Reshape)
from minnet.keras.layers.normalization import BatchNormalization
from minnet.keras.layers.recurrent import GRU, LSTM, SimpleRNN

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Activation", "Dropout", "Flatten",
           "Reshape", "BatchNormalization", "SimpleRNN", "GRU", "LSTM", "Conv2D", "MaxPooling2D",
           "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D"]
