"""minnet.optim: optimizers (PyTorch's update rules, in place on each parameter's ``.data``)
and learning-rate schedulers (``minnet.optim.lr_scheduler``)."""

from minnet.optim import lr_scheduler
from minnet.optim.adadelta import Adadelta
from minnet.optim.adagrad import Adagrad
from minnet.optim.adam import Adam, AdamW
from minnet.optim.optimizer import Optimizer
from minnet.optim.rmsprop import RMSprop
from minnet.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler"]
