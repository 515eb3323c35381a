"""Adam (and, with ``decoupled_weight_decay=True``, AdamW), with AMSGrad and maximize."""
from .._tensor import Tensor
from ._elementwise import ElementwiseOptimizer, addcdiv_, addcmul_, check_fused, check_options, \
    count_step, decayed_grad, hyper, lerp_, new_step, zeros_state

__all__ = ["Adam"]


class Adam(ElementwiseOptimizer):
    """Adam: ``m = lerp(m, g, 1 - beta1)``, ``v = beta2 * v + (1 - beta2) * g * g``,
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``; ``amsgrad`` uses the
    running maximum of ``v``; ``weight_decay`` is L2 (added to ``g``) or, with
    ``decoupled_weight_decay``, ``p *= 1 - lr * weight_decay`` (AdamW)."""

    _option_fallbacks = dict(amsgrad=False, maximize=False, foreach=None, capturable=False,
                             differentiable=False, decoupled_weight_decay=False, fused=None)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and "
                             "foreach=True")
        check_options(lr=lr, eps=eps, betas=betas, weight_decay=weight_decay)
        if not (all(isinstance(b, float) for b in betas)
                or all(isinstance(b, Tensor) for b in betas)):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, b in enumerate(betas):
            if isinstance(b, Tensor):
                if foreach and not capturable:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for "
                                     f"capturable=False and foreach=True")
                if b.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b.reshape(()) if isinstance(b, Tensor) else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)
        if fused:
            check_fused(fused, foreach)

    def _init_state(self, group, p, state):
        state["step"] = new_step(p, group["capturable"] or group["fused"], group["fused"])
        state["exp_avg"] = zeros_state(p)
        state["exp_avg_sq"] = zeros_state(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_state(p)

    def _hyper(self, group):
        beta1, beta2 = group["betas"]
        return (hyper(group["lr"]), hyper(beta1), hyper(beta2), group["eps"],
                group["weight_decay"], group["amsgrad"], group["maximize"],
                group["decoupled_weight_decay"])

    def _update(self, h, xp, p, g, state, real):
        lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled = h
        step = count_step(state)
        g = decayed_grad(xp, p, g, maximize, weight_decay, decoupled, lr)
        exp_avg = real(state["exp_avg"]._data)
        exp_avg_sq = real(state["exp_avg_sq"]._data)
        lerp_(xp, exp_avg, g, 1 - beta1)
        exp_avg_sq *= float(beta2)
        addcmul_(xp, exp_avg_sq, float(1 - beta2), g, g)

        step_size = lr / (1 - beta1 ** step)
        bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
        if amsgrad:
            v = real(state["max_exp_avg_sq"]._data)
            xp.maximum(v, exp_avg_sq, out=v)
        else:
            v = exp_avg_sq
        denom = xp.sqrt(v)
        denom /= float(bias_correction2_sqrt)
        denom += eps
        addcdiv_(xp, p, float(-step_size), exp_avg, denom)
