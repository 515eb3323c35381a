"""nn.functional: batch_norm, instance_norm, layer_norm, group_norm, rms_norm,
local_response_norm.

Batch, instance, layer and group norm with statistics from the input run on the fused
``ember.ops.norm`` kernels; with running statistics (evaluation) a norm is an affine map,
composed from Tensor ops. Running statistics are updated in place, without autograd, as
PyTorch does."""
import numbers

import numpy as np

from ... import _dtype
from ..._errors import mark, describe
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...ops import norm as _norm
from ...ops._promote import FLOAT_NP

__all__ = ["batch_norm", "instance_norm", "layer_norm", "group_norm", "rms_norm",
           "local_response_norm"]


# ---- argument checks ------------------------------------------------------------------------

def _check_tensor(op, t, name, position):
    if not isinstance(t, Tensor):
        raise mark(TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, "
                             f"not {type(t).__name__}"))


def _check_float(op, input):
    if input._data.dtype not in FLOAT_NP:
        raise mark(RuntimeError(f"{op}: expected a floating point input, got {describe(input)}; "
                                f"convert it first, e.g. x.float()"))


def _check_params(op, input, params):
    """Parameters (weight, bias, running stats) must have the input's dtype, except float32
    parameters for a float16 / bfloat16 input (PyTorch's mixed precision on the CPU)."""
    dt = input._data.dtype
    for name, p in params:
        if p is None:
            continue
        _check_tensor(op, p, name, 0)
        if p._data.dtype != dt and not (dt.itemsize == 2 and p.dtype is _dtype.float32):
            raise mark(RuntimeError(
                f"{op}: expected {name} to have the input's dtype, but got input "
                f"{describe(input)} and {name} {describe(p)}; convert one of them, e.g. "
                f"module.to({input.dtype})"))


def _check_channels(op, input, params):
    """Per-channel parameters must have one entry per channel (input dim 1)."""
    c = input._data.shape[1]
    for name, p in params:
        if p is not None and p._data.size != c:
            raise mark(RuntimeError(f"{op}: {name} should contain {c} elements not "
                                    f"{p._data.size} (input {describe(input)}, {name} "
                                    f"{describe(p)})"))


def _verify_batch_size(op, size):
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise mark(ValueError(f"Expected more than 1 value per channel when training, got "
                              f"input size {_size_repr(size)}"))


def _verify_spatial_size(op, size):
    n = 1
    for s in size[2:]:
        n *= s
    if n == 1:
        raise mark(ValueError(f"Expected more than 1 spatial element when training, got input "
                              f"size {_size_repr(size)}"))


def _size_repr(size):
    return f"ember.Size({list(size)})"


def _channel_shape(input):
    """The shape a per-channel vector is viewed as to broadcast against an (N, C, *) input."""
    return (input._data.shape[1],) + (1,) * (input._data.ndim - 2)


# ---- batch norm -----------------------------------------------------------------------------

def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) over the batch and spatial dims. In training, the batch
    statistics are used and ``running_mean`` / ``running_var`` (if given) are updated in place
    with ``momentum``; otherwise the running statistics are used."""
    _check_tensor("batch_norm", input, "input", 1)
    if input._data.ndim < 2:
        if input._data.ndim == 1 and input._data.size == 0:
            return input.clone()  # as PyTorch, which has no channel dim to check here
        raise mark(IndexError(f"batch_norm: Dimension out of range: an input with at least 2 "
                              f"dims (N, C, *) is expected, got {describe(input)}"))
    if training:
        _verify_batch_size("batch_norm", input._data.shape)
        if eps <= 0.0:
            raise mark(ValueError(f"batch_norm eps must be positive during training, but got "
                                  f"{eps}"))
    elif eps < 0.0:
        raise mark(ValueError(f"batch_norm eps must be non-negative, but got {eps}"))
    params = (("weight", weight), ("bias", bias), ("running_mean", running_mean),
              ("running_var", running_var))
    _check_float("batch_norm", input)
    _check_params("batch_norm", input, params)
    _check_channels("batch_norm", input, params)
    if not training and (running_mean is None or running_var is None):
        missing = "running_mean" if running_mean is None else "running_var"
        raise mark(RuntimeError(f"batch_norm: {missing} must be defined in evaluation mode "
                                f"(pass training=True to normalize with the batch statistics)"))
    if (running_mean is None) != (running_var is None):
        raise mark(ValueError("batch_norm: running_mean and running_var must either both be "
                              "None or neither be None"))
    if not training:
        return _affine_with_stats(input, running_mean, running_var, weight, bias, eps)
    ndim = input._data.ndim
    axes = (0,) + tuple(range(2, ndim))
    y, mean, var = _norm.BatchNorm.apply(input, weight, bias, axes, eps, _channel_shape(input))
    if running_mean is not None and input._data.size:
        n = input._data.size // input._data.shape[1]
        _update_running_stats(running_mean, running_var, mean.reshape(-1), var.reshape(-1),
                              n, momentum)
    return y


def _affine_with_stats(input, mean, var, weight, bias, eps):
    """``(input - mean) / sqrt(var + eps) * weight + bias`` with given per-channel statistics,
    as one scale and one shift of the input."""
    shape = _channel_shape(input)
    scale = (var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return (input * scale.reshape(shape).to(input.dtype)
            + shift.reshape(shape).to(input.dtype))


def _update_running_stats(running_mean, running_var, mean, var, n, momentum):
    """Exponential moving averages of the batch mean and the unbiased batch variance."""
    with no_grad():
        unbiased = var * (n / (n - 1)) if n > 1 else var
        running_mean.mul_(1 - momentum).add_(mean.to(running_mean.dtype) * momentum)
        running_var.mul_(1 - momentum).add_(unbiased.to(running_var.dtype) * momentum)


# ---- instance norm --------------------------------------------------------------------------

def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Normalize each channel of each sample over its spatial dims. With ``use_input_stats``
    the running statistics (if given) are updated with the average over the batch of the
    per-instance statistics."""
    _check_tensor("instance_norm", input, "input", 1)
    if input._data.ndim < 2:
        raise mark(ValueError(f"instance_norm: expected an input with at least 2 dims (N, C, "
                              f"*), got {describe(input)}"))
    params = (("weight", weight), ("bias", bias), ("running_mean", running_mean),
              ("running_var", running_var))
    _check_float("instance_norm", input)
    _check_params("instance_norm", input, params)
    _check_channels("instance_norm", input, params)
    if (running_mean is None) != (running_var is None):
        raise mark(ValueError("instance_norm: running_mean and running_var must either both "
                              "be None or neither be None"))
    if not use_input_stats:
        if running_mean is None:
            raise mark(RuntimeError("instance_norm: Expected running_mean and running_var to "
                                    "be defined when use_input_stats is false"))
        return _affine_with_stats(input, running_mean, running_var, weight, bias, eps)
    _verify_spatial_size("instance_norm", input._data.shape)
    ndim = input._data.ndim
    axes = tuple(range(2, ndim))
    y, mean, var = _norm.InstanceNorm.apply(input, weight, bias, axes, eps,
                                            _channel_shape(input))
    if running_mean is not None and input._data.size:
        n = 1
        for s in input._data.shape[2:]:
            n *= s
        c = input._data.shape[1]
        _update_running_stats(running_mean, running_var, mean.reshape(-1, c).mean(0),
                              var.reshape(-1, c).mean(0), n, momentum)
    return y


# ---- layer norm, group norm, RMS norm ---------------------------------------------------------

def _normalized_shape(op, normalized_shape):
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        if op == "layer_norm":  # PyTorch's functional form wants a sequence
            raise mark(TypeError("layer_norm(): argument 'normalized_shape' (position 2) "
                                 "must be tuple of ints, not int"))
        normalized_shape = (normalized_shape,)
    try:
        shape = tuple(int(s) for s in normalized_shape)
    except TypeError:
        raise mark(TypeError(f"{op}(): argument 'normalized_shape' must be tuple of ints, not "
                             f"{type(normalized_shape).__name__}")) from None
    if not shape:
        raise mark(RuntimeError(f"{op}: Expected normalized_shape to be at least "
                                f"1-dimensional, i.e., containing at least one element, but "
                                f"got normalized_shape = []"))
    return shape


def _check_trailing(op, input, shape, params):
    k = len(shape)
    if tuple(input._data.shape[input._data.ndim - k:]) != shape or input._data.ndim < k:
        raise mark(RuntimeError(
            f"{op}: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}"))
    for name, p in params:
        if p is not None and tuple(p._data.shape) != shape:
            raise mark(RuntimeError(
                f"{op}: Expected {name} to be of same shape as normalized_shape, but got "
                f"{name} of shape {list(p.shape)} and normalized_shape = {list(shape)}"))


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalize over the trailing ``normalized_shape`` dims, then ``* weight + bias``
    (elementwise, of shape ``normalized_shape``)."""
    _check_tensor("layer_norm", input, "input", 1)
    shape = _normalized_shape("layer_norm", normalized_shape)
    params = (("weight", weight), ("bias", bias))
    _check_float("layer_norm", input)
    _check_params("layer_norm", input, params)
    _check_trailing("layer_norm", input, shape, params)
    ndim = input._data.ndim
    axes = tuple(range(ndim - len(shape), ndim))
    return _norm.LayerNorm.apply(input, weight, bias, axes, eps, shape)[0]


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Split the channels (dim 1) into ``num_groups`` groups and normalize each group of each
    sample; then ``* weight + bias`` per channel."""
    _check_tensor("group_norm", input, "input", 1)
    if input._data.ndim < 2:
        raise mark(RuntimeError(f"group_norm: Expected at least 2 dimensions for input tensor "
                                f"but received {input._data.ndim}"))
    n, c = input._data.shape[:2]
    spatial = input._data.shape[2:]
    if num_groups <= 0 or c % num_groups:
        raise mark(RuntimeError(f"group_norm: Expected number of channels in input to be "
                                f"divisible by num_groups, but got input of shape "
                                f"{list(input.shape)} and num_groups={num_groups}"))
    _verify_batch_size("group_norm", [n * c // num_groups, num_groups] + list(spatial))
    params = (("weight", weight), ("bias", bias))
    _check_float("group_norm", input)
    _check_params("group_norm", input, params)
    for name, p in params:
        if p is not None and tuple(p._data.shape) != (c,):
            raise mark(RuntimeError(
                f"group_norm: Expected {name} to be a vector of size equal to the number of "
                f"channels in input, but got {name} of shape {list(p.shape)} and input of "
                f"shape {list(input.shape)}"))
    grouped = input.reshape((n, num_groups, c // num_groups) + spatial)
    axes = tuple(range(2, grouped._data.ndim))
    affine = (num_groups, c // num_groups) + (1,) * len(spatial)
    y = _norm.GroupNorm.apply(grouped, weight, bias, axes, eps, affine)[0]
    return y.reshape(input.shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``input / sqrt(mean(input**2) + eps) * weight`` over the trailing ``normalized_shape``
    dims; ``eps`` defaults to the machine epsilon of the input's dtype. Half-precision inputs
    compute in float32."""
    _check_tensor("rms_norm", input, "input", 1)
    shape = _normalized_shape("rms_norm", normalized_shape)
    _check_float("rms_norm", input)
    _check_trailing("rms_norm", input, shape, (("weight", weight),))
    if eps is None:
        eps = _dtype.finfo(input.dtype).eps
    ndim = input._data.ndim
    dims = tuple(range(ndim - len(shape), ndim))
    x = input.float() if input._data.dtype.itemsize == 2 else input
    y = (x * (x.square().mean(dims, keepdim=True) + eps).rsqrt()).to(input.dtype)
    return y if weight is None else y * weight


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each element by ``(k + alpha * mean of squares over a window of `size`
    neighbouring channels) ** beta`` (zero-padded at the ends, as PyTorch's average pool)."""
    from ...ops.shape import pad
    _check_tensor("local_response_norm", input, "input", 1)
    ndim = input._data.ndim
    if ndim < 3:
        raise mark(ValueError(f"local_response_norm: Expected 3D or higher dimensionality "
                              f"input (got {ndim} dimensions)"))
    integer = input._data.dtype not in FLOAT_NP
    if integer and input._data.dtype != np.int64:
        raise mark(NotImplementedError(
            f"local_response_norm: not implemented for {describe(input)} (PyTorch's average "
            f"pooling takes floating point and int64 inputs); convert the input with .float()"))
    if input._data.size == 0:
        return input
    c = input._data.shape[1]
    squares = pad(input * input, (0, 0) * (ndim - 2) + (size // 2, (size - 1) // 2))
    window = squares.narrow(1, 0, c)
    for i in range(1, size):
        window = window + squares.narrow(1, i, c)
    # PyTorch averages through an average pool, which divides integers in integer arithmetic
    mean = window.div(size, rounding_mode="trunc") if integer else window / size
    return input / (mean * alpha + k).pow(beta)

