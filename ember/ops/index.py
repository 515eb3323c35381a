"""Indexing: ``x[key]``, ``x[key] = v``, gather/scatter, index_*, masked_*, take/put, nonzero.

Every op here reads or writes a *region* of a tensor. ``IndexRegion`` is ``x[basic][adv]``:
PyTorch applies the basic part of a key (ints, slices, None, Ellipsis) first, as a view, then
the advanced part (integer and bool arrays) with NumPy's rules for where the indexed dims go.
Two Functions do all the work and are each other's adjoint, so gradients of gradients come for
free: ``Take`` reads ``x[region]`` (``TakeView`` when the region is a view) and ``Put`` writes
``src`` into the region of a copy of ``x``, of zeros, or of ``x`` itself (``x[i] = v`` and the
other in-place ops, which write directly into the tensor's memory)."""
import operator
import warnings

import numpy as np

from .. import _dtype
from .._errors import describe, mark
from .._tensor import Tensor, _new_tensor
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ..autograd.inplace import check_inplace_allowed, commit_inplace, inplace_source
from ._broadcast import sum_to, broadcast_shape
from ._dims import normalize_dim
from ._registry import public, public_method

_ALL = slice(None)
_INT_INDEX_NP = (np.dtype(np.int64), np.dtype(np.int32))


def ufunc_at(xp, name, arr, key, values):
    """``arr[key] op= values`` with every repeated position applied (``np.add.at`` and
    friends; CuPy spells them ``cupyx.scatter_add`` / ``scatter_max`` / ``scatter_min``)."""
    if xp is np:
        rows = key[0] if isinstance(key, tuple) and len(key) == 1 else key
        if name == "add" and _whole_rows(arr, rows, values):
            _add_rows(arr, rows, values)
        else:
            getattr(np, name).at(arr, key, values)
        return
    import cupyx
    fn = {"add": cupyx.scatter_add, "maximum": cupyx.scatter_max,
          "minimum": cupyx.scatter_min}.get(name)
    if fn is not None:
        fn(arr, key, xp.asarray(values, dtype=arr.dtype))
        return
    # CuPy has no multiply.at: apply it on the host.
    host = arr.get()
    key = tuple(k.get() if hasattr(k, "get") else k for k in key)
    getattr(np, name).at(host, key, values.get() if hasattr(values, "get") else values)
    arr[...] = xp.asarray(host)


def _whole_rows(arr, rows, values):
    """Whether ``arr[rows] += values`` adds whole rows: ``rows`` a 1-D integer array, ``values``
    one row of ``arr``'s shape per index (what embedding and index_add backward pass)."""
    return (isinstance(rows, np.ndarray) and rows.ndim == 1 and rows.dtype.kind in "iu"
            and arr.ndim >= 2 and isinstance(values, np.ndarray)
            and values.shape == rows.shape + arr.shape[1:])


_ROWS_MAX_REPEATS = 8  # more repeats of one row than this: np.add.at is as fast


def _add_rows(arr, rows, values):
    """``np.add.at(arr, rows, values)`` for whole rows, several times faster when rows repeat
    a few times (as token ids do): one fancy-indexed add per repeat rank (each row's first
    occurrence, then its second ...), so no add meets a row twice and each row still gets its
    values in their order, the same sums to the bit."""
    k = rows.size
    if k < 2 or values.size < 1024 or k >= _ROWS_MAX_REPEATS * arr.shape[0]:
        np.add.at(arr, rows, values)
        return
    if rows.min() < 0:  # -1 and n - 1 are one row
        rows = np.where(rows < 0, rows + arr.shape[0], rows)
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    first = np.empty(k, bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    position = np.arange(k)
    rank = position - np.maximum.accumulate(np.where(first, position, 0))
    repeats = int(rank.max()) + 1
    if repeats > _ROWS_MAX_REPEATS:
        np.add.at(arr, rows, values)
        return
    for r in range(repeats):
        chosen = order[rank == r] if repeats > 1 else order
        arr[rows[chosen]] += values[chosen]


# ---- regions ------------------------------------------------------------------------------------

class IndexRegion:
    """``x[basic][adv]``. ``basic``: a tuple of ints, slices and None ending with Ellipsis, or
    None; ``adv``: a tuple of ``slice(None)`` and integer or bool arrays, or None. ``unique``:
    no position is addressed twice (so writes need no accumulation)."""
    __slots__ = ("basic", "adv", "unique", "is_view")

    def __init__(self, basic, adv=None, unique=True):
        self.basic, self.adv, self.unique, self.is_view = basic, adv, unique, adv is None

    def of(self, arr):
        if self.basic is not None:
            arr = arr[self.basic]
        if self.adv is not None:
            arr = arr[self.adv]
        return arr

    def write(self, xp, arr, values, accumulate):
        view = arr[self.basic] if self.basic is not None else arr
        if self.adv is None:
            if accumulate:
                xp.add(view, values, out=view)
            else:
                view[...] = values
        elif accumulate:
            ufunc_at(xp, "add", view, self.adv, values)
        else:
            view[self.adv] = values

    def shape_of(self, arr):
        """The shape of ``arr[region]``, without computing it."""
        view = arr[self.basic] if self.basic is not None else arr
        if self.adv is None:
            return view.shape
        before, after, shapes, positions = [], [], [], []
        d = 0
        for i, k in enumerate(self.adv):
            if type(k) is slice:
                (after if positions else before).append(view.shape[d])
                d += 1
            elif k.dtype == np.bool_:
                positions.append(i)
                shapes.append((int(k.sum()),))
                d += k.ndim
            else:
                positions.append(i)
                shapes.append(k.shape)
                d += 1
        after.extend(view.shape[d:])
        try:
            adv_shape = np.broadcast_shapes(*shapes)
        except ValueError:
            raise mark(IndexError(f"shape mismatch: indexing tensors could not be broadcast "
                                  f"together with shapes {shapes}")) from None
        if positions[-1] - positions[0] == len(positions) - 1:  # adjacent: they stay in place
            return tuple(before) + adv_shape + tuple(after)
        return adv_shape + tuple(before) + tuple(after)

    def __repr__(self):
        return f"IndexRegion(basic={self.basic!r}, adv={self.adv!r})"


class Take(Function):
    """``x[region]`` (a copy: the region involves advanced indexing)."""
    _raw = True
    op_name = "index"

    @staticmethod
    def forward(ctx, x, region):
        ctx.region, ctx.in_shape = region, x.shape
        return region.of(x)

    @staticmethod
    def backward(ctx, grad):
        r = ctx.region
        return Put.apply(None, grad, r, ctx.in_shape, not r.unique, False), None


class TakeView(Take):
    """``x[region]`` for a region that is a view of ``x`` (basic indexing, diagonals, ...)."""
    _view = True
    op_name = "slice"


def take_region(x, region):
    return (TakeView if region.is_view else Take).apply(x, region)


class Put(Function):
    """``base`` with ``base[region]`` set to ``src`` (or increased by it when accumulating);
    ``base=None`` stands for zeros of ``shape``. With ``inplace`` the forward writes into
    ``base`` itself (the caller then moves ``base``'s history onto this node)."""
    _raw = True
    op_name = "index_put"

    @staticmethod
    def forward(ctx, base, src, region, shape, accumulate, inplace):
        xp = ctx.xp
        if base is None:
            out = xp.zeros(shape, dtype=src.dtype)
        else:
            out = base if inplace else base.copy()
        ctx.region, ctx.accumulate = region, accumulate
        ctx.src_shape = getattr(src, "shape", None)
        try:
            region.write(xp, out, src, accumulate)
        except ValueError as e:
            raise mark(RuntimeError(f"index_put: {e}")) from None
        return out

    @staticmethod
    def backward(ctx, grad):
        r = ctx.region
        g_base = g_src = None
        if ctx._edges[0]:
            g_base = grad if ctx.accumulate else Put.apply(grad, 0, r, None, False, False)
        if ctx._edges[1]:
            g_src = sum_to(take_region(grad, r), ctx.src_shape)
        return g_base, g_src, None, None, None, None


def put_region(x, src, region, accumulate=False):
    """Out of place: ``x`` with ``src`` written into (or added to) ``x[region]``."""
    return Put.apply(x, src, region, None, accumulate, False)


def write_region(self, region, src, accumulate, op):
    """In place: write ``src`` (an array-compatible scalar or a tensor of ``self``'s dtype and
    device) into ``self[region]``, directly in ``self``'s memory, and record the write for
    autograd: the result's history is a ``Put`` node (or, for a view in a graph, the view's
    base is rebased through ``commit_inplace``)."""
    check_inplace_allowed(self, op)
    check_writable(self, op)
    src_rg = isinstance(src, Tensor) and src._rg
    if not (GradMode.enabled and (self._rg or src_rg)):
        value = src._data if isinstance(src, Tensor) else src
        try:
            region.write(self._xp(), self._data, value, accumulate)
        except ValueError as e:
            raise mark(RuntimeError(f"{op}: {e}")) from None
        self._bump()
        return self
    if self._base is not None:
        return commit_inplace(self, put_region(self, src, region, accumulate), op)
    out = Put.apply(self, src, region, None, accumulate, True)
    self._bump()
    if out._rg:
        self.grad_fn, self._output_nr, self._rg = out.grad_fn, 0, True
    return self


def check_writable(t, op):
    """Refuse writes into memory that several elements share (expanded tensors), as PyTorch."""
    arr = t._data
    flags = arr.flags
    if not getattr(flags, "writeable", True) or (
            arr.size > 1 and any(s == 0 and n > 1 for s, n in zip(arr.strides, arr.shape))):
        raise mark(RuntimeError(
            f"{op}: unsupported operation: more than one element of the written-to tensor "
            f"(shape {list(arr.shape)}) refers to a single memory location (is it the result "
            f"of expand()?). Please clone() the tensor before performing the operation."))


# ---- parsing keys -------------------------------------------------------------------------------

_NONE, _INT, _SLICE, _ELLIPSIS, _BOOL, _ARRAY, _MASK = range(7)
_BAD_INDEX = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
              "are valid indices")


def _seq_as_tuple(key):
    """NumPy's old rule, kept by PyTorch with a deprecation warning: a short list holding a
    sequence, slice, tensor, Ellipsis or None is a tuple of indices (``x[[0, [1, 2]]]``)."""
    if len(key) >= 32:
        return False
    return any(k is None or k is Ellipsis or isinstance(k, (Tensor, list, tuple, slice,
                                                            np.ndarray)) for k in key)


def _classify(op, item, xp, ref):
    """(kind, value) of one entry of a key; index arrays come back on ``ref``'s device."""
    if item is None:
        return _NONE, None
    if item is Ellipsis:
        return _ELLIPSIS, None
    t = type(item)
    if t is slice:
        return _SLICE, item
    if t is bool or t is np.bool_:
        return _BOOL, bool(item)
    if isinstance(item, Tensor):
        arr = item._data
        if arr.dtype not in _INT_INDEX_NP and arr.dtype.kind != "b" and arr.dtype != np.uint8:
            raise mark(IndexError(f"{op}: tensors used as indices must be long, int, byte or "
                                  f"bool tensors (got {item.dtype.name})"))
        if type(arr) is not type(ref):
            if type(ref) is np.ndarray:
                raise mark(IndexError(
                    f"{op}: indices should be either on cpu or on the same device as the "
                    f"indexed tensor (cpu), got indices on {item.device}"))
            arr = xp.asarray(arr)
    elif isinstance(item, (list, tuple, np.ndarray)):
        arr = np.asarray(item)
        if arr.size == 0:
            arr = arr.astype(np.int64)
        if arr.dtype.kind not in "biu":
            raise mark(IndexError(f"{op}: {_BAD_INDEX} (got a sequence of "
                                  f"{arr.dtype.name} values)"))
        arr = xp.asarray(arr)
    else:
        try:
            return _INT, operator.index(item)
        except TypeError:
            exc = TypeError if t is str else IndexError
            raise mark(exc(f"{op}: {_BAD_INDEX} (got {t.__name__})")) from None
    if arr.dtype == np.uint8:
        warnings.warn("indexing with dtype uint8 is now deprecated, please use a dtype bool "
                      "instead.", UserWarning, stacklevel=4)
        arr = arr.astype(np.bool_)
    if arr.dtype == np.bool_:
        return (_BOOL, bool(arr)) if arr.ndim == 0 else (_MASK, arr)
    if arr.ndim == 0 and isinstance(item, Tensor):  # a 0-d integer tensor selects like an int
        return _INT, int(arr)
    return _ARRAY, arr


def check_bounds(op, xp, idx, size, dim, exc=IndexError, negative=True):
    """``idx`` (an integer array) with negative entries wrapped, or ``exc`` naming the first
    offending index and the size of the dimension."""
    if idx.size == 0:
        return idx
    lo, hi = int(idx.min()), int(idx.max())
    low_ok = -size if negative else 0
    if lo < low_ok or hi >= size:
        bad = hi if hi >= size else lo
        raise mark(exc(f"{op}: index {bad} is out of bounds for dimension {dim} with size "
                       f"{size}"))
    if lo < 0:
        idx = xp.where(idx < 0, idx + size, idx)
    return idx


def parse_key(x, key, op):
    """The IndexRegion that ``x[key]`` reads, with PyTorch's checks and error messages."""
    arr = x._data
    shape = arr.shape
    ndim = len(shape)
    xp = x._xp()
    if type(key) is not tuple:
        if isinstance(key, list) and _seq_as_tuple(key):
            warnings.warn("Using a non-tuple sequence for multidimensional indexing is "
                          "deprecated; use x[tuple(seq)] instead of x[seq].", UserWarning,
                          stacklevel=3)
            key = tuple(key)
        else:
            key = (key,)
    items = [_classify(op, k, xp, arr) for k in key]
    used = 0
    for kind, v in items:
        if kind in (_INT, _SLICE, _ARRAY):
            used += 1
        elif kind == _MASK:
            used += v.ndim
    if used > ndim:
        if ndim == 0 and items[0][0] == _INT:
            raise mark(IndexError(
                f"{op}: invalid index of a 0-dim tensor. Use `tensor.item()` in Python to "
                f"convert a 0-dim tensor to a number"))
        raise mark(IndexError(f"{op}: too many indices for tensor of dimension {ndim} "
                              f"(shape {list(shape)})"))
    basic, adv = [], []
    dim = 0
    trivial, has_adv, unique, seen_ellipsis = True, False, True, False
    for kind, v in items:
        if kind == _SLICE:
            if v.step is not None and operator.index(v.step) <= 0:
                raise mark(ValueError(f"{op}: step must be greater than zero (got {v.step}); "
                                      f"use .flip(dim) to reverse a tensor"))
            basic.append(v)
            adv.append(_ALL)
            trivial = trivial and v == _ALL
            dim += 1
        elif kind == _INT:
            size = shape[dim]
            if not -size <= v < size:
                raise mark(IndexError(f"{op}: index {v} is out of bounds for dimension {dim} "
                                      f"with size {size}"))
            basic.append(v)
            trivial = False
            dim += 1
        elif kind == _NONE:
            basic.append(None)
            adv.append(_ALL)
            trivial = False
        elif kind == _ELLIPSIS:  # as in PyTorch, only the first one stands for any dims
            n = 0 if seen_ellipsis else ndim - used
            seen_ellipsis = True
            basic.extend([_ALL] * n)
            adv.extend([_ALL] * n)
            dim += n
        elif kind == _BOOL:  # PyTorch: a new dim of size 1, indexed by [0] (True) or [] (False)
            basic.append(None)
            adv.append(xp.zeros(1 if v else 0, dtype=np.int64))
            trivial, has_adv = False, True
        elif kind == _ARRAY:
            adv.append(check_bounds(op, xp, v, shape[dim], dim))
            basic.append(_ALL)
            has_adv, unique = True, False
            dim += 1
        else:
            k = v.ndim
            for j in range(k):
                if v.shape[j] != shape[dim + j]:
                    raise mark(IndexError(
                        f"{op}: The shape of the mask {list(v.shape)} at index {j} does not "
                        f"match the shape of the indexed tensor {list(shape)} at index "
                        f"{dim + j}"))
            basic.extend([_ALL] * k)
            adv.append(v)
            has_adv = True
            dim += k
    if has_adv:
        while type(adv[-1]) is slice:
            adv.pop()
        shapes = [k.shape for k in adv if type(k) is not slice and k.dtype != np.bool_]
        if len(shapes) > 1:
            _check_index_shapes(op, shapes)
        return IndexRegion(None if trivial else tuple(basic) + (Ellipsis,), tuple(adv), unique)
    return IndexRegion(tuple(basic) + (Ellipsis,))


def _check_index_shapes(op, shapes):
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise mark(IndexError(f"{op}: shape mismatch: indexing tensors could not be broadcast "
                              f"together with shapes {', '.join(str(list(s)) for s in shapes)}")) \
            from None


# ---- x[key], x[key] = value ---------------------------------------------------------------------

def _basic_region(shape, key):
    """The region of a key made of Python ints, slices, None and one Ellipsis that is valid for
    ``shape`` (the common case, parsed quickly), or None."""
    used = 0
    for k in key:
        t = type(k)
        if t is int or t is slice:
            used += 1
        elif k is not None and k is not Ellipsis:
            return None
    ndim = len(shape)
    if used > ndim:
        return None
    dim, ellipsis = 0, False
    for k in key:
        t = type(k)
        if t is int:
            n = shape[dim]
            if not -n <= k < n:
                return None
            dim += 1
        elif t is slice:
            step = k.step
            if step is not None and (type(step) is not int or step <= 0):
                return None
            dim += 1
        elif k is Ellipsis:
            if ellipsis:
                return None
            ellipsis = True
            dim += ndim - used
    return IndexRegion(key if ellipsis else key + (Ellipsis,))


def getitem(self, key):
    t = type(key)
    if t is int and self._data.ndim:
        n = self._data.shape[0]
        if -n <= key < n:
            return TakeView.apply(self, IndexRegion((key, Ellipsis)))
    elif t is slice or t is tuple:
        region = _basic_region(self._data.shape, (key,) if t is slice else key)
        if region is not None:
            return TakeView.apply(self, region)
    return take_region(self, parse_key(self, key, "__getitem__"))


def setitem(self, key, value):
    t = type(key)
    region = None
    if t is int and self._data.ndim and -self._data.shape[0] <= key < self._data.shape[0]:
        region = IndexRegion((key, Ellipsis))
    elif t is slice or t is tuple:
        region = _basic_region(self._data.shape, (key,) if t is slice else key)
    if region is None:
        region = parse_key(self, key, "__setitem__")
    if isinstance(value, Tensor) and region.adv and value._data.dtype != self._data.dtype and (
            value._data.ndim or not _masks_only(region.adv)):
        # PyTorch casts values written through views, but not through index arrays
        raise mark(RuntimeError(f"__setitem__: Index put requires the source and destination "
                                f"dtypes match, got {self.dtype.name} for the destination and "
                                f"{value.dtype.name} for the source. Cast the value with "
                                f".to({self.dtype.name})."))
    value = as_value(self, value, "__setitem__")
    if isinstance(value, Tensor) and value._data.ndim:
        value = fit_value(value, region.shape_of(self._data), "__setitem__")
    write_region(self, region, value, False, "__setitem__")


Tensor.__getitem__ = getitem
Tensor.__setitem__ = setitem


def _masks_only(adv):
    return all(type(k) is slice or k.dtype == np.bool_ for k in adv)


def as_value(self, value, op):
    """A value to write into ``self``: a Python number, or a tensor moved to ``self``'s device
    and cast to its dtype (differentiably)."""
    if isinstance(value, Tensor):
        if value.device != self.device:
            value = value.to(self.device)
        if value._data.dtype is not self._data.dtype:
            value = value.to(self.dtype)
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (bool, int, float, complex)):
        if isinstance(value, complex) and not self.dtype.is_complex:
            raise mark(RuntimeError(f"{op}: value {value} cannot be converted to type "
                                    f"{self.dtype.name} without overflow"))
        if self.dtype._category <= _dtype._INT and isinstance(value, float):
            value = bool(value) if self.dtype is _dtype.bool else int(value)  # C-style cast
        if isinstance(value, int) and self.dtype._category == _dtype._INT and \
                not isinstance(value, bool):
            info = np.iinfo(self._data.dtype)
            if not info.min <= value <= info.max:
                raise mark(RuntimeError(f"{op}: value {value} cannot be converted to type "
                                        f"{self.dtype.name} without overflow"))
        return value
    raise mark(TypeError(f"{op}: can't assign a {type(value).__name__} to a {self.dtype.name} "
                         f"tensor; convert it first, e.g. with ember.tensor(value)"))


def fit_value(value, target, op):
    """``value`` with leading size-1 dims dropped so it broadcasts to ``target`` (PyTorch
    accepts ``x[0:2] = ones(1, 1, 2)``), or the error naming both shapes."""
    shape = value._data.shape
    strip = 0
    while len(shape) - strip > len(target) and shape[strip] == 1:
        strip += 1
    if strip:
        value = value.reshape(shape[strip:])
        shape = shape[strip:]
    ok = len(shape) <= len(target) and all(
        s in (1, t) for s, t in zip(reversed(shape), reversed(target)))
    if not ok:
        raise mark(RuntimeError(f"{op}: shape mismatch: value tensor of shape {list(shape)} "
                                f"cannot be broadcast to indexing result of shape "
                                f"{list(target)}"))
    return value


from .._out import honor_out as _out  # noqa: E402


# ---- index_* along one dim --------------------------------------------------------------------

def _index_vector(op, input, dim, index, exc=IndexError, negative=False):
    """A 1-d (or 0-d) int64/int32 index into ``input``'s ``dim``, bounds-checked (negative
    entries allowed only where PyTorch allows them) and on ``input``'s device, as an array."""
    if not isinstance(index, Tensor):
        raise mark(TypeError(f"{op}(): index must be a Tensor, got {type(index).__name__}"))
    if index._data.dtype not in _INT_INDEX_NP:
        raise mark(RuntimeError(f"{op}(): Expected dtype int32 or int64 for index (got "
                                f"{index.dtype.name})"))
    if index._data.ndim > 1:
        raise mark(IndexError(f"{op}(): Index is supposed to be a vector (got shape "
                              f"{list(index.shape)})"))
    xp = input._xp()
    idx = xp.asarray(index._data).reshape(-1)
    size = input._data.shape[dim] if input._data.ndim else 1
    return check_bounds(f"{op}()", xp, idx, size, dim, exc, negative)


def _dim_region(input, dim, idx):
    """The region ``input[..., idx, ...]`` with ``idx`` at ``dim`` (0-d tensors act as 1-d)."""
    if input._data.ndim == 0:
        return IndexRegion((None, Ellipsis), (idx,), False)
    return IndexRegion(None, (_ALL,) * dim + (idx,), False)


@public
def index_select(input, dim, index, *, out=None):
    d = normalize_dim("index_select", dim, input._data.ndim)
    idx = _index_vector("index_select", input, d, index, RuntimeError)
    result = take_region(input, _dim_region(input, d, idx))
    if input._data.ndim == 0:
        result = result.reshape(())
    return _out(result, out)


def _check_source(op, input, dim, idx, source):
    """``source`` must have ``input``'s dtype and shape except ``len(idx)`` along ``dim``."""
    if not isinstance(source, Tensor):
        raise mark(TypeError(f"{op}(): source must be a Tensor, got {type(source).__name__}"))
    if source._data.dtype is not input._data.dtype:
        raise mark(RuntimeError(f"{op}(): self ({input.dtype.name}) and source "
                                f"({source.dtype.name}) must have the same scalar type"))
    ishape, sshape = input._data.shape or (1,), source._data.shape or (1,)
    if len(ishape) != len(sshape) or any(a != b for i, (a, b) in enumerate(zip(ishape, sshape))
                                         if i != dim):
        raise mark(RuntimeError(f"{op}(): source shape {list(source.shape)} must match self "
                                f"shape {list(input.shape)} in every dimension but {dim}"))
    if sshape[dim] != idx.size:
        raise mark(RuntimeError(f"{op}(): Number of indices ({idx.size}) should be equal to "
                                f"source.size(dim): ({sshape[dim]}), for dim: {dim}"))
    if input.device != source.device:
        source = source.to(input.device)
    if not input._data.ndim:
        source = source.reshape(1)
    return source


def _index_write(op, input, dim, index, source, accumulate, inplace, alpha=1):
    d = normalize_dim(op, dim, input._data.ndim)
    idx = _index_vector(op, input, d, index, RuntimeError if accumulate else IndexError)
    source = _check_source(op, input, d, idx, source)
    if alpha != 1:
        source = source * alpha
    region = _dim_region(input, d, idx)
    if inplace:
        return write_region(input, region, source, accumulate, op + "_")
    return put_region(input, source, region, accumulate)


@public
def index_add(input, dim, index, source, *, alpha=1, out=None):
    return _out(_index_write("index_add", input, dim, index, source, True, False, alpha), out)


@public_method("index_add_")
def index_add_(self, dim, index, source, *, alpha=1):
    return _index_write("index_add", self, dim, index, source, True, True, alpha)


@public
def index_copy(input, dim, index, source, *, out=None):
    return _out(_index_write("index_copy", input, dim, index, source, False, False), out)


@public_method("index_copy_")
def index_copy_(self, dim, index, source):
    return _index_write("index_copy", self, dim, index, source, False, True)


def _fill_value(op, input, value):
    """A fill value: a number, or a 0-d tensor cast to ``input``'s dtype (differentiable)."""
    if isinstance(value, Tensor) and value._data.ndim:
        raise mark(RuntimeError(f"{op} only supports a 0-dimensional value tensor, but got "
                                f"tensor with {value._data.ndim} dimension(s)."))
    if isinstance(value, Tensor) and value.dtype.is_complex and not input.dtype.is_complex:
        raise mark(RuntimeError(f"{op}: value {describe(value)} cannot be converted to type "
                                f"{input.dtype.name} without overflow; take its .real first"))
    return as_value(input, value, op)


def _index_fill(input, dim, index, value, inplace):
    d = normalize_dim("index_fill", dim, input._data.ndim)
    # Each position is filled once however often it is listed (this matters for the value's
    # gradient).
    idx = input._xp().unique(_index_vector("index_fill", input, d, index, negative=True))
    value = _fill_value("index_fill_", input, value)
    region = _dim_region(input, d, idx)
    if inplace:
        return write_region(input, region, value, False, "index_fill_")
    return put_region(input, value, region)


@public
def index_fill(input, dim, index, value):
    return _index_fill(input, dim, index, value, False)


@public_method("index_fill_")
def index_fill_(self, dim, index, value):
    return _index_fill(self, dim, index, value, True)


def _index_put(op, input, indices, values, accumulate, inplace):
    if not isinstance(indices, (tuple, list)):
        raise mark(TypeError(f"{op}(): indices must be a tuple of Tensors, got "
                             f"{type(indices).__name__}"))
    if len(indices) > max(input._data.ndim, 1):
        raise mark(IndexError(f"{op}(): too many indices for tensor of dimension "
                              f"{input._data.ndim} (got {len(indices)})"))
    key = tuple(_ALL if i is None else i for i in indices)
    for i in key:
        if i is not _ALL and not isinstance(i, Tensor):
            raise mark(TypeError(f"{op}(): indices must be Tensors or None, got "
                                 f"{type(i).__name__}"))
    if not isinstance(values, Tensor):
        raise mark(TypeError(f"{op}(): values must be a Tensor, got {type(values).__name__}"))
    if values._data.dtype is not input._data.dtype:
        raise mark(RuntimeError(f"{op}(): Index put requires the source and destination "
                                f"dtypes match, got {input.dtype.name} for the destination "
                                f"and {values.dtype.name} for the source."))
    region = parse_key(input, key, op)
    values = as_value(input, values, op)
    if values._data.ndim:
        values = fit_value(values, region.shape_of(input._data), op)
    if inplace:
        return write_region(input, region, values, accumulate, op)
    return put_region(input, values, region, accumulate)


@public
def index_put(input, indices, values, accumulate=False):
    return _index_put("index_put", input, indices, values, accumulate, False)


@public(method=False)
def index_put_(input, indices, values, accumulate=False):
    return _index_put("index_put_", input, indices, values, accumulate, True)


public_method("index_put_")(index_put_)


# ---- gather / scatter -----------------------------------------------------------------------

def _along(xp, idx, dim):
    """The advanced key addressing ``x[i0, ..., idx[i], ..., in]`` for every position ``i`` of
    ``idx`` (gather/scatter along ``dim``)."""
    key = []
    nd = idx.ndim
    for d, n in enumerate(idx.shape):
        if d == dim:
            key.append(idx)
        else:
            shape = [1] * nd
            shape[d] = n
            key.append(xp.arange(n).reshape(shape))
    return tuple(key)


def _scatter_index(op, input, dim, index, src=None, dtypes=_INT_INDEX_NP):
    """Checks ``index`` (and ``src``) for gather/scatter along ``dim``; returns the index as
    an array on ``input``'s device."""
    if not isinstance(index, Tensor):
        raise mark(TypeError(f"{op}(): index must be a Tensor, got {type(index).__name__}"))
    if index._data.dtype not in dtypes:
        names = " or ".join(_dtype.NP_TO_DTYPE[d].name for d in dtypes)
        raise mark(RuntimeError(f"{op}(): Expected dtype {names} for index (got "
                                f"{index.dtype.name})"))
    ishape, xshape = index._data.shape, input._data.shape
    if len(ishape) != len(xshape) and not (len(ishape) <= 1 and len(xshape) <= 1):
        raise mark(RuntimeError(f"{op}(): Index tensor must have the same number of dimensions "
                                f"as input tensor (index shape {list(ishape)}, input shape "
                                f"{list(xshape)})"))
    if len(ishape) == len(xshape):
        for d, (a, b) in enumerate(zip(ishape, xshape)):
            if d != dim and a > b:
                raise mark(RuntimeError(
                    f"{op}(): Size does not match at dimension {d} expected index "
                    f"{list(ishape)} to be no larger than self {list(xshape)} apart from "
                    f"dimension {dim}"))
    if isinstance(src, Tensor):
        sshape = src._data.shape
        if len(sshape) != len(ishape) and not (len(ishape) <= 1 and len(sshape) <= 1):
            raise mark(RuntimeError(f"{op}(): Index tensor must have the same number of "
                                    f"dimensions as src tensor (index shape {list(ishape)}, "
                                    f"src shape {list(sshape)})"))
        if any(a > b for a, b in zip(ishape, sshape)):
            raise mark(RuntimeError(
                f"{op}(): Expected index {list(ishape)} to be no larger than self "
                f"{list(xshape)} apart from dimension {dim} and to be no larger size than src "
                f"{list(sshape)}"))
    xp = input._xp()
    size = xshape[dim] if xshape else 1
    return check_bounds(f"{op}()", xp, xp.asarray(index._data), size, dim, RuntimeError,
                        negative=False)


def _flat0(input, idx):
    """gather/scatter on 0-d tensors work on one-element 1-d views."""
    return input.reshape(1) if input._data.ndim == 0 else input, idx.reshape(-1)


@public
def gather(input, dim, index, *, sparse_grad=False, out=None):
    d = normalize_dim("gather", dim, input._data.ndim)
    if out is not None and out.dtype is not input.dtype:
        raise mark(RuntimeError(f"gather(): Expected out tensor to have dtype "
                                f"{input.dtype.name}, but got {out.dtype.name} instead"))
    idx = _scatter_index("gather", input, d, index)
    x = input
    if input._data.ndim == 0 or idx.ndim == 0:
        x, flat = _flat0(input, idx)
        result = take_region(x, IndexRegion(None, (flat,), False))
        return _out(result.reshape(index.shape), out)
    return _out(take_region(x, IndexRegion(None, _along(input._xp(), idx, d), False)), out)


def _scatter_src(input, idx, src, op):
    """``src`` as written by scatter: a number, or a tensor cut to ``idx``'s shape."""
    if not isinstance(src, Tensor):
        return as_value(input, src, op)
    if src._data.dtype is not input._data.dtype:
        raise mark(RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype (got "
                                f"{input.dtype.name} and {src.dtype.name})"))
    if src.device != input.device:
        src = src.to(input.device)
    if src._data.shape != idx.shape:
        src = take_region(src, IndexRegion(tuple(slice(0, n) for n in idx.shape)
                                           + (Ellipsis,)))
    return src


def _scatter_write(op, input, dim, index, src, accumulate, inplace):
    d = normalize_dim(op, dim, input._data.ndim)
    idx = _scatter_index(op, input, d, index, src)
    src = _scatter_src(input, idx, src, op)
    if input._data.ndim == 0 or idx.ndim == 0:
        if isinstance(src, Tensor):
            src = src.reshape(-1)
        region = IndexRegion((None, Ellipsis) if input._data.ndim == 0 else None,
                             (idx.reshape(-1),), False)
    else:
        region = IndexRegion(None, _along(input._xp(), idx, d), False)
    if inplace:
        return write_region(input, region, src, accumulate, op + "_")
    return put_region(input, src, region, accumulate)


def _scatter(input, dim, index, src, value, reduce, inplace):
    if src is None:
        src = value
    if src is None:
        raise mark(TypeError("scatter(): expected a src tensor or a value"))
    if reduce is None:
        return _scatter_write("scatter", input, dim, index, src, False, inplace)
    if reduce == "add":
        return _scatter_write("scatter", input, dim, index, src, True, inplace)
    if reduce == "multiply":
        if not isinstance(src, Tensor):
            src = full_like_index(input, index, src)
        if not inplace:
            return scatter_reduce(input, dim, index, src, "prod")
        source = inplace_source(input, (src,), {}, "scatter_")
        return commit_inplace(input, scatter_reduce(source, dim, index, src, "prod"), "scatter_")
    raise mark(RuntimeError(f"scatter(): reduce argument must be either add or multiply "
                            f"(got {reduce!r})."))


def full_like_index(input, index, value):
    """A tensor of ``index``'s shape filled with ``value``, in ``input``'s dtype and device."""
    xp = input._xp()
    return _new_tensor(xp.full(index._data.shape, value, dtype=input._data.dtype))


@public
def scatter(input, dim, index, src=None, reduce=None, *, value=None, out=None):
    return _out(_scatter(input, dim, index, src, value, reduce, False), out)


@public_method("scatter_")
def scatter_(self, dim, index, src=None, reduce=None, *, value=None):
    return _scatter(self, dim, index, src, value, reduce, True)


@public
def scatter_add(input, dim, index, src, *, out=None):
    _require_tensor("scatter_add", src)
    return _out(_scatter_write("scatter_add", input, dim, index, src, True, False), out)


@public_method("scatter_add_")
def scatter_add_(self, dim, index, src):
    _require_tensor("scatter_add", src)
    return _scatter_write("scatter_add", self, dim, index, src, True, True)


def _require_tensor(op, src):
    if not isinstance(src, Tensor):
        raise mark(TypeError(f"{op}(): src must be a Tensor, got {type(src).__name__}"))


_REDUCE_UFUNC = {"sum": "add", "mean": "add", "prod": "multiply", "amax": "maximum",
                 "amin": "minimum"}


def _identity(reduce, np_dtype):
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if np_dtype.kind == "f" or np_dtype.kind == "V":
        return -np.inf if reduce == "amax" else np.inf
    if np_dtype.kind == "b":
        return reduce == "amin"
    info = np.iinfo(np_dtype)
    return info.min if reduce == "amax" else info.max


class ScatterReduce(Function):
    """``input`` with ``src`` reduced into the positions ``region`` addresses (sum, prod,
    mean, amax, amin), with or without ``input``'s own values."""
    _raw = True
    op_name = "scatter_reduce"

    @staticmethod
    def forward(ctx, x, src, region, reduce, include_self):
        xp = ctx.xp
        out = x.copy()
        if not include_self:
            out[region.adv] = _identity(reduce, x.dtype)
        ufunc_at(xp, _REDUCE_UFUNC[reduce], out, region.adv, src)
        ctx.region, ctx.reduce, ctx.include_self = region, reduce, include_self
        if reduce == "mean":
            count = xp.full(x.shape, 1 if include_self else 0, dtype=x.dtype)
            ufunc_at(xp, "add", count, region.adv, xp.ones(src.shape, dtype=x.dtype))
            count[count == 0] = 1
            ctx.count = count
            out = out // count if x.dtype.kind in "biu" else out / count
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, src, result = ctx.saved_tensors
        region, reduce = ctx.region, ctx.reduce
        if reduce == "sum":
            g_x, g_src = grad, take_region(grad, region)
        elif reduce == "mean":
            g_x = grad / _new_tensor(ctx.count)
            g_src = take_region(g_x, region)
        elif reduce == "prod":
            g_x, g_src = _prod_grads(ctx, grad, x, src, result)
        else:
            g_x, g_src = _extreme_grads(ctx, grad, x, src, result)
        if not ctx.include_self:
            g_x = Put.apply(g_x, 0, region, None, False, False)
        return g_x, g_src, None, None, None


def _prod_grads(ctx, grad, x, src, result):
    """Gradients of a scatter product, exact where inputs are zero (the product of the other
    factors) as PyTorch computes them."""
    xp, region = ctx.xp, ctx.region
    args = (region, "prod", ctx.include_self)
    x_zero = _new_tensor(x._data == 0)
    masked_x = masked_fill(x, x_zero, 1)
    g_x = grad * ScatterReduce.apply(masked_x, src, *args) / masked_x
    src_zero = src._data == 0
    zeros_per_target = xp.zeros(x.shape, dtype=np.int64)
    ufunc_at(xp, "add", zeros_per_target, region.adv, src_zero.astype(np.int64))
    single = _new_tensor(src_zero & (zeros_per_target[region.adv] == 1))
    masked_src_result = ScatterReduce.apply(x, masked_fill(src, single, 1), *args)
    from_single = take_region(grad * masked_src_result, region)
    from_rest = take_region(grad * result, region) / masked_fill(src, _new_tensor(src_zero), 1)
    g_src = (masked_fill(from_single, _new_tensor(~single._data), 0)
             + masked_fill(from_rest, single, 0))
    return g_x, g_src


def _extreme_grads(ctx, grad, x, src, result):
    """amax / amin: the gradient is shared evenly among the elements equal to the result."""
    xp, region = ctx.xp, ctx.region
    res = result._data
    x_is = (x._data == res).astype(grad._data.dtype)
    src_is = (src._data == res[region.adv]).astype(grad._data.dtype)
    count = x_is.copy()
    ufunc_at(xp, "add", count, region.adv, src_is)
    shared = grad / _new_tensor(count)
    return shared * _new_tensor(x_is), take_region(shared, region) * _new_tensor(src_is)


def _scatter_reduce(op, input, dim, index, src, reduce, include_self):
    if reduce not in _REDUCE_UFUNC:
        raise mark(RuntimeError(f"{op}(): reduce argument must be either sum, prod, mean, "
                                f"amax or amin, got {reduce}"))
    _require_tensor(op, src)
    d = normalize_dim(op, dim, input._data.ndim)
    idx = _scatter_index(op, input, d, index, src)
    src = _scatter_src(input, idx, src, op)
    if input._data.ndim == 0 or idx.ndim == 0:
        x = input.reshape(1)
        out = ScatterReduce.apply(x, src.reshape(-1), IndexRegion(None, (idx.reshape(-1),)),
                                  reduce, include_self)
        return out.reshape(input.shape)
    region = IndexRegion(None, _along(input._xp(), idx, d), False)
    return ScatterReduce.apply(input, src, region, reduce, include_self)


@public
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True, out=None):
    return _out(_scatter_reduce("scatter_reduce", input, dim, index, src, reduce,
                                include_self), out)


@public_method("scatter_reduce_")
def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    source = inplace_source(self, (src,), {}, "scatter_reduce_")
    result = _scatter_reduce("scatter_reduce_", source, dim, index, src, reduce, include_self)
    return commit_inplace(self, result, "scatter_reduce_")


def _index_reduce(op, input, dim, index, source, reduce, include_self):
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise mark(RuntimeError(f"{op}(): Expected reduce to be one of prod, mean, amax or "
                                f"amin but got {reduce}."))
    d = normalize_dim(op, dim, input._data.ndim)
    idx = _index_vector(op, input, d, index)
    source = _check_source(op, input, d, idx, source)
    shape = [1] * source._data.ndim
    shape[d] = idx.size
    full = input._xp().broadcast_to(idx.reshape(shape), source._data.shape)
    region = IndexRegion(None, _along(input._xp(), full, d), False)
    x = input.reshape(1) if input._data.ndim == 0 else input
    return ScatterReduce.apply(x, source, region, reduce, include_self).reshape(input.shape)


@public
def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    return _out(_index_reduce("index_reduce", input, dim, index, source, reduce,
                              include_self), out)


@public_method("index_reduce_")
def index_reduce_(self, dim, index, source, reduce, *, include_self=True):
    original = inplace_source(self, (source,), {}, "index_reduce_")
    result = _index_reduce("index_reduce_", original, dim, index, source, reduce, include_self)
    return commit_inplace(self, result, "index_reduce_")


# ---- masks ------------------------------------------------------------------------------------

def _mask_array(op, input, mask, out_shape=None):
    """``mask`` (a bool tensor) broadcast to ``out_shape`` (default: ``input``'s), as an
    array on ``input``'s device."""
    if not isinstance(mask, Tensor):
        raise mark(TypeError(f"{op}(): mask must be a Tensor, got {type(mask).__name__}"))
    if mask._data.dtype != np.bool_:
        raise mark(RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                                f"{mask.dtype.name}"))
    xp = input._xp()
    m = xp.asarray(mask._data)
    shape = input._data.shape if out_shape is None else out_shape
    if m.shape != shape:
        try:
            ok = broadcast_shape(m.shape, shape) == tuple(shape)
        except RuntimeError:
            ok = False
        if not ok:
            raise mark(RuntimeError(f"{op}: mask of shape {list(m.shape)} cannot be broadcast "
                                    f"to the tensor's shape {list(shape)}"))
        m = xp.broadcast_to(m, shape)
    return m


def _broadcast_with_mask(op, input, mask):
    """Out-of-place masked ops broadcast ``input`` and ``mask`` together."""
    shape = broadcast_shape(input._data.shape, tuple(mask.shape))
    if shape != input._data.shape:
        input = input.expand(shape)
    return input, _mask_array(op, input, mask, shape)


def _masked_fill(input, mask, value, inplace):
    value = _fill_value("masked_fill_", input, value)
    if inplace:
        m = _mask_array("masked_fill_", input, mask)
        return write_region(input, IndexRegion(None, (m,)), value, False, "masked_fill_")
    x, m = _broadcast_with_mask("masked_fill", input, mask)
    return put_region(x, value, IndexRegion(None, (m,)))


@public
def masked_fill(input, mask, value):
    return _masked_fill(input, mask, value, False)


@public_method("masked_fill_")
def masked_fill_(self, mask, value):
    return _masked_fill(self, mask, value, True)


def _masked_scatter(input, mask, source, inplace):
    op = "masked_scatter_" if inplace else "masked_scatter"
    _require_tensor(op, source)
    if source._data.dtype is not input._data.dtype:
        raise mark(RuntimeError(f"{op}: expected source and self to have the same dtype, got "
                                f"{source.dtype.name} and {input.dtype.name}"))
    if inplace:
        x, m = input, _mask_array(op, input, mask)
    else:
        x, m = _broadcast_with_mask(op, input, mask)
    count = int(m.sum())
    if source._data.size < count:
        raise mark(RuntimeError(f"{op}: Number of elements of source < number of ones in mask "
                                f"({source._data.size} < {count})"))
    src = source.reshape(-1)
    if count != src._data.size:
        src = take_region(src, IndexRegion((slice(0, count), Ellipsis)))
    region = IndexRegion(None, (m,))
    if inplace:
        return write_region(x, region, src, False, op)
    return put_region(x, src, region)


@public
def masked_scatter(input, mask, source):
    return _masked_scatter(input, mask, source, False)


@public_method("masked_scatter_")
def masked_scatter_(self, mask, source):
    return _masked_scatter(self, mask, source, True)


@public
def masked_select(input, mask, *, out=None):
    x, m = _broadcast_with_mask("masked_select", input, mask)
    return _out(take_region(x, IndexRegion(None, (m,))), out)


# ---- flat positions ---------------------------------------------------------------------------

def _flat_region(op, input, index):
    """The region of ``input.flatten()[index]``, addressed in ``input``'s own shape."""
    if not isinstance(index, Tensor):
        raise mark(TypeError(f"{op}(): index must be a Tensor, got {type(index).__name__}"))
    if index._data.dtype != np.int64:
        raise mark(RuntimeError(f"{op}(): Expected a long tensor for index, but got "
                                f"{index.dtype.name}"))
    xp = input._xp()
    n = input._data.size
    idx = xp.asarray(index._data)
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < -n or hi >= n:
            raise mark(IndexError(f"{op}(): out of range: tried to access index "
                                  f"{hi if hi >= n else lo} on a tensor of {n} elements."))
        if lo < 0:
            idx = xp.where(idx < 0, idx + n, idx)
    if input._data.ndim == 0:
        return IndexRegion((None, Ellipsis), (idx * 0,), False)
    return IndexRegion(None, xp.unravel_index(idx, input._data.shape), False)


@public
def take(input, index, *, out=None):
    return _out(take_region(input, _flat_region("take", input, index)), out)


def _put(input, index, source, accumulate, inplace):
    op = "put_" if inplace else "put"
    region = _flat_region(op, input, index)
    _require_tensor(op, source)
    if source._data.size != index._data.size:
        raise mark(IndexError(f"{op}(): Expected source and index to have the same number of "
                              f"elements, but got source.numel() = {source._data.size}, "
                              f"index.numel() = {index._data.size}"))
    if source._data.dtype is not input._data.dtype:
        raise mark(RuntimeError(f"{op}(): self ({input.dtype.name}) and source "
                                f"({source.dtype.name}) must have the same scalar type"))
    src = source.reshape(index.shape)
    if inplace:
        return write_region(input, region, src, accumulate, op)
    return put_region(input, src, region, accumulate)


@public
def put(input, index, source, accumulate=False):
    return _put(input, index, source, accumulate, False)


@public_method("put_")
def put_(self, index, source, accumulate=False):
    return _put(self, index, source, accumulate, True)


@public
def take_along_dim(input, indices, dim=None, *, out=None):
    if dim is None:
        return _out(gather(input.reshape(-1), 0, indices.reshape(-1)), out)
    ndim = input._data.ndim
    d = normalize_dim("take_along_dim", dim, ndim)
    indices = _wrap_negative(input, indices, d)
    if indices._data.ndim != ndim:
        raise mark(RuntimeError(f"take_along_dim(): input and indices should have the same "
                                f"number of dimensions, but got {ndim} dimensions for input, "
                                f"and {indices._data.ndim} dimensions for indices"))
    xs, js = list(input._data.shape), list(indices._data.shape)
    xs[d] = js[d] = 1
    common = broadcast_shape(tuple(xs), tuple(js))
    x_shape = common[:d] + (input._data.shape[d],) + common[d + 1:]
    i_shape = common[:d] + (indices._data.shape[d],) + common[d + 1:]
    x = input if x_shape == input._data.shape else input.expand(x_shape)
    i = indices if i_shape == indices._data.shape else indices.expand(i_shape)
    return _out(gather(x, d, i), out)


def _wrap_negative(input, indices, dim):
    """take_along_dim along a dim accepts negative indices (gather does not)."""
    arr = indices._data
    if arr.dtype.kind != "i" or not arr.size or int(arr.min()) >= 0:
        return indices
    n = input._data.shape[dim] if input._data.ndim else 1
    return _new_tensor(indices._xp().where(arr < 0, arr + n, arr))


# ---- nonzero -----------------------------------------------------------------------------------

@public
def nonzero(input, *, out=None, as_tuple=False):
    xp = input._xp()
    arr = input._data
    if as_tuple:
        if arr.ndim == 0:
            return (_new_tensor(xp.zeros(1 if arr.item() else 0, dtype=np.int64)),)
        return tuple(_new_tensor(i.astype(np.int64, copy=False)) for i in xp.nonzero(arr))
    if arr.ndim == 0:
        result = _new_tensor(xp.zeros((1 if arr.item() else 0, 0), dtype=np.int64))
    else:
        result = _new_tensor(xp.stack(xp.nonzero(arr), axis=1).astype(np.int64, copy=False))
    return _out(result, out)


@public
def argwhere(input):
    return nonzero(input)
