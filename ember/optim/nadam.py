"""NAdam: Adam with Nesterov momentum."""
import numpy as np

from .._tensor import _new_tensor
from ..backend import xp_of
from ._elementwise import ElementwiseOptimizer, addcdiv_, addcmul_, check_options, count_step, \
    decayed_grad, hyper, lerp_, new_step, scalar_dtype, zeros_state

__all__ = ["NAdam"]


class NAdam(ElementwiseOptimizer):
    """NAdam: Adam whose first moment is looked ahead with the momentum schedule
    ``mu_t = beta1 * (1 - 0.5 * 0.96**(t * momentum_decay))``; ``state["mu_product"]`` keeps
    the running product of ``mu_t``. ``decoupled_weight_decay`` gives NAdamW."""

    _option_fallbacks = dict(maximize=False, foreach=None, capturable=False,
                             differentiable=False, decoupled_weight_decay=False)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay,
                      momentum_decay=momentum_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state["step"] = new_step(p, group["capturable"])
        xp = xp_of(p._data) if group["capturable"] else np
        state["mu_product"] = _new_tensor(xp.ones((), dtype=scalar_dtype()))
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return (hyper(group["lr"]), beta1, beta2, group["eps"], group["weight_decay"],
                group["momentum_decay"], group["decoupled_weight_decay"], group["maximize"])

    def _update(self, h, xp, p, g, state, real):
        lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize = h
        step = count_step(state)
        bias_correction2 = 1 - beta2 ** step
        g = decayed_grad(xp, p, g, maximize, weight_decay, decoupled, lr)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state["mu_product"]._data
        mu_product *= mu  # in the state's (float32) precision, as PyTorch
        mu_product = float(mu_product)
        mu_product_next = mu_product * mu_next

        exp_avg = real(state["exp_avg"]._data)
        exp_avg_sq = real(state["exp_avg_sq"]._data)
        lerp_(xp, exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        addcmul_(xp, exp_avg_sq, 1 - beta2, g, g)
        denom = xp.divide(exp_avg_sq, bias_correction2)
        xp.sqrt(denom, out=denom)
        denom += eps
        addcdiv_(xp, p, float(-lr * (1.0 - mu) / (1.0 - mu_product)), g, denom)
        addcdiv_(xp, p, float((-lr * mu_next) / (1.0 - mu_product_next)), exp_avg, denom)
