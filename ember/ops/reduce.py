"""Reductions: sum, mean, ... over all or some dims, with ``keepdim``."""
from .. import _dtype
from .._errors import mark
from .._tensor import Tensor
from ..autograd.function import Function
from ._broadcast import broadcast_to
from ._dims import normalize_dims
from ._promote import INEXACT_NP
from ._registry import public


def _expand_back(grad, in_shape, axes, keepdim):
    """The gradient of a reduction over ``axes``, broadcast back to the input's shape."""
    if not keepdim and axes:
        shape = list(in_shape)
        for a in axes:
            shape[a] = 1
        grad = grad.reshape(shape)
    return broadcast_to(grad, in_shape)


class Sum(Function):
    _raw = True
    op_name = "sum"

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.sum(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim), None, None, None


class Mean(Function):
    _raw = True
    op_name = "mean"

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        count = 1
        for a in axes:
            count *= x.shape[a]
        ctx.count = count
        return x.mean(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        grad = grad / ctx.count if ctx.count else grad
        return _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim), None, None, None


def _sum_dtype(input, dtype):
    if dtype is not None:
        return _dtype.as_dtype(dtype)
    if input._data.dtype in INEXACT_NP:
        return None
    return _dtype.int64  # integers and bools sum in int64, as in PyTorch


@public
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    axes = normalize_dims("sum", dim, input._data.ndim)
    d = _sum_dtype(input, dtype)
    if d is not None and d.np is not input._data.dtype:
        input = input.to(d)
    result = Sum.apply(input, axes, keepdim, None)
    if out is not None:
        from .._out import write_out
        return write_out(out, result)
    return result


@public
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if dtype is not None:
        input = input.to(_dtype.as_dtype(dtype))
    if input._data.dtype not in INEXACT_NP:
        raise mark(RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name}. Use x.float().mean() or "
            f"mean(dtype=ember.float32)."))
    axes = normalize_dims("mean", dim, input._data.ndim)
    result = Mean.apply(input, axes, keepdim, None)
    if out is not None:
        from .._out import write_out
        return write_out(out, result)
    return result


