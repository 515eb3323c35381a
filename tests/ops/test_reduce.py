"""Reductions and scans against PyTorch: values, dtypes, indices, gradients (incl. float64
gradcheck / gradgradcheck), edge shapes (0-d, empty, non-contiguous), NaN, out= and errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, randn, randint, raises

SHAPES = [(3, 4, 5), (), (0, 3), (1, 4)]
NAN = float("nan")
INF = float("inf")


def same_error(exc, match, fn, *arrays):
    """``fn(lib, *tensors)`` raises ``exc`` in PyTorch and in ember, ember's message matching
    ``match``."""
    with pytest.raises(exc):
        fn(torch, *[torch.from_numpy(a.copy()) for a in arrays])
    raises(exc, match, fn, ember, *[ember.tensor(a) for a in arrays])


def with_nans(*shape, dtype=np.float32):
    x = randn(*shape, dtype=dtype)
    x.reshape(-1)[::3] = np.nan
    return x


def arr(x):
    return np.asarray(x)


def dims_for(shape, empty_list=True):
    """Dim arguments that are valid for ``shape`` (an empty list means all dims, except for
    var/std, whose gradient PyTorch gets wrong for it)."""
    if not shape:
        return [None, 0, -1] + ([(), [0]] if empty_list else [[0]])
    return [None, 0, -1, (0, -1)] + ([[]] if empty_list else []) + [list(range(len(shape)))]


# ---- sum, mean, prod ----------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["sum", "mean", "nansum", "nanmean"])
@pytest.mark.parametrize("shape", SHAPES)
def test_sum_mean(op, shape):
    x = randn(*shape)
    for dim in dims_for(shape):
        for keepdim in (False, True):
            check(lambda lib, t: getattr(lib, op)(t, dim, keepdim), x)
    check(lambda lib, t: getattr(t, op)(), x)


def test_sum_mean_grads():
    x = randn(2, 3, 4)
    for op in ("sum", "mean", "nansum", "nanmean"):
        gradcheck_fn(lambda lib, t: getattr(lib, op)(t, (0, 2), keepdim=True), x)
        gradcheck_fn(lambda lib, t: getattr(t, op)(), x)


def test_sum_dtypes():
    ints = randint(-5, 5, (3, 4), dtype=np.int32)
    for op in ("sum", "nansum", "prod"):
        check(lambda lib, t: getattr(t, op)(), ints)
        check(lambda lib, t: getattr(lib, op)(t, 1), ints)
        check(lambda lib, t: getattr(t, op)(), ints > 0)
        check(lambda lib, t: getattr(t, op)(dtype=lib.float64), ints)
        check(lambda lib, t: getattr(t, op)(dtype=lib.int16), ints)
    check(lambda lib, t: t.sum(dtype=lib.float64), randn(3, 4))
    check(lambda lib, t: t.mean(1, dtype=lib.float64), ints)
    for dt in (np.float16, np.float64, np.complex64):
        check(lambda lib, t: (t.sum(0), t.mean(), t.prod(1)), randn(5, 3).astype(dt), atol=1e-2)
    check(lambda lib, t: (t.to(lib.bfloat16).sum(0), t.to(lib.bfloat16).mean()), randn(50, 3))


def test_sum_noncontiguous_and_nan():
    x = randn(4, 5)
    check(lambda lib, t: (t.t().sum(0), t.t().mean(1, True), t.t().prod(0)), x)
    check(lambda lib, t: (t.sum(1), t.nansum(1), t.nanmean(0), t.mean(), t.nanmean()),
          with_nans(4, 5))
    all_nan = np.full((2, 3), np.nan, np.float32)
    check(lambda lib, t: (t.nanmean(1), t.nansum(0)), all_nan)


def test_prod_zeros_and_grads():
    x = randn(3, 5, dtype=np.float64)
    one_zero = x.copy()
    one_zero[0, 2] = one_zero[1, 0] = 0
    many_zeros = one_zero.copy()
    many_zeros[1, 3] = many_zeros[2, 1] = many_zeros[2, 4] = 0
    for arr in (x, one_zero, many_zeros):
        for fn in (lambda lib, t: t.prod(1), lambda lib, t: t.prod(0, keepdim=True),
                   lambda lib, t: t.prod()):
            check(fn, arr)
            gradcheck_fn(fn, arr)
    check(lambda lib, t: t.prod(), randn(0, 3))
    check(lambda lib, t: t.prod(), randn())


@pytest.mark.parametrize("op", ["prod", "cumprod"])
def test_double_backward_at_zeros_matches_torch(op):
    """Second derivatives through zeros (one zero and several in a slice) equal PyTorch's."""
    x = randn(3, 5, dtype=np.float64)
    x[0, 2] = x[1, 0] = x[1, 3] = 0
    w = randn(3, 5, dtype=np.float64)

    def second(lib):
        t = lib.tensor(x, requires_grad=True)
        y = getattr(t, op)(1)
        g, = lib.autograd.grad(y.sum() if op == "cumprod" else (y * y).sum(), t,
                               create_graph=True)
        return lib.autograd.grad((g * lib.tensor(w)).sum(), t)[0]
    np.testing.assert_allclose(second(ember).numpy(), second(torch).numpy(), atol=1e-12)


# ---- var and std --------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("shape", [(3, 4, 5), (), (1, 4)])
def test_var_std(op, shape):
    x = randn(*shape)
    for dim in dims_for(shape, empty_list=False):
        check(lambda lib, t: getattr(t, op)(dim), x)
        check(lambda lib, t: getattr(lib, op)(t, dim, keepdim=True, correction=0), x)
    check(lambda lib, t: getattr(t, op)(), x)


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_overloads_and_grads(op):
    x = randn(3, 4)
    check(lambda lib, t: getattr(t, op)(False), x)
    check(lambda lib, t: getattr(t, op)(1, False), x)
    check(lambda lib, t: getattr(t, op)(1, True, True), x)
    check(lambda lib, t: getattr(t, op)(0, unbiased=False), x)
    check(lambda lib, t: getattr(lib, op)(t, dim=1, correction=2), x)
    check(lambda lib, t: getattr(t, op)(1), randn(3, 4, dtype=np.complex64))
    gradcheck_fn(lambda lib, t: getattr(t, op)(1), x)
    gradcheck_fn(lambda lib, t: getattr(t, op)((0, 1), correction=0), x)
    fused = f"{op}_mean"
    check(lambda lib, t: getattr(lib, fused)(t, 1), x)
    check(lambda lib, t: getattr(lib, fused)(t, (0, 1), correction=0, keepdim=True), x)
    check(lambda lib, t: getattr(lib, fused)(t, True), x)
    gradcheck_fn(lambda lib, t: getattr(lib, fused)(t, 0), x)


@pytest.mark.parametrize("op", ["var", "std"])
def test_var_std_degenerate(op):
    """No degrees of freedom: NaN / inf with a warning; zero variance: std's gradient is 0."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, t: getattr(t, op)(), randn(1))
        check(lambda lib, t: getattr(t, op)(correction=3), randn(2))
        check(lambda lib, t: getattr(t, op)(0), randn(0, 3))
    with pytest.warns(UserWarning, match="degrees of freedom"):
        getattr(ember.tensor(randn(1)), op)()
    check(lambda lib, t: getattr(t, op)(1), np.ones((2, 3), np.float32))


def test_var_rejects_integers():
    same_error(RuntimeError, "var.*floating point", lambda lib, t: t.var(),
               np.arange(3))
    same_error(RuntimeError, "mean.*Long|mean.*int64", lambda lib, t: t.mean(), np.arange(3))


# ---- max, min, amax, amin, argmax, argmin, aminmax ----------------------------------------------

@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("shape", [(3, 4, 5), (), (0, 3), (1, 4)])
def test_max_min(op, shape):
    x = randn(*shape)
    if x.size:
        check(lambda lib, t: getattr(t, op)(), x)
    for dim in (0, -1):
        if shape and shape[dim] == 0:
            continue
        for keepdim in (False, True):
            check(lambda lib, t: getattr(lib, op)(t, dim, keepdim), x)
            check(lambda lib, t: getattr(t, op)(dim=dim, keepdim=keepdim), x)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_result_type_and_dtypes(op):
    x = randn(3, 4)
    for t in (ember.tensor(x), ember.tensor(x).unsqueeze(0)):
        result = getattr(t, op)(1)
        assert type(result).__name__ == op and type(result) is getattr(ember.return_types, op)
        values, indices = result
        assert result.values is values and result.indices is indices
        assert indices.dtype == ember.int64 and not indices.requires_grad
    check(lambda lib, t: (getattr(t, op)(), getattr(t, op)(0)), randint(-5, 5, (3, 4)))
    check(lambda lib, t: (getattr(t, op)(), getattr(t, op)(1)), randint(0, 2, (3, 4)) > 0)
    check(lambda lib, t: getattr(t.t(), op)(1), x)  # non-contiguous


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_nan_and_ties(op):
    x = np.array([[1, NAN, 3, NAN], [2, 5, 5, -1], [4, 4, 4, 4]], np.float32)
    check(lambda lib, t: getattr(t, op)(1), x)
    check(lambda lib, t: getattr(t, op)(), x)
    check(lambda lib, t: getattr(t, op)(), x[1:])  # ties share the gradient evenly
    check(lambda lib, t: getattr(t, "a" + op)(1), x)
    check(lambda lib, t: getattr(t, "a" + op)(), x)  # a NaN amax: NaN gradients, as in torch
    check(lambda lib, t: getattr(t, "a" + op)((0, 1)), x[1:])
    check(lambda lib, t: getattr(t, "arg" + op)(1), x)


@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_grads(op):
    x = randn(3, 4)
    gradcheck_fn(lambda lib, t: getattr(t, op)(), x)
    gradcheck_fn(lambda lib, t: getattr(t, op)(1).values, x)
    gradcheck_fn(lambda lib, t: getattr(t, op)(0, keepdim=True)[0], x)
    gradcheck_fn(lambda lib, t: getattr(t, "a" + op)((0, 1)), x)
    gradcheck_fn(lambda lib, t: getattr(lib, "a" + op)(t, -1, True), x)
    gradcheck_fn(lambda lib, t: lib.aminmax(t, dim=0), x)


@pytest.mark.parametrize("shape", [(3, 4, 5), (), (0, 3)])
def test_amax_amin_argmax_aminmax(shape):
    x = randn(*shape)
    for dim in dims_for(shape):
        if x.size == 0 and (dim is None or dim in ((), []) or (shape[dim] if isinstance(dim, int)
                                                                 else 0) == 0):
            continue
        for keepdim in (False, True):
            check(lambda lib, t: (t.amax(dim, keepdim), lib.amin(t, dim, keepdim)), x)
    for keepdim in (False, True):
        if x.size:
            check(lambda lib, t: (t.argmax(keepdim=keepdim), t.argmin(None, keepdim)), x)
            check(lambda lib, t: lib.aminmax(t, keepdim=keepdim), x)
        if x.size:
            check(lambda lib, t: (t.argmax(0, keepdim), lib.argmin(t, -1, keepdim)), x)
            check(lambda lib, t: lib.aminmax(t, dim=0, keepdim=keepdim), x)
    check(lambda lib, t: (t.argmax(1), t.amax(1)), randint(-3, 3, (4, 5)))
    result = ember.aminmax(ember.tensor(randn(3, 4)))
    assert type(result) is ember.return_types.aminmax and result.min.shape == ()


def test_max_binary_form():
    a, b = randn(3, 4), randn(4)
    check(lambda lib, x, y: (lib.max(x, y), x.min(y), lib.max(x, other=y)), a, b)


def test_extreme_empty_errors():
    empty, rows = np.zeros(0, np.float32), np.zeros((2, 0), np.float32)
    same_error(RuntimeError, r"max\(\).*numel\(\) == 0", lambda lib, t: t.max(), empty)
    same_error(RuntimeError, r"min\(\).*numel\(\) == 0", lambda lib, t: t.min(), empty)
    same_error(RuntimeError, r"amax\(\).*numel\(\) == 0", lambda lib, t: t.amax(), empty)
    same_error(IndexError, r"amax\(\).*dim 1.*non-zero", lambda lib, t: t.amax(1), rows)
    same_error(IndexError, r"max\(\).*dim 1.*non-zero", lambda lib, t: t.max(1), rows)
    same_error(IndexError, r"argmax\(\).*numel\(\) == 0", lambda lib, t: t.argmax(), empty)
    same_error(IndexError, r"argmin\(\).*dim 1.*non-zero", lambda lib, t: t.argmin(1), rows)
    same_error(RuntimeError, r"aminmax\(\).*no identity", lambda lib, t: lib.aminmax(t), empty)
    same_error(IndexError, r"aminmax.*dim 1", lambda lib, t: lib.aminmax(t, dim=1), rows)
    check(lambda lib, t: (t.max(0), t.amin(0), t.argmax(0)), rows)
    same_error(RuntimeError, "argmax.*bool", lambda lib, t: t.argmax(), np.ones(3, bool))
    same_error(TypeError, "max", lambda lib, t: t.max((0, 1)), rows)


# ---- logsumexp ----------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_logsumexp(shape):
    x = arr(randn(*shape) * 30)
    for dim in dims_for(shape):
        if dim is None or dim == []:
            continue
        for keepdim in (False, True):
            check(lambda lib, t: lib.logsumexp(t, dim, keepdim), x)


def test_logsumexp_stability_and_grads():
    x = np.array([[1000, 1000, -1000], [-INF, -INF, -INF], [INF, 1, 2], [NAN, 1, 2]],
                 np.float32)
    check(lambda lib, t: t.logsumexp(1), x)
    check(lambda lib, t: t.logsumexp(1), x[:1] * 1e30)
    check(lambda lib, t: t.logsumexp(0), randint(0, 5, (3, 2)))  # integers give floats
    gradcheck_fn(lambda lib, t: t.logsumexp((0, 2)), randn(2, 3, 2))
    gradcheck_fn(lambda lib, t: lib.logsumexp(t, -1, keepdim=True), randn(2, 3))


# ---- norm and dist ------------------------------------------------------------------------------

ORDS = [2, 1, INF, -INF, 0, 3, 0.5, 1.5, -1, "fro"]


@pytest.mark.parametrize("p", ORDS)
def test_norm(p):
    x = randn(3, 4, 2)
    for dim in (None, 1, -1, (0, 2)):
        for keepdim in (False, True):
            check(lambda lib, t: t.norm(p, dim, keepdim), x)
    check(lambda lib, t: lib.norm(t, p), randn())
    check(lambda lib, t: lib.norm(t, p, dim=1), randn(0, 2))
    if p in (INF, -INF, -1):  # no identity
        same_error(RuntimeError, "norm.*empty", lambda lib, t: lib.norm(t, p), randn(0, 2))
    else:
        check(lambda lib, t: lib.norm(t, p), randn(0, 2))
    if p not in (0, "fro"):
        gradcheck_fn(lambda lib, t: t.norm(p, 1), randn(2, 3))
    check(lambda lib, t: t.norm(p, 1), randn(3, 4, dtype=np.complex64))


def test_norm_at_zero_and_ties():
    zeros = np.zeros((2, 3), np.float32)
    zeros[1, 0] = 2
    for p in (2, 1, INF, 3, 0.5, 1.5, 0):
        check(lambda lib, t: t.norm(p, 1), zeros)
    ties = np.array([[1, -3, 3], [2, 2, -2]], np.float32)
    check(lambda lib, t: t.norm(INF, 1), ties)
    check(lambda lib, t: t.norm(dtype=lib.float64), randn(3, 4))
    same_error(RuntimeError, "norm.*floating point", lambda lib, t: t.norm(), np.arange(3))
    same_error(RuntimeError, "norm.*inf norm.*empty|norm.*identity", lambda lib, t: t.norm(INF),
               np.zeros(0, np.float32))


@pytest.mark.parametrize("p", [2, 1, INF, 0, 3])
def test_dist(p):
    a, b = randn(3, 4), randn(4)
    check(lambda lib, x, y: lib.dist(x, y, p), a, b, grad=p != 0)  # torch fails for p=0
    check(lambda lib, x, y: x.dist(y, p), a, a.copy(), grad=p != 0)
    if p:
        gradcheck_fn(lambda lib, x, y: lib.dist(x, y, p), randn(2, 3), randn(3))


# ---- scans --------------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"])
@pytest.mark.parametrize("shape", [(3, 4, 5), (), (0, 3), (3, 0)])
def test_scans(op, shape):
    x = randn(*shape)
    for dim in ((0, -1) if shape else (0, -1)):
        check(lambda lib, t: getattr(lib, op)(t, dim), x)
        check(lambda lib, t: getattr(t, op)(dim=dim), x)


@pytest.mark.parametrize("op", ["cumsum", "cumprod", "logcumsumexp", "cummax", "cummin"])
def test_scan_grads_and_noncontiguous(op):
    x = randn(3, 4)
    check(lambda lib, t: getattr(t.t(), op)(1), x)
    gradcheck_fn(lambda lib, t: getattr(t, op)(1), x)
    gradcheck_fn(lambda lib, t: getattr(t, op)(0), x)


def test_scan_dtypes_and_special_values():
    ints = randint(-3, 4, (3, 4), dtype=np.int32)
    check(lambda lib, t: (t.cumsum(1), t.cumprod(0), t.cummax(1), t.cummin(0)), ints)
    check(lambda lib, t: (t.cumsum(0), t.cumprod(0), t.cummax(0)), ints > 0)
    check(lambda lib, t: (t.cumsum(1, dtype=lib.float64), lib.cumprod(t, 0, dtype=lib.int16)),
          ints)
    check(lambda lib, t: (t.cumsum(0), t.logcumsumexp(0)), randn(40, 2).astype(np.float16),
          atol=5e-2, rtol=5e-2)
    x = np.array([1, 3, 3, NAN, 2, NAN, 5, -INF, INF], np.float32)
    check(lambda lib, t: (t.cummax(0), t.cummin(0), t.cumsum(0), t.logcumsumexp(0)), x)
    check(lambda lib, t: t.logcumsumexp(0), np.array([-1000, 1000, -INF, 0], np.float32))
    ties = np.array([[2, 2, 1, 2, 3, 3], [0, 0, 0, 0, 0, 0]], np.float32)
    check(lambda lib, t: (t.cummax(1), t.cummin(1)), ties)  # the gradient follows the index
    same_error(NotImplementedError, "logcumsumexp.*int64|logcumsumexp.*Long",
               lambda lib, t: t.logcumsumexp(0), np.arange(3))


def test_cumprod_zeros_grads():
    x = randn(3, 5, dtype=np.float64)
    x[0, 2] = x[1, 0] = x[1, 3] = x[2, 4] = 0
    for dim in (0, 1):
        check(lambda lib, t: t.cumprod(dim), x)
        gradcheck_fn(lambda lib, t: t.cumprod(dim), x)


def test_inplace_scans():
    x = randn(3, 4)
    check(lambda lib, t: t.clone().cumsum_(1), x)
    check(lambda lib, t: t.clone().cumprod_(0), x)


# ---- all, any, count_nonzero --------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_all_any_count_nonzero(shape):
    x = randn(*shape)
    x[x > 0.5] = 0
    for dim in dims_for(shape):
        for keepdim in (False, True):
            check(lambda lib, t: (t.all(dim, keepdim), lib.any(t, dim, keepdim)), x)
        check(lambda lib, t: lib.count_nonzero(t, dim), x)
    for dtype in (np.int64, np.uint8, np.bool_, np.float16):
        check(lambda lib, t: (t.all(), t.any(), t.count_nonzero()), arr(x * 3).astype(dtype))
    check(lambda lib, t: (t.all(0), t.any(), t.count_nonzero()), np.array([NAN, 0], np.float32))
    t = ember.tensor(randn(2, 2), requires_grad=True)
    assert not (t.all().requires_grad or t.any(0).requires_grad)


# ---- diff, cov, corrcoef ------------------------------------------------------------------------

def test_diff():
    x = randn(3, 5)
    for n in (0, 1, 2, 6):
        for dim in (0, -1):
            check(lambda lib, t: t.diff(n, dim), x)
    gradcheck_fn(lambda lib, t: lib.diff(t, 2, 1), x)
    check(lambda lib, t: t.diff(), np.array([True, False, False, True]))
    check(lambda lib, t: t.diff(dim=0), randint(-5, 5, (4, 2)))
    same_error(RuntimeError, "diff.*one-dimensional", lambda lib, t: t.diff(), randn())


def test_diff_prepend_append():
    x, a, b = randn(3, 5), randn(3, 2), randn(3, 1)
    check(lambda lib, t, p, q: lib.diff(t, 1, 1, prepend=p, append=q), x, a, b)
    check(lambda lib, t, p: t.diff(2, -1, p), x, a)
    gradcheck_fn(lambda lib, t, p, q: lib.diff(t, 1, 1, prepend=p, append=q), x, a, b)
    same_error(RuntimeError, "diff.*same dimension",
               lambda lib, t, p: t.diff(prepend=p), x, randn())


def test_cov():
    x = randn(3, 6)
    fw, aw = randint(0, 4, (6,)), np.abs(randn(6))
    check(lambda lib, t: lib.cov(t), x)
    check(lambda lib, t: t.cov(correction=0), x)
    check(lambda lib, t: lib.cov(t), x[0])
    check(lambda lib, t, f, a: lib.cov(t, fweights=f, aweights=a), x, fw, aw)
    check(lambda lib, t, a: lib.cov(t, correction=2, aweights=a), x, aw)
    check(lambda lib, t: lib.cov(t), randint(0, 5, (2, 4)))
    gradcheck_fn(lambda lib, t, a: lib.cov(t, aweights=a), randn(2, 4), np.abs(randn(4)))
    same_error(RuntimeError, "cov.*fweights.*integral",
               lambda lib, t, f: lib.cov(t, fweights=f), x, np.ones(6, np.float32))
    same_error(RuntimeError, "cov.*aweights.*same numel",
               lambda lib, t, a: lib.cov(t, aweights=a), x, np.ones(5, np.float32))
    same_error(RuntimeError, "cov.*two or fewer", lambda lib, t: lib.cov(t), randn(2, 2, 2))


def test_corrcoef():
    x = randn(3, 6)
    check(lambda lib, t: lib.corrcoef(t), x)
    check(lambda lib, t: t.corrcoef(), x[0])
    gradcheck_fn(lambda lib, t: lib.corrcoef(t), randn(2, 5))


@pytest.mark.parametrize("name", ["sum", "mean", "prod", "prod_zero", "cumsum", "cumprod",
                                  "cumprod_zero", "var", "std", "norm", "norm1", "norm3",
                                  "norminf", "logsumexp"])
def test_complex_inputs(name):
    z = randn(3, 4) + 1j * randn(3, 4)
    if name.endswith("_zero"):
        z[0, 1] = 0
    fn = {"sum": lambda lib, t: t.sum(), "mean": lambda lib, t: t.mean(1),
          "prod": lambda lib, t: t.prod(1), "prod_zero": lambda lib, t: t.prod(1),
          "cumsum": lambda lib, t: t.cumsum(0), "cumprod": lambda lib, t: t.cumprod(1),
          "cumprod_zero": lambda lib, t: t.cumprod(1), "var": lambda lib, t: t.var(1),
          "std": lambda lib, t: t.std(), "norm": lambda lib, t: t.norm(dim=1),
          "norm1": lambda lib, t: t.norm(1), "norm3": lambda lib, t: t.norm(3, 0),
          "norminf": lambda lib, t: t.norm(INF, 1),
          "logsumexp": lambda lib, t: t.logsumexp(1)}[name]
    check(fn, z.astype(np.complex64))
    gradcheck_fn(fn, z)


def test_nansum_rejects_complex():
    same_error(RuntimeError, "nansum.*complex", lambda lib, t: t.nansum(),
               np.ones(2, np.complex64))


# ---- out=, dims errors --------------------------------------------------------------------------

def test_out_arguments():
    x = randn(3, 4)

    def fn(lib, t):
        s, m = lib.empty(0), lib.empty(0, 0)
        values, indices = lib.empty(0), lib.empty(0, dtype=lib.int64)
        r = lib.max(t, 1, out=(values, indices))
        assert r.values is values and r.indices is indices
        assert lib.sum(t, 1, out=s) is s
        lib.mean(t, 0, out=m)
        return s, m, values, indices, lib.cumsum(t, 1, out=lib.empty(3, 4)), \
            lib.logsumexp(t, 1, out=lib.empty(3)), lib.amax(t, 0, out=lib.empty(4)), \
            lib.std(t, 0, out=lib.empty(4)), lib.any(t, 1, out=lib.empty(3, dtype=lib.bool))
    check(fn, x, grad=False)


@pytest.mark.parametrize("op", ["sum", "mean", "prod", "var", "std", "amax", "logsumexp",
                                "max", "argmax", "all", "cumsum", "cummax", "norm",
                                "count_nonzero", "nansum"])
def test_bad_dim(op):
    x = randn(2, 3)
    if op == "norm":
        fn = lambda lib, t: t.norm(2, 2)  # noqa: E731
    elif op == "count_nonzero":
        fn = lambda lib, t: lib.count_nonzero(t, 2)  # noqa: E731
    else:
        fn = lambda lib, t: getattr(t, op)(2)  # noqa: E731
    same_error(IndexError, rf"{op}.*\[-2, 1\].*got 2", fn, x)
    same_error(IndexError, rf"{op}.*\[-2, 1\].*got -3",
               lambda lib, t: getattr(lib, op)(t, -3) if op not in ("norm",)
               else t.norm(2, -3), x)


def test_repeated_dims_and_bad_types():
    x = randn(2, 3)
    same_error(RuntimeError, "sum.*dim 0 appears multiple times",
               lambda lib, t: t.sum((0, 0)), x)
    same_error(RuntimeError, "count_nonzero.*multiple times",
               lambda lib, t: lib.count_nonzero(t, (1, -1)), x)
    same_error(TypeError, "sum", lambda lib, t: t.sum(0.5), x)
    same_error(TypeError, "prod", lambda lib, t: t.prod((0, 1)), x)
    same_error(RuntimeError, "max.*complex|max_all", lambda lib, t: t.max(),
               np.ones(2, np.complex64))


def test_reductions_record_no_grad_for_integer_results():
    t = ember.tensor(randn(3, 4), requires_grad=True)
    for out in (t.argmax(), t.argmin(1), t.max(1).indices, t.count_nonzero(), t.cummax(0)[1]):
        assert not out.requires_grad and out.grad_fn is None
    assert t.sum().grad_fn.name() == "SumBackward0"


def test_scan_without_ufunc_accumulate():
    """CuPy's ufuncs have no accumulate: the log-step scan used there matches NumPy's."""
    import types
    from ember.ops.reduce import accumulate
    xp = types.SimpleNamespace(maximum=np.maximum, minimum=np.minimum, logaddexp=np.logaddexp,
                               cumsum=np.cumsum, cumprod=np.cumprod)
    x = randn(3, 11)
    x[1, 4] = np.nan
    for name in ("maximum", "minimum", "logaddexp", "add", "multiply"):
        for axis in (0, 1):
            np.testing.assert_allclose(accumulate(xp, name, x, axis),
                                       getattr(np, name).accumulate(x, axis=axis), rtol=1e-6)


@pytest.mark.gpu
def test_gpu_matches_cpu():
    x = randn(4, 9)
    x[1, 3] = np.nan
    fns = (lambda t: t.sum(1), lambda t: t.nansum(), lambda t: t.prod(0), lambda t: t.var(1),
           lambda t: t.std(), lambda t: t.max(1), lambda t: t.amax((0, 1)),
           lambda t: t.argmin(0), lambda t: t.logsumexp(1), lambda t: t.norm(3, 1),
           lambda t: t.cumsum(1), lambda t: t.cumprod(0), lambda t: t.cummax(1),
           lambda t: t.cummin(0), lambda t: t.logcumsumexp(1), lambda t: t.any(1),
           lambda t: t.count_nonzero(0), lambda t: t.diff(dim=1))
    for fn in fns:
        cpu, gpu = fn(ember.tensor(x)), fn(ember.tensor(x).cuda())
        cpu = cpu if isinstance(cpu, tuple) else (cpu,)
        gpu = gpu if isinstance(gpu, tuple) else (gpu,)
        for c, g in zip(cpu, gpu):
            np.testing.assert_allclose(c.numpy(), g.cpu().numpy(), rtol=1e-5, atol=1e-6)
    for fn in (lambda t: t.cummax(1).values, lambda t: t.prod(1), lambda t: t.max(0).values):
        t = ember.tensor(randn(3, 4)).cuda().requires_grad_()
        fn(t).sum().backward()
        ref = ember.tensor(t.detach().cpu().numpy(), requires_grad=True)
        fn(ref).sum().backward()
        np.testing.assert_allclose(t.grad.cpu().numpy(), ref.grad.numpy(), rtol=1e-5)


def test_op_db_regressions():
    """Cases PyTorch's OpInfo samples (tests/ops/test_op_db.py) found."""
    # diff with n=0 returns a copy of the input, without prepend/append
    x, pre, app = randn(5, 5), randn(1, 5), randn(2, 5)
    check(lambda lib, x, p, a: lib.diff(x, 0, 0, p, a), x, pre, app)
    e = ember.tensor(x)
    assert ember.diff(e, 0) is not e
    # aminmax writes only into out= tensors of the input's dtype
    x = ember.tensor(randn(4, 4))
    raises(RuntimeError, "aminmax: Expected out tensor to have dtype float32, but got float64",
           ember.aminmax, x, dim=0, out=(ember.empty(4), ember.empty(4, dtype=ember.float64)))
    # max/min want a tensor input
    for fn in (ember.max, ember.min):
        raises(TypeError, "must be Tensor, not int", fn, 2, ember.tensor([1, 2]))
