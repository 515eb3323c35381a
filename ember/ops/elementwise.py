"""Elementwise math: arithmetic, powers, exponentials and logs, trigonometry, special functions,
rounding, clamping, complex parts, interpolation, and the Python operators.

Each primitive is a Function with a NumPy/CuPy forward and a backward in Tensor ops (so double
backward works); the public function checks and promotes its operands (``_promote``) and calls
``apply``. Gradients of broadcast operands are reduced with ``sum_to``; complex gradients follow
PyTorch's convention (``grad * conj(f'(z))`` for holomorphic ``f``).

Hot activations' primitives (tanh, sigmoid; relu, gelu ... in ``activation.py``) derive from
``Pointwise``, whose backward is one fused op instead of a chain of small ones."""
import builtins
import cmath
import math
import numbers

import numpy as np

from .._dtype import _Defaults
from .._errors import mark, describe
from .._tensor import Tensor, _new_tensor
from ..autograd import tracing
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from . import _special
from ._broadcast import sum_to
from ._promote import (binary_operands, float_operand, result_type, cast_operands, COMPLEX_NP,
                       FLOAT_NP, INEXACT_NP, INT_NP, BOOL_NP)
from ._registry import public, public_method
from .compare import Where
from .._out import honor_out as _out

_Number = numbers.Number
_LN2, _LN10 = math.log(2.0), math.log(10.0)


# ---- helpers ------------------------------------------------------------------------------------

from ._promote import conj_if_complex as _conj  # noqa: E402

def _shape(x):
    return x.shape if isinstance(x, Tensor) else ()


def _keep(grad, mask):
    """``grad`` where ``mask`` (a bool array) holds, 0 elsewhere (NaN gradients included, like
    PyTorch's masked_fill); differentiable in ``grad``."""
    return Where.apply(_mask(grad, mask), grad, 0)


def _mask(like, mask):
    """A bool array (or the NumPy scalar a 0-d comparison gives) as a tensor on ``like``'s
    device."""
    if isinstance(mask, (np.generic, bool)):
        mask = like._xp().asarray(mask)
    return _new_tensor(mask)


def _as_array(xp, y):
    """NumPy ufuncs return NumPy scalars for 0-d inputs; forwards return arrays."""
    return xp.asarray(y) if isinstance(y, np.generic) else y


def _zeros_like(t):
    return _new_tensor(t._xp().zeros(t._data.shape, dtype=t._data.dtype))


def _not_tensor(op, value, arg="input", position=1):
    return mark(TypeError(f"{op}(): argument '{arg}' (position {position}) must be Tensor, not "
                          f"{type(value).__name__}"))


def _unsupported(op, t, hint, exc=NotImplementedError):
    return mark(exc(f"{op}: not implemented for {t.dtype.name} tensors ({describe(t)}); {hint}"))


def _check_binary_args(op, input, other, number_first=True, number_other=True):
    """The TypeError PyTorch raises for operands that are not tensors (or numbers, where the op
    accepts them)."""
    first_ok = isinstance(input, Tensor) or (number_first and isinstance(input, _Number)
                                             and isinstance(other, Tensor))
    if not first_ok:
        raise _not_tensor(op, input)
    if not (isinstance(other, Tensor) or (number_other and isinstance(other, _Number))):
        raise _not_tensor(op, other, "other", 2)


def _float_operands(op, input, other):
    """Operands of an op computing in floating point: promoted together, and where that gives
    an integer type, each operand cast to the default float from its own dtype (a uint8 tensor
    with -1 computes with -1, not 255)."""
    a, b = binary_operands(op, input, other)
    if (a if isinstance(a, Tensor) else b)._data.dtype in INEXACT_NP:
        return a, b
    return cast_operands(op, _Defaults.float, (input, other))


def _is_int(x):
    """True for integer and bool tensors and Python ints/bools."""
    if isinstance(x, Tensor):
        return x._data.dtype not in INEXACT_NP
    return isinstance(x, int)


def _check_divisor(op, a, b):
    """Integer division by zero raises in PyTorch (NumPy would return 0)."""
    if isinstance(b, Tensor):
        if b._data.dtype in INT_NP and (b._data == 0).any():
            raise mark(RuntimeError(f"{op}: ZeroDivisionError: integer division by zero "
                                    f"(divisor {describe(b)} has zeros)"))
    elif b == 0 and _is_int(b) and _is_int(a):
        raise mark(RuntimeError(f"{op}: ZeroDivisionError: integer division by zero"))


def _no_bool_or_complex(op, t):
    """Integer-style ops (floor_divide, remainder, fmod) reject bool and complex operands
    (checked on the promoted operand ``t``)."""
    if t._data.dtype is BOOL_NP:
        raise _unsupported(op, t, "convert it with .int() or .float() first")
    if t._data.dtype in COMPLEX_NP:
        raise _unsupported(op, t, "it is defined for real tensors only")


# ---- arithmetic ---------------------------------------------------------------------------------

class Add(Function):
    _raw = True
    op_name = "add"

    @staticmethod
    def forward(ctx, x, y):
        ctx.shapes = (getattr(x, "shape", ()), getattr(y, "shape", ()))
        return x + y

    @staticmethod
    def backward(ctx, grad):
        gx, gy = ctx._edges
        sx, sy = ctx.shapes
        return (sum_to(grad, sx) if gx else None), (sum_to(grad, sy) if gy else None)


class Sub(Function):
    _raw = True
    op_name = "sub"

    @staticmethod
    def forward(ctx, x, y):
        ctx.shapes = (getattr(x, "shape", ()), getattr(y, "shape", ()))
        return x - y

    @staticmethod
    def backward(ctx, grad):
        gx, gy = ctx._edges
        sx, sy = ctx.shapes
        return (sum_to(grad, sx) if gx else None), (sum_to(-grad, sy) if gy else None)


class Mul(Function):
    _raw = True
    op_name = "mul"
    scalar = None  # the Python number of `tensor * number` (nothing needs saving then)

    @staticmethod
    def forward(ctx, x, y):
        if type(y) is float or type(y) is int:
            ctx.scalar = y
        else:
            ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        if ctx.scalar is not None:
            return grad * ctx.scalar, None
        x, y = ctx.saved_tensors
        gx, gy = ctx._edges
        return (sum_to(grad * _conj(y), _shape(x)) if gx else None,
                sum_to(grad * _conj(x), _shape(y)) if gy else None)


class Div(Function):
    _raw = True
    op_name = "div"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx, gy = ctx._edges
        grad_x = grad / _conj(y)
        return (sum_to(grad_x, _shape(x)) if gx else None,
                sum_to(-grad_x * _conj(x / y), _shape(y)) if gy else None)


class Neg(Function):
    _raw = True
    op_name = "neg"

    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


def _scaled(op, b, alpha, dtype_of):
    """``alpha * b`` for add/sub, with PyTorch's checks on alpha's type."""
    if dtype_of._data.dtype is BOOL_NP and isinstance(alpha, int):
        alpha = bool(alpha)  # bool results take alpha as a bool
    if isinstance(alpha, float) and dtype_of._data.dtype not in INEXACT_NP:
        raise mark(RuntimeError(f"{op}: For integral input tensors, argument alpha must not be a "
                                f"floating point number (got alpha={alpha} for "
                                f"{describe(dtype_of)})"))
    return b * alpha


@public(inplace=True)
def add(input, other, *, alpha=1, out=None):
    a, b = binary_operands("add", input, other)
    if alpha != 1:
        b = _scaled("add", b, alpha, a if isinstance(a, Tensor) else b)
    result = Add.apply(a, b)
    return result if out is None else _out(result, out)


def _is_bool(v):
    return v.__class__ is bool or (isinstance(v, Tensor) and v._data.dtype is BOOL_NP)


def _check_sub_bool(op, a, b):
    for v in (a, b):
        if _is_bool(v):
            raise mark(RuntimeError(
                f"{op}: Subtraction, the `-` operator, with a bool tensor is not supported "
                f"({describe(v)}). If you are trying to invert a mask, use the `~` or "
                f"`logical_not()` operator instead."))


@public(inplace=True, aliases=("subtract",))
def sub(input, other, *, alpha=1, out=None):
    if _is_bool(input) or _is_bool(other):
        _check_sub_bool("sub", input, other)
    a, b = binary_operands("sub", input, other)
    if alpha != 1:
        b = _scaled("sub", b, alpha, a if isinstance(a, Tensor) else b)
    return _out(Sub.apply(a, b), out)


@public(method=False)
def rsub(input, other, *, alpha=1):
    """``other - alpha * input``."""
    return sub(other, input, alpha=alpha)


@public(inplace=True, aliases=("multiply",))
def mul(input, other, *, out=None):
    a, b = binary_operands("mul", input, other)
    result = Mul.apply(a, b)
    return result if out is None else _out(result, out)


@public(inplace=True, aliases=("divide",))
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is not None:
        return _out(_div_rounded("div", input, other, rounding_mode), out)
    a, b = _float_operands("div", input, other)
    return _out(Div.apply(a, b), out)


@public(inplace=True)
def true_divide(input, other, *, out=None):
    return div(input, other, out=out)


@public(inplace=True, aliases=("negative",))
def neg(input, *, out=None):
    if input._data.dtype is BOOL_NP:
        raise mark(RuntimeError(
            f"neg: Negation, the `-` operator, on a bool tensor is not supported "
            f"({describe(input)}). If you are trying to invert a mask, use the `~` or "
            f"`logical_not()` operator instead."))
    return _out(Neg.apply(input), out)


class DivRounded(Function):
    """Division rounded toward zero ("trunc") or down ("floor"); piecewise constant, so its
    gradient is zero."""
    _raw = True
    op_name = "div"

    @staticmethod
    def forward(ctx, x, y, mode):
        xp = ctx.xp
        ctx.shapes = (getattr(x, "shape", ()), getattr(y, "shape", ()))
        if mode == "floor":
            return xp.floor_divide(x, y)
        if xp.asarray(x).dtype.kind in "fc" or xp.asarray(y).dtype.kind in "fc":
            return xp.trunc(xp.true_divide(x, y)).astype(xp.result_type(x, y))
        q = xp.floor_divide(x, y)
        fix = (q * y != x) & ((xp.asarray(x) < 0) != (xp.asarray(y) < 0))
        return q + fix

    @staticmethod
    def backward(ctx, grad):
        zero = _zeros_like(grad)
        gx, gy = ctx._edges[:2]
        return (sum_to(zero, ctx.shapes[0]) if gx else None,
                sum_to(zero, ctx.shapes[1]) if gy else None, None)


class FloorDivide(DivRounded):
    op_name = "floor_divide"

    @staticmethod
    def backward(ctx, grad):
        raise mark(RuntimeError("floor_divide: the derivative for 'floor_divide' is not "
                                "implemented; use div(..., rounding_mode='floor'), whose "
                                "gradient is zero"))


def _div_rounded(op, input, other, mode, cls=DivRounded):
    if mode not in ("trunc", "floor"):
        raise mark(RuntimeError(f"{op} expected rounding_mode to be one of None, 'trunc', or "
                                f"'floor' but found '{mode}'"))
    a, b = binary_operands(op, input, other)
    _no_bool_or_complex(op, a if isinstance(a, Tensor) else b)
    _check_divisor(op, a, b)
    return cls.apply(a, b, mode)


@public(inplace=True)
def floor_divide(input, other, *, out=None):
    _check_binary_args("floor_divide", input, other)
    return _out(_div_rounded("floor_divide", input, other, "floor", FloorDivide), out)


class _Binary(Function):
    """``out = f(x, y)`` elementwise, with broadcasting. Subclasses give ``compute(xp, x, y)``
    on arrays and ``grads(grad, x, y, out, need_x, need_y)``: both operands' gradients (before
    ``sum_to``) in Tensor ops. ``out`` is saved only when ``saves_output``."""
    _raw = True
    saves_output = False

    @staticmethod
    def forward(ctx, x, y):
        out = _as_array(ctx.xp, ctx.compute(ctx.xp, x, y))
        ctx.save_for_backward(x, y, out if ctx.saves_output else None)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, y, out = ctx.saved_tensors
        ex, ey = ctx._edges
        gx, gy = ctx.grads(grad, x, y, out, ex is not None, ey is not None)
        return (sum_to(gx, _shape(x)) if ex else None, sum_to(gy, _shape(y)) if ey else None)


class Remainder(_Binary):
    op_name = "remainder"
    compute = staticmethod(lambda xp, x, y: xp.remainder(x, y))

    @staticmethod
    def grads(grad, x, y, out, need_x, need_y):
        return grad, (-grad * div(x, y, rounding_mode="floor") if need_y else None)


class Fmod(_Binary):
    op_name = "fmod"
    compute = staticmethod(lambda xp, x, y: xp.fmod(x, y))

    @staticmethod
    def grads(grad, x, y, out, need_x, need_y):
        return grad, (-grad * div(x, y, rounding_mode="trunc") if need_y else None)


def _modulo(op, cls, input, other, number_first, out):
    _check_binary_args(op, input, other, number_first=number_first)
    a, b = binary_operands(op, input, other)
    _no_bool_or_complex(op, a if isinstance(a, Tensor) else b)
    _check_divisor(op, a, b)
    return _out(cls.apply(a, b), out)


@public(inplace=True)
def remainder(input, other, *, out=None):
    return _modulo("remainder", Remainder, input, other, True, out)


@public(inplace=True)
def fmod(input, other, *, out=None):
    return _modulo("fmod", Fmod, input, other, False, out)


# ---- unary functions ----------------------------------------------------------------------------

class _Unary(Function):
    """``y = f(x)`` elementwise. Subclasses give ``compute(xp, x)`` on arrays and
    ``derivative(grad, s)``: the input's gradient in Tensor ops from the saved ``s``, which is
    the input (``saves = "input"``), the output (``"output"``) or nothing (None)."""
    _raw = True
    saves = "input"

    @staticmethod
    def forward(ctx, x):
        y = _as_array(ctx.xp, ctx.compute(ctx.xp, x))
        saves = ctx.saves
        if saves is not None:
            ctx.save_for_backward(x if saves == "input" else y)
        return y

    @staticmethod
    def backward(ctx, grad):
        saved = ctx.saved_tensors
        return ctx.derivative(grad, saved[0] if saved else None)


def _unary(name, compute, derivative, saves="input"):
    """A ``_Unary`` Function class: ``compute(xp, x)`` and ``derivative(grad, s)``."""
    return type("".join(p.capitalize() for p in name.split("_")), (_Unary,),
                {"op_name": name, "saves": saves, "compute": staticmethod(compute),
                 "derivative": staticmethod(derivative)})


def _float_unary(name, cls, aliases=(), complex_ok=True, method=True):
    """Publish ``ember.<name>`` / ``Tensor.<name>`` / ``Tensor.<name>_`` for an op computing in
    floating point (integer and bool inputs become the default float type)."""
    def fn(input, *, out=None):
        try:
            dtype = input._data.dtype
        except AttributeError:
            raise _not_tensor(name, input) from None
        x = input if dtype in INEXACT_NP else float_operand(input)
        if not complex_ok and x._data.dtype in COMPLEX_NP:
            raise _unsupported(name, x, "it is defined for real tensors only")
        result = cls.apply(x)
        return result if out is None else _out(result, out)
    fn.__name__ = fn.__qualname__ = name
    public(fn, inplace=True, aliases=aliases, method=method)
    return fn


def _zero_grad(grad, s):
    return _zeros_like(grad)


# Exponentials and logarithms.
exp = _float_unary("exp", _unary("exp", lambda xp, x: xp.exp(x),
                                  lambda g, y: g * _conj(y), "output"))
exp2 = _float_unary("exp2", _unary("exp2", lambda xp, x: xp.exp2(x),
                                   lambda g, y: g * _conj(y * _LN2), "output"))
expm1 = _float_unary("expm1", _unary("expm1", lambda xp, x: xp.expm1(x),
                                     lambda g, y: g * _conj(y + 1), "output"))
log = _float_unary("log", _unary("log", lambda xp, x: xp.log(x), lambda g, x: g / _conj(x)))
log2 = _float_unary("log2", _unary("log2", lambda xp, x: xp.log2(x),
                                   lambda g, x: g / _conj(x * _LN2)))
log10 = _float_unary("log10", _unary("log10", lambda xp, x: xp.log10(x),
                                     lambda g, x: g / _conj(x * _LN10)))
log1p = _float_unary("log1p", _unary("log1p", lambda xp, x: xp.log1p(x),
                                     lambda g, x: g / _conj(x + 1)))
sqrt = _float_unary("sqrt", _unary("sqrt", lambda xp, x: xp.sqrt(x),
                                   lambda g, y: g / _conj(2 * y), "output"))
rsqrt = _float_unary("rsqrt", _unary("rsqrt", lambda xp, x: xp.reciprocal(xp.sqrt(x)),
                                     lambda g, y: g * _conj(-0.5 * y * y * y), "output"))
reciprocal = _float_unary("reciprocal", _unary("reciprocal", lambda xp, x: xp.reciprocal(x),
                                               lambda g, y: g * _conj(-y * y), "output"))

# Trigonometric and hyperbolic functions.
sin = _float_unary("sin", _unary("sin", lambda xp, x: xp.sin(x),
                                 lambda g, x: g * _conj(x.cos())))
cos = _float_unary("cos", _unary("cos", lambda xp, x: xp.cos(x),
                                 lambda g, x: g * _conj(-x.sin())))
tan = _float_unary("tan", _unary("tan", lambda xp, x: xp.tan(x),
                                 lambda g, y: g * _conj(1 + y * y), "output"))
asin = _float_unary("asin", _unary("asin", lambda xp, x: xp.arcsin(x),
                                   lambda g, x: g * _conj((1 - x * x).rsqrt())),
                    aliases=("arcsin",))
acos = _float_unary("acos", _unary("acos", lambda xp, x: xp.arccos(x),
                                   lambda g, x: g * _conj(-(1 - x * x).rsqrt())),
                    aliases=("arccos",))
atan = _float_unary("atan", _unary("atan", lambda xp, x: xp.arctan(x),
                                   lambda g, x: g / _conj(1 + x * x)), aliases=("arctan",))
sinh = _float_unary("sinh", _unary("sinh", lambda xp, x: xp.sinh(x),
                                   lambda g, x: g * _conj(x.cosh())))
cosh = _float_unary("cosh", _unary("cosh", lambda xp, x: xp.cosh(x),
                                   lambda g, x: g * _conj(x.sinh())))
asinh = _float_unary("asinh", _unary("asinh", lambda xp, x: xp.arcsinh(x),
                                     lambda g, x: g * _conj((x * x + 1).rsqrt())),
                     aliases=("arcsinh",))
acosh = _float_unary("acosh", _unary("acosh", lambda xp, x: xp.arccosh(x),
                                     lambda g, x: g * _conj((x * x - 1).rsqrt())),
                     aliases=("arccosh",))
atanh = _float_unary("atanh", _unary("atanh", lambda xp, x: xp.arctanh(x),
                                     lambda g, x: g / _conj(1 - x * x)), aliases=("arctanh",))


def _sinc(xp, x):
    px = x * math.pi
    safe = xp.where(x == 0, 1, px)
    return xp.where(x == 0, xp.ones((), x.dtype), xp.sin(safe) / safe)


def _sinc_derivative(g, x):
    px = x * math.pi
    d = (px * px.cos() - px.sin()) / (px * x)
    return g * _conj(_keep(d, x._data != 0))


sinc = _float_unary("sinc", _unary("sinc", _sinc, _sinc_derivative))

# Special functions (real only, as in PyTorch).
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
erf = _float_unary("erf", _unary("erf", _special.erf,
                                 lambda g, x: g * ((-x * x).exp() * _TWO_OVER_SQRT_PI)),
                   complex_ok=False)
erfc = _float_unary("erfc", _unary("erfc", _special.erfc,
                                   lambda g, x: g * ((-x * x).exp() * -_TWO_OVER_SQRT_PI)),
                    complex_ok=False)
erfinv = _float_unary("erfinv", _unary("erfinv", _special.erfinv,
                                       lambda g, y: g * ((y * y).exp() / _TWO_OVER_SQRT_PI),
                                       "output"), complex_ok=False)
lgamma = _float_unary("lgamma", _unary("lgamma", _special.lgamma,
                                       lambda g, x: g * digamma(x)), complex_ok=False)
digamma = _float_unary("digamma", _unary("digamma", _special.digamma,
                                         lambda g, x: g * polygamma(1, x)), complex_ok=False)


class Polygamma(Function):
    _raw = True
    op_name = "polygamma"

    @staticmethod
    def forward(ctx, n, x):
        ctx.n = n
        ctx.save_for_backward(x)
        return _special.polygamma(ctx.xp, n, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return None, grad * polygamma(ctx.n + 1, x)


@public(method=False)
def polygamma(n, input, *, out=None):
    if not isinstance(n, int) or n < 0:
        raise mark(RuntimeError(f"polygamma: n must be a non-negative integer, got {n!r}"))
    x = float_operand(input)
    if x._data.dtype in COMPLEX_NP:
        raise _unsupported("polygamma", x, "it is defined for real tensors only")
    return _out(Polygamma.apply(n, x), out)


@public_method("polygamma")
def _polygamma_method(self, n):
    return polygamma(n, self)


@public_method("polygamma_")
def _polygamma_inplace(self, n):
    from ..autograd.inplace import commit_inplace, inplace_source
    return commit_inplace(self, polygamma(n, inplace_source(self, (), {}, "polygamma_")),
                          "polygamma_")


# Angle conversions (real only).
deg2rad = _float_unary("deg2rad", _unary("deg2rad", lambda xp, x: x * (math.pi / 180),
                                         lambda g, s: g * (math.pi / 180), None),
                       complex_ok=False)
rad2deg = _float_unary("rad2deg", _unary("rad2deg", lambda xp, x: x * (180 / math.pi),
                                         lambda g, s: g * (180 / math.pi), None),
                       complex_ok=False)


class Logit(Function):
    _raw = True
    op_name = "logit"

    @staticmethod
    def forward(ctx, x, eps):
        ctx.eps = eps
        ctx.save_for_backward(x)
        z = x if eps is None else ctx.xp.clip(x, eps, 1 - eps)
        return ctx.xp.log(z / (1 - z))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        d = grad / (x * (1 - x))
        a = x._data
        if eps is None:  # outside [0, 1] the derivative is NaN, as in PyTorch
            return Where.apply(_mask(d, (a < 0) | (a > 1)), math.nan, d), None
        return _keep(d, (a >= eps) & (a <= 1 - eps)), None


@public(inplace=True)
def logit(input, eps=None, *, out=None):
    x = float_operand(input)
    if x._data.dtype in COMPLEX_NP:
        raise _unsupported("logit", x, "it is defined for real tensors only")
    return _out(Logit.apply(x, eps), out)


# ---- activations' primitives with a fused backward ----------------------------------------------

class Pointwise(Function):
    """``y = f(x, *params)`` with a fused backward, for hot activations. A subclass gives, on
    arrays, ``compute(xp, x, *params)`` and ``vjp(xp, grad, s, *params)`` (``grad * f'(x)``,
    where ``s`` is the saved input, or the output when ``saves_output``), and, in Tensor ops,
    ``vjp_grad(gg_grad, s, *params)``: ``gg * grad * d f'(x) / ds`` for double backward (None
    where ``f'`` is piecewise constant). The backward node class ``<Name>Backward`` is made
    for each subclass; it is linear in ``grad``, so its gradient in ``grad`` is itself."""
    _raw = True
    saves_output = False
    params = ()
    vjp_grad = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "compute" in cls.__dict__:
            cls.Backward = type(cls.__name__ + "Backward", (_PointwiseBackward,),
                                {"op_name": cls.op_name + "_backward", "fn": cls})

    @staticmethod
    def forward(ctx, x, *params):
        if x.ndim:
            y = ctx.compute(ctx.xp, x, *params)
        else:  # computed in shape (1,): NumPy turns 0-d arrays into scalars
            y = ctx.compute(ctx.xp, x.reshape(1), *params).reshape(())
        ctx.save_for_backward(y if ctx.saves_output else x)
        if params:
            ctx.params = params
        return y

    @staticmethod
    def backward(ctx, grad):
        (s,) = ctx.saved_tensors
        params = ctx.params
        return (ctx.Backward.apply(grad, s, *params),) + (None,) * len(params)


class _PointwiseBackward(Function):
    _raw = True
    fn = None
    params = ()

    @staticmethod
    def forward(ctx, grad, s, *params):
        ctx.save_for_backward(grad, s)
        if params:
            ctx.params = params
        if s.ndim:
            return ctx.fn.vjp(ctx.xp, grad, s, *params)
        return ctx.fn.vjp(ctx.xp, grad.reshape(1), s.reshape(1), *params).reshape(())

    @staticmethod
    def backward(ctx, gg):
        grad, s = ctx.saved_tensors
        params = ctx.params
        e_grad, e_s = ctx._edges[:2]
        fn = ctx.fn
        g_grad = fn.Backward.apply(gg, s, *params) if e_grad else None
        g_s = None
        if e_s:  # zeros where f' is piecewise constant, as PyTorch gives
            g_s = _zeros_like(s) if fn.vjp_grad is None else fn.vjp_grad(gg * grad, s, *params)
        return (g_grad, g_s) + (None,) * len(params)


def _sigmoid_array(xp, x):
    e = xp.exp(-x)
    e += 1
    return xp.reciprocal(e, out=e)


def _tanh_vjp(xp, grad, y):
    """grad * (1 - y²) as grad - grad·y·y: array-only ufuncs (NumPy's Python-scalar operands
    cost more than the arithmetic on small arrays), one temporary reused in place."""
    t = y * y
    t *= grad
    return xp.subtract(grad, t, out=t)


class Tanh(Pointwise):
    op_name = "tanh"
    saves_output = True
    compute = staticmethod(lambda xp, x: xp.tanh(x))
    vjp = staticmethod(lambda xp, grad, y: _tanh_vjp(xp, grad, y))
    vjp_grad = staticmethod(lambda ggg, y: ggg * (-2 * y))

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if y._data.dtype in COMPLEX_NP:
            return grad * (1 - y * y).conj()
        return Tanh.Backward.apply(grad, y)


class Sigmoid(Pointwise):
    op_name = "sigmoid"
    saves_output = True
    compute = staticmethod(_sigmoid_array)
    vjp = staticmethod(lambda xp, grad, y: grad * (y * (1 - y)))
    vjp_grad = staticmethod(lambda ggg, y: ggg * (1 - 2 * y))

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        if y._data.dtype in COMPLEX_NP:
            return grad * (y * (1 - y)).conj()
        return Sigmoid.Backward.apply(grad, y)


tanh = _float_unary("tanh", Tanh)
sigmoid = _float_unary("sigmoid", Sigmoid)


# ---- sign, absolute value, rounding -------------------------------------------------------------

def _sgn_complex_derivative(g, z):
    # grad * conj(ds/dz) + conj(grad) * ds/dz̄ with s = z/|z|: (grad - s² conj(grad)) / (2|z|).
    a = z.abs()
    s = z / a
    d = (g - s * s * g.conj()) / (2 * a)
    return _keep(d, a._data != 0)


Abs = _unary("abs", lambda xp, x: xp.abs(x), lambda g, x: g * x.sgn())
def _sign(xp, x):
    if x.dtype == np.bool_:
        return x.copy()
    if x.dtype.kind == "f":  # sign(NaN) is 0 in PyTorch
        return xp.where(x != x, xp.zeros((), x.dtype), xp.sign(x))
    return xp.sign(x)


Sign = _unary("sign", _sign, _zero_grad, None)
Sgn = _unary("sgn", lambda xp, x: xp.where(x == 0, 0, x / xp.where(x == 0, 1, xp.abs(x))),
             _sgn_complex_derivative)


@public(inplace=True, aliases=("absolute",))
def abs(input, *, out=None):
    if input._data.dtype is BOOL_NP:
        raise _unsupported("abs", input, "convert it with .int() first")
    return _out(Abs.apply(input), out)


@public(inplace=True)
def sign(input, *, out=None):
    if input._data.dtype in COMPLEX_NP:
        raise mark(NotImplementedError(
            f"sign: Unlike NumPy, torch.sign is not intended to support complex numbers "
            f"({describe(input)}). Please use sgn instead."))
    return _out(Sign.apply(input), out)


@public(inplace=True)
def sgn(input, *, out=None):
    if input._data.dtype not in COMPLEX_NP:
        return sign(input, out=out)
    return _out(Sgn.apply(input), out)


@public
def positive(input):
    if input._data.dtype is BOOL_NP:
        raise mark(RuntimeError(f"positive: The `+` operator, on a bool tensor is not supported "
                                f"({describe(input)})."))
    return input


@public(inplace=True)
def square(input, *, out=None):
    return pow(input, 2, out=out)


def _rounding(name, compute):
    cls = _unary(name, compute, _zero_grad, None)

    def fn(input, *, out=None):
        if input._data.dtype is BOOL_NP or input._data.dtype in COMPLEX_NP:
            raise _unsupported(name, input, "it takes real tensors")
        if input._data.dtype in INT_NP:  # integers are already rounded
            return _out(input.clone(), out)
        return _out(cls.apply(input), out)
    fn.__name__ = fn.__qualname__ = name
    return fn


floor = public(_rounding("floor", lambda xp, x: xp.floor(x)), inplace=True)
ceil = public(_rounding("ceil", lambda xp, x: xp.ceil(x)), inplace=True)
trunc = public(_rounding("trunc", lambda xp, x: xp.trunc(x)), inplace=True, aliases=("fix",))
_round_half_even = _rounding("round", lambda xp, x: xp.rint(x))


class RoundDecimals(Function):
    _raw = True
    op_name = "round"

    @staticmethod
    def forward(ctx, x, decimals):
        return ctx.xp.round(x, decimals)

    @staticmethod
    def backward(ctx, grad):
        return _zeros_like(grad), None


@public(inplace=True)
def round(input, *, decimals=0, out=None):
    """Round half to even; ``decimals`` digits after the point (negative: before it)."""
    if decimals == 0:
        return _round_half_even(input, out=out)
    if input._data.dtype not in INEXACT_NP or input._data.dtype in COMPLEX_NP:
        raise _unsupported("round", input, "round(decimals=...) takes floating point tensors")
    return _out(RoundDecimals.apply(input, decimals), out)


Frac = _unary("frac", lambda xp, x: x - xp.trunc(x), lambda g, s: g, None)


@public(inplace=True)
def frac(input, *, out=None):
    if input._data.dtype not in INEXACT_NP or input._data.dtype in COMPLEX_NP:
        raise _unsupported("frac", input, "it takes floating point tensors")
    return _out(Frac.apply(input), out)


class NanToNum(Function):
    _raw = True
    op_name = "nan_to_num"

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return ctx.xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _keep(grad, x._xp().isfinite(x._data)), None, None, None


@public(inplace=True)
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    if input._data.dtype not in INEXACT_NP:
        return _out(input.clone(), out)
    return _out(NanToNum.apply(input, nan, posinf, neginf), out)


# ---- complex numbers ----------------------------------------------------------------------------

class Conj(Function):
    _raw = True
    op_name = "conj"

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.conj(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.conj()


@public
def conj(input):
    """The complex conjugate; real tensors are returned as they are. (PyTorch returns a lazy
    conjugate view; ember computes it.)"""
    if input._data.dtype not in COMPLEX_NP:
        return input
    return Conj.apply(input)


@public(inplace=True)
def conj_physical(input, *, out=None):
    if input._data.dtype not in COMPLEX_NP:
        return _out(input.clone(), out)
    return _out(Conj.apply(input), out)


@public
def resolve_conj(input):
    return input


@public
def is_conj(input):
    return False


class Real(Function):
    _raw = True
    _view = True
    op_name = "real"

    @staticmethod
    def forward(ctx, x):
        ctx.complex_dtype = x.dtype
        return x.real

    @staticmethod
    def backward(ctx, grad):
        return grad.to(_np_to_dtype(ctx.complex_dtype))


class Imag(Function):
    _raw = True
    _view = True
    op_name = "imag"

    @staticmethod
    def forward(ctx, x):
        return x.imag

    @staticmethod
    def backward(ctx, grad):
        return grad * 1j


def _np_to_dtype(np_dtype):
    from .._dtype import NP_TO_DTYPE
    return NP_TO_DTYPE[np_dtype]


@public(method=False)
def real(input):
    if input._data.dtype not in COMPLEX_NP:
        return input
    return Real.apply(input)


@public(method=False)
def imag(input):
    if input._data.dtype not in COMPLEX_NP:
        raise mark(RuntimeError(f"imag: imag is not implemented for tensors with non-complex "
                                f"dtypes ({describe(input)})"))
    return Imag.apply(input)


Tensor.real = property(real)
Tensor.imag = property(imag)


def _angle(xp, x):
    if x.dtype in COMPLEX_NP:
        return xp.angle(x)
    return xp.where(x < 0, xp.asarray(math.pi, x.dtype), xp.where(x != x, x, 0))


def _angle_derivative(g, z):
    if z._data.dtype not in COMPLEX_NP:
        return _zeros_like(z)
    return _keep(g * z / (z * z.conj()).real * 1j, z._data != 0)


Angle = _unary("angle", _angle, _angle_derivative)


@public
def angle(input, *, out=None):
    x = input if input._data.dtype in COMPLEX_NP else float_operand(input)
    return _out(Angle.apply(x), out)


# ---- powers -------------------------------------------------------------------------------------

def _int_power(xp, x, e):
    """Integer powers with PyTorch's results for negative exponents (NumPy raises): 1 and -1
    keep their magnitude, everything else truncates to 0."""
    e_arr = xp.asarray(e)
    neg = e_arr < 0
    if not neg.any():
        return xp.power(x, e)
    pos = xp.power(x, xp.where(neg, 0, e_arr))
    x_arr = xp.asarray(x)
    odd = (e_arr & 1).astype(bool)
    small = xp.where(x_arr == 1, 1, xp.where(x_arr == -1, xp.where(odd, -1, 1), 0))
    return xp.where(neg, small, pos).astype(pos.dtype)


class Pow(Function):
    """``x ** e``; either operand may be a Python number (not both)."""
    _raw = True
    op_name = "pow"

    @staticmethod
    def forward(ctx, x, e):
        xp = ctx.xp
        if xp.result_type(x, e).kind in "biu":
            out = _int_power(xp, x, e)
            dtype = (x if isinstance(x, xp.ndarray) else e).dtype
            if out.dtype != dtype:  # bool ** bool stays bool (NumPy gives int8)
                out = out.astype(dtype)
        else:
            out = _as_array(xp, xp.power(x, e))
        ctx.save_for_backward(x, e, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, e, out = ctx.saved_tensors
        ex, ee = ctx._edges
        gx = ge = None
        if ex:
            if isinstance(e, Tensor):
                gx = _keep(grad * _conj(e * x.pow(e - 1)), e._data != 0)
            elif e == 0:
                gx = _zeros_like(grad)
            else:
                gx = grad * _conj(e * x.pow(e - 1))
            gx = sum_to(gx, _shape(x))
        if ee:
            # d/de x**e = x**e log x, taken as 0 where x == 0 and e >= 0 (0**e is flat there).
            if isinstance(x, Tensor):
                log_x, x_zero = x.log(), x._data == 0
            else:
                log_x, x_zero = _log_of_number(x), x == 0
            e_data = e._data.real if e._data.dtype in COMPLEX_NP else e._data
            ge = _keep(grad * _conj(out * log_x), ~(x_zero & (e_data >= 0)))
            ge = sum_to(ge, _shape(e))
        return gx, ge


def _log_of_number(x):
    if x == 0:
        return -math.inf
    if isinstance(x, complex):
        return cmath.log(x)
    return math.log(x) if x > 0 else math.nan


def _check_int_pow(a, b):
    if isinstance(a, Tensor) and a._data.dtype not in INEXACT_NP and \
            isinstance(b, int) and not isinstance(b, bool) and b < 0:
        raise mark(RuntimeError(f"pow: Integers to negative integer powers are not allowed "
                                f"({describe(a)} ** {b}); use a float base, e.g. x.float() ** "
                                f"{b}"))


@public(method=False)
def pow(input, exponent, *, out=None):
    _check_binary_args("pow", input, exponent)
    a, b = binary_operands("pow", input, exponent)
    _check_int_pow(a, b)
    if isinstance(a, Tensor) and a._data.dtype is BOOL_NP and isinstance(b, Tensor):
        raise _unsupported("pow", a, "convert the tensors with .int() or .float() first")
    return _out(Pow.apply(a, b), out)


@public_method("pow")
def _pow_method(self, exponent):
    return pow(self, exponent)


@public_method("pow_")
def _pow_inplace(self, exponent):
    from ..autograd.inplace import commit_inplace, inplace_source
    return commit_inplace(self, pow(inplace_source(self, (exponent,), {}, "pow_"), exponent),
                          "pow_")


def _float_power_dtype(input, exponent):
    """float64, or complex128 when either operand is complex."""
    from .._dtype import complex128, float64
    is_complex = any(isinstance(v, complex) or (isinstance(v, Tensor) and
                                                v._data.dtype in COMPLEX_NP)
                     for v in (input, exponent))
    return complex128 if is_complex else float64


@public
def float_power(input, exponent, *, out=None):
    _check_binary_args("float_power", input, exponent)
    target = _float_power_dtype(input, exponent)
    a, b = (v.to(target) if isinstance(v, Tensor) else v for v in (input, exponent))
    return _out(Pow.apply(a, b), out)


@public_method("float_power_")
def _float_power_inplace(self, exponent):
    """The result is float64 (complex128), so only such a base can hold it (as in PyTorch)."""
    from ..autograd.inplace import commit_inplace, inplace_source
    target = _float_power_dtype(self, exponent)
    if self.dtype != target:
        raise mark(RuntimeError(
            f"float_power_: the base given to float_power_ has dtype {self.dtype.name} but the "
            f"operation's result requires dtype {target.name}; use float_power() (out of "
            f"place) or convert the base with .to({target.name}) first"))
    source = inplace_source(self, (exponent,), {}, "float_power_")
    return commit_inplace(self, float_power(source, exponent), "float_power_")


# ---- binary math --------------------------------------------------------------------------------

def _binary_fn(name, cls, ints="promote", complex_exc=NotImplementedError, number_other=False,
               number_first=False, aliases=(), inplace=True):
    """Publish a binary op. ``ints``: what integer and bool operands do: "promote" (compute
    in the default float), "keep" (compute in their type) or "reject". ``complex_exc``: the
    exception complex operands raise, None if they are supported."""
    def fn(input, other, *, out=None):
        _check_binary_args(name, input, other, number_first, number_other)
        a, b = binary_operands(name, input, other)
        t = a if isinstance(a, Tensor) else b
        dtype = t._data.dtype
        if dtype not in INEXACT_NP:
            if ints == "promote":
                a, b = cast_operands(name, _Defaults.float, (input, other))
            elif ints == "reject":
                raise _unsupported(name, t, "convert it with .float() first")
        elif complex_exc is not None and dtype in COMPLEX_NP:
            raise _unsupported(name, t, "it is defined for real tensors only", complex_exc)
        return _out(cls.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = name
    public(fn, inplace=inplace, aliases=aliases)
    return fn


def _binary(name, compute, grads, saves_output=False):
    return type("".join(p.capitalize() for p in name.split("_")), (_Binary,),
                {"op_name": name, "compute": staticmethod(compute), "grads": staticmethod(grads),
                 "saves_output": saves_output})


def _atan2_grads(grad, x, y, out, need_x, need_y):
    denom = x * x + y * y
    recip = _keep(denom.reciprocal(), denom._data != 0)  # 0 at the origin, as in PyTorch
    return (grad * y * recip if need_x else None), (grad * -x * recip if need_y else None)


atan2 = _binary_fn("atan2", _binary("atan2", lambda xp, x, y: xp.arctan2(x, y), _atan2_grads),
                   aliases=("arctan2",))
hypot = _binary_fn("hypot", _binary(
    "hypot", lambda xp, x, y: xp.hypot(x, y),
    lambda g, x, y, out, nx, ny: ((g * x / out if nx else None), (g * y / out if ny else None)),
    saves_output=True), ints="reject")


def _copysign_grads(grad, x, y, out, need_x, need_y):
    gx = _keep(grad * (out / x), x._data != 0) if need_x else None
    return gx, (_zeros_like(grad) if need_y else None)


copysign = _binary_fn("copysign", _binary("copysign", lambda xp, x, y: xp.copysign(x, y),
                                          _copysign_grads, saves_output=True),
                      number_other=True)


def _logaddexp_grads(base_exp):
    def grads(g, x, y, out, need_x, need_y):
        return ((g / _conj(1 + base_exp(y - x)) if need_x else None),
                (g / _conj(1 + base_exp(x - y)) if need_y else None))
    return grads


def _logaddexp(xp, x, y):
    if x.dtype.kind != "c":
        return xp.logaddexp(x, y)
    # NumPy has no complex logaddexp: shift by the operand of larger real part.
    x_larger = x.real >= y.real
    hi, lo = xp.where(x_larger, x, y), xp.where(x_larger, y, x)
    return hi + xp.log1p(xp.exp(lo - hi))


logaddexp = _binary_fn("logaddexp", _binary(
    "logaddexp", _logaddexp, _logaddexp_grads(lambda t: t.exp())),
    ints="reject", complex_exc=None, inplace=False)
logaddexp2 = _binary_fn("logaddexp2", _binary(
    "logaddexp2", lambda xp, x, y: xp.logaddexp2(x, y), _logaddexp_grads(lambda t: t.exp2())),
    ints="reject", inplace=False)


def _xlogy(xp, x, y):
    dtype = x.dtype if isinstance(x, xp.ndarray) else y.dtype
    x, y = xp.asarray(x, dtype=dtype), xp.asarray(y, dtype=dtype)  # a number takes the dtype
    out = x * xp.log(y)
    return xp.where((x == 0) & (y == y), xp.zeros((), out.dtype), out)


def _xlogy_grads(grad, x, y, out, need_x, need_y):
    gx = gy = None
    if need_x:
        x_data = x._data if isinstance(x, Tensor) else x
        y_data = y._data if isinstance(y, Tensor) else y
        gx = _keep(xlogy(grad, y), ~((x_data == 0) & (y_data <= 0)))
    if need_y:
        gy = grad * x / y
    return gx, gy


xlogy = _binary_fn("xlogy", _binary("xlogy", _xlogy, _xlogy_grads), number_other=True,
                   number_first=True)


def _extremum_grads(prefer_x, prefer_y, tie=None):
    """Gradient of maximum-like ops: each operand gets the gradient where it was chosen;
    ``tie`` (``x == y``) splits it in half (maximum/minimum)."""
    def grads(g, x, y, out, need_x, need_y):
        xd, yd = x._data, y._data
        if tie:
            g = Where.apply(_mask(g, xd == yd), g / 2, g)
        return ((_keep(g, prefer_x(xd, yd)) if need_x else None),
                (_keep(g, prefer_y(xd, yd)) if need_y else None))
    return grads


# maximum/minimum propagate NaN: a NaN operand passes the gradient to both, as in PyTorch.
maximum = _binary_fn("maximum", _binary(
    "maximum", lambda xp, x, y: xp.maximum(x, y),
    _extremum_grads(lambda x, y: ~(x < y), lambda x, y: ~(x > y), tie=True)),
    ints="keep", complex_exc=RuntimeError, inplace=False)
minimum = _binary_fn("minimum", _binary(
    "minimum", lambda xp, x, y: xp.minimum(x, y),
    _extremum_grads(lambda x, y: ~(x > y), lambda x, y: ~(x < y), tie=True)),
    ints="keep", complex_exc=RuntimeError, inplace=False)
# fmax/fmin ignore NaN: ties and NaN in y go to x.
fmax = _binary_fn("fmax", _binary(
    "fmax", lambda xp, x, y: xp.fmax(x, y),
    _extremum_grads(lambda x, y: (x >= y) | (y != y), lambda x, y: ~((x >= y) | (y != y)))),
    ints="keep", complex_exc=RuntimeError, inplace=False)
fmin = _binary_fn("fmin", _binary(
    "fmin", lambda xp, x, y: xp.fmin(x, y),
    _extremum_grads(lambda x, y: (x <= y) | (y != y), lambda x, y: ~((x <= y) | (y != y)))),
    ints="keep", complex_exc=RuntimeError, inplace=False)


class Heaviside(Function):
    _raw = True
    op_name = "heaviside"

    @staticmethod
    def forward(ctx, x, values):
        return ctx.xp.where(x == 0, values, x > 0).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        raise mark(RuntimeError("heaviside: the derivative for 'heaviside' is not implemented"))


@public(inplace=True)
def heaviside(input, values, *, out=None):
    _check_binary_args("heaviside", input, values, number_first=False, number_other=False)
    if input._data.dtype != values._data.dtype:
        raise mark(RuntimeError(f"heaviside: heaviside is not yet implemented for tensors with "
                                f"different dtypes ({describe(input)}, {describe(values)}); "
                                f"convert values with .to(input.dtype)"))
    if input._data.dtype in COMPLEX_NP:
        raise _unsupported("heaviside", input, "it is defined for real tensors only")
    return _out(Heaviside.apply(input, values), out)


# ---- clamp --------------------------------------------------------------------------------------

class Clamp(Function):
    """``min(max(x, lo), hi)``; ``lo`` / ``hi`` are numbers, tensors or None. Where lo > hi the
    result is hi. The gradient passes where lo <= x <= hi (bounds included)."""
    _raw = True
    op_name = "clamp"

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        if lo is None:
            y = xp.minimum(x, hi)
        else:
            y = xp.maximum(x, lo)
            if hi is not None:
                y = xp.minimum(y, hi)
        ctx.save_for_backward(x, lo, hi)
        return y

    @staticmethod
    def backward(ctx, grad):
        x, lo, hi = ctx.saved_tensors
        ex, elo, ehi = ctx._edges
        xd = x._data
        lod = lo._data if isinstance(lo, Tensor) else lo
        hid = hi._data if isinstance(hi, Tensor) else hi
        gx = glo = ghi = None  # (the masks broadcast against grad inside _keep)
        if ex:
            keep = True
            if lo is not None:
                keep = keep & (xd >= lod)
            if hi is not None:
                keep = keep & (xd <= hid)
            gx = sum_to(_keep(grad, keep), x.shape)
        if elo:
            keep = xd < lod if hi is None else (xd < lod) & (lod < hid)
            glo = sum_to(_keep(grad, keep), lo.shape)
        if ehi:
            keep = xd > hid if lo is None else (xd > hid) | (hid < lod)
            ghi = sum_to(_keep(grad, keep), hi.shape)
        return gx, glo, ghi


_PLAIN_BOUND = (float, int, type(None))


def _clamp(op, input, lo, hi, out):
    if lo.__class__ in _PLAIN_BOUND and hi.__class__ in _PLAIN_BOUND and \
            (lo is not None or hi is not None) and isinstance(input, Tensor) and \
            input._data.dtype in FLOAT_NP:
        return _out(Clamp.apply(input, lo, hi), out)  # fast path: numbers bounding floats
    if not isinstance(input, Tensor):
        raise _not_tensor(op, input)
    if lo is None and hi is None:
        raise mark(RuntimeError(f"{op}: At least one of 'min' or 'max' must not be None"))
    if input._data.dtype in COMPLEX_NP:
        raise _unsupported(op, input, "clamp is not supported for complex types")
    for name, v in (("min", lo), ("max", hi)):
        if v is not None and not isinstance(v, (Tensor, _Number)):
            raise mark(TypeError(f"{op}(): argument '{name}' must be a Tensor or a number, not "
                                 f"{type(v).__name__}"))
    bounds = [v for v in (lo, hi) if v is not None]
    x, lo, hi = cast_operands(op, result_type(input, *bounds), (input, lo, hi))
    return _out(Clamp.apply(x, lo, hi), out)


@public(inplace=True, aliases=("clip",))
def clamp(input, min=None, max=None, *, out=None):
    return _clamp("clamp", input, min, max, out)


@public(inplace=True)
def clamp_min(input, min):
    return _clamp("clamp_min", input, min, None, None)


@public(inplace=True)
def clamp_max(input, max):
    return _clamp("clamp_max", input, None, max, None)


# ---- interpolation and fused multiply-add -------------------------------------------------------

class Lerp(Function):
    """``x + w * (end - x)``, computed as ``end - (end - x) * (1 - w)`` where w >= 0.5 so that
    w = 1 gives ``end`` exactly (PyTorch's formula)."""
    _raw = True
    op_name = "lerp"

    @staticmethod
    def forward(ctx, x, end, w):
        xp = ctx.xp
        ctx.save_for_backward(x, end, w)
        diff = end - x
        if isinstance(w, _Number):
            return x + w * diff if builtins.abs(w) < 0.5 else end - diff * (1 - w)
        return xp.where(xp.abs(w) < 0.5, x + w * diff, end - diff * (1 - w))

    @staticmethod
    def backward(ctx, grad):
        x, end, w = ctx.saved_tensors
        ex, eend, ew = ctx._edges
        return (sum_to(grad * _conj(1 - w), x.shape) if ex else None,
                sum_to(grad * _conj(w), end.shape) if eend else None,
                sum_to(grad * _conj(end - x), w.shape) if ew else None)


@public(inplace=True)
def lerp(input, end, weight, *, out=None):
    _check_binary_args("lerp", input, end, number_other=False)
    if not isinstance(weight, (Tensor, _Number)):
        raise _not_tensor("lerp", weight, "weight", 3)
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t._data.dtype != input._data.dtype:
            raise mark(RuntimeError(f"lerp: expected dtype {input.dtype.name} for `{name}` but "
                                    f"got dtype {t.dtype.name}; convert it with "
                                    f".to({input.dtype.name})"))
    if input._data.dtype not in INEXACT_NP:
        raise _unsupported("lerp", input, "it takes floating point tensors")
    return _out(Lerp.apply(input, end, weight), out)


class _AddcOp(Function):
    """``x + value * op(t1, t2)`` for addcmul (op = *) and addcdiv (op = /)."""
    _raw = True

    @staticmethod
    def forward(ctx, x, t1, t2, value):
        ctx.save_for_backward(t1, t2)
        ctx.value, ctx.x_shape = value, x.shape
        y = ctx.combine(t1, t2)
        if value != 1:
            y = y * value
        return x + y

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        ex, e1, e2 = ctx._edges[:3]
        g = grad * ctx.value if ctx.value != 1 else grad
        g1, g2 = ctx.grads(g, t1, t2, e1, e2)
        return (sum_to(grad, ctx.x_shape) if ex else None,
                sum_to(g1, t1.shape) if e1 else None,
                sum_to(g2, t2.shape) if e2 else None, None)


class Addcmul(_AddcOp):
    op_name = "addcmul"
    combine = staticmethod(lambda t1, t2: t1 * t2)

    @staticmethod
    def grads(g, t1, t2, e1, e2):
        return (g * _conj(t2) if e1 else None), (g * _conj(t1) if e2 else None)


class Addcdiv(_AddcOp):
    op_name = "addcdiv"
    combine = staticmethod(lambda t1, t2: t1 / t2)

    @staticmethod
    def grads(g, t1, t2, e1, e2):
        g1 = g / _conj(t2)
        return (g1 if e1 else None), (-g1 * _conj(t1 / t2) if e2 else None)


def _addc(op, cls, input, tensor1, tensor2, value, out):
    for name, t, pos in (("input", input, 1), ("tensor1", tensor1, 2), ("tensor2", tensor2, 3)):
        if not isinstance(t, Tensor):
            raise _not_tensor(op, t, name, pos)
    dtype = result_type(input, tensor1, tensor2)
    if dtype.np is BOOL_NP:
        raise _unsupported(op, input, "convert the tensors with .int() or .float() first")
    if cls is Addcdiv and not (tensor1.dtype.is_floating_point or tensor1.dtype.is_complex) \
            and not (tensor2.dtype.is_floating_point or tensor2.dtype.is_complex):
        raise mark(RuntimeError(
            f"addcdiv: Integer division with addcdiv is no longer supported ({describe(tensor1)}"
            f" / {describe(tensor2)}); use input + value * tensor1 / tensor2 for true division "
            f"or input + value * div(tensor1, tensor2, rounding_mode='trunc')"))
    if isinstance(value, float) and not (dtype.is_floating_point or dtype.is_complex):
        value = int(value)  # PyTorch casts the value to the integer type
    x, t1, t2 = cast_operands(op, dtype, (input, tensor1, tensor2))
    result = cls.apply(x, t1, t2, value)
    return _out(result, out)


@public(inplace=True)
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    return _addc("addcmul", Addcmul, input, tensor1, tensor2, value, out)


@public(inplace=True)
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    return _addc("addcdiv", Addcdiv, input, tensor1, tensor2, value, out)


# ---- in-place fast paths ------------------------------------------------------------------------
# With nothing to record (no gradient needed, no graph capture), the hot in-place ops write
# straight into self's memory. Anything unusual (other dtypes or devices, shapes that do not
# fit, read-only memory) falls back to the general path, which also gives the errors.

def _direct_operand(self, v):
    """``v`` as an array or number usable in a direct in-place op on ``self``, or None."""
    if isinstance(v, Tensor):
        if v._data.dtype is not self._data.dtype or (v._rg and GradMode.enabled):
            return None
        return v._data
    if v.__class__ is int or (v.__class__ is float and self._data.dtype in FLOAT_NP):
        return v
    return None


def _fast_inplace(name, aliases=()):
    """Give ``Tensor.<name>`` a direct path: ``direct(self, ...)`` updates ``self._data``
    and returns True, or returns False (or raises) to use the general path."""
    def deco(direct):
        general = getattr(Tensor, name)

        def method(self, *args, **kwargs):
            if tracing.active is None and not (self._rg and GradMode.enabled):
                try:
                    if direct(self, *args, **kwargs):
                        self._bump()
                        return self
                except (TypeError, ValueError, OverflowError):
                    pass
            return general(self, *args, **kwargs)
        method.__name__ = method.__qualname__ = name
        for n in (name,) + aliases:
            setattr(Tensor, n, method)
        return direct
    return deco


def _direct_binary(ufunc, self, other, alpha=1):
    o = _direct_operand(self, other)
    if o is None or (alpha != 1 and _direct_operand(self, alpha) is None):
        return False
    d = self._data
    ufunc(d, o if alpha == 1 else o * alpha, out=d)
    return True


@_fast_inplace("add_")
def _add_direct(self, other, *, alpha=1):
    return _direct_binary(self._xp().add, self, other, alpha)


@_fast_inplace("sub_", aliases=("subtract_",))
def _sub_direct(self, other, *, alpha=1):
    return self._data.dtype is not BOOL_NP and _direct_binary(self._xp().subtract, self, other,
                                                              alpha)


@_fast_inplace("mul_", aliases=("multiply_",))
def _mul_direct(self, other):
    return _direct_binary(self._xp().multiply, self, other)


@_fast_inplace("div_", aliases=("divide_", "true_divide_"))
def _div_direct(self, other, *, rounding_mode=None):
    return rounding_mode is None and self._data.dtype in INEXACT_NP and \
        _direct_binary(self._xp().true_divide, self, other)


def _direct_addc(self, tensor1, tensor2, value, combine):
    t1, t2 = _direct_operand(self, tensor1), _direct_operand(self, tensor2)
    if t1 is None or t2 is None or not isinstance(tensor1, Tensor) or \
            not isinstance(tensor2, Tensor) or self._data.dtype not in INEXACT_NP or \
            _direct_operand(self, value) is None:
        return False
    y = combine(t1, t2)
    if value != 1:
        y *= value
    self._xp().add(self._data, y, out=self._data)
    return True


@_fast_inplace("addcmul_")
def _addcmul_direct(self, tensor1, tensor2, *, value=1):
    return _direct_addc(self, tensor1, tensor2, value, lambda a, b: a * b)


@_fast_inplace("addcdiv_")
def _addcdiv_direct(self, tensor1, tensor2, *, value=1):
    return _direct_addc(self, tensor1, tensor2, value, lambda a, b: a / b)


@_fast_inplace("lerp_")
def _lerp_direct(self, end, weight):
    e = _direct_operand(self, end)
    if e is None or not isinstance(end, Tensor) or weight.__class__ is not float or \
            self._data.dtype not in FLOAT_NP:
        return False
    d = self._data
    diff = e - d
    if -0.5 < weight < 0.5:  # PyTorch's two-sided formula, see Lerp
        diff *= weight
        self._xp().add(d, diff, out=d)
    else:
        diff *= weight - 1
        self._xp().add(e, diff, out=d)
    return True


@_fast_inplace("clamp_", aliases=("clip_",))
def _clamp_direct(self, min=None, max=None):
    if min.__class__ not in _PLAIN_BOUND or max.__class__ not in _PLAIN_BOUND or \
            self._data.dtype not in FLOAT_NP or (min is None and max is None):
        return False
    xp, d = self._xp(), self._data
    if min is not None:
        xp.maximum(d, min, out=d)
    if max is not None:
        xp.minimum(d, max, out=d)
    return True


# ---- Python operators ---------------------------------------------------------------------------

def _rsub(self, other):
    _check_sub_bool("rsub", self, other)
    a, b = binary_operands("rsub", other, self)
    return Sub.apply(a, b)


def _reflected(fn):
    def method(self, other):
        if isinstance(other, (Tensor, _Number)):
            return fn(other, self)
        return NotImplemented
    return method


def _iop(op):
    def method(self, other):
        return getattr(self, op)(other)
    return method


for _name, _fn in {"__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": _rsub,
                   "__mul__": mul, "__rmul__": mul, "__truediv__": div,
                   "__rtruediv__": _reflected(div), "__neg__": neg, "__pos__": positive,
                   "__abs__": abs, "__pow__": pow, "__rpow__": _reflected(pow),
                   "__mod__": remainder, "__rmod__": _reflected(remainder),
                   "__floordiv__": floor_divide, "__rfloordiv__": _reflected(floor_divide),
                   "__iadd__": _iop("add_"), "__isub__": _iop("sub_"), "__imul__": _iop("mul_"),
                   "__itruediv__": _iop("div_"), "__ipow__": _iop("pow_"),
                   "__imod__": _iop("remainder_"), "__ifloordiv__": _iop("floor_divide_")}.items():
    public_method(_name)(_fn)
