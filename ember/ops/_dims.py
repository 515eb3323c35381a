"""Normalizing ``dim`` arguments the way PyTorch accepts them."""
import operator

from .._errors import mark, wrap_dim


def normalize_dims(op, dim, ndim):
    """``dim`` (None, an int, or a sequence of ints) as a sorted tuple of non-negative axes;
    None means every axis."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        axes = tuple(wrap_dim(op, _as_int(op, d), ndim) for d in dim)
        if len(set(axes)) != len(axes):
            dup = next(a for a in axes if axes.count(a) > 1)
            raise mark(RuntimeError(f"{op}: dim {dup} appears multiple times in the list of "
                                    f"dims"))
        if ndim == 0:
            return ()
        return tuple(sorted(axes))
    axis = wrap_dim(op, _as_int(op, dim), ndim)
    return () if ndim == 0 else (axis,)


def normalize_dim(op, dim, ndim):
    """One ``dim`` made non-negative (0-d tensors accept 0 and -1)."""
    return wrap_dim(op, _as_int(op, dim), ndim)


def _as_int(op, d):
    try:
        return operator.index(d)
    except TypeError:
        raise mark(TypeError(f"{op}: dim must be an int, got {type(d).__name__} ({d!r})")) \
            from None


def as_shape(op, args):
    """Sizes given as ``f(2, 3)``, ``f((2, 3))`` or ``f([2, 3])`` (or an ember.Size) as a tuple
    of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = args[0]
    elif len(args) == 1 and hasattr(args[0], "tolist") and not isinstance(args[0], int):
        args = args[0].tolist()
        if isinstance(args, int):
            args = (args,)
    try:
        return tuple(operator.index(s) for s in args)
    except TypeError:
        raise mark(TypeError(f"{op}: sizes must be ints, got {args!r}")) from None
