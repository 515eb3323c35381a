"""The module PyTorch code imports as ``torch.nn.modules.module``: Module and the hooks common
to all modules (defined in ``ember/nn/module.py``)."""
from ..module import *  # noqa: F401,F403
from ..module import __all__, _addindent, _IncompatibleKeys, _WrappedHook  # noqa: F401
