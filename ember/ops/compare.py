"""Comparisons, logical and bitwise ops, ``where``, ``isclose`` / ``allclose`` / ``equal``, and
the predicates (``isnan``, ``isinf``, ``signbit`` ...).

Comparisons and predicates return bool tensors, which never require grad, so their Functions
have no backward; they are Functions all the same, so that graph capture sees them. ``where``
is differentiable in its two value operands."""
import numbers

import numpy as np

from .._errors import mark, describe
from .._tensor import Tensor, _new_tensor
from ..autograd.grad_mode import GradMode
from ..autograd.inplace import commit_inplace, inplace_source
from ..autograd.function import Function
from ._broadcast import sum_to
from ._promote import binary_operands, result_type, COMPLEX_NP, FLOAT_NP, INEXACT_NP, BOOL_NP
from ._registry import public, public_method

_Number = numbers.Number


from .._out import honor_out as _out  # noqa: E402


def _camel(name):
    return "".join(p.capitalize() for p in name.split("_"))


def _array_op(name, compute):
    """A Function class computing ``compute(xp, *arrays)``, for ops without a gradient."""
    def forward(ctx, *args):
        return compute(ctx.xp, *args)
    return type(_camel(name), (Function,), {"_raw": True, "op_name": name,
                                             "forward": staticmethod(forward)})


def _not_tensor(op, arg, value, position):
    return mark(TypeError(f"{op}(): argument '{arg}' (position {position}) must be Tensor, not "
                          f"{type(value).__name__}"))


def _dtype_error(op, t, hint, exc=NotImplementedError):
    return mark(exc(f"{op}: not implemented for {t.dtype.name} tensors ({describe(t)}); {hint}"))


class ZeroGrad(Function):
    """The values of a bool result, cast to the dtype of ``like`` and carrying a zero gradient
    to every tensor argument: what ``x.lt_(y)`` leaves in a float ``x`` that requires grad."""
    _raw = True
    op_name = "zero_grad"

    @staticmethod
    def forward(ctx, values, like, *others):
        ctx.shapes = [getattr(a, "shape", None) for a in (like,) + others]
        return values.astype(like.dtype)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        return (None,) + tuple(None if s is None or e is None else
                               _new_tensor(xp.zeros(s, dtype=grad._data.dtype))
                               for s, e in zip(ctx.shapes, ctx._edges[1:]))


def _publish_comparison(fn, aliases=()):
    """Publish a comparison with in-place forms that keep a differentiable self
    differentiable, with a zero gradient, as in PyTorch."""
    public(fn, aliases=aliases)
    for name in (fn.__name__,) + tuple(aliases):
        public_method(name + "_")(_comparison_inplace(fn, name + "_"))


def _comparison_inplace(fn, name):
    def method(self, *args):
        source = inplace_source(self, args, {}, name)
        result = fn(source, *args)
        if GradMode.enabled and (source._rg or any(isinstance(a, Tensor) and a._rg
                                                   for a in args)):
            result = ZeroGrad.apply(result, source, *args)
        return commit_inplace(self, result, name)
    method.__name__ = method.__qualname__ = name
    return method


def _check_operands(op, input, other):
    """The TypeError for a binary op that takes a Tensor and a Tensor or a number."""
    if not isinstance(input, Tensor):
        raise _not_tensor(op, "input", input, 1)
    if not isinstance(other, (Tensor, _Number)):
        raise _not_tensor(op, "other", other, 2)


# ---- comparisons ----------------------------------------------------------------------------------

def _comparison(name, ufunc, aliases=(), ordered=True):
    cls = _array_op(name, lambda xp, x, y: getattr(xp, ufunc)(x, y))

    def fn(input, other, *, out=None):
        if not isinstance(input, Tensor) or not isinstance(other, (Tensor, _Number)):
            _check_operands(name, input, other)
        a, b = binary_operands(name, input, other)
        if ordered and a._data.dtype in COMPLEX_NP:
            raise mark(NotImplementedError(
                f"{name}: complex numbers are not ordered ({describe(input)}, "
                f"{describe(other)}); compare their .abs() or .real instead"))
        return _out(cls.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = name
    _publish_comparison(fn, aliases)
    return fn


eq = _comparison("eq", "equal", ordered=False)
ne = _comparison("ne", "not_equal", aliases=("not_equal",), ordered=False)
lt = _comparison("lt", "less", aliases=("less",))
le = _comparison("le", "less_equal", aliases=("less_equal",))
gt = _comparison("gt", "greater", aliases=("greater",))
ge = _comparison("ge", "greater_equal", aliases=("greater_equal",))


def _operator(fn, reflected=False):
    """``tensor <op> other`` as a method: NotImplemented for operands that are neither tensors
    nor numbers, so that Python falls back (``x == None`` is False, as in PyTorch)."""
    if reflected:
        def method(self, other):
            if isinstance(other, (Tensor, _Number)):
                return fn(other, self)
            return NotImplemented
    else:
        def method(self, other):
            if isinstance(other, (Tensor, _Number)):
                return fn(self, other)
            return NotImplemented
    return method


for _name, _fn in (("__eq__", eq), ("__ne__", ne), ("__lt__", lt), ("__le__", le),
                   ("__gt__", gt), ("__ge__", ge)):
    public_method(_name)(_operator(_fn))


# ---- logical ops ------------------------------------------------------------------------------

def _logical(name, ufunc):
    cls = _array_op(name, lambda xp, x, y: getattr(xp, ufunc)(x, y))

    def fn(input, other, *, out=None):
        if not isinstance(input, Tensor):
            raise _not_tensor(name, "input", input, 1)
        if not isinstance(other, Tensor):
            raise _not_tensor(name, "other", other, 2)
        return _out(cls.apply(input, other), out)
    fn.__name__ = fn.__qualname__ = name
    # In place, PyTorch leaves self's history as it was (unlike comparisons, which zero it).
    public(fn, inplace=True)
    return fn


logical_and = _logical("logical_and", "logical_and")
logical_or = _logical("logical_or", "logical_or")
logical_xor = _logical("logical_xor", "logical_xor")
LogicalNot = _array_op("logical_not", lambda xp, x: xp.logical_not(x))


@public(inplace=True)
def logical_not(input, *, out=None):
    if not isinstance(input, Tensor):
        raise _not_tensor("logical_not", "input", input, 1)
    return _out(LogicalNot.apply(input), out)


# ---- bitwise ops ------------------------------------------------------------------------------

def _check_integral(op, t, allow_bool=True):
    kind = t._data.dtype.kind
    if kind in "fcV" or (kind == "b" and not allow_bool):
        what = "integer" if not allow_bool else "integer and bool"
        raise _dtype_error(op, t, f"it takes {what} tensors only")


def _shift(ufunc):
    """PyTorch's shifts: counts outside [0, bits) give 0, or -1 for right shifts of negative
    numbers. NumPy does the same; CUDA's shifts are undefined there."""
    def compute(xp, x, y):
        out = getattr(xp, ufunc)(x, y)
        if xp is np:
            return out
        bits = 8 * out.dtype.itemsize
        outside = (xp.asarray(y) < 0) | (xp.asarray(y) >= bits)
        fill = 0 if ufunc == "left_shift" else xp.where(xp.asarray(x) < 0, -1, 0)
        return xp.where(outside, fill, out).astype(out.dtype)
    return compute


def _bitwise(name, compute, allow_bool=True):
    cls = _array_op(name, compute)

    def fn(input, other, *, out=None):
        if not isinstance(input, (Tensor, _Number)) or not isinstance(other, (Tensor, _Number)) \
                or not (isinstance(input, Tensor) or isinstance(other, Tensor)):
            bad, pos = (input, 1) if not isinstance(input, Tensor) else (other, 2)
            raise _not_tensor(name, "input" if pos == 1 else "other", bad, pos)
        a, b = binary_operands(name, input, other)
        t = a if isinstance(a, Tensor) else b
        _check_integral(name, t, allow_bool)
        return _out(cls.apply(a, b), out)
    fn.__name__ = fn.__qualname__ = name
    public(fn, inplace=True)
    return fn


bitwise_and = _bitwise("bitwise_and", lambda xp, x, y: xp.bitwise_and(x, y))
bitwise_or = _bitwise("bitwise_or", lambda xp, x, y: xp.bitwise_or(x, y))
bitwise_xor = _bitwise("bitwise_xor", lambda xp, x, y: xp.bitwise_xor(x, y))
bitwise_left_shift = _bitwise("bitwise_left_shift", _shift("left_shift"), allow_bool=False)
bitwise_right_shift = _bitwise("bitwise_right_shift", _shift("right_shift"), allow_bool=False)
BitwiseNot = _array_op("bitwise_not", lambda xp, x: xp.invert(x))


@public(inplace=True)
def bitwise_not(input, *, out=None):
    if not isinstance(input, Tensor):
        raise _not_tensor("bitwise_not", "input", input, 1)
    _check_integral("bitwise_not", input)
    return _out(BitwiseNot.apply(input), out)


def _invert(self):
    if self._data.dtype.kind in "fc":
        raise mark(TypeError(f"~ (operator.invert) is only implemented on integer and "
                             f"Boolean-type tensors, got {describe(self)}; for a mask use "
                             f"logical_not()"))
    return bitwise_not(self)


def _inplace_operator(name):
    def method(self, other):
        if isinstance(other, (Tensor, _Number)):
            return getattr(self, name)(other)
        return NotImplemented
    return method


for _name, _fn in (("and", bitwise_and), ("or", bitwise_or), ("xor", bitwise_xor),
                   ("lshift", bitwise_left_shift), ("rshift", bitwise_right_shift)):
    public_method(f"__{_name}__")(_operator(_fn))
    public_method(f"__r{_name}__")(_operator(_fn, reflected=True))
    public_method(f"__i{_name}__")(_inplace_operator(_fn.__name__ + "_"))
public_method("__invert__")(_invert)


# ---- where ------------------------------------------------------------------------------------

def masked(xp, keep, x):
    """``where(keep, x, 0)``. On large CPU arrays multiplying by the mask is several times
    faster than NumPy's where; the two differ only where a dropped ``x`` is NaN or infinite,
    which makes the sum non-finite, and then where is used."""
    if xp is np and x.size >= 4096:
        out = x * keep
        if np.isfinite(out.sum()):
            return out
    return xp.where(keep, x, 0)


def _is_zero(v):
    return (v.__class__ is int or v.__class__ is float) and v == 0


class Where(Function):
    _raw = True
    op_name = "where"

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.save_for_backward(condition)
        ctx.shapes = (getattr(x, "shape", ()), getattr(y, "shape", ()))
        xp = ctx.xp
        if _is_zero(y) and hasattr(x, "dtype"):  # the masks of backward formulas
            out = masked(xp, condition, x)
        elif _is_zero(x) and hasattr(y, "dtype"):
            out = masked(xp, ~condition, y)
        else:
            out = xp.where(condition, x, y)
        dtype = (x if hasattr(x, "dtype") else y).dtype
        return out if out.dtype == dtype else out.astype(dtype)  # a number keeps its dtype

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        _, ex, ey = ctx._edges
        sx, sy = ctx.shapes
        return (None,
                sum_to(Where.apply(condition, grad, 0), sx) if ex else None,
                sum_to(Where.apply(condition, 0, grad), sy) if ey else None)


def where_operands(op, x, y, device_of):
    """``x`` and ``y`` (tensors or numbers) promoted together; two numbers become 0-d arrays
    of their result type (NumPy would give float64 where PyTorch gives the default float)."""
    if isinstance(x, Tensor) or isinstance(y, Tensor):
        return binary_operands(op, x, y)
    dtype = result_type(x, y).np
    xp = device_of._xp()
    return xp.asarray(x, dtype=dtype), xp.asarray(y, dtype=dtype)


@public(method=False)
def where(condition, input=None, other=None, *, out=None):
    if input is None and other is None:
        from .index import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise _not_tensor("where", "condition", condition, 1)
    if condition._data.dtype is not BOOL_NP:
        if condition._data.dtype != np.uint8:
            raise mark(RuntimeError(
                f"where: expected condition to be a boolean tensor, but got {describe(condition)}"
                f"; use a comparison (x > 0) or condition.bool()"))
        import warnings
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and "
                      "will be removed in a future version of PyTorch. Use a boolean condition "
                      "instead.", UserWarning, stacklevel=2)
        condition = condition.bool()
    if input is None or other is None:
        raise mark(TypeError("where: expected condition, input and other (or only condition)"))
    for name, v, pos in (("input", input, 2), ("other", other, 3)):
        if not isinstance(v, (Tensor, _Number)):
            raise _not_tensor("where", name, v, pos)
    x, y = where_operands("where", input, other, condition)
    return _out(Where.apply(condition, x, y), out)


@public_method("where")
def _where_method(self, condition, other):
    return where(condition, self, other)


# ---- closeness and equality -------------------------------------------------------------------

def _isclose(xp, x, y, rtol, atol, equal_nan):
    close = x == y
    if x.dtype.kind in "biu":  # integers compare in float64, where x - y cannot wrap around
        x, y = x.astype(np.float64), y.astype(np.float64)
    if equal_nan:
        close |= xp.isnan(x) & xp.isnan(y)
    error = xp.abs(x - y)
    close |= xp.isfinite(error) & (error <= atol + xp.abs(rtol * y))
    return close


IsClose = _array_op("isclose", _isclose)


@public
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    for name, v, pos in (("input", input, 1), ("other", other, 2)):
        if not isinstance(v, Tensor):
            raise _not_tensor("isclose", name, v, pos)
    if input._data.dtype != other._data.dtype:
        raise mark(RuntimeError(f"isclose: input and other must have the same dtype, got "
                                f"{describe(input)} and {describe(other)}; convert one with "
                                f".to(other.dtype)"))
    if rtol < 0 or atol < 0:
        raise mark(RuntimeError(f"isclose: rtol and atol must be greater than or equal to zero, "
                                f"but got rtol={rtol}, atol={atol}"))
    return IsClose.apply(input, other, rtol, atol, equal_nan)


@public
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@public
def equal(input, other):
    """True if ``input`` and ``other`` have the same shape and the same values (NaN differs
    from everything)."""
    for name, v, pos in (("input", input, 1), ("other", other, 2)):
        if not isinstance(v, Tensor):
            raise _not_tensor("equal", name, v, pos)
    if input._data.shape != other._data.shape:
        return False
    return bool(eq(input, other)._data.all())


# ---- predicates -------------------------------------------------------------------------------

def _predicate(name, compute, complex_error=None):
    cls = _array_op(name, compute)

    def fn(input):
        if not isinstance(input, Tensor):
            raise _not_tensor(name, "input", input, 1)
        if complex_error is not None and input._data.dtype in COMPLEX_NP:
            raise mark(complex_error(f"{name}: does not support complex inputs "
                                     f"({describe(input)}); apply it to .real or .imag"))
        return cls.apply(input)
    fn.__name__ = fn.__qualname__ = name
    public(fn)
    return fn


def _exact(compute, value):
    """Integer and bool tensors hold neither NaN nor infinities: the predicate is constant."""
    def wrapped(xp, x):
        if x.dtype in INEXACT_NP:
            return compute(xp, x)
        return xp.full(x.shape, value, dtype=np.bool_)
    return wrapped


isnan = _predicate("isnan", _exact(lambda xp, x: xp.isnan(x), False))
isinf = _predicate("isinf", _exact(lambda xp, x: xp.isinf(x), False))
isfinite = _predicate("isfinite", _exact(lambda xp, x: xp.isfinite(x), True))
isposinf = _predicate("isposinf", _exact(lambda xp, x: xp.isposinf(x), False),
                      complex_error=RuntimeError)
isneginf = _predicate("isneginf", _exact(lambda xp, x: xp.isneginf(x), False),
                      complex_error=RuntimeError)
isreal = _predicate("isreal", lambda xp, x: (x.imag == 0) if x.dtype in COMPLEX_NP
                    else xp.ones(x.shape, dtype=np.bool_))
signbit = _predicate("signbit", lambda xp, x: xp.signbit(x) if x.dtype in FLOAT_NP
                     else (x < 0) if x.dtype != np.bool_ else xp.zeros(x.shape, dtype=np.bool_),
                     complex_error=NotImplementedError)
