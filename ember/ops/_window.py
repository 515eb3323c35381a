"""Argument handling shared by the window ops (convolution, pooling, fold/unfold): PyTorch's
int-or-tuple arguments and tensor checks, with messages that name the op."""
import operator

from .._errors import mark
from .._tensor import Tensor


def int_tuple(op, name, value, n):
    """``value`` (an int, or a sequence of 1 or ``n`` ints) as a tuple of ``n`` ints."""
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    try:
        if any(isinstance(v, bool) or isinstance(v, float) for v in items):
            raise TypeError
        items = [operator.index(v) for v in items]
    except TypeError:
        raise mark(TypeError(f"{op}(): argument '{name}' must be an int or a tuple of {n} ints, "
                             f"got {value!r}")) from None
    if len(items) == 1:
        return tuple(items) * n
    if len(items) != n:
        raise mark(RuntimeError(
            f"{op}: expected {name} to be a single integer value or a list of {n} values to "
            f"match the {n}-d input, but got {name}={list(items)}"))
    return tuple(items)


def require_tensor(op, value, name="input", position=1):
    if not isinstance(value, Tensor):
        raise mark(TypeError(f"{op}(): argument '{name}' (position {position}) must be Tensor, "
                             f"not {type(value).__name__}"))


def require_ndim(op, input, d, what="input"):
    """``input`` has ``d`` spatial dims, with or without a batch dim; returns True if batched."""
    ndim = input._data.ndim
    if ndim not in (d + 1, d + 2):
        raise mark(RuntimeError(
            f"{op}: Expected {d + 1}D (unbatched) or {d + 2}D (batched) {what} to {op}, but got "
            f"{what} of size: {list(input.shape)}"))
    return ndim == d + 2

