"""Adadelta."""
from ._elementwise import ElementwiseOptimizer, addcmul_, axpy_, check_options, count_step, \
    effective_grad, hyper, new_step, zeros_state

__all__ = ["Adadelta"]


class Adadelta(ElementwiseOptimizer):
    """Adadelta: ``v = rho * v + (1 - rho) * g * g``,
    ``delta = sqrt(u + eps) / sqrt(v + eps) * g``, ``u = rho * u + (1 - rho) * delta**2``,
    ``p -= lr * delta``."""

    _option_fallbacks = dict(foreach=None, maximize=False, differentiable=False,
                             capturable=False)

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        check_options(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state["step"] = new_step(p, group["capturable"])
        state["square_avg"] = zeros_state(p)
        state["acc_delta"] = zeros_state(p)

    def _hyper(self, group):
        return (float(hyper(group["lr"])), group["rho"], group["eps"], group["weight_decay"],
                group["maximize"])

    def _update(self, h, xp, p, g, state, real):
        lr, rho, eps, weight_decay, maximize = h
        count_step(state)
        g = effective_grad(xp, p, g, maximize, weight_decay)
        square_avg = real(state["square_avg"]._data)
        acc_delta = real(state["acc_delta"]._data)
        square_avg *= rho
        addcmul_(xp, square_avg, 1 - rho, g, g)
        std = xp.add(square_avg, eps)
        xp.sqrt(std, out=std)
        delta = xp.add(acc_delta, eps)
        xp.sqrt(delta, out=delta)
        delta /= std
        delta *= g
        acc_delta *= rho
        addcmul_(xp, acc_delta, 1 - rho, delta, delta)
        axpy_(xp, p, -lr, delta)
