"""Resampling primitives: ``AxisGather`` (each output position along one axis is a weighted
sum of a few input positions: nearest, linear and cubic interpolation, adaptive averages) and
its adjoint ``AxisScatter``; each one's backward is the other, so gradients of any order
exist. The array kernels live in ``ember/backend``."""
from .._errors import mark
from ..autograd.function import Function
from ..backend.cpu import kernels, compute_dtype
from ._registry import public
from ._window import require_tensor


class AxisGather(Function):
    """``y[..., o, ...] = sum_k weights[o, k] * x[..., index[o, k], ...]`` along ``axis``;
    ``index`` and ``weights`` (None: ones) are (out, K) arrays on the input's device."""
    _raw = True
    op_name = "axis_gather"

    @staticmethod
    def forward(ctx, x, axis, index, weights):
        ctx.args = (axis, index, weights)
        ctx.size = x.shape[axis]
        return kernels(ctx.xp).axis_gather(ctx.xp, x, axis, index, weights)

    @staticmethod
    def backward(ctx, grad):
        return AxisScatter.apply(grad, *ctx.args, ctx.size), None, None, None


class AxisScatter(Function):
    """The adjoint of ``AxisGather``: an array of ``size`` along ``axis`` with each
    ``weights[o, k] * g[..., o, ...]`` added at ``index[o, k]``."""
    _raw = True
    op_name = "axis_scatter"

    @staticmethod
    def forward(ctx, g, axis, index, weights, size):
        ctx.args = (axis, index, weights)
        return kernels(ctx.xp).axis_scatter(ctx.xp, g, axis, index, weights, size)

    @staticmethod
    def backward(ctx, grad):
        return AxisGather.apply(grad, *ctx.args), None, None, None, None


def gather_along(x, axis, index, weights=None):
    """``AxisGather`` with NumPy ``index`` / ``weights`` moved to ``x``'s device (and the
    weights to the dtype ``x`` computes in)."""
    xp = x._xp()
    index = xp.asarray(index)
    if weights is not None:
        weights = xp.asarray(weights, dtype=compute_dtype(x._data.dtype))
    return AxisGather.apply(x, axis, index, weights)


# ---- pixel and channel shuffles ----------------------------------------------------------------

def _shuffle_check(op, input, factor, what):
    require_tensor(op, input)
    if input._data.ndim < 3:
        raise mark(RuntimeError(f"{op}: {op} expects input to have at least 3 dimensions, but "
                                f"got input with {input._data.ndim} dimension(s)"))
    if isinstance(factor, bool) or not isinstance(factor, int):
        raise mark(TypeError(f"{op}(): argument '{what}' must be int, not "
                             f"{type(factor).__name__}"))
    if factor <= 0:
        raise mark(RuntimeError(f"{op}: {op} expects a positive {what}, but got {factor}"))


@public(method=False)
def pixel_shuffle(input, upscale_factor):
    """(*, C * r * r, H, W) -> (*, C, H * r, W * r)."""
    op = "pixel_shuffle"
    _shuffle_check(op, input, upscale_factor, "upscale_factor")
    r = upscale_factor
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise mark(RuntimeError(
            f"{op}: pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"))
    n = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


@public(method=False)
def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r * r, H, W)."""
    op = "pixel_unshuffle"
    _shuffle_check(op, input, downscale_factor, "downscale_factor")
    r = downscale_factor
    *batch, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise mark(RuntimeError(
                f"{op}: pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({dim})={size} is not divisible by {r}"))
    n = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


@public(method=False)
def channel_shuffle(input, groups):
    """(N, C, *) with the channels regrouped: (g, C / g) read as (C / g, g)."""
    op = "channel_shuffle"
    require_tensor(op, input)
    if input._data.ndim <= 2:
        raise mark(RuntimeError(f"{op}: channel_shuffle expects input with > 2 dims, but got "
                                f"input with sizes {list(input.shape)}"))
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise mark(TypeError(f"{op}(): argument 'groups' must be int, not "
                             f"{type(groups).__name__}"))
    if groups <= 0:
        raise mark(RuntimeError(f"{op}: Number of groups to divide channels in must be positive. "
                                f"Value of groups:{groups}"))
    n, c, *rest = input.shape
    if c % groups:
        raise mark(RuntimeError(f"{op}: Number of channels must be divisible by groups. Got {c} "
                                f"channels and {groups} groups."))
    return input.reshape(n, groups, c // groups, *rest).transpose(1, 2).reshape(n, c, *rest)


native_channel_shuffle = public(channel_shuffle, name="native_channel_shuffle", method=False)
