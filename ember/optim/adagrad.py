"""Adagrad, with learning-rate decay and an initial accumulator value."""
from .._tensor import _new_tensor
from ..backend import xp_of
from ._elementwise import ElementwiseOptimizer, addcdiv_, addcmul_, check_fused, check_options, \
    count_step, effective_grad, hyper, new_step

__all__ = ["Adagrad"]


class Adagrad(ElementwiseOptimizer):
    """Adagrad: ``s += g * g``, ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.
    State is created for every parameter at construction (as PyTorch does), with ``s`` filled
    with ``initial_accumulator_value``."""

    _option_fallbacks = dict(foreach=None, maximize=False, differentiable=False, fused=None)

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        check_options(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                      initial_accumulator_value=initial_accumulator_value, eps=eps)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        if fused:
            check_fused(fused, foreach)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(group, p, self.state[p])

    def _init_state(self, group, p, state):
        # PyTorch takes the accumulator's start from the optimizer's defaults, not the group.
        value = self.defaults["initial_accumulator_value"]
        state["step"] = new_step(p, group["fused"], group["fused"])
        xp = xp_of(p._data)
        init = complex(value, value) if p._data.dtype.kind == "c" else value
        state["sum"] = _new_tensor(xp.full(p._data.shape, init, dtype=p._data.dtype))

    def _hyper(self, group):
        return (hyper(group["lr"]), group["lr_decay"], group["eps"], group["weight_decay"],
                group["maximize"])

    def _update(self, h, xp, p, g, state, real):
        lr, lr_decay, eps, weight_decay, maximize = h
        step = count_step(state)
        g = effective_grad(xp, p, g, maximize, weight_decay)
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum = real(state["sum"]._data)
        addcmul_(xp, state_sum, 1.0, g, g)
        std = xp.sqrt(state_sum)
        std += eps
        addcdiv_(xp, p, float(-clr), g, std)
