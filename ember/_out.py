"""``out=`` arguments: the result is written into a given tensor, as in PyTorch."""
from ._dtype import can_cast
from ._errors import mark
from .autograd.grad_mode import GradMode


def write_out(out, result):
    """Write ``result`` into ``out``; an ``out`` of another shape is resized (its old contents
    are discarded, as PyTorch does)."""
    from ._tensor import Tensor
    if not isinstance(out, Tensor):
        raise mark(TypeError(f"out= must be a Tensor, got {type(out).__name__}"))
    if GradMode.enabled and (result._rg or out._rg):
        raise mark(RuntimeError(
            "out=... arguments don't support automatic differentiation, but one of the "
            "arguments requires grad. Call the op without out= or inside ember.no_grad()."))
    if not can_cast(result.dtype, out.dtype):
        raise mark(RuntimeError(f"result type {result.dtype.name} can't be cast to the desired "
                                f"output type {out.dtype.name}"))
    if out.device != result.device:
        raise mark(RuntimeError(f"out= tensor is on {out.device} but the result is on "
                                f"{result.device}"))
    if not out._data.flags.writeable:
        raise mark(RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location (out= is an expanded or read-only tensor). Please clone() "
            "the tensor before performing the operation."))
    if out._data.shape != result._data.shape:
        if out._data.size:
            import warnings
            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out._data.shape)}, which does not match the required output "
                          f"shape {list(result._data.shape)}.", UserWarning, stacklevel=3)
        out._data = result._data.astype(out._data.dtype, copy=True)
    else:
        out._data[...] = result._data
    out._bump()
    return out


def honor_out(result, out):
    """``result``, or ``result`` written into ``out`` when the caller passed ``out=``."""
    return result if out is None else write_out(out, result)

