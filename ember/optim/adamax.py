"""Adamax: Adam with the infinity norm."""
from ._elementwise import ElementwiseOptimizer, addcdiv_, check_options, count_step, \
    effective_grad, hyper, lerp_, new_step, zeros_state

__all__ = ["Adamax"]


class Adamax(ElementwiseOptimizer):
    """Adamax: ``m = lerp(m, g, 1 - beta1)``, ``u = max(beta2 * u, |g| + eps)``,
    ``p -= lr / (1 - beta1**t) * m / u``."""

    _option_fallbacks = dict(foreach=None, maximize=False, differentiable=False,
                             capturable=False)

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state["step"] = new_step(p, group["capturable"])
        state["exp_avg"] = zeros_state(p)
        state["exp_inf"] = zeros_state(p)

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return (hyper(group["lr"]), beta1, beta2, group["eps"], group["weight_decay"],
                group["maximize"])

    def _update(self, h, xp, p, g, state, real):
        lr, beta1, beta2, eps, weight_decay, maximize = h
        step = count_step(state)
        g = effective_grad(xp, p, g, maximize, weight_decay)
        exp_avg = real(state["exp_avg"]._data)
        exp_inf = real(state["exp_inf"]._data)
        lerp_(xp, exp_avg, g, 1 - beta1)
        exp_inf *= beta2
        norm = xp.abs(g)
        norm += eps
        xp.maximum(exp_inf, norm, out=exp_inf)
        clr = lr / (1 - beta1 ** step)
        addcdiv_(xp, p, float(-clr), exp_avg, exp_inf)
