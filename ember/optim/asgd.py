"""ASGD: averaged stochastic gradient descent."""
from .._tensor import _new_tensor
from ..backend import xp_of
from ._elementwise import ElementwiseOptimizer, axpy_, check_options, count_step, \
    effective_grad, hyper, scalar_dtype, zeros_state

__all__ = ["ASGD"]


class ASGD(ElementwiseOptimizer):
    """ASGD: SGD with a decaying step ``eta = lr / (1 + lambd * lr * t)**alpha`` and weight
    decay ``lambd * eta``, keeping in ``state["ax"]`` the average of the iterates from step
    ``t0`` on. ``step``, ``eta`` and ``mu`` are 0-d tensors on the parameter's device, as in
    PyTorch."""

    _option_fallbacks = dict(foreach=None, maximize=False, differentiable=False,
                             capturable=False)

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0,
                 foreach=None, maximize=False, differentiable=False, capturable=False):
        check_options(lr=lr, weight_decay=weight_decay)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        foreach=foreach, maximize=maximize, differentiable=differentiable,
                        capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        xp = xp_of(p._data)
        state["step"] = _new_tensor(xp.zeros((), dtype=scalar_dtype()))
        state["eta"] = _new_tensor(xp.asarray(float(hyper(group["lr"])), dtype=scalar_dtype()))
        state["mu"] = _new_tensor(xp.ones((), dtype=scalar_dtype()))
        state["ax"] = zeros_state(p)

    def _hyper(self, group):
        return (hyper(group["lr"]), group["lambd"], group["alpha"], group["t0"],
                group["weight_decay"], group["maximize"])

    def _update(self, h, xp, p, g, state, real):
        lr, lambd, alpha, t0, weight_decay, maximize = h
        step = count_step(state)
        g = effective_grad(xp, p, g, maximize, weight_decay)
        eta = state["eta"]._data
        mu = state["mu"]._data
        eta_value = float(eta)
        p *= 1 - lambd * eta_value
        axpy_(xp, p, -eta_value, g)
        ax = real(state["ax"]._data)
        mu_value = float(mu)
        if mu_value != 1:
            t = xp.subtract(p, ax)
            t *= mu_value
            ax += t
        else:
            ax[...] = p
        eta[...] = lr / ((1 + lambd * lr * step) ** alpha)
        mu[...] = 1 / max(1, step - t0)
