"""Sorting and selection: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode,
quantile, nanquantile, unique, unique_consecutive, searchsorted, bucketize, histc, bincount.

Ops that pick elements along a dim (these, and max/min/cummax/cummin along a dim in
``reduce.py``) are ``Selection`` Functions: they return the picked values and their indices,
and route the gradient of the values back to the picked positions with ``PutAlong``, whose own
gradient is ``TakeAlong``. The two are adjoint, so gradients of any order work.

As in PyTorch, NaN sorts above every number, and ties keep their input order (sorts are
stable)."""
import math

import numpy as np

from .. import return_types
from .._errors import describe, mark
from .._out import write_out
from .._tensor import Tensor, _new_tensor
from ..autograd.function import Function
from ._dims import normalize_dim
from ._promote import FLOAT_NP, COMPLEX_NP, INT_NP, is_number
from ._registry import public

_I64 = np.int64


# ---- routing gradients through indices ----------------------------------------------------------

def _along(xp, index, axis):
    """The index tuple that addresses ``index[...]`` along ``axis`` (take_along_axis's)."""
    ndim = index.ndim
    full = []
    for d in range(ndim):
        if d == axis:
            full.append(index)
        else:
            shape = [1] * ndim
            shape[d] = index.shape[d]
            full.append(xp.arange(index.shape[d]).reshape(shape))
    return tuple(full)


class TakeAlong(Function):
    """``x`` picked at ``index`` along ``axis`` (``index`` is a constant array)."""
    _raw = True
    op_name = "take_along_dim"

    @staticmethod
    def forward(ctx, x, index, axis, unique):
        ctx.index, ctx.axis, ctx.shape, ctx.unique = index, axis, x.shape, unique
        return ctx.xp.take_along_axis(x, index, axis)

    @staticmethod
    def backward(ctx, grad):
        return PutAlong.apply(grad, ctx.index, ctx.axis, ctx.shape, ctx.unique), None, None, None


class PutAlong(Function):
    """Zeros of ``shape`` with ``src`` written at ``index`` along ``axis``; repeated indices add
    up unless ``unique`` says there are none."""
    _raw = True
    op_name = "scatter_add"

    @staticmethod
    def forward(ctx, src, index, axis, shape, unique):
        ctx.index, ctx.axis, ctx.unique = index, axis, unique
        xp = ctx.xp
        out = xp.zeros(shape, src.dtype)
        where = _along(xp, index, axis)
        if unique:
            out[where] = src
        else:
            from .index import ufunc_at
            ufunc_at(xp, "add", out, where, src)
        return out

    @staticmethod
    def backward(ctx, grad):
        return TakeAlong.apply(grad, ctx.index, ctx.axis, ctx.unique), None, None, None, None


class Selection(Function):
    """Base of ops that pick elements of ``x`` along ``axis``: ``pick`` returns the indices
    (same number of dims as ``x``), the values are taken there. ``reduces``: one element per
    slice, whose dim goes away unless ``keepdim``. ``unique``: no position is picked twice."""
    _raw = True
    reduces = True
    unique = True

    @staticmethod
    def pick(xp, x, axis, *params):
        raise NotImplementedError

    @staticmethod
    def forward(ctx, x, axis, keepdim, *params):
        xp = ctx.xp
        ctx.axis, ctx.keepdim, ctx.in_shape = axis, keepdim, x.shape
        if x.ndim == 0:
            index = xp.zeros((), _I64)
            values = x.copy()
        else:
            index = ctx.pick(xp, x, axis, *params)
            values = xp.take_along_axis(x, index, axis)
            if ctx.reduces and not keepdim:
                index, values = index.squeeze(axis), values.squeeze(axis)
        ctx.save_for_backward(index)
        return values, index

    @staticmethod
    def backward(ctx, grad, _):
        (index,) = ctx.saved_tensors
        grad = route(grad, index._data, ctx.axis, ctx.in_shape, ctx.reduces and not ctx.keepdim,
                     ctx.unique)
        return (grad,) + (None,) * (len(ctx._edges) - 1)


def route(grad, index, axis, shape, squeezed=False, unique=True):
    """The gradient of an input of ``shape`` whose elements at ``index`` along ``axis`` gave
    values with gradient ``grad`` (``squeezed``: ``axis`` was dropped from both)."""
    if not shape:
        return grad
    if squeezed:
        index = index.reshape(index.shape[:axis] + (1,) + index.shape[axis:])
        grad = grad.reshape(index.shape)
    return PutAlong.apply(grad, index, axis, shape, unique)


def argsort_stable(xp, x, axis, descending=False):
    """Stable argsort along ``axis``; NaN sorts last ascending and first descending, ties keep
    their input order in both directions."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    order = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return xp.flip(x.shape[axis] - 1 - order, axis)


def _nan_mask(xp, x):
    """Where ``x`` is NaN (for integer and bool arrays, an all-False array that broadcasts)."""
    if x.dtype in FLOAT_NP:
        return xp.isnan(x)
    return xp.zeros((1,) * x.ndim, bool)


class Sort(Selection):
    op_name = "sort"
    reduces = False

    @staticmethod
    def pick(xp, x, axis, descending):
        return argsort_stable(xp, x, axis, descending)


class TopK(Selection):
    op_name = "topk"
    reduces = False

    @staticmethod
    def pick(xp, x, axis, k, largest, sorted_):
        n = x.shape[axis]
        if 4 * k >= n or n <= 64:  # most of a slice, or a short one: sorting it all is cheaper
            return _first(xp, argsort_stable(xp, x, axis, largest), axis, 0, k)
        # Partition so that the k wanted elements come first (or last), then order only those.
        if largest:
            part = _first(xp, xp.argpartition(x, n - k, axis=axis), axis, n - k, n)
        else:
            part = _first(xp, xp.argpartition(x, k - 1, axis=axis), axis, 0, k)
        part = xp.sort(part, axis=axis)  # input order, so that sorting keeps ties in it
        if not sorted_:
            return part
        chosen = xp.take_along_axis(x, part, axis)
        return xp.take_along_axis(part, argsort_stable(xp, chosen, axis, largest), axis)


def _first(xp, index, axis, start, stop):
    """Positions ``start:stop`` of ``index`` along ``axis``."""
    return xp.take(index, xp.arange(start, stop), axis=axis)


class KthValue(Selection):
    """The k-th smallest of each slice (which of equal values is left to the partition, as
    in PyTorch)."""
    op_name = "kthvalue"

    @staticmethod
    def pick(xp, x, axis, k):
        return _first(xp, xp.argpartition(x, k - 1, axis=axis), axis, k - 1, k)


class MedianDim(Selection):
    """The lower median of each slice; a slice with NaN gives its first NaN (``nanmedian``:
    the lower median of the numbers, NaN only when all are NaN)."""
    op_name = "median"

    @staticmethod
    def pick(xp, x, axis, ignore_nan):
        n = x.shape[axis]
        k = (n - 1) // 2
        nans = _nan_mask(xp, x)
        if not nans.any():
            return _first(xp, xp.argpartition(x, k, axis=axis), axis, k, k + 1)
        if not ignore_nan:
            middle = _first(xp, xp.argpartition(x, k, axis=axis), axis, k, k + 1)
            first_nan = xp.argmax(nans, axis=axis, keepdims=True)
            return xp.where(nans.any(axis=axis, keepdims=True), first_nan, middle)
        # Each slice has its own number of non-NaN values: sort (NaNs go last).
        numbers = n - nans.sum(axis=axis, keepdims=True)
        position = xp.maximum((numbers - 1) // 2, 0)
        return xp.take_along_axis(xp.argsort(x, axis=axis), position, axis)


class NanMedianDim(MedianDim):
    op_name = "nanmedian"


class Mode(Selection):
    """The most frequent value of each slice (the smallest of equally frequent ones) and the
    index of its last occurrence."""
    op_name = "mode"

    @staticmethod
    def pick(xp, x, axis):
        from .reduce import accumulate
        s = xp.sort(x, axis=axis)
        n = x.shape[axis]
        shape = [1] * x.ndim
        shape[axis] = n
        position = xp.arange(n).reshape(shape)
        starts = xp.ones(s.shape, bool)
        if n > 1:
            starts[_axis_slice(x.ndim, axis, 1, None)] = (
                s[_axis_slice(x.ndim, axis, 1, None)] != s[_axis_slice(x.ndim, axis, None, -1)])
        run_start = accumulate(xp, "maximum", xp.where(starts, position, 0), axis)
        # The first longest run of the sorted slice holds the smallest most frequent value.
        end = xp.argmax(position - run_start + 1, axis=axis, keepdims=True)
        value = xp.take_along_axis(s, end, axis)
        last = xp.argmax(xp.flip(x == value, axis), axis=axis, keepdims=True)
        return n - 1 - last


def _axis_slice(ndim, axis, start, stop):
    sl = [slice(None)] * ndim
    sl[axis] = slice(start, stop)
    return tuple(sl)


# ---- public ops ---------------------------------------------------------------------------------

from .._out import honor_out as _out  # noqa: E402


def named_result(kind, values, indices, out):
    """A named (values, indices) result, written into ``out=(values, indices)`` if given."""
    if out is not None:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise mark(TypeError(f"{kind.__name__}: out= must be a tuple of two tensors "
                                 f"(values, indices), got {describe(out)}"))
        values, indices = write_out(out[0], values), write_out(out[1], indices)
    return kind(values, indices)


def reject_complex(op, input):
    """Ordering ops (sort, max, median ...) have no order on complex numbers."""
    if input._data.dtype in COMPLEX_NP:
        raise mark(RuntimeError(f"{op}(): does not support complex input ({describe(input)}); "
                                f"order by x.abs() or x.real instead"))


def _dim_of(op, input, dim):
    return normalize_dim(op, dim, input._data.ndim)


def _check_reduction_dim(op, input, axis):
    """Selections without an identity (median, mode, kthvalue...) need a non-empty dim."""
    shape = input._data.shape
    if shape and shape[axis] == 0:
        raise mark(IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size "
                              f"(input {describe(input)})."))


@public
def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    reject_complex("sort", input)
    axis = _dim_of("sort", input, dim)
    values, indices = Sort.apply(input, axis, False, bool(descending))
    return named_result(return_types.sort, values, indices, out)


@public
def argsort(input, dim=-1, descending=False, stable=False):
    reject_complex("argsort", input)
    axis = _dim_of("argsort", input, dim)
    return Sort.apply(input, axis, False, bool(descending))[1]


@public
def msort(input, *, out=None):
    return _out(sort(input, 0).values, out)


@public
def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):
    reject_complex("topk", input)
    axis = _dim_of("topk", input, dim)
    n = input._data.shape[axis] if input._data.ndim else 1
    if not 0 <= k <= n:
        raise mark(RuntimeError(f"topk: selected index k out of range: k={k} but dim {dim} of "
                                f"{describe(input)} has {n} elements"))
    values, indices = TopK.apply(input, axis, False, int(k), bool(largest), bool(sorted))
    return named_result(return_types.topk, values, indices, out)


@public
def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    reject_complex("kthvalue", input)
    axis = _dim_of("kthvalue", input, dim)
    _check_reduction_dim("kthvalue", input, axis)
    n = input._data.shape[axis] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise mark(RuntimeError(f"kthvalue(): selected number k out of range for dimension "
                                f"{axis}: k={k} but the dimension has {n} elements "
                                f"(input {describe(input)}); k counts from 1"))
    values, indices = KthValue.apply(input, axis, bool(keepdim), int(k))
    return named_result(return_types.kthvalue, values, indices, out)


def _median(op, kind, input, dim, keepdim, out, ignore_nan):
    reject_complex(op, input)
    if dim is None:
        from .reduce import MedianAll, NanMedianAll
        axes = tuple(range(input._data.ndim))
        return _out((NanMedianAll if ignore_nan else MedianAll).apply(input, axes, False), out)
    axis = _dim_of(op, input, dim)
    _check_reduction_dim(op, input, axis)
    cls = NanMedianDim if ignore_nan else MedianDim
    values, indices = cls.apply(input, axis, bool(keepdim), ignore_nan)
    return named_result(kind, values, indices, out)


@public
def median(input, dim=None, keepdim=False, *, out=None):
    """``median(x)``: the lower median of all elements (NaN if any is NaN);
    ``median(x, dim)``: (values, indices) of each slice's lower median."""
    return _median("median", return_types.median, input, dim, keepdim, out, False)


@public
def nanmedian(input, dim=None, keepdim=False, *, out=None):
    return _median("nanmedian", return_types.nanmedian, input, dim, keepdim, out, True)


@public
def mode(input, dim=-1, keepdim=False, *, out=None):
    reject_complex("mode", input)
    axis = _dim_of("mode", input, dim)
    _check_reduction_dim("mode", input, axis)
    values, indices = Mode.apply(input, axis, bool(keepdim))
    return named_result(return_types.mode, values, indices, out)


# ---- quantiles ----------------------------------------------------------------------------------

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(op, input, q, dim, keepdim, interpolation, out, ignore_nan):
    x = input
    if x._data.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise mark(RuntimeError(f"{op}() input tensor must be either float or double dtype, "
                                f"got {describe(x)}; convert it first, e.g. x.float()"))
    if x._data.size == 0:
        raise mark(RuntimeError(f"{op}() input tensor must be non-empty (got {describe(x)})"))
    if interpolation not in _INTERPOLATIONS:
        raise mark(RuntimeError(f"{op}() interpolation must be one of linear, lower, higher, "
                                f"midpoint or nearest, but got {interpolation}"))
    xp = x._xp()
    if isinstance(q, Tensor):
        if q._data.ndim > 1:
            raise mark(RuntimeError(f"{op}() q must be a scalar or 1D tensor (got "
                                    f"{describe(q)})"))
        if q._data.dtype != x._data.dtype:
            raise mark(RuntimeError(f"{op}() q tensor must be same dtype as the input tensor "
                                    f"(q {describe(q)}, input {describe(x)})"))
        q_arr = q._data
        if q_arr.size and not bool(((q_arr >= 0) & (q_arr <= 1)).all()):
            raise mark(RuntimeError(f"{op}() q values must be in the range [0, 1]"))
    else:
        if not is_number(q) or not 0 <= q <= 1:
            raise mark(RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}"))
        q_arr = xp.asarray(q, x._data.dtype)
    scalar_q = q_arr.ndim == 0
    ndim = x._data.ndim
    if dim is None:
        out_shape = (1,) * ndim if keepdim else ()
        x = x.reshape(-1)
        axis = 0
    else:
        axis = normalize_dim(op, dim, ndim)
        shape = list(x._data.shape) or [1]
        if keepdim:
            shape[axis] = 1
        else:
            del shape[axis]
        out_shape = tuple(shape) if ndim else ()
        if ndim == 0:
            x = x.reshape(1)
    # Sort along the dim, then look at it as the last one: (..., n).
    values = Sort.apply(x, axis, False, False)[0]
    values = values.permute(*[d for d in range(values.ndim) if d != axis], axis)
    n = values.shape[-1]
    q_row = q_arr.reshape(-1)
    nans = xp.isnan(values._data)
    if ignore_nan:
        gaps = (n - nans.sum(axis=-1, keepdims=True) - 1).astype(q_row.dtype)
        ranks = q_row * gaps
        pinned = ranks < 0
        ranks = xp.where(pinned, 0, ranks).astype(q_row.dtype)
    else:
        gaps = xp.asarray(n - 1, dtype=q_row.dtype)
        ranks = xp.broadcast_to(q_row * gaps, values.shape[:-1] + (q_row.size,))
        pinned = nans.any(axis=-1, keepdims=True)
        ranks = xp.where(pinned, n - 1, ranks).astype(q_row.dtype)
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)
    below = xp.floor(ranks).astype(_I64)
    result = TakeAlong.apply(values, below, values.ndim - 1, False)
    if interpolation in ("linear", "midpoint"):
        above = xp.ceil(ranks).astype(_I64)
        weights = ranks - below if interpolation == "linear" else xp.full_like(ranks, 0.5)
        weights = _new_tensor(weights.astype(ranks.dtype))
        if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
            # The weights are rank - floor(rank) with rank = q * gaps, except where the rank is
            # pinned (NaN slices; all-NaN slices of nanquantile), which get no gradient (as in
            # PyTorch, even where the slice's values are NaN). Adding rank - rank.detach()
            # (exactly zero) carries that gradient.
            rank = q.reshape(-1) * _new_tensor(xp.broadcast_to(gaps, ranks.shape).copy())
            rank = rank.masked_fill(_new_tensor(xp.broadcast_to(pinned, ranks.shape).copy()), 0)
            weights = weights + (rank - rank.detach())
        upper = TakeAlong.apply(values, above, values.ndim - 1, False)
        result = result + (upper - result) * weights
    # (..., nq) -> (nq, ...) -> (nq,) + out_shape
    if scalar_q:
        result = result.reshape(out_shape)
    else:
        result = result.permute(result.ndim - 1, *range(result.ndim - 1))
        result = result.reshape((q_row.size,) + out_shape)
    return _out(result, out)


@public
def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile("quantile", input, q, dim, keepdim, interpolation, out, False)


@public
def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear", out=None):
    return _quantile("nanquantile", input, q, dim, keepdim, interpolation, out, True)


# ---- unique -------------------------------------------------------------------------------------

class NotDifferentiable(Function):
    """Base of ops whose float outputs require grad (as in PyTorch) but that have no
    derivative: backward raises. ``compute`` does the work on arrays."""
    _raw = True

    @staticmethod
    def forward(ctx, x, *params):
        return ctx.compute(ctx.xp, x, *params)

    @staticmethod
    def backward(ctx, *grads):
        raise mark(NotImplementedError(f"the derivative for '{ctx.op_name}' is not "
                                       f"implemented."))


def _runs(xp, s, axis_len, differs):
    """For sorted (or consecutive) items: which start a new run, each item's run number, and
    the run lengths. ``differs``: item i differs from item i - 1, for i >= 1."""
    starts = xp.ones(axis_len, bool)
    starts[1:] = differs
    run_id = xp.cumsum(starts) - 1
    first = xp.flatnonzero(starts)
    counts = xp.diff(xp.append(first, axis_len))
    return starts, run_id, counts


def _unique_items(xp, x, dim, sort_first):
    """Unique elements (dim None) or slices along ``dim`` of ``x``: (values, inverse, counts)."""
    if dim is None:
        flat = x.reshape(-1)
        order = xp.argsort(flat, kind="stable") if sort_first else None
        s = flat[order] if sort_first else flat
        starts, run_id, counts = _runs(xp, s, s.size, s[1:] != s[:-1])
        values = s[starts]
        inverse = xp.empty(flat.size, _I64)
        if sort_first:
            inverse[order] = run_id
        else:
            inverse[...] = run_id
        return values, inverse.reshape(x.shape), counts
    rows = xp.moveaxis(x, dim, 0)
    n = rows.shape[0]
    table = rows.reshape(n, int(np.prod(rows.shape[1:])))
    if sort_first and table.shape[1]:
        order = xp.lexsort(table.T[::-1])  # lexicographic, first column most significant
    else:
        order = xp.arange(n)
    s = table[order]
    starts, run_id, counts = _runs(xp, s, n, (s[1:] != s[:-1]).any(axis=1))
    values = xp.moveaxis(rows[order][starts], 0, dim)
    inverse = xp.empty(n, _I64)
    inverse[order] = run_id
    return values, inverse, counts


class Unique(NotDifferentiable):
    op_name = "unique"

    @staticmethod
    def compute(xp, x, dim, sort_first):
        return _unique_items(xp, x, dim, sort_first)


def _unique(op, input, sort_first, return_inverse, return_counts, dim):
    reject_complex(op, input)
    if dim is not None:
        dim = normalize_dim(op, dim, input._data.ndim)
        if input._data.ndim == 0:
            raise mark(IndexError(f"{op}: dim={dim} is not valid for a 0-d tensor; pass "
                                  f"dim=None"))
        if input._data.size == 0 and input._data.shape[dim] != 0:
            raise mark(RuntimeError(f"{op}: There are 0 sized dimensions, and they aren't "
                                    f"selected, so unique cannot be applied (input "
                                    f"{describe(input)}, dim={dim})"))
    values, inverse, counts = Unique.apply(input, dim, sort_first)
    if not (return_inverse or return_counts):
        return values
    result = (values,)
    if return_inverse:
        result += (inverse,)
    if return_counts:
        result += (counts,)
    return result


@public
def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The unique elements (or slices along ``dim``), always sorted as PyTorch does on the CPU;
    with ``return_inverse`` / ``return_counts``, a tuple."""
    return _unique("unique", input, True, return_inverse, return_counts, dim)


@public
def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    return _unique("unique_consecutive", input, False, return_inverse, return_counts, dim)


# ---- searching and counting ---------------------------------------------------------------------

def _search_rows(xp, boundaries, values, side):
    """``searchsorted`` of each row of ``values`` in the matching row of ``boundaries`` (both
    with the same leading dims), in one call: every element is replaced by its rank among all
    elements, and rank + row * (number of ranks) keeps each row's block of the flattened
    boundaries sorted and apart from the other rows'."""
    rows = int(np.prod(boundaries.shape[:-1]))
    b = boundaries.reshape(rows, boundaries.shape[-1])
    v = values.reshape(rows, values.shape[-1])
    both = xp.concatenate([b.reshape(-1), v.reshape(-1)])
    _, rank = xp.unique(both, return_inverse=True)
    rank = rank.reshape(-1)
    span = int(rank.max()) + 1 if rank.size else 1
    offset = xp.arange(rows).reshape(rows, 1) * span
    b_key = (rank[:b.size].reshape(b.shape) + offset).reshape(-1)
    v_key = rank[b.size:].reshape(v.shape) + offset
    found = xp.searchsorted(b_key, v_key.reshape(-1), side=side).reshape(v.shape)
    return (found - xp.arange(rows).reshape(rows, 1) * b.shape[1]).reshape(values.shape)


class SearchSorted(Function):
    _raw = True
    op_name = "searchsorted"

    @staticmethod
    def forward(ctx, boundaries, values, side, out_dtype):
        xp = ctx.xp
        if values.dtype != boundaries.dtype:
            common = xp.result_type(values.dtype, boundaries.dtype)
            values, boundaries = values.astype(common), boundaries.astype(common)
        if boundaries.ndim == 1:
            found = xp.searchsorted(boundaries, values, side=side)
        else:
            found = _search_rows(xp, boundaries, values, side)
        return xp.asarray(found).astype(out_dtype)


def _search_side(op, right, side):
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise mark(RuntimeError(f"{op}(): side can only be 'left' or 'right' but got {side}"))
    if right and side == "left":
        raise mark(RuntimeError(f"{op}(): side and right can't be set to opposites, got side "
                                f"of left while right was True"))
    return side


def _search_values(op, values, like):
    """``values`` as a tensor on ``like``'s device (Python numbers become 0-d tensors)."""
    if isinstance(values, Tensor):
        return values
    if not is_number(values):
        raise mark(TypeError(f"{op}(): values must be a Tensor or a number, got "
                             f"{type(values).__name__}"))
    return _new_tensor(like._xp().asarray(values))


@public(method=False)
def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None,
                 sorter=None):
    op = "searchsorted"
    side = _search_side(op, right, side)
    boundaries = sorted_sequence
    values = _search_values(op, input, boundaries)
    reject_complex(op, boundaries)
    bshape, vshape = boundaries._data.shape, values._data.shape
    if boundaries._data.ndim == 0:
        raise mark(RuntimeError(f"{op}(): boundaries tensor should have at least 1 dimension, "
                                f"but got a 0-d tensor"))
    if boundaries._data.ndim > 1 and bshape[:-1] != vshape[:-1]:
        raise mark(RuntimeError(
            f"{op}(): boundaries tensor should be 1 dimension or the first N-1 dimensions of "
            f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
            f"{list(bshape)} and input value tensor {list(vshape)}"))
    if sorter is not None:
        if sorter._data.shape != bshape or sorter._data.dtype != np.int64:
            raise mark(RuntimeError(f"{op}(): sorter must be an int64 tensor of the boundaries' "
                                    f"shape {list(bshape)}, got {describe(sorter)}"))
        boundaries = _new_tensor(boundaries._xp().take_along_axis(boundaries._data,
                                                                 sorter._data, -1))
    out_dtype = np.int32 if out_int32 else np.int64
    return _out(SearchSorted.apply(boundaries, values, side, out_dtype), out)


@public(method=False)
def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    if boundaries._data.ndim != 1:
        raise mark(RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got "
                                f"dim({boundaries._data.ndim})"))
    values = _search_values("bucketize", input, boundaries)
    out_dtype = np.int32 if out_int32 else np.int64
    side = "right" if right else "left"
    return _out(SearchSorted.apply(boundaries, values, side, out_dtype), out)


class Histc(Function):
    """Counts of ``x`` in ``bins`` equal bins over [low, high] (no gradient, as in PyTorch)."""
    _raw = True
    op_name = "histc"

    @staticmethod
    def forward(ctx, x, bins, low, high):
        xp = ctx.xp
        x = x.reshape(-1)
        low, high = x.dtype.type(low), x.dtype.type(high)
        inside = (x >= low) & (x <= high)  # NaN is outside
        x = x[inside]
        position = ((x - low) * x.dtype.type(bins) / (high - low)).astype(_I64)
        position = xp.minimum(position, bins - 1)  # the right edge belongs to the last bin
        return xp.bincount(position, minlength=bins).astype(x.dtype)


@public
def histc(input, bins=100, min=0, max=0, *, out=None):
    if input._data.dtype not in FLOAT_NP:
        raise mark(NotImplementedError(f"histc: not implemented for {input.dtype.name} input "
                                       f"({describe(input)}); convert it first, e.g. x.float()"))
    if bins <= 0:
        raise mark(RuntimeError(f"histc(): bins must be > 0, but got {bins}"))
    low, high = float(min), float(max)
    if low > high:
        raise mark(RuntimeError(f"histc: max must be larger than min (got min={min}, "
                                f"max={max})"))
    data = input._data
    if low == high and data.size:  # the data's range (NaN and inf make it unusable)
        low, high = float(data.min()), float(data.max())
    if not (math.isfinite(low) and math.isfinite(high)):
        raise mark(RuntimeError(f"histc: range of [{low}, {high}] is not finite; pass min and "
                                f"max, or remove NaN and inf from the input"))
    if low == high:
        low, high = low - 1, high + 1
    return _out(Histc.apply(input.detach(), int(bins), low, high), out)


class BinCount(NotDifferentiable):
    op_name = "bincount"

    @staticmethod
    def compute(xp, x, weights, minlength, out_dtype):
        if weights is None:
            return xp.bincount(x, minlength=minlength).astype(_I64)
        return xp.bincount(x, weights=weights.astype(np.float64),
                           minlength=minlength).astype(out_dtype)


@public
def bincount(input, weights=None, minlength=0):
    data = input._data
    if data.dtype not in INT_NP:
        raise mark(NotImplementedError(f"bincount: not implemented for {input.dtype.name} "
                                       f"input ({describe(input)}); it counts integers"))
    if data.ndim != 1 or (data.size and bool((data < 0).any())):
        raise mark(RuntimeError(f"bincount only supports 1-d non-negative integral inputs "
                                f"(got {describe(input)})."))
    if minlength < 0:
        raise mark(RuntimeError(f"bincount: minlength should be >= 0, got {minlength}"))
    out_dtype = np.float64
    if weights is not None:
        if weights._data.ndim != 1 or weights._data.shape[0] != data.shape[0]:
            raise mark(RuntimeError(f"bincount: weights should be 1-d and have the same length "
                                    f"as input (input {describe(input)}, weights "
                                    f"{describe(weights)})"))
        if weights._data.dtype in (np.dtype(np.float32), np.dtype(np.float64)):
            out_dtype = weights._data.dtype
    return BinCount.apply(input, weights, int(minlength), out_dtype)

__all__ = ["TakeAlong", "PutAlong", "Selection", "route", "reject_complex", "named_result",
           "argsort_stable", "sort", "argsort", "msort", "topk", "kthvalue", "median",
           "nanmedian", "mode", "quantile", "nanquantile", "unique", "unique_consecutive",
           "searchsorted", "bucketize", "histc", "bincount"]
