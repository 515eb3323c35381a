"""Errors that say what is wrong and how to fix it.

Ops raise PyTorch's exception types (RuntimeError, IndexError, TypeError, ValueError). A message
starts with the op's name and names the shapes, dtypes and devices involved. An exception that
escapes an op's forward from NumPy or CuPy is translated here, so that no array-library
traceback reaches the user."""
import numpy as np


def describe(x):
    """``float32[2, 3] on cpu`` for a tensor, ``repr`` for anything else."""
    from ._tensor import Tensor
    if isinstance(x, Tensor):
        return f"{x.dtype.name}{list(x._data.shape)} on {x.device}"
    if isinstance(x, (list, tuple)) and len(x) <= 6:
        inner = ", ".join(describe(v) for v in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner})"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_args(args, kwargs=None):
    parts = [describe(a) for a in args]
    if kwargs:
        parts += [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


class LinAlgError(RuntimeError):
    """``ember.linalg.LinAlgError``: a matrix was singular, not positive-definite, ..."""


def _is_ours(e, op):
    return bool(e.args) and isinstance(e.args[0], str) and (
        e.args[0].startswith(op + ":") or getattr(e, "_ember", False))


def mark(e):
    """Flag an exception as carrying an ember-written message."""
    e._ember = True
    return e


def from_forward(op, args, kwargs, e):
    """The exception to raise for ``e``, raised inside the forward of op ``op``."""
    from ._tensor import Tensor
    if _is_ours(e, op) or isinstance(e, MemoryError):
        return e
    text = str(e)
    where = describe_args(args, kwargs)
    if isinstance(e, np.linalg.LinAlgError) or type(e).__name__ == "LinAlgError":
        return mark(LinAlgError(f"{op}: {text} (inputs: {where})"))
    if "broadcast" in text:
        shapes = [tuple(a.shape) for a in args if isinstance(a, Tensor)]
        return mark(RuntimeError(f"{op}: shapes {', '.join(map(str, shapes))} cannot be "
                                 f"broadcast together (inputs: {where}). Two sizes are "
                                 f"compatible when they are equal or one of them is 1."))
    if type(e).__name__ == "AxisError":
        return mark(IndexError(f"{op}: Dimension out of range: {text} (inputs: {where})"))
    if isinstance(e, IndexError):
        return mark(IndexError(f"{op}: {text} (inputs: {where})"))
    if isinstance(e, TypeError):
        return mark(TypeError(f"{op}: {text} (inputs: {where})"))
    if isinstance(e, (ValueError, ArithmeticError)):
        return mark(RuntimeError(f"{op}: {text} (inputs: {where})"))
    if isinstance(e, (RuntimeError, NotImplementedError)):
        return mark(type(e)(f"{op}: {text} (inputs: {where})"))
    return e


def fix_mixed_devices(op, args):
    """Arguments on different devices: a 0-d CPU tensor joins the others (as in PyTorch, it is
    a scalar); anything else is an error naming each argument's device."""
    from ._tensor import Tensor
    devices = [a.device for a in args if isinstance(a, Tensor)]
    accel = [d for d in devices if d.type != "cpu"]
    if accel and all(d == accel[0] for d in accel):
        target = accel[0]
        fixed = []
        for a in args:
            if isinstance(a, Tensor) and a.device != target:
                if a._data.ndim != 0:
                    break
                a = a.to(target)
            fixed.append(a)
        else:
            return tuple(fixed)
    found = sorted({str(d) for d in devices})
    raise mark(RuntimeError(
        f"{op}: Expected all tensors to be on the same device, but found at least two devices, "
        f"{' and '.join(found)}! (arguments: {describe_args(args)}). Move them to one device "
        f"first, e.g. with .to({found[0]!r})."))


def raise_modified_inplace(node, tensor, current, expected, output_nr=None):
    what = f"output {output_nr} of {node.name()}" if output_nr is not None else \
        ("a leaf" if tensor.grad_fn is None else f"output {tensor._output_nr} of "
         f"{tensor.grad_fn.name()}")
    raise mark(RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{describe(tensor)}], which is {what}, is at version {current}; expected "
        f"version {expected} instead. Hint: the op that saved it is {node.op_name}; replace the "
        f"in-place op that changed it afterwards (x.add_(...), x[...] = ..., x += ...) by its "
        f"out-of-place form, or .clone() the tensor before changing it."))


def check_user_grads(node, grads):
    """Gradients a user Function returned must match its inputs' shapes (broadcast ones are
    summed down, as in PyTorch)."""
    from .ops._broadcast import sum_to
    fixed = []
    for i, (g, shape) in enumerate(zip(grads, node._in_meta)):
        if g is not None and shape is not None and g.shape != shape:
            try:
                g = sum_to(g, shape)
            except RuntimeError:
                raise mark(RuntimeError(
                    f"Function {node.name()} returned an invalid gradient at index {i} - got "
                    f"{list(g.shape)} but expected shape compatible with {list(shape)}")) from None
        fixed.append(g)
    return tuple(fixed)


def grad_shape_for_leaf(t, g):
    from .ops._broadcast import sum_to
    try:
        return sum_to(g, t.shape)
    except RuntimeError:
        raise mark(RuntimeError(
            f"backward: the gradient for a leaf of shape {list(t.shape)} has shape "
            f"{list(g.shape)}")) from None


def dim_out_of_range(op, dim, ndim):
    n = max(ndim, 1)
    return mark(IndexError(f"{op}: Dimension out of range (expected to be in range of "
                           f"[{-n}, {n - 1}], but got {dim})"))


def wrap_dim(op, dim, ndim):
    """``dim`` made non-negative, or an IndexError naming ``op``."""
    n = ndim if ndim > 0 else 1
    try:
        if -n <= dim < n:
            return dim + n if dim < 0 else dim
    except TypeError:
        raise mark(TypeError(f"{op}: dim must be an int, got {type(dim).__name__}")) from None
    raise dim_out_of_range(op, dim, ndim)
