"""nn.functional dropout: dropout, dropout1d/2d/3d (whole channels), alpha_dropout and
feature_alpha_dropout (which keep SELU's zero mean and unit variance).

The random mask is drawn from the default generator of the input's device (so
``ember.manual_seed`` makes it reproducible) and applied with one multiplication, whose
backward is the same multiplication. As in PyTorch, ``p=0``, eval mode and empty inputs return
the input itself, and ``p=1`` returns ``input * 0``."""
import math
import warnings

from ..._errors import mark, describe
from ..._tensor import Tensor, _new_tensor
from ...ops._promote import FLOAT_NP
from ...random import _source, _unit_uniform

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
           "feature_alpha_dropout"]

_SELU_ALPHA = 1.7580993408473766  # SELU's scale * alpha: the value dropped units take


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise mark(ValueError(f"dropout probability has to be between 0 and 1, but got {p}"))


def _keep(input, p, shape, op):
    """A 0/1 array of ``shape`` (in the input's dtype): 1 with probability 1 - p. Always an
    array, also for a 0-d shape (where NumPy's comparison gives a scalar), so that callers can
    scale it in place."""
    if input._data.dtype not in FLOAT_NP:
        raise mark(RuntimeError(f"{op}: expected a floating point input in training mode, got "
                                f"{describe(input)}; convert it with .float()"))
    u = _unit_uniform(_source(None, input.device, op), shape, input.dtype)
    return input._xp().asarray(u >= p, dtype=input._data.dtype)


def _feature_shape(input, op):
    if input.ndim < 2:
        raise mark(RuntimeError(f"{op}: Feature dropout requires at least 2 dimensions in the "
                                f"input, got {describe(input)}"))
    return tuple(input.shape[:2]) + (1,) * (input.ndim - 2)


def _apply(input, p, training, inplace, alpha, feature, op):
    if not isinstance(input, Tensor):
        raise mark(TypeError(f"{op}(): argument 'input' (position 1) must be Tensor, not "
                             f"{type(input).__name__}"))
    if p == 0 or not training or input._data.size == 0:
        return input
    if p == 1:
        zero = input.new_zeros(())
        return input.mul_(zero) if inplace else input * zero
    shape = _feature_shape(input, op) if feature else input._data.shape
    keep = _keep(input, p, shape, op)
    dt = keep.dtype.type
    # the arrays are scaled in place: a 0-d array stays an array that way
    if not alpha:
        keep *= dt(1 / (1 - p))
        scale = _new_tensor(keep)
        return input.mul_(scale) if inplace else input * scale
    # shift = a * _SELU_ALPHA * (keep + p - 1): dropped units (scale 0) end at a * _SELU_ALPHA *
    # (p - 1), kept ones at a * x + a * _SELU_ALPHA * p
    a = 1 / math.sqrt((_SELU_ALPHA ** 2 * p + 1) * (1 - p))
    shift = keep.copy()
    shift += dt(p - 1)
    shift *= dt(_SELU_ALPHA * a)
    keep *= dt(a)
    scale = _new_tensor(keep)
    shift = _new_tensor(shift)
    if inplace:
        return input.mul_(scale).add_(shift)
    return input * scale + shift


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p)."""
    _check_p(p)
    return _apply(input, p, training, inplace, False, False, "dropout")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units take SELU's negative saturation value and an
    affine correction keeps the mean and variance."""
    _check_p(p)
    return _apply(input, p, training, inplace, True, False, "alpha_dropout")


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """alpha_dropout of whole channels (dim 1)."""
    _check_p(p)
    return _apply(input, p, training, inplace, True, True, "feature_alpha_dropout")


def _channel_dropout(input, p, training, inplace, batched, op):
    """Channel dropout; an unbatched input is given a batch dim of 1 for the duration."""
    if batched:
        return _apply(input, p, training, inplace, False, True, op)
    if inplace:
        _apply(input.unsqueeze(0), p, training, True, False, True, op)
        return input
    return _apply(input.unsqueeze(0), p, training, False, False, True, op).squeeze(0)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise mark(RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            f"dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            f"inputs)."))
    return _channel_dropout(input, p, training, inplace, input.ndim == 3, "dropout1d")


def _warn_dims(op, ndim, spatial):
    warnings.warn(
        f"{op}: Received a {ndim}-D input to {op}, which is deprecated and will result in an "
        f"error in a future release. To retain the behavior and silence this warning, please "
        f"use dropout instead. Note that {op} exists to provide channel-wise dropout on inputs "
        f"with {spatial} spatial dimensions, a channel dimension, and an optional batch "
        f"dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs (3-D inputs are taken as (N, C, L), as in
    PyTorch)."""
    _check_p(p)
    if input.ndim not in (3, 4):
        _warn_dims("dropout2d", input.ndim, 2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _apply(input, p, training, inplace, False, True, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs."""
    _check_p(p)
    if input.ndim not in (4, 5):
        _warn_dims("dropout3d", input.ndim, 3)
    return _channel_dropout(input, p, training, inplace, input.ndim == 5, "dropout3d")

