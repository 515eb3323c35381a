"""RAdam: Adam with a rectified adaptive learning rate."""
from ._elementwise import ElementwiseOptimizer, addcmul_, check_options, count_step, \
    decayed_grad, hyper, lerp_, new_step, zeros_state

__all__ = ["RAdam"]


class RAdam(ElementwiseOptimizer):
    """RAdam: Adam's moments; while the variance estimate is unreliable (``rho_t <= 5``) the
    step is plain momentum SGD, afterwards Adam's step times the rectification term.
    ``decoupled_weight_decay`` gives RAdamW."""

    _option_fallbacks = dict(foreach=None, maximize=False, differentiable=False,
                             decoupled_weight_decay=False, capturable=False)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False,
                 capturable=False, differentiable=False):
        check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state["step"] = new_step(p, group["capturable"])
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return (hyper(group["lr"]), beta1, beta2, group["eps"], group["weight_decay"],
                group["decoupled_weight_decay"], group["maximize"])

    def _update(self, h, xp, p, g, state, real):
        lr, beta1, beta2, eps, weight_decay, decoupled, maximize = h
        step = count_step(state)
        g = decayed_grad(xp, p, g, maximize, weight_decay, decoupled, lr)
        exp_avg = real(state["exp_avg"]._data)
        exp_avg_sq = real(state["exp_avg_sq"]._data)
        lerp_(xp, exp_avg, g, 1 - beta1)
        exp_avg_sq *= beta2
        addcmul_(xp, exp_avg_sq, 1 - beta2, g, g)

        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        update = xp.divide(exp_avg, bias_correction1)
        update *= float(lr)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = xp.sqrt(exp_avg_sq)
            adaptive += eps
            xp.reciprocal(adaptive, out=adaptive)  # bias_correction2**0.5 / that, as PyTorch
            adaptive *= bias_correction2 ** 0.5
            update *= adaptive
            update *= rect
        p -= update
