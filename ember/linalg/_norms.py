"""Norms and products of vectors: vector_norm, matrix_norm, norm, cond, vecdot, cross, and
torch.cdist (pairwise distances)."""
import math
import numbers
import warnings

import numpy as np

from .. import _dtype
from .._errors import mark, describe
from .._tensor import Tensor, _new_tensor
from ..autograd.function import Function
from ..ops._broadcast import sum_to
from ..ops._dims import normalize_dims, normalize_dim
from ..ops import reduce
from ..ops._registry import public
from ._common import top_level, check_float, check_matrix, check_same_dtype, conj
from ._decomp import svdvals
from ._solve import inv_ex, _finish


# ---- vector norms -------------------------------------------------------------------------------

class VectorNorm(reduce.VectorNorm):
    """``ember.norm``'s Function (PyTorch uses one kernel for both), except that ord 0 gives
    a zero gradient rather than none: cdist and nn.functional.pdist rely on that (PyTorch's
    have their own backward)."""
    op_name = "linalg.vector_norm"

    @staticmethod
    def backward(ctx, grad):
        if ctx.ord == 0:
            x = ctx.saved_tensors[0]
            return _new_tensor(x._xp().zeros(x.shape, x._data.dtype)), None, None, None
        return reduce.VectorNorm.backward(ctx, grad)


def _const(xp, values, dtype):
    """A constant tensor (a mask or weights) of ``dtype``, also for 0-d results."""
    return _new_tensor(xp.asarray(values, dtype=dtype))


def _check_ord_number(op, ord):
    if not isinstance(ord, numbers.Real) or isinstance(ord, bool):
        raise mark(TypeError(f"{op}: argument 'ord' must be a real number, not "
                             f"{type(ord).__name__} ({ord!r})"))


def _norm_dtype(op, x, dtype):
    """The input cast to ``dtype`` (a real dtype of at least the input's width, complex for
    complex inputs), as PyTorch's ``dtype=`` argument of the norms."""
    if dtype is None:
        return x
    d = _dtype.as_dtype(dtype)
    if x.is_complex() and not d.is_complex:
        raise mark(RuntimeError(f"{op}: dtype should be complex for complex inputs, but got "
                                f"{d.name}"))
    if d.itemsize < x.dtype.itemsize and d.is_complex == x.is_complex():
        raise mark(RuntimeError(f"{op}: the dtype of the input ({x.dtype.name}) should be "
                                f"convertible without narrowing to the specified dtype "
                                f"({d.name})"))
    return x.to(d)


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    op = "linalg.vector_norm"
    check_float(op, x, "x", low_precision=True)
    _check_ord_number(op, ord)
    x = _norm_dtype(op, x, dtype)
    ndim = x._data.ndim
    if isinstance(dim, (tuple, list)) and not dim:
        dim = None
    axes = normalize_dims(op, dim, ndim)
    if (ord < 0 or ord == math.inf) and any(x._data.shape[a] == 0 for a in axes):
        raise mark(RuntimeError(f"{op} cannot compute the {ord} norm on an empty tensor because "
                                f"the operation does not have an identity (shape "
                                f"{list(x.shape)}, dim {dim})"))
    return _finish(VectorNorm.apply(x, float(ord), axes, bool(keepdim)), out)


# ---- matrix norms -------------------------------------------------------------------------------

_MATRIX_ORDS = ("fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf)


def _matrix_dims(op, A, dim):
    if not isinstance(dim, (tuple, list)) or len(dim) != 2:
        raise mark(RuntimeError(f"{op}: dim must be a 2-tuple. Got {dim}"))
    d0, d1 = (normalize_dim(op, d, A._data.ndim) for d in dim)
    if d0 == d1:
        raise mark(RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})"))
    return d0, d1


def _empty_norm(A, d0, d1, keepdim):
    """The norm of empty matrices: 0, of the reduced shape (a sum over nothing, so that it is
    part of A's graph as in PyTorch)."""
    return A.abs().sum((d0, d1), keepdim=keepdim)


def _restore_dims(r, d0, d1, keepdim):
    """``r`` reduced over dims d0, d1 to the last two positions: back with keepdim."""
    if keepdim:
        for d in sorted((d0, d1)):
            r = r.unsqueeze(d)
    return r


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    op = "linalg.matrix_norm"
    check_matrix(op, A)
    if ord not in _MATRIX_ORDS:
        raise mark(RuntimeError(f"{op}: Order {ord} not supported; use one of 'fro', 'nuc', "
                                f"2, -2, 1, -1, inf, -inf"))
    d0, d1 = _matrix_dims(op, A, dim)
    A = _norm_dtype(op, A, dtype)
    if ord == "fro":
        return _finish(VectorNorm.apply(A, 2.0, tuple(sorted((d0, d1))), bool(keepdim)), out)
    if (A.shape[d0] == 0 or A.shape[d1] == 0) and (ord in ("fro", "nuc") or ord > 0):
        # 0 for empty matrices; the minimum-based orders fail where their minimum is over
        # nothing, as in PyTorch
        return _finish(_empty_norm(A, d0, d1, keepdim), out)
    if ord in ("nuc", 2, -2):
        rest = [d for d in range(A._data.ndim) if d not in (d0, d1)]
        S = svdvals(A.permute(*rest, d0, d1))
        if ord == "nuc":
            r = S.sum(-1)
        else:
            r = S.amax(-1) if ord == 2 else S.amin(-1)
        return _finish(_restore_dims(r, d0, d1, keepdim), out)
    # 1 / -1: extreme column sum; inf / -inf: extreme row sum.
    sum_dim, pick_dim = (d0, d1) if abs(ord) == 1 else (d1, d0)
    sums = A.abs().sum(sum_dim, keepdim=True)
    r = sums.amax(pick_dim, keepdim=True) if ord > 0 else sums.amin(pick_dim, keepdim=True)
    return _finish(r if keepdim else r.squeeze((d0, d1)), out)


def norm(A, ord=None, dim=None, keepdim=False, *, out=None, dtype=None):
    op = "linalg.norm"
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None and len(dim) not in (1, 2):
        raise mark(RuntimeError(f"{op}: If dim is specified, it must be of length 1 or 2. Got "
                                f"{list(dim)}"))
    if dim is None and ord is not None:
        check_float(op, A)
        if A._data.ndim not in (1, 2):
            raise mark(RuntimeError(f"{op}: If dim is not specified but ord is, the input must "
                                    f"be 1D or 2D. Got {A._data.ndim}D."))
        dim = tuple(range(A._data.ndim))
    if dim is not None and len(dim) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype, out=out)
    if isinstance(ord, str):
        raise mark(RuntimeError(f"{op}: ord={ord!r} is a matrix norm; a vector norm needs a "
                                f"number (got dim={dim})"))
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


def cond(A, p=None, *, out=None):
    op = "linalg.cond"
    check_matrix(op, A)
    if p not in (None,) + _MATRIX_ORDS:
        raise mark(RuntimeError(f"{op} got an invalid norm type: {p}"))
    if p in (None, 2, -2):
        S = svdvals(A)
        big, small = S.amax(-1), S.amin(-1)
        return _finish(big / small if p != -2 else small / big, out)
    check_matrix(f"{op}(ord={p})", A, square=True)
    inverse, info = inv_ex(A)
    singular = info._data > 0
    if not singular.any():
        return _finish(matrix_norm(A, p) * matrix_norm(inverse, p), out)
    # PyTorch's convention: a singular matrix has cond inf (its NaN inverse is replaced by 0
    # first, so that the norm does not fail on it)
    from .. import where
    xp = A._xp()
    mask = _new_tensor(singular[..., None, None])
    inverse = where(mask, _new_tensor(xp.zeros((), dtype=A._data.dtype)), inverse)
    r = matrix_norm(A, p) * matrix_norm(inverse, p)
    inf = _new_tensor(xp.asarray(np.inf, dtype=r._data.dtype))
    return _finish(where(_new_tensor(singular), inf, r), out)


# ---- vecdot, cross -----------------------------------------------------------------------------

def vecdot(x, y, *, dim=-1, out=None):
    op = "linalg.vecdot"
    check_float(op, x, "x")
    check_float(op, y, "y")
    check_same_dtype(op, x, y, ("x", "y"))
    return _finish((conj(x) * y).sum(dim), out)


class Cross(Function):
    _raw = True
    op_name = "linalg.cross"

    @staticmethod
    def forward(ctx, x, y, dim):
        ctx.dim, ctx.shapes = dim, (x.shape, y.shape)
        ctx.save_for_backward(x, y)
        return ctx.xp.cross(x, y, axis=dim)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx, gy = ctx._edges[:2]
        sx, sy = ctx.shapes
        return (sum_to(Cross.apply(conj(y), grad, ctx.dim), sx) if gx else None,
                sum_to(Cross.apply(grad, conj(x), ctx.dim), sy) if gy else None, None)


def _cross(op, input, other, dim):
    for t in (input, other):
        if not isinstance(t, Tensor):
            raise mark(TypeError(f"{op}: expected Tensors, got {describe(input)} and "
                                 f"{describe(other)}"))
    if input._data.ndim != other._data.ndim:
        raise mark(RuntimeError(f"{op}: inputs must have the same number of dimensions (got "
                                f"{describe(input)} and {describe(other)})."))
    d = normalize_dim(op, dim, input._data.ndim)
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise mark(RuntimeError(f"{op}: inputs dimension {dim} must have length 3. Got "
                                f"{input.shape[d]} and {other.shape[d]}"))
    if input._data.dtype is not other._data.dtype:  # PyTorch does not promote here
        raise mark(RuntimeError(f"{op}: expected both inputs to have the same dtype, got "
                                f"{input.dtype.name} and {other.dtype.name}"))
    from ..ops._broadcast import broadcast_shape
    broadcast_shape(input.shape, other.shape)
    return Cross.apply(input, other, d)


def cross(input, other, *, dim=-1, out=None):
    return _finish(_cross("linalg.cross", input, other, dim), out)


@top_level("cross")
def _torch_cross(input, other, dim=None, *, out=None):
    """``torch.cross``: without ``dim``, the first dim of size 3 (deprecated in PyTorch)."""
    if dim is None:
        if not isinstance(input, Tensor) or 3 not in input.shape:
            raise mark(RuntimeError(f"cross: no dimension of size 3 in input "
                                    f"({describe(input)})"))
        warnings.warn("Using torch.cross without specifying the dim arg is deprecated. Please "
                      "either pass the dim explicitly or simply use torch.linalg.cross.",
                      UserWarning, stacklevel=2)
        dim = list(input.shape).index(3)
    return _finish(_cross("linalg.cross", input, other, dim), out)


# ---- cdist -------------------------------------------------------------------------------------

class EuclideanDist(Function):
    """Pairwise distances through |a|^2 + |b|^2 - 2 a.b: one matrix product, as PyTorch's
    ``use_mm_for_euclid_dist`` mode (faster, a little less exact near 0)."""
    _raw = True
    op_name = "cdist"

    @staticmethod
    def forward(ctx, x1, x2):
        xp = ctx.xp
        sq1 = (x1 * x1).sum(-1)[..., :, None]
        sq2 = (x2 * x2).sum(-1)[..., None, :]
        d = xp.sqrt(xp.maximum(sq1 + sq2 - 2 * (x1 @ x2.swapaxes(-1, -2)), 0))
        ctx.save_for_backward(x1, x2, d)
        return d

    @staticmethod
    def backward(ctx, grad):
        x1, x2, d = ctx.saved_tensors
        zero = _const(d._xp(), d._data == 0, d._data.dtype)
        ratio = grad / (d + zero) * (1 - zero)  # 0 where the distance is 0
        g1, g2 = ctx._edges[:2]
        return (sum_to(x1 * ratio.sum(-1, keepdim=True) - ratio @ x2, x1.shape) if g1 else None,
                sum_to(x2 * ratio.sum(-2).unsqueeze(-1) - ratio.mT @ x1, x2.shape)
                if g2 else None)


_CDIST_MODES = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                "donot_use_mm_for_euclid_dist")


@public(method=False)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """Distances between each row of x1 (..., P, M) and each row of x2 (..., R, M): (..., P, R),
    batch dims broadcast."""
    op = "cdist"
    for name, x in (("X1", x1), ("X2", x2)):
        if not isinstance(x, Tensor):
            raise mark(TypeError(f"{op}: expected Tensors, got {describe(x1)} and "
                                 f"{describe(x2)}"))
        if x._data.ndim < 2:
            raise mark(RuntimeError(f"{op} only supports at least 2D tensors, {name} got: "
                                    f"{x._data.ndim}D"))
        if not x.is_floating_point():
            raise mark(RuntimeError(f"{op} only supports floating-point dtypes, {name} got: "
                                    f"{x.dtype.name}"))
    if x1.shape[-1] != x2.shape[-1]:
        raise mark(RuntimeError(f"{op}: X1 and X2 must have the same number of columns. X1: "
                                f"{x1.shape[-1]} X2: {x2.shape[-1]}"))
    if x1._data.dtype is not x2._data.dtype:
        raise mark(RuntimeError(f"{op}: expected X1 and X2 to have the same dtype, got "
                                f"{x1.dtype.name} and {x2.dtype.name}"))
    if not p >= 0:
        raise mark(RuntimeError(f"{op} only supports non-negative p values, got p={p}"))
    if compute_mode not in _CDIST_MODES:
        raise mark(ValueError(f"{op}: {compute_mode} is not a valid value for compute_mode; use "
                              f"one of {', '.join(_CDIST_MODES)}"))
    from ..ops._broadcast import broadcast_shape
    try:
        broadcast_shape(x1.shape[:-2], x2.shape[:-2])
    except RuntimeError:
        raise mark(RuntimeError(f"{op}: the batch dims of {describe(x1)} and {describe(x2)} "
                                f"cannot be broadcast together")) from None
    use_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == _CDIST_MODES[0] and (x1.shape[-2] > 25 or x2.shape[-2] > 25)))
    if use_mm:
        return EuclideanDist.apply(x1, x2)
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return VectorNorm.apply(diff, float(p), (diff._data.ndim - 1,), False)
