"""Indexing against PyTorch: x[key] and x[key] = v for a table of keys (values and gradients of
both the indexed tensor and the value), gather/scatter, index_*, masked_*, take/put, nonzero,
and the errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, raises, randn, randint

RNG = np.random.default_rng(7)
X = randn(3, 4, 5, rng=RNG)
MASK3 = np.array([True, False, True])
MASK4 = np.array([False, True, True, False])
MASK34 = RNG.random((3, 4)) > 0.5
MASK345 = RNG.random((3, 4, 5)) > 0.5

# Keys for a (3, 4, 5) tensor. NumPy arrays become tensors of each library (int64, int32 or
# bool); lists stay lists.
GET_KEYS = [
    0, -1, 2, (1, 2), (1, -1, 4), (slice(None), 1), (Ellipsis, 1), (Ellipsis,), (),
    (None,), (None, 0), (0, None, slice(1, 3)), (slice(None), None, 1, None),
    slice(1, None), slice(None, None, 2), (slice(0, 3, 2), slice(None), slice(1, 5, 3)),
    slice(-2, None), slice(5, 10), (slice(None, 2), Ellipsis, slice(2, 3)),
    [0, 2], [-1, 0, 0], np.array([0, 2, -1]), np.array([[0, 1], [2, 0]]),
    (np.array([0, 2]), np.array([1, 3])), (slice(None), [0, 3]), (0, slice(None), [1, 2]),
    (slice(None), 0, [1, 2]), ([0, 1], slice(None), [0, 2]), ([0, 1], slice(None), 3),
    (Ellipsis, [0, 4]), ([[0], [1]], [0, 2]), (np.array([0, 1]), slice(None), np.array([[1], [2]])),
    (slice(1, None), [0, 2], slice(None, 3)), (None, [0, 1], None),
    True, False, ([0, 1], True), (Ellipsis, True, 0), (0, False),
    MASK345, MASK34, MASK3, (0, MASK4), (MASK3, 1), (slice(None), MASK4), (MASK3, slice(None), 2),
    (MASK3, [1, 2]), np.zeros((3, 4), dtype=bool),
    np.array(1), (np.array(1), slice(None), [1, 2]), np.array(True), np.array(False),
    np.array([0, 2], dtype=np.int32), [], np.zeros(0, dtype=np.int64), ([], [], []),
]


def _ids(keys):
    return [repr(k).replace("\n", "")[:40] for k in keys]


@pytest.mark.parametrize("key", GET_KEYS, ids=_ids(GET_KEYS))
def test_getitem(key):
    check(lambda lib, x, k: x[k], X, key)


def test_getitem_sequence_as_tuple():
    """A short list holding lists is a tuple of indices (PyTorch keeps NumPy's old rule, with a
    deprecation warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x: x[[[0, 1], [1, 2]]], X)
        check(lambda lib, x: x[[0, slice(1, 3)]], X)


def test_getitem_uint8_mask_is_deprecated_bool_mask():
    mask = np.array([1, 0, 1], dtype=np.uint8)
    with pytest.warns(UserWarning, match="uint8"):
        check(lambda lib, x, m: x[m], X, mask)


@pytest.mark.parametrize("key", [0, (slice(None), 2), (Ellipsis, 1), [0, 2, 0], MASK34],
                         ids=["int", "slice", "ellipsis", "list-dup", "mask"])
def test_getitem_gradcheck(key):
    gradcheck_fn(lambda lib, x: x[key], randn(3, 4, 2))


def test_getitem_0d_and_empty():
    s = np.array(2.5, dtype=np.float32)
    for key in [(), Ellipsis, None, (None, None), True, False, np.array(True)]:
        check(lambda lib, x, k: x[k], s, key)
    e = randn(0, 3)
    for key in [slice(None), (slice(None), 1), [], np.zeros((0, 3), dtype=bool)]:
        check(lambda lib, x, k: x[k], e, key)


def test_getitem_non_contiguous():
    base = randn(5, 4)
    for key in [0, (slice(None), 1), [1, 0, 2], (slice(1, None), [0, 2]), MASK3]:
        check(lambda lib, x, k: x.t()[1:][k], base, key)  # (3, 5)
        check(lambda lib, x, k: x[::2][k], base, key)  # (3, 4)


# ---- x[key] = value ------------------------------------------------------------------------------

# (key, value shape or Python scalar) for a (3, 4, 5) tensor; no repeated positions.
SET_CASES = [
    (0, (4, 5)), (0, 2.5), (-1, (5,)), ((1, 2), (5,)), ((1, 2, 3), ()), ((slice(None), 1), (3, 5)),
    ((Ellipsis, 1), (1, 4)), (slice(1, None), (1, 4, 5)), ((slice(0, 3, 2), 0), (2, 5)),
    ((None, 0), (1, 4, 5)), ((None, 0), (1, 1, 4, 5)), ((Ellipsis,), 0.0), ((), (3, 4, 5)),
    ([0, 2], (2, 4, 5)), ([0, 2], (5,)), (np.array([2, 0]), 1.5),
    ((slice(None), [0, 3]), (3, 2, 5)),
    ((0, slice(None), [1, 2]), (4, 2)), ((slice(None), 0, [1, 2]), (3, 2)),
    (([0, 1], slice(None), [0, 2]), (2, 4)), (([[0], [1]], [0, 2]), (2, 2, 5)),
    (MASK345, -1.0), (MASK345, (int(MASK345.sum()),)), (MASK34, (5,)),
    (MASK34, (int(MASK34.sum()), 5)),
    ((0, MASK4), (2, 5)), ((slice(None), MASK4), (3, 2, 5)), (MASK3, 7.0),
    (True, (3, 4, 5)), (False, 1.0), (np.array(1), (4, 5)),
]


def _set_value(spec):
    return spec if isinstance(spec, float) else randn(*spec, rng=RNG)


@pytest.mark.parametrize("key,spec", SET_CASES, ids=_ids([c[0] for c in SET_CASES]))
def test_setitem(key, spec):
    """Values and gradients of both the target (zero where overwritten) and the value."""
    def fn(lib, x, k, v):
        y = x * 1.0
        y[k] = v
        return y
    check(fn, X, key, _set_value(spec))


def test_setitem_gradcheck():
    def fn(lib, x, v):
        y = x * 2
        y[1, [0, 2]] = v
        y[0] = y[2].clone() * v[0]
        return y
    gradcheck_fn(fn, randn(3, 4), randn(2))


def test_setitem_dtype_casts_like_torch():
    for dtype in (np.float64, np.int64, np.float32):
        check(lambda lib, x, v: _assign(x.clone(), (0, slice(1, 3)), v), X, randn(5).astype(dtype),
              grad=False)
    ints = randint(0, 9, (3, 4))
    check(lambda lib, x: _assign(x.clone(), 0, 2.7), ints)
    check(lambda lib, x: _assign(x.clone(), np.array([True, False, True]), lib.tensor(3.9)), ints)
    check(lambda lib, x: _assign(x.clone(), (slice(None), 1), lib.tensor(3.9)), ints)
    for key in ([0, 2], (np.array([True, False, True]),)):
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match="Index put requires the source and "
                                                   "destination dtypes match"):
                _assign(lib.zeros(3, 4), key, lib.ones(4, dtype=lib.float64))
    check(lambda lib, x: _assign(x.clone(), 1, True), ints)
    check(lambda lib, x, v: _assign(x * 1, 0, v), X, np.float64(3.0) * np.ones((4, 5)))


def _assign(t, key, value):
    t[key] = value
    return t


def test_setitem_overlapping_source():
    """PyTorch refuses to write a tensor into an overlapping part of itself; ember writes it as
    if the source had been copied first."""
    a = np.arange(6.0)
    e, t = ember.tensor(a), torch.tensor(a)
    e[1:] = e[:-1]
    t[1:] = t[:-1].clone()
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_setitem_writes_in_place_and_bumps_version():
    x = ember.zeros(3, 4)
    ptr, v0 = x.data_ptr(), x._version
    view = x[1]
    x[1, [0, 2]] = 5.0
    x[2] = ember.ones(4)
    assert x.data_ptr() == ptr
    assert x._version == v0 + 2 and view._version == x._version
    np.testing.assert_array_equal(view.numpy(), [5, 0, 5, 0])


def test_setitem_records_one_node_without_copying_the_base():
    a = ember.randn(4, 3, requires_grad=True)
    x = a * 1
    ptr = x.data_ptr()
    x[0] = 0.0
    assert x.data_ptr() == ptr and x.grad_fn is not None and x.grad_fn.op_name == "index_put"


def test_setitem_into_leaf_or_its_view_raises():
    a = ember.zeros(3, requires_grad=True)
    raises(RuntimeError, "leaf Variable that requires grad", a.__setitem__, 0, 1.0)
    with ember.no_grad():
        a[0] = 1.0  # allowed without grad mode
    assert a[0].item() == 1.0
    assert a.grad_fn is None and a._version == 1


def test_setitem_errors():
    x = ember.zeros(3, 4)
    before = x.numpy().copy()
    raises(RuntimeError, r"__setitem__: shape mismatch: value tensor of shape \[3\] cannot be "
                         r"broadcast to indexing result of shape \[4\]", x.__setitem__, 0,
           ember.ones(3))
    raises(RuntimeError, r"shape mismatch.*\[2\]", x.__setitem__, ([0, 1], 0), ember.ones(3))
    raises(TypeError, "can't assign a list", x.__setitem__, 0, [1, 2, 3, 4])
    raises(IndexError, "index 3 is out of bounds for dimension 0 with size 3", x.__setitem__, 3,
           1.0)
    raises(RuntimeError, "expand", ember.zeros(3).expand(2, 3).__setitem__, 0, 1.0)
    raises(RuntimeError, "cannot be converted to type int64",
           ember.zeros(2, dtype=ember.int64).__setitem__, 0, 2 ** 70)
    np.testing.assert_array_equal(x.numpy(), before)


# ---- getitem errors --------------------------------------------------------------------------

@pytest.mark.parametrize("key,exc,match", [
    (3, IndexError, r"__getitem__: index 3 is out of bounds for dimension 0 with size 3"),
    ((slice(None), 10), IndexError, r"index 10 is out of bounds for dimension 1 with size 4"),
    ((0, -5), IndexError, r"index -5 is out of bounds for dimension 1 with size 4"),
    ([0, 5], IndexError, r"index 5 is out of bounds for dimension 0 with size 3"),
    ((slice(None), [0, -6]), IndexError, r"index -6 is out of bounds for dimension 1 with size 4"),
    (1.5, IndexError, r"only integers, slices.*\(got float\)"),
    (slice(None, None, -1), ValueError, "step must be greater than zero"),
    (slice(None, None, 0), ValueError, "step must be greater than zero"),
    ((0, 0, 0, 0), IndexError, "too many indices for tensor of dimension 3"),
    (MASK4, IndexError, r"The shape of the mask \[4\] at index 0 does not match the shape of the "
                        r"indexed tensor \[3, 4, 5\] at index 0"),
    (([0, 1], [0, 1, 2]), IndexError, "shape mismatch"),
    ({}, IndexError, "only integers"),
])
def test_getitem_errors(key, exc, match):
    x = ember.tensor(X)
    raises(exc, match, x.__getitem__, key)
    with pytest.raises(exc):  # the same exception type as PyTorch
        torch.tensor(X)[key]


def test_getitem_multiple_ellipses_like_torch():
    check(lambda lib, x: x[..., 0, ...], X)
    check(lambda lib, x: x[..., ...], X)


def test_getitem_bad_index_tensors():
    raises(TypeError, "only integers", ember.tensor(X).__getitem__, "a")
    x = ember.tensor(X)
    raises(IndexError, "tensors used as indices must be long, int, byte or bool tensors",
           x.__getitem__, ember.tensor([0.0]))
    raises(IndexError, "tensors used as indices", x.__getitem__,
           ember.tensor([0], dtype=ember.int16))
    raises(IndexError, "invalid index of a 0-dim tensor", ember.tensor(1.0).__getitem__, 0)


# ---- index_* along a dim ---------------------------------------------------------------------

IDX = np.array([2, 0, 2])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_index_select(dim):
    x = randn(3, 4, 5)
    idx = randint(0, x.shape[dim], (4,))
    check(lambda lib, x, i: lib.index_select(x, dim, i), x, idx)
    check(lambda lib, x, i: x.index_select(dim, i), x, idx.astype(np.int32))
    gradcheck_fn(lambda lib, x: x.index_select(dim, lib.tensor(idx % 2)), randn(2, 3, 3))


def test_index_select_edges():
    check(lambda lib, x, i: x.index_select(0, i), randn(3, 2), np.array(1))
    check(lambda lib, x, i: x.index_select(0, i), randn(3, 2), np.zeros(0, np.int64))
    check(lambda lib, x, i: x.index_select(0, i), np.array(1.5, np.float32), np.array([0]))
    check(lambda lib, x, i: x.t().index_select(0, i), randn(3, 2), np.array([1, 0, 1]))
    raises(IndexError, r"index_select\(\): Index is supposed to be a vector",
           ember.ones(3).index_select, 0, ember.tensor([[0]]))
    raises(RuntimeError, r"index_select\(\).*index 3 is out of bounds for dimension 0 with size 3",
           ember.ones(3).index_select, 0, ember.tensor([3]))
    raises(RuntimeError, "Expected dtype int32 or int64", ember.ones(3).index_select, 0,
           ember.tensor([0.0]))


@pytest.mark.parametrize("op", ["index_add", "index_copy"])
@pytest.mark.parametrize("dim", [0, 1])
def test_index_add_copy(op, dim):
    x = randn(3, 4)
    idx = np.array([2, 0, 2]) if op == "index_add" else np.array([2, 0, 1])
    src = randn(*[3 if d == dim else n for d, n in enumerate(x.shape)])
    kw = {"alpha": 2.0} if op == "index_add" else {}
    check(lambda lib, x, i, s: getattr(lib, op)(x, dim, i, s, **kw), x, idx, src)
    check(lambda lib, x, i, s: getattr(x * 1, op + "_")(dim, i, s, **kw), x, idx, src)
    gradcheck_fn(lambda lib, x, s: getattr(x, op)(dim, lib.tensor(idx), s), x, src)


def test_index_fill():
    x = randn(3, 4)
    check(lambda lib, x, i: x.index_fill(1, i, -2.0), x, IDX)
    check(lambda lib, x, i, v: x.index_fill(0, i, v), x, IDX, np.array(3.0, np.float32))
    check(lambda lib, x, i, v: (x * 1).index_fill_(0, i, v), x, IDX, np.array(3.0, np.float32))
    check(lambda lib, x, i: x.index_fill(0, i, 5), randint(0, 5, (3, 2)), IDX)
    gradcheck_fn(lambda lib, x, v: x.index_fill(1, lib.tensor(IDX), v), x, np.array(0.5))
    raises(RuntimeError, "only supports a 0-dimensional value tensor", ember.ones(3).index_fill, 0,
           ember.tensor([0]), ember.tensor([1.0]))


def test_index_add_errors():
    x = ember.zeros(3, 4)
    raises(RuntimeError, r"index_add\(\): Number of indices \(2\) should be equal to "
                         r"source.size\(dim\): \(3\)", x.index_add, 1, ember.tensor([0, 0]),
           ember.ones(3, 3))
    raises(RuntimeError, r"self \(float32\) and source \(float64\) must have the same scalar type",
           x.index_add, 1, ember.tensor([0]), ember.ones(3, 1, dtype=ember.float64))
    raises(RuntimeError, "source shape", x.index_copy, 1, ember.tensor([0]), ember.ones(2, 1))
    raises(RuntimeError, "index 4 is out of bounds for dimension 1 with size 4", x.index_add_, 1,
           ember.tensor([4]), ember.ones(3, 1))
    raises(IndexError, "index -1 is out of bounds for dimension 1 with size 4", x.index_copy_, 1,
           ember.tensor([-1]), ember.ones(3, 1))
    assert not x.numpy().any()


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    x, src = randn(3, 4), randn(3, 5)
    idx = np.array([0, 2, 0, 3, 0])
    check(lambda lib, x, i, s: x.index_reduce(1, i, s, reduce, include_self=include_self),
          x, idx, src)
    check(lambda lib, x, i, s: (x * 1).index_reduce_(1, i, s, reduce, include_self=include_self),
          x, idx, src)


# ---- index_put ------------------------------------------------------------------------------

@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put(accumulate):
    x = randn(3, 4)
    rows, cols = np.array([0, 2, 0]), np.array([1, 3, 1])
    if not accumulate:
        rows, cols = np.array([0, 2, 1]), np.array([1, 3, 1])
    v = randn(3)
    check(lambda lib, x, r, c, v: lib.index_put(x, (r, c), v, accumulate), x, rows, cols, v)
    check(lambda lib, x, r, c, v: (x * 1).index_put_((r, c), v, accumulate=accumulate),
          x, rows, cols, v)
    check(lambda lib, x, r, v: x.index_put((r,), v, accumulate), x, rows, randn(4))
    check(lambda lib, x, m, v: x.index_put((m,), v, accumulate), x, MASK34, np.float32(2) * np.ones(
        int(MASK34.sum()), np.float32))
    gradcheck_fn(lambda lib, x, v: x.index_put((lib.tensor(rows), lib.tensor(cols)), v,
                                               accumulate), x, v)


def test_index_put_errors():
    x = ember.zeros(3)
    raises(RuntimeError, "Index put requires the source and destination dtypes match",
           x.index_put_, (ember.tensor([0]),), ember.ones(1, dtype=ember.float64))
    raises(IndexError, "too many indices", x.index_put_, (ember.tensor([0]),) * 2, ember.ones(1))


# ---- gather / scatter -----------------------------------------------------------------------

@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gather(dim):
    x = randn(3, 4, 5)
    shape = [2, 3, 4]
    shape[dim] = 6
    idx = randint(0, x.shape[dim], tuple(shape))
    check(lambda lib, x, i: lib.gather(x, dim, i), x, idx)
    check(lambda lib, x, i: x.gather(dim, i), x, idx.astype(np.int32))
    gradcheck_fn(lambda lib, x: x.gather(dim, lib.tensor(idx[:2, :2, :2] % 2)), randn(2, 2, 2))


def test_gather_edges():
    check(lambda lib, x, i: x.gather(0, i), np.array(1.5, np.float32), np.array(0))
    check(lambda lib, x, i: x.gather(1, i), randn(3, 4), np.zeros((0, 2), np.int64))
    check(lambda lib, x, i: x.t().gather(0, i), randn(3, 4), randint(0, 4, (2, 3)))
    check(lambda lib, x, i: lib.take_along_dim(x, i, 1), randn(3, 4), randint(0, 4, (3, 2)))
    check(lambda lib, x, i: lib.take_along_dim(x, i, 0), randn(3, 4), randint(0, 3, (2, 1)))
    check(lambda lib, x, i: lib.take_along_dim(x, i), randn(3, 4), randint(0, 12, (3, 2)))
    check(lambda lib, x, i: lib.take_along_dim(x, i, -1), randn(2, 1, 4), randint(0, 4, (1, 3, 2)))
    check(lambda lib, x, i: lib.take_along_dim(x, i, 1), randn(3, 4), randint(-4, 0, (3, 2)))
    raises(RuntimeError, "index -1 is out of bounds", ember.take_along_dim, ember.ones(3),
           ember.tensor([-1]))  # flattened, negative indices are refused, as in PyTorch


@pytest.mark.parametrize("op,msg", [
    (lambda x: x.gather(1, ember.tensor([[5]])), r"gather\(\).*index 5 is out of bounds for "
                                                  r"dimension 1 with size 4"),
    (lambda x: x.gather(1, ember.tensor([[-1]])), "index -1 is out of bounds"),
    (lambda x: x.gather(1, ember.zeros(4, 1, dtype=ember.int64)),
     r"Size does not match at dimension 0 expected index \[4, 1\] to be no larger than self "
     r"\[3, 4\] apart from dimension 1"),
    (lambda x: x.gather(1, ember.zeros(2, 1, 1, dtype=ember.int64)),
     "Index tensor must have the same number of dimensions as input tensor"),
    (lambda x: x.gather(1, ember.zeros(2, 1)), r"gather\(\): Expected dtype int64 or int32"),
    (lambda x: x.scatter(1, ember.tensor([[0, 1]]), ember.ones(1, 1)),
     r"to be no larger size than src \[1, 1\]"),
    (lambda x: x.scatter(1, ember.tensor([[0]]), ember.ones(1, 1, dtype=ember.float64)),
     "Expected self.dtype to be equal to src.dtype"),
    (lambda x: x.scatter(1, ember.tensor([[0]]), ember.ones(1, 1), reduce="sum"),
     "reduce argument must be either add or multiply"),
    (lambda x: x.scatter_reduce(1, ember.tensor([[0]]), ember.ones(1, 1), "max"),
     "reduce argument must be either sum, prod, mean, amax or amin"),
])
def test_gather_scatter_errors(op, msg):
    x = ember.zeros(3, 4)
    raises(RuntimeError, msg, op, x)
    assert not x.numpy().any()


@pytest.mark.parametrize("dim", [0, 1])
def test_scatter(dim):
    x = randn(3, 4)
    idx = np.array([[0, 1, 2, 3], [1, 0, 2, 1]]) if dim == 1 else np.array([[0, 1, 2, 0],
                                                                          [2, 0, 1, 1]])
    big = randn(3, 5)  # larger than the index: only its leading part is used (no gradient)
    check(lambda lib, x, i, s: lib.scatter(x, dim, i, s), x, idx, big, grad=False)
    check(lambda lib, x, i, s: x.scatter_add(dim, i, s), x, idx, big, grad=False)
    src = randn(2, 4)
    check(lambda lib, x, i, s: lib.scatter(x, dim, i, s), x, idx, src)
    check(lambda lib, x, i: x.scatter(dim, i, 2.5), x, idx)
    check(lambda lib, x, i, s: (x * 1).scatter_(dim, i, s), x, idx, src)
    check(lambda lib, x, i: (x * 1).scatter_(dim, i, -1.0), x, idx)
    check(lambda lib, x, i, s: lib.scatter_add(x, dim, i, s), x, idx, src)
    check(lambda lib, x, i, s: (x * 1).scatter_add_(dim, i, s), x, idx, src)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x, i, s: x.scatter(dim, i, s, reduce="add"), x, idx, src, grad=False)
        check(lambda lib, x, i, s: x.scatter(dim, i, s, reduce="multiply"), x, idx, src,
              grad=False)
        check(lambda lib, x, i: x.scatter(dim, i, 2.0, reduce="multiply"), x, idx, grad=False)
    gradcheck_fn(lambda lib, x, s: x.scatter_add(dim, lib.tensor(idx), s), x, src)
    check(lambda lib, x, i, s: x.scatter(dim, i, s), x, idx.astype(np.int32), src)
    ints = randint(-5, 5, (3, 4))
    check(lambda lib, x, i: x.scatter(dim, i, 2.5), ints, idx)  # the value is cast first
    check(lambda lib, x, i: x.scatter(dim, i, -2.5, reduce="add"), ints, idx)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce(reduce, include_self):
    x, src = randn(3, 4), randn(2, 5)
    idx = np.array([[0, 1, 0, 3, 0], [2, 2, 1, 1, 2]])
    check(lambda lib, x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self),
          x, idx, src)
    check(lambda lib, x, i, s: (x * 1).scatter_reduce_(1, i, s, reduce, include_self=include_self),
          x, idx, src)
    ints = randint(-5, 5, (3, 4))
    check(lambda lib, x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self),
          ints, idx, randint(-5, 5, (2, 5)))
    gradcheck_fn(lambda lib, x, s: x.scatter_reduce(1, lib.tensor(idx), s, reduce,
                                                    include_self=include_self), x, src,
                 gradgrad=reduce in ("sum", "mean", "prod"))


def test_scatter_reduce_prod_with_zeros():
    x = np.array([[1.0, 0.0, 2.0, 3.0]], np.float32)
    src = np.array([[0.0, 4.0, 0.0, 5.0, 6.0]], np.float32)
    idx = np.array([[0, 1, 1, 2, 0]])
    for include_self in (True, False):
        check(lambda lib, x, i, s: x.scatter_reduce(1, i, s, "prod", include_self=include_self),
              x, idx, src)


# ---- masks ------------------------------------------------------------------------------------

def test_masked_fill():
    x = randn(3, 4)
    check(lambda lib, x, m: x.masked_fill(m, -1.0), x, MASK34)
    check(lambda lib, x, m: lib.masked_fill(x, m, 2), x, MASK4)
    check(lambda lib, x, m, v: x.masked_fill(m, v), x, MASK34, np.array(3.0))  # f64 value
    check(lambda lib, x, m, v: (x * 1).masked_fill_(m, v), x, MASK4, np.array(3.0, np.float32))
    check(lambda lib, x, m: x.masked_fill(m, 1.0), randn(4), MASK34)  # x broadcast to the mask
    check(lambda lib, x, m: x.masked_fill(m, 1.5), randint(0, 5, (3, 4)), MASK34)
    check(lambda lib, x, m: x.t().masked_fill(m, 0.0), x, MASK34.T.copy())
    check(lambda lib, x, m: x.masked_fill(m, 0.0), np.array(1.0, np.float32), np.array(True))
    gradcheck_fn(lambda lib, x, v: x.masked_fill(lib.tensor(MASK34), v), x, np.array(0.5))
    raises(RuntimeError, "masked_fill only supports boolean masks", ember.ones(3).masked_fill,
           ember.ones(3, dtype=ember.int32), 1.0)
    raises(RuntimeError, "only supports a 0-dimensional value tensor", ember.ones(3).masked_fill,
           ember.ones(3, dtype=ember.bool), ember.ones(1))
    raises(RuntimeError, r"mask of shape \[2, 3\] cannot be broadcast", ember.ones(3).masked_fill_,
           ember.ones(2, 3, dtype=ember.bool), 1.0)


def test_masked_scatter_and_select():
    x = randn(3, 4)
    src = randn(14)
    check(lambda lib, x, m, s: x.masked_scatter(m, s), x, MASK34, src)
    check(lambda lib, x, m, s: (x * 1).masked_scatter_(m, s), x, MASK4, src)
    check(lambda lib, x, m, s: x.masked_scatter(m, s), randn(4), MASK34, src)
    check(lambda lib, x, m: x.masked_select(m), x, MASK34)
    check(lambda lib, x, m: lib.masked_select(x, m), x, MASK4)
    check(lambda lib, x, m: x.masked_select(m), randn(4), MASK34)
    gradcheck_fn(lambda lib, x, s: x.masked_scatter(lib.tensor(MASK34), s), x, randn(12))
    gradcheck_fn(lambda lib, x: x.masked_select(lib.tensor(MASK4)), x)
    raises(RuntimeError, r"Number of elements of source < number of ones in mask",
           ember.ones(3).masked_scatter, ember.ones(3, dtype=ember.bool), ember.ones(2))


# ---- flat positions -------------------------------------------------------------------------

def test_take_and_put():
    x = randn(3, 4)
    idx = np.array([[0, 11], [-1, 5]])
    check(lambda lib, x, i: x.take(i), x, idx)
    check(lambda lib, x, i: lib.take(x.t(), i), x, idx)
    check(lambda lib, x, i: x.take(i), np.array(2.0, np.float32), np.array([0, -1]))
    uniq = np.array([[0, 11], [-2, 5]])
    check(lambda lib, x, i, s: x.put(i, s), x, uniq, randn(2, 2))
    check(lambda lib, x, i, s: x.put(i, s, accumulate=True), x, idx, randn(4))
    check(lambda lib, x, i, s: (x * 1).put_(i, s, accumulate=True), x, np.array([1, 1, 3]),
          randn(3))
    gradcheck_fn(lambda lib, x, s: x.put(lib.tensor(idx), s, accumulate=True), x, randn(4))
    raises(IndexError, "out of range: tried to access index 12 on a tensor of 12 elements",
           ember.ones(3, 4).take, ember.tensor([12]))
    raises(IndexError, r"Expected source and index to have the same number of elements",
           ember.ones(3).put_, ember.tensor([0, 1]), ember.ones(1))


def test_nonzero_argwhere():
    x = np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], np.float32)
    check(lambda lib, x: lib.nonzero(x), x)
    check(lambda lib, x: x.nonzero(as_tuple=True), x)
    check(lambda lib, x: lib.argwhere(x), x)
    for v in (np.array(0.0), np.array(3), np.zeros((0, 2)), np.array([True, False, True])):
        check(lambda lib, x: lib.nonzero(x), v)
        check(lambda lib, x: lib.nonzero(x, as_tuple=True), v)
        check(lambda lib, x: lib.argwhere(x), v)


# ---- GPU ---------------------------------------------------------------------------------------

@pytest.mark.gpu
def test_indexing_on_cuda_matches_cpu():
    """The paths that differ per device: cupyx.scatter_add/max/min, the host fallback of
    multiply.at, masks and index arrays moved to the GPU."""
    x, src = randn(3, 4), randn(2, 5)
    idx = np.array([[0, 1, 0, 3, 0], [2, 2, 1, 1, 2]])
    for reduce in ("sum", "prod", "mean", "amax", "amin"):
        check(lambda lib, x, i, s: x.scatter_reduce(1, i, s, reduce), x, idx, src, device="cuda")
    check(lambda lib, x, i: x.index_add(0, i, x[:3] * 1), x, np.array([0, 0, 2]), device="cuda")
    check(lambda lib, x, m: x[m], x, MASK34, device="cuda")
    check(lambda lib, x: x[[0, 2], 1:], x, device="cuda")
    check(lambda lib, x, m: _assign(x * 1, m, 0.0), x, MASK34, device="cuda")
    check(lambda lib, x, i: x.gather(1, i), x, randint(0, 4, (3, 2)), device="cuda")
    check(lambda lib, x, i, s: x.put(i, s, accumulate=True), x, np.array([1, 1]), randn(2),
          device="cuda")
    check(lambda lib, x: lib.nonzero(x > 0), x, device="cuda")
    cpu_index = ember.tensor([0, 2])
    assert ember.tensor(x).cuda()[cpu_index].device.type == "cuda"


def test_op_db_regressions():
    """Cases PyTorch's OpInfo samples (tests/ops/test_op_db.py) found."""
    x = ember.tensor([1, 2])
    for fn in (lambda: x.masked_fill(ember.tensor(True), ember.tensor(1 + 1j)),
               lambda: x.index_fill(0, ember.tensor([0]), ember.tensor(1 + 1j))):
        raises(RuntimeError, "cannot be converted to type int64", fn)
    # take has out=; gather's out= must have the input's dtype
    check(lambda lib, x, i: lib.take(x, i, out=lib.empty(2)), randn(2, 3), np.array([0, 5]),
          grad=False)
    raises(RuntimeError, "gather\\(\\): Expected out tensor to have dtype float32", ember.gather,
           ember.tensor(randn(2, 2)), 1, ember.tensor([[0, 1], [1, 0]]),
           out=ember.empty(2, 2, dtype=ember.float64))


@pytest.mark.parametrize("rows,n", [(4096, 1000), (2000, 3), (1024, 100_000), (300, 40)])
def test_row_scatter_add_matches_numpy_add_at_to_the_bit(rows, n):
    """``ufunc_at(np, "add", ...)`` adds whole rows by repeat rank rather than with np.add.at
    (embedding and index_add backward): the same sums in the same order, negative indices,
    many repeats (np.add.at's own path) and a view as the target included."""
    from ember.ops.index import ufunc_at
    rng = np.random.default_rng(rows)
    index = rng.integers(-n, n, rows)
    values = rng.standard_normal((rows, 3, 5)).astype(np.float32)
    base = rng.standard_normal((n, 2, 3, 5)).astype(np.float32)
    expected, got = base.copy(), base.copy()
    np.add.at(expected[:, 1], index, values)
    ufunc_at(np, "add", got[:, 1], (index,), values)
    assert np.array_equal(got, expected)


def test_index_add_with_repeated_rows_matches_torch():
    idx = randint(0, 300, (1000,))  # each row a few times: the repeat-rank path
    src = randn(len(idx), 64, dtype=np.float64)
    check(lambda lib, s: lib.zeros(300, 64, dtype=lib.float64).index_add(0, lib.tensor(idx), s),
          src)
