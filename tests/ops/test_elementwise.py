"""Elementwise math against PyTorch: values, dtypes (type promotion with tensors, 0-d tensors
and Python numbers), gradients (incl. float64 gradcheck / gradgradcheck and the values at kinks),
edge shapes (0-d, empty, broadcasting, non-contiguous), complex inputs, in-place forms, out=,
the Python operators and errors."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, randn, randint, raises
from helpers import rand as _rand

NAN, INF = float("nan"), float("inf")
SHAPES = [(3, 4), (), (0, 3)]
PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 3), (4, 1)), ((), (3,)), ((0, 3), (3,))]


def rand(*shape, **kwargs):
    """helpers.rand, as an array also for shape () (not a NumPy scalar)."""
    return np.asarray(_rand(*shape, **kwargs))


def tensors(lib, *arrays):
    return [torch.from_numpy(a.copy()) if lib is torch else ember.tensor(a) for a in arrays]


def same_outcome(fn, *arrays):
    """``fn(lib, *tensors)`` gives torch's values and dtype, or raises torch's exception type
    (NotImplementedError and RuntimeError are told apart)."""
    try:
        fn(torch, *tensors(torch, *arrays))
    except Exception as e:
        with pytest.raises(type(e)) as info:
            fn(ember, *tensors(ember, *arrays))
        if isinstance(e, RuntimeError):  # NotImplementedError is a RuntimeError too
            assert isinstance(info.value, NotImplementedError) == isinstance(
                e, NotImplementedError), f"torch raised {e!r}, ember {info.value!r}"
        return
    check(fn, *arrays, grad=False)


def noncontiguous(*shape, low=-2.0, high=2.0):
    """A transposed (non-contiguous) float32 array."""
    return rand(*shape[::-1], low=low, high=high).T


# ---- unary ops ------------------------------------------------------------------------------------

# name -> (low, high) of the inputs' domain
UNARY = {
    "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.5, 2), "log2": (0.5, 2),
    "log10": (0.5, 2), "log1p": (-0.5, 2), "sqrt": (0.5, 2), "rsqrt": (0.5, 2),
    "reciprocal": (0.5, 2), "sin": (-2, 2), "cos": (-2, 2), "tan": (-1, 1), "asin": (-0.9, 0.9),
    "acos": (-0.9, 0.9), "atan": (-2, 2), "sinh": (-2, 2), "cosh": (-2, 2), "tanh": (-2, 2),
    "asinh": (-2, 2), "acosh": (1.2, 3), "atanh": (-0.9, 0.9), "sigmoid": (-3, 3),
    "logit": (0.1, 0.9), "erf": (-2, 2), "erfc": (-2, 2), "erfinv": (-0.9, 0.9),
    "lgamma": (0.5, 3), "digamma": (0.5, 3), "sinc": (-2, 2), "deg2rad": (-2, 2),
    "rad2deg": (-2, 2), "abs": (-2, 2), "neg": (-2, 2), "square": (-2, 2), "frac": (-3, 3),
    "sgn": (-2, 2), "angle": (-2, 2), "arcsin": (-0.9, 0.9), "arccos": (-0.9, 0.9),
    "arctan": (-2, 2), "arcsinh": (-2, 2), "arccosh": (1.2, 3), "arctanh": (-0.9, 0.9),
    "absolute": (-2, 2), "negative": (-2, 2), "positive": (-2, 2), "nan_to_num": (-2, 2),
    "conj_physical": (-2, 2), "sign": (-2, 2), "floor": (-3, 3), "ceil": (-3, 3),
    "round": (-3, 3), "trunc": (-3, 3), "fix": (-3, 3),
}
# with nonzero derivatives on real inputs (torch's gradgradcheck needs a graph)
SMOOTH = [n for n in UNARY if n not in ("sign", "sgn", "angle", "floor", "ceil", "round", "trunc",
                                        "fix")]
COMPLEX_UNARY = ["exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "reciprocal",
                 "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "asinh",
                 "acosh", "atanh", "sigmoid", "abs", "neg", "square", "sgn", "angle", "sinc",
                 "conj_physical", "exp2"]


@pytest.mark.parametrize("op", UNARY)
def test_unary_values_and_grads(op):
    low, high = UNARY[op]
    fn = lambda lib, x: getattr(lib, op)(x)  # noqa: E731
    for shape in SHAPES:
        for dtype in (np.float32, np.float64):
            check(fn, rand(*shape, low=low, high=high, dtype=dtype), atol=2e-5)
    check(fn, rand(3, 4, low=low, high=high).T, atol=2e-5)
    check(lambda lib, x: getattr(x, op)(), rand(2, 3, low=low, high=high))


@pytest.mark.parametrize("op", SMOOTH)
def test_unary_gradcheck(op):
    low, high = UNARY[op]
    gradcheck_fn(lambda lib, x: getattr(lib, op)(x), rand(2, 3, low=low, high=high))


@pytest.mark.parametrize("op", COMPLEX_UNARY)
def test_unary_complex(op):
    # in the first quadrant, away from every branch cut (on the real and imaginary axes)
    z = (rand(2, 3, low=0.2, high=0.8) + 1j * rand(2, 3, low=0.2, high=0.8)).astype(np.complex64)
    check(lambda lib, x: getattr(lib, op)(x), z, atol=1e-4, rtol=1e-4)
    gradcheck_fn(lambda lib, x: getattr(lib, op)(x), z[:1, :2], gradgrad=op != "sgn")


@pytest.mark.parametrize("op", UNARY)
def test_unary_dtypes(op):
    """Integer and bool inputs: promoted to float, kept, or refused, as in PyTorch."""
    for arr in (randint(-3, 4, (2, 3)), randint(0, 4, (4,), dtype=np.uint8),
                np.array([True, False]), randn(3).astype(np.float16)):
        same_outcome(lambda lib, x: getattr(lib, op)(x), arr)


def test_unary_not_a_tensor():
    raises(TypeError, r"sin\(\): argument 'input' \(position 1\) must be Tensor, not float",
           ember.sin, 1.0)


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh", "sin", "sqrt", "abs", "floor"])
def test_unary_inplace_and_out(op):
    x = rand(3, 4, low=0.5, high=2)
    check(lambda lib, t: getattr(t * 1, op + "_")(), x)
    check(lambda lib, t: getattr(lib, op)(t, out=lib.empty(0)), x, grad=False)
    same_outcome(lambda lib, t: getattr(t, op + "_")(), randint(1, 4, (3,)))


def test_special_values_match_torch():
    x = np.array([0.0, -0.0, -1.0, -2.5, 1e-30, 3.0, INF, -INF, NAN])
    for op in ("lgamma", "digamma", "erf", "erfc", "sigmoid", "exp", "log", "sqrt", "rsqrt",
               "reciprocal", "sinc", "sign", "sgn", "angle", "frac", "logit"):
        check(lambda lib, t: getattr(lib, op)(t), x, grad=False)
    check(lambda lib, t: lib.erfinv(t), np.array([-1.0, 1.0, 2.0, 0.3, NAN]), grad=False)
    check(lambda lib, t: lib.sigmoid(t), np.array([-100.0, -88.0, -87.0, 0.0, 88.0],
                                                   dtype=np.float32), grad=False)


def test_polygamma():
    x = rand(2, 3, low=0.5, high=3, dtype=np.float64)
    for n in range(4):
        check(lambda lib, t: lib.polygamma(n, t), x)
        check(lambda lib, t: t.polygamma(n), x)
    gradcheck_fn(lambda lib, t: lib.polygamma(1, t), x[:1])
    check(lambda lib, t: t.clone().polygamma_(2), x)
    raises(RuntimeError, "polygamma: n must be a non-negative integer", ember.polygamma, -1,
           ember.ones(2))


@pytest.mark.parametrize("eps", [None, 0.1])
def test_logit(eps):
    x = np.array([0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0, 1.5, -0.5])
    check(lambda lib, t: lib.logit(t, eps), x)
    check(lambda lib, t: t.logit(eps=eps), x.astype(np.float32))
    gradcheck_fn(lambda lib, t: lib.logit(t, eps), rand(2, 3, low=0.15, high=0.85))


def test_round_decimals():
    x = np.array([1.2345, 2.5, -0.5, 1234.5, 25.0, -1.5, NAN], dtype=np.float32)
    for decimals in (0, 1, 2, -1, -2):
        check(lambda lib, t: lib.round(t, decimals=decimals), x)
        check(lambda lib, t: t.clone().round_(decimals=decimals), x.astype(np.float64))
    same_outcome(lambda lib, t: lib.round(t, decimals=1), np.array([1, 2]))
    same_outcome(lambda lib, t: lib.round(t), np.array([1, 2]))


@pytest.mark.parametrize("args", [{}, {"nan": 1.5}, {"posinf": 9.0, "neginf": -9.0}])
def test_nan_to_num(args):
    x = np.array([NAN, INF, -INF, 1.0, -2.0])
    for dtype in (np.float16, np.float32, np.float64):
        check(lambda lib, t: lib.nan_to_num(t, **args), x.astype(dtype))
    check(lambda lib, t: t.clone().nan_to_num_(**args), x)
    check(lambda lib, t: lib.nan_to_num(t, **args), np.array([1, 2]))
    z = np.array([complex(NAN, INF), complex(-INF, 1)])
    check(lambda lib, t: lib.nan_to_num(t, **args), z, grad=False)  # torch: no complex grad


# ---- kinks and edge values of gradients -----------------------------------------------------------

KINKS = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, 2.0])


@pytest.mark.parametrize("fn", [
    lambda lib, x: lib.abs(x), lambda lib, x: lib.sqrt(x.abs()), lambda lib, x: lib.sqrt(x),
    lambda lib, x: lib.sign(x), lambda lib, x: lib.sgn(x), lambda lib, x: lib.floor(x),
    lambda lib, x: lib.round(x), lambda lib, x: lib.frac(x), lambda lib, x: lib.reciprocal(x),
    lambda lib, x: lib.rsqrt(x), lambda lib, x: lib.log(x), lambda lib, x: lib.sinc(x),
    lambda lib, x: lib.angle(x), lambda lib, x: lib.nan_to_num(x / 0),
    lambda lib, x: x ** 0.0, lambda lib, x: x ** 1.0, lambda lib, x: x ** 2, lambda lib, x: x ** 0.5,
    lambda lib, x: x ** -1, lambda lib, x: 0.0 ** x, lambda lib, x: 2.0 ** x,
    lambda lib, x: (-2.0) ** x, lambda lib, x: 0 ** x, lambda lib, x: x ** x,
    lambda lib, x: lib.pow(x, x.flip(0)),
])
def test_grads_at_kinks(fn):
    check(fn, KINKS)


# ---- binary ops -----------------------------------------------------------------------------------

# name -> (domain of the first operand, domain of the second, differentiable)
BINARY = {
    "add": ((-2, 2), (-2, 2), True), "sub": ((-2, 2), (-2, 2), True),
    "mul": ((-2, 2), (-2, 2), True), "div": ((-2, 2), (0.5, 2), True),
    "true_divide": ((-2, 2), (0.5, 2), True), "remainder": ((-5, 5), (0.7, 2), True),
    "fmod": ((-5, 5), (0.7, 2), True), "floor_divide": ((-5, 5), (0.7, 2), False),
    "pow": ((0.5, 2), (-2, 2), True), "float_power": ((0.5, 2), (-2, 2), True),
    "atan2": ((-2, 2), (-2, 2), True), "arctan2": ((-2, 2), (-2, 2), True),
    "hypot": ((-2, 2), (-2, 2), True), "copysign": ((-2, 2), (-2, 2), True),
    "logaddexp": ((-2, 2), (-2, 2), True), "logaddexp2": ((-2, 2), (-2, 2), True),
    "xlogy": ((-2, 2), (0.5, 2), True), "maximum": ((-2, 2), (-2, 2), True),
    "minimum": ((-2, 2), (-2, 2), True), "fmax": ((-2, 2), (-2, 2), True),
    "fmin": ((-2, 2), (-2, 2), True), "subtract": ((-2, 2), (-2, 2), True),
    "multiply": ((-2, 2), (-2, 2), True), "divide": ((-2, 2), (0.5, 2), True),
}


@pytest.mark.parametrize("op", BINARY)
def test_binary_values_and_grads(op):
    (l1, h1), (l2, h2), diff = BINARY[op]
    fn = lambda lib, x, y: getattr(lib, op)(x, y)  # noqa: E731
    for s1, s2 in PAIRS:
        check(fn, rand(*s1, low=l1, high=h1), rand(*s2, low=l2, high=h2), grad=diff, atol=2e-5)
    check(fn, rand(4, 3, low=l1, high=h1).T, rand(4, 3, low=l2, high=h2, dtype=np.float64).T,
          grad=diff)
    check(lambda lib, x, y: getattr(x, op)(y), rand(2, 3, low=l1, high=h1),
          rand(3, low=l2, high=h2), grad=diff)
    if diff:
        gradcheck_fn(fn, rand(2, 3, low=l1, high=h1), rand(3, low=l2, high=h2))


@pytest.mark.parametrize("op", BINARY)
def test_binary_promotion(op):
    """Result dtypes (or errors) for mixed tensor dtypes, 0-d tensors and Python numbers."""
    b, i, u = np.array([True, False, True]), np.array([3, -2, 5]), np.array([3, 2, 7], np.uint8)
    f = np.array([1.5, -2.0, 0.5], np.float32)
    h, d = f.astype(np.float16), f.astype(np.float64)
    z = np.array([1 + 1j, 2j, -1 + 0.5j], np.complex64)
    zero_d = np.array(2.0)
    fn = lambda lib, x, y: getattr(lib, op)(x, y)  # noqa: E731
    for x, y in ((b, b), (b, i), (i, i), (u, i), (i, f), (h, f), (f, d), (f, z), (z, z),
                 (i, zero_d), (h, zero_d), (u, np.array(-1))):
        same_outcome(fn, x, y)
    for scalar in (2, 2.5, True, -1, 1j):
        same_outcome(lambda lib, x: getattr(lib, op)(x, scalar), i)
        if scalar != 1j:  # torch gives complex32, which ember does not have
            same_outcome(lambda lib, x: getattr(lib, op)(x, scalar), h)
        same_outcome(lambda lib, x: getattr(lib, op)(x, scalar), b)
        same_outcome(lambda lib, x: getattr(lib, op)(scalar, x), i)
        same_outcome(lambda lib, x: getattr(lib, op)(scalar, x), f)


@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow", "atan2", "hypot", "copysign",
                                "xlogy", "remainder", "fmod", "float_power"])
def test_binary_inplace_and_out(op):
    (l1, h1), (l2, h2), diff = BINARY[op]
    x, y = rand(3, 4, low=l1, high=h1), rand(4, low=l2, high=h2)
    check(lambda lib, a, c: getattr(a * 1, op + "_")(c), x.astype(np.float64), y,
          grad=diff)
    out = lambda lib: lib.empty(3, 4, dtype=lib.float64)  # noqa: E731
    check(lambda lib, a, c: getattr(lib, op)(a, c, out=out(lib)), x, y, grad=False)
    # an in-place result must fit self's shape and dtype
    same_outcome(lambda lib, a, c: getattr(c, op + "_")(a), x, y)
    same_outcome(lambda lib, a, c: getattr(a, op + "_")(c), randint(1, 4, (3, 4)), y)


def test_integer_division_and_modulo():
    a, b = np.array([7, -7, 7, -7, 0]), np.array([2, 2, -2, -2, 3])
    for op in ("floor_divide", "remainder", "fmod"):
        check(lambda lib, x, y: getattr(lib, op)(x, y), a, b)
        check(lambda lib, x: getattr(lib, op)(x, 3), a)
        check(lambda lib, x: getattr(lib, op)(x, -3), a.astype(np.int8))
    for mode in ("trunc", "floor"):
        check(lambda lib, x, y: lib.div(x, y, rounding_mode=mode), a, b)
        check(lambda lib, x, y: lib.div(x, y, rounding_mode=mode), a.astype(np.float32), b)
    check(lambda lib, x: lib.remainder(5, x), b)
    gradcheck_fn(lambda lib, x: lib.remainder(5.5, x), rand(2, 3, low=0.7, high=2))
    check(lambda lib, x: 5 // x, b)
    check(lambda lib, x: -5 % x, b)
    for op in ("floor_divide", "remainder", "fmod"):
        raises(RuntimeError, f"{op}: ZeroDivisionError", getattr(ember, op), ember.tensor(a),
               ember.tensor([1, 0, 1, 1, 1]))
        raises(RuntimeError, f"{op}: ZeroDivisionError", getattr(ember, op), ember.tensor(a), 0)
    raises(RuntimeError, "div: ZeroDivisionError", ember.div, ember.tensor(a), 0,
           rounding_mode="trunc")
    check(lambda lib, x: x / 0, a)
    check(lambda lib, x: lib.floor_divide(x, 0.0), a.astype(np.float32), grad=False)
    raises(RuntimeError, "div expected rounding_mode to be one of None, 'trunc', or 'floor'",
           ember.div, ember.tensor(a), 2, rounding_mode="round")


def test_remainder_fmod_grads_and_floor_divide_not_differentiable():
    x, y = rand(2, 3, low=-5, high=5), rand(3, low=0.7, high=2)
    for op in ("remainder", "fmod"):
        check(lambda lib, a, b: getattr(lib, op)(a, b), x, y)
        check(lambda lib, a: getattr(lib, op)(a, 1.5), x)
    check(lambda lib, a, b: lib.div(a, b, rounding_mode="floor"), x, y)
    for lib in (torch, ember):
        a = lib.tensor([1.5, 2.5], requires_grad=True)
        with pytest.raises(RuntimeError, match="floor_divide"):
            lib.floor_divide(a, 2).sum().backward()


def test_add_sub_alpha():
    x, y = randn(3, 4), randn(4)
    for alpha in (2, -0.5):
        check(lambda lib, a, b: lib.add(a, b, alpha=alpha), x, y)
        check(lambda lib, a, b: lib.sub(a, b, alpha=alpha), x, y)
        check(lambda lib, a, b: (a * 1).add_(b, alpha=alpha), x, y)
        check(lambda lib, a: lib.add(a, 3, alpha=alpha), x)
    check(lambda lib, a: lib.rsub(a, 2), x)
    check(lambda lib, a, b: lib.rsub(a, b, alpha=3), x, y)
    check(lambda lib, a, b: lib.add(a, b, alpha=3), np.array([1, 2]), np.array([3, 4]))
    raises(RuntimeError, "add: For integral input tensors, argument alpha must not be a "
           "floating point number", ember.add, ember.tensor([1, 2]), ember.tensor([1, 2]),
           alpha=0.5)


def test_sub_neg_positive_bool_errors():
    b = ember.tensor([True, False])
    raises(RuntimeError, r"sub: Subtraction, the `-` operator, with a bool tensor is not "
           r"supported \(bool\[2\] on cpu\)", ember.sub, b, b)
    raises(RuntimeError, "sub: Subtraction", lambda: b - 1)
    raises(RuntimeError, "rsub: Subtraction", lambda: 1 - b)
    raises(RuntimeError, "neg: Negation", lambda: -b)
    raises(RuntimeError, "positive: The `\\+` operator, on a bool tensor", lambda: +b)
    raises(NotImplementedError, r"abs: not implemented for bool tensors \(bool\[2\] on cpu\)",
           ember.abs, b)


def test_maximum_minimum_nan_and_ties():
    x = np.array([1.0, 2.0, NAN, 1.0, NAN, -0.0])
    y = np.array([1.0, 1.0, 1.0, NAN, NAN, 0.0])
    for op in ("maximum", "minimum", "fmax", "fmin"):
        check(lambda lib, a, b: getattr(lib, op)(a, b), x, y)
        check(lambda lib, a, b: getattr(lib, op)(a, b), x[:4, None], y[None, :4])
    check(lambda lib, a, b: lib.maximum(a, b), np.array([1, 5, -3]), np.array([2, 2, 2]))
    check(lambda lib, a, b: lib.fmax(a, b), np.array([True, False]), np.array([False, False]))


def test_binary_edge_grads():
    zeros = np.zeros(3)
    check(lambda lib, a, b: lib.atan2(a, b), zeros, zeros)
    check(lambda lib, a, b: lib.hypot(a, b), np.array([0.0, 3.0]), np.array([0.0, 4.0]))
    check(lambda lib, a, b: lib.copysign(a, b), np.array([0.0, 1.0, -1.0, 2.0, -0.0]),
          np.array([1.0, -0.0, -1.0, 2.0, -1.0]))
    check(lambda lib, a: lib.copysign(a, -1), np.array([0.0, 1.0, -1.0]))
    check(lambda lib, a, b: lib.xlogy(a, b), np.array([0.0, 0.0, 1.0, 1.0, 0.0]),
          np.array([0.0, 1.0, 0.0, NAN, -1.0]))
    check(lambda lib, a: lib.xlogy(2, a), np.array([0.5, 0.0, NAN]))
    check(lambda lib, a: lib.xlogy(a, 3.0), np.array([0.5, 0.0, NAN]))
    check(lambda lib, a, b: lib.logaddexp(a, b), np.array([-INF, 1.0, INF]),
          np.array([-INF, 1.0, 2.0]))
    check(lambda lib, a, b: lib.maximum(a, b), np.array([1.0, 2.0]), np.array([1.0, 3.0]))


def test_pow_integers():
    b = np.array([True, False, True])
    i = np.array([1, -1, 0, 2, -2, 3])
    e = np.array([-1, -1, -1, -2, -3, 2])
    check(lambda lib, x: x ** 2, b)
    check(lambda lib, x: x ** 2, i)
    check(lambda lib, x: x ** 2.0, i)
    check(lambda lib, x: 2 ** x, e)
    check(lambda lib, x: 2.5 ** x, e)
    check(lambda lib, x, y: x ** y, i, e)
    check(lambda lib, x, y: lib.pow(x, y), i.astype(np.int32), e.astype(np.int8))
    check(lambda lib, x: lib.square(x), b)
    check(lambda lib, x: lib.float_power(x, 2), i)
    check(lambda lib, x: lib.float_power(x, 1j), i.astype(np.float32))
    raises(RuntimeError, r"pow: Integers to negative integer powers are not allowed "
           r"\(int64\[6\] on cpu \*\* -1\)", lambda: ember.tensor(i) ** -1)
    same_outcome(lambda lib, x, y: lib.pow(x, y), b, b)


def test_pow_complex():
    z = (randn(2, 3) + 1j * randn(2, 3)).astype(np.complex128)
    check(lambda lib, x: x ** 2, z)
    check(lambda lib, x: x ** 0.5, z)
    check(lambda lib, x, y: x ** y, z, z[0])
    check(lambda lib, x: 2 ** x, z)
    gradcheck_fn(lambda lib, x, y: x ** y, z[:1, :2], z[1, :2])


# ---- complex parts --------------------------------------------------------------------------------

def test_complex_parts():
    z = (randn(2, 3) + 1j * randn(2, 3)).astype(np.complex64)
    for fn in (lambda lib, x: lib.real(x), lambda lib, x: lib.imag(x), lambda lib, x: x.real,
               lambda lib, x: x.imag, lambda lib, x: lib.conj(x), lambda lib, x: x.conj() * x,
               lambda lib, x: lib.angle(x), lambda lib, x: lib.abs(x), lambda lib, x: lib.sgn(x),
               lambda lib, x: lib.conj_physical(x), lambda lib, x: x.resolve_conj()):
        check(fn, z)
    for fn in (lambda lib, x: lib.real(x) * lib.imag(x), lambda lib, x: lib.angle(x),
               lambda lib, x: lib.conj(x) * x, lambda lib, x: lib.abs(x)):
        gradcheck_fn(fn, z[:1])
    z0 = np.array([0j, 1 + 0j, -1j])
    check(lambda lib, x: lib.sgn(x), z0)
    check(lambda lib, x: lib.angle(x), z0)


def test_complex_parts_of_real_tensors():
    x = randn(3)
    t = ember.tensor(x)
    assert ember.conj(t) is t and t.real is t and ember.real(t) is t and not t.is_conj()
    raises(RuntimeError, "imag: imag is not implemented for tensors with non-complex dtypes",
           lambda: t.imag)
    check(lambda lib, a: lib.angle(a), np.array([-1.0, 0.0, 1.0, NAN, -0.0]))
    check(lambda lib, a: lib.angle(a), np.array([-1, 0, 2]))


def test_real_imag_are_views():
    z = ember.tensor([1 + 2j, 3 - 1j])
    z.real.mul_(2)
    z.imag.add_(1)
    assert z.tolist() == [2 + 3j, 6 + 0j]


# ---- clamp --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bounds", [(-1, 1), (-1, None), (None, 1), (1, -1), (0.5, 1.5),
                                    (-1.0, 1.0)])
def test_clamp_scalar_bounds(bounds):
    lo, hi = bounds
    x = np.array([-2.0, -1.0, 0.0, 1.0, 1.5, 2.0, NAN])
    check(lambda lib, t: lib.clamp(t, lo, hi), x)
    check(lambda lib, t: lib.clip(t, min=lo, max=hi), x.astype(np.float32))
    check(lambda lib, t: (t * 1).clamp_(lo, hi), x)
    check(lambda lib, t: lib.clamp(t, lo, hi), np.array([-3, 0, 3]))
    gradcheck_fn(lambda lib, t: lib.clamp(t, lo, hi), rand(2, 3, low=-3, high=3))


def test_clamp_tensor_bounds():
    x = np.array([-1.0, 1.0, 0.0, 2.0, 0.5, 0.5, -1.0])
    lo = np.array([-1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0])
    hi = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    check(lambda lib, t, a, b: lib.clamp(t, a, b), x, lo, hi)
    check(lambda lib, t, a: lib.clamp(t, min=a), x, lo)
    check(lambda lib, t, b: lib.clamp(t, max=b), x, hi)
    check(lambda lib, t, a, b: lib.clamp(t, a, b), randn(3, 4), randn(4), randn(3, 1))
    check(lambda lib, t, a: lib.clamp_min(t, a), randn(3, 4), randn(4))
    check(lambda lib, t, b: lib.clamp_max(t, b), randn(3, 4), randn(4))
    # bounds may broadcast the result beyond input's shape (torch's autograd refuses that)
    same_outcome(lambda lib, t, a, b: lib.clamp(t, a, b), randn(2, 3), randn(3, 1, 1), randn(3))
    check(lambda lib, t: lib.clamp_min(t, 0.0), randn(3))
    check(lambda lib, t: t.clamp_max_(0.0), randn(3).astype(np.float64) * 1, grad=False)
    gradcheck_fn(lambda lib, t, a, b: lib.clamp(t, a, b), randn(2, 3), randn(3) - 1,
                 randn(2, 1) + 1)


def test_clamp_promotion_and_errors():
    i = np.array([1, 2, -3])
    for lo, hi in ((0.5, None), (0, 2), (None, 1.5), (True, None)):
        check(lambda lib, t: lib.clamp(t, lo, hi), i)
    check(lambda lib, t, a: lib.clamp(t, a), i, np.array([0.5, 0.5, 0.5]))
    check(lambda lib, t, a: lib.clamp(t, a), np.float32([1, 2]), np.array(1.5))
    raises(RuntimeError, "clamp: At least one of 'min' or 'max' must not be None", ember.clamp,
           ember.ones(2))
    raises(NotImplementedError, "clamp: not implemented for complex64 tensors", ember.clamp,
           ember.ones(2, dtype=ember.complex64), 0)
    raises(TypeError, "clamp\\(\\): argument 'min' must be a Tensor or a number", ember.clamp,
           ember.ones(2), "a")
    same_outcome(lambda lib, t: t.clamp_(0.5), i)


# ---- lerp, addcmul, addcdiv -----------------------------------------------------------------------

@pytest.mark.parametrize("weight", [0.3, 0.7, -1.0, 1.0, "tensor"])
def test_lerp(weight):
    x, e = randn(3, 4), randn(4)
    if weight == "tensor":
        w = rand(3, 1, low=-0.5, high=1.5)
        check(lambda lib, a, b, c: lib.lerp(a, b, c), x, e, w)
        check(lambda lib, a, b, c: (a * 1).lerp_(b, c), x, e, w)
        gradcheck_fn(lambda lib, a, b, c: lib.lerp(a, b, c), x[:2], e, w[:2])
        return
    check(lambda lib, a, b: lib.lerp(a, b, weight), x, e)
    check(lambda lib, a, b: a.lerp(b, weight), x.astype(np.float64), e.astype(np.float64))
    check(lambda lib, a, b: lib.lerp(a, b, weight, out=lib.empty(0)), x, e, grad=False)
    gradcheck_fn(lambda lib, a, b: lib.lerp(a, b, weight), x[:2], e)


def test_lerp_errors():
    raises(RuntimeError, "lerp: expected dtype float32 for `end` but got dtype float64",
           ember.lerp, ember.ones(2), ember.ones(2, dtype=ember.float64), 0.5)
    raises(NotImplementedError, "lerp: not implemented for int64 tensors", ember.lerp,
           ember.tensor([1, 2]), ember.tensor([1, 2]), 0.5)


@pytest.mark.parametrize("op", ["addcmul", "addcdiv"])
def test_addcmul_addcdiv(op):
    x, t1, t2 = randn(3, 4), randn(4), rand(3, 1, low=0.5, high=2)
    for value in (1, 0.5, -2):
        check(lambda lib, a, b, c: getattr(lib, op)(a, b, c, value=value), x, t1, t2)
        check(lambda lib, a, b, c: getattr(a * 1, op + "_")(b, c, value=value), x, t1, t2)
    check(lambda lib, a, b, c: getattr(lib, op)(a, b, c, out=lib.empty(0)), x, t1, t2,
          grad=False)
    check(lambda lib, a, b, c: getattr(lib, op)(a, b, c), x, t1.astype(np.float64),
          np.array([2, 3, 4]).reshape(3, 1), grad=False)  # torch's grad refuses int tensors
    z = (randn(2, 2) + 1j * randn(2, 2)).astype(np.complex64)
    check(lambda lib, a, b, c: getattr(lib, op)(a, b, c, value=2), z, z, z + 3)
    gradcheck_fn(lambda lib, a, b, c: getattr(lib, op)(a, b, c, value=0.5), x[:2], t1, t2[:2])
    i = np.array([1, 2, -3])
    same_outcome(lambda lib, a: getattr(lib, op)(a, a, a, value=2), i)
    same_outcome(lambda lib, a: getattr(lib, op)(a, a, a, value=0.5), i)


# ---- heaviside ----------------------------------------------------------------------------------

def test_heaviside():
    x = np.array([-1.5, 0.0, 2.0, NAN])
    check(lambda lib, a, v: lib.heaviside(a, v), x, np.array(0.5), grad=False)
    check(lambda lib, a, v: lib.heaviside(a, v), x[:3], np.array([0.1, 0.2, 0.3]), grad=False)
    check(lambda lib, a, v: lib.heaviside(a, v), np.array([-2, 0, 3]), np.array([7, 7, 7]))
    check(lambda lib, a, v: lib.heaviside(a, v), np.array([True, False]), np.array([True, True]))
    raises(RuntimeError, "heaviside: heaviside is not yet implemented for tensors with different "
           "dtypes", ember.heaviside, ember.ones(2), ember.ones(2, dtype=ember.float64))
    for lib in (torch, ember):
        a = lib.tensor([1.0, -1.0], requires_grad=True)
        with pytest.raises(RuntimeError, match="heaviside"):
            lib.heaviside(a, lib.tensor(0.5)).sum().backward()


# ---- Python operators -----------------------------------------------------------------------------

OPERATORS = ["x + y", "x - y", "x * y", "x / y", "x ** y", "x % y", "x // y", "2 + x", "2 - x",
             "2 * x", "2 / y", "2 ** x", "5 % y", "5 // y", "-x", "+x", "abs(x)", "x ** 2",
             "x % 1.5", "x // 0.5", "1.5 ** x"]


@pytest.mark.parametrize("expr", OPERATORS)
def test_operators(expr):
    def fn(lib, x, y):
        return eval(expr, {"x": x, "y": y})
    x, y = rand(3, 4, low=0.5, high=3), rand(4, low=0.5, high=3)
    # PyTorch has no derivative for floor division nor for number % tensor
    check(fn, x, y, grad="//" not in expr and expr != "5 % y")
    check(fn, np.array([[1, 2, 3]]), np.array([4, 5, 6]), grad=False)


@pytest.mark.parametrize("op", ["+=", "-=", "*=", "/=", "**=", "%=", "//="])
def test_inplace_operators(op):
    def fn(lib, x, y):
        z = x * 1
        scope = {"z": z, "y": y}
        exec(f"z {op} y", scope)
        assert scope["z"] is z  # in place: the same tensor
        return z
    check(fn, rand(3, 4, low=0.5, high=3), rand(4, low=0.5, high=3), grad=op != "//=")
    same_outcome(fn, np.array([4, 5, 6]), np.array([1, 2, 3]))
    same_outcome(fn, np.array([4, 5, 6]), np.array([1.5, 2.0, 3.0]))


def test_operator_with_unsupported_type():
    t = ember.ones(2)
    for bad in (None, "a", object()):
        with pytest.raises(TypeError):
            t + bad  # noqa: B018
        with pytest.raises(TypeError):
            bad ** t  # noqa: B018


# ---- in-place semantics ---------------------------------------------------------------------------

def test_inplace_on_leaf_requiring_grad_raises():
    for lib in (torch, ember):
        x = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.add_(1)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            x.sin_()
    x = ember.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf Variable"):
        x.add_(ember.ones(3))
    assert x.tolist() == [1.0, 1.0, 1.0]
    with ember.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 2.0, 2.0] and x.grad_fn is None


def test_inplace_chain_on_non_leaf():
    def fn(lib, x, y):
        z = x * 2
        z.sin_().mul_(y).add_(x).clamp_(-0.5, 1.0).pow_(2).sub_(y, alpha=2).exp_()
        return z
    check(fn, randn(3, 4), randn(4))
    gradcheck_fn(fn, randn(2, 3), randn(3))


def test_inplace_errors_leave_self_untouched():
    x = ember.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError):
        x.add_(ember.ones(3))
    with pytest.raises(RuntimeError):
        x.mul_(ember.ones(2, 2))
    i = ember.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        i.div_(2)
    assert x.tolist() == [1.0, 2.0] and i.tolist() == [1, 2]


def test_out_errors():
    a = ember.ones(2, requires_grad=True)
    raises(RuntimeError, "out=... arguments don't support automatic differentiation", ember.mul,
           a, 2, out=ember.empty(2))
    raises(RuntimeError, "result type float32 can't be cast to the desired output type int64",
           ember.sin, ember.ones(2), out=ember.empty(2, dtype=ember.int64))
    o = ember.empty(5)
    r = ember.add(ember.ones(2), 1, out=o)
    assert r is o and o.tolist() == [2.0, 2.0]


def test_errors_name_op_and_operands():
    raises(RuntimeError, r"atan2: shapes \(3,\), \(4,\) cannot be broadcast together \(inputs: "
           r"float32\[3\] on cpu, float32\[4\] on cpu\)", ember.atan2, ember.ones(3), ember.ones(4))
    raises(TypeError, r"atan2\(\): argument 'other' \(position 2\) must be Tensor, not float",
           ember.atan2, ember.ones(3), 2.0)
    raises(TypeError, r"maximum\(\): argument 'other' \(position 2\) must be Tensor, not int",
           ember.maximum, ember.ones(3), 2)
    raises(NotImplementedError, r"hypot: not implemented for int64 tensors \(int64\[2\] on cpu\)",
           ember.hypot, ember.tensor([1, 2]), ember.tensor([1, 2]))
    raises(RuntimeError, r"maximum: not implemented for complex64 tensors", ember.maximum,
           ember.ones(2, dtype=ember.complex64), ember.ones(2, dtype=ember.complex64))
    raises(NotImplementedError, "sign: Unlike NumPy, torch.sign is not intended to support "
           "complex numbers", ember.sign, ember.ones(2, dtype=ember.complex64))
    raises(NotImplementedError, "erf: not implemented for complex64 tensors", ember.erf,
           ember.ones(2, dtype=ember.complex64))
    raises(NotImplementedError, "floor_divide: not implemented for bool tensors",
           ember.floor_divide, ember.tensor([True]), ember.tensor([True]))


def test_deg_rad_and_grad_fn_names():
    check(lambda lib, x: lib.deg2rad(x), np.array([180, -90]))
    x = ember.ones(2, requires_grad=True)
    assert type(ember.sin(x).grad_fn).__name__ == "Sin"
    assert ember.exp(x).grad_fn.name() == "ExpBackward0"
    assert (x * 2).grad_fn.name() == "MulBackward0"


FAST_INPLACE = ["x.add_(y)", "x.add_(y, alpha=-0.5)", "x.add_(2)", "x.add_(y, alpha=2)",
                "x.sub_(y, alpha=2)", "x.sub_(1.5)", "x.subtract_(y)", "x.mul_(y)", "x.mul_(0.9)",
                "x.div_(y)", "x.div_(4)", "x.true_divide_(y)", "x.div_(y, rounding_mode='floor')",
                "x.addcmul_(y, y, value=0.1)", "x.addcdiv_(y, y + 3, value=-2)",
                "x.addcmul_(y, y, value=2)", "x.lerp_(y, 0.3)", "x.lerp_(y, 0.7)",
                "x.lerp_(y, 1.0)", "x.clamp_(-0.5, 0.5)", "x.clamp_(min=0)", "x.clip_(max=0.2)",
                "x.clamp_(1, -1)", "x += y", "x *= 2", "x /= y", "x -= 1"]


@pytest.mark.parametrize("expr", FAST_INPLACE)
def test_inplace_without_grad(expr):
    """Outside autograd, in-place ops write straight into memory: same results and errors as
    torch, for matching and mismatching dtypes and shapes, and the version counter moves."""
    def fn(lib, x, y):
        scope = {"x": x, "y": y}
        version = x._version
        with lib.no_grad():
            exec(expr, scope)
        assert scope["x"] is x and x._version > version
        return x
    f32, f64 = randn(3, 4), randn(3, 4).astype(np.float64)
    for x, y in ((f32, randn(3, 4)), (f32, randn(4)), (f64, randn(4)), (f32, f64),
                 (randint(-3, 4, (3, 4)), randint(1, 4, (4,))), (randint(-3, 4, (3,)), randn(3)),
                 (randn(4), randn(3, 4)), (np.array([True, False]), np.array([True, True])),
                 (f32, np.array(2.0))):
        same_outcome(fn, x, y)


def test_inplace_without_grad_edge_memory():
    x = ember.ones(3).expand(2, 3)
    with pytest.raises(RuntimeError, match="add_: unsupported operation"):
        x.add_(1)
    y = ember.arange(6.0)
    with ember.no_grad():
        y[1:4].mul_(10)  # through a view
        y.add_(y.flip(0))  # overlapping memory
    t = torch.arange(6.0)
    t[1:4].mul_(10)
    t.add_(t.flip(0))
    assert y.tolist() == t.tolist()


# ---- CUDA (run on the device machine) ---------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("op", UNARY)
def test_unary_cuda(op):
    low, high = UNARY[op]
    for shape in ((3, 4), ()):
        check(lambda lib, x: getattr(lib, op)(x), rand(*shape, low=low, high=high),
              device="cuda", atol=1e-4, rtol=1e-4)


@pytest.mark.gpu
@pytest.mark.parametrize("op", BINARY)
def test_binary_cuda(op):
    (l1, h1), (l2, h2), diff = BINARY[op]
    check(lambda lib, x, y: getattr(lib, op)(x, y), rand(3, 4, low=l1, high=h1),
          rand(4, low=l2, high=h2), grad=diff, device="cuda", atol=1e-4, rtol=1e-4)
    check(lambda lib, x: getattr(lib, op)(x, 2), rand(3, low=l1, high=h1), grad=diff,
          device="cuda", atol=1e-4, rtol=1e-4)


@pytest.mark.gpu
def test_misc_cuda():
    x = np.array([-2.0, -1.0, 0.0, 0.5, 1.0, NAN, INF])
    for fn in (lambda lib, t: lib.clamp(t, -1, 0.5), lambda lib, t: lib.nan_to_num(t),
               lambda lib, t: lib.round(t, decimals=1), lambda lib, t: lib.sign(t),
               lambda lib, t: lib.lerp(t, t * 2, 0.7), lambda lib, t: lib.addcmul(t, t, t),
               lambda lib, t: t ** 2, lambda lib, t: lib.polygamma(1, t.abs() + 1)):
        check(fn, x, device="cuda", atol=1e-5)
    check(lambda lib, a, b: a ** b, np.array([1, -1, 0, 2, -2]), np.array([-1, -1, -1, -2, 3]),
          device="cuda")
    z = (rand(2, 3, low=0.2, high=0.8) + 1j * rand(2, 3, low=0.2, high=0.8)).astype(np.complex64)
    check(lambda lib, t: lib.angle(t) + lib.abs(t) + t.real * t.imag, z, device="cuda")
    for expr in FAST_INPLACE[:8] + FAST_INPLACE[13:]:
        def fn(lib, a, b):
            scope = {"x": a, "y": b}
            with lib.no_grad():
                exec(expr, scope)
            return a
        check(fn, randn(3, 4), randn(4), device="cuda", grad=False)


def test_op_db_regressions():
    """Cases PyTorch's OpInfo samples (tests/ops/test_op_db.py) found."""
    a, b = randn(3), randn(3) + 3
    # reflected operators called directly with a tensor: other <op> self
    for name in ("__rtruediv__", "__rpow__", "__rmod__", "__rfloordiv__", "__rsub__"):
        check(lambda lib, a, b: getattr(a, name)(b), a, b, grad=name != "__rfloordiv__")
    # float_power_ computes in float64 / complex128, so only such a base can hold the result
    for base, exp in ((randn(3), 2), (randn(3).astype(np.float64), 1j)):
        with pytest.raises(RuntimeError):
            torch.from_numpy(base.copy()).float_power_(exp)
        x = ember.tensor(base)
        raises(RuntimeError, "float_power_: .* requires dtype", x.float_power_, exp)
        np.testing.assert_array_equal(x.numpy(), base)
    check(lambda lib, x: x.clone().float_power_(2.5), np.abs(randn(3)).astype(np.float64))
    # conj_physical_ exists (and conjugates in place)
    z = (randn(3) + 1j * randn(3)).astype(np.complex64)
    check(lambda lib, z: z.clone().conj_physical_(), z, grad=False)
    # heaviside wants a tensor input
    raises(TypeError, "heaviside", ember.heaviside, 2, ember.tensor([1, 2]))
