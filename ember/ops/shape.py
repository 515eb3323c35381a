"""Shape and movement ops.

View ops (``_view = True``) return arrays that share the input's memory; ``apply`` links their
version counters and bases, so in-place writes through a view reach the base and autograd. Ops
that read a sub-region of a tensor (select, narrow, diagonal, unfold, split ...) are ``Take`` /
``TakeView`` over a region (see ``index.py``); their gradients write back into that region with
``Put``, and the ``*_scatter`` ops are ``Put`` itself."""
import builtins
import math
import operator
import warnings

import numpy as np

from .. import _dtype
from .._device import as_device
from .._errors import describe, mark
from .._size import Size
from .._tensor import Tensor, _new_tensor
from ..autograd.function import Function, _share_view
from ..autograd.grad_mode import GradMode
from ..backend import move, resolve
from ._broadcast import BroadcastTo, broadcast_shape
from ._dims import normalize_dim, normalize_dims, as_shape
from ._promote import result_type
from ._registry import public, public_method
from .index import IndexRegion, Put, TakeView, take_region, put_region, _dim_region, _out

_ALL = slice(None)


def infer_shape(op, shape, numel):
    """``shape`` with its one ``-1`` resolved, or the error PyTorch gives."""
    shape = list(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise mark(RuntimeError(f"{op}: only one dimension can be inferred"))
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise mark(RuntimeError(f"{op}: invalid shape dimension {s}"))
            known *= s
    if unknown and known == 0:
        raise mark(RuntimeError(f"{op}: cannot reshape tensor of {numel} elements into shape "
                                f"{shape} because the unspecified dimension size -1 can be any "
                                f"value and is ambiguous"))
    if unknown:
        if numel % known:
            raise mark(RuntimeError(f"{op}: shape '{shape}' is invalid for input of size "
                                    f"{numel}"))
        shape[unknown[0]] = numel // known
    elif known != numel:
        raise mark(RuntimeError(f"{op}: shape '{shape}' is invalid for input of size {numel}"))
    return tuple(shape)


def _as_strided(arr, shape, strides):
    """A view of ``arr``'s memory (writable where ``arr`` is) starting at ``arr``'s first
    element, with byte ``strides``."""
    if type(arr) is not np.ndarray:
        import cupy
        return cupy.lib.stride_tricks.as_strided(arr, shape, strides)
    owner = arr
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if owner.base is not None or not (owner.flags.c_contiguous or owner.flags.f_contiguous):
        return np.lib.stride_tricks.as_strided(arr, shape, strides)
    # Built on the memory's owner (not as_strided's opaque wrapper) so that the view's chain
    # of bases leads to it, as Tensor.storage_offset expects.
    flat = owner.reshape(-1, order="A")
    out = np.ndarray(shape, arr.dtype, buffer=flat, offset=_ptr(arr) - _ptr(flat),
                     strides=strides)
    if not arr.flags.writeable:
        out.flags.writeable = False
    return out


def _dims_arg(dims):
    """``f(0, 1)``, ``f((0, 1))`` and ``f([0, 1])`` as a tuple."""
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return tuple(dims[0])
    return tuple(dims)


def _slice_region(dim, sl):
    """The region ``x[:, ..., sl]`` with ``sl`` at ``dim``."""
    return IndexRegion((_ALL,) * dim + (sl, Ellipsis))


# ---- view / reshape -------------------------------------------------------------------------

class View(Function):
    _raw = True
    _view = True
    op_name = "view"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        v = x.view()
        try:
            v.shape = shape
        except AttributeError:
            raise mark(RuntimeError(
                f"view: view size is not compatible with input tensor's size and stride (at "
                f"least one dimension spans across two contiguous subspaces); shape "
                f"{list(x.shape)} -> {list(shape)}. Use .reshape(...) instead.")) from None
        return v

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Reshape(Function):
    """A reshape that copies (the input's memory layout does not allow a view)."""
    _raw = True
    op_name = "reshape"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def _viewable(arr, shape):
    v = arr.view()
    try:
        v.shape = shape
        return True
    except AttributeError:
        return False


def _is_dtype(x):
    """``x.view(dtype)`` takes ember, NumPy and torch dtypes and their names."""
    return isinstance(x, (_dtype.dtype, np.dtype, str)) or type(x).__name__ == "dtype" or (
        isinstance(x, type) and issubclass(x, np.generic))


@public_method("view")
def view(self, *shape, dtype=None):
    if dtype is None and len(shape) == 1 and _is_dtype(shape[0]):
        dtype = shape[0]
    if dtype is not None:
        return _view_dtype(self, _dtype.as_dtype(dtype))
    shape = infer_shape("view", as_shape("view", shape), self._data.size)
    return View.apply(self, shape)


def _view_dtype(self, dtype):
    """``x.view(dtype)``: the same bytes read as another dtype (not differentiable)."""
    arr = self._data
    if dtype.np == arr.dtype:
        return View.apply(self, arr.shape)
    if dtype.itemsize != arr.itemsize and (arr.ndim == 0 or arr.strides[-1] != arr.itemsize):
        raise mark(RuntimeError(
            f"view(dtype): self.stride(-1) must be 1 to view {self.dtype.name} as "
            f"{dtype.name} (different element sizes); call .contiguous() first"))
    try:
        out = _new_tensor(arr.view(dtype.np))
    except ValueError as e:
        raise mark(RuntimeError(f"view(dtype): cannot view {self.dtype.name}"
                                f"{list(arr.shape)} as {dtype.name}: {e}")) from None
    _share_view(self, out)
    return out


@public
def reshape(input, *shape):
    shape = infer_shape("reshape", as_shape("reshape", shape), input._data.size)
    if input._data.flags.c_contiguous or _viewable(input._data, shape):
        return View.apply(input, shape)
    return Reshape.apply(input, shape)


@public_method("view_as")
def view_as(self, other):
    return view(self, other.shape)


@public_method("reshape_as")
def reshape_as(self, other):
    return reshape(self, other.shape)


@public_method("expand")
def expand(self, *sizes):
    sizes = as_shape("expand", sizes)
    ndim = self._data.ndim
    if len(sizes) < ndim:
        raise mark(RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({ndim})"))
    lead = len(sizes) - ndim
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise mark(RuntimeError(f"expand: the expanded size of the tensor ({s}) isn't "
                                        f"allowed in a leading, non-existing dimension {i}"))
            target.append(s)
            continue
        have = self._data.shape[i - lead]
        if s == -1:
            s = have
        elif have != 1 and s != have:
            raise mark(RuntimeError(
                f"expand: The expanded size of the tensor ({s}) must match the existing size "
                f"({have}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(self._data.shape)}"))
        target.append(s)
    target = tuple(target)
    if target == self._data.shape:
        return View.apply(self, target)
    return BroadcastTo.apply(self, target)


@public_method("expand_as")
def expand_as(self, other):
    return expand(self, other.shape)


@public
def broadcast_to(input, size):
    return expand(input, size)


@public
def broadcast_tensors(*tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = broadcast_shape(*(t._data.shape for t in tensors))
    return tuple(t if t._data.shape == shape else expand(t, shape) for t in tensors)


@public(method=False)
def broadcast_shapes(*shapes):
    norm = []
    for s in shapes:
        norm.append((operator.index(s),) if not isinstance(s, (tuple, list)) else
                    tuple(operator.index(n) for n in s))
    ndim = max((len(s) for s in norm), default=0)
    out = [1] * ndim
    for k, s in enumerate(norm):
        for i, n in enumerate(s, ndim - len(s)):
            if n < 0:
                raise mark(RuntimeError(f"broadcast_shapes: Trying to create tensor with "
                                        f"negative dimension {n}: {list(s)}"))
            if n != out[i] and n != 1:
                if out[i] != 1:
                    raise mark(RuntimeError(
                        f"broadcast_shapes: Attempting to broadcast a dimension of length {n} "
                        f"at {i - ndim}! Mismatching argument at index {k} had {s}; but "
                        f"expected shape should be broadcastable to {out}"))
                out[i] = n
    return Size(out)


class Permute(Function):
    _raw = True
    _view = True
    op_name = "permute"

    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return x.transpose(perm)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.perm)
        for i, p in enumerate(ctx.perm):
            inverse[p] = i
        return Permute.apply(grad, tuple(inverse)), None


@public
def permute(input, *dims):
    dims = as_shape("permute", dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise mark(RuntimeError(f"permute: number of dimensions in the tensor input does not "
                                f"match the length of the desired ordering of dimensions i.e. "
                                f"input.dim() = {ndim} is not equal to len(dims) = "
                                f"{len(dims)}"))
    perm = tuple(normalize_dim("permute", d, ndim) for d in dims)
    if len(set(perm)) != ndim:
        raise mark(RuntimeError(f"permute: repeated dim in {list(dims)}"))
    return Permute.apply(input, perm)


@public(aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    ndim = input._data.ndim
    d0 = normalize_dim("transpose", dim0, ndim)
    d1 = normalize_dim("transpose", dim1, ndim)
    if ndim == 0:
        return View.apply(input, ())
    perm = list(range(ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return Permute.apply(input, tuple(perm))


@public
def t(input):
    ndim = input._data.ndim
    if ndim > 2:
        raise mark(RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                                f"{ndim}D; use .transpose(dim0, dim1) or .mT"))
    return Permute.apply(input, tuple(range(ndim))[::-1])


@public(aliases=("moveaxis",))
def movedim(input, source, destination):
    ndim = input._data.ndim
    src = (source,) if not isinstance(source, (tuple, list)) else tuple(source)
    dst = (destination,) if not isinstance(destination, (tuple, list)) else tuple(destination)
    if len(src) != len(dst):
        raise mark(RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"))
    src_n = [normalize_dim("movedim", d, ndim) for d in src]
    dst_n = [normalize_dim("movedim", d, ndim) for d in dst]
    for name, given, norm in (("source", src, src_n), ("destination", dst, dst_n)):
        if len(set(norm)) != len(norm):
            raise mark(RuntimeError(f"movedim: repeated dim in `{name}` ({list(given)})"))
    order = [None] * ndim
    for s, d in zip(src_n, dst_n):
        order[d] = s
    rest = iter(i for i in range(ndim) if i not in src_n)
    return Permute.apply(input, tuple(o if o is not None else next(rest) for o in order))


def _T(self):
    ndim = self._data.ndim
    if ndim != 2:
        warnings.warn("Tensor.T is deprecated on 0-D tensors. This function is the identity in "
                      "these cases." if ndim == 0 else
                      "The use of `x.T` on tensors of dimension other than 2 to reverse their "
                      "shape is deprecated; use `x.mT` to transpose batches of matrices or "
                      "x.permute(*reversed(range(x.ndim))) to reverse the dimensions.",
                      UserWarning, stacklevel=2)
    return Permute.apply(self, tuple(range(ndim))[::-1])


def _mT(self):
    if self._data.ndim < 2:
        raise mark(RuntimeError(f"tensor.mT is only supported on matrices or batches of "
                                f"matrices. Got {self._data.ndim}-D tensor."))
    return transpose(self, -2, -1)


from ._promote import conj_if_complex as _conj  # noqa: E402

def _H(self):
    ndim = self._data.ndim
    if ndim == 0:
        warnings.warn("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
                      UserWarning, stacklevel=2)
        return _conj(View.apply(self, ()))
    if ndim != 2:
        raise mark(RuntimeError(f"tensor.H is only supported on matrices (2-D tensors). Got "
                                f"{ndim}-D tensor."))
    return _conj(transpose(self, 0, 1))


def _mH(self):
    if self._data.ndim < 2:
        raise mark(RuntimeError(f"tensor.mH is only supported on matrices or batches of "
                                f"matrices. Got {self._data.ndim}-D tensor."))
    return _conj(transpose(self, -2, -1))


@public
def adjoint(input):
    if input._data.ndim < 2:
        raise mark(RuntimeError(f"tensor.adjoint() is only supported on matrices or batches "
                                f"of matrices. Got {input._data.ndim}-D tensor."))
    return _conj(transpose(input, -2, -1))


Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.H = property(_H)
Tensor.mH = property(_mH)


class Clone(Function):
    _raw = True
    op_name = "clone"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


@public
def clone(input, *, memory_format=None):
    return Clone.apply(input)


@public_method("contiguous")
def contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self)


@public
def unsqueeze(input, dim):
    ndim = input._data.ndim
    d = normalize_dim("unsqueeze", dim, ndim + 1)
    shape = input._data.shape[:d] + (1,) + input._data.shape[d:]
    return View.apply(input, shape)


@public
def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = {normalize_dim("squeeze", d, len(shape)) for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
    return View.apply(input, new)


@public
def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s = normalize_dim("flatten", start_dim, len(shape))
    e = normalize_dim("flatten", end_dim, len(shape))
    if s > e:
        raise mark(RuntimeError("flatten() has invalid args: start_dim cannot come after "
                                "end_dim"))
    n = 1
    for k in shape[s:e + 1]:
        n *= k
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])


@public
def unflatten(input, dim, sizes):
    shape = input._data.shape
    d = normalize_dim("unflatten", dim, len(shape))
    sizes = as_shape("unflatten", (sizes,))
    if not sizes:
        raise mark(RuntimeError("unflatten: sizes must be non-empty"))
    n = shape[d] if shape else 1
    try:
        sizes = infer_shape("unflatten", sizes, n)
    except RuntimeError:
        raise mark(RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to "
                                f"the size of dim {dim} ({n}) in the input tensor")) from None
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


@public
def ravel(input):
    return reshape(input, (-1,))


def _atleast(n, tensors):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple(_atleast(n, (t,)) for t in tensors[0])
    if len(tensors) != 1:
        return tuple(_atleast(n, (t,)) for t in tensors)
    x = tensors[0]
    shape = x._data.shape
    if len(shape) >= n:
        return x
    new = {1: {0: (1,)}, 2: {0: (1, 1), 1: (1,) + shape},
           3: {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}}[n][len(shape)]
    return View.apply(x, new)


@public(method=False)
def atleast_1d(*tensors):
    return _atleast(1, tensors)


@public(method=False)
def atleast_2d(*tensors):
    return _atleast(2, tensors)


@public(method=False)
def atleast_3d(*tensors):
    return _atleast(3, tensors)


# ---- selecting parts ------------------------------------------------------------------------

@public
def select(input, dim, index):
    ndim = input._data.ndim
    if ndim == 0:
        raise mark(IndexError("select() cannot be applied to a 0-dim tensor."))
    d = normalize_dim("select", dim, ndim)
    index = operator.index(index)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise mark(IndexError(f"select(): index {index} out of range for tensor of size "
                              f"{list(input._data.shape)} at dimension {d}"))
    return TakeView.apply(input, IndexRegion((_ALL,) * d + (index, Ellipsis)))


def _narrow_region(op, input, dim, start, length):
    ndim = input._data.ndim
    if ndim == 0:
        raise mark(RuntimeError(f"{op}() cannot be applied to a 0-dim tensor."))
    d = normalize_dim(op, dim, ndim)
    if isinstance(start, Tensor) and (start._data.ndim or start._data.dtype.kind not in "iu"):
        raise mark(RuntimeError(f"{op}(): start must be an 0-dim integral Tensor, got "
                                f"{describe(start)}"))
    start, length = operator.index(start), operator.index(length)
    size = input._data.shape[d]
    if length < 0:
        raise mark(RuntimeError(f"{op}(): length must be non-negative."))
    if not -size <= start <= size:
        raise mark(IndexError(f"{op}(): start out of range (expected to be in range of "
                              f"[{-size}, {size}], but got {start})"))
    if start < 0:
        start += size
    if start + length > size:
        raise mark(RuntimeError(f"{op}(): start ({start}) + length ({length}) exceeds "
                                f"dimension size ({size})."))
    return _slice_region(d, slice(start, start + length))


@public
def narrow(input, dim, start, length):
    return TakeView.apply(input, _narrow_region("narrow", input, dim, start, length))


@public
def narrow_copy(input, dim, start, length):
    return clone(TakeView.apply(input, _narrow_region("narrow_copy", input, dim, start,
                                                      length)))


def _scatter_into(op, input, src, region):
    """``input`` with ``input[region]`` replaced by ``src``, which must have the region's
    shape and ``input``'s dtype."""
    target = region.shape_of(input._data)
    if not isinstance(src, Tensor):
        raise mark(TypeError(f"{op}(): src must be a Tensor, got {type(src).__name__}"))
    if src._data.shape != tuple(target):
        raise mark(RuntimeError(f"{op}(): expected src to have a size equal to the slice of "
                                f"self. src size = {list(src.shape)}, slice size = "
                                f"{list(target)}"))
    if src._data.dtype is not input._data.dtype:
        raise mark(RuntimeError(f"{op}(): expected src ({src.dtype.name}) to have the same "
                                f"dtype as self ({input.dtype.name})"))
    return put_region(input, src, region)


@public
def select_scatter(input, src, dim, index):
    ndim = input._data.ndim
    d = normalize_dim("select_scatter", dim, ndim)
    index = operator.index(index)
    size = input._data.shape[d]
    if not -size <= index < size:
        raise mark(IndexError(f"select_scatter(): index {index} out of range for tensor of "
                              f"size {list(input._data.shape)} at dimension {d}"))
    return _scatter_into("select_scatter", input, src,
                         IndexRegion((_ALL,) * d + (index, Ellipsis)))


@public
def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    d = normalize_dim("slice_scatter", dim, input._data.ndim)
    if step <= 0:
        raise mark(RuntimeError("slice_scatter(): slice step must be positive"))
    return _scatter_into("slice_scatter", input, src,
                         _slice_region(d, slice(start, end, step)))


class DiagonalRegion:
    """The diagonal ``offset`` of the planes ``(dim1, dim2)``, as a view (moved to the last
    dim, as ``Tensor.diagonal`` returns it)."""
    __slots__ = ("offset", "dim1", "dim2")
    is_view = True
    unique = True

    def __init__(self, offset, dim1, dim2):
        self.offset, self.dim1, self.dim2 = offset, dim1, dim2

    def of(self, arr):
        v = arr.diagonal(self.offset, self.dim1, self.dim2)
        if type(v) is np.ndarray and not v.flags.writeable and arr.flags.writeable:
            v.flags.writeable = True  # NumPy marks diagonals read-only; the memory is not
        return v

    def write(self, xp, arr, values, accumulate):
        v = self.of(arr)
        if accumulate:
            xp.add(v, values, out=v)
        else:
            v[...] = values

    def shape_of(self, arr):
        return self.of(arr).shape

    def __repr__(self):
        return f"DiagonalRegion({self.offset}, {self.dim1}, {self.dim2})"


def _diag_dims(op, ndim, dim1, dim2):
    d1, d2 = normalize_dim(op, dim1, ndim), normalize_dim(op, dim2, ndim)
    if d1 == d2:
        raise mark(RuntimeError(f"{op}: diagonal dimensions cannot be identical {dim1}, "
                                f"{dim2}"))
    return d1, d2


@public
def diagonal(input, offset=0, dim1=0, dim2=1):
    d1, d2 = _diag_dims("diagonal", input._data.ndim, dim1, dim2)
    return TakeView.apply(input, DiagonalRegion(offset, d1, d2))


@public
def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    d1, d2 = _diag_dims("diagonal_scatter", input._data.ndim, dim1, dim2)
    return _scatter_into("diagonal_scatter", input, src, DiagonalRegion(offset, d1, d2))


@public
def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    ndim = input._data.ndim + 1
    d1, d2 = _diag_dims("diag_embed", ndim, dim1, dim2)
    n = input._data.shape[-1] + abs(offset)
    rest = iter(input._data.shape[:-1])
    shape = tuple(n if i in (d1, d2) else next(rest) for i in range(ndim))
    return Put.apply(None, input, DiagonalRegion(offset, d1, d2), shape, False, False)


@public
def diag(input, diagonal=0, *, out=None):
    ndim = input._data.ndim
    if ndim == 1:
        n = input._data.shape[0] + abs(diagonal)
        result = Put.apply(None, input, DiagonalRegion(diagonal, 0, 1), (n, n), False, False)
    elif ndim == 2:
        result = clone(TakeView.apply(input, DiagonalRegion(diagonal, 0, 1)))
    else:
        raise mark(RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D"))
    return _out(result, out)


@public
def diagflat(input, offset=0):
    return diag(reshape(input, (-1,)), offset)


class Triangle(Function):
    """The lower (``upper=False``) or upper triangle of the last two dims, the rest zeroed."""
    _raw = True
    op_name = "tril"

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        xp = ctx.xp
        n, m = x.shape[-2:]
        keep = xp.tri(n, m, k - 1, dtype=bool) if upper else xp.tri(n, m, k, dtype=bool)
        if upper:
            keep = ~keep
        return xp.where(keep, x, xp.zeros((), dtype=x.dtype))

    @staticmethod
    def backward(ctx, grad):
        return Triangle.apply(grad, ctx.k, ctx.upper), None, None


def _triangle(op, input, diagonal, upper, out):
    if input._data.ndim < 2:
        raise mark(RuntimeError(f"{op}: input tensor must have at least 2 dimensions (got "
                                f"shape {list(input.shape)})"))
    return _out(Triangle.apply(input, operator.index(diagonal), upper), out)


@public(inplace=True)
def tril(input, diagonal=0, *, out=None):
    return _triangle("tril", input, diagonal, False, out)


@public(inplace=True)
def triu(input, diagonal=0, *, out=None):
    return _triangle("triu", input, diagonal, True, out)


def _tri_indices(op, row, col, offset, dtype, device, upper):
    if row < 0:
        raise mark(RuntimeError(f"{op}: row must be non-negative, got {row}"))
    if col < 0:
        raise mark(RuntimeError(f"{op}: col must be non-negative, got {col}"))
    dtype = _dtype.int64 if dtype is None else _dtype.as_dtype(dtype)
    rows, cols = (np.triu_indices if upper else np.tril_indices)(row, offset, col)
    arr = np.stack([rows, cols]).astype(dtype.np)
    dev = resolve(as_device(device)) if device is not None else None
    return _new_tensor(move(arr, dev) if dev is not None else arr)


@public(method=False)
def tril_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices("tril_indices", row, col, offset, dtype, device, False)


@public(method=False)
def triu_indices(row, col, offset=0, *, dtype=None, device=None, layout=None):
    return _tri_indices("triu_indices", row, col, offset, dtype, device, True)


# ---- joining --------------------------------------------------------------------------------

def _tensor_list(op, tensors):
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise mark(TypeError(f"{op}(): argument 'tensors' must be a tuple or list of Tensors, "
                             f"not {type(tensors).__name__}"))
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise mark(TypeError(f"{op}(): expected a sequence of Tensors, but element {i} is "
                                 f"a {type(t).__name__}"))
    return tuple(tensors)


def _grads_in_input_dtypes(pieces, dtypes):
    return tuple(p if p._data.dtype == d else p.to(_dtype.NP_TO_DTYPE[d])
                 for p, d in zip(pieces, dtypes))


class Cat(Function):
    """Concatenation along ``dim`` in the promoted dtype; inputs at the positions in ``skip``
    (1-d empty tensors, PyTorch's legacy rule) take no part."""
    _raw = True
    op_name = "cat"

    @staticmethod
    def forward(ctx, *xs, dim, skip, np_dtype):
        ctx.dim, ctx.skip = dim, skip
        ctx.metas = [(x.shape, x.dtype) for x in xs]
        kept = [x for i, x in enumerate(xs) if i not in skip]
        if not kept:
            return ctx.xp.zeros((0,), dtype=np_dtype)
        return ctx.xp.concatenate(kept, axis=dim, dtype=np_dtype, casting="unsafe")

    @staticmethod
    def backward(ctx, grad):
        pieces, start, dim = [], 0, ctx.dim
        for i, (shape, _) in enumerate(ctx.metas):
            if i in ctx.skip:
                pieces.append(_new_tensor(ctx.xp.zeros(shape, dtype=grad._data.dtype)))
                continue
            n = shape[dim]
            pieces.append(TakeView.apply(grad, _slice_region(dim, slice(start, start + n))))
            start += n
        return _grads_in_input_dtypes(pieces, [m[1] for m in ctx.metas])


@public(aliases=("concat",), method=False)
def cat(tensors, dim=0, *, out=None):
    tensors = _tensor_list("cat", tensors)
    if not tensors:
        raise mark(ValueError("cat(): expected a non-empty list of Tensors"))
    skip = frozenset(i for i, t in enumerate(tensors) if t._data.shape == (0,))
    ref = next((t for i, t in enumerate(tensors) if i not in skip), tensors[0])
    ndim = ref._data.ndim
    for i, t in enumerate(tensors):
        if t._data.ndim == 0:
            raise mark(RuntimeError(f"cat(): zero-dimensional tensor (at position {i}) cannot "
                                    f"be concatenated; use stack() or reshape it to 1-d"))
    d = normalize_dim("cat", dim, ndim)
    for i, t in enumerate(tensors):
        if i in skip or t is ref:
            continue
        shape = t._data.shape
        if len(shape) != ndim:
            raise mark(RuntimeError(f"cat(): Tensors must have same number of dimensions: got "
                                    f"{ndim} and {len(shape)} (tensor number {i} in the list "
                                    f"has shape {list(shape)})"))
        for k in range(ndim):
            if k != d and shape[k] != ref._data.shape[k]:
                raise mark(RuntimeError(
                    f"cat(): Sizes of tensors must match except in dimension {d}. Expected "
                    f"size {ref._data.shape[k]} but got size {shape[k]} for tensor number {i} "
                    f"in the list (shapes {[list(x.shape) for x in tensors[:6]]})"))
    dtype = result_type(*tensors) if len(tensors) > 1 else ref.dtype
    return _out(Cat.apply(*tensors, dim=d, skip=skip, np_dtype=dtype.np), out)


@public(method=False)
def concatenate(tensors, axis=0, *, out=None):
    return cat(tensors, axis, out=out)


class Stack(Function):
    """Stacking along a new ``dim`` in the promoted dtype."""
    _raw = True
    op_name = "stack"

    @staticmethod
    def forward(ctx, *xs, dim, np_dtype):
        xp = ctx.xp
        ctx.dim, ctx.dtypes = dim, [x.dtype for x in xs]
        return xp.concatenate([xp.expand_dims(x, dim) for x in xs], axis=dim, dtype=np_dtype,
                              casting="unsafe")

    @staticmethod
    def backward(ctx, grad):
        return _grads_in_input_dtypes(unbind(grad, ctx.dim), ctx.dtypes)


@public(method=False)
def stack(tensors, dim=0, *, out=None):
    tensors = _tensor_list("stack", tensors)
    if not tensors:
        raise mark(RuntimeError("stack(): expects a non-empty TensorList"))
    shape = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != shape:
            raise mark(RuntimeError(f"stack(): stack expects each tensor to be equal size, but "
                                    f"got {list(shape)} at entry 0 and {list(t._data.shape)} at "
                                    f"entry {i}"))
    d = normalize_dim("stack", dim, len(shape) + 1)
    dtype = result_type(*tensors) if len(tensors) > 1 else tensors[0].dtype
    return _out(Stack.apply(*tensors, dim=d, np_dtype=dtype.np), out)


def _stack_list(op, tensors):
    """The tensors of an hstack-like op, which (unlike cat) refuse an empty list with a
    RuntimeError, as in PyTorch."""
    tensors = _tensor_list(op, tensors)
    if not tensors:
        raise mark(RuntimeError(f"{op}(): expects a non-empty TensorList"))
    return tensors


@public(method=False)
def hstack(tensors, *, out=None):
    tensors = atleast_1d(_stack_list("hstack", tensors))
    return cat(tensors, 0 if tensors[0]._data.ndim == 1 else 1, out=out)


@public(method=False, aliases=("row_stack",))
def vstack(tensors, *, out=None):
    return cat(atleast_2d(_stack_list("vstack", tensors)), 0, out=out)


@public(method=False)
def dstack(tensors, *, out=None):
    return cat(atleast_3d(_stack_list("dstack", tensors)), 2, out=out)


@public(method=False)
def column_stack(tensors, *, out=None):
    tensors = _stack_list("column_stack", tensors)
    cols = tuple(reshape(t, (t._data.size, 1)) if t._data.ndim <= 1 else t for t in tensors)
    return hstack(cols, out=out)


# ---- splitting ------------------------------------------------------------------------------

class SplitView(Function):
    """Several views of ``x`` along ``dim``, one per ``(start, stop)`` in ``bounds``."""
    _raw = True
    _view = True
    op_name = "split"

    @staticmethod
    def forward(ctx, x, dim, bounds):
        ctx.dim, ctx.bounds, ctx.in_shape = dim, bounds, x.shape
        lead = (_ALL,) * dim
        return tuple(x[lead + (slice(a, b), Ellipsis)] for a, b in bounds)

    @staticmethod
    def backward(ctx, *grads):
        dim, bounds = ctx.dim, ctx.bounds
        tiles = all(bounds[i][1] == bounds[i + 1][0] for i in range(len(bounds) - 1)) and \
            bounds[0][0] == 0 and bounds[-1][1] == ctx.in_shape[dim]
        if tiles:  # the pieces cover the input in order: their gradients concatenate
            return cat(list(grads), dim), None, None
        total = None
        for g, (a, b) in zip(grads, bounds):
            region = _slice_region(dim, slice(a, b))
            total = Put.apply(total, g, region, ctx.in_shape if total is None else None,
                              total is not None, False)
        return total, None, None


def _split_bounds(sizes):
    bounds, start = [], 0
    for n in sizes:
        bounds.append((start, start + n))
        start += n
    return tuple(bounds)


def _split_views(input, dim, bounds):
    if len(bounds) == 1 and bounds[0] == (0, input._data.shape[dim]):
        return (View.apply(input, input._data.shape),)
    return SplitView.apply(input, dim, bounds)


def _dim_size(op, input, dim):
    if input._data.ndim == 0:
        raise mark(RuntimeError(f"{op}: expected a tensor with at least one dimension, got a "
                                f"0-dim tensor"))
    d = normalize_dim(op, dim, input._data.ndim)
    return d, input._data.shape[d]


@public
def split(tensor, split_size_or_sections, dim=0):
    d, n = _dim_size("split", tensor, dim)
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [operator.index(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or builtins.sum(sizes) != n:
            raise mark(RuntimeError(f"split_with_sizes: expects split_sizes to sum exactly to "
                                    f"{n} (input tensor's size at dimension {d}), but got "
                                    f"split_sizes={sizes}"))
        return _split_views(tensor, d, _split_bounds(sizes))
    size = operator.index(split_size_or_sections)
    if size < 0:
        raise mark(RuntimeError(f"split: split expects split_size be non-negative, but got "
                                f"split_size={size}"))
    if size == 0:
        if n:
            raise mark(RuntimeError(f"split: split_size can only be 0 if dimension size is 0, "
                                    f"but got dimension size of {n}"))
        return _split_views(tensor, d, ((0, 0),))
    count = max(1, -(-n // size))
    return _split_views(tensor, d, _split_bounds([size] * (count - 1) +
                                                 [n - size * (count - 1)]))


@public
def split_with_sizes(input, split_sizes, dim=0):
    return split(input, list(split_sizes), dim)


@public
def tensor_split(input, indices_or_sections, dim=0):
    d, n = _dim_size("tensor_split", input, dim)
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg._data.dtype != np.int64:
            raise mark(RuntimeError(f"tensor_split expected tensor_indices_or_sections to have "
                                    f"dtype of long, but got {arg.dtype.name}"))
        if arg._data.ndim > 1:
            raise mark(RuntimeError(f"tensor_split expected tensor_indices_or_sections to be a "
                                    f"zero-dimensional or one-dimensional tensor, but got a "
                                    f"tensor with {arg._data.ndim} dims"))
        arg = arg.item() if arg._data.ndim == 0 else arg.tolist()
    if isinstance(arg, (list, tuple)):
        cuts = [0] + [operator.index(i) for i in arg] + [n]
        bounds = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            start, stop, _ = slice(a, b).indices(n)
            bounds.append((start, max(start, stop)))
        return SplitView.apply(input, d, tuple(bounds))
    sections = operator.index(arg)
    if sections <= 0:
        raise mark(RuntimeError(f"tensor_split: number of sections must be larger than 0, got "
                                f"{sections}"))
    small, extra = divmod(n, sections)
    return SplitView.apply(input, d, _split_bounds([small + 1] * extra +
                                                    [small] * (sections - extra)))


def _directional_split(op, input, arg, dim, min_ndim):
    ndim = input._data.ndim
    if ndim < min_ndim:
        raise mark(RuntimeError(f"{op}: torch.{op} requires a tensor with at least {min_ndim} "
                                f"dimension, but got a tensor with {ndim} dimensions!"))
    if not isinstance(arg, (list, tuple, Tensor)):
        n = input._data.shape[dim]
        if arg == 0 or n % arg:
            raise mark(RuntimeError(f"{op}: torch.{op} attempted to split along dimension {dim}, "
                                    f"but the size of the dimension {n} is not divisible by the "
                                    f"split_size {arg}!"))
    return tensor_split(input, arg, dim)


@public
def hsplit(input, indices_or_sections):
    dim = 0 if input._data.ndim == 1 else 1
    return _directional_split("hsplit", input, indices_or_sections, dim, 1)


@public
def vsplit(input, indices_or_sections):
    return _directional_split("vsplit", input, indices_or_sections, 0, 2)


@public
def dsplit(input, indices_or_sections):
    return _directional_split("dsplit", input, indices_or_sections, 2, 3)


@public
def chunk(input, chunks, dim=0):
    chunks = operator.index(chunks)
    if chunks <= 0:
        raise mark(RuntimeError(f"chunk: chunk expects `chunks` to be greater than 0, got: "
                                f"{chunks}"))
    d, n = _dim_size("chunk", input, dim)
    if n == 0:
        return SplitView.apply(input, d, ((0, 0),) * chunks)
    return split(input, -(-n // chunks), d)


class Unbind(Function):
    _raw = True
    _view = True
    op_name = "unbind"

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (_ALL,) * dim
        return tuple(x[lead + (i, Ellipsis)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(list(grads), ctx.dim), None


@public
def unbind(input, dim=0):
    if input._data.ndim == 0:
        raise mark(IndexError("unbind: Dimension specified as 0 but tensor has no dimensions"))
    return Unbind.apply(input, normalize_dim("unbind", dim, input._data.ndim))


# ---- reordering -----------------------------------------------------------------------------

class Flip(Function):
    _raw = True
    op_name = "flip"

    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return ctx.xp.flip(x, axes).copy()

    @staticmethod
    def backward(ctx, grad):
        return Flip.apply(grad, ctx.axes), None


@public
def flip(input, *dims_args, dims=None):
    dims = _dims_arg(dims_args) if dims is None else tuple(dims)
    axes = normalize_dims("flip", dims, input._data.ndim) if dims else ()
    if not axes:
        return clone(input)
    return Flip.apply(input, axes)


@public
def fliplr(input):
    if input._data.ndim < 2:
        raise mark(RuntimeError(f"fliplr: Input must be >= 2-d (got shape "
                                f"{list(input.shape)})."))
    return Flip.apply(input, (1,))


@public
def flipud(input):
    if input._data.ndim < 1:
        raise mark(RuntimeError("flipud: Input must be >= 1-d (got a 0-d tensor)."))
    return Flip.apply(input, (0,))


class Roll(Function):
    _raw = True
    op_name = "roll"

    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return ctx.xp.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, grad):
        shifts = ctx.shifts
        back = -shifts if type(shifts) is int else tuple(-s for s in shifts)
        return Roll.apply(grad, back, ctx.axes), None, None


@public
def roll(input, shifts, dims=None):
    shifts = (shifts,) if not isinstance(shifts, (tuple, list)) else tuple(shifts)
    if not shifts:
        raise mark(RuntimeError("roll: `shifts` required"))
    shifts = tuple(operator.index(s) for s in shifts)
    if dims is None or dims == () or dims == []:
        if len(shifts) != 1:
            raise mark(RuntimeError(f"roll: shifts and dimensions must align. shifts: "
                                    f"{len(shifts)}, dims:0"))
        return Roll.apply(input, shifts[0], None)  # NumPy rolls the flattened array
    dims = (dims,) if not isinstance(dims, (tuple, list)) else tuple(dims)
    if len(dims) != len(shifts):
        raise mark(RuntimeError(f"roll: shifts and dimensions must align. shifts: "
                                f"{len(shifts)}, dims:{len(dims)}"))
    if input._data.ndim == 0:
        raise mark(IndexError(f"roll: Dimension specified as {dims[0]} but tensor has no "
                              f"dimensions; roll a 0-d tensor without dims"))
    axes = tuple(normalize_dim("roll", d, input._data.ndim) for d in dims)
    return Roll.apply(input, shifts, axes)


@public
def rot90(input, k=1, dims=(0, 1)):
    dims = tuple(dims)
    ndim = input._data.ndim
    if len(dims) != 2:
        raise mark(RuntimeError(f"rot90: expected total rotation dims == 2, but got dims = "
                                f"{len(dims)}"))
    if ndim < 2:
        raise mark(RuntimeError(f"rot90: expected total dims >= 2, but got total dims = "
                                f"{ndim}"))
    d0, d1 = (normalize_dim("rot90", d, ndim) for d in dims)
    if d0 == d1:
        raise mark(RuntimeError(f"rot90: expected rotation dims to be different, but got dim0 "
                                f"= {dims[0]} and dim1 = {dims[1]}"))
    k %= 4
    if k == 1:
        return transpose(Flip.apply(input, (d1,)), d0, d1)
    if k == 2:
        return Flip.apply(input, (d0, d1))
    if k == 3:
        return transpose(Flip.apply(input, (d0,)), d0, d1)
    return clone(input)


# ---- repeating ------------------------------------------------------------------------------

class Repeat(Function):
    _raw = True
    op_name = "repeat"

    @staticmethod
    def forward(ctx, x, reps):
        shape = (1,) * (len(reps) - x.ndim) + x.shape
        ctx.in_shape, ctx.shape, ctx.reps = x.shape, shape, reps
        return ctx.xp.tile(x.reshape(shape), reps)

    @staticmethod
    def backward(ctx, grad):
        split = []
        for r, n in zip(ctx.reps, ctx.shape):
            split += [r, n]
        summed = grad.reshape(split).sum(tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.in_shape), None


@public_method("repeat")
def repeat(self, *repeats):
    if not repeats:
        raise mark(TypeError('repeat() missing 1 required positional arguments: "repeats"'))
    reps = as_shape("repeat", repeats)
    if len(reps) < self._data.ndim:
        raise mark(RuntimeError(f"repeat: Number of dimensions of repeat dims ({len(reps)}) can "
                                f"not be smaller than number of dimensions of tensor "
                                f"({self._data.ndim})"))
    if any(r < 0 for r in reps):
        raise mark(RuntimeError(f"repeat: Trying to create tensor with negative dimension "
                                f"(repeats {list(reps)})"))
    return Repeat.apply(self, reps)


@public
def tile(input, dims):
    dims = as_shape("tile", (dims,))
    dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


@public
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    xp = input._xp()
    if repeats is None:  # repeat_interleave(repeats): each index repeated by its count
        return _new_tensor(_repeat_index(xp, _repeat_counts(xp, input, None)))
    if dim is None:
        input, d = reshape(input, (-1,)), 0
    else:
        d = normalize_dim("repeat_interleave", dim, input._data.ndim)
    if input._data.ndim == 0:
        input = reshape(input, (1,))
    index = _repeat_index(xp, _repeat_counts(xp, repeats, input._data.shape[d]))
    if output_size is not None and output_size != index.size:
        raise mark(RuntimeError(f"repeat_interleave: Invalid output_size, expected "
                                f"{index.size} but got {output_size}"))
    return take_region(input, _dim_region(input, d, index))


def _repeat_counts(xp, repeats, n):
    """``repeats`` (an int, or a 0-d / 1-d integer tensor) as an array of ``n`` counts (as
    many as given when ``n`` is None)."""
    if isinstance(repeats, Tensor):
        arr = repeats._data
        if arr.dtype.kind not in "iu":
            raise mark(RuntimeError(f"repeat_interleave: repeats must be an integer tensor, "
                                    f"got {repeats.dtype.name}"))
        if arr.ndim > 1:
            raise mark(RuntimeError(f"repeat_interleave: repeats must be 0-dim or 1-dim tensor "
                                    f"(got shape {list(arr.shape)})"))
        if arr.ndim == 1 and n is not None and arr.size not in (1, n):
            raise mark(RuntimeError(f"repeat_interleave: repeats must have the same size as "
                                    f"input along dim, but got repeats.size(0) = {arr.size} and "
                                    f"input.size(0) = {n}"))
        counts = xp.asarray(arr).reshape(-1).astype(np.int64)
    else:
        counts = xp.asarray([operator.index(repeats)], dtype=np.int64)
    if counts.size and int(counts.min()) < 0:
        raise mark(RuntimeError("repeat_interleave: Repeats must be non-negative"))
    if n is not None and counts.size == 1:
        counts = xp.broadcast_to(counts, (n,))
    return counts


def _repeat_index(xp, counts):
    """``[0] * counts[0] + [1] * counts[1] + ...`` as an array."""
    if xp is np:
        return np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    ends = xp.cumsum(counts)  # CuPy's repeat takes no array of counts
    total = int(ends[-1]) if counts.size else 0
    return xp.searchsorted(ends, xp.arange(total), side="right")


@public(method=False)
def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise mark(ValueError(f"meshgrid: indexing must be one of 'xy' or 'ij', but got "
                              f"{indexing!r}"))
    for t in tensors:
        if t._data.ndim > 1:
            raise mark(RuntimeError(f"meshgrid: Expected 0D or 1D tensor in the tensor list but "
                                    f"got a tensor of shape {list(t.shape)}"))
        if t.dtype is not tensors[0].dtype:
            raise mark(RuntimeError(f"meshgrid expects all tensors to have the same dtype (got "
                                    f"{tensors[0].dtype.name} and {t.dtype.name})"))
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        axes[0], axes[1] = 1, 0
    shape = [1] * len(tensors)
    for t, a in zip(tensors, axes):
        shape[a] = t._data.size
    out = []
    for t, a in zip(tensors, axes):
        one = [1] * len(tensors)
        one[a] = t._data.size
        out.append(expand(reshape(t, one), shape))
    return tuple(out)


# ---- strided views --------------------------------------------------------------------------

def _root(t):
    return t._base if t._base is not None else t


def _ptr(arr):
    return arr.__array_interface__["data"][0] if type(arr) is np.ndarray else arr.data.ptr


def _positions(xp, shape, strides, offset):
    """The storage position ``offset + sum(i_k * strides[k])`` of every element."""
    pos = xp.full(shape, offset, dtype=np.int64)
    for k, (n, s) in enumerate(zip(shape, strides)):
        axis = [1] * len(shape)
        axis[k] = n
        pos = pos + (xp.arange(n, dtype=np.int64) * s).reshape(axis)
    return pos


class AsStrided(Function):
    """A view of the storage (the root array ``storage``) with element ``size``, ``stride``
    and ``offset``. Its gradient is gathered through storage positions, so overlapping views
    accumulate."""
    _raw = True
    _view = True
    op_name = "as_strided"

    @staticmethod
    def forward(ctx, x, storage, size, stride, offset):
        item = x.itemsize
        xp = ctx.xp
        flat = storage.reshape(-1, order="A")
        ctx.in_shape, ctx.storage_size = x.shape, flat.size
        ctx.out_pos = _positions(xp, size, stride, offset)
        x_offset = (_ptr(x) - _ptr(flat)) // item
        ctx.in_pos = _positions(xp, x.shape, tuple(s // item for s in x.strides), x_offset)
        return _as_strided(flat[offset:], size, tuple(s * item for s in stride))

    @staticmethod
    def backward(ctx, grad):
        storage = Put.apply(None, grad.reshape(-1),
                            IndexRegion(None, (ctx.out_pos.reshape(-1),), False),
                            (ctx.storage_size,), True, False)
        return take_region(storage, IndexRegion(None, (ctx.in_pos,))), None, None, None, None


@public
def as_strided(input, size, stride, storage_offset=None):
    size, stride = as_shape("as_strided", (size,)), as_shape("as_strided", (stride,))
    if len(size) != len(stride):
        raise mark(RuntimeError(f"as_strided: mismatch in length of strides and shape (size "
                                f"{list(size)}, stride {list(stride)})"))
    if any(s < 0 for s in stride) or any(n < 0 for n in size):
        raise mark(RuntimeError(f"as_strided: Negative strides and sizes are not supported "
                                f"(size {list(size)}, stride {list(stride)})"))
    root = _root(input)._data
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        raise mark(RuntimeError("as_strided: the tensor's storage is not contiguous; call "
                                ".contiguous() on the base tensor first"))
    item = root.itemsize
    if storage_offset is None:
        storage_offset = (_ptr(input._data) - _ptr(root)) // item
    needed = storage_offset + (1 + builtins.sum((n - 1) * s for n, s in zip(size, stride))
                               if all(size) else 0)
    if needed > root.size or storage_offset < 0:
        raise mark(RuntimeError(
            f"as_strided: setStorage: sizes {list(size)}, strides {list(stride)}, storage "
            f"offset {storage_offset}, and itemsize {item} requiring a storage size of "
            f"{needed * item} are out of bounds for storage of size {root.size * item}"))
    return AsStrided.apply(input, root, size, stride, storage_offset)


class UnfoldRegion:
    """The windows of ``size`` elements, ``step`` apart, along ``dim`` (a view, windows in a
    new last dim)."""
    __slots__ = ("dim", "size", "step")
    is_view = True

    def __init__(self, dim, size, step):
        self.dim, self.size, self.step = dim, size, step

    @property
    def unique(self):
        return self.step >= self.size

    def of(self, arr):
        d, strides = self.dim, arr.strides
        count = (arr.shape[d] - self.size) // self.step + 1
        shape = arr.shape[:d] + (count,) + arr.shape[d + 1:] + (self.size,)
        return _as_strided(arr, shape, strides[:d] + (strides[d] * self.step,) +
                           strides[d + 1:] + (strides[d],))

    def write(self, xp, arr, values, accumulate):
        if self.unique:
            v = self.of(arr)
            if accumulate:
                xp.add(v, values, out=v)
            else:
                v[...] = values
            return
        # Overlapping windows: one strided slice per position within the window.
        d = self.dim
        count = (arr.shape[d] - self.size) // self.step + 1
        for k in range(self.size):
            target = arr[(_ALL,) * d + (slice(k, k + self.step * (count - 1) + 1, self.step),)]
            if accumulate:
                xp.add(target, values[..., k], out=target)
            else:
                target[...] = values[..., k]

    def shape_of(self, arr):
        return self.of(arr).shape

    def __repr__(self):
        return f"UnfoldRegion({self.dim}, {self.size}, {self.step})"


@public_method("unfold")
def unfold(self, dimension, size, step):
    ndim = self._data.ndim
    d = normalize_dim("unfold", dimension, ndim)
    n = self._data.shape[d] if ndim else 1
    if size > n:
        raise mark(RuntimeError(f"unfold: maximum size for tensor at dimension {d} is {n} but "
                                f"size is {size}"))
    if size < 0:
        raise mark(RuntimeError(f"unfold: size is {size} but must be >= 0"))
    if step <= 0:
        raise mark(RuntimeError(f"unfold: step is {step} but must be > 0"))
    if ndim == 0:  # PyTorch: a 0-d tensor unfolds to at most one element
        return TakeView.apply(View.apply(self, (1,)), IndexRegion((slice(0, size), Ellipsis)))
    return TakeView.apply(self, UnfoldRegion(d, size, step))


class ViewAsReal(Function):
    _raw = True
    _view = True
    op_name = "view_as_real"

    @staticmethod
    def forward(ctx, x):
        r = x.real  # a view of the real parts; the imaginary parts follow at half an element
        return _as_strided(r, x.shape + (2,), x.strides + (r.itemsize,))

    @staticmethod
    def backward(ctx, grad):
        return ViewAsComplex.apply(grad.contiguous())


class ViewAsComplex(Function):
    _raw = True
    _view = True
    op_name = "view_as_complex"

    @staticmethod
    def forward(ctx, x):
        return x.view(np.complex64 if x.dtype == np.float32 else np.complex128)[..., 0]

    @staticmethod
    def backward(ctx, grad):
        return ViewAsReal.apply(grad)


@public(method=False)
def view_as_real(input):
    if not input.dtype.is_complex:
        raise mark(RuntimeError(f"view_as_real is only supported for complex tensors (got "
                                f"{input.dtype.name})"))
    return ViewAsReal.apply(input)


@public(method=False)
def view_as_complex(input):
    arr = input._data
    if arr.dtype not in (np.float32, np.float64):
        raise mark(RuntimeError(f"view_as_complex is only supported for float and double "
                                f"tensors, but got a tensor of scalar type: {input.dtype.name}"))
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise mark(RuntimeError(f"view_as_complex: Tensor must have a last dimension of size 2 "
                                f"(got shape {list(arr.shape)})"))
    if arr.strides[-1] != arr.itemsize:
        raise mark(RuntimeError("view_as_complex: Tensor must have a last dimension with "
                                "stride 1"))
    if any(s % (2 * arr.itemsize) for s in arr.strides[:-1]):
        raise mark(RuntimeError("view_as_complex: Tensor must have a stride divisible by 2 for "
                                "all but last dimension"))
    return ViewAsComplex.apply(input)


# ---- resizing -------------------------------------------------------------------------------

@public_method("resize_")
def resize_(self, *sizes, memory_format=None):
    if self._rg and GradMode.enabled:
        raise mark(RuntimeError("resize_: cannot resize variables that require grad"))
    shape = as_shape("resize_", sizes)
    if any(n < 0 for n in shape):
        raise mark(RuntimeError(f"resize_: Trying to create tensor with negative dimension "
                                f"{min(shape)}: {list(shape)}"))
    arr = self._data
    n = math.prod(shape)
    if n == arr.size and arr.flags.c_contiguous:
        self._data = arr.reshape(shape)
    else:
        new = self._xp().zeros(shape, dtype=arr.dtype)
        keep = min(n, arr.size)
        new.reshape(-1)[:keep] = arr.reshape(-1)[:keep]
        self._data = new
    self._bump()
    return self


@public_method("resize_as_")
def resize_as_(self, the_template, memory_format=None):
    return resize_(self, the_template.shape)


# ---- padding --------------------------------------------------------------------------------

class ConstantPad(Function):
    """``x`` with ``pads[d] = (before, after)`` elements of ``value`` added around each dim;
    negative amounts crop. Its gradient is the opposite padding of the gradient."""
    _raw = True
    op_name = "constant_pad_nd"

    @staticmethod
    def forward(ctx, x, pads, value):
        ctx.pads = pads
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, pads))
        out = ctx.xp.full(shape, value, dtype=x.dtype)
        src = x[tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(x.shape, pads))]
        dst = tuple(slice(max(a, 0), max(a, 0) + m) for (a, _), m in zip(pads, src.shape))
        out[dst] = src
        return out

    @staticmethod
    def backward(ctx, grad):
        return ConstantPad.apply(grad, tuple((-a, -b) for a, b in ctx.pads), 0), None, None


def _pad_pairs(op, input, pad):
    """PyTorch's pad list (last dim first: left, right, top, bottom, ...) as one
    ``(before, after)`` pair per dim of ``input``."""
    pad = [operator.index(p) for p in pad]
    ndim = input._data.ndim
    if len(pad) % 2:
        raise mark(RuntimeError(f"{op}: Padding length must be divisible by 2 (got {pad})"))
    if len(pad) // 2 > ndim:
        raise mark(RuntimeError(f"{op}: Padding length should be less than or equal to two "
                                f"times the input dimension but got padding length {len(pad)} "
                                f"and input of dimension {ndim}"))
    pairs = [(0, 0)] * ndim
    for i in range(len(pad) // 2):
        pairs[ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    for d, (n, (a, b)) in enumerate(zip(input._data.shape, pairs)):
        if n + a + b < 0:
            raise mark(RuntimeError(f"{op}: padding {(a, b)} of dimension {d} (size {n}) gives "
                                    f"a negative size {n + a + b}; input shape "
                                    f"{list(input.shape)}"))
    return tuple(pairs)


@public
def constant_pad_nd(input, pad, value=0):
    return ConstantPad.apply(input, _pad_pairs("constant_pad_nd", input, pad), value)


def _source_index(mode, n, before, after):
    """For each position along a padded dim, the input index it copies (``mode`` reflect,
    replicate or circular)."""
    if mode == "circular":  # crop first, then wrap around what is left
        lo, hi = max(-before, 0), n - max(-after, 0)
        m = hi - lo
        if max(before, 0) > m or max(after, 0) > m:
            raise mark(RuntimeError(f"pad: Padding value causes wrapping around more than "
                                    f"once (padding {(before, after)}, size {n})."))
        return lo + np.arange(-max(before, 0), m + max(after, 0)) % m
    o = np.arange(-before, n + after)
    if mode == "replicate":
        return np.clip(o, 0, n - 1)
    o = np.abs(o)  # reflect
    return np.where(o > n - 1, 2 * (n - 1) - o, o)


def _check_nonconstant(mode, input, npad):
    ndim = input._data.ndim
    if npad not in (1, 2, 3) or ndim not in (npad + 1, npad + 2):
        raise mark(NotImplementedError(
            f"pad: Padding size {2 * npad} is not supported for {ndim}D input tensor (mode "
            f"{mode!r}). Supported combinations for non-constant padding: 2D or 3D input with "
            f"padding size 2, 3D or 4D input with size 4, 4D or 5D input with size 6."))
    shape = input._data.shape
    if mode == "reflect" and any(n == 0 for n in shape[ndim - npad - 1 + (ndim == npad + 1):]):
        raise mark(RuntimeError(f"pad: Expected {npad + 1}D or {npad + 2}D (batch mode) tensor "
                                f"with possibly 0 batch size and other non-zero dimensions for "
                                f"input, but got: {list(shape)}"))


@public(method=False)
def pad(input, pad, mode="constant", value=None):
    if mode == "constant":
        return constant_pad_nd(input, pad, 0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise mark(NotImplementedError(f"pad: Unrecognised padding mode {mode} (use "
                                       f"'constant', 'reflect', 'replicate' or 'circular')"))
    if value is not None and value != 0:
        raise mark(RuntimeError(f'pad: Padding mode "{mode}" doesn\'t take in value argument'))
    pairs = _pad_pairs("pad", input, pad)
    npad = len(pad) // 2
    _check_nonconstant(mode, input, npad)
    out = input
    xp = input._xp()
    for d in range(input._data.ndim - npad, input._data.ndim):
        before, after = pairs[d]
        if before == after == 0:
            continue
        n = input._data.shape[d]
        if mode == "reflect" and (before >= n or after >= n):
            raise mark(RuntimeError(
                f"pad: Argument #4: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({before}, {after}) at dimension {d} of input "
                f"{list(input.shape)}"))
        index = xp.asarray(_source_index(mode, n, before, after))
        out = take_region(out, _dim_region(out, d, index))
    return out


# ---- in-place view ops: change the tensor's shape/strides, keep its memory -------------------

def _inplace_view(name, view_op):
    def method(self, *args, **kwargs):
        from ..autograd.inplace import check_inplace_allowed
        check_inplace_allowed(self, name)
        view = view_op(self, *args, **kwargs)
        self._data = view._data
        if view._rg:
            self.grad_fn, self._output_nr, self._rg = view.grad_fn, view._output_nr, True
        return self
    method.__name__ = name
    method.__doc__ = f"In-place version of :meth:`Tensor.{view_op.__name__}` (a view of itself)."
    return method


for _name, _op in (("squeeze_", squeeze), ("unsqueeze_", unsqueeze), ("t_", t),
                   ("transpose_", transpose), ("swapaxes_", transpose), ("swapdims_", transpose),
                   ("as_strided_", as_strided)):
    public_method(_name)(_inplace_view(_name, _op))

