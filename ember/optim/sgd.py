"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
from .._tensor import _new_tensor
from ..autograd.grad_mode import no_grad
from ..backend import xp_of
from ._elementwise import at_least_1d, axpy_, check_fused, check_fused_param, check_options, \
    effective_grad, hyper
from .optimizer import Optimizer, _call_closure

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum:
    ``b = momentum * b + (1 - dampening) * g`` (``b = g`` at the first step), then
    ``p -= lr * (g + momentum * b if nesterov else b)``; ``g`` includes ``weight_decay * p``."""

    _option_fallbacks = dict(nesterov=False, maximize=False, foreach=None,
                             differentiable=False, fused=False)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        check_options(lr=lr, momentum=momentum, weight_decay=weight_decay)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                        foreach=foreach, differentiable=differentiable, fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)
        if fused:
            check_fused(fused, foreach)

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the model and
        returns the loss."""
        loss = _call_closure(closure)
        with no_grad():
            for group in self.param_groups:
                self._step_group(group)
        return loss

    def _step_group(self, group):
        lr = float(hyper(group["lr"]))
        momentum = float(hyper(group["momentum"]))
        dampening = float(hyper(group["dampening"]))
        weight_decay = float(hyper(group["weight_decay"]))
        nesterov, maximize = group["nesterov"], group["maximize"]
        for p in group["params"]:
            grad = p._grad
            if grad is None:
                continue
            if group["fused"]:
                check_fused_param(p)
            pa, ga = at_least_1d(p._data), at_least_1d(grad._data)
            xp = xp_of(pa)
            g = effective_grad(xp, pa, ga, maximize, weight_decay)
            if momentum != 0:
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = g.copy()
                    state["momentum_buffer"] = _new_tensor(buf.reshape(p._data.shape))
                else:
                    buf = at_least_1d(buf._data)
                    buf *= momentum
                    axpy_(xp, buf, 1 - dampening, g)
                if nesterov:
                    t = xp.multiply(buf, momentum)  # g + momentum * buf
                    t += g
                    g = t
                else:
                    g = buf
            axpy_(xp, pa, -lr, g)
            p._bump()
