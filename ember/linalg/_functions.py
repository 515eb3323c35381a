"""Functions of matrices and chains of products: matrix_power, matrix_exp, multi_dot,
householder_product, vander, diagonal, tensorinv, tensorsolve."""
import math

import numpy as np

from .._errors import mark, describe
from .._tensor import _new_tensor
from ..autograd.function import Function
from ..ops._registry import public
from ..ops.linalg import chain_product
from ._common import (top_level, check_matrix, check_tensor, mH, eye_like, result_type,
                      with_zero_grad)
from ._solve import inv, solve, _finish


# ---- matrix_power -------------------------------------------------------------------------------

def matrix_power(A, n, *, out=None):
    op = "linalg.matrix_power"
    check_matrix(op, A, square=True, floating=n < 0)
    if n == 0:
        xp = A._xp()
        eye = _new_tensor(xp.broadcast_to(xp.eye(A.shape[-1], dtype=A._data.dtype), A.shape))
        return _finish(with_zero_grad(eye, A), out)
    if n < 0:
        A, n = inv(A), -n
    result, square = None, A
    while True:  # binary powering: the squares of A times the bits of n
        if n & 1:
            result = square if result is None else result @ square
        n >>= 1
        if not n:
            break
        square = square @ square
    return _finish(result.clone() if result is A else result, out)


@top_level("matrix_power")
def _torch_matrix_power(input, n, *, out=None):
    return matrix_power(input, n, out=out)


# ---- matrix_exp ---------------------------------------------------------------------------------

# Padé [13/13] coefficients and the largest 1-norm it handles to double precision (Higham 2005).
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA13 = 5.371920351148152


def _expm(xp, A):
    """exp of a batch of matrices by scaling and squaring with a Padé [13/13] approximant,
    computed in double precision; each matrix gets its own number of squarings."""
    dtype = A.dtype
    a = A.astype(np.complex128 if dtype.kind == "c" else np.float64)
    n = a.shape[-1]
    if n == 0 or a.size == 0:
        return A.copy()
    norm1 = xp.abs(a).sum(axis=-2).max(axis=-1)
    s = xp.ceil(xp.log2(xp.maximum(norm1, 1e-300) / _THETA13))
    s = xp.where(xp.isfinite(s) & (s > 0), s, 0).astype(np.int64)
    a = a / (2.0 ** s)[..., None, None]
    b = _PADE13
    eye = xp.eye(n, dtype=a.dtype)
    a2 = a @ a
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2
             + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 \
        + b[0] * eye
    r = xp.linalg.solve(v - u, v + u)
    for i in range(int(s.max()) if s.size else 0):
        r = xp.where((s > i)[..., None, None], r @ r, r)
    return r.astype(dtype)


class MatrixExp(Function):
    _raw = True
    op_name = "linalg.matrix_exp"

    @staticmethod
    def forward(ctx, A):
        ctx.save_for_backward(A)
        return _expm(ctx.xp, A)

    @staticmethod
    def backward(ctx, grad):
        # The derivative of exp at A applied to G is the top-right block of
        # exp([[A^H, G], [0, A^H]]) (the adjoint of exp's Fréchet derivative).
        from .. import cat
        (A,) = ctx.saved_tensors
        n = A.shape[-1]
        AH = mH(A)
        grad = grad.expand(AH.shape) if grad.shape != AH.shape else grad
        zeros = _new_tensor(A._xp().zeros(AH.shape, dtype=A._data.dtype))
        block = cat([cat([AH, grad], -1), cat([zeros, AH], -1)], -2)
        return MatrixExp.apply(block)[..., :n, n:]


def matrix_exp(A):
    check_matrix("linalg.matrix_exp", A, square=True)
    return MatrixExp.apply(A)


public(matrix_exp)


# ---- multi_dot ----------------------------------------------------------------------------------

def multi_dot(tensors, *, out=None):
    op = "multi_dot()"
    tensors = list(tensors)
    if len(tensors) < 2:
        raise mark(RuntimeError(f"{op}: expected at least 2 tensors but got {len(tensors)}"))
    for i, t in enumerate(tensors):
        check_tensor(op, t, f"tensor {i}")
        nd = t._data.ndim
        where = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
        if where and nd not in (1, 2):
            raise mark(RuntimeError(f"{op}: the {where} tensor must be 1D or 2D but got {nd}D"))
        if not where and nd != 2:
            raise mark(RuntimeError(f"{op}: tensor {i} must be 2D but got {nd}D"))
        if t._data.dtype is not tensors[0]._data.dtype:
            raise mark(RuntimeError(f"{op}: all tensors must have be the same dtype but tensor 0 "
                                    f"is {tensors[0].dtype.name} and tensor {i} "
                                    f"{t.dtype.name}"))
    return _finish(chain_product(op, tensors), out)


# ---- Householder products -----------------------------------------------------------------------

def householder_product(A, tau, *, out=None):
    """Q = H_1 ... H_k (first n columns) with H_i = I - tau_i v_i v_i^H, v_i the i-th column of
    A below the diagonal with a 1 on it: LAPACK's orgqr/ungqr."""
    op = "linalg.householder_product"
    check_matrix(op, A)
    check_tensor(op, tau, "tau")
    m, n = A.shape[-2:]
    k = tau.shape[-1] if tau._data.ndim else 0
    if m < n:
        raise mark(RuntimeError(f"{op}: input.shape[-2] must be greater than or equal to "
                                f"input.shape[-1] (got {describe(A)})"))
    if n < k:
        raise mark(RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to "
                                f"tau.shape[-1] (got {describe(A)} and {describe(tau)})"))
    if tau._data.ndim != A._data.ndim - 1 or tau.shape[:-1] != A.shape[:-2]:
        raise mark(RuntimeError(f"{op}: Expected batch dimensions of tau to be equal to "
                                f"input.shape[:-2], got {describe(A)} and {describe(tau)}"))
    if tau._data.dtype is not A._data.dtype:
        raise mark(RuntimeError(f"{op}: tau dtype {tau.dtype.name} does not match input dtype "
                                f"{A.dtype.name}"))
    Q = _householder_q(A, tau) @ _new_tensor(A._xp().eye(m, n, dtype=A._data.dtype))
    return _finish(Q if k else with_zero_grad(Q, A), out)


def _householder_q(A, tau):
    """The full (m, m) product H_1 ... H_k of the reflectors stored in A and tau."""
    xp = A._xp()
    dt = A._data.dtype
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    Q = eye_like(A, m)
    rows = xp.arange(m)
    for i in range(k):
        column = A @ _new_tensor(xp.eye(n, dtype=dt)[i])  # A[..., :, i]
        below = _new_tensor((rows > i).astype(dt))
        v = column * below + _new_tensor(xp.eye(m, dtype=dt)[i])
        t_i = tau @ _new_tensor(xp.eye(k, dtype=dt)[i])
        # Q H_i = Q - tau_i (Q v) v^H
        Qv = Q @ v.unsqueeze(-1)
        Q = Q - (t_i.unsqueeze(-1).unsqueeze(-1) * Qv) @ mH(v.unsqueeze(-1))
    return Q


@top_level("orgqr")
def _torch_orgqr(input, tau):
    return householder_product(input, tau)


geqrf_result = result_type("geqrf", ("a", "tau"))


class Geqrf(Function):
    """LAPACK's geqrf: R above the diagonal of ``a``, the Householder vectors below it."""
    _raw = True
    op_name = "geqrf"

    @staticmethod
    def forward(ctx, A):
        h, tau = ctx.xp.linalg.qr(A, mode="raw")  # NumPy hands back LAPACK's a transposed
        return h.swapaxes(-1, -2).copy(), tau.astype(A.dtype, copy=False)

    @staticmethod
    def backward(ctx, *grads):
        raise mark(NotImplementedError("the derivative for 'geqrf' is not implemented."))


@public
def geqrf(input, *, out=None):
    check_matrix("geqrf", input)
    return _finish(geqrf_result(*Geqrf.apply(input)), out)


@public
def ormqr(input, input2, input3, left=True, transpose=False, *, out=None):
    """``op(Q) @ C`` (``left``) or ``C @ op(Q)`` for Q = H_1 ... H_k from geqrf's ``input`` and
    ``tau`` (``input2``), op the conjugate transpose when ``transpose``."""
    op = "ormqr"
    check_matrix(op, input)
    check_matrix(op, input3, "other")
    check_tensor(op, input2, "tau")
    side = input3.shape[-2] if left else input3.shape[-1]
    if input.shape[-2] != side:
        raise mark(RuntimeError(f"{op}: input.shape[-2] must be equal to other.shape"
                                f"[{-2 if left else -1}] (got {describe(input)} and "
                                f"{describe(input3)})"))
    Q = _householder_q(input, input2)
    Q = mH(Q) if transpose else Q
    return _finish(Q @ input3 if left else input3 @ Q, out)


# ---- small composites ---------------------------------------------------------------------------

def vander(x, N=None):
    """Columns x^0, x^1, ..., x^(N-1) of the vectors in x (..., n): (..., n, N)."""
    op = "linalg.vander"
    check_tensor(op, x, "x")
    if x._data.ndim == 0:  # a 0-d x is one number, as in PyTorch
        x = x.reshape(1)
    N = x.shape[-1] if N is None else N
    if N <= 1:
        raise mark(RuntimeError(f"{op}: N must be greater than 1 (got N={N} for "
                                f"{describe(x)})"))
    from .. import stack
    if x._data.dtype == np.bool_:
        x = x.long()
    powers = [with_zero_grad(_new_tensor(x._xp().ones(x.shape, dtype=x._data.dtype)), x)]
    for _ in range(1, N):
        powers.append(powers[-1] * x)
    return stack(powers, -1)


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    from .. import diagonal as _diagonal
    return _diagonal(A, offset, dim1, dim2)


def tensorinv(A, ind=2, *, out=None):
    op = "linalg.tensorinv"
    check_tensor(op, A)
    if ind <= 0:
        raise mark(RuntimeError(f"{op}: Expected a strictly positive integer for 'ind', but got "
                                f"{ind}"))
    rows, cols = A.shape[:ind], A.shape[ind:]
    n_rows, n_cols = math.prod(rows), math.prod(cols)
    if n_rows != n_cols:
        raise mark(RuntimeError(f"{op}: Expected self to satisfy the requirement "
                                f"prod(self.shape[ind:]) == prod(self.shape[:ind]), but got "
                                f"{n_cols} != {n_rows}"))
    result = inv(A.reshape(n_rows, n_cols))
    return _finish(result.reshape(tuple(cols) + tuple(rows)), out)


def tensorsolve(A, B, dims=None, *, out=None):
    op = "linalg.tensorsolve"
    check_tensor(op, A)
    check_tensor(op, B, "B")
    if dims is not None:
        ndim = A._data.ndim
        moved = [d % ndim for d in dims]
        A = A.permute(*[d for d in range(ndim) if d not in moved], *moved)
    result_shape = A.shape[B._data.ndim:]
    n = math.prod(B.shape)
    if math.prod(result_shape) != n:
        raise mark(RuntimeError(f"{op}: Expected self to satisfy the requirement "
                                f"prod(result shape) == prod(other.shape), but got shapes "
                                f"{list(A.shape)} and {list(B.shape)}"))
    x = solve(A.reshape(n, n), B.reshape(n))
    return _finish(x.reshape(result_shape), out)
