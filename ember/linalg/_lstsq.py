"""The pseudoinverse and what rests on the SVD's cutoff of small singular values: pinv,
matrix_rank, lstsq (and torch.pinverse)."""
import numpy as np

from .._errors import mark
from .._tensor import Tensor, _new_tensor
from ..autograd.function import Function
from ..ops._registry import public
from ._common import (check_matrix, check_tensor, result_type, mH, array_mH)
from ._decomp import svdvals, eigvalsh
from ._solve import _finish

lstsq_result = result_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


def _tolerance(xp, A, atol, rtol, smax):
    """max(atol, rtol * smax) per matrix, shaped (..., 1) (``atol``/``rtol``: numbers, arrays
    of the batch shape, or None); PyTorch's defaults: rtol = eps * max(m, n) unless atol is
    given (and, as a number, positive)."""
    m, n = A.shape[-2:]
    real = np.dtype(A.dtype).type(0).real.dtype
    if rtol is None:
        given = atol is not None and (hasattr(atol, "ndim") or atol > 0)
        rtol = 0.0 if given else float(np.finfo(real).eps) * max(m, n)
    atol = 0.0 if atol is None else atol

    def per_matrix(v):
        return v[..., None] if hasattr(v, "ndim") else v
    return xp.maximum(per_matrix(atol), per_matrix(rtol) * smax).astype(real, copy=False)


def _pinv_arrays(xp, A, atol, rtol, hermitian):
    """The pseudoinverse and the singular values (|eigenvalues| when hermitian) of A."""
    m, n = A.shape[-2:]
    if hermitian:
        w, V = xp.linalg.eigh(A)
        S = xp.abs(w)
        smax = S.max(axis=-1, keepdims=True) if n else S[..., :1]
        keep = S > _tolerance(xp, A, atol, rtol, smax)
        inv_w = xp.where(keep, 1 / xp.where(keep, w, 1), 0)
        return (V * inv_w[..., None, :].astype(A.dtype)) @ array_mH(V), S
    U, S, Vh = xp.linalg.svd(A, full_matrices=False)
    keep = S > _tolerance(xp, A, atol, rtol, S[..., :1])
    inv_s = xp.where(keep, 1 / xp.where(keep, S, 1), 0).astype(A.dtype)
    return (array_mH(Vh) * inv_s[..., None, :]) @ array_mH(U), S


class Pinv(Function):
    """The pseudoinverse; its gradient is that of a constant-rank pseudoinverse
    (Golub & Pereyra)."""
    _raw = True
    op_name = "linalg.pinv"

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        P, S = _pinv_arrays(ctx.xp, A, atol, rtol, hermitian)
        ctx.save_for_backward(A, P)
        return P, S  # the singular values are only handed out detached (lstsq)

    @staticmethod
    def backward(ctx, grad, _):
        A, P = ctx.saved_tensors
        Ph, gh = mH(P), mH(grad)
        # gA = -P^H G P^H + (I - A P) G^H P P^H + P^H P G^H (I - P A)
        first = -(Ph @ grad @ Ph)
        second = (gh @ P - A @ (P @ (gh @ P))) @ Ph
        third = (Ph @ P) @ (gh - (gh @ P) @ A)
        return first + second + third, None, None, None


def _check_tol(op, name, value):
    if value is not None and not isinstance(value, (Tensor, int, float)):
        raise mark(TypeError(f"{op}: {name} must be a float or a Tensor, got "
                             f"{type(value).__name__}"))


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    op = "linalg.pinv"
    check_matrix(op, A, square=hermitian)
    _check_tol(op, "atol", atol)
    _check_tol(op, "rtol", rtol)
    return _finish(Pinv.apply(A, atol, rtol, bool(hermitian))[0], out)


@public
def pinverse(input, rcond=1e-15):
    return pinv(input, rtol=rcond)


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, tol=None, out=None):
    """The number of singular values (|eigenvalues| when hermitian) above
    max(atol, rtol * the largest); ``tol`` is the older name of ``atol``."""
    op = "linalg.matrix_rank"
    check_matrix(op, A, square=hermitian)
    atol = tol if tol is not None else atol
    _check_tol(op, "atol", atol)
    _check_tol(op, "rtol", rtol)
    S = (eigvalsh(A).abs() if hermitian else svdvals(A)).detach()
    xp = A._xp()
    s = S._data
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,))
    atol, rtol = (v._data if isinstance(v, Tensor) else v for v in (atol, rtol))
    rank = (s > _tolerance(xp, A._data, atol, rtol, smax)).sum(axis=-1)
    return _finish(_new_tensor(xp.asarray(rank, dtype=np.int64)), out)


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """Least-squares solutions of A X = B, computed from the SVD (LAPACK gelsd's method): the
    minimum-norm solution, singular values below rcond * the largest treated as zero. The
    outputs present for each ``driver`` are PyTorch's CPU ones (None means gelsy)."""
    op = "linalg.lstsq"
    check_matrix(op, A)
    check_tensor(op, B, "B")
    if B._data.ndim < 1:
        raise mark(RuntimeError(f"{op}: other must have at least 1 dimension."))
    if A._data.dtype is not B._data.dtype:
        raise mark(RuntimeError(f"{op}: Expected input and other to have the same dtype, but "
                                f"got input's dtype {A.dtype.name} and other's dtype "
                                f"{B.dtype.name}"))
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise mark(RuntimeError(f"{op}: parameter `driver` should be one of (gels, gelsy, "
                                f"gelsd, gelss), got {driver!r}"))
    vector = B._data.ndim == A._data.ndim - 1
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.shape[-2] != A.shape[-2]:
        raise mark(RuntimeError(f"{op}: input.size(-2) should match other.size(-2) (shapes "
                                f"{list(A.shape)} and {list(B.shape)})"))
    m, n = A.shape[-2:]
    xp = A._xp()
    if rcond is None:
        rcond = float(np.finfo(np.dtype(A._data.dtype).type(0).real.dtype).eps) * max(m, n)
    P, S = Pinv.apply(A, None, rcond, False)
    X = P @ rhs
    S = S.detach()
    s = S._data
    smax = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
    rank = xp.asarray((s > rcond * smax).sum(axis=-1), dtype=np.int64)
    empty = _new_tensor(xp.empty(0, dtype=S._data.dtype))
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        residuals = ((A @ X - rhs).abs() ** 2).sum(-2)
    else:  # empty, but part of the graph as in PyTorch
        residuals = X.reshape(-1)[:0].abs()
    return lstsq_result(X.squeeze(-1) if vector else X, residuals,
                        _new_tensor(rank if driver != "gels" else xp.empty(0, np.int64)),
                        S if driver in ("gelsd", "gelss") else empty)
