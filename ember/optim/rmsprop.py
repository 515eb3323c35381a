"""RMSprop, optionally centered and with momentum."""
from ._elementwise import ElementwiseOptimizer, addcdiv_, addcmul_, axpy_, check_options, \
    count_step, effective_grad, hyper, lerp_, new_step, zeros_state

__all__ = ["RMSprop"]


class RMSprop(ElementwiseOptimizer):
    """RMSprop: ``v = alpha * v + (1 - alpha) * g * g``; the step divides ``g`` by
    ``sqrt(v) + eps`` (``sqrt(v - mean(g)**2) + eps`` when ``centered``), through a momentum
    buffer when ``momentum > 0``."""

    _option_fallbacks = dict(momentum=0, centered=False, foreach=None, maximize=False,
                             differentiable=False, capturable=False)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        check_options(lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state["step"] = new_step(p, group["capturable"])
        state["square_avg"] = zeros_state(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_state(p)
        if group["centered"]:
            state["grad_avg"] = zeros_state(p)

    def _hyper(self, group):
        return (float(hyper(group["lr"])), group["alpha"], group["eps"], group["weight_decay"],
                group["momentum"], group["centered"], group["maximize"])

    def _update(self, h, xp, p, g, state, real):
        lr, alpha, eps, weight_decay, momentum, centered, maximize = h
        count_step(state)
        g = effective_grad(xp, p, g, maximize, weight_decay)
        square_avg = real(state["square_avg"]._data)
        square_avg *= alpha
        addcmul_(xp, square_avg, 1 - alpha, g, g)
        if centered:
            grad_avg = real(state["grad_avg"]._data)
            lerp_(xp, grad_avg, g, 1 - alpha)
            avg = xp.multiply(grad_avg, -1.0)  # square_avg - grad_avg**2, as addcmul
            avg *= grad_avg
            avg += square_avg
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = real(state["momentum_buffer"]._data)
            buf *= momentum
            addcdiv_(xp, buf, 1.0, g, avg)
            axpy_(xp, p, -lr, buf)
        else:
            addcdiv_(xp, p, -lr, g, avg)
