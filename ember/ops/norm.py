"""Normalization primitives. Batch, layer, group and instance norm are one computation: subtract
the mean and divide by the standard deviation over some axes of the input, then apply an
optional elementwise affine. They share one fused Function, ``Normalize``; each norm is a
subclass that only names the op (for errors and graph capture).

The forward runs on arrays (two-pass statistics, float32 accumulation for half types). The
backward is written in Tensor ops, so gradients of gradients work; under ``create_graph`` the
statistics are recomputed from the input with Tensor ops, so that their dependence on the
input is part of the differentiated graph."""
import numpy as np

from .. import _dtype
from .._tensor import _new_tensor
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ._broadcast import sum_to

_HALF = frozenset(d._np for d in (_dtype.float16, _dtype.bfloat16) if d._np is not None)
_F32 = np.dtype(np.float32)


def _statistics(xp, x, axes):
    """Mean and biased variance of array ``x`` over ``axes`` (kept as size-1 dims), and the
    centered input (a new array, to be normalized in place). An empty input has mean 0 and
    variance 1 (NumPy would warn about empty means)."""
    if x.size == 0:
        kept = tuple(1 if i in axes else n for i, n in enumerate(x.shape))
        return xp.zeros(kept, x.dtype), xp.ones(kept, x.dtype), x.copy()
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return mean, var, centered


class Normalize(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with the statistics over ``axes``;
    ``weight`` and ``bias`` (or None) are viewed as ``affine_shape`` to broadcast against
    ``x``. Returns the normalized tensor and (not differentiable) the mean and the biased
    variance, both with the reduced axes kept as size 1."""
    _raw = True
    op_name = "normalize"

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, affine_shape):
        xc = x.astype(_F32) if x.dtype in _HALF else x
        mean, var, y = _statistics(ctx.xp, xc, axes)
        invstd = var + eps
        ctx.xp.sqrt(invstd, out=invstd)
        ctx.xp.reciprocal(invstd, out=invstd)
        y *= invstd
        if weight is not None:
            y *= weight.reshape(affine_shape)
        if bias is not None:
            y += bias.reshape(affine_shape)
        if y.dtype != x.dtype:
            y = y.astype(x.dtype)
        ctx.axes, ctx.eps, ctx.affine_shape = axes, eps, affine_shape
        param = weight if weight is not None else bias if bias is not None else x
        ctx.param_shape, ctx.param_dtype = param.shape, param.dtype
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, grad, _grad_mean=None, _grad_var=None):
        x, weight, mean, invstd = ctx.saved_tensors
        e_x, e_w, e_b = ctx._edges[:3]
        if grad is None:
            return None, None, None, None, None, None
        axes, shape = ctx.axes, ctx.affine_shape
        dtype = x.dtype
        if x._data.dtype in _HALF:
            x, grad = x.float(), grad.float()
        if GradMode.enabled:  # create_graph: statistics as functions of x, for double backward
            mean = x.mean(axes, keepdim=True)
            invstd = ((x - mean).square().mean(axes, keepdim=True) + ctx.eps).rsqrt()
        xhat = (x - mean) * invstd
        g_w = g_b = g_x = None
        if e_w:
            g_w = _param_grad(grad * xhat, ctx)
        if e_b:
            g_b = _param_grad(grad, ctx)
        if e_x:
            g = grad if weight is None else grad * weight.reshape(shape).to(grad.dtype)
            g_x = ((g - g.mean(axes, keepdim=True) - xhat * (g * xhat).mean(axes, keepdim=True))
                   * invstd).to(dtype)
        return g_x, g_w, g_b, None, None, None


def _param_grad(g, ctx):
    """``g`` summed to a weight / bias gradient (in the parameter's dtype, which can be
    float32 for a half-precision input)."""
    g = sum_to(g, ctx.affine_shape).reshape(ctx.param_shape)
    return g if g._data.dtype == ctx.param_dtype else g.to(_dtype.NP_TO_DTYPE[ctx.param_dtype])


class BatchNorm(Normalize):
    op_name = "batch_norm"


class LayerNorm(Normalize):
    op_name = "layer_norm"


class GroupNorm(Normalize):
    op_name = "group_norm"


class InstanceNorm(Normalize):
    op_name = "instance_norm"
