"""``ember.nn``: modules, functional, init and utils, as in torch.nn."""
from .parameter import Parameter, Buffer  # noqa: F401
from .module import Module  # noqa: F401
from . import modules, functional, init, utils  # noqa: F401
from .modules._exports import exported as _exported

globals().update(_exported(modules.__name__))
