"""Reductions and scans: sum, nansum, mean, nanmean, prod, var/std (and *_mean), max/min,
amax/amin, argmax/argmin, aminmax, logsumexp, norm/dist, cumsum/cumprod/cummax/cummin/
logcumsumexp, all/any, count_nonzero, diff, cov, corrcoef.

Reductions take their dims as a sorted tuple of axes (``_axes``); a backward restores the
reduced dims with ``_expand_back``. float16 and bfloat16 accumulate in float32, as PyTorch
does. Selections along one dim (max(x, dim), cummax ...) are ``sort.Selection`` Functions."""
import builtins
import math
import warnings

import numpy as np

from .. import _dtype, return_types
from .._dtype import _Defaults
from .._errors import describe, mark
from .._out import write_out
from .._tensor import Tensor, _new_tensor
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ._broadcast import broadcast_to
from ._dims import normalize_dims, normalize_dim
from ._promote import INEXACT_NP, FLOAT_NP, COMPLEX_NP
from ._registry import PUBLIC, public, public_method
from .sort import Selection, reject_complex, named_result
from .._out import honor_out as _out

from ._promote import HALF_NP as _HALF  # noqa: E402
_F32 = np.dtype(np.float32)
_I64 = np.int64
_UINT8 = np.dtype(np.uint8)


# ---- helpers ------------------------------------------------------------------------------------

def _axes(op, dim, ndim):
    """PyTorch's reduction dims as sorted axes: None or an empty list mean every dim."""
    if dim is None or (isinstance(dim, (tuple, list)) and not dim):
        return tuple(range(ndim))
    return normalize_dims(op, dim, ndim)


def _kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (the ``keepdim=True`` shape)."""
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _expand_back(grad, in_shape, axes, keepdim):
    """The gradient of a reduction over ``axes``, broadcast back to the input's shape."""
    if not keepdim and axes:
        grad = grad.reshape(_kept_shape(in_shape, axes))
    return broadcast_to(grad, in_shape)


def _keep(t, in_shape, axes, keepdim):
    """A reduction's result (or gradient) with the reduced dims back as size 1."""
    if not keepdim and axes:
        return t.reshape(_kept_shape(in_shape, axes))
    return t


def _acc(x):
    """``x`` in the precision it is accumulated in (float32 for float16 and bfloat16)."""
    return x.astype(_F32) if x.dtype in _HALF else x


def _const(arr):
    """A constant tensor (no gradient) around an array computed in a forward or backward."""
    return _new_tensor(np.asarray(arr) if isinstance(arr, np.generic) else arr)


from ._promote import conj_if_complex as _conj  # noqa: E402

def _op(name):
    """Another family's public op, looked up when called (the families load in any order)."""
    return PUBLIC[name]


class Fill(Function):
    """``x`` with ``value`` where ``mask`` (an array of ``x``'s shape) is set: PyTorch's
    ``masked_fill`` for the gradient formulas below (the filled entries get no gradient)."""
    _raw = True
    op_name = "masked_fill"

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        return ctx.xp.where(mask, x.dtype.type(value), x)

    @staticmethod
    def backward(ctx, grad):
        return Fill.apply(grad, ctx.mask, 0), None, None


def _fill(t, mask, value):
    mask = t._xp().broadcast_to(mask, t._data.shape)
    return Fill.apply(t, mask, value) if mask.any() else t


def _float_only(op, input):
    if input._data.dtype not in INEXACT_NP:
        raise mark(RuntimeError(f"{op}: std and var only support floating point and complex "
                                f"dtypes (got {describe(input)}); convert it first, e.g. "
                                f"x.float()"))


# ---- sum, mean, prod ----------------------------------------------------------------------------

class Sum(Function):
    _raw = True
    op_name = "sum"

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if x.dtype in _HALF:
            return x.sum(axis=axes, keepdims=keepdim, dtype=_F32).astype(x.dtype)
        if np_dtype is None and x.dtype != np.bool_:
            np_dtype = x.dtype  # NumPy would widen small integers
        return x.sum(axis=axes, keepdims=keepdim, dtype=np_dtype)

    @staticmethod
    def backward(ctx, grad):
        return _expand_back(grad, ctx.in_shape, ctx.axes, ctx.keepdim), None, None, None


class NanSum(Function):
    _raw = True
    op_name = "nansum"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if x.dtype not in INEXACT_NP:
            return xp.asarray(x.sum(axis=axes, keepdims=keepdim, dtype=x.dtype))
        ctx.save_for_backward(x)
        total = xp.where(xp.isnan(x), 0, _acc(x)).sum(axis=axes, keepdims=keepdim)
        return xp.asarray(total).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        numbers = ~ctx.xp.isnan(x._data)  # a product, as in PyTorch: an inf gradient gives NaN
        return _keep(grad, ctx.in_shape, ctx.axes, ctx.keepdim) * _const(
            numbers.astype(x._data.dtype)), None, None


class Mean(Function):
    _raw = True
    op_name = "mean"

    @staticmethod
    def forward(ctx, x, axes, keepdim, np_dtype):
        ctx.in_shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        count = ctx.count = _count(x.shape, axes)
        total = _acc(x).sum(axis=axes, keepdims=keepdim)
        mean = total / count if count else total * np.nan
        return ctx.xp.asarray(mean).astype(x.dtype)

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


def _cast_for(input, d):
    return input if d is None or d.np is input._data.dtype else input.to(d)


@public
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    axes = _axes("sum", dim, input._data.ndim)
    input = _cast_for(input, _sum_dtype(input, dtype))
    return _out(Sum.apply(input, axes, keepdim, None), out)


@public
def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if input._data.dtype in COMPLEX_NP:
        raise mark(RuntimeError(f"nansum does not support complex inputs ({describe(input)})"))
    axes = _axes("nansum", dim, input._data.ndim)
    input = _cast_for(input, _sum_dtype(input, dtype))
    return _out(NanSum.apply(input, axes, keepdim), out)


@public
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if dtype is not None:
        input = input.to(_dtype.as_dtype(dtype))
    if input._data.dtype not in INEXACT_NP:
        raise mark(RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name}. Use x.float().mean() or "
            f"mean(dtype=ember.float32)."))
    axes = _axes("mean", dim, input._data.ndim)
    return _out(Mean.apply(input, axes, keepdim, None), out)


@public
def nanmean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if dtype is not None:
        input = input.to(_dtype.as_dtype(dtype))
    if input._data.dtype not in INEXACT_NP:
        raise mark(RuntimeError(f"nanmean(): expected input to have floating point or complex "
                                f"dtype but got {input.dtype.name}; use x.float().nanmean()"))
    axes = _axes("nanmean", dim, input._data.ndim)
    xp = input._xp()
    numbers = (~xp.isnan(input._data)).sum(axis=axes, keepdims=keepdim)
    result = NanSum.apply(input, axes, keepdim) / _const(numbers.astype(input._data.dtype))
    return _out(result, out)


class Prod(Function):
    _raw = True
    op_name = "prod"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        y = ctx.xp.asarray(_acc(x).prod(axis=axes, keepdims=keepdim)).astype(x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        axes, keepdim, shape = ctx.axes, ctx.keepdim, x.shape
        g = _keep(grad, shape, axes, keepdim)
        if not (x._data == 0).any():
            return g * _conj(_keep(y, shape, axes, keepdim) / x), None, None
        return g * _conj(_products_of_others(x, axes)), None, None


def _to_last(t, axes):
    """``t`` with ``axes`` moved to the end and merged into one; and the inverse map."""
    shape = t.shape
    rest = [d for d in range(t.ndim) if d not in axes]
    perm = rest + list(axes)
    moved = t.permute(*perm) if perm != list(range(t.ndim)) else t
    merged = moved.reshape(tuple(shape[d] for d in rest) + (_count(shape, axes),))
    inverse = [perm.index(d) for d in range(t.ndim)]

    def back(u):
        u = u.reshape(tuple(shape[d] for d in perm))
        return u.permute(*inverse) if inverse != list(range(t.ndim)) else u
    return merged, back


def _products_of_others(x, axes):
    """For each element of ``x``, the product of the others in its reduction slice, without
    dividing (``x`` may hold zeros)."""
    last, back = _to_last(x, axes)
    n = last.shape[-1]
    if not GradMode.enabled:
        # Exclusive products from the left and from the right: O(n), no graph needed.
        xp, a = x._xp(), last._data
        ones = xp.ones(a.shape[:-1] + (1,), a.dtype)
        left = xp.cumprod(xp.concatenate([ones, a[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(a, -1)[..., :-1]], axis=-1),
                                   axis=-1), -1)
        return back(_const(left * right))
    # Differentiable (for gradients of gradients): row k of an n x n matrix holds the slice
    # with element k replaced by 1; its product is the product of the others.
    eye = x._xp().eye(n, dtype=last._data.dtype)
    rows = last.reshape(last.shape[:-1] + (1, n)).expand(*last.shape[:-1], n, n)
    rows = rows * _const(1 - eye) + _const(eye)
    return back(prod(rows, -1))


@public
def prod(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if isinstance(dim, (tuple, list)):
        raise mark(TypeError(f"prod(): dim must be an int, got {dim!r}; reduce one dim at a "
                             f"time or flatten first"))
    ndim = input._data.ndim
    axes = tuple(range(ndim)) if dim is None else normalize_dims("prod", dim, ndim)
    input = _cast_for(input, _sum_dtype(input, dtype))
    return _out(Prod.apply(input, axes, bool(keepdim) and dim is not None), out)


# ---- variance and standard deviation ------------------------------------------------------------

class Var(Function):
    """Variance (and, with ``root``, standard deviation) over ``axes`` with ``correction``."""
    _raw = True
    op_name = "var"
    root = False

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, full):
        xp = ctx.xp
        n = _count(x.shape, axes)
        ctx.axes, ctx.keepdim, ctx.full = axes, keepdim, full or x.ndim == 0
        ctx.raw_dof = n - correction
        dof = builtins.max(0, n - correction)
        if dof <= 0:
            warnings.warn(f"{ctx.op_name}(): degrees of freedom is <= 0. Correction should be "
                          f"strictly less than the reduction factor (input numel divided by "
                          f"output numel).", UserWarning, stacklevel=4)
        a = _acc(x)
        total = a.sum(axis=axes, keepdims=True)
        centered = a - (total / n if n else total * np.nan)
        squares = (centered.real ** 2 + centered.imag ** 2) if a.dtype in COMPLEX_NP \
            else centered * centered
        y = squares.sum(axis=axes, keepdims=keepdim) / (dof if dof else xp.float32(0))
        if ctx.root:
            y = xp.sqrt(y)
        y = xp.asarray(y).astype(_dtype.NP_TO_DTYPE[x.dtype].to_real().np)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        axes, keepdim = ctx.axes, ctx.keepdim
        if ctx.root:  # d std = d var / (2 std); PyTorch gives 0 where std is 0
            grad = _fill(grad / (2 * y), y._data == 0, 0)
        grad = _keep(grad, x.shape, axes, keepdim)
        centered = x - mean(x, axes, keepdim=True)
        dof = ctx.raw_dof
        if ctx.full and dof <= 0:  # PyTorch: inf, or NaN where x equals the mean (inf * 0)
            return grad * _const(ctx.xp.where(centered._data == 0, np.nan, np.inf).astype(
                centered._data.dtype)), None, None, None, None
        scale = 2.0 / dof if dof else math.inf  # a negative dof over dims is used as is
        return grad * scale * centered, None, None, None, None


class Std(Var):
    op_name = "std"
    root = True


def _var_args(op, input, dim, unbiased, keepdim, correction):
    """PyTorch's overloads: ``var(x, dim, unbiased, keepdim)``, ``var(x, unbiased)`` and
    ``var(x, dim, *, correction, keepdim)``."""
    if isinstance(dim, bool):
        if unbiased is not None:
            raise mark(TypeError(f"{op}(): got two values for unbiased"))
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise mark(TypeError(f"{op}(): pass either unbiased or correction, not both"))
    if unbiased is not None:
        correction = 1 if unbiased else 0
    elif correction is None:
        correction = 1
    _float_only(op, input)
    full = dim is None or (isinstance(dim, (tuple, list)) and not dim)
    return _axes(op, dim, input._data.ndim), correction, bool(keepdim), full


@public
def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    axes, correction, keepdim, full = _var_args("var", input, dim, unbiased, keepdim,
                                               correction)
    return _out(Var.apply(input, axes, correction, keepdim, full), out)


@public
def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, out=None):
    axes, correction, keepdim, full = _var_args("std", input, dim, unbiased, keepdim,
                                               correction)
    return _out(Std.apply(input, axes, correction, keepdim, full), out)


@public(method=False)
def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    axes, correction, keepdim, full = _var_args("var_mean", input, dim, unbiased, keepdim,
                                               correction)
    return (Var.apply(input, axes, correction, keepdim, full),
            Mean.apply(input, axes, keepdim, None))


@public(method=False)
def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    axes, correction, keepdim, full = _var_args("std_mean", input, dim, unbiased, keepdim,
                                               correction)
    return (Std.apply(input, axes, correction, keepdim, full),
            Mean.apply(input, axes, keepdim, None))


# ---- max, min and friends -----------------------------------------------------------------------

class Amax(Function):
    """``amax`` over ``axes``; the gradient is shared evenly by the elements equal to the
    result. Subclasses: amin, max() / min() over everything (whose NaN result passes the
    gradient to the NaNs) and median() / nanmedian() over everything (the same rule)."""
    _raw = True
    op_name = "amax"
    nan_ties = False

    @staticmethod
    def reduce(xp, x, axes, keepdim):
        return x.max(axis=axes, keepdims=keepdim)

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim = axes, keepdim
        y = ctx.xp.asarray(ctx.reduce(ctx.xp, x, axes, keepdim))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        xp, axes, keepdim = ctx.xp, ctx.axes, ctx.keepdim
        xa = x._data
        ya = y._data if keepdim else y._data.reshape(_kept_shape(xa.shape, axes))
        ties = xa == ya
        if ctx.nan_ties and xa.dtype in FLOAT_NP:
            ties |= xp.isnan(xa) & xp.isnan(ya)
        # Where no element equals the result (a NaN amax), this is 0/0: NaN, as in PyTorch.
        share = ties / ties.sum(axis=axes, keepdims=True)
        return _keep(grad, xa.shape, axes, keepdim) * _const(share.astype(xa.dtype)), None, None


class Amin(Amax):
    op_name = "amin"

    @staticmethod
    def reduce(xp, x, axes, keepdim):
        return x.min(axis=axes, keepdims=keepdim)


class MaxAll(Amax):
    op_name = "max"
    nan_ties = True


class MinAll(Amin):
    op_name = "min"
    nan_ties = True


class MedianAll(Amax):
    """The lower median of all elements (NaN if any is NaN; NaN for no elements)."""
    op_name = "median"
    nan_ties = True

    @staticmethod
    def reduce(xp, x, axes, keepdim):
        flat = x.reshape(-1)
        if flat.size == 0 or (x.dtype in FLOAT_NP and xp.isnan(flat).any()):
            return xp.full((), np.nan, x.dtype) if x.dtype in FLOAT_NP else flat[:1].reshape(())
        k = (flat.size - 1) // 2
        return xp.partition(flat, k)[k]


class NanMedianAll(MedianAll):
    op_name = "nanmedian"

    @staticmethod
    def reduce(xp, x, axes, keepdim):
        flat = x.reshape(-1)
        if x.dtype in FLOAT_NP:
            numbers = flat[~xp.isnan(flat)]
            if numbers.size == 0:
                return xp.full((), np.nan, x.dtype)
            flat = numbers
        return MedianAll.reduce(xp, flat, axes, keepdim)


class MaxDim(Selection):
    op_name = "max"

    @staticmethod
    def pick(xp, x, axis):
        return xp.expand_dims(xp.argmax(x, axis=axis), axis)


class MinDim(Selection):
    op_name = "min"

    @staticmethod
    def pick(xp, x, axis):
        return xp.expand_dims(xp.argmin(x, axis=axis), axis)


def _check_nonempty(op, input, axes, full, exc=IndexError):
    """Reductions without an identity (max, amax, argmax ...) need elements to reduce."""
    shape = input._data.shape
    if full:
        if input._data.size == 0:
            raise mark(exc(f"{op}(): Expected reduction dim to be specified for input.numel() "
                           f"== 0 (input {describe(input)}). Specify the reduction dim with "
                           f"the 'dim' argument."))
        return
    for a in axes:
        if shape and shape[a] == 0:
            raise mark(IndexError(f"{op}(): Expected reduction dim {a} to have non-zero size "
                                  f"(input {describe(input)})."))


def _extreme(op, full_cls, dim_cls, kind, binary, input, dim, keepdim, other, out):
    if not isinstance(input, Tensor):
        raise mark(TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                             f"{type(input).__name__}"))
    reject_complex(op, input)
    if other is not None or isinstance(dim, Tensor):
        other = dim if other is None else other
        return binary(input, other, out=out)
    if dim is None:
        _check_nonempty(op, input, (), True, RuntimeError)
        return _out(full_cls.apply(input, tuple(range(input._data.ndim)), False), out)
    if isinstance(dim, (tuple, list)):
        raise mark(TypeError(f"{op}(): dim must be an int, got {dim!r}; use amax/amin to "
                             f"reduce several dims"))
    axis = normalize_dim(op, dim, input._data.ndim)
    _check_nonempty(op, input, (axis,), False)
    values, indices = dim_cls.apply(input, axis, bool(keepdim))
    return named_result(kind, values, indices, out)


@public
def max(input, dim=None, keepdim=False, *, other=None, out=None):
    """``max(x)``: the largest element; ``max(x, dim, keepdim)``: (values, indices);
    ``max(x, other)``: the elementwise maximum."""
    return _extreme("max", MaxAll, MaxDim, return_types.max,
                    lambda a, b, out: _op("maximum")(a, b, out=out),
                    input, dim, keepdim, other, out)


@public
def min(input, dim=None, keepdim=False, *, other=None, out=None):
    return _extreme("min", MinAll, MinDim, return_types.min,
                    lambda a, b, out: _op("minimum")(a, b, out=out),
                    input, dim, keepdim, other, out)


def _amax_like(op, cls, input, dim, keepdim, out):
    reject_complex(op, input)
    ndim = input._data.ndim
    full = dim is None or (isinstance(dim, (tuple, list)) and not dim)
    axes = _axes(op, dim, ndim)
    _check_nonempty(op, input, axes, full, RuntimeError)
    return _out(cls.apply(input, axes, bool(keepdim)), out)


@public
def amax(input, dim=(), keepdim=False, *, out=None):
    return _amax_like("amax", Amax, input, dim, keepdim, out)


@public
def amin(input, dim=(), keepdim=False, *, out=None):
    return _amax_like("amin", Amin, input, dim, keepdim, out)


@public
def aminmax(input, *, dim=None, keepdim=False, out=None):
    reject_complex("aminmax", input)
    for o in out or ():
        if o.dtype is not input.dtype:
            raise mark(RuntimeError(f"aminmax: Expected out tensor to have dtype "
                                    f"{input.dtype.name}, but got {o.dtype.name} instead"))
    if dim is None:
        if input._data.size == 0:
            raise mark(RuntimeError(f"aminmax(): cannot compute aminmax over an empty dimension "
                                    f"as the operation has no identity (input "
                                    f"{describe(input)})."))
        axes = tuple(range(input._data.ndim))
    else:
        axes = normalize_dims("aminmax", dim, input._data.ndim)
        _check_nonempty("aminmax", input, axes, False)
    low, high = Amin.apply(input, axes, bool(keepdim)), Amax.apply(input, axes, bool(keepdim))
    if out is not None:
        low, high = write_out(out[0], low), write_out(out[1], high)
    return return_types.aminmax(low, high)


class ArgMax(Function):
    _raw = True
    op_name = "argmax"

    @staticmethod
    def find(xp, x, axis):
        return xp.argmax(x, axis=axis)

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        xp = ctx.xp
        if axis is None:
            found = xp.asarray(ctx.find(xp, x.reshape(-1), 0))
            return found.reshape((1,) * x.ndim) if keepdim else found
        if x.ndim == 0:
            return xp.zeros((), _I64)
        found = ctx.find(xp, x, axis)
        return xp.expand_dims(found, axis) if keepdim else found


class ArgMin(ArgMax):
    op_name = "argmin"

    @staticmethod
    def find(xp, x, axis):
        return xp.argmin(x, axis=axis)


def _argext(op, cls, input, dim, keepdim, out):
    reject_complex(op, input)
    if input._data.dtype == np.bool_:
        raise mark(RuntimeError(f"{op}(): does not support bool input; convert it first, e.g. "
                                f"x.int()"))
    axis = None
    if dim is None:
        _check_nonempty(op, input, (), True)
    else:
        axis = normalize_dim(op, dim, input._data.ndim)
        _check_nonempty(op, input, (axis,), False)
    return _out(cls.apply(input, axis, bool(keepdim)), out)


@public
def argmax(input, dim=None, keepdim=False, *, out=None):
    return _argext("argmax", ArgMax, input, dim, keepdim, out)


@public
def argmin(input, dim=None, keepdim=False, *, out=None):
    return _argext("argmin", ArgMin, input, dim, keepdim, out)


# ---- logsumexp ----------------------------------------------------------------------------------

class LogSumExp(Function):
    _raw = True
    op_name = "logsumexp"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        ctx.axes, ctx.keepdim = axes, keepdim
        if x.size == 0:
            shape = _kept_shape(x.shape, axes) if keepdim else \
                tuple(n for i, n in enumerate(x.shape) if i not in axes)
            y = xp.full(shape, -np.inf, x.dtype)
        else:
            a = _acc(x)
            # Complex inputs shift by the largest real part only (as PyTorch), so the imaginary
            # part of the result is the principal one.
            shift = (a.real if a.dtype.kind == "c" else a).max(axis=axes, keepdims=True)
            shift = xp.where(xp.isfinite(shift), shift, 0)  # all -inf, or an inf: no shift
            y = xp.log(xp.exp(a - shift).sum(axis=axes, keepdims=True)) + shift
            if not keepdim:
                y = y.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))
            y = y.astype(x.dtype)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        shape, axes, keepdim = x.shape, ctx.axes, ctx.keepdim
        softmax = (x - _keep(y, shape, axes, keepdim)).exp()
        return _keep(grad, shape, axes, keepdim) * _conj(softmax), None, None


@public
def logsumexp(input, dim, keepdim=False, *, out=None):
    if input._data.dtype not in INEXACT_NP:
        input = input.to(_Defaults.float)
    axes = _axes("logsumexp", dim, input._data.ndim)
    return _out(LogSumExp.apply(input, axes, bool(keepdim)), out)


# ---- norms --------------------------------------------------------------------------------------

def _two_norm(xp, x, axes, keepdim):
    if len(axes) == x.ndim:  # over everything: one dot product (BLAS)
        flat = _acc(x).reshape(-1)
        y = xp.sqrt(xp.vdot(flat, flat).real)
        return y.reshape((1,) * x.ndim) if keepdim else y
    a = xp.abs(x) if x.dtype in COMPLEX_NP else _acc(x)
    return xp.sqrt((a * a).sum(axis=axes, keepdims=keepdim))


def _p_norm(xp, x, ord, axes, keepdim):
    a = _acc(xp.abs(x))
    if ord == math.inf:
        return a.max(axis=axes, keepdims=keepdim)
    if ord == -math.inf:
        return a.min(axis=axes, keepdims=keepdim)
    if ord == 0:
        return (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
    if ord == 1:
        return a.sum(axis=axes, keepdims=keepdim)
    return (a ** ord).sum(axis=axes, keepdims=keepdim) ** (1.0 / ord)


class VectorNorm(Function):
    """The ``ord``-norm of the elements over ``axes`` (absolute values, so complex input gives
    a real norm)."""
    _raw = True
    op_name = "norm"

    @staticmethod
    def forward(ctx, x, ord, axes, keepdim):
        xp = ctx.xp
        ctx.ord, ctx.axes, ctx.keepdim = ord, axes, keepdim
        y = _two_norm(xp, x, axes, keepdim) if ord == 2 else _p_norm(xp, x, ord, axes, keepdim)
        y = xp.asarray(y).astype(_dtype.NP_TO_DTYPE[x.dtype].to_real().np)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        p, axes, keepdim, shape = ctx.ord, ctx.axes, ctx.keepdim, x.shape
        g, norm = _keep(grad, shape, axes, keepdim), _keep(y, shape, axes, keepdim)
        if p == 0:
            return None, None, None, None
        if p == 1:
            return x.sgn() * g, None, None, None
        zero_norm = norm._data == 0
        if p == 2:
            return g * (x / _fill(norm, zero_norm, 1)), None, None, None
        if math.isinf(p):  # the gradient of amax(|x|), shared by the ties (and the NaNs)
            xp, a = ctx.xp, ctx.xp.abs(x._data)
            ties = (a == norm._data) | xp.isnan(a)
            share = (ties / ties.sum(axis=axes, keepdims=True)).astype(y._data.dtype)
            return x.sgn() * (g * _const(share)), None, None, None
        a = x.abs()
        if p < 1:
            scaled = _fill(x.sgn() * _fill(a, x._data == 0, 1).pow(p - 1), x._data == 0, 0)
            return scaled * g * norm.pow(1 - p), None, None, None
        scaled = x.sgn() * a.pow(p - 1) if p < 2 else x * a.pow(p - 2)
        scale = _fill(g / _fill(norm, zero_norm, 1).pow(p - 1), zero_norm, 0)
        return scaled * scale, None, None, None


def vector_norm(input, ord=2, dim=None, keepdim=False, *, dtype=None, out=None, op="norm"):
    """``linalg.vector_norm``'s computation, shared with ``norm`` and ``dist``."""
    if dtype is not None:
        input = input.to(_dtype.as_dtype(dtype))
    if input._data.dtype not in INEXACT_NP:
        raise mark(RuntimeError(f"{op}(): input dtype should be either floating point or "
                                f"complex. Got {input.dtype.name} instead ({describe(input)}); "
                                f"convert it first, e.g. x.float()"))
    ord = float(ord)
    axes = _axes(op, dim, input._data.ndim)
    if ord < 0 or math.isinf(ord):
        shape = input._data.shape
        empty = input._data.size == 0 if dim is None else 0 in (shape[a] for a in axes)
        if empty:
            raise mark(RuntimeError(f"{op}(): cannot compute the {ord:g} norm of an empty "
                                    f"{'tensor' if dim is None else 'dimension'} because the "
                                    f"operation does not have an identity (input "
                                    f"{describe(input)})"))
    return _out(VectorNorm.apply(input, ord, axes, bool(keepdim)), out)


@public
def norm(input, p="fro", dim=None, keepdim=False, out=None, dtype=None):
    """PyTorch's legacy ``norm``: a vector norm over ``dim`` (all dims by default) for numeric
    ``p`` and for 'fro' over at most two dims, otherwise ``linalg.matrix_norm``."""
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype, out=out)
        from .. import linalg
        dims = tuple(range(input._data.ndim)) if dim is None else dim
        if out is None:
            return linalg.matrix_norm(input, p, dims, keepdim, dtype=dtype)
        return linalg.matrix_norm(input, p, dims, keepdim, dtype=dtype, out=out)
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype, out=out)


@public_method("norm")
def _norm_method(self, p="fro", dim=None, keepdim=False, dtype=None):
    return norm(self, p, dim, keepdim, dtype=dtype)


@public
def dist(input, other, p=2):
    for t in (input, other):
        if isinstance(t, Tensor) and t._data.dtype not in INEXACT_NP:
            raise mark(RuntimeError(f"dist(): input dtype should be either floating point or "
                                    f"complex. Got {t.dtype.name} instead ({describe(t)})"))
    return vector_norm(input - other, p, op="dist")


# ---- scans --------------------------------------------------------------------------------------

def accumulate(xp, ufunc, a, axis):
    """``xp.<ufunc>.accumulate(a, axis)``. CuPy's ufuncs have no ``accumulate``: there, sums
    and products use cumsum / cumprod, other ufuncs scan in log2(n) whole-array steps."""
    if xp is np:
        return getattr(np, ufunc).accumulate(a, axis=axis)
    if ufunc in ("add", "multiply"):
        return (xp.cumsum if ufunc == "add" else xp.cumprod)(a, axis=axis, dtype=a.dtype)
    op, n, out, shift = getattr(xp, ufunc), a.shape[axis], a.copy(), 1
    while shift < n:  # out[i] = op(out[i], out[i - shift]), all at once
        hi, lo = [slice(None)] * a.ndim, [slice(None)] * a.ndim
        hi[axis], lo[axis] = slice(shift, None), slice(None, n - shift)
        out[tuple(hi)] = op(out[tuple(hi)], out[tuple(lo)])
        shift *= 2
    return out


def _scan(xp, ufunc, x, axis, reverse):
    """``ufunc.accumulate`` along ``axis``, from the end when ``reverse``; float16 and
    bfloat16 accumulate in float32."""
    if x.ndim == 0:
        return x.copy()
    a = _acc(x)
    if reverse:
        a = xp.flip(a, axis)
    r = accumulate(xp, ufunc, a, axis)
    if reverse:
        r = xp.flip(r, axis)
    return r.astype(x.dtype, copy=False)


class CumSum(Function):
    _raw = True
    op_name = "cumsum"

    @staticmethod
    def forward(ctx, x, axis, reverse):
        ctx.axis, ctx.reverse = axis, reverse
        return _scan(ctx.xp, "add", x, axis, reverse)

    @staticmethod
    def backward(ctx, grad):
        return CumSum.apply(grad, ctx.axis, not ctx.reverse), None, None


class CumProd(Function):
    _raw = True
    op_name = "cumprod"

    @staticmethod
    def forward(ctx, x, axis, reverse):
        ctx.axis, ctx.reverse = axis, reverse
        y = _scan(ctx.xp, "multiply", x, axis, reverse)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        axis, reverse = ctx.axis, ctx.reverse
        if x.ndim == 0:
            return grad, None, None
        xa = x._data
        zeros = xa == 0
        if not zeros.any():
            # d y_i / d x_k = y_i / x_k for i >= k: a cumulative sum from the other end.
            return CumSum.apply(grad * _conj(y), axis, not reverse) / _conj(x), None, None
        if GradMode.enabled:
            return _cumprod_grad_quadratic(grad, x, axis, reverse), None, None
        return _cumprod_grad_with_zeros(grad, x, y, zeros, axis, reverse), None, None


def _cumprod_grad_with_zeros(grad, x, y, zeros, axis, reverse):
    """cumprod's gradient when ``x`` has zeros, in O(n) (correct to first order). Before the
    first zero of a slice the usual formula holds; at the first zero z, the gradient is
    sum_{i >= z} grad_i * prod_{j <= i, j != z} x_j, the cumulative product of x with x_z = 1;
    after it, every product holds x_z = 0."""
    xp = x._xp()
    seen = _scan(xp, "add", zeros.astype(_I64), axis, reverse)
    before = seen == 0
    first = zeros & (seen == 1)
    before_part = CumSum.apply(_fill(grad * _conj(y), ~before, 0), axis, not reverse) \
        / _conj(_fill(x, ~before, 1))
    x_first_as_one = _fill(x, first, 1)
    at_first = CumSum.apply(grad * _conj(CumProd.apply(x_first_as_one, axis, reverse)),
                            axis, not reverse)
    return _fill(before_part, ~before, 0) + _fill(at_first, ~first, 0)


def _cumprod_grad_quadratic(grad, x, axis, reverse):
    """cumprod's gradient as a differentiable function of ``x`` with zeros (for gradients of
    gradients): for each k, the cumulative product of the slice with x_k replaced by 1, summed
    against grad over i >= k. O(n^2) memory per slice, as PyTorch's own double backward."""
    xp = x._xp()
    last = x.transpose(axis, -1) if axis != x.ndim - 1 else x
    g = grad.transpose(axis, -1) if axis != x.ndim - 1 else grad
    n = last.shape[-1]
    eye = xp.eye(n, dtype=x._data.dtype)
    rows = last.reshape(last.shape[:-1] + (1, n)).expand(*last.shape[:-1], n, n)
    rows = rows * _const(1 - eye) + _const(eye)  # row k: the slice with x_k = 1
    products = CumProd.apply(rows, rows.ndim - 1, reverse)
    later = xp.triu(xp.ones((n, n), x._data.dtype))  # i >= k (i <= k when reverse)
    if reverse:
        later = later.T
    g_rows = g.reshape(g.shape[:-1] + (1, n))
    result = (_conj(products) * g_rows * _const(later)).sum(-1)
    return result.transpose(axis, -1) if axis != x.ndim - 1 else result


class LogCumSumExp(Function):
    _raw = True
    op_name = "logcumsumexp"

    @staticmethod
    def forward(ctx, x, axis, reverse):
        ctx.axis, ctx.reverse = axis, reverse
        y = _scan(ctx.xp, "logaddexp", x, axis, reverse)
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # grad_x_k = sum_{i >= k} grad_i exp(x_k - y_i), summed in log space separately for
        # the positive and the negative grad_i, which keeps it finite for any x.
        x, y = ctx.saved_tensors
        if x.ndim == 0:
            return grad, None, None
        axis, back = ctx.axis, not ctx.reverse
        lowest = float(_dtype.finfo(grad.dtype).min)
        terms = []
        for sign, part in ((1, grad._data > 0), (-1, grad._data < 0)):
            log_g = _fill(_fill(grad * sign, ~part, 1).log(), ~part, lowest)
            terms.append((LogCumSumExp.apply(log_g - y, axis, back) + x).exp())
        return terms[0] - terms[1], None, None


def _scan_args(op, input, dim, dtype):
    axis = normalize_dim(op, dim, input._data.ndim)
    if dtype is not None:
        input = input.to(_dtype.as_dtype(dtype))
    elif input._data.dtype not in INEXACT_NP:
        input = input.to(_dtype.int64)  # integers and bools accumulate in int64
    return input, axis


@public(inplace=True)
def cumsum(input, dim, *, dtype=None, out=None):
    input, axis = _scan_args("cumsum", input, dim, dtype)
    return _out(CumSum.apply(input, axis, False), out)


@public(inplace=True)
def cumprod(input, dim, *, dtype=None, out=None):
    input, axis = _scan_args("cumprod", input, dim, dtype)
    return _out(CumProd.apply(input, axis, False), out)


@public
def logcumsumexp(input, dim, *, out=None):
    if input._data.dtype not in FLOAT_NP:
        raise mark(NotImplementedError(f"logcumsumexp: not implemented for {input.dtype.name} "
                                       f"input ({describe(input)}); convert it first, e.g. "
                                       f"x.float()"))
    axis = normalize_dim("logcumsumexp", dim, input._data.ndim)
    return _out(LogCumSumExp.apply(input, axis, False), out)


def _running_extreme_index(xp, x, axis, ufunc):
    """The index of the running max/min of ``x`` along ``axis``: the last position so far
    where an element equalled the running value."""
    running = accumulate(xp, ufunc, x, axis)
    hits = x == running
    if x.dtype in FLOAT_NP:
        hits |= xp.isnan(x) & xp.isnan(running)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    position = xp.arange(x.shape[axis]).reshape(shape)
    return accumulate(xp, "maximum", xp.where(hits, position, 0), axis)


class CumMax(Selection):
    """Running maximum and the index where it was last reached (a NaN stays the maximum and
    later NaNs take over its index, as in PyTorch); the gradient goes to that index."""
    op_name = "cummax"
    reduces = False
    unique = False

    @staticmethod
    def pick(xp, x, axis):
        return _running_extreme_index(xp, x, axis, "maximum")


class CumMin(CumMax):
    op_name = "cummin"

    @staticmethod
    def pick(xp, x, axis):
        return _running_extreme_index(xp, x, axis, "minimum")


def _cum_extreme(op, cls, kind, input, dim, out):
    reject_complex(op, input)
    axis = normalize_dim(op, dim, input._data.ndim)
    values, indices = cls.apply(input, axis, False)
    return named_result(kind, values, indices, out)


@public
def cummax(input, dim, *, out=None):
    return _cum_extreme("cummax", CumMax, return_types.cummax, input, dim, out)


@public
def cummin(input, dim, *, out=None):
    return _cum_extreme("cummin", CumMin, return_types.cummin, input, dim, out)


# ---- all, any, count_nonzero --------------------------------------------------------------------

class All(Function):
    _raw = True
    op_name = "all"
    reducer = "all"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        truth = x if x.dtype == np.bool_ else x != 0
        r = getattr(truth, ctx.reducer)(axis=axes, keepdims=keepdim)
        return ctx.xp.asarray(r).astype(_UINT8 if x.dtype == _UINT8 else np.bool_)


class Any(All):
    op_name = "any"
    reducer = "any"


def _logical_reduction(op, cls, input, dim, keepdim, out):
    # dim=None reduces everything; an empty tuple of dims reduces nothing (as in PyTorch).
    ndim = input._data.ndim
    axes = tuple(range(ndim)) if dim is None else normalize_dims(op, dim, ndim)
    return _out(cls.apply(input, axes, bool(keepdim)), out)


@public
def all(input, dim=None, keepdim=False, *, out=None):
    return _logical_reduction("all", All, input, dim, keepdim, out)


@public
def any(input, dim=None, keepdim=False, *, out=None):
    return _logical_reduction("any", Any, input, dim, keepdim, out)


class CountNonzero(Function):
    _raw = True
    op_name = "count_nonzero"

    @staticmethod
    def forward(ctx, x, axes):
        return ctx.xp.asarray((x != 0).sum(axis=axes)).astype(_I64)


@public
def count_nonzero(input, dim=None):
    return CountNonzero.apply(input, _axes("count_nonzero", dim, input._data.ndim))


# ---- differences, covariance --------------------------------------------------------------------

class Diff(Function):
    """``x[1:] - x[:-1]`` along ``axis`` (``!=`` for bools)."""
    _raw = True
    op_name = "diff"

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis, ctx.shape = axis, x.shape
        hi, lo = _slices(x.ndim, axis)
        return x[hi] != x[lo] if x.dtype == np.bool_ else x[hi] - x[lo]

    @staticmethod
    def backward(ctx, grad):
        return DiffAdjoint.apply(grad, ctx.axis, ctx.shape), None


class DiffAdjoint(Function):
    """The transpose of ``Diff``: each difference's gradient goes + to its upper element and
    - to its lower one."""
    _raw = True
    op_name = "diff_backward"

    @staticmethod
    def forward(ctx, grad, axis, shape):
        ctx.axis = axis
        out = ctx.xp.zeros(shape, grad.dtype)
        hi, lo = _slices(len(shape), axis)
        out[hi] += grad
        out[lo] -= grad
        return out

    @staticmethod
    def backward(ctx, grad):
        return Diff.apply(grad, ctx.axis), None, None


def _slices(ndim, axis):
    hi, lo = [slice(None)] * ndim, [slice(None)] * ndim
    hi[axis], lo[axis] = slice(1, None), slice(None, -1)
    return tuple(hi), tuple(lo)


@public
def diff(input, n=1, dim=-1, prepend=None, append=None):
    ndim = input._data.ndim
    if ndim == 0:
        raise mark(RuntimeError("diff expects input to be at least one-dimensional"))
    axis = normalize_dim("diff", dim, ndim)
    if n < 0:
        raise mark(RuntimeError(f"diff expects n to be non-negative, got {n}"))
    parts = []
    for extra in (prepend, append):
        if extra is not None and extra._data.ndim != ndim:
            raise mark(RuntimeError(f"diff expects prepend or append to be the same dimension "
                                    f"as input ({describe(extra)} vs input "
                                    f"{describe(input)})"))
    if n == 0:  # PyTorch returns a copy of the input, without prepend/append
        return input.clone()
    if prepend is not None or append is not None:
        parts = [t for t in (prepend, input, append) if t is not None]
        input = _op("cat")(parts, axis)
    for _ in range(n):
        if input._data.shape[axis] == 0:
            break
        input = Diff.apply(input, axis)
    return input


def _check_weights(name, w, n_obs, integral):
    if w._data.ndim > 1:
        raise mark(RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but "
                                f"got {name} with {w._data.ndim} dimensions"))
    if w._data.size != n_obs:
        raise mark(RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                                f"observations in the input but got {w._data.size} != "
                                f"{n_obs}"))
    kind_ok = w.dtype._category == _dtype._INT if integral else w.dtype.is_floating_point
    if not kind_ok:
        need = "integral" if integral else "floating point"
        raise mark(RuntimeError(f"cov(): expected {name} to have {need} dtype but got {name} "
                                f"with {w.dtype.name} dtype"))
    if w._data.size and bool((w._data < 0).any()):
        raise mark(RuntimeError(f"cov(): {name} cannot be negative"))


@public
def cov(input, *, correction=1, fweights=None, aweights=None):
    if input._data.ndim > 2:
        raise mark(RuntimeError(f"cov(): expected input to have two or fewer dimensions but got "
                                f"an input with {input._data.ndim} dimensions"))
    x = input.reshape(1, -1) if input._data.ndim < 2 else input
    n_obs = x.shape[1]
    w = None
    if fweights is not None:
        _check_weights("fweights", fweights, n_obs, True)
        w = fweights
    if aweights is not None:
        _check_weights("aweights", aweights, n_obs, False)
        w = aweights if w is None else w * aweights
    if w is None:
        w_sum = n_obs
        avg = x.sum(1) / n_obs if n_obs else x.sum(1) / 0.0
    else:
        w_sum = w.sum()
        if float(w_sum.item()) == 0:
            raise mark(RuntimeError("cov(): weights sum to zero, can't be normalized"))
        avg = (x * w).sum(1) / w_sum
    if w is not None and aweights is not None and correction != 0:
        norm_factor = w_sum - correction * (w * aweights).sum() / w_sum
    else:
        norm_factor = w_sum - correction
    if float(norm_factor) <= 0:
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less "
                      "than the number of observations.", UserWarning, stacklevel=2)
        norm_factor = norm_factor * 0
    centered = x - avg.reshape(-1, 1)
    weighted = centered * w if w is not None else centered
    c = _op("mm")(centered, _conj(weighted.t()))
    return _op("true_divide")(c, norm_factor).squeeze()


@public
def corrcoef(input):
    if input._data.ndim > 2:
        raise mark(RuntimeError(f"corrcoef(): expected input to have two or fewer dimensions but "
                                f"got an input with {input._data.ndim} dimensions"))
    c = cov(input)
    if c.ndim == 0:  # one variable: 1, or NaN for a constant one
        return c / c
    d = c.diagonal()
    stddev = (d.real if d.is_complex() else d).sqrt()
    c = c / stddev.reshape(-1, 1)
    c = c / stddev.reshape(1, -1)
    if c.is_complex():
        real = c.real.clamp(-1, 1)
        imag = c.imag.clamp(-1, 1)
        return _op("complex")(real, imag)
    return c.clamp(-1, 1)
