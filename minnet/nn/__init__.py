"""minnet.nn: neural-network layers (Module, Parameter, Linear, ...), nn.init, nn.utils and
nn.functional."""
from minnet.nn import functional, init, utils
from minnet.nn.modules import *  # noqa: F401,F403
from minnet.nn.modules import __all__ as _modules_all
from minnet.nn.parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils"] + list(_modules_all)
