"""What the ``ember.linalg`` modules share: argument checks with PyTorch's messages, the
LinAlgError messages of failed factorizations, named result tuples, triangle masks, and the
LU factorization (NumPy has none)."""
import numpy as np

from .. import _dtype, return_types
from .._errors import LinAlgError, mark, describe
from .._tensor import Tensor, _new_tensor
from ..ops._broadcast import broadcast_shape
from ..ops._promote import COMPLEX_NP, FLOAT_NP
from ..ops._registry import public

from ..ops._promote import HALF_NP as _LOW_PRECISION  # noqa: E402


# ---- argument checks --------------------------------------------------------------------------

def top_level(name):
    """Register a PyTorch top-level form (``torch.det``, ``Tensor.det``) written under another
    Python name, because ``ember.linalg`` has a function of the same name."""
    def deco(fn):
        fn.__name__ = fn.__qualname__ = name
        return public(name=name)(fn)
    return deco


def check_tensor(op, x, name="A"):
    if not isinstance(x, Tensor):
        raise mark(TypeError(f"{op}: expected a Tensor as {name}, got {describe(x)}"))


def check_float(op, x, name="A", low_precision=False):
    """Decompositions run in float32/64 or complex64/128, as PyTorch's LAPACK kernels do
    (norms also in float16/bfloat16: ``low_precision``)."""
    check_tensor(op, x, name)
    dt = x._data.dtype
    if dt in _LOW_PRECISION and not low_precision:
        raise mark(RuntimeError(f"{op}: Low precision dtypes not supported. Got "
                                f"{x.dtype.name}; convert {name} with .float() first"))
    if dt not in FLOAT_NP and dt not in COMPLEX_NP and dt not in _LOW_PRECISION:
        raise mark(RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                                f"Got {x.dtype.name}; convert {name} with .float() first"))


def check_matrix(op, x, name="A", square=False, floating=True):
    """``x`` is a (batch of) matrix: at least 2 dims, square if asked, of a LAPACK dtype."""
    if floating:
        check_float(op, x, name)
    else:
        check_tensor(op, x, name)
    shape = x._data.shape
    if len(shape) < 2:
        raise mark(RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions "
                                f"(got {describe(x)})"))
    if square and shape[-1] != shape[-2]:
        raise mark(RuntimeError(f"{op}: {name} must be batches of square matrices, but they are "
                                f"{shape[-2]} by {shape[-1]} matrices"))


def check_same_dtype(op, a, b, names=("A", "B")):
    if a._data.dtype is not b._data.dtype:
        raise mark(RuntimeError(f"{op}: Expected {names[0]} and {names[1]} to have the same "
                                f"dtype, but found {names[0]} of type {a.dtype.name} and "
                                f"{names[1]} of type {b.dtype.name} instead"))


def batch_shape(op, *tensors):
    """The broadcast batch shape (all dims but the last two) of a few matrices."""
    try:
        return broadcast_shape(*(t.shape[:-2] for t in tensors))
    except RuntimeError:
        described = ", ".join(describe(t) for t in tensors)
        raise mark(RuntimeError(f"{op}: the batch dims of {described} cannot be broadcast "
                                f"together")) from None


# ---- results ----------------------------------------------------------------------------------

def result_type(name, fields):
    """The named tuple type ``ember.return_types.<name>`` (as ``torch.return_types``)."""
    cls = return_types._structseq(name, fields)
    setattr(return_types, name, cls)
    return cls


# ---- LinAlgError messages ---------------------------------------------------------------------

def raise_for_info(op, info, message):
    """Raise ``LinAlgError`` for the first nonzero entry of ``info`` (one per batch element),
    with ``message`` formatted with ``k`` = that entry, prefixed by the batch element when the
    input is batched, as PyTorch does."""
    flat = np.asarray(info.get() if hasattr(info, "get") else info).reshape(-1)
    bad = np.flatnonzero(flat)
    if not bad.size:
        return
    index = int(bad[0])
    prefix = f"(Batch element {index}): " if np.ndim(info) else ""
    raise mark(LinAlgError(f"{op}: {prefix}{message.format(k=int(flat[index]))}"))


SINGULAR_INV = ("The diagonal element {k} is zero, the inversion could not be completed "
                "because the input matrix is singular.")
NOT_PD = ("The factorization could not be completed because the input is not "
          "positive-definite (the leading minor of order {k} is not positive-definite).")


# ---- masks and small constants ------------------------------------------------------------------

def triangle_mask(xp, shape, upper, k=0, dtype=np.float64):
    """A 0/1 array of ``shape[-2:]`` selecting the upper (``triu(., k)``) or lower
    (``tril(., k)``) triangle."""
    ones = xp.ones(shape[-2:], dtype=dtype)
    return xp.triu(ones, k) if upper else xp.tril(ones, k)


def triangle(t, upper, k=0):
    """``t`` with the other triangle zeroed, as a differentiable product with a constant mask."""
    return t * _new_tensor(triangle_mask(t._xp(), t.shape, upper, k, t._data.dtype))


def eye_like(t, n=None):
    n = t.shape[-1] if n is None else n
    return _new_tensor(t._xp().eye(n, dtype=t._data.dtype))


def with_zero_grad(value, like):
    """``value`` (a constant of ``like``'s shape) as part of ``like``'s graph with a zero
    gradient, as PyTorch returns its constant results (identity powers, empty norms)."""
    from .. import where
    keep = _new_tensor(value._xp().ones((), dtype=bool))
    return where(keep, value, like)


def mH(t):
    """Conjugate transpose of the last two dims."""
    return t.mT.conj() if t._data.dtype in COMPLEX_NP else t.mT


def conj(t):
    return t.conj() if t._data.dtype in COMPLEX_NP else t


def diag_embed(v):
    """A batch of diagonal matrices with ``v`` (..., n) on the diagonal (differentiable in v)."""
    return v.unsqueeze(-1) * eye_like(v)


def array_mH(a):
    a = a.swapaxes(-1, -2)
    return a.conj() if a.dtype.kind == "c" else a


# ---- LU factorization -------------------------------------------------------------------------

def lu_factor_raw(xp, a):
    """Partial-pivoting LU of a batch of (m, n) matrices: ``(LU, pivots, info)`` as LAPACK's
    getrf returns them (pivots 1-based int32, ``info`` = 1-based index of the first zero pivot,
    0 if none). Uses SciPy's LAPACK binding when SciPy is installed and the data is on the CPU,
    otherwise a column-by-column elimination vectorized over the batch."""
    if xp is np:
        try:
            from scipy.linalg import lu_factor
        except ImportError:
            lu_factor = None
        if lu_factor is not None and a.size:
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SciPy warns about exactly singular matrices
                lu, piv = lu_factor(a, check_finite=False)
            return lu, (piv + 1).astype(np.int32), _first_zero_pivot(xp, lu)
    return _lu_eliminate(xp, a)


def _first_zero_pivot(xp, lu):
    k = min(lu.shape[-2:])
    if k == 0:
        return xp.zeros(lu.shape[:-2], dtype=np.int32)
    diag = xp.diagonal(lu, axis1=-2, axis2=-1)[..., :k]
    zero = diag == 0
    return xp.where(zero.any(axis=-1), zero.argmax(axis=-1) + 1, 0).astype(np.int32)


def _lu_eliminate(xp, a):
    lu = a.copy()
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    piv = xp.empty(batch + (k,), dtype=np.int32)
    for j in range(k):
        col = lu[..., j:, j]
        # LAPACK picks the largest |re| + |im| (the first one on ties), as argmax does.
        size = xp.abs(col.real) + xp.abs(col.imag) if col.dtype.kind == "c" else xp.abs(col)
        p = size.argmax(axis=-1) + j
        piv[..., j] = p + 1
        lu = _swap(xp, lu, j, p, axis=-2)
        pivot = lu[..., j, j]
        safe = xp.where(pivot == 0, 1, pivot)[..., None]
        lu[..., j + 1:, j] /= safe
        lu[..., j + 1:, j + 1:] -= lu[..., j + 1:, j, None] * lu[..., j, None, j + 1:]
    return lu, piv, _first_zero_pivot(xp, lu)


def pivots_to_permutation(xp, pivots, m):
    """The permutation ``perm`` with ``P^T A = A[perm]`` for LAPACK row-swap ``pivots``."""
    perm = xp.broadcast_to(xp.arange(m), pivots.shape[:-1] + (m,))
    for j in range(pivots.shape[-1]):
        perm = _swap(xp, perm, j, pivots[..., j].astype(np.int64) - 1, axis=-1)
    return perm


def _swap(xp, a, j, p, axis):
    """``a`` with entries (rows for axis=-2) ``j`` and ``p`` (an index per batch element)
    exchanged along ``axis``, through selections that work alike in NumPy and CuPy."""
    expand = (lambda v: v[..., None, None]) if axis == -2 else (lambda v: v[..., None])
    at_p = xp.take_along_axis(a, expand(p), axis=axis)
    at_j = xp.take(a, [j], axis=axis)
    index = xp.arange(a.shape[axis]).reshape((-1, 1) if axis == -2 else (-1,))
    return xp.where(index == j, at_p, xp.where(index == expand(p), at_j, a))


def permutation_matrix(xp, perm, dtype):
    """P (..., m, m) with ``P[perm[i], i] = 1``, so that ``A = P (P^T A)``."""
    m = perm.shape[-1]
    return (perm[..., None, :] == xp.arange(m)[:, None]).astype(dtype)
