"""The module PyTorch code imports as ``torch.nn.modules.module``: Module and the hooks common
to all modules (defined in ``ember/nn/module.py``). Only Module is exported to ``ember.nn``,
as in torch.nn."""
from ..module import (Module, register_module_forward_pre_hook,  # noqa: F401
                      register_module_forward_hook, register_module_backward_hook,
                      register_module_full_backward_pre_hook, register_module_full_backward_hook,
                      register_module_buffer_registration_hook,
                      register_module_module_registration_hook,
                      register_module_parameter_registration_hook, _addindent,
                      _IncompatibleKeys, _WrappedHook)

__all__ = ["Module"]
