"""Comparisons, logical and bitwise ops, where, isclose / allclose / equal and the predicates
against PyTorch: values and dtypes with type promotion, operators (reflected and in-place),
broadcasting, edge shapes, gradients of where, and errors."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, randn, randint, raises

NAN, INF = float("nan"), float("inf")

B = np.array([True, False, True, False])
I8 = np.array([3, -2, 0, 127], np.int8)
U8 = np.array([3, 2, 0, 255], np.uint8)
I64 = np.array([3, -2, 0, 1 << 40])
F16 = np.array([1.5, -2.0, 0.0, NAN], np.float16)
F32 = np.array([1.5, -2.0, 0.0, INF], np.float32)
F64 = np.array([1.5, 3.0, -0.0, NAN])
C64 = np.array([1 + 1j, 2j, 0j, 1.5 + 0j], np.complex64)
ARRAYS = {"b": B, "i8": I8, "u8": U8, "i64": I64, "f16": F16, "f32": F32, "f64": F64,
          "c64": C64, "0d": np.array(2.0), "0di": np.array(-1)}
SCALARS = [2, 1.5, True, -1, 0, 1j, NAN]


def same_outcome(fn, *arrays):
    """``fn(lib, *tensors)`` gives torch's values and dtype, or raises torch's exception type
    (NotImplementedError and RuntimeError told apart)."""
    def tensors(lib):
        return [torch.from_numpy(a.copy()) if lib is torch else ember.tensor(a) for a in arrays]
    try:
        fn(torch, *tensors(torch))
    except Exception as e:
        with pytest.raises(type(e)) as info:
            fn(ember, *tensors(ember))
        if isinstance(e, RuntimeError):
            assert isinstance(info.value, NotImplementedError) == isinstance(
                e, NotImplementedError), f"torch raised {e!r}, ember {info.value!r}"
        return
    check(fn, *arrays, grad=False)


def dtype_pairs():
    names = list(ARRAYS)
    return [(a, b) for i, a in enumerate(names) for b in names[i:]]


# ---- comparisons ----------------------------------------------------------------------------------

COMPARISONS = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
               "less_equal", "not_equal"]


@pytest.mark.parametrize("op", COMPARISONS)
def test_comparison_promotion(op):
    for a, b in dtype_pairs():
        same_outcome(lambda lib, x, y: getattr(lib, op)(x, y), ARRAYS[a], ARRAYS[b])
    for s in SCALARS:
        for arr in (B, I8, U8, F16, C64):
            if not (arr is F16 and s == 1j):  # torch: complex32, which ember does not have
                same_outcome(lambda lib, x: getattr(lib, op)(x, s), arr)


@pytest.mark.parametrize("op", ["eq", "lt", "ge"])
def test_comparison_shapes_out_and_inplace(op):
    for s1, s2 in (((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,)), ((0, 3), (3,))):
        check(lambda lib, x, y: getattr(lib, op)(x, y), np.asarray(randint(0, 3, s1)),
              np.asarray(randint(0, 3, s2)))
    check(lambda lib, x, y: getattr(lib, op)(x, y), randn(4, 3).T, randn(4))
    check(lambda lib, x, y: getattr(lib, op)(x, y, out=lib.empty(0, dtype=lib.bool)),
          randn(3), randn(3))
    check(lambda lib, x, y: getattr(lib, op)(x, y, out=lib.empty(3)), randn(3), randn(3))
    check(lambda lib, x, y: getattr(x.clone(), op + "_")(y), randn(3, 4), randn(4))
    check(lambda lib, x: getattr(x.clone(), op + "_")(0), np.array([1, -2, 0]))


@pytest.mark.parametrize("expr", ["x == y", "x != y", "x < y", "x <= y", "x > y", "x >= y",
                                  "x == 1", "1 < x", "2.5 >= x", "x != 0", "0 == x"])
def test_comparison_operators(expr):
    def fn(lib, x, y):
        return eval(expr, {"x": x, "y": y})
    check(fn, np.array([1.0, 2.0, NAN, 3.0]), np.array([1.0, 3.0, NAN, -INF]))
    check(fn, np.array([1, 2, 3]), np.array([1.5, 2.0, 0.5]))
    check(fn, np.array([True, False]), np.array([True, True]))


def test_comparison_with_other_types():
    t = ember.tensor([1.0, 2.0])
    assert (t == None) is False and (t != None) is True  # noqa: E711
    assert (t == "a") is False
    assert t.__eq__(object()) is NotImplemented
    with pytest.raises(TypeError):
        t < "a"  # noqa: B015
    raises(TypeError, r"eq\(\): argument 'input' \(position 1\) must be Tensor, not int",
           ember.eq, 1, t)
    raises(TypeError, r"lt\(\): argument 'other' \(position 2\) must be Tensor, not str",
           ember.lt, t, "a")
    raises(NotImplementedError, r"lt: complex numbers are not ordered \(complex64\[1\] on cpu",
           ember.lt, ember.ones(1, dtype=ember.complex64), 1)
    assert hash(t) == hash(t) and {t: 1}[t] == 1  # tensors stay hashable
    assert 2.0 in t and 3.0 not in t


# ---- logical ops --------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["logical_and", "logical_or", "logical_xor"])
def test_logical(op):
    for a, b in dtype_pairs():
        same_outcome(lambda lib, x, y: getattr(lib, op)(x, y), ARRAYS[a], ARRAYS[b])
    check(lambda lib, x, y: getattr(lib, op)(x, y), randint(0, 2, (3, 4)), randint(0, 2, (4,)))
    check(lambda lib, x, y: getattr(x.clone(), op + "_")(y), np.array([1.0, 0.0, 2.0]),
          np.array([True, True, False]))
    check(lambda lib, x, y: getattr(lib, op)(x, y, out=lib.empty(3, dtype=lib.float32)),
          np.array([1, 0, 2]), np.array([0, 0, 1]))
    raises(TypeError, rf"{op}\(\): argument 'other' \(position 2\) must be Tensor, not int",
           getattr(ember, op), ember.ones(2), 1)


def test_logical_not():
    for arr in ARRAYS.values():
        check(lambda lib, x: lib.logical_not(x), arr)
    check(lambda lib, x: x.clone().logical_not_(), np.array([1.5, 0.0]))
    check(lambda lib, x: lib.logical_not(x, out=lib.empty(2, dtype=lib.int32)), np.array([1, 0]))


# ---- bitwise ops ----------------------------------------------------------------------------------

BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
           "bitwise_right_shift"]


@pytest.mark.parametrize("op", BITWISE)
def test_bitwise(op):
    for a, b in dtype_pairs():
        same_outcome(lambda lib, x, y: getattr(lib, op)(x, y), ARRAYS[a], ARRAYS[b])
    for s in (3, True, 1.5):
        for arr in (B, I8, U8, F32):
            same_outcome(lambda lib, x: getattr(lib, op)(x, s), arr)
        same_outcome(lambda lib, x: getattr(lib, op)(s, x), I64)
    same_outcome(lambda lib, x, y: getattr(x.clone(), op + "_")(y), I64, I8)
    same_outcome(lambda lib, x, y: getattr(x.clone(), op + "_")(y), I8, I64)


def test_shift_counts_out_of_range():
    x = np.array([1, -8, 5, -1, 127])
    for shift in (0, 3, 63, 64, 65, -1, -64):
        check(lambda lib, t: t << shift, x)
        check(lambda lib, t: t >> shift, x)
        check(lambda lib, t: t.to(lib.int8) << shift, x)
        check(lambda lib, t: t.to(lib.uint8) >> shift, x)
    check(lambda lib, t, s: t >> s, x, np.array([0, 1, 70, -3, 7]))


@pytest.mark.parametrize("expr", ["x & y", "x | y", "x ^ y", "~x", "x << y", "x >> y", "x & 6",
                                  "6 | x", "3 ^ x", "1 << x", "x >> 1", "True & x"])
def test_bitwise_operators(expr):
    def fn(lib, x, y):
        return eval(expr, {"x": x, "y": y})
    same_outcome(fn, np.array([5, 3, 0, 12]), np.array([1, 2, 3, 0]))
    same_outcome(fn, np.array([True, False, True, False]), np.array([True, True, False, False]))
    same_outcome(fn, np.array([5, 3], np.uint8), np.array([1, 7], np.int8))


@pytest.mark.parametrize("op", ["&=", "|=", "^=", "<<=", ">>="])
def test_bitwise_inplace_operators(op):
    def fn(lib, x, y):
        z = x.clone()
        scope = {"z": z, "y": y}
        exec(f"z {op} y", scope)
        assert scope["z"] is z
        return z
    same_outcome(fn, np.array([5, 3, 0, 12]), np.array([1, 2, 3, 0]))
    same_outcome(fn, np.array([True, False, True]), np.array([True, True, False]))
    same_outcome(fn, np.array([5, 3], np.uint8), np.array([1, 7]))


def test_bitwise_errors():
    raises(NotImplementedError, r"bitwise_and: not implemented for float32 tensors \(float32\[2\] "
           r"on cpu\); it takes integer and bool tensors only", ember.bitwise_and, ember.ones(2),
           ember.ones(2))
    raises(NotImplementedError, "bitwise_left_shift: not implemented for bool tensors",
           ember.bitwise_left_shift, ember.tensor([True]), ember.tensor([True]))
    raises(TypeError, r"~ \(operator.invert\) is only implemented on integer and Boolean-type "
           r"tensors", lambda: ~ember.ones(2))
    raises(TypeError, r"bitwise_and\(\): argument 'input' \(position 1\) must be Tensor",
           ember.bitwise_and, 1, 2)


def test_bitwise_not():
    for arr in (B, I8, U8, I64):
        check(lambda lib, x: lib.bitwise_not(x), arr)
        check(lambda lib, x: x.clone().bitwise_not_(), arr)
    same_outcome(lambda lib, x: lib.bitwise_not(x), F32)


# ---- where ----------------------------------------------------------------------------------------

def test_where_values_grads_and_broadcasting():
    for sc, sx, sy in (((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), (3, 1)), ((4,), (3, 1), ()),
                       ((), (2,), (2,)), ((0, 3), (3,), (1,))):
        c = np.asarray(randn(*sc) > 0)
        check(lambda lib, m, x, y: lib.where(m, x, y), c, np.asarray(randn(*sx)),
              np.asarray(randn(*sy)))
    c, x, y = randn(2, 3) > 0, randn(2, 3), randn(3)
    gradcheck_fn(lambda lib, m, a, b: lib.where(m, a, b), c, x, y)
    check(lambda lib, m, a, b: a.where(m, b), c, x, y)
    check(lambda lib, m, a, b: lib.where(m, a, b, out=lib.empty(0)), c, x, y, grad=False)
    check(lambda lib, m, a, b: lib.where(m, a, b), c, randn(3, 2).T, y)


def test_where_promotion_and_scalars():
    c = np.array([True, False, True])
    i, f = np.array([1, 2, 3]), np.array([1.5, -2.0, 0.5], np.float32)
    for x, y in ((1.0, 0.0), (1, 0), (1.0, 0), (True, False), (1j, 0)):
        check(lambda lib, m: lib.where(m, x, y), c)
    for s in (2.5, 7, True):
        check(lambda lib, m, a: lib.where(m, a, s), c, i)
        check(lambda lib, m, a: lib.where(m, s, a), c, f)
    check(lambda lib, m, a, b: lib.where(m, a, b), c, i, f.astype(np.float64))
    check(lambda lib, m, a, b: lib.where(m, a, b), c, np.array(2.0), i)
    check(lambda lib, m, a, b: lib.where(m, a, b), c, f.astype(np.float16), np.array(2.0))
    check(lambda lib, m, a: lib.where(m, a, 0.0), c, f)


def test_where_condition():
    c = np.array([1, 0, 2], np.uint8)
    for lib in (torch, ember):
        with pytest.warns(UserWarning, match="uint8 condition"):
            r = lib.where(lib.tensor(c), 1.0, 0.0)
        assert r.tolist() == [1.0, 0.0, 1.0]
    raises(RuntimeError, r"where: expected condition to be a boolean tensor, but got "
           r"float32\[2\] on cpu", ember.where, ember.ones(2), 1.0, 0.0)
    raises(TypeError, r"where\(\): argument 'input' \(position 2\) must be Tensor, not str",
           ember.where, ember.ones(2) > 0, "a", 0.0)


def test_where_single_argument_is_nonzero():
    for c in (np.array([[True, False], [False, True]]), np.array([0.0, 1.5, -1.0]),
              np.array([], dtype=bool), np.array(True)):
        check(lambda lib, m: lib.where(m), c)


# ---- isclose, allclose, equal -----------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [{}, {"rtol": 0.1}, {"atol": 1.0, "rtol": 0.0},
                                    {"equal_nan": True}])
def test_isclose(kwargs):
    x = np.array([1.0, 1.01, NAN, INF, -INF, INF, 0.0, 1e-9])
    y = np.array([1.0, 1.0, NAN, INF, INF, 1e300, -0.0, 0.0])
    for dtype in (np.float32, np.float64):
        check(lambda lib, a, b: lib.isclose(a, b, **kwargs), x.astype(dtype), y.astype(dtype))
        check(lambda lib, a, b: lib.allclose(a, b, **kwargs), x.astype(dtype), y.astype(dtype))
        check(lambda lib, a, b: a.isclose(b, **kwargs), x[:2, None].astype(dtype),
              y[None, :2].astype(dtype))
    check(lambda lib, a, b: lib.isclose(a, b, **kwargs), np.array([1, 5, -3]),
          np.array([2, 5, 3]))
    check(lambda lib, a, b: lib.isclose(a, b, **kwargs), np.array([True, False]),
          np.array([True, True]))
    z = np.array([1 + 1j, NAN + 0j, 2j])
    check(lambda lib, a, b: lib.isclose(a, b, **kwargs), z, z + 1e-9)


def test_isclose_errors():
    raises(RuntimeError, r"isclose: input and other must have the same dtype, got int64\[2\] on "
           r"cpu and float32\[2\] on cpu", ember.isclose, ember.tensor([1, 2]),
           ember.tensor([1.0, 2.0]))
    raises(RuntimeError, "isclose: rtol and atol must be greater than or equal to zero",
           ember.isclose, ember.ones(2), ember.ones(2), -1.0)


def test_equal():
    for x, y in ((F32, F32), (F64, F64), (I64, I64.astype(np.float64)), (I64, I64[:3]),
                 (B, B), (np.ones((2, 3)), np.ones((3, 2))), (np.ones(0), np.ones(0)),
                 (np.array(1.0), np.array([1.0]))):
        check(lambda lib, a, b: lib.equal(a, b), x, y)
        check(lambda lib, a, b: a.equal(b), x, y)


# ---- predicates -----------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal",
                                "signbit"])
def test_predicates(op):
    x = np.array([1.0, -0.0, 0.0, NAN, -NAN, INF, -INF, -2.5])
    for dtype in (np.float16, np.float32, np.float64):
        check(lambda lib, t: getattr(lib, op)(t), x.astype(dtype))
    for arr in (B, I8, U8, I64, np.array([1 + 1j, complex(NAN, 0), complex(0, INF), 2 + 0j]),
                np.zeros((0, 2)), np.array(-1.0)):
        same_outcome(lambda lib, t: getattr(lib, op)(t), arr)
    check(lambda lib, t: getattr(t, op)(), randn(4, 3).T)
    raises(TypeError, rf"{op}\(\): argument 'input' \(position 1\) must be Tensor, not float",
           getattr(ember, op), 1.0)


def test_predicate_errors_name_op():
    z = ember.ones(2, dtype=ember.complex64)
    raises(RuntimeError, r"isposinf: does not support complex inputs \(complex64\[2\] on cpu\)",
           ember.isposinf, z)
    raises(NotImplementedError, "signbit: does not support complex inputs", ember.signbit, z)


# ---- CUDA (run on the device machine) ---------------------------------------------------------

@pytest.mark.gpu
def test_compare_cuda():
    x, y = np.array([1.0, NAN, -0.0, INF]), np.array([1.0, NAN, 0.0, 2.0])
    for fn in (lambda lib, a, b: a == b, lambda lib, a, b: a < b, lambda lib, a, b: a >= 1,
               lambda lib, a, b: lib.isclose(a, b, equal_nan=True),
               lambda lib, a, b: lib.logical_xor(a, b), lambda lib, a, b: lib.where(a > 0, a, 0.5),
               lambda lib, a, b: lib.where(a > 0, 1.0, 0), lambda lib, a, b: lib.signbit(a),
               lambda lib, a, b: lib.isposinf(a), lambda lib, a, b: lib.where(b > 0)):
        check(fn, x, y, device="cuda")
    shifts = np.array([0, 1, 63, 64, 70, -1])
    for fn in (lambda lib, a, s: a << s, lambda lib, a, s: a >> s, lambda lib, a, s: a & s,
               lambda lib, a, s: ~a, lambda lib, a, s: a.to(lib.int8) >> s.to(lib.int8)):
        check(fn, np.array([1, -8, 5, -1, 127, -3]), shifts, device="cuda")
    assert ember.equal(ember.ones(3).cuda(), ember.ones(3).cuda())


def test_where_with_zero_on_large_arrays():
    """Masks with 0 take a fast path on large CPU arrays; NaN and inf that are dropped still
    give 0, NaN and inf that are kept stay."""
    c = randn(80, 64) > 0
    x = randn(80, 64)
    x[0, :4], x[1, :4] = [NAN, INF, -INF, NAN], [NAN, INF, -INF, 1.0]
    c[0, :4], c[1, :4] = False, True
    for fn in (lambda lib, m, a: lib.where(m, a, 0.0), lambda lib, m, a: lib.where(m, 0, a),
               lambda lib, m, a: lib.where(m, a, 0).sum()):
        check(fn, c, x, grad=False)
        check(fn, c[1:, 4:].copy(), x[1:, 4:].copy())  # finite: with gradients


def test_op_db_regressions():
    """Cases PyTorch's OpInfo samples (tests/ops/test_op_db.py) found: reflected bitwise
    operators called directly with a tensor compute other <op> self."""
    a, b = randint(0, 8, (4,)), randint(1, 4, (4,))
    for name in ("__rand__", "__ror__", "__rxor__", "__rlshift__", "__rrshift__"):
        check(lambda lib, a, b: getattr(a, name)(b), a, b)
