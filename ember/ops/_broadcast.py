"""Broadcasting: ``sum_to`` reduces a gradient to the shape of the input it belongs to (the one
helper every broadcasting op's backward uses), ``broadcast_to`` is its adjoint."""
from .._errors import mark
from ..autograd.function import Function


def broadcast_shape(*shapes):
    """The shape ``shapes`` broadcast to, or a RuntimeError naming the first mismatch."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for s in shapes:
        for i, n in enumerate(s, ndim - len(s)):
            if n != out[i]:
                if out[i] == 1:
                    out[i] = n
                elif n != 1:
                    raise mark(RuntimeError(
                        f"The size of tensor a ({out[i]}) must match the size of tensor b ({n}) "
                        f"at non-singleton dimension {i}"))
    return tuple(out)


def _reduced_axes(from_shape, to_shape):
    lead = len(from_shape) - len(to_shape)
    if lead < 0:
        return None
    axes = list(range(lead))
    for i, n in enumerate(to_shape):
        m = from_shape[lead + i]
        if n == 1 and m != 1:
            axes.append(lead + i)
        elif n != m:
            return None
    return tuple(axes)


class SumTo(Function):
    _raw = True
    op_name = "sum_to"

    @staticmethod
    def forward(ctx, x, shape):
        axes = _reduced_axes(x.shape, shape)
        if axes is None:
            raise mark(RuntimeError(f"sum_to: shape {tuple(x.shape)} cannot be summed to "
                                    f"shape {tuple(shape)}"))
        ctx.in_shape = x.shape
        return x.sum(axis=axes).reshape(shape) if axes else x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return broadcast_to(grad, ctx.in_shape), None


class BroadcastTo(Function):
    _raw = True
    _view = True
    op_name = "broadcast_to"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return sum_to(grad, ctx.in_shape), None


def sum_to(t, shape):
    """``t`` summed over the dimensions that broadcasting added or stretched to reach its shape
    from ``shape``."""
    shape = tuple(shape)
    if t._data.shape == shape:
        return t
    return SumTo.apply(t, shape)


def broadcast_to(t, shape):
    shape = tuple(shape)
    if t._data.shape == shape:
        return t
    return BroadcastTo.apply(t, shape)
