"""Matrix decompositions and determinants: cholesky, qr, svd/svdvals, eigh/eigvalsh,
eig/eigvals, det, slogdet, logdet, with PyTorch's legacy top-level forms (torch.cholesky,
torch.qr, torch.svd, torch.det, ...).

Gradients follow PyTorch's formulas (its FunctionsManual); those of singular and eigen vectors
are defined only for losses that do not depend on the vectors' arbitrary phases (signs)."""
import numpy as np

from .._errors import mark
from .._tensor import _new_tensor
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ..ops._registry import public
from ..ops.linalg import warn_deprecated
from ._common import (top_level, check_matrix, result_type, raise_for_info, mH, conj,
                      diag_embed, eye_like, triangle, array_mH, NOT_PD)
from ._solve import solve_triangular, inv, solve, _finish

cholesky_ex_result = result_type("linalg_cholesky_ex", ("L", "info"))
qr_result = result_type("linalg_qr", ("Q", "R"))
torch_qr_result = result_type("qr", ("Q", "R"))
svd_result = result_type("linalg_svd", ("U", "S", "Vh"))
torch_svd_result = result_type("svd", ("U", "S", "V"))
eigh_result = result_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
eig_result = result_type("linalg_eig", ("eigenvalues", "eigenvectors"))
slogdet_result = result_type("linalg_slogdet", ("sign", "logabsdet"))
torch_slogdet_result = result_type("slogdet", ("sign", "logabsdet"))


def _off_diagonal(t):
    return t * (1 - eye_like(t))


def _diagonal(t):
    """The diagonal of a batch of square matrices, as a differentiable product with I."""
    return (t * eye_like(t)).sum(-1)


def _wants_grad(A):
    return A.requires_grad and GradMode.enabled


# ---- Cholesky -----------------------------------------------------------------------------------

def _cholesky_info(xp, A):
    """Per batch element, the order of the first leading minor that is not positive-definite
    (0 if none): the Cholesky recurrence run column by column over the whole batch."""
    n = A.shape[-1]
    L = xp.zeros_like(A)
    info = xp.zeros(A.shape[:-2], dtype=np.int32)
    for j in range(n):
        row = L[..., j, :j]
        d = (A[..., j, j] - (row * row.conj()).sum(-1)).real
        bad = ~(d > 0)
        info = xp.where((info == 0) & bad, j + 1, info).astype(np.int32)
        d = xp.sqrt(xp.where(bad, 1, d))
        L[..., j, j] = d
        done = (L[..., j + 1:, :j] @ row.conj()[..., None])[..., 0]
        L[..., j + 1:, j] = (A[..., j + 1:, j] - done) / d[..., None]
    return info


class Cholesky(Function):
    _raw = True
    op_name = "linalg.cholesky"

    @staticmethod
    def forward(ctx, A, upper, check_errors):
        xp = ctx.xp
        source = array_mH(A) if upper else A  # U = L(A^H)^H reads A's upper triangle
        try:
            L = xp.linalg.cholesky(source)
            info = xp.zeros(A.shape[:-2], dtype=np.int32)
            if xp is not np and not bool(xp.isfinite(L).all()):  # CuPy does not raise
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            info = _cholesky_info(xp, source)
            if check_errors:
                raise_for_info("linalg.cholesky", info, NOT_PD)
            failed = (info > 0)[..., None, None]
            L = xp.linalg.cholesky(xp.where(failed, xp.eye(A.shape[-1], dtype=A.dtype), source))
            L = xp.where(failed, xp.asarray(np.nan, dtype=L.dtype), L)
        out = array_mH(L) if upper else L
        ctx.upper = upper
        ctx.save_for_backward(out)
        return out, info

    @staticmethod
    def backward(ctx, grad, _):
        (out,) = ctx.saved_tensors
        L, gL = (mH(out), mH(grad)) if ctx.upper else (out, grad)
        # gA = L^{-H} Phi(L^H gL) L^{-1}, Phi: the lower triangle made Hermitian, diagonal halved
        phi = triangle(mH(L) @ gL, False)
        phi = 0.5 * (phi + mH(triangle(phi, False, -1)))
        grad_a = solve_triangular(mH(L), phi, upper=True)
        return solve_triangular(L, grad_a, upper=False, left=False), None, None


def _cholesky(A, upper, check_errors, op="linalg.cholesky"):
    check_matrix(op, A, square=True)
    return Cholesky.apply(A, bool(upper), check_errors)


def cholesky(A, *, upper=False, out=None):
    return _finish(_cholesky(A, upper, True)[0], out)


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    return _finish(cholesky_ex_result(*_cholesky(A, upper, check_errors)), out)


@top_level("cholesky")
def _torch_cholesky(input, upper=False, *, out=None):
    warn_deprecated("torch.cholesky", "in favor of torch.linalg.cholesky (U = "
                    "torch.cholesky(A, upper=True) is torch.linalg.cholesky(A).mH)")
    return cholesky(input, upper=upper, out=out)


# ---- QR -----------------------------------------------------------------------------------------

class QR(Function):
    _raw = True
    op_name = "linalg.qr"

    @staticmethod
    def forward(ctx, A, mode):
        xp = ctx.xp
        if mode == "r":
            Q, R = xp.empty(0, dtype=A.dtype), xp.linalg.qr(A, mode="r")
        else:
            Q, R = xp.linalg.qr(A, mode=mode)
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(Q, R)
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        if ctx.mode == "r":
            raise mark(RuntimeError(
                "linalg.qr: The derivative of linalg.qr depends on Q, which is not computed "
                "when mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                "differentiate through linalg.qr."))
        Q, R = ctx.saved_tensors
        m, n = Q.shape[-2], R.shape[-1]
        if ctx.mode == "complete" and m > n:
            raise mark(RuntimeError("linalg.qr: The QR decomposition is not differentiable when "
                                    "mode='complete' and nrows > ncols."))
        if m >= n:
            return _qr_grad(Q, R, gQ, gR), None
        # A = [X | Y] with X = Q U square: Y = Q V only moves gQ; X is the square case.
        from .. import cat
        U, V = R[..., :, :m], R[..., :, m:]
        gU = gV = None
        if gR is not None:
            gU, gV = gR[..., :, :m], gR[..., :, m:]
            gQ = (Q @ V) @ mH(gV) if gQ is None else gQ + (Q @ V) @ mH(gV)
        grad_x = _qr_grad(Q, U, gQ, gU)
        grad_y = Q @ gV if gV is not None else _new_tensor(
            Q._xp().zeros(grad_x.shape[:-1] + (n - m,), dtype=grad_x._data.dtype))
        return cat([grad_x, grad_y], -1), None


def _qr_grad(Q, R, gQ, gR):
    """gA = (gQ + Q sym(triu(gR R^H - Q^H gQ))) R^{-H} for A = Q R with R square, where sym
    makes the Hermitian matrix whose upper triangle it is (real diagonal counted once)."""
    M = 0
    if gR is not None:
        M = gR @ mH(R)
    if gQ is not None:
        M = M - mH(Q) @ gQ
    M = triangle(M, True)
    M = M + mH(M) - diag_embed(_diagonal(M).real if M.is_complex() else _diagonal(M))
    B = Q @ M if gQ is None else gQ + Q @ M
    return solve_triangular(mH(R), B, upper=False, left=False)


_QR_MODES = ("reduced", "complete", "r")


def qr(A, mode="reduced", *, out=None):
    op = "linalg.qr"
    check_matrix(op, A)
    if mode not in _QR_MODES:
        raise mark(RuntimeError(f"{op}: qr received unrecognized mode '{mode}' but expected one "
                                f"of 'reduced' (default), 'r', or 'complete'"))
    return _finish(qr_result(*QR.apply(A, mode)), out)


@top_level("qr")
def _torch_qr(input, some=True, *, out=None):
    warn_deprecated("torch.qr", "in favor of torch.linalg.qr (mode='reduced' for some=True, "
                    "mode='complete' for some=False)")
    return _finish(torch_qr_result(*qr(input, "reduced" if some else "complete")), out)


# ---- SVD ----------------------------------------------------------------------------------------

class SVD(Function):
    _raw = True
    op_name = "linalg.svd"

    @staticmethod
    def forward(ctx, A, full_matrices):
        U, S, Vh = ctx.xp.linalg.svd(A, full_matrices=full_matrices)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(U, S, Vh)
        return U, S, Vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        k = S.shape[-1]
        if U.shape[-1] != k:  # full_matrices: only the first k columns carry gradient
            U = U[..., :, :k]
            gU = gU[..., :, :k] if gU is not None else None
        if Vh.shape[-2] != k:
            Vh = Vh[..., :k, :]
            gVh = gVh[..., :k, :] if gVh is not None else None
        return _svd_grad(U, S, Vh, gU, gS, gVh), None


def _svd_grad(U, S, Vh, gU, gS, gVh):
    """The gradient of A = U diag(S) Vh (reduced) given those of U, S and Vh."""
    if gU is None and gVh is None:
        if gS is None:
            return None
        return (U * gS.unsqueeze(-2).to(U.dtype)) @ Vh
    m, n, k = U.shape[-2], Vh.shape[-1], S.shape[-1]
    s_col, s_row = S.unsqueeze(-2), S.unsqueeze(-1)  # S_j across a row, S_i down a column
    E = s_col * s_col - s_row * s_row + eye_like(S.unsqueeze(-1), k)  # S_j^2 - S_i^2, 1 on diag
    inner = 0
    if gU is not None:
        UhgU = mH(U) @ gU
        inner = (UhgU - mH(UhgU)) * s_col
    if gVh is not None:
        VhgV = Vh @ mH(gVh)
        inner = inner + s_row * (VhgV - mH(VhgV))
    inner = _off_diagonal(inner / E)
    if gS is not None:
        inner = inner + diag_embed(gS.to(inner.dtype))
    if gU is not None and U.is_complex():  # the phase of each (u_i, v_i) pair
        inner = inner + diag_embed(1j * _diagonal(UhgU).imag / S)
    grad = U @ inner @ Vh
    if gU is not None and m > k:
        grad = grad + ((gU - U @ UhgU) / s_col) @ Vh
    if gVh is not None and n > k:
        grad = grad + U @ ((gVh - mH(VhgV) @ Vh) / s_row)
    return grad


class SVDVals(Function):
    """Singular values without vectors (used when no gradient is needed)."""
    _raw = True
    op_name = "linalg.svdvals"

    @staticmethod
    def forward(ctx, A):
        return ctx.xp.linalg.svd(A, compute_uv=False)


def _check_driver(op, driver):
    if driver is not None:
        raise mark(RuntimeError(f"{op}: keyword argument `driver=` is only supported on CUDA "
                                f"inputs with cuSOLVER backend."))


def svd(A, full_matrices=True, *, driver=None, out=None):
    check_matrix("linalg.svd", A)
    _check_driver("linalg.svd", driver)
    return _finish(svd_result(*SVD.apply(A, bool(full_matrices))), out)


def svdvals(A, *, driver=None, out=None):
    check_matrix("linalg.svdvals", A)
    _check_driver("linalg.svdvals", driver)
    if _wants_grad(A):
        return _finish(SVD.apply(A, False)[1], out)
    return _finish(SVDVals.apply(A), out)


@top_level("svd")
def _torch_svd(input, some=True, compute_uv=True, *, out=None):
    """The deprecated ``torch.svd``: returns ``V`` rather than ``Vh``; without ``compute_uv``,
    U and V are zero matrices."""
    check_matrix("svd", input)
    if not compute_uv:
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        xp = input._xp()
        U = _new_tensor(xp.zeros(batch + (m, m), dtype=input._data.dtype))
        V = _new_tensor(xp.zeros(batch + (n, n), dtype=input._data.dtype))
        return _finish(torch_svd_result(U, svdvals(input), V), out)
    U, S, Vh = SVD.apply(input, not some)
    return _finish(torch_svd_result(U, S, mH(Vh)), out)


# ---- symmetric / Hermitian eigendecomposition ---------------------------------------------------

class Eigh(Function):
    _raw = True
    op_name = "linalg.eigh"

    @staticmethod
    def forward(ctx, A, uplo):
        L, V = ctx.xp.linalg.eigh(A, UPLO=uplo)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        inner = 0
        if gV is not None:
            VhgV = mH(V) @ gV
            E = L.unsqueeze(-2) - L.unsqueeze(-1) + eye_like(L.unsqueeze(-1), L.shape[-1])
            inner = _off_diagonal(0.5 * (VhgV - mH(VhgV)) / E)
        if gL is not None:
            inner = inner + diag_embed(gL.to(V.dtype))
        return V @ inner @ mH(V), None


class EighVals(Function):
    _raw = True
    op_name = "linalg.eigvalsh"

    @staticmethod
    def forward(ctx, A, uplo):
        return ctx.xp.linalg.eigvalsh(A, UPLO=uplo)


def _check_uplo(op, A, UPLO):
    check_matrix(op, A, square=True)
    if UPLO not in ("L", "U"):
        raise mark(RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got "
                                f"{UPLO}"))


def eigh(A, UPLO="L", *, out=None):
    _check_uplo("linalg.eigh", A, UPLO)
    return _finish(eigh_result(*Eigh.apply(A, UPLO)), out)


def eigvalsh(A, UPLO="L", *, out=None):
    _check_uplo("linalg.eigvalsh", A, UPLO)
    if _wants_grad(A):
        return _finish(Eigh.apply(A, UPLO)[0], out)
    return _finish(EighVals.apply(A, UPLO), out)


# ---- general eigendecomposition -----------------------------------------------------------------

def _eig_arrays(xp, A, vectors):
    """LAPACK's geev through NumPy (on the host for CuPy, which has none), always complex."""
    host = A if xp is np else A.get()
    complex_dtype = np.result_type(host.dtype, np.complex64)
    if vectors:
        w, V = np.linalg.eig(host)
        out = w.astype(complex_dtype), V.astype(complex_dtype)
    else:
        out = (np.linalg.eigvals(host).astype(complex_dtype),)
    return out if xp is np else tuple(xp.asarray(o) for o in out)


class Eig(Function):
    _raw = True
    op_name = "linalg.eig"

    @staticmethod
    def forward(ctx, A):
        L, V = _eig_arrays(ctx.xp, A, True)
        ctx.real_input = A.dtype.kind != "c"
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(L, V)
        return L, V

    @staticmethod
    def backward(ctx, gL, gV):
        L, V = ctx.saved_tensors
        Vh = mH(V)
        inner = 0
        if gV is not None:
            VhgV = Vh @ gV
            # Eigenvectors have norm 1: project out the change of each vector's norm.
            VhgV = VhgV - Vh @ (V * _diagonal(VhgV).real.unsqueeze(-2).to(V.dtype))
            E = (L.unsqueeze(-2) - L.unsqueeze(-1)).conj() + eye_like(V)
            inner = _off_diagonal(VhgV / E)
        if gL is not None:
            inner = inner + diag_embed(gL)
        grad = solve(Vh, inner @ Vh)
        return grad.real if ctx.real_input else grad


class EigVals(Function):
    _raw = True
    op_name = "linalg.eigvals"

    @staticmethod
    def forward(ctx, A):
        return _eig_arrays(ctx.xp, A, False)[0]


def eig(A, *, out=None):
    check_matrix("linalg.eig", A, square=True)
    return _finish(eig_result(*Eig.apply(A)), out)


def eigvals(A, *, out=None):
    check_matrix("linalg.eigvals", A, square=True)
    if _wants_grad(A):
        return _finish(Eig.apply(A)[0], out)
    return _finish(EigVals.apply(A), out)


# ---- determinants -------------------------------------------------------------------------------

class Det(Function):
    _raw = True
    op_name = "linalg.det"

    @staticmethod
    def forward(ctx, A):
        d = ctx.xp.asarray(ctx.xp.linalg.det(A))
        ctx.save_for_backward(A, d)
        return d

    @staticmethod
    def backward(ctx, grad):
        A, d = ctx.saved_tensors
        if not (d._data == 0).any():  # the cofactor matrix conj(det) A^{-H}
            return (grad * conj(d)).unsqueeze(-1).unsqueeze(-1) * mH(inv(A))
        # Singular matrices: cofactors from the SVD, A = U S Vh, with the products of all
        # singular values but one (finite where the inverse is not).
        U, S, Vh = SVD.apply(A, False)
        alpha = conj(Det.apply(U) * Det.apply(Vh))
        n = S.shape[-1]
        eye = eye_like(S.unsqueeze(-1), n)
        others = (S.unsqueeze(-2) * (1 - eye) + eye).prod(-1)
        D = (alpha * grad).unsqueeze(-1) * others.to(U.dtype)
        return (U * D.unsqueeze(-2)) @ Vh


class Slogdet(Function):
    _raw = True
    op_name = "linalg.slogdet"

    @staticmethod
    def forward(ctx, A):
        sign, logabsdet = (ctx.xp.asarray(r) for r in ctx.xp.linalg.slogdet(A))
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(A, sign)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, g_sign, g_logabsdet):
        A, sign = ctx.saved_tensors
        complex_input = A.is_complex()
        if g_logabsdet is None and (g_sign is None or not complex_input):
            return None
        g = g_logabsdet
        if complex_input and g_sign is not None:  # d sign = i sign Im(tr(A^{-1} dA))
            phase = 1j * (conj(sign) * g_sign).imag
            g = phase if g is None else g + phase
        return g.to(A.dtype).unsqueeze(-1).unsqueeze(-1) * mH(inv(A))


def det(A, *, out=None):
    check_matrix("linalg.det", A, square=True)
    return _finish(Det.apply(A), out)


def slogdet(A, *, out=None):
    check_matrix("linalg.slogdet", A, square=True)
    return _finish(slogdet_result(*Slogdet.apply(A)), out)


@top_level("det")
def _torch_det(input):
    return det(input)


@top_level("slogdet")
def _torch_slogdet(input, *, out=None):
    return _finish(torch_slogdet_result(*slogdet(input)), out)


@public
def logdet(input):
    """log(det(A)): NaN (with a zero gradient) for a negative determinant of a real matrix,
    -inf for a singular one."""
    check_matrix("logdet", input, square=True)
    sign, logabsdet = Slogdet.apply(input)
    if input.is_complex():
        return logabsdet + sign.log()
    from .. import where
    xp = input._xp()
    nan = _new_tensor(xp.asarray(np.nan, dtype=logabsdet._data.dtype))
    return where(_new_tensor(xp.asarray(sign._data < 0)), nan, logabsdet)
