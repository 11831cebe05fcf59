"""minnet.nn: neural-network layers (Module, Parameter, Linear, ...), nn.init, nn.utils and
nn.functional."""

# TensorFlow's tf.nn.softmax(logits, axis=-1), log_softmax, relu, sigmoid, for
# ``import minnet as tf`` (torch.nn has no lower-case functions: nothing clashes; kept out
# of __all__ so ``from minnet.nn import *`` does not bring them)
from minnet._tf_compat import log_softmax, relu, sigmoid, softmax  # noqa: E402,F401
from minnet.nn import functional, init, parallel, utils
from minnet.nn.modules import *  # noqa: F401,F403
from minnet.nn.modules import __all__ as _modules_all
from minnet.nn.parameter import Parameter

__all__ = ["Parameter", "functional", "init", "parallel", "utils"] + list(_modules_all)
