"""Rprop: resilient backpropagation (sign-based steps with per-element step sizes)."""
from .._tensor import _new_tensor
from ..backend import xp_of
from ._elementwise import ElementwiseOptimizer, check_options, count_step, effective_grad, \
    hyper, new_step, zeros_state

__all__ = ["Rprop"]


class Rprop(ElementwiseOptimizer):
    """Rprop: each element moves by its own step size against the sign of its gradient; the
    step size grows by ``etas[1]`` while the gradient keeps its sign and shrinks by ``etas[0]``
    when it flips (and that element then skips one update), clamped to ``step_sizes``. The
    step sizes start at the group's ``lr`` (later changes of ``lr`` have no effect, as in
    PyTorch)."""

    _option_fallbacks = dict(foreach=None, maximize=False, differentiable=False,
                             capturable=False)

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        check_options(lr=lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, group, p, state):
        state["step"] = new_step(p, group["capturable"])
        state["prev"] = zeros_state(p)
        lr = float(hyper(group["lr"]))
        value = complex(lr, lr) if p._data.dtype.kind == "c" else lr
        state["step_size"] = _new_tensor(xp_of(p._data).full(p._data.shape, value,
                                                              dtype=p._data.dtype))

    def _hyper(self, group):
        (etaminus, etaplus), (step_size_min, step_size_max) = group["etas"], group["step_sizes"]
        return etaminus, etaplus, step_size_min, step_size_max, group["maximize"]

    def _update(self, h, xp, p, g, state, real):
        etaminus, etaplus, step_size_min, step_size_max, maximize = h
        count_step(state)
        g = effective_grad(xp, p, g, maximize, 0)
        prev = real(state["prev"]._data)
        step_size = real(state["step_size"]._data)
        factor = xp.multiply(g, prev)
        xp.sign(factor, out=factor)
        # same sign: grow; flipped: shrink; a zero: keep (NaN stays NaN, as in PyTorch)
        xp.copyto(factor, etaplus, where=factor > 0)
        xp.copyto(factor, etaminus, where=factor < 0)
        xp.copyto(factor, 1, where=factor == 0)
        step_size *= factor
        xp.clip(step_size, step_size_min, step_size_max, out=step_size)
        g = g.copy()
        xp.copyto(g, 0, where=factor == etaminus)  # a flipped sign skips this update
        update = xp.sign(g)
        update *= step_size
        p -= update
        prev[...] = g
