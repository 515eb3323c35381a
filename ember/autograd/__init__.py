"""``ember.autograd``: define-by-run automatic differentiation."""
from .grad_mode import (no_grad, enable_grad, set_grad_enabled, inference_mode, is_grad_enabled,
                        is_inference_mode_enabled)
from .anomaly import detect_anomaly, set_detect_anomaly, is_anomaly_enabled
from .function import Function, FunctionCtx, once_differentiable
from .engine import backward, grad
from .gradcheck import gradcheck, gradgradcheck, GradcheckError
from . import function, graph

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "detect_anomaly",
           "set_detect_anomaly", "Function", "backward", "grad", "gradcheck", "gradgradcheck"]
