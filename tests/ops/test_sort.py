"""Sorting and selection against PyTorch: values, index results, dtypes, gradients (incl. float64
gradcheck / gradgradcheck on inputs without ties), NaN ordering, edge shapes, out= and errors."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, randn, randint, raises

NAN = float("nan")
SHAPES = [(3, 4, 5), (), (0, 3), (1, 4)]


def same_error(exc, match, fn, *arrays):
    """``fn(lib, *tensors)`` raises ``exc`` in PyTorch and in ember, ember's message matching
    ``match``."""
    with pytest.raises(exc):
        fn(torch, *[torch.from_numpy(np.asarray(a).copy()) for a in arrays])
    raises(exc, match, fn, ember, *[ember.tensor(a) for a in arrays])


def distinct(*shape, dtype=np.float32):
    """Values without ties (so that every index result is unique)."""
    n = int(np.prod(shape))
    return np.asarray(np.random.default_rng(n).permutation(n).reshape(shape) / 3 - n / 6,
                      dtype=dtype)


def distinct_ints(*shape):
    n = int(np.prod(shape))
    return np.random.default_rng(n).permutation(n).reshape(shape) - n // 2


def with_nans(*shape):
    x = distinct(*shape)
    x.reshape(-1)[1::4] = np.nan
    return x


# ---- sort, argsort, msort -----------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
def test_sort(shape):
    x = distinct(*shape)
    dims = [0, -1] if shape else [0, -1]
    for dim in dims:
        for descending in (False, True):
            check(lambda lib, t: t.sort(dim, descending), x)
            check(lambda lib, t: lib.sort(t, dim=dim, descending=descending, stable=True), x)
            check(lambda lib, t: t.argsort(dim, descending), x)
    check(lambda lib, t: lib.msort(t), x)


def test_sort_ties_nan_and_dtypes():
    ties = np.array([[3, 1, 3, 2, 1, 3], [0, 0, 0, 0, 0, 0]], np.float32)
    for descending in (False, True):
        check(lambda lib, t: t.sort(dim=1, descending=descending, stable=True), ties)
        check(lambda lib, t: t.sort(dim=1, descending=descending, stable=True),
              with_nans(3, 8))
        check(lambda lib, t: lib.argsort(t, dim=1, descending=descending, stable=True), ties)
    for dtype in (np.int64, np.int8, np.uint8, np.bool_, np.float16, np.float64):
        x = (randint(-5, 5, (3, 7)) if dtype != np.bool_ else randint(0, 2, (3, 7))).astype(dtype)
        check(lambda lib, t: (t.sort(dim=1, stable=True), t.sort(dim=0, descending=True,
                                                                 stable=True)), x)
    check(lambda lib, t: t.to(lib.bfloat16).sort(dim=1, stable=True), distinct(3, 5))
    check(lambda lib, t: t.t().sort(1), distinct(4, 3))  # non-contiguous
    result = ember.sort(ember.tensor(distinct(4)))
    assert type(result) is ember.return_types.sort
    assert result.indices.dtype == ember.int64 and not result.indices.requires_grad
    same_error(RuntimeError, "sort.*complex", lambda lib, t: t.sort(), np.ones(3, np.complex64))


def test_sort_grads():
    x = distinct(3, 4)
    gradcheck_fn(lambda lib, t: t.sort(1).values, x)
    gradcheck_fn(lambda lib, t: t.sort(0, descending=True)[0], x)
    gradcheck_fn(lambda lib, t: lib.msort(t), x)


# ---- topk, kthvalue -----------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 4, 5), (), (0, 3), (2, 6)])
def test_topk(shape):
    x = distinct(*shape)
    for dim in (0, -1):
        n = shape[dim] if shape else 1
        for k in sorted({0, min(1, n), n // 2, n}):
            for largest in (True, False):
                check(lambda lib, t: t.topk(k, dim, largest), x)
                check(lambda lib, t: lib.topk(t, k, dim=dim, largest=largest, sorted=True), x)


def test_topk_unsorted_nan_grads():
    x = distinct(4, 9)

    def unsorted(lib, t):
        values, indices = t.topk(3, 1, sorted=False)
        order = indices.argsort(1)  # the order of unsorted results is unspecified
        return values.gather(1, order), indices.gather(1, order)
    check(unsorted, x)
    # NaNs are the largest; which of several NaNs PyTorch picks first is unspecified.
    check(lambda lib, t: (t.topk(3, 1).values, t.topk(2, 1, largest=False)), with_nans(4, 9),
          grad=False)
    gradcheck_fn(lambda lib, t: t.topk(2, 1).values, distinct(3, 5))
    gradcheck_fn(lambda lib, t: t.topk(3, 0, largest=False).values, distinct(4, 3))
    check(lambda lib, t: t.topk(2, 1), distinct_ints(3, 10))
    same_error(RuntimeError, "topk.*out of range", lambda lib, t: t.topk(4), distinct(3))
    same_error(RuntimeError, "topk.*out of range", lambda lib, t: t.topk(-1), distinct(3))


@pytest.mark.parametrize("shape", [(3, 4, 5), (), (2, 6)])
def test_kthvalue(shape):
    x = distinct(*shape)
    for dim in (0, -1):
        n = shape[dim] if shape else 1
        for k in sorted({1, (n + 1) // 2, n}):
            for keepdim in (False, True):
                check(lambda lib, t: t.kthvalue(k, dim, keepdim), x)
    gradcheck_fn(lambda lib, t: t.kthvalue(2, 0).values, distinct(3, 4))


def test_kthvalue_nan_and_errors():
    # NaN is the largest; which of several NaNs is picked is left to the implementation.
    check(lambda lib, t: (t.kthvalue(1, 1), t.kthvalue(8, 1).values), with_nans(3, 8),
          grad=False)
    same_error(RuntimeError, "kthvalue.*out of range", lambda lib, t: t.kthvalue(4), distinct(3))
    same_error(RuntimeError, "kthvalue.*out of range", lambda lib, t: t.kthvalue(0), distinct(3))
    same_error(IndexError, r"kthvalue\(\).*dim 1.*non-zero",
               lambda lib, t: t.kthvalue(1, 1), np.zeros((2, 0), np.float32))


# ---- median, nanmedian, mode --------------------------------------------------------------------

@pytest.mark.parametrize("op", ["median", "nanmedian"])
@pytest.mark.parametrize("shape", SHAPES)
def test_median(op, shape):
    x = distinct(*shape)
    check(lambda lib, t: getattr(t, op)(), x)
    if x.size:
        for dim in (0, -1):
            for keepdim in (False, True):
                check(lambda lib, t: getattr(lib, op)(t, dim, keepdim), x)


@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_median_nan_ties_and_grads(op):
    rows = np.array([[1, NAN, 3, 2], [NAN, NAN, NAN, NAN], [4, 2, NAN, NAN],
                     [5, 1, 3, 2]], np.float32)
    check(lambda lib, t: getattr(t, op)(1).values, rows, grad=False)
    # Which NaN's index an all-NaN slice gives is left to the implementation in PyTorch.
    check(lambda lib, t: getattr(t, op)(1), rows[[0, 2, 3]])
    check(lambda lib, t: getattr(t, op)(), rows)  # NaN: the gradient goes to the NaNs
    check(lambda lib, t: getattr(t, op)(), rows[3:])
    check(lambda lib, t: getattr(t, op)(), np.array([1, 3, 3, 2, 3], np.float32))  # ties
    check(lambda lib, t: getattr(t, op)(), np.full(3, np.nan, np.float32))
    check(lambda lib, t: (getattr(t, op)(), getattr(t, op)(0)), distinct_ints(5, 3))
    gradcheck_fn(lambda lib, t: getattr(t, op)(), distinct(3, 3))
    gradcheck_fn(lambda lib, t: getattr(t, op)(1).values, distinct(3, 4))
    result = getattr(ember, op)(ember.tensor(distinct(3, 4)), 0)
    assert type(result) is getattr(ember.return_types, op)
    same_error(IndexError, rf"{op}\(\).*dim 1.*non-zero", lambda lib, t: getattr(t, op)(1),
               np.zeros((2, 0), np.float32))


def test_mode():
    # Many ties: the value is the smallest of the most frequent ones; which of its occurrences
    # the index names is left to the implementation (PyTorch's varies), so check that it
    # names one.
    x = randint(0, 4, (3, 4, 7)).astype(np.float32)
    for dim in (0, 1, -1):
        for keepdim in (False, True):
            check(lambda lib, t: t.mode(dim, keepdim).values, x, grad=False)
            values, indices = ember.tensor(x).mode(dim, True)
            picked = np.take_along_axis(x, indices.numpy(), dim)
            np.testing.assert_array_equal(picked, values.numpy())
    check(lambda lib, t: (lib.mode(t).values, t.mode(0).values), randint(-3, 3, (5, 6)),
          grad=False)
    check(lambda lib, t: t.mode(0).values, randint(0, 2, (6, 2)) > 0)
    check(lambda lib, t: (t.mode(1), lib.mode(t, 0, True)), distinct(3, 4))
    check(lambda lib, t: t.mode(0), np.array([[2, 5], [1, 5], [2, 4]], np.float32))
    check(lambda lib, t: t.mode(), np.array(3.5, np.float32))
    gradcheck_fn(lambda lib, t: t.mode(1).values, distinct(3, 4))
    assert type(ember.mode(ember.tensor(x))) is ember.return_types.mode
    same_error(IndexError, r"mode\(\).*dim 0.*non-zero", lambda lib, t: t.mode(0),
               np.zeros(0, np.float32))


# ---- quantile, nanquantile ----------------------------------------------------------------------

@pytest.mark.parametrize("op", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "lower", "higher", "midpoint", "nearest"])
def test_quantile(op, interpolation):
    x = randn(3, 8)
    q = np.array([0, 0.125, 0.375, 0.5, 0.625, 1], np.float32)
    for dim in (None, 0, -1):
        for keepdim in (False, True):
            check(lambda lib, t, qs: getattr(lib, op)(t, qs, dim, keepdim,
                                                      interpolation=interpolation), x, q,
                  grad=False)
            check(lambda lib, t: getattr(t, op)(0.3, dim, keepdim, interpolation=interpolation),
                  x)
    check(lambda lib, t: getattr(t, op)(0.4, 1, interpolation=interpolation),
          np.array([[1, NAN, 3, 2], [NAN, NAN, NAN, NAN], [4, 2, NAN, 7]], np.float32))
    check(lambda lib, t: getattr(t, op)(0.5), randn())


@pytest.mark.parametrize("op", ["quantile", "nanquantile"])
def test_quantile_grads_and_errors(op):
    x = distinct(3, 5, dtype=np.float64)
    q = np.array([0.1, 0.5, 0.9])

    def fn(lib, t):
        return getattr(lib, op)(t, lib.tensor(q, dtype=lib.float64), dim=1)
    check(fn, x)
    gradcheck_fn(fn, x)
    gradcheck_fn(lambda lib, t: getattr(t, op)(0.3, interpolation="midpoint"), x)
    same_error(RuntimeError, rf"{op}.*range \[0, 1\]", lambda lib, t: getattr(t, op)(1.5),
               distinct(3))
    same_error(RuntimeError, rf"{op}.*float or double", lambda lib, t: getattr(t, op)(0.5),
               np.arange(3))
    same_error(RuntimeError, rf"{op}.*non-empty", lambda lib, t: getattr(t, op)(0.5),
               np.zeros(0, np.float32))
    same_error(RuntimeError, rf"{op}.*same dtype",
               lambda lib, t, qs: getattr(t, op)(qs), distinct(3), np.array([0.5]))
    same_error(RuntimeError, rf"{op}.*scalar or 1D",
               lambda lib, t, qs: getattr(t, op)(qs), distinct(3), np.full((2, 2), 0.5,
                                                                           np.float32))
    same_error(RuntimeError, rf"{op}.*interpolation",
               lambda lib, t: getattr(t, op)(0.5, interpolation="cubic"), distinct(3))


# ---- unique, unique_consecutive -----------------------------------------------------------------

@pytest.mark.parametrize("op", ["unique", "unique_consecutive"])
def test_unique(op):
    x = randint(0, 4, (3, 6))
    x[:, 2] = x[:, 1]  # repeated consecutive slices along dim 1
    x[1] = x[0]        # and along dim 0
    for dim in (None, 0, 1, -1):
        for inverse in (False, True):
            for counts in (False, True):
                check(lambda lib, t: getattr(lib, op)(t, return_inverse=inverse,
                                                      return_counts=counts, dim=dim), x,
                      grad=False)
    for arr in (np.array([True, False, True]), randn(7), np.zeros(0, np.float32),
                np.array(2.5, np.float32), np.array([NAN, 1, NAN, 1, 1], np.float32)):
        check(lambda lib, t: getattr(t, op)(return_inverse=True, return_counts=True), arr,
              grad=False)
    if op == "unique":
        check(lambda lib, t: t.unique(sorted=False), np.array([3, 1, 2, 1, 5]))


def test_unique_has_no_gradient():
    t = ember.tensor(randn(4), requires_grad=True)
    u = ember.unique(t)
    assert u.requires_grad  # as in PyTorch: differentiating it raises
    raises(NotImplementedError, "unique", u.sum().backward)
    same_error(IndexError, "unique.*Dimension out of range",
               lambda lib, t: lib.unique(t, dim=2), randn(2, 3))


# ---- searchsorted, bucketize --------------------------------------------------------------------

def test_searchsorted():
    seq = np.sort(randint(0, 20, (12,)))
    values = randint(-2, 22, (3, 5))
    for right in (False, True):
        check(lambda lib, s, v: lib.searchsorted(s, v, right=right), seq, values)
        check(lambda lib, s, v: lib.searchsorted(s, v, side="right" if right else "left",
                                                 out_int32=True), seq, values)
        check(lambda lib, s: lib.searchsorted(s, 7, right=right), seq)
    rows = np.sort(randn(2, 3, 6), axis=-1)
    queries = randn(2, 3, 4)
    queries[0, 0, 0] = rows[0, 0, 2]  # an exact hit
    for side in ("left", "right"):
        check(lambda lib, s, v: lib.searchsorted(s, v, side=side), rows, queries)
    check(lambda lib, s, v: lib.searchsorted(s, v), seq.astype(np.float32), values)  # promotes
    check(lambda lib, s, v: lib.searchsorted(s, v), seq, np.zeros((0,), np.int64))
    shuffled = np.array([5, 1, 3, 9, 7])
    check(lambda lib, s, v, o: lib.searchsorted(s, v, sorter=o), shuffled, np.array([0, 4, 9, 10]),
          np.argsort(shuffled))


def test_searchsorted_errors():
    same_error(RuntimeError, "searchsorted.*first N-1 dimensions",
               lambda lib, s, v: lib.searchsorted(s, v), randn(2, 3), randn(3, 1))
    same_error(RuntimeError, "searchsorted.*opposites",
               lambda lib, s, v: lib.searchsorted(s, v, right=True, side="left"),
               np.arange(3), np.arange(2))
    same_error(RuntimeError, "searchsorted.*'left' or 'right'",
               lambda lib, s, v: lib.searchsorted(s, v, side="up"), np.arange(3), np.arange(2))


def test_bucketize():
    boundaries = np.array([1, 3, 5, 7])
    values = randint(0, 9, (3, 4))
    for right in (False, True):
        check(lambda lib, v, b: lib.bucketize(v, b, right=right), values, boundaries)
        check(lambda lib, v, b: lib.bucketize(v, b, out_int32=True, right=right), values,
              boundaries)
        check(lambda lib, b: lib.bucketize(3, b, right=right), boundaries)
    same_error(RuntimeError, "bucketize.*1 dimension",
               lambda lib, v, b: lib.bucketize(v, b), values, np.arange(4).reshape(2, 2))


# ---- histc, bincount ----------------------------------------------------------------------------

def test_histc():
    x = randn(50)
    check(lambda lib, t: (t.histc(), lib.histc(t, 7, -1, 1), t.histc(4, 0, 3)), x)
    x[3], x[7] = np.nan, 3  # NaN and out-of-range values are not counted
    check(lambda lib, t: (lib.histc(t, 7, -1, 1), t.histc(4, 0, 3)), x)
    same_error(RuntimeError, "histc.*not finite", lambda lib, t: t.histc(), x)
    check(lambda lib, t: t.histc(5), np.array([1, 1, 1], np.float32))  # min == max: +-1
    check(lambda lib, t: t.histc(4, 0, 3), np.array([0, 1.5, 3, 2.9999], np.float64))
    check(lambda lib, t: t.histc(3), np.zeros(0, np.float32))
    assert not ember.histc(ember.tensor(x, requires_grad=True), 3, -1, 1).requires_grad
    same_error(RuntimeError, "histc.*max must be larger than min",
               lambda lib, t: t.histc(4, 1, 0), x)
    same_error(RuntimeError, "bins must be > 0", lambda lib, t: t.histc(0), x)
    same_error(NotImplementedError, "histc.*int64|histc.*Long", lambda lib, t: t.histc(),
               np.arange(3))


def test_bincount():
    x = randint(0, 6, (20,))
    for weights_dtype in (np.float32, np.float64, np.float16, np.int64):
        w = (randn(20) * 4).astype(weights_dtype)
        check(lambda lib, t, wt: lib.bincount(t, wt), x, w, grad=False)
    check(lambda lib, t: (t.bincount(), t.bincount(minlength=10)), x)
    check(lambda lib, t: t.bincount(minlength=3), np.zeros(0, np.int64))
    check(lambda lib, t: t.bincount(), x.astype(np.uint8))
    same_error(RuntimeError, "bincount.*non-negative", lambda lib, t: t.bincount(),
               np.array([1, -1]))
    same_error(RuntimeError, "bincount.*1-d", lambda lib, t: t.bincount(), np.ones((2, 2),
                                                                                  np.int64))
    same_error(RuntimeError, "bincount: weights.*same length",
               lambda lib, t, w: t.bincount(w), x, np.ones(3, np.float32))
    same_error(NotImplementedError, "bincount.*float", lambda lib, t: t.bincount(),
               np.ones(3, np.float32))


# ---- out=, bad dims -----------------------------------------------------------------------------

def test_out_arguments():
    x = distinct(3, 5)

    def fn(lib, t):
        pair = (lib.empty(0), lib.empty(0, dtype=lib.int64))
        r = lib.sort(t, 1, out=pair)
        assert r.values is pair[0] and r.indices is pair[1]
        return (r, lib.topk(t, 2, out=(lib.empty(0), lib.empty(0, dtype=lib.int64))),
                lib.median(t, 0, out=(lib.empty(0), lib.empty(0, dtype=lib.int64))),
                lib.quantile(t, 0.5, 1, out=lib.empty(0)), lib.msort(t, out=lib.empty(0)),
                lib.searchsorted(lib.arange(5.0), t, out=lib.empty(0, dtype=lib.int64)))
    check(fn, x, grad=False)


@pytest.mark.parametrize("op", ["sort", "argsort", "topk", "kthvalue", "median", "nanmedian",
                                "mode", "cummin"])
def test_bad_dim(op):
    def call(dim):
        if op in ("topk", "kthvalue"):
            return lambda lib, t: getattr(t, op)(1, dim)
        return lambda lib, t: getattr(t, op)(dim)
    same_error(IndexError, rf"{op}.*\[-2, 1\].*got 2", call(2), distinct(2, 3))
    same_error(IndexError, rf"{op}.*\[-2, 1\].*got -3", call(-3), distinct(2, 3))


def _same_on_gpu(fn, x, exact):
    cpu, gpu = fn(ember.tensor(x)), fn(ember.tensor(x).cuda())
    cpu = cpu if isinstance(cpu, tuple) else (cpu,)
    gpu = gpu if isinstance(gpu, tuple) else (gpu,)
    for c, g in zip(cpu, gpu):
        if exact:
            np.testing.assert_array_equal(c.numpy(), g.cpu().numpy())
        else:
            np.testing.assert_allclose(c.numpy(), g.cpu().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_gpu_matches_cpu():
    floats, ints = with_nans(4, 9), randint(0, 4, (4, 9))
    for fn in (lambda t: t.sort(1, descending=True), lambda t: t.topk(3, 1),
               lambda t: t.topk(30, 1, largest=False), lambda t: t.median(1),
               lambda t: t.nanmedian(1), lambda t: ember.quantile(t, 0.3, 1),
               lambda t: t.unique(return_counts=True), lambda t: t.histc(5, -2, 2)):
        _same_on_gpu(fn, floats, exact=False)
    for fn in (lambda t: t.mode(1), lambda t: t.kthvalue(2, 1).values,
               lambda t: t.unique(dim=0, return_inverse=True), lambda t: t[0].bincount(),
               lambda t: ember.searchsorted(t.sort(1).values, t),
               lambda t: ember.bucketize(t, ember.tensor([1, 2], device=t.device))):
        _same_on_gpu(fn, ints, exact=True)
    x = ember.tensor(distinct(3, 5)).cuda().requires_grad_()
    x.sort(1).values.sum().backward()
    assert x.grad.is_cuda


def test_op_db_regressions():
    """Cases PyTorch's OpInfo samples (tests/ops/test_op_db.py) found."""
    # quantile / nanquantile are differentiable in q (linear interpolation), with no gradient
    # where the rank is pinned (NaN slices)
    x, q = randn(3, 5).astype(np.float64), np.array([0.2, 0.7, 1.0, 0.0])
    xn = x.copy()
    xn[0, 1], xn[2] = np.nan, np.nan
    for fn in (lambda lib, x, q: lib.quantile(x, q, dim=1),
               lambda lib, x, q: lib.nanquantile(x, q, dim=1)):
        check(fn, x, q)
        check(fn, xn, q)
    check(lambda lib, x, q: lib.quantile(x, q), np.array(1.5), np.array([0.3, 0.6]))
    gradcheck_fn(lambda lib, x, q: lib.quantile(x, q, dim=1), x, np.array([0.21, 0.73]))
    # unique along a dim of an empty tensor: empty along that dim, refused along another
    e = np.empty((5, 0, 5), np.float32)
    for fn in (lambda lib, x: lib.unique(x, dim=1, return_inverse=True, return_counts=True),
               lambda lib, x: lib.unique_consecutive(x, dim=1, return_counts=True)):
        check(fn, e, grad=False)
    raises(RuntimeError, "unique: There are 0 sized dimensions", ember.unique,
           ember.tensor(e), dim=0)
    # searchsorted in batched empty sequences
    for shape in ((0, 0), (2, 0), (0, 3)):
        check(lambda lib, b, v: lib.searchsorted(b, v, right=True),
              np.empty(shape, np.float32), randn(*shape))
