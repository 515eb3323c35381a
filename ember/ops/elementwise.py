"""Elementwise math: arithmetic, exponentials and logs, trigonometry, activations' primitives.

Each primitive is a Function with a NumPy/CuPy forward and a backward in Tensor ops; the
public function promotes its operands (``_promote``) and calls ``apply``. Gradients of
broadcast operands are reduced with ``sum_to``."""
from .._errors import mark
from .._tensor import Tensor
from ..autograd.function import Function
from ._broadcast import sum_to, broadcast_shape
from ._promote import binary_operands, float_operand, COMPLEX_NP
from ._registry import public, public_method


def _conj(t):
    """Complex gradients use the conjugate (PyTorch's convention); real tensors pass through."""
    if isinstance(t, Tensor) and t._data.dtype in COMPLEX_NP:
        return t.conj()
    return t


def _shape(x):
    return x.shape if isinstance(x, Tensor) else ()


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

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
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


@public(inplace=True)
def add(input, other, *, alpha=1, out=None):
    a, b = binary_operands("add", input, other)
    if alpha != 1:
        b = b * alpha
    return _out(Add.apply(a, b), out)


@public(inplace=True, aliases=("subtract",))
def sub(input, other, *, alpha=1, out=None):
    a, b = binary_operands("sub", input, other)
    if alpha != 1:
        b = b * alpha
    return _out(Sub.apply(a, b), out)


@public(inplace=True, aliases=("multiply",))
def mul(input, other, *, out=None):
    a, b = binary_operands("mul", input, other)
    return _out(Mul.apply(a, b), out)


@public(inplace=True, aliases=("divide", "true_divide"))
def div(input, other, *, rounding_mode=None, out=None):
    if rounding_mode is not None:
        return _out(_div_rounded(input, other, rounding_mode), out)
    a, b = binary_operands("div", input, other)
    if isinstance(a, Tensor) and a._data.dtype not in _INEXACT:
        a = float_operand(a)
        b = float_operand(b) if isinstance(b, Tensor) else b
    elif isinstance(b, Tensor) and b._data.dtype not in _INEXACT:
        b = float_operand(b)
    return _out(Div.apply(a, b), out)


@public(inplace=True, aliases=("negative",))
def neg(input, *, out=None):
    return _out(Neg.apply(input), out)


class DivRounded(Function):
    """Division rounded toward zero ("trunc") or down ("floor"); piecewise constant, so its
    gradient is zero."""
    _raw = True
    op_name = "div"

    @staticmethod
    def forward(ctx, x, y, mode):
        xp = ctx.xp
        if mode == "floor":
            return xp.floor_divide(x, y)
        if xp.asarray(x).dtype.kind in "fc" or xp.asarray(y).dtype.kind in "fc":
            return xp.trunc(xp.true_divide(x, y)).astype(xp.result_type(x, y))
        q = xp.floor_divide(x, y)
        fix = (q * y != x) & ((xp.asarray(x) < 0) != (xp.asarray(y) < 0))
        return q + fix

    @staticmethod
    def backward(ctx, grad):
        zero = grad * 0
        gx, gy = ctx._edges[:2]
        return (zero if gx else None), (zero if gy else None), None


def _div_rounded(input, other, mode):
    if mode not in ("trunc", "floor"):
        raise mark(RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or "
                                f"'floor' but found '{mode}'"))
    a, b = binary_operands("div", input, other)
    out = DivRounded.apply(a, b, mode)
    shape = broadcast_shape(_shape(a), _shape(b))
    return out if out.shape == shape else out.expand(shape)


def _out(result, out):
    """Honor ``out=``: write the result into ``out`` (resized if it is empty)."""
    if out is None:
        return result
    from .._out import write_out
    return write_out(out, result)


from ._promote import INEXACT_NP as _INEXACT  # noqa: E402


# ---- Python operators ---------------------------------------------------------------------------

def _rsub(self, other):
    a, b = binary_operands("rsub", other, self)
    return Sub.apply(a, b)


def _rdiv(self, other):
    return div(other, self)


def _iop(op):
    def method(self, other):
        return getattr(self, op)(other)
    return method


for _name, _fn in {"__add__": add, "__radd__": add, "__sub__": sub, "__rsub__": _rsub,
                   "__mul__": mul, "__rmul__": mul, "__truediv__": div, "__rtruediv__": _rdiv,
                   "__neg__": neg, "__iadd__": _iop("add_"), "__isub__": _iop("sub_"),
                   "__imul__": _iop("mul_"), "__itruediv__": _iop("div_")}.items():
    public_method(_name)(_fn)


# ---- exponentials, logs and activations' primitives -------------------------------------------

class Exp(Function):
    _raw = True
    op_name = "exp"

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return grad * _conj(y)


class Log(Function):
    _raw = True
    op_name = "log"

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / _conj(x)


class Tanh(Function):
    _raw = True
    op_name = "tanh"

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return TanhBackward.apply(grad, y)


class TanhBackward(Function):
    """grad * (1 - y²) in one op: tanh's backward is hot enough in RNNs to fuse."""
    _raw = True
    op_name = "tanh_backward"

    @staticmethod
    def forward(ctx, grad, y):
        ctx.save_for_backward(grad, y)
        return grad * (1 - y * y)

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        ggrad, gy = ctx._edges
        return (TanhBackward.apply(gg, y) if ggrad else None,
                -2 * gg * grad * y if gy else None)


@public(inplace=True)
def exp(input, *, out=None):
    return _out(Exp.apply(float_operand(input)), out)


@public(inplace=True)
def log(input, *, out=None):
    return _out(Log.apply(float_operand(input)), out)


@public(inplace=True)
def tanh(input, *, out=None):
    return _out(Tanh.apply(float_operand(input)), out)
