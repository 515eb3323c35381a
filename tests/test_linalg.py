"""ember.linalg (and the top-level linalg functions) against torch.linalg: values, dtypes, named
results, gradients, float64 gradcheck/gradgradcheck, and errors."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
import helpers
from helpers import check, gradcheck_fn, randn, randint, raises, to_numpy

F32, F64, C64 = np.float32, np.float64, np.complex64


def crandn(*shape):
    return (randn(*shape) + 1j * randn(*shape)).astype(C64)


def sample(*shape, dtype=F32):
    return crandn(*shape) if dtype == C64 else randn(*shape).astype(dtype)


def wellcond(*shape, dtype=F32):
    """Square matrices U diag(s) V with singular values s in [1, 2]: condition number <= 2."""
    u = np.linalg.qr(sample(*shape, dtype=dtype).astype(np.complex128 if dtype == C64 else F64))[0]
    v = np.linalg.qr(sample(*shape, dtype=dtype).astype(u.dtype))[0]
    s = 1 + helpers.RNG.random(shape[:-1])
    return ((u * s[..., None, :]) @ v).astype(dtype)


def triangular(*shape, dtype=F32):
    """Matrices whose triangles are well conditioned: small entries, 3 on the diagonal."""
    return (0.3 * sample(*shape, dtype=dtype) + 3 * np.eye(shape[-1])).astype(dtype)


def spd(*shape, dtype=F32):
    """Hermitian positive-definite matrices X X^H + I."""
    x = sample(*shape, dtype=dtype)
    return (x @ np.conj(np.swapaxes(x, -1, -2)) + np.eye(shape[-1])).astype(dtype)


def hermitian(*shape, dtype=F32):
    x = sample(*shape, dtype=dtype)
    return ((x + np.conj(np.swapaxes(x, -1, -2))) / 2).astype(dtype)


def indefinite(*batch):
    """Symmetric matrices with eigenvalues 3, -2, 1.5: indefinite but well conditioned."""
    q = np.linalg.qr(randn(*batch, 3, 3, dtype=F64))[0]
    return ((q * np.array([3.0, -2.0, 1.5])) @ np.swapaxes(q, -1, -2)).astype(F32)


def mH(lib, t):
    return t.mT.conj() if t.is_complex() else t.mT


DTYPES = [F32, F64, C64]
SQUARE_SHAPES = [(3, 3), (2, 3, 3), (2, 1, 2, 2), (1, 1), (0, 0), (2, 0, 0)]


# ---- inverse and determinants -------------------------------------------------------------------

@pytest.mark.parametrize("shape", SQUARE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_inv(shape, dtype):
    a = wellcond(*shape, dtype=dtype)
    check(lambda lib, x: lib.linalg.inv(x), a, atol=1e-4, rtol=1e-4)
    check(lambda lib, x: lib.linalg.inv_ex(x), a, atol=1e-4, rtol=1e-4)
    check(lambda lib, x: x.inverse(), a, atol=1e-4, rtol=1e-4)


def test_inv_gradcheck():
    gradcheck_fn(lambda lib, x: lib.linalg.inv(x), wellcond(2, 3, 3))
    gradcheck_fn(lambda lib, x: lib.inverse(x), wellcond(2, 2, dtype=C64))


def test_inv_ex_info_and_errors():
    batch = np.stack([np.eye(3), np.zeros((3, 3)), np.diag([1.0, 2.0, 0.0])]).astype(F32)
    r = ember.linalg.inv_ex(ember.tensor(batch))
    assert type(r).__name__ == "linalg_inv_ex" and r._fields == ("inverse", "info")
    assert r.info.dtype == ember.int32 and r.info.tolist() == [0, 1, 3]
    np.testing.assert_allclose(r.inverse[0].numpy(), np.eye(3))
    raises(ember.linalg.LinAlgError, r"^linalg\.inv: \(Batch element 1\): The diagonal element 1 "
           r"is zero, the inversion could not be completed because the input matrix is singular",
           ember.linalg.inv, ember.tensor(batch))
    e = raises(RuntimeError, r"^linalg\.inv: The diagonal element 3 is zero",
               ember.linalg.inv, ember.tensor(batch[2]))
    assert isinstance(e, ember.LinAlgError)
    raises(ember.linalg.LinAlgError, r"diagonal element 2", ember.linalg.inv_ex,
           ember.tensor(batch[2:] * 0 + np.diag([1.0, 0, 1]).astype(F32)), check_errors=True)
    raises(RuntimeError, r"linalg\.inv: A must be batches of square matrices, but they are 3 by 4",
           ember.linalg.inv, ember.ones(3, 4))
    raises(RuntimeError, r"linalg\.inv: The input tensor A must have at least 2 dimensions",
           ember.linalg.inv, ember.ones(3))
    raises(RuntimeError, r"linalg\.inv: Expected a floating point or complex tensor as input. "
           r"Got int64", ember.linalg.inv, ember.ones(2, 2, dtype=ember.int64))
    raises(RuntimeError, r"linalg\.inv: Low precision dtypes not supported. Got float16",
           ember.linalg.inv, ember.ones(2, 2, dtype=ember.float16))


@pytest.mark.parametrize("shape", SQUARE_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_det_slogdet(shape, dtype):
    a = sample(*shape, dtype=dtype)
    check(lambda lib, x: lib.linalg.det(x), a, atol=1e-4, rtol=1e-4)
    check(lambda lib, x: lib.linalg.slogdet(x), a, atol=1e-4, rtol=1e-4)
    check(lambda lib, x: x.det(), a, atol=1e-4, rtol=1e-4)


def test_slogdet_named_and_logdet():
    a = randn(2, 3, 3)
    r = ember.linalg.slogdet(ember.tensor(a))
    assert type(r).__name__ == "linalg_slogdet" and r._fields == ("sign", "logabsdet")
    assert type(ember.slogdet(ember.tensor(a))).__name__ == "slogdet"
    assert type(ember.tensor(a).slogdet()).__name__ == "slogdet"
    negative = np.diag([-1.0, 2.0, 3.0]).astype(F32)
    singular = np.ones((3, 3), F32)
    for x in (a, negative, singular, wellcond(3, 3, dtype=C64)):
        check(lambda lib, t: lib.logdet(t), x, grad=x is not singular, atol=1e-4, rtol=1e-4)
    check(lambda lib, t: t.logdet(), spd(2, 3, 3, dtype=F64))


def test_det_singular_gradients():
    # rank-deficient matrices: torch's gradient is the (finite) cofactor matrix
    rank2 = np.array([[1.0, 2, 3], [2, 4, 6], [1, 0, 1]])
    rank1 = np.ones((3, 3))
    for a in (rank2, rank1, np.stack([rank2, np.eye(3)])):
        check(lambda lib, x: lib.linalg.det(x), a)
    gradcheck_fn(lambda lib, x: lib.linalg.det(x), rank2, gradgrad=False)


def test_det_gradcheck():
    gradcheck_fn(lambda lib, x: lib.linalg.det(x), randn(2, 3, 3))
    gradcheck_fn(lambda lib, x: lib.linalg.det(x), crandn(2, 2))
    gradcheck_fn(lambda lib, x: lib.linalg.slogdet(x).logabsdet, randn(2, 3, 3))
    gradcheck_fn(lambda lib, x: lib.linalg.slogdet(x), crandn(2, 2))
    gradcheck_fn(lambda lib, x: lib.logdet(x), spd(3, 3))


def test_det_errors():
    raises(RuntimeError, r"linalg\.det: A must be batches of square matrices, but they are 2 by 3",
           ember.linalg.det, ember.ones(2, 3))
    raises(RuntimeError, r"linalg\.det: Expected a floating point or complex tensor as input. "
           r"Got int64", ember.det, ember.ones(2, 2, dtype=ember.int64))


# ---- solvers ----------------------------------------------------------------------------------

SOLVE_SHAPES = [
    ((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3,)),
    ((2, 3, 3), (3, 2)), ((2, 3, 3), (4, 1, 3, 2)), ((1, 3, 3), (2, 3, 1)), ((2, 3, 3), (2, 3, 1)),
    ((0, 3, 3), (3, 2)), ((2, 0, 0), (2, 0, 2)),
]


@pytest.mark.parametrize("sa,sb", SOLVE_SHAPES)
def test_solve(sa, sb):
    a, b = wellcond(*sa), randn(*sb)
    check(lambda lib, x, y: lib.linalg.solve(x, y), a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("sa,sb", [((3, 3), (2, 3)), ((2, 3, 3), (2, 4, 3)), ((3, 3), (1, 3))])
def test_solve_right(sa, sb):
    a, b = wellcond(*sa), randn(*sb)
    check(lambda lib, x, y: lib.linalg.solve(x, y, left=False), a, b, atol=1e-4, rtol=1e-4)
    # as in PyTorch, a vector B is a column: it cannot be solved from the right
    raises(RuntimeError, r"linalg\.solve: Incompatible shapes of A and B for the equation XA = B "
           r"\(3x3 and 3x1\)", ember.linalg.solve, ember.eye(3), ember.ones(3), left=False)


def test_solve_complex_ex_and_gradcheck():
    a, b = wellcond(2, 3, 3, dtype=C64), crandn(2, 3, 2)
    check(lambda lib, x, y: lib.linalg.solve_ex(x, y), a, b, atol=1e-4, rtol=1e-4)
    gradcheck_fn(lambda lib, x, y: lib.linalg.solve(x, y), wellcond(2, 3, 3), randn(3, 2))
    gradcheck_fn(lambda lib, x, y: lib.linalg.solve(x, y), wellcond(3, 3), randn(2, 3, 1))
    gradcheck_fn(lambda lib, x, y: lib.linalg.solve(x, y), wellcond(2, 3, 3), randn(2, 3))
    gradcheck_fn(lambda lib, x, y: lib.linalg.solve(x, y, left=False), wellcond(2, 2, dtype=C64),
                 crandn(1, 2))


def test_solve_errors():
    raises(ember.linalg.LinAlgError, r"^linalg\.solve: The solver failed because the input matrix "
           r"is singular", ember.linalg.solve, ember.zeros(3, 3), ember.ones(3))
    r = ember.linalg.solve_ex(ember.zeros(2, 2), ember.ones(2))
    assert r._fields == ("result", "info") and int(r.info) == 1
    raises(RuntimeError, r"linalg\.solve: Incompatible shapes of A and B for the equation AX = B "
           r"\(3x3 and 4x1\)", ember.linalg.solve, ember.eye(3), ember.ones(4))
    raises(RuntimeError, r"linalg\.solve: Expected A and B to have the same dtype, but found A of "
           r"type float32 and B of type float64", ember.linalg.solve, ember.eye(3),
           ember.ones(3, dtype=ember.float64))
    raises(RuntimeError, r"linalg\.solve: the batch dims .* cannot be broadcast",
           ember.linalg.solve, ember.ones(2, 3, 3), ember.ones(3, 3, 1))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular(upper, left, unit):
    a, b = triangular(2, 3, 3), randn(2, 3, 2) if left else randn(2, 2, 3)
    fn = lambda lib, x, y: lib.linalg.solve_triangular(x, y, upper=upper, left=left,  # noqa: E731
                                                       unitriangular=unit)
    check(fn, a, b, atol=1e-4, rtol=1e-4)
    gradcheck_fn(fn, triangular(3, 3), randn(1, 3, 2) if left else randn(1, 2, 3))


def test_solve_triangular_more():
    # broadcast batch dims, complex, a zero diagonal (inf/nan, no error, as trsm)
    check(lambda lib, x, y: lib.linalg.solve_triangular(x, y, upper=False), triangular(2, 1, 3, 3),
          randn(4, 3, 1), atol=1e-4, rtol=1e-4)
    check(lambda lib, x, y: lib.linalg.solve_triangular(x, y, upper=True),
          triangular(3, 3, dtype=C64), crandn(3, 2), atol=1e-4, rtol=1e-4)
    singular = np.triu(randn(3, 3))
    singular[1, 1] = 0
    check(lambda lib, x, y: lib.linalg.solve_triangular(x, y, upper=True), singular, randn(3, 2),
          grad=False)
    check(lambda lib, x, y: lib.triangular_solve(y, x, upper=False, transpose=True),
          triangular(3, 3), randn(3, 2), atol=1e-4, rtol=1e-4)
    r = ember.triangular_solve(ember.ones(2, 1), ember.eye(2))
    assert r._fields == ("solution", "cloned_coefficient")
    raises(RuntimeError, r"linalg\.solve_triangular: The input tensor B must have at least 2 "
           r"dimensions", ember.linalg.solve_triangular, ember.eye(3), ember.ones(3), upper=True)
    raises(RuntimeError, r"linalg\.solve_triangular: Incompatible shapes of A and B for the "
           r"equation AX = B \(3x3 and 2x1\)", ember.linalg.solve_triangular, ember.eye(3),
           ember.ones(2, 1), upper=True)


# ---- Cholesky ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (0, 0)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(shape, dtype, upper):
    a = spd(*shape, dtype=dtype)
    check(lambda lib, x: lib.linalg.cholesky(x, upper=upper), a, atol=1e-4, rtol=1e-4)
    check(lambda lib, x: lib.linalg.cholesky_ex(x, upper=upper), a, atol=1e-4, rtol=1e-4)


def test_cholesky_gradcheck_and_legacy():
    # through a map onto positive-definite matrices, as PyTorch's own tests do
    make = lambda lib, x: x @ mH(lib, x) + lib.eye(x.shape[-1], dtype=x.dtype)  # noqa: E731
    gradcheck_fn(lambda lib, x: lib.linalg.cholesky(make(lib, x)), randn(2, 3, 3))
    gradcheck_fn(lambda lib, x: lib.linalg.cholesky(make(lib, x), upper=True), crandn(2, 2))
    check(lambda lib, x: lib.cholesky(x, upper=True), spd(3, 3))
    check(lambda lib, x: x.cholesky(), spd(2, 2, 2))
    b = randn(2, 3, 2)
    for upper in (False, True):
        check(lambda lib, x, y: lib.cholesky_solve(y, lib.linalg.cholesky(x, upper=upper), upper),
              spd(2, 3, 3), b, atol=1e-4, rtol=1e-4)
        check(lambda lib, x: lib.cholesky_inverse(lib.linalg.cholesky(x, upper=upper), upper),
              spd(3, 3), atol=1e-4, rtol=1e-4)


def test_cholesky_errors():
    raises(ember.linalg.LinAlgError, r"^linalg\.cholesky: The factorization could not be completed "
           r"because the input is not positive-definite \(the leading minor of order 1 is not "
           r"positive-definite\)", ember.linalg.cholesky, -ember.eye(3))
    batch = ember.stack([ember.eye(3), ember.tensor(np.diag([1.0, -1, 1]).astype(F32))])
    raises(ember.linalg.LinAlgError, r"\(Batch element 1\): .* leading minor of order 2",
           ember.linalg.cholesky, batch)
    r = ember.linalg.cholesky_ex(batch)
    assert r._fields == ("L", "info") and r.info.tolist() == [0, 2]
    raises(RuntimeError, r"linalg\.cholesky: A must be batches of square matrices",
           ember.linalg.cholesky, ember.ones(2, 3))


# ---- QR -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 4, 2), (0, 3), (3, 0)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr(shape, mode):
    differentiable = mode == "reduced" or (mode == "complete" and shape[-2] <= shape[-1])
    # single precision: gradients through R^-1 and (for wide A) the split of R lose digits
    check(lambda lib, x: lib.linalg.qr(x, mode=mode), randn(*shape), atol=1e-4, rtol=1e-4,
          grad=differentiable, grad_atol=1e-2, grad_rtol=1e-2)


def test_qr_gradcheck_complex_and_legacy():
    gradcheck_fn(lambda lib, x: lib.linalg.qr(x), randn(2, 3, 2))
    gradcheck_fn(lambda lib, x: lib.linalg.qr(x), randn(2, 3))
    gradcheck_fn(lambda lib, x: lib.linalg.qr(x, mode="complete"), randn(2, 2))
    gradcheck_fn(lambda lib, x: lib.linalg.qr(x), crandn(3, 2), gradgrad=False)
    check(lambda lib, x: lib.linalg.qr(x), crandn(2, 3, 2), atol=1e-4, rtol=1e-4)
    check(lambda lib, x: lib.qr(x, some=False), randn(3, 2), atol=1e-4, rtol=1e-4, grad=False)
    r = ember.tensor(randn(3, 2)).qr()
    assert type(r).__name__ == "qr" and r._fields == ("Q", "R")
    assert ember.linalg.qr(ember.ones(2, 2), mode="r").Q.shape == (0,)


def test_qr_backward_errors():
    x = ember.tensor(randn(3, 2), requires_grad=True)
    raises(RuntimeError, r"linalg\.qr: The derivative of linalg\.qr depends on Q, which is not "
           r"computed when mode='r'", lambda: ember.linalg.qr(x, mode="r").R.sum().backward())
    raises(RuntimeError, r"not differentiable when mode='complete' and nrows > ncols",
           lambda: ember.linalg.qr(x, mode="complete").Q.sum().backward())
    raises(RuntimeError, r"linalg\.qr: qr received unrecognized mode 'full'", ember.linalg.qr,
           ember.ones(2, 2), "full")


# ---- SVD ----------------------------------------------------------------------------------------

def _svd_invariants(lib, x, full):
    """Functions of the SVD that do not depend on the singular vectors' signs/phases."""
    U, S, Vh = lib.linalg.svd(x, full_matrices=full)
    k = S.shape[-1]
    return S, U[..., :k] @ Vh[..., :k, :], U[..., :k].abs()


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 3, 2), (0, 3), (2, 0, 2)])
@pytest.mark.parametrize("full", [True, False])
@pytest.mark.parametrize("dtype", [F32, C64])
def test_svd(shape, full, dtype):
    # singular-vector gradients scale with 1 / (s_i^2 - s_j^2): looser in single precision
    check(lambda lib, x: _svd_invariants(lib, x, full), sample(*shape, dtype=dtype), atol=1e-4,
          rtol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)
    check(lambda lib, x: lib.linalg.svdvals(x), sample(*shape, dtype=dtype), atol=1e-4, rtol=1e-4)
    e = ember.linalg.svd(ember.tensor(sample(*shape, dtype=dtype)), full_matrices=full)
    t = torch.linalg.svd(torch.tensor(sample(*shape, dtype=dtype)), full_matrices=full)
    assert type(e).__name__ == "linalg_svd" and e._fields == ("U", "S", "Vh")
    assert [tuple(a.shape) for a in e] == [tuple(b.shape) for b in t]


def test_svd_gradcheck():
    for shape in ((3, 2), (2, 3), (2, 2, 2)):
        gradcheck_fn(lambda lib, x: _svd_invariants(lib, x, False), randn(*shape))
    gradcheck_fn(lambda lib, x: lib.linalg.svdvals(x), randn(2, 3))
    gradcheck_fn(lambda lib, x: _svd_invariants(lib, x, False)[:2], crandn(3, 2), gradgrad=False)


def test_legacy_svd():
    a = randn(4, 3)
    check(lambda lib, x: (lambda r: (r.S, r.U @ r.V.mT))(lib.svd(x)), a, atol=1e-5)
    check(lambda lib, x: (lambda r: (r.S, r.U[:, :3] @ r.V.mT))(x.svd(some=False)), a, atol=1e-5)
    check(lambda lib, x: lib.svd(x, compute_uv=False), a, atol=1e-5, grad=False)
    assert type(ember.svd(ember.tensor(a))).__name__ == "svd"
    raises(RuntimeError, r"linalg\.svd: keyword argument `driver=` is only supported on CUDA",
           ember.linalg.svd, ember.ones(2, 2), driver="gesvd")


# ---- eigendecompositions ------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (2, 3, 3), (0, 0)])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh(shape, dtype, uplo):
    a = sample(*shape, dtype=dtype)  # only the UPLO triangle is read

    def fn(lib, x):
        L, V = lib.linalg.eigh(x, UPLO=uplo)
        return L, V.abs(), lib.linalg.eigvalsh(x, UPLO=uplo)
    check(fn, hermitian(*shape, dtype=dtype), atol=1e-4, rtol=1e-4)
    check(lambda lib, x: lib.linalg.eigvalsh(x, uplo), a, atol=1e-4, rtol=1e-4, grad=False)


def test_eigh_gradcheck():
    sym = lambda x: x + mH(None, x)  # noqa: E731
    gradcheck_fn(lambda lib, x: lib.linalg.eigh(sym(x)).eigenvalues, randn(2, 3, 3))
    gradcheck_fn(lambda lib, x: lib.linalg.eigh(sym(x)).eigenvectors.abs(), randn(3, 3))
    gradcheck_fn(lambda lib, x: lib.linalg.eigvalsh(sym(x)), crandn(2, 2))
    gradcheck_fn(lambda lib, x: lib.linalg.eigh(sym(x)).eigenvectors.abs(), crandn(2, 2),
                 gradgrad=False)
    r = ember.linalg.eigh(ember.eye(2))
    assert type(r).__name__ == "linalg_eigh" and r._fields == ("eigenvalues", "eigenvectors")
    raises(RuntimeError, r"linalg\.eigh: Expected UPLO argument to be 'L' or 'U', but got W",
           ember.linalg.eigh, ember.eye(2), UPLO="W")


def _eig_invariants(lib, x):
    """Permutation- and phase-invariant functions of eig: power sums of the eigenvalues and
    V diag(L^2) V^-1 (= A^2)."""
    L, V = lib.linalg.eig(x)
    return ((L ** 2).sum(-1), (L ** 3).sum(-1),
            lib.linalg.solve(V, V * (L ** 2).unsqueeze(-2), left=False))


@pytest.mark.parametrize("dtype", [F32, F64, C64])
def test_eig(dtype):
    a = sample(2, 3, 3, dtype=dtype)
    # gradients scale with 1 / (eigenvalue gaps): in single precision they keep ~3 digits
    loose = 1e-3 if dtype == F64 else 1e-2
    check(_eig_invariants, a, atol=1e-3, rtol=1e-3, grad_atol=loose, grad_rtol=loose)
    e = ember.linalg.eig(ember.tensor(a))
    t = torch.linalg.eig(torch.tensor(a))
    assert e.eigenvalues.dtype.name == str(t.eigenvalues.dtype).replace("torch.", "")
    key = lambda v: np.lexsort((v.imag.round(4), v.real.round(4)))  # noqa: E731
    for ev, tv in zip(to_numpy(ember.linalg.eigvals(ember.tensor(a))), to_numpy(t.eigenvalues)):
        np.testing.assert_allclose(ev[key(ev)], tv[key(tv)], atol=1e-4, rtol=1e-4)
    # A V = V diag(L)
    A, V, L = (to_numpy(v) for v in (ember.tensor(a), e.eigenvectors, e.eigenvalues))
    np.testing.assert_allclose(A @ V, V * L[..., None, :], atol=1e-4, rtol=1e-4)
    assert type(e).__name__ == "linalg_eig"


def test_eig_gradcheck():
    gradcheck_fn(lambda lib, x: _eig_invariants(lib, x)[:2], randn(3, 3), gradgrad=False)
    gradcheck_fn(lambda lib, x: _eig_invariants(lib, x)[2], crandn(2, 2), gradgrad=False)
    check(lambda lib, x: (lib.linalg.eigvals(x) ** 2).sum(), randn(3, 3), atol=1e-4, rtol=1e-4)


# ---- pinv, matrix_rank, lstsq ------------------------------------------------------------------

def rank_deficient(m, n, r, dtype=F32):
    return (randn(m, r, dtype=F64) @ randn(r, n, dtype=F64)).astype(dtype)


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (2, 3, 3), (0, 3), (3, 0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pinv(shape, dtype):
    square = shape[-1] == shape[-2]
    a = wellcond(*shape, dtype=dtype) if square else sample(*shape, dtype=dtype)
    check(lambda lib, x: lib.linalg.pinv(x), a, atol=1e-4, rtol=1e-3)


def test_pinv_options():
    a = rank_deficient(4, 3, 2)
    check(lambda lib, x: lib.linalg.pinv(x), a, atol=1e-4, rtol=1e-3, grad=False)
    check(lambda lib, x: lib.linalg.pinv(x, atol=0.5), a, atol=1e-4, rtol=1e-3, grad=False)
    check(lambda lib, x: lib.linalg.pinv(x, rtol=0.3), a, atol=1e-4, rtol=1e-3, grad=False)
    check(lambda lib, x: lib.linalg.pinv(x, hermitian=True), indefinite(2), atol=1e-4,
          rtol=1e-4)
    check(lambda lib, x, t: lib.linalg.pinv(x, atol=t), randn(2, 3, 3), np.array([0.1, 10.0]),
          atol=1e-4, rtol=1e-3, grad=False)
    check(lambda lib, x: lib.pinverse(x, rcond=0.2), a, atol=1e-4, rtol=1e-3, grad=False)
    check(lambda lib, x: x.pinverse(), randn(3, 2), atol=1e-4, rtol=1e-3)


def test_pinv_gradcheck():
    gradcheck_fn(lambda lib, x: lib.linalg.pinv(x), randn(3, 2))
    gradcheck_fn(lambda lib, x: lib.linalg.pinv(x), randn(2, 2, 3))
    gradcheck_fn(lambda lib, x: lib.linalg.pinv(x + mH(lib, x), hermitian=True), randn(3, 3))
    gradcheck_fn(lambda lib, x: lib.linalg.pinv(x), crandn(2, 3), gradgrad=False)


def test_matrix_rank():
    a = np.stack([rank_deficient(4, 3, 1), rank_deficient(4, 3, 2), randn(4, 3)])
    check(lambda lib, x: lib.linalg.matrix_rank(x), a)
    check(lambda lib, x: lib.linalg.matrix_rank(x, atol=1.0, rtol=0.1), a)
    check(lambda lib, x: lib.linalg.matrix_rank(x, hermitian=True), hermitian(2, 3, 3))
    check(lambda lib, x, t: lib.linalg.matrix_rank(x, atol=t), np.ones((2, 3, 3), F32),
          np.array([0.5, 100.0], F32))
    check(lambda lib, x: lib.linalg.matrix_rank(x), np.zeros((0, 3), F32))


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
@pytest.mark.parametrize("sa,sb", [((5, 3), (5, 2)), ((2, 5, 3), (2, 5)), ((5, 3), (5,)),
                                   ((2, 5, 3), (1, 5, 2))])
def test_lstsq(driver, sa, sb):
    check(lambda lib, a, b: lib.linalg.lstsq(a, b, driver=driver), randn(*sa), randn(*sb),
          atol=1e-4, rtol=1e-4, grad_atol=1e-3, grad_rtol=1e-3)


def test_lstsq_more():
    # underdetermined and rank-deficient (min-norm solutions)
    check(lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd"), randn(3, 5), randn(3, 2),
          atol=1e-4, rtol=1e-3)
    check(lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd"), rank_deficient(5, 3, 2, F64),
          randn(5, 2).astype(F64), grad=False)
    gradcheck_fn(lambda lib, a, b: lib.linalg.lstsq(a, b).solution, randn(4, 2), randn(4, 2))
    gradcheck_fn(lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd")[:2], randn(4, 2),
                 randn(4, 1))
    r = ember.linalg.lstsq(ember.ones(3, 2), ember.ones(3, 1))
    assert type(r).__name__ == "linalg_lstsq"
    assert r._fields == ("solution", "residuals", "rank", "singular_values")
    raises(RuntimeError, r"linalg\.lstsq: Expected input and other to have the same dtype",
           ember.linalg.lstsq, ember.ones(3, 2), ember.ones(3, 1, dtype=ember.float64))
    raises(RuntimeError, r"linalg\.lstsq: input\.size\(-2\) should match other\.size\(-2\)",
           ember.linalg.lstsq, ember.ones(3, 2), ember.ones(4, 1))
    raises(RuntimeError, r"linalg\.lstsq: parameter `driver` should be one of", ember.linalg.lstsq,
           ember.ones(3, 2), ember.ones(3, 1), driver="foo")


# ---- norms --------------------------------------------------------------------------------------

VECTOR_ORDS = [2, 1, math.inf, -math.inf, 0, 3, 0.5, -1, 1.5]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), ((0, 2), True), (-1, True)])
def test_vector_norm(ord, dim, keepdim):
    x = randn(2, 3, 4)
    x[0, 1] = 0  # exact zeros (gradients there) and a slice that is all zero
    x[1, 2, 1] = 0
    check(lambda lib, t: lib.linalg.vector_norm(t, ord, dim, keepdim), x, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("ord", [2, 1, math.inf, 3, 0.5, -1.5])
def test_vector_norm_gradcheck(ord):
    gradcheck_fn(lambda lib, t: lib.linalg.vector_norm(t, ord, dim=-1), randn(2, 3))
    gradcheck_fn(lambda lib, t: lib.linalg.vector_norm(t, ord), crandn(3), gradgrad=ord != 1)


def test_vector_norm_edges():
    check(lambda lib, t: lib.linalg.vector_norm(t), randn())
    check(lambda lib, t: lib.linalg.vector_norm(t, dim=()), randn(2, 3))
    check(lambda lib, t: lib.linalg.vector_norm(t), np.zeros((2, 3), F32))  # gradient 0 at 0
    check(lambda lib, t: lib.linalg.vector_norm(t, 0.5), np.zeros((0, 3), F32))
    check(lambda lib, t: lib.linalg.vector_norm(t, -1, dim=1), np.zeros((0, 3), F32))
    check(lambda lib, t: lib.linalg.vector_norm(t, dtype=lib.float64), randn(3))
    check(lambda lib, t: lib.linalg.vector_norm(t, 3, dtype=lib.complex128), crandn(3))
    check(lambda lib, t: lib.linalg.vector_norm(t.half()).float(), randn(4), atol=1e-2,
          rtol=1e-2)
    check(lambda lib, t: lib.linalg.vector_norm(t, math.inf), np.array([1.0, -3.0, 3.0], F32))
    raises(RuntimeError, r"linalg\.vector_norm cannot compute the inf norm on an empty tensor",
           ember.linalg.vector_norm, ember.ones(0, 3), math.inf)
    raises(RuntimeError, r"linalg\.vector_norm: Expected a floating point or complex tensor as "
           r"input. Got int64", ember.linalg.vector_norm, ember.ones(3, dtype=ember.int64))
    raises(TypeError, r"linalg\.vector_norm: argument 'ord' must be a real number",
           ember.linalg.vector_norm, ember.ones(3), "fro")
    raises(RuntimeError, r"linalg\.vector_norm: dtype should be complex for complex inputs",
           ember.linalg.vector_norm, ember.ones(3, dtype=ember.complex64), dtype=ember.float64)
    raises(RuntimeError, r"should be convertible without narrowing",
           ember.linalg.vector_norm, ember.ones(3, dtype=ember.float64), dtype=ember.float32)


MATRIX_ORDS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False)])
def test_matrix_norm(ord, dim, keepdim):
    check(lambda lib, t: lib.linalg.matrix_norm(t, ord, dim, keepdim), randn(3, 2, 4), atol=1e-4,
          rtol=1e-4)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_gradcheck_complex_empty(ord):
    gradcheck_fn(lambda lib, t: lib.linalg.matrix_norm(t, ord), randn(2, 3, 2),
                 gradgrad=ord not in (1, -1, math.inf, -math.inf))
    check(lambda lib, t: lib.linalg.matrix_norm(t, ord), crandn(2, 3), atol=1e-4, rtol=1e-4)
    if ord in ("fro", "nuc") or ord > 0:
        check(lambda lib, t: lib.linalg.matrix_norm(t, ord), np.zeros((0, 3)))
        check(lambda lib, t: lib.linalg.matrix_norm(t, ord, keepdim=True),
              np.zeros((2, 3, 0), F32))


def test_matrix_norm_errors():
    raises(RuntimeError, r"linalg\.matrix_norm: Order 3 not supported", ember.linalg.matrix_norm,
           ember.ones(3, 3), 3)
    raises(RuntimeError, r"linalg\.matrix_norm: The input tensor A must have at least 2 dim",
           ember.linalg.matrix_norm, ember.ones(3), 1)
    raises(RuntimeError, r"linalg\.matrix_norm: dims must be different. Got \(0, 0\)",
           ember.linalg.matrix_norm, ember.ones(3, 3), dim=(0, 0))


@pytest.mark.parametrize("ord,dim", [(None, None), (None, 1), (None, (0, 1)), (2, None),
                                     ("fro", None), ("nuc", (1, 2)), (math.inf, -1), (1, None),
                                     (-1, (0, 2))])
def test_norm(ord, dim):
    x = randn(2, 3) if dim is None and ord is not None else randn(2, 3, 4)
    check(lambda lib, t: lib.linalg.norm(t, ord, dim), x, atol=1e-4, rtol=1e-4)
    check(lambda lib, t: lib.linalg.norm(t, ord, dim, keepdim=True, dtype=lib.float64), x,
          atol=1e-4, rtol=1e-4)


def test_norm_errors():
    raises(RuntimeError, r"linalg\.norm: If dim is not specified but ord is, the input must be 1D "
           r"or 2D. Got 3D", ember.linalg.norm, ember.ones(2, 3, 3), 2)
    raises(RuntimeError, r"linalg\.norm: If dim is specified, it must be of length 1 or 2",
           ember.linalg.norm, ember.ones(2, 3, 3), None, (0, 1, 2))


@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, math.inf, -math.inf])
def test_cond(p):
    svd_based = p in (None, 2, -2)
    # torch's own backward of cond through inv_ex fails ("modified by an inplace operation")
    check(lambda lib, t: lib.linalg.cond(t, p), wellcond(2, 3, 3), atol=1e-4, rtol=1e-4,
          grad=svd_based)
    if svd_based:
        check(lambda lib, t: lib.linalg.cond(t, p), randn(2, 4), atol=1e-4, rtol=1e-4)
    else:  # singular matrices: inf (the SVD-based ones depend on rounding there)
        batch = np.stack([np.diag([1.0, 2.0, 0.0]), wellcond(3, 3)]).astype(F32)
        check(lambda lib, t: lib.linalg.cond(t, p), batch, grad=False, atol=1e-4, rtol=1e-4)


def test_cond_errors():
    raises(RuntimeError, r"linalg\.cond\(ord=1\): A must be batches of square matrices",
           ember.linalg.cond, ember.ones(3, 2), 1)
    raises(RuntimeError, r"linalg\.cond got an invalid norm type: foo", ember.linalg.cond,
           ember.ones(3, 3), "foo")


# ---- matrix functions ------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
def test_matrix_power(n):
    check(lambda lib, t: lib.linalg.matrix_power(t, n), wellcond(2, 3, 3), atol=1e-4, rtol=1e-3)
    check(lambda lib, t: t.matrix_power(n), wellcond(2, 2, dtype=F64))
    if n != 0:
        gradcheck_fn(lambda lib, t: lib.matrix_power(t, n), wellcond(2, 2))


def test_matrix_power_ints_and_errors():
    check(lambda lib, t: lib.linalg.matrix_power(t, 3), randint(-3, 3, (2, 2, 2)))
    check(lambda lib, t: lib.linalg.matrix_power(t, 2), np.zeros((2, 0, 0), F32))
    raises(RuntimeError, r"linalg\.matrix_power: A must be batches of square matrices",
           ember.linalg.matrix_power, ember.ones(2, 3), 2)
    raises(RuntimeError, r"Expected a floating point or complex tensor as input. Got int64",
           ember.linalg.matrix_power, ember.ones(2, 2, dtype=ember.int64), -1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_matrix_exp(dtype):
    a = sample(2, 3, 3, dtype=dtype)
    a[1] *= 6  # a 1-norm above 5.4: needs scaling and squaring
    # ember computes in double precision: torch's single-precision result differs by ~1e-4
    rtol = 1e-4 if dtype == F64 else 1e-3
    check(lambda lib, t: lib.linalg.matrix_exp(t), a, atol=1e-4, rtol=rtol)
    check(lambda lib, t: t.matrix_exp(), sample(2, 2, dtype=dtype) * 1e-3, atol=1e-5, rtol=1e-5)
    check(lambda lib, t: lib.matrix_exp(t), np.zeros((2, 0, 0), dtype))


def test_matrix_exp_gradcheck():
    gradcheck_fn(lambda lib, t: lib.linalg.matrix_exp(t), randn(2, 2, 2))
    gradcheck_fn(lambda lib, t: lib.linalg.matrix_exp(t), crandn(2, 2), gradgrad=False)
    raises(RuntimeError, r"linalg\.matrix_exp: A must be batches of square matrices",
           ember.linalg.matrix_exp, ember.ones(2, 3))


def test_multi_dot():
    check(lambda lib, *m: lib.linalg.multi_dot(m), randn(3), randn(3, 4), randn(4, 2), randn(2))
    check(lambda lib, *m: lib.linalg.multi_dot(list(m)), randn(2, 5), randn(5, 1), randn(1, 6),
          randn(6, 3))
    check(lambda lib, *m: lib.linalg.multi_dot(m), randn(3), randn(3))
    gradcheck_fn(lambda lib, *m: lib.linalg.multi_dot(m), randn(2), randn(2, 3), randn(3, 2))
    raises(RuntimeError, r"multi_dot\(\): expected at least 2 tensors but got 1",
           ember.linalg.multi_dot, [ember.ones(3)])
    raises(RuntimeError, r"multi_dot\(\): tensors 0 and 1 with shapes \[3, 2\] and \[3, 2\] "
           r"cannot be multiplied", ember.linalg.multi_dot, [ember.ones(3, 2), ember.ones(3, 2)])
    raises(RuntimeError, r"multi_dot\(\): the first tensor must be 1D or 2D but got 3D",
           ember.linalg.multi_dot, [ember.ones(2, 3, 2), ember.ones(2, 2)])
    raises(RuntimeError, r"multi_dot\(\): all tensors must have be the same dtype",
           ember.linalg.multi_dot, [ember.ones(3, 2), ember.ones(2, 2, dtype=ember.float64)])


def test_householder_product():
    check(lambda lib, a, t: lib.linalg.householder_product(a, t), randn(3, 2), randn(0))
    check(lambda lib, a, t: lib.linalg.householder_product(a, t), randn(2, 4, 3), randn(2, 2),
          atol=1e-4, rtol=1e-4)
    check(lambda lib, a, t: lib.orgqr(a, t), crandn(3, 3), crandn(3), atol=1e-4, rtol=1e-4)
    gradcheck_fn(lambda lib, a, t: lib.linalg.householder_product(a, t), randn(3, 2), randn(2))
    raises(RuntimeError, r"input\.shape\[-1\] must be greater than or equal to tau\.shape\[-1\]",
           ember.linalg.householder_product, ember.ones(3, 2), ember.ones(3))
    raises(RuntimeError, r"input\.shape\[-2\] must be greater than or equal to input\.shape\[-1\]",
           ember.linalg.householder_product, ember.ones(2, 3), ember.ones(1))


def test_geqrf_ormqr():
    for a in (randn(2, 4, 3), crandn(3, 3), randn(3, 4)):
        check(lambda lib, x: lib.geqrf(x), a, grad=False, atol=1e-5)
    assert type(ember.geqrf(ember.ones(2, 2))).__name__ == "geqrf"
    for left in (True, False):
        for transpose in (True, False):
            c = randn(2, 4, 2) if left else randn(2, 2, 4)
            a, tau = (t.numpy() for t in torch.geqrf(torch.tensor(randn(2, 4, 3))))
            check(lambda lib, x, t, y: lib.ormqr(x, t, y, left, transpose), a, tau, c,
                  atol=1e-5)
    raises(NotImplementedError, r"the derivative for 'geqrf' is not implemented",
           lambda: ember.geqrf(ember.ones(2, 2, requires_grad=True)).a.sum().backward())


def test_vander_diagonal_vecdot():
    check(lambda lib, x: lib.linalg.vander(x), randn(2, 3))
    check(lambda lib, x: lib.linalg.vander(x, N=5), randint(-3, 3, (4,)))
    check(lambda lib, x: lib.linalg.vander(x, N=3), randn())
    raises(RuntimeError, r"linalg\.vander: N must be greater than 1", ember.linalg.vander,
           ember.ones(1))
    check(lambda lib, x: lib.linalg.diagonal(x, offset=1), randn(2, 3, 4))
    check(lambda lib, x: lib.linalg.diagonal(x, dim1=0, dim2=2), randn(2, 3, 4))
    check(lambda lib, x, y: lib.linalg.vecdot(x, y), randn(2, 3), randn(3))
    check(lambda lib, x, y: lib.linalg.vecdot(x, y, dim=0), crandn(3, 2), crandn(3, 1))
    gradcheck_fn(lambda lib, x, y: lib.linalg.vecdot(x, y), crandn(2, 3), crandn(2, 3))
    raises(RuntimeError, r"linalg\.vecdot: Expected a floating point or complex tensor",
           ember.linalg.vecdot, ember.ones(3, dtype=ember.int64), ember.ones(3, dtype=ember.int64))
    raises(RuntimeError, r"linalg\.vecdot: Expected x and y to have the same dtype",
           ember.linalg.vecdot, ember.ones(3), ember.ones(3, dtype=ember.float64))


def test_tensorinv_tensorsolve():
    a = wellcond(6, 6).reshape(2, 3, 6)
    check(lambda lib, x: lib.linalg.tensorinv(x, ind=1), a.reshape(6, 2, 3), atol=1e-4,
          rtol=1e-4)
    check(lambda lib, x: lib.linalg.tensorinv(x, ind=1), wellcond(4, 4).reshape(4, 2, 2),
          atol=1e-4, rtol=1e-4)
    check(lambda lib, x, y: lib.linalg.tensorsolve(x, y), a.reshape(2, 3, 6), randn(2, 3),
          atol=1e-4, rtol=1e-4)
    check(lambda lib, x, y: lib.linalg.tensorsolve(x, y, dims=(0,)),
          wellcond(6, 6).reshape(6, 2, 3), randn(2, 3), atol=1e-4, rtol=1e-4)
    check(lambda lib, x, y: lib.linalg.tensorsolve(x, y, dims=(0, 2)),
          wellcond(6, 6).reshape(2, 3, 6), randn(2, 3), atol=1e-4, rtol=1e-4)


# ---- cross, cdist -------------------------------------------------------------------------------

@pytest.mark.parametrize("sa,sb,dim", [((3,), (3,), -1), ((2, 3), (2, 3), -1), ((2, 3), (1, 3), 1),
                                       ((3, 2), (3, 2), 0), ((4, 3, 2), (1, 3, 2), 1)])
def test_cross(sa, sb, dim):
    check(lambda lib, x, y: lib.linalg.cross(x, y, dim=dim), randn(*sa), randn(*sb))
    gradcheck_fn(lambda lib, x, y: lib.linalg.cross(x, y, dim=dim), randn(*sa), randn(*sb))
    check(lambda lib, x, y: lib.cross(x, y, dim), randn(*sa), randn(*sb))


def test_cross_more():
    check(lambda lib, x, y: lib.linalg.cross(x, y), crandn(2, 3), crandn(2, 3))
    gradcheck_fn(lambda lib, x, y: lib.linalg.cross(x, y), crandn(3), crandn(3))
    check(lambda lib, x, y: lib.linalg.cross(x, y), randint(-3, 3, (2, 3)), randint(-3, 3, (2, 3)))
    raises(RuntimeError, r"linalg\.cross: expected both inputs to have the same dtype",
           ember.linalg.cross, ember.ones(3), ember.ones(3, dtype=ember.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x, y: x.cross(y), randn(3, 2), randn(3, 2))  # first dim of size 3
        check(lambda lib, x, y: lib.cross(x, y), randn(1, 3), randn(3, 3))
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        ember.cross(ember.ones(3), ember.ones(3))
    raises(RuntimeError, r"linalg\.cross: inputs dimension -1 must have length 3. Got 2 and 2",
           ember.linalg.cross, ember.ones(3, 2), ember.ones(3, 2))
    raises(RuntimeError, r"linalg\.cross: inputs must have the same number of dimensions",
           ember.linalg.cross, ember.ones(2, 3), ember.ones(3))
    raises(RuntimeError, r"cross: no dimension of size 3 in input", ember.cross, ember.ones(2, 4),
           ember.ones(2, 4))


CDIST_MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
               "donot_use_mm_for_euclid_dist"]


@pytest.mark.parametrize("p", [2.0, 1.0, 0.0, 3.0, 0.5, math.inf])
@pytest.mark.parametrize("sa,sb", [((4, 3), (5, 3)), ((2, 4, 3), (5, 3)), ((2, 1, 4, 3), (3, 2, 3)),
                                   ((30, 2), (3, 2)), ((0, 3), (2, 3))])
def test_cdist(p, sa, sb):
    a, b = randn(*sa), randn(*sb)
    if a.shape[-2] and b.shape[-2]:
        a[..., 0, :] = b.reshape(-1, b.shape[-1])[0]  # a zero distance (subgradient 0)
    check(lambda lib, x, y: lib.cdist(x, y, p), a, b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("mode", CDIST_MODES)
def test_cdist_modes_and_gradcheck(mode):
    a, b = randn(2, 3, 2).astype(F64), randn(4, 2).astype(F64)
    check(lambda lib, x, y: lib.cdist(x, y, compute_mode=mode), a, b, atol=1e-6)
    gradcheck_fn(lambda lib, x, y: lib.cdist(x, y, compute_mode=mode), a, b)
    gradcheck_fn(lambda lib, x, y: lib.cdist(x, y, 1.5, compute_mode=mode), a, b)


def test_cdist_errors():
    raises(RuntimeError, r"cdist: X1 and X2 must have the same number of columns. X1: 3 X2: 4",
           ember.cdist, ember.ones(2, 3), ember.ones(4, 4))
    raises(RuntimeError, r"cdist only supports floating-point dtypes, X1 got: int64",
           ember.cdist, ember.ones(2, 3, dtype=ember.int64), ember.ones(4, 3, dtype=ember.int64))
    raises(RuntimeError, r"cdist only supports non-negative p values", ember.cdist,
           ember.ones(2, 3), ember.ones(4, 3), -1)
    raises(ValueError, r"cdist: x is not a valid value for compute_mode", ember.cdist,
           ember.ones(2, 3), ember.ones(4, 3), compute_mode="x")
    raises(RuntimeError, r"cdist only supports at least 2D tensors, X1 got: 1D", ember.cdist,
           ember.ones(3), ember.ones(4, 3))
    raises(RuntimeError, r"cdist: the batch dims", ember.cdist, ember.ones(2, 2, 3),
           ember.ones(3, 4, 3))


# ---- LU -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (4, 3), (3, 5), (2, 0, 0)])
@pytest.mark.parametrize("dtype", [F32, F64, C64])
def test_lu(shape, dtype):
    a = sample(*shape, dtype=dtype)
    tol = dict(atol=1e-4, rtol=1e-4)
    check(lambda lib, x: lib.linalg.lu_factor(x), a, **tol)
    check(lambda lib, x: lib.linalg.lu_factor_ex(x), a, **tol)
    check(lambda lib, x: lib.linalg.lu(x), a, **tol)
    check(lambda lib, x: lib.lu_unpack(*lib.linalg.lu_factor(x)), a, **tol)
    check(lambda lib, x: x.lu(get_infos=True), a, **tol)
    assert type(ember.lu(ember.tensor(a), get_infos=True)).__name__ == "_lu_with_info"


def test_lu_vectorized_fallback_matches():
    # the column-by-column elimination used without SciPy (and on GPUs) gives LAPACK's result
    from ember.linalg._common import _lu_eliminate
    a = np.concatenate([randn(3, 4, 4), np.zeros((1, 4, 4), F32)]).astype(F64)
    a[0, :, 1] = 0  # a zero pivot
    lu, piv, info = _lu_eliminate(np, a)
    t = torch.linalg.lu_factor_ex(torch.tensor(a))
    np.testing.assert_allclose(lu, t.LU.numpy(), atol=1e-12)
    np.testing.assert_array_equal(piv, t.pivots.numpy())
    np.testing.assert_array_equal(info, t.info.numpy())
    c = crandn(2, 3, 5)
    lu, piv, _ = _lu_eliminate(np, c)
    t = torch.linalg.lu_factor(torch.tensor(c))
    np.testing.assert_allclose(lu, t.LU.numpy(), atol=1e-5)
    np.testing.assert_array_equal(piv, t.pivots.numpy())


@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve(left, adjoint):
    a = wellcond(2, 3, 3)
    b = randn(2, 3, 2) if left else randn(2, 2, 3)
    check(lambda lib, x, y: lib.linalg.lu_solve(*lib.linalg.lu_factor(x), y, left=left,
                                                adjoint=adjoint), a, b, atol=1e-4, rtol=1e-4)
    gradcheck_fn(lambda lib, x, y: lib.linalg.lu_solve(*lib.linalg.lu_factor(x), y, left=left,
                                                       adjoint=adjoint), wellcond(3, 3),
                 b[0], gradgrad=False)


def test_lu_legacy_and_errors():
    a, b = wellcond(3, 3, dtype=F64), randn(3, 2).astype(F64)
    check(lambda lib, x, y: lib.lu_solve(y, *lib.linalg.lu_factor(x)), a, b)
    for shape in ((3, 3), (2, 3), (3, 2)):
        gradcheck_fn(lambda lib, x: lib.linalg.lu_factor(x).LU, randn(*shape))
    r = ember.linalg.lu_factor_ex(ember.tensor(np.zeros((2, 2), F32)))
    assert r._fields == ("LU", "pivots", "info") and int(r.info) == 1
    assert ember.linalg.lu(ember.eye(2))._fields == ("P", "L", "U")
    raises(RuntimeError, r"linalg\.lu_factor: U\[1,1\] is zero and using it on lu_solve would "
           r"result in a division by zero", ember.linalg.lu_factor,
           ember.tensor([[0.0, 1.0], [0.0, 2.0]]))
    raises(RuntimeError, r"linalg\.lu_factor: LU without pivoting is not implemented on the CPU",
           ember.linalg.lu_factor, ember.eye(2), pivot=False)


def test_deprecated_forms_warn():
    from ember.ops import linalg as ops_linalg
    a = ember.tensor(wellcond(3, 3))
    calls = {"torch.qr": lambda: ember.qr(a), "torch.cholesky": lambda: ember.cholesky(a @ a.mT),
             "torch.triangular_solve": lambda: ember.triangular_solve(ember.ones(3, 1), a),
             "torch.lu": lambda: ember.lu(a),
             "torch.lu_solve": lambda: ember.lu_solve(ember.ones(3, 1),
                                                      *ember.linalg.lu_factor(a)),
             "torch.chain_matmul": lambda: ember.chain_matmul(a, a)}
    for name, call in calls.items():
        ops_linalg._WARNED.discard(name)
        with pytest.warns(UserWarning, match=f"^{name} is deprecated"):
            call()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            call()  # once per process, as PyTorch's TORCH_WARN_ONCE


# ---- out=, Tensor methods, GPU -----------------------------------------------------------------

def test_out_and_methods():
    a = wellcond(3, 3)
    out = ember.empty(0)
    ember.linalg.inv(ember.tensor(a), out=out)
    np.testing.assert_allclose(out.numpy(), np.linalg.inv(a), rtol=1e-4, atol=1e-5)
    Q, R = ember.empty(0), ember.empty(0)
    ember.linalg.qr(ember.tensor(a), out=(Q, R))
    np.testing.assert_allclose((Q @ R).numpy(), a, rtol=1e-4, atol=1e-5)
    t = ember.tensor(a)
    for name in ("det", "logdet", "inverse", "pinverse", "matrix_exp", "cholesky", "qr", "svd",
                 "slogdet", "lu", "triangular_solve", "cholesky_solve", "cholesky_inverse",
                 "lu_solve", "orgqr", "matrix_power", "cross"):
        assert callable(getattr(t, name)), name


def test_noncontiguous_inputs():
    # transposed and strided views of the inputs
    check(lambda lib, x, y: lib.linalg.solve(x.mT, y.mT), wellcond(3, 3), randn(2, 3),
          atol=1e-4, rtol=1e-4)
    check(lambda lib, x: lib.linalg.svdvals(x[:, ::2]), randn(4, 6))
    check(lambda lib, x: lib.linalg.det(x.mT), wellcond(3, 3, 3), atol=1e-4,
          rtol=1e-4)
    check(lambda lib, x: lib.einsum("ij,jk", x.t(), x), randn(3, 2))


@pytest.mark.gpu
def test_linalg_on_gpu():
    a, b = wellcond(2, 3, 3), randn(2, 3, 2)
    fns = [lambda lib, x, y: lib.linalg.solve(x, y), lambda lib, x, y: lib.linalg.inv(x) @ y,
           lambda lib, x, y: lib.linalg.det(x), lambda lib, x, y: lib.linalg.svdvals(x),
           lambda lib, x, y: lib.linalg.eigvalsh(x + x.mT),
           lambda lib, x, y: lib.linalg.qr(x).R.abs(),
           lambda lib, x, y: lib.linalg.cholesky(x @ x.mT),
           lambda lib, x, y: lib.linalg.solve_triangular(x, y, upper=True),
           lambda lib, x, y: lib.linalg.matrix_exp(x), lambda lib, x, y: lib.linalg.pinv(y),
           lambda lib, x, y: lib.linalg.lu_factor(x).LU, lambda lib, x, y: lib.linalg.eigvals(x),
           lambda lib, x, y: lib.cdist(y, y), lambda lib, x, y: lib.linalg.matrix_norm(x, 2)]
    for fn in fns:
        check(fn, a, b, device="cuda", atol=1e-4, rtol=1e-4)
