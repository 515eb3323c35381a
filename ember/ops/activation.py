"""Activation functions with ``torch.nn.functional``'s signatures (``ember.nn.functional``
re-exports ``__all__``). Those PyTorch also has as ``torch.<name>`` or tensor methods (relu,
softmax, log_softmax, selu, celu, threshold, rrelu, prelu, hardshrink) are published there too,
with those signatures.

The hot ones are ``Pointwise`` Functions (see ``elementwise.py``): a NumPy forward and one
fused op for the backward, which is itself differentiable. softmax and log_softmax are one
Function each with a fused backward. The rest are compositions of other ops."""
import math
import warnings

import numpy as np

from .._errors import mark, describe
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.inplace import commit_inplace, inplace_source
from ._dims import normalize_dim
from ._promote import FLOAT_NP, COMPLEX_NP, INT_NP, BOOL_NP
from ._registry import public
from .compare import where, masked
from ._kept import shift_kept, sum_kept, dot_kept
from .elementwise import Pointwise, sigmoid, tanh, _sigmoid_array, _special, _keep, _not_tensor

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "elu", "elu_", "selu",
           "selu_", "celu", "celu_", "gelu", "silu", "mish", "softplus", "softsign", "hardtanh",
           "hardtanh_", "hardswish", "hardsigmoid", "hardshrink", "softshrink", "tanhshrink",
           "threshold", "threshold_", "logsigmoid", "softmax", "log_softmax", "softmin", "glu",
           "prelu", "rrelu", "rrelu_", "sigmoid", "tanh"]

from ._promote import HALF_NP as _HALF  # noqa: E402


# ---- checking and applying ----------------------------------------------------------------------

def _check(op, input, ints=False, complex_ok=False, bool_exc=RuntimeError):
    """The input of an activation: a floating tensor (also integer where ``ints``, complex
    where ``complex_ok``)."""
    try:
        dt = input._data.dtype
    except AttributeError:
        raise _not_tensor(op, input) from None
    if dt in FLOAT_NP or (ints and dt in INT_NP) or (complex_ok and dt in COMPLEX_NP):
        return
    if dt is BOOL_NP and ints:
        raise mark(bool_exc(f"{op}: Boolean inputs not supported for {op} "
                                f"({describe(input)}); convert with .float() first"))
    raise mark(NotImplementedError(f"{op}: not implemented for {input.dtype.name} tensors "
                                   f"({describe(input)}); convert with .float() first"))


def _run(op, cls, input, inplace, *params):
    """``cls.apply(input, *params)``, or its result written into ``input`` when ``inplace``."""
    if not inplace:
        return cls.apply(input, *params)
    name = op + "_"
    return commit_inplace(input, cls.apply(inplace_source(input, (), {}, name), *params), name)


def _inplace(result_fn, input, op):
    """``result_fn(x)`` written into ``input`` (for composite activations)."""
    return commit_inplace(input, result_fn(inplace_source(input, (), {}, op)), op)


# ---- piecewise linear -------------------------------------------------------------------------

class Relu(Pointwise):
    op_name = "relu"
    saves_output = True
    compute = staticmethod(lambda xp, x: xp.maximum(x, 0))
    vjp = staticmethod(lambda xp, grad, y: masked(xp, y > 0, grad))


def relu(input, inplace=False):
    _check("relu", input, ints=True)
    return _run("relu", Relu, input, inplace)


@public(inplace=False)
def relu_(input):
    return relu(input, inplace=True)


@public(name="relu")
def _relu(input):
    return relu(input)


class LeakyRelu(Pointwise):
    op_name = "leaky_relu"
    compute = staticmethod(lambda xp, x, slope: xp.where(x > 0, x, x * slope))
    vjp = staticmethod(lambda xp, grad, x, slope: xp.where(x > 0, grad, grad * slope))


def leaky_relu(input, negative_slope=0.01, inplace=False):
    _check("leaky_relu", input)
    return _run("leaky_relu", LeakyRelu, input, inplace, negative_slope)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def _in_range(x, lo, hi):
    return (x > lo) & (x < hi)


class Hardtanh(Pointwise):
    """Clamp to [min_val, max_val]; unlike clamp, the gradient stops at the bounds."""
    op_name = "hardtanh"

    @staticmethod
    def compute(xp, x, lo, hi):
        y = xp.minimum(xp.maximum(x, lo), hi)
        return y if y.dtype == x.dtype else y.astype(x.dtype)

    vjp = staticmethod(lambda xp, grad, x, lo, hi: masked(xp, _in_range(x, lo, hi), grad))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    _check("hardtanh", input, ints=True)
    if min_val > max_val:
        raise mark(ValueError(f"hardtanh: min_val cannot be greater than max_val (got "
                              f"min_val={min_val}, max_val={max_val})"))
    return _run("hardtanh", Hardtanh, input, inplace, min_val, max_val)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


class Threshold(Pointwise):
    op_name = "threshold"

    @staticmethod
    def compute(xp, x, threshold, value):
        y = xp.where(x <= threshold, value, x)
        return y if y.dtype == x.dtype else y.astype(x.dtype)

    vjp = staticmethod(lambda xp, grad, x, threshold, value: masked(xp, ~(x <= threshold), grad))


def _threshold(input, threshold, value, inplace):
    _check("threshold", input, ints=True, bool_exc=NotImplementedError)
    return _run("threshold", Threshold, input, inplace, threshold, value)


@public(method=False)
def threshold(input, threshold, value, inplace=False):
    return _threshold(input, threshold, value, inplace)


@public(method=False)
def threshold_(input, threshold, value):
    return _threshold(input, threshold, value, True)


def _outside(x, lambd):
    """Not in [-lambd, lambd] (NaN included)."""
    return ~((x >= -lambd) & (x <= lambd))


class Hardshrink(Pointwise):
    op_name = "hardshrink"
    compute = staticmethod(lambda xp, x, lambd: masked(xp, _outside(x, lambd), x))
    vjp = staticmethod(lambda xp, grad, x, lambd: masked(xp, _outside(x, lambd), grad))


@public
def hardshrink(input, lambd=0.5):
    _check("hardshrink", input)
    return Hardshrink.apply(input, lambd)


class Softshrink(Pointwise):
    op_name = "softshrink"
    compute = staticmethod(lambda xp, x, lambd: xp.where(xp.abs(x) <= lambd, 0,
                                                         x - xp.copysign(lambd, x)))
    vjp = Hardshrink.vjp


def softshrink(input, lambd=0.5):
    _check("softshrink", input)
    if lambd < 0:
        raise mark(RuntimeError(f"softshrink: lambda must be greater or equal to 0, but found to "
                                f"be {lambd}."))
    return Softshrink.apply(input, lambd)


class Hardsigmoid(Pointwise):
    op_name = "hardsigmoid"

    @staticmethod
    def compute(xp, x):
        y = x / 6
        y += 0.5
        return xp.clip(y, 0, 1, out=y)

    vjp = staticmethod(lambda xp, grad, x: masked(xp, _in_range(x, -3, 3), grad / 6))


def hardsigmoid(input, inplace=False):
    _check("hardsigmoid", input)
    return _run("hardsigmoid", Hardsigmoid, input, inplace)


class Hardswish(Pointwise):
    op_name = "hardswish"

    @staticmethod
    def compute(xp, x):
        y = x + 3
        xp.clip(y, 0, 6, out=y)
        y *= x
        y /= 6
        return y

    @staticmethod
    def vjp(xp, grad, x):
        return xp.where(x <= -3, 0, xp.where(x < 3, grad * (x / 3 + 0.5), grad))

    @staticmethod
    def vjp_grad(ggg, x):
        return _keep(ggg / 3, _in_range(x._data, -3, 3))


def hardswish(input, inplace=False):
    _check("hardswish", input)
    return _run("hardswish", Hardswish, input, inplace)


# ---- exponential family -------------------------------------------------------------------------

class Elu(Pointwise):
    """``scale * x`` for x > 0, ``scale * alpha * (exp(x * input_scale) - 1)`` otherwise: elu,
    selu and celu."""
    op_name = "elu"

    @staticmethod
    def compute(xp, x, alpha, scale, input_scale):
        negative = xp.expm1(x * input_scale)
        negative *= alpha * scale
        return xp.where(x > 0, x * scale, negative)

    @staticmethod
    def vjp(xp, grad, x, alpha, scale, input_scale):
        slope = xp.exp(x * input_scale)
        slope *= alpha * scale * input_scale
        return xp.where(x > 0, grad * scale, grad * slope)

    @staticmethod
    def vjp_grad(ggg, x, alpha, scale, input_scale):
        curve = ggg * (x * input_scale).exp() * (alpha * scale * input_scale * input_scale)
        return _keep(curve, x._data < 0)  # PyTorch: 0 at x == 0


def elu(input, alpha=1.0, inplace=False):
    _check("elu", input)
    return _run("elu", Elu, input, inplace, alpha, 1.0, 1.0)


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


@public(method=False)
def selu(input, inplace=False):
    _check("selu", input)
    return _run("selu", Elu, input, inplace, _SELU_ALPHA, _SELU_SCALE, 1.0)


@public(method=False)
def selu_(input):
    return selu(input, inplace=True)


@public(method=False)
def celu(input, alpha=1.0, inplace=False):
    _check("celu", input)
    if alpha == 0:
        raise mark(RuntimeError("celu: ZeroDivisionError: alpha must not be 0"))
    return _run("celu", Elu, input, inplace, alpha, 1.0, 1.0 / alpha)


@public(method=False)
def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


class Softplus(Pointwise):
    """``log(1 + exp(beta * x)) / beta``, linear where ``beta * x > threshold``."""
    op_name = "softplus"

    @staticmethod
    def compute(xp, x, beta, threshold):
        z = x * beta
        return xp.where(z > threshold, x, xp.log1p(xp.exp(z)) / beta)

    @staticmethod
    def vjp(xp, grad, x, beta, threshold):
        z = x * beta
        return xp.where(z > threshold, grad, grad * _sigmoid_array(xp, z))

    @staticmethod
    def vjp_grad(ggg, x, beta, threshold):
        s = (x * beta).sigmoid()
        return _keep(ggg * beta * s * (1 - s), x._data * beta < threshold)


def softplus(input, beta=1.0, threshold=20.0):
    _check("softplus", input)
    return Softplus.apply(input, beta, threshold)


class LogSigmoid(Pointwise):
    op_name = "log_sigmoid"

    @staticmethod
    def compute(xp, x):
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    vjp = staticmethod(lambda xp, grad, x: grad * _sigmoid_array(xp, -x))

    @staticmethod
    def vjp_grad(ggg, x):
        s = x.sigmoid()
        return -ggg * s * (1 - s)


def logsigmoid(input):
    _check("logsigmoid", input)
    return LogSigmoid.apply(input)


# ---- smooth gates: gelu, silu, mish -----------------------------------------------------------

_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_TANH_K = math.sqrt(2 / math.pi)  # gelu's tanh approximation: tanh(k (x + c x³))
_TANH_C = 0.044715


def _gelu_tanh_parts(x):
    """For gelu(approximate='tanh'): t = tanh(u) and u' with u = k (x + c x³)."""
    x2 = x * x
    t = (x * (1 + _TANH_C * x2) * _TANH_K).tanh()
    du = (1 + 3 * _TANH_C * x2) * _TANH_K
    return t, du


class Gelu(Pointwise):
    """gelu, exact (``x Φ(x)``, Φ from erf) or with PyTorch's tanh approximation. The exact form
    keeps Φ(x) from the forward for the backward: erf is the expensive part of both."""
    op_name = "gelu"

    @staticmethod
    def forward(ctx, x, approximate, *cached):
        if approximate == "tanh" or not x.ndim:
            return Pointwise.forward(ctx, x, approximate)
        cdf = _gelu_cdf(ctx.xp, x)
        ctx.save_for_backward(x)
        ctx.params = (approximate, cdf)
        return x * cdf

    @staticmethod
    def compute(xp, x, approximate):
        if approximate == "tanh":
            inner = x * x
            inner *= _TANH_C
            inner += 1
            inner *= x * _TANH_K
            y = xp.tanh(inner, out=inner)
            y += 1
            y *= x
            y *= 0.5
            return y
        return x * _gelu_cdf(xp, x)

    @staticmethod
    def vjp(xp, grad, x, approximate, cdf=None):
        if approximate == "tanh":
            x2 = x * x
            t = xp.tanh(x * (1 + _TANH_C * x2) * _TANH_K)
            du = (1 + 3 * _TANH_C * x2) * _TANH_K
            return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
        if cdf is None:
            cdf = _gelu_cdf(xp, x)
        d = xp.multiply(x, x)  # d = Φ(x) + x φ(x), in place: these arrays are large
        d *= -0.5
        xp.exp(d, out=d)
        d *= x
        d *= _INV_SQRT_2PI
        d += cdf
        d *= grad
        return d

    @staticmethod
    def vjp_grad(ggg, x, approximate, cdf=None):
        if approximate == "tanh":
            t, du = _gelu_tanh_parts(x)
            d2u = 6 * _TANH_K * _TANH_C * x
            return ggg * (1 - t * t) * (du + 0.5 * x * (d2u - 2 * t * du * du))
        pdf = (-0.5 * x * x).exp() * _INV_SQRT_2PI
        return ggg * pdf * (2 - x * x)


def _gelu_cdf(xp, x):
    """Φ(x) = (1 + erf(x / √2)) / 2 (half precision computed in float32, as PyTorch does)."""
    if x.dtype in _HALF:
        return _special.normal_cdf(xp, x.astype(np.float32)).astype(x.dtype)
    return _special.normal_cdf(xp, x)


def gelu(input, approximate="none"):
    _check("gelu", input)
    if approximate not in ("none", "tanh"):
        raise mark(RuntimeError(f"gelu: approximate argument must be either none or tanh, got "
                                f"{approximate!r}"))
    return Gelu.apply(input, approximate)


class Silu(Pointwise):
    op_name = "silu"

    @staticmethod
    def compute(xp, x):
        return x * _sigmoid_array(xp, x)

    @staticmethod
    def vjp(xp, grad, x):
        s = _sigmoid_array(xp, x)
        return grad * s * (1 + x * (1 - s))

    @staticmethod
    def vjp_grad(ggg, x):
        s = x.sigmoid()
        return ggg * s * (1 - s) * (2 + x * (1 - 2 * s))


def silu(input, inplace=False):
    _check("silu", input, complex_ok=True)
    if input._data.dtype in COMPLEX_NP:  # no fused kernel for complex: compose
        return _inplace(lambda x: x * sigmoid(x), input, "silu_") if inplace \
            else input * sigmoid(input)
    return _run("silu", Silu, input, inplace)


class Mish(Pointwise):
    op_name = "mish"

    @staticmethod
    def compute(xp, x):
        return x * xp.tanh(xp.log1p(xp.exp(x)))

    @staticmethod
    def vjp(xp, grad, x):
        t = xp.tanh(xp.log1p(xp.exp(x)))
        return grad * (t + x * _sigmoid_array(xp, x) * (1 - t * t))

    @staticmethod
    def vjp_grad(ggg, x):
        s = x.sigmoid()
        t = softplus(x, 1.0, math.inf).tanh()
        return ggg * s * (1 - t * t) * (2 + x * (1 - s) - 2 * x * t * s)


def mish(input, inplace=False):
    _check("mish", input)
    return _run("mish", Mish, input, inplace)


# ---- compositions -------------------------------------------------------------------------------

def softsign(input):
    return input / (1 + input.abs())


def tanhshrink(input):
    return input - tanh(input)


@public
def prelu(input, weight):
    _check("prelu", input)
    if not isinstance(weight, Tensor):
        raise _not_tensor("prelu", weight, "weight", 2)
    if weight._data.dtype != input._data.dtype:
        raise mark(RuntimeError(f"prelu: Type promoting not supported: input is "
                                f"{describe(input)}, weight {describe(weight)}; convert weight "
                                f"with .to({input.dtype.name})"))
    if weight._data.ndim > 1:
        raise mark(RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got "
                                f"{describe(weight)}"))
    n, ndim = weight._data.size, input._data.ndim
    channels = input._data.shape[1] if ndim >= 2 else 1
    if n == 1:
        w = weight.reshape(())
    elif n == channels:
        w = weight.reshape((n,) + (1,) * (ndim - 2))
    else:
        raise mark(RuntimeError(
            f"prelu: Mismatch of parameter numbers and input channel size. Found parameter "
            f"numbers = {n} and channel size = {channels} (input {describe(input)}); weight "
            f"needs 1 or {channels} elements"))
    return where(input > 0, input, w * input)


def _rrelu_noise(input, lower, upper):
    """Per element: 1 where input > 0, a slope drawn uniformly from [lower, upper] elsewhere."""
    noise = input.detach().new_empty(input.shape).uniform_(lower, upper)
    return where(input > 0, 1.0, noise)


@public(method=False)
def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """Randomized leaky relu: in training, negative inputs are scaled by slopes drawn from
    U(lower, upper); otherwise by their mean (a leaky relu)."""
    _check("rrelu", input)
    if lower > upper:
        raise mark(RuntimeError(f"rrelu: Lower bound should be less than or equal to the upper "
                                f"bound, got lower={lower} and upper={upper}"))
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    if inplace:
        return _inplace(lambda x: x * _rrelu_noise(x, lower, upper), input, "rrelu_")
    return input * _rrelu_noise(input, lower, upper)


@public(method=False)
def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def glu(input, dim=-1):
    _check("glu", input)
    if input._data.ndim == 0:
        raise mark(RuntimeError("glu: glu does not support scalars because halving size must be "
                                "even"))
    d = normalize_dim("glu", dim, input._data.ndim)
    size = input._data.shape[d]
    if size % 2:
        raise mark(RuntimeError(f"glu: Halving dimension must be even, but dimension {d} is size "
                                f"{size} (input {describe(input)})"))
    a, b = input.chunk(2, d)
    return a * sigmoid(b)


# ---- softmax family -----------------------------------------------------------------------------

def _stable(compute):
    """Run a softmax-style array computation in float32 for half-precision inputs (their
    accumulation would lose digits or overflow)."""
    def wrapped(xp, x, axis):
        if x.size == 0:
            return x.copy()
        if x.ndim == 0:  # NumPy would turn the 0-d intermediates into scalars
            return wrapped(xp, x.reshape(1), 0).reshape(())
        if x.dtype in _HALF:
            return compute(xp, x.astype(np.float32), axis).astype(x.dtype)
        return compute(xp, x, axis)
    return wrapped


@_stable
def _softmax_array(xp, x, axis):
    e = x - shift_kept(xp, x, axis)
    xp.exp(e, out=e)
    e /= sum_kept(xp, e, (axis % x.ndim,))
    return e


@_stable
def _log_softmax_array(xp, x, axis):
    shifted = x - shift_kept(xp, x, axis)
    shifted -= xp.log(sum_kept(xp, xp.exp(shifted), (axis % x.ndim,)))
    return shifted


def _axis(x, dim):
    return dim if x.ndim else None


def _axes(x, dim):
    """The reduced axes of a softmax along ``dim`` (none for a 0-d tensor: its one value)."""
    return (dim % x.ndim,) if x.ndim else ()


class SoftmaxBackward(Function):
    """``y * (grad - sum(grad * y))`` along dim."""
    _raw = True
    op_name = "softmax_backward"

    @staticmethod
    def forward(ctx, grad, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(grad, y)
        gy = grad - dot_kept(ctx.xp, grad, y, _axes(y, dim))
        gy *= y
        return gy

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        dim = ctx.dim
        e_grad, e_y = ctx._edges[:2]
        g_grad = SoftmaxBackward.apply(gg, y, dim) if e_grad else None
        g_y = None
        if e_y:
            g_y = (gg * (grad - (grad * y).sum(dim, keepdim=True))
                   - grad * (gg * y).sum(dim, keepdim=True))
        return g_grad, g_y, None


class LogSoftmaxBackward(Function):
    """``grad - exp(y) * sum(grad)`` along dim."""
    _raw = True
    op_name = "log_softmax_backward"

    @staticmethod
    def forward(ctx, grad, y, dim):
        ctx.dim = dim
        ctx.save_for_backward(grad, y)
        out = ctx.xp.exp(y)
        out *= sum_kept(ctx.xp, grad, _axes(y, dim))
        return grad - out

    @staticmethod
    def backward(ctx, gg):
        grad, y = ctx.saved_tensors
        dim = ctx.dim
        e_grad, e_y = ctx._edges[:2]
        p = y.exp()
        g_grad = gg - (gg * p).sum(dim, keepdim=True) if e_grad else None
        g_y = -gg * p * grad.sum(dim, keepdim=True) if e_y else None
        return g_grad, g_y, None


class Softmax(Function):
    """softmax along ``dim``; the backward is a Function of the output (``Backward``)."""
    _raw = True
    op_name = "softmax"
    compute = staticmethod(_softmax_array)
    Backward = SoftmaxBackward

    @staticmethod
    def forward(ctx, x, dim):
        y = ctx.compute(ctx.xp, x, _axis(x, dim))
        ctx.dim = dim
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        return ctx.Backward.apply(grad, y, ctx.dim), None


class LogSoftmax(Softmax):
    op_name = "log_softmax"
    compute = staticmethod(_log_softmax_array)
    Backward = LogSoftmaxBackward


def _softmax_input(op, input, dim, dtype, stacklevel):
    if dim is None:
        ndim = input._data.ndim
        warnings.warn(f"Implicit dimension choice for {op} has been deprecated. Change the call "
                      f"to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
        dim = 0 if ndim in (0, 1, 3) else 1
    if dtype is not None:
        input = input.to(dtype)
    _check(op, input)
    return input, normalize_dim(op, dim, input._data.ndim)


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    input, dim = _softmax_input("softmax", input, dim, dtype, _stacklevel)
    return Softmax.apply(input, dim)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    input, dim = _softmax_input("log_softmax", input, dim, dtype, _stacklevel)
    return LogSoftmax.apply(input, dim)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    input, dim = _softmax_input("softmin", input, dim, dtype, _stacklevel)
    return Softmax.apply(-input, dim)


@public(name="softmax")
def _softmax(input, dim, dtype=None):
    input, dim = _softmax_input("softmax", input, dim, dtype, 2)
    return Softmax.apply(input, dim)


@public(name="log_softmax")
def _log_softmax(input, dim, dtype=None):
    input, dim = _softmax_input("log_softmax", input, dim, dtype, 2)
    return LogSoftmax.apply(input, dim)

