"""Normalization primitives. Batch, layer, group and instance norm are one computation: subtract
the mean and divide by the standard deviation over some axes of the input, then apply an
optional elementwise affine. They share one fused Function, ``Normalize``; each norm is a
subclass that only names the op (for errors and graph capture).

The forward runs on arrays: two-pass statistics (the mean, then the mean square of the centered
input), float32 accumulation for half types, sums of products as single ``einsum`` passes.
The backward has two forms: on arrays, mostly in place (the common case), and in Tensor ops
when a graph of the gradient is being built (``create_graph``), with the statistics recomputed
from the input so that gradients of gradients are exact."""
import numpy as np

from .. import _dtype
from .._tensor import _new_tensor
from ..backend.cpu import batch_chunks
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ._broadcast import sum_to
from ._kept import kept_shape, sum_kept, dot_kept

from ._promote import HALF_NP as _HALF  # noqa: E402
_F32 = np.dtype(np.float32)


def _param_axes(shape, affine_shape):
    """The axes of an input of ``shape`` that a parameter viewed as ``affine_shape`` is
    constant over (its gradient sums over them)."""
    lead = len(shape) - len(affine_shape)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(affine_shape)
                                      if n == 1 and shape[lead + i] != 1)


class Normalize(Function):
    """``(x - mean) / sqrt(var + eps) * weight + bias`` with the statistics over ``axes``;
    ``weight`` and ``bias`` (or None) are viewed as ``affine_shape`` to broadcast against
    ``x``. Returns the normalized tensor and (not differentiable) the mean and the biased
    variance, both with the reduced axes kept as size 1. An empty input has mean 0 and
    variance 1."""
    _raw = True
    op_name = "normalize"

    @staticmethod
    def forward(ctx, x, weight, bias, axes, eps, affine_shape):
        xp = ctx.xp
        ctx.axes, ctx.eps, ctx.affine_shape = axes, eps, affine_shape
        param = weight if weight is not None else bias if bias is not None else x
        ctx.param_shape, ctx.param_dtype = param.shape, param.dtype
        ctx.set_materialize_grads(False)
        ctx.per_channel = _per_channel(x, weight, bias, axes)
        if ctx.per_channel:
            y, mean, var, invstd = _channel_forward(xp, x, weight, bias, eps)
            ctx.save_for_backward(x, weight, mean, invstd)
            ctx.mark_non_differentiable(mean, var)
            return y, mean, var
        xc = x.astype(_F32) if x.dtype in _HALF else x
        if x.size:
            mean = sum_kept(xp, xc, axes)
            mean /= x.size // mean.size
            y = xc - mean
            var = dot_kept(xp, y, y, axes) / (x.size // mean.size)
        else:  # (NumPy would warn about the means of nothing)
            kept = kept_shape(x.shape, axes)
            mean, var, y = xp.zeros(kept, xc.dtype), xp.ones(kept, xc.dtype), xc.copy()
        invstd = var + eps
        xp.sqrt(invstd, out=invstd)
        xp.reciprocal(invstd, out=invstd)
        w = None if weight is None else weight.reshape(affine_shape)
        per_group = _param_axes(x.shape, affine_shape) == tuple(axes)
        if w is not None and per_group:  # weight constant over the normalized axes: one scale
            y *= invstd * w
        else:
            y *= invstd
            if w is not None:
                y *= w
        if bias is not None:
            y += bias.reshape(affine_shape)
        if y.dtype != x.dtype:
            y = y.astype(x.dtype)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(ctx, grad, _grad_mean=None, _grad_var=None):
        if grad is None:
            return (None,) * 6
        x, weight, mean, invstd = ctx.saved_tensors
        if GradMode.enabled:
            grads = _backward_in_ops(ctx, grad, x, weight)
        else:
            backward = _channel_backward if ctx.per_channel else _backward_arrays
            grads = backward(ctx, grad._data, x._data, None if weight is None else weight._data,
                             mean._data, invstd._data)
            grads = tuple(None if g is None else _new_tensor(g) for g in grads)
        return grads + (None,) * 3


# ---- batch norm: statistics per channel (dim 1) ---------------------------------------------
# The reductions are einsum passes over (N, C, L); the elementwise steps run on (N, C * L) rows
# with the per-channel values repeated L times, which NumPy broadcasts much faster than a (C, 1)
# column when L (the spatial size) is small.

BATCH_CHUNK_BYTES = 1 << 19  # rows of the batch taken at a time (three such arrays stay in cache)


def _per_channel(x, weight, bias, axes):
    """Whether the statistics are per channel (batch norm) and the fast path applies: a
    non-empty float32/float64 input and parameters of its dtype."""
    return (x.ndim >= 2 and axes == (0,) + tuple(range(2, x.ndim)) and x.size > 0
            and x.dtype not in _HALF
            and all(p is None or p.dtype == x.dtype for p in (weight, bias)))


def _rows(xp, x):
    """``x`` (N, C, *S) as (N, C, L) and the repeat count L."""
    n, c = x.shape[:2]
    length = x.size // (n * c)
    return x.reshape(n, c, length), length


def _channel_sum(xp, a, b=None):
    """Per channel, the sum of ``a`` (N, C, L) (times ``b``), in float64: each sample's sums
    (short runs) are added up in double precision."""
    per_sample = xp.einsum("ncl->nc", a) if b is None else xp.einsum("ncl,ncl->nc", a, b)
    return per_sample.sum(0, dtype=np.float64)


def _channel_forward(xp, x, weight, bias, eps):
    """The normalized ``x`` and the statistics (mean, var, invstd with the reduced dims kept)."""
    n, c = x.shape[:2]
    x3, length = _rows(xp, x)
    count = n * length
    mean = (_channel_sum(xp, x3) / count).astype(x.dtype)
    y = x3.reshape(n, -1) - xp.repeat(mean, length)
    y3 = y.reshape(n, c, length)
    var = (_channel_sum(xp, y3, y3) / count).astype(x.dtype)
    invstd = 1 / xp.sqrt(var + eps)
    y *= xp.repeat(invstd if weight is None else invstd * weight, length)
    if bias is not None:
        y += xp.repeat(bias, length)
    kept = (1, c) + (1,) * (x.ndim - 2)
    return y.reshape(x.shape), mean.reshape(kept), var.reshape(kept), invstd.reshape(kept)


def _channel_backward(ctx, grad, x, weight, mean, invstd):
    """The gradients of (x, weight, bias) of batch norm on arrays: with ``xc = x - mean`` and
    sums over all dims but the channel, ``g_bias = sum(g)``, ``g_weight = invstd *
    sum(g * xc)`` and ``g_x = a * (g - sum(g) / n) - a * invstd**2 * sum(g * xc) / n * xc``,
    ``a = invstd * weight``. Two passes (the sums, then g_x) over chunks of the batch that stay
    in the CPU cache, ``xc`` recomputed in each."""
    xp = ctx.xp
    e_x, e_w, e_b = ctx._edges[:3]
    n, c = x.shape[:2]
    g3, length = _rows(xp, grad)
    x2, g2 = x.reshape(n, -1), grad.reshape(n, -1)
    count = n * length
    mean, invstd = mean.reshape(c), invstd.reshape(c)
    mean_rows = xp.repeat(mean, length)
    step, ranges = batch_chunks(xp, n, x2[:1].nbytes, BATCH_CHUNK_BYTES)
    xc = xp.empty((step, c * length), x.dtype)
    s_g = s_gxc = 0
    for a, b in ranges:
        part = xp.subtract(x2[a:b], mean_rows, out=xc[:b - a])
        s_g = s_g + _channel_sum(xp, g3[a:b])
        s_gxc = s_gxc + _channel_sum(xp, g3[a:b], part.reshape(b - a, c, length))
    s_g, s_gxc = s_g.astype(x.dtype), s_gxc.astype(x.dtype)
    g_w = _to_param(s_gxc * invstd, ctx) if e_w else None
    g_b = _to_param(s_g, ctx) if e_b else None
    g_x = None
    if e_x:
        # g_x = a * g + k * x + (-a * sum(g) / n - k * mean): x uncentered costs no more
        # rounding than centering it would
        scale = invstd if weight is None else invstd * weight
        k = scale * invstd * invstd * s_gxc / -count
        scale_rows = xp.repeat(scale, length)
        k_rows = xp.repeat(k, length)
        shift_rows = xp.repeat(-scale * s_g / count - k * mean, length)
        g_x = xp.empty_like(g2)
        for a, b in ranges:
            part = xp.multiply(x2[a:b], k_rows, out=xc[:b - a])
            out = xp.multiply(g2[a:b], scale_rows, out=g_x[a:b])
            out += part
            out += shift_rows
        g_x = g_x.reshape(x.shape)
    return g_x, g_w, g_b


def _backward_arrays(ctx, grad, x, weight, mean, invstd):
    """The gradients of (x, weight, bias) on arrays, mostly in place:
    ``g_x = invstd * (g - mean(g) - xhat * mean(g * xhat))`` with ``g = grad * weight`` and the
    means over the normalized axes. When the parameters are constant over those axes (batch
    norm), the parameter gradients' sums give the two means."""
    xp = ctx.xp
    e_x, e_w, e_b = ctx._edges[:3]
    axes, shape = ctx.axes, ctx.affine_shape
    dtype = x.dtype
    if dtype in _HALF:
        x, grad = x.astype(_F32), grad.astype(_F32)
    p_axes = _param_axes(x.shape, shape)
    per_group = p_axes == tuple(axes)
    xhat = x - mean
    xhat *= invstd
    s_gx = dot_kept(xp, grad, xhat, p_axes) if e_w or (e_x and per_group) else None
    s_g = sum_kept(xp, grad, p_axes) if e_b or (e_x and per_group) else None
    g_w = None if not e_w else _to_param(s_gx, ctx)
    g_b = None if not e_b else _to_param(s_g, ctx)
    g_x = None
    if e_x:
        count = x.size // max(mean.size, 1)
        w = None if weight is None else weight.reshape(shape).astype(grad.dtype, copy=False)
        if per_group:
            g_x = grad - s_g / count
            scale = invstd if w is None else invstd * w
        else:
            g_x = grad if w is None else grad * w
            s_gx = dot_kept(xp, g_x, xhat, axes)
            g_x = g_x - sum_kept(xp, g_x, axes) / count
            scale = invstd
        xhat *= s_gx / count
        g_x -= xhat
        g_x *= scale
        g_x = g_x.astype(dtype, copy=False)
    return g_x, g_w, g_b


def _to_param(g, ctx):
    return g.reshape(ctx.param_shape).astype(ctx.param_dtype, copy=False)


def _backward_in_ops(ctx, grad, x, weight):
    """The same gradients in Tensor ops, differentiable in grad, x and weight (double
    backward); the statistics are recomputed from x."""
    e_x, e_w, e_b = ctx._edges[:3]
    axes, shape = ctx.axes, ctx.affine_shape
    dtype = x.dtype
    if x._data.dtype in _HALF:
        x, grad = x.float(), grad.float()
    mean = x.mean(axes, keepdim=True)
    invstd = ((x - mean).square().mean(axes, keepdim=True) + ctx.eps).rsqrt()
    xhat = (x - mean) * invstd
    g_w = _param_grad(grad * xhat, ctx) if e_w else None
    g_b = _param_grad(grad, ctx) if e_b else None
    g_x = None
    if e_x:
        g = grad if weight is None else grad * weight.reshape(shape).to(grad.dtype)
        g_x = ((g - g.mean(axes, keepdim=True) - xhat * (g * xhat).mean(axes, keepdim=True))
               * invstd).to(dtype)
    return g_x, g_w, g_b


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
