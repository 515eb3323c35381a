"""Inverses and linear solvers: inv, solve, solve_triangular, the LU family (lu_factor, lu,
lu_solve, lu_unpack) and the solvers built on Cholesky factors, with PyTorch's legacy
top-level forms (inverse, triangular_solve, cholesky_solve, cholesky_inverse, lu, lu_solve,
lu_unpack)."""
import numpy as np

from .._errors import LinAlgError, mark
from .._out import write_out
from .._tensor import _new_tensor
from ..autograd.function import Function
from ..ops._broadcast import sum_to
from ..ops._registry import public
from ..ops.linalg import warn_deprecated
from ._common import (top_level, check_matrix, check_same_dtype, check_tensor, batch_shape,
                      result_type, raise_for_info, lu_factor_raw, pivots_to_permutation,
                      permutation_matrix, triangle, triangle_mask, mH, eye_like, SINGULAR_INV)

inv_ex_result = result_type("linalg_inv_ex", ("inverse", "info"))
solve_ex_result = result_type("linalg_solve_ex", ("result", "info"))
lu_factor_result = result_type("linalg_lu_factor", ("LU", "pivots"))
lu_factor_ex_result = result_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))
lu_result = result_type("linalg_lu", ("P", "L", "U"))
lu_unpack_result = result_type("lu_unpack", ("P", "L", "U"))
triangular_solve_result = result_type("triangular_solve", ("solution", "cloned_coefficient"))
lu_with_info_result = result_type("_lu_with_info", ("LU", "pivots", "info"))


def _finish(result, out):
    if out is None:
        return result
    if isinstance(result, tuple):
        return type(result)(*(write_out(o, r) for o, r in zip(out, result)))
    return write_out(out, result)


def _guarded(xp, fn, A, *rest):
    """``fn(A, *rest)`` and the LU ``info`` of ``A``. NumPy refuses a whole batch when one
    matrix is singular: then the singular ones are found by an LU factorization, solved as
    identities, and their results set to NaN (PyTorch leaves garbage there)."""
    try:
        out = fn(A, *rest)
        # CuPy does not raise: it leaves non-finite values, which are checked here instead.
        if xp is np or bool(xp.isfinite(out).all()) or not bool(xp.isfinite(A).all()):
            return out, xp.zeros(A.shape[:-2], dtype=np.int32)
    except np.linalg.LinAlgError:
        pass
    info = lu_factor_raw(xp, A)[2]
    singular = (info > 0)[..., None, None]
    eye = xp.eye(A.shape[-1], dtype=A.dtype)
    out = fn(xp.where(singular, eye, A), *rest)
    return xp.where(singular, xp.asarray(np.nan, dtype=out.dtype), out), info


# ---- inverse --------------------------------------------------------------------------------

class Inv(Function):
    _raw = True
    op_name = "linalg.inv"

    @staticmethod
    def forward(ctx, A, check_errors):
        out, info = _guarded(ctx.xp, ctx.xp.linalg.inv, A)
        if check_errors:
            raise_for_info("linalg.inv", info, SINGULAR_INV)
        ctx.save_for_backward(out)
        return out, info

    @staticmethod
    def backward(ctx, grad, _):
        (inv_a,) = ctx.saved_tensors
        h = mH(inv_a)
        return -(h @ grad @ h), None


def _inv_ex(A, check_errors, op="linalg.inv"):
    check_matrix(op, A, square=True)
    return Inv.apply(A, check_errors)


def inv(A, *, out=None):
    return _finish(_inv_ex(A, True)[0], out)


def inv_ex(A, *, check_errors=False, out=None):
    return _finish(inv_ex_result(*_inv_ex(A, check_errors)), out)


@public
def inverse(input, *, out=None):
    return inv(input, out=out)


# ---- solve ----------------------------------------------------------------------------------

class Solve(Function):
    """X with A X = B, for B a batch of matrices; batch dims broadcast."""
    _raw = True
    op_name = "linalg.solve"

    @staticmethod
    def forward(ctx, A, B, check_errors):
        X, info = _guarded(ctx.xp, ctx.xp.linalg.solve, A, B)
        if check_errors and info.any():
            raise mark(LinAlgError("linalg.solve: The solver failed because the input matrix "
                                   "is singular."))
        ctx.save_for_backward(A, X)
        ctx.b_shape = B.shape
        return X, info

    @staticmethod
    def backward(ctx, grad, _):
        A, X = ctx.saved_tensors
        ga, gb = ctx._edges[:2]
        grad_b = Solve.apply(mH(A), grad, True)[0]
        grad_a = sum_to(-(grad_b @ mH(X)), A.shape) if ga else None
        return grad_a, sum_to(grad_b, ctx.b_shape) if gb else None, None


def _is_vector_rhs(A, B):
    """PyTorch's rule: B is a (batch of) vector when it is 1-D or has A's shape minus the last
    dim."""
    return B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1
                                 and B._data.shape == A._data.shape[:-1])


def _solve_ex(A, B, left, check_errors, op="linalg.solve"):
    check_matrix(op, A, square=True)
    check_tensor(op, B, "B")
    check_same_dtype(op, A, B)
    vector = _is_vector_rhs(A, B)
    rhs = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    if rhs._data.ndim < 2 or rhs.shape[-2 if left else -1] != n:
        eq = "AX = B" if left else "XA = B"
        bs = "x".join(map(str, rhs.shape[-2:] if rhs._data.ndim >= 2 else rhs.shape))
        raise mark(RuntimeError(f"{op}: Incompatible shapes of A and B for the equation {eq} "
                                f"({n}x{n} and {bs})"))
    batch_shape(op, A, rhs)
    if left:
        X, info = Solve.apply(A, rhs, check_errors)
    else:  # X A = B  <=>  A^T X^T = B^T
        X, info = Solve.apply(A.mT, rhs if vector else rhs.mT, check_errors)
        X = X if vector else X.mT
    return (X.squeeze(-1) if vector else X), info


def solve(A, B, *, left=True, out=None):
    return _finish(_solve_ex(A, B, left, True)[0], out)


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    return _finish(solve_ex_result(*_solve_ex(A, B, left, check_errors)), out)


# ---- triangular systems -----------------------------------------------------------------------

def _substitute(xp, T, B, upper):
    """Back (upper) or forward (lower) substitution, vectorized over the batch and the columns
    of B: used where LAPACK's solver refuses a zero diagonal, giving inf/NaN like trsm."""
    batch = np.broadcast_shapes(T.shape[:-2], B.shape[:-2])
    T = xp.broadcast_to(T, batch + T.shape[-2:])
    B = xp.broadcast_to(B, batch + B.shape[-2:])
    X = xp.zeros(B.shape, dtype=np.result_type(T, B))
    n = T.shape[-1]
    for i in (range(n - 1, -1, -1) if upper else range(n)):
        done = (T[..., i:i + 1, :] @ X)[..., 0, :]  # rows not solved yet are still zero
        X[..., i, :] = (B[..., i, :] - done) / T[..., i, i, None]
    return X


class SolveTriangular(Function):
    _raw = True
    op_name = "linalg.solve_triangular"

    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        xp = ctx.xp
        ctx.b_shape, ctx.args = B.shape, (upper, left, unitriangular)
        T = A * triangle_mask(xp, A.shape, upper, dtype=A.dtype)
        if unitriangular:
            T = xp.where(xp.eye(A.shape[-1], dtype=bool), xp.ones((), A.dtype), T)
        if not left:  # X T = B  <=>  T^T X^T = B^T
            T, B, upper = T.swapaxes(-1, -2), B.swapaxes(-1, -2), not upper
        try:
            X = xp.linalg.solve(T, B)
        except np.linalg.LinAlgError:
            X = _substitute(xp, T, B, upper)
        if not left:
            X = X.swapaxes(-1, -2)
        ctx.save_for_backward(A, X)
        return X

    @staticmethod
    def backward(ctx, grad):
        A, X = ctx.saved_tensors
        upper, left, unit = ctx.args
        ga, gb = ctx._edges[:2]
        grad_b = SolveTriangular.apply(mH(A), grad, not upper, left, unit)
        grad_a = None
        if ga:
            grad_a = -(grad_b @ mH(X)) if left else -(mH(X) @ grad_b)
            grad_a = sum_to(triangle(grad_a, upper, (1 if upper else -1) if unit else 0),
                            A.shape)
        return grad_a, sum_to(grad_b, ctx.b_shape) if gb else None, None, None, None


def solve_triangular(A, B, *, upper, left=True, unitriangular=False, out=None):
    op = "linalg.solve_triangular"
    check_matrix(op, A, square=True)
    check_matrix(op, B, "B")
    check_same_dtype(op, A, B)
    n = A.shape[-1]
    k = B.shape[-2] if left else B.shape[-1]
    if k != n:
        eq = "AX = B" if left else "XA = B"
        raise mark(RuntimeError(f"{op}: Incompatible shapes of A and B for the equation {eq} "
                                f"({n}x{n} and {B.shape[-2]}x{B.shape[-1]})"))
    batch_shape(op, A, B)
    return _finish(SolveTriangular.apply(A, B, bool(upper), bool(left), bool(unitriangular)),
                   out)


@public
def triangular_solve(input, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """The deprecated ``torch.triangular_solve(b, A)``: solves ``A X = b`` (``A^T X = b`` with
    ``transpose``); returns ``(solution, cloned_coefficient)``."""
    warn_deprecated("torch.triangular_solve", "in favor of torch.linalg.solve_triangular (which "
                    "has its arguments reversed and does not return a copy of A)")
    coefficient = A.mT if transpose else A
    X = solve_triangular(coefficient, input, upper=upper != bool(transpose),
                         unitriangular=unitriangular)
    return _finish(triangular_solve_result(X, A.clone()), out)


# ---- LU ----------------------------------------------------------------------------------------

class LUFactor(Function):
    _raw = True
    op_name = "linalg.lu_factor"

    @staticmethod
    def forward(ctx, A):
        lu, piv, info = lu_factor_raw(ctx.xp, A)
        ctx.save_for_backward(lu)
        ctx.pivots = piv
        return lu, piv, info

    @staticmethod
    def backward(ctx, grad, _, __):
        (lu,) = ctx.saved_tensors
        xp = lu._xp()
        perm = pivots_to_permutation(xp, ctx.pivots, lu.shape[-2])
        P = _new_tensor(permutation_matrix(xp, perm, lu._data.dtype))
        return P @ _lu_grad(lu, grad)


def _lu_grad(lu, grad):
    """The gradient of P^T A = L U from those of the packed factors (L's strictly lower part,
    U's upper part). Wide and tall matrices reduce to the square case: for A = L [U1 | U2],
    U2 = L^-1 A2; for A = [L1; L2] U, L2 = A2 U^-1."""
    from .. import cat
    m, n = lu.shape[-2:]
    k = min(m, n)
    head, head_grad = (lu, grad) if m == n else \
        (lu[..., :, :k], grad[..., :, :k]) if m < n else (lu[..., :k, :], grad[..., :k, :])
    L, U = triangle(head, False, -1) + eye_like(head), triangle(head, True)
    lower = mH(L) @ triangle(head_grad, False, -1)
    upper = triangle(head_grad, True) @ mH(U)
    if m < n:
        U2, gU2 = lu[..., :, k:], grad[..., :, k:]
        lower = lower - gU2 @ mH(U2)
    elif m > n:
        L2, gL2 = lu[..., k:, :], grad[..., k:, :]
        upper = upper - mH(L2) @ gL2
    # square case: L^-H (tril(L^H gL, -1) + triu(gU U^H)) U^-H
    inner = triangle(lower, False, -1) + triangle(upper, True)
    inner = solve_triangular(mH(U), inner, upper=False, left=False)
    grad_head = solve_triangular(mH(L), inner, upper=True, unitriangular=True)
    if m < n:
        return cat([grad_head, solve_triangular(mH(L), gU2, upper=True, unitriangular=True)], -1)
    if m > n:
        return cat([grad_head, solve_triangular(mH(U), gL2, upper=False, left=False)], -2)
    return grad_head


def _lu_factor_ex(A, pivot, op):
    check_matrix(op, A)
    if not pivot:
        raise mark(RuntimeError(f"{op}: LU without pivoting is not implemented on the CPU; "
                                f"use pivot=True"))
    return LUFactor.apply(A)


def lu_factor(A, *, pivot=True, out=None):
    op = "linalg.lu_factor"
    lu, piv, info = _lu_factor_ex(A, pivot, op)
    flat = np.asarray(info.cpu()._data).reshape(-1)
    if flat.any():
        k = int(flat[np.flatnonzero(flat)[0]])  # PyTorch prints LAPACK's 1-based info here
        raise mark(RuntimeError(
            f"{op}: U[{k},{k}] is zero and using it on lu_solve would result in a division by "
            f"zero. If you still want to perform the factorization, consider calling "
            f"linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"))
    return _finish(lu_factor_result(lu, piv), out)


def lu_factor_ex(A, *, pivot=True, check_errors=False, out=None):
    op = "linalg.lu_factor_ex"
    result = _lu_factor_ex(A, pivot, op)
    if check_errors:
        raise_for_info(op, result[2]._data, "The factorization could not be completed because "
                                            "the input matrix is singular (U[{k},{k}] is zero).")
    return _finish(lu_factor_ex_result(*result), out)


def _unpack(LU, pivots, unpack_data=True, unpack_pivots=True):
    m, n = LU.shape[-2:]
    k = min(m, n)
    xp = LU._xp()
    empty = _new_tensor(xp.empty(0, dtype=LU._data.dtype))
    P = L = U = empty
    if unpack_pivots:
        perm = pivots_to_permutation(xp, pivots._data, m)
        P = _new_tensor(permutation_matrix(xp, perm, LU._data.dtype))
    if unpack_data:
        lower = LU if k == n else LU[..., :, :k]
        upper = LU if k == m else LU[..., :k, :]
        L = triangle(lower, False, -1) + _new_tensor(xp.eye(m, k, dtype=LU._data.dtype))
        U = triangle(upper, True)
    return P, L, U


def lu(A, *, pivot=True, out=None):
    lu_, piv, _ = _lu_factor_ex(A, pivot, "linalg.lu")
    return _finish(lu_result(*_unpack(lu_, piv)), out)


@public(method=False)
def lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True, *, out=None):
    check_matrix("lu_unpack", LU_data)
    return _finish(lu_unpack_result(*_unpack(LU_data, LU_pivots, unpack_data, unpack_pivots)),
                   out)


def lu_solve(LU, pivots, B, *, left=True, adjoint=False, out=None):
    op = "linalg.lu_solve"
    check_matrix(op, LU, "LU", square=True)
    check_matrix(op, B, "B")
    check_same_dtype(op, LU, B, ("LU", "B"))
    n = LU.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise mark(RuntimeError(f"{op}: Incompatible shapes of A and B for the equation "
                                f"{'AX = B' if left else 'XA = B'} ({n}x{n} and "
                                f"{B.shape[-2]}x{B.shape[-1]})"))
    if not left:  # X A = B  <=>  A^H X^H = B^H
        return _finish(mH(lu_solve(LU, pivots, mH(B), adjoint=not adjoint)), out)
    xp = LU._xp()
    P = _new_tensor(permutation_matrix(xp, pivots_to_permutation(xp, pivots._data, n),
                                       LU._data.dtype))
    if adjoint:  # A^H = U^H L^H P^T: X = P L^{-H} U^{-H} B
        X = solve_triangular(mH(LU), B, upper=False)
        X = P @ solve_triangular(mH(LU), X, upper=True, unitriangular=True)
    else:  # A = P L U: X = U^{-1} L^{-1} P^T B
        X = solve_triangular(LU, P.mT @ B, upper=False, unitriangular=True)
        X = solve_triangular(LU, X, upper=True)
    return _finish(X, out)


@top_level("lu")
def _torch_lu(A, pivot=True, get_infos=False, out=None):
    """The deprecated ``torch.lu``: ``(LU, pivots)`` or ``(LU, pivots, infos)``."""
    warn_deprecated("torch.lu", "in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex")
    lu_, piv, info = _lu_factor_ex(A, pivot, "lu")
    result = lu_with_info_result(lu_, piv, info) if get_infos else (lu_, piv)
    return _finish(result, out)


@top_level("lu_solve")
def _torch_lu_solve(input, LU_data, LU_pivots, *, out=None):
    warn_deprecated("torch.lu_solve", "in favor of torch.linalg.lu_solve (which has its "
                    "arguments reversed)")
    return lu_solve(LU_data, LU_pivots, input, out=out)


# ---- Cholesky-based solvers ---------------------------------------------------------------------

@public
def cholesky_solve(input, input2, upper=False, *, out=None):
    """X with A X = B for A = L L^H (or U^H U), given B (``input``) and the factor
    (``input2``)."""
    op = "cholesky_solve"
    check_matrix(op, input, "B")
    check_matrix(op, input2, "L", square=True)
    check_same_dtype(op, input2, input, ("L", "B"))
    factor = input2
    if upper:  # A = U^H U
        Y = solve_triangular(mH(factor), input, upper=False)
        return _finish(solve_triangular(factor, Y, upper=True), out)
    Y = solve_triangular(factor, input, upper=False)
    return _finish(solve_triangular(mH(factor), Y, upper=True), out)


@public
def cholesky_inverse(input, upper=False, *, out=None):
    check_matrix("cholesky_inverse", input, "L", square=True)
    return _finish(cholesky_solve(eye_like(input).expand(input.shape), input, upper), out)
