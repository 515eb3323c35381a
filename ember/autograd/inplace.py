"""Committing an in-place op: ``x.add_(y)``, ``x[i] = v``, ``x += 1``.

The op's result is computed out of place first, so a failing op leaves ``x`` untouched; then it
is written into ``x``'s memory (and so into every view of it), ``x``'s version counter is
bumped, and ``x``'s autograd history is rebased onto the op's node. When ``x`` is a view of a
tensor in a graph, the base's history is rebased instead, through a ``CopySlices`` node that
routes the gradient of the written region to the op and the rest to the base's old history."""
import numpy as np

from .._dtype import can_cast
from .._errors import mark
from .._tensor import Tensor, _new_tensor
from .function import Function
from .grad_mode import GradMode


def check_inplace_allowed(self, op):
    """PyTorch refuses in-place changes to leaves that require grad (and views of them) while
    grad mode is on: the change would be invisible to autograd."""
    if not GradMode.enabled:
        return
    if self._rg and self.grad_fn is None and self._base is None:
        raise mark(RuntimeError(
            f"{op}: a leaf Variable that requires grad is being used in an in-place operation. "
            f"Wrap the update in `with ember.no_grad():` if it is a parameter update, or "
            f"operate on a .clone()."))
    if self._multi_view and self._rg:
        name = self.grad_fn.op_name if self.grad_fn is not None else "the op"
        raise mark(RuntimeError(
            f"{op}: Output {self._output_nr} of {name} is a view and is being modified inplace. "
            f"This view is the output of a function that returns multiple views. Such "
            f"functions do not allow the output views to be modified inplace. You should "
            f"replace the inplace operation by an out-of-place one (or .clone() the view)."))
    base = self._base
    if base is not None and base._rg and base.grad_fn is None:
        raise mark(RuntimeError(
            f"{op}: a view of a leaf Variable that requires grad is being used in an in-place "
            f"operation. Wrap it in `with ember.no_grad():` or clone the leaf first."))


def inplace_source(self, args, kwargs, op):
    """The tensor an in-place op should compute from. When the op will be recorded, that is a
    copy of ``self`` carrying ``self``'s history: the op's node may save its input for
    backward, and ``self``'s memory is about to be overwritten (PyTorch saves the original
    self the same way). Otherwise ``self`` itself."""
    if not GradMode.enabled:
        return self
    if not self._rg and not any(isinstance(a, Tensor) and a._rg
                                for a in (*args, *kwargs.values())):
        return self
    check_inplace_allowed(self, op)
    old = _new_tensor(self._data.copy())
    old.grad_fn, old._output_nr, old._rg = self.grad_fn, self._output_nr, self._rg
    return old


def commit_inplace(self, result, op):
    """Write ``result`` into ``self`` and make ``self``'s history that of ``result``."""
    check_inplace_allowed(self, op)
    sd, rd = self._data, result._data
    if rd.dtype != sd.dtype and not can_cast(result.dtype, self.dtype):
        raise mark(RuntimeError(f"{op}: result type {result.dtype.name} can't be cast to the "
                                f"desired output type {self.dtype.name}"))
    if rd.shape != sd.shape:
        try:
            broadcast = np.broadcast_shapes(rd.shape, sd.shape)
        except ValueError:
            broadcast = None
        if broadcast != sd.shape:
            raise mark(RuntimeError(
                f"{op}: output with shape {list(sd.shape)} doesn't match the broadcast shape "
                f"{list(broadcast) if broadcast else list(rd.shape)}"))
    write_into(self, rd, op)
    self._bump()
    if result._rg and GradMode.enabled:
        rebase_history(self, result)
    return self


def write_into(self, values, op):
    """Copy ``values`` (an array) into ``self``'s memory, with a clear error for memory that
    cannot be written (expanded tensors, read-only NumPy arrays)."""
    try:
        self._data[...] = values
    except ValueError as e:
        if "read-only" in str(e):
            raise mark(RuntimeError(
                f"{op}: unsupported operation: this tensor's memory is read-only or more than "
                f"one element refers to the same memory location (is it the result of "
                f"expand()?). Call .clone() first.")) from None
        raise


def rebase_history(self, result):
    base = self._base
    if base is None:
        self.grad_fn = result.grad_fn
        self._output_nr = result._output_nr
        self._rg = True
        return
    index = view_positions(base._data, self._data)
    new_base = CopySlices.apply(base, result, index)
    base.grad_fn, base._output_nr, base._rg = new_base.grad_fn, 0, True
    view = TakeFlat.apply(base, index)
    self.grad_fn, self._output_nr, self._rg = view.grad_fn, 0, True
    self._view_version = self._vc[0]


def refresh_view(view):
    """A view whose memory changed through its base or a sibling view since its history was
    recorded gets a new history, read from the base's current one (PyTorch regenerates such a
    view's grad_fn the same way)."""
    view._view_version = view._vc[0]
    base = view._base
    if not (GradMode.enabled and base._rg):
        return
    fresh = TakeFlat.apply(base, view_positions(base._data, view._data))
    view.grad_fn, view._output_nr, view._rg = fresh.grad_fn, 0, True


def view_positions(base, view):
    """For each element of ``view`` (an array viewing ``base``'s memory), the flat index of the
    element of ``base`` it sits on."""
    xp = np if type(base) is np.ndarray else __import__("cupy")

    def offsets(arr):
        off = xp.zeros(arr.shape, dtype=np.int64)
        for axis, (n, stride) in enumerate(zip(arr.shape, arr.strides)):
            shape = [1] * arr.ndim
            shape[axis] = n
            off = off + (xp.arange(n, dtype=np.int64) * stride).reshape(shape)
        return off

    base_ptr = _ptr(base)
    start = (_ptr(view) - base_ptr)
    if base.flags.c_contiguous:  # a flat index is the byte offset over the item size
        return (offsets(view) + start) // base.itemsize
    base_off = offsets(base).reshape(-1)
    order = xp.argsort(base_off)
    view_off = offsets(view) + start
    pos = xp.searchsorted(base_off[order], view_off)
    return order[pos]


def _ptr(arr):
    return arr.__array_interface__["data"][0] if type(arr) is np.ndarray else arr.data.ptr


class CopySlices(Function):
    """The new history of a base after an in-place op on one of its views: the view's region
    now comes from the op's result, the rest from the base's old history."""
    _raw = True
    op_name = "copy_slices"

    @staticmethod
    def forward(ctx, base, result, index):
        ctx.index = index
        ctx.shape = base.shape
        return base  # the memory already holds the new values

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        keep = xp.ones(grad.numel(), dtype=grad._data.dtype)
        keep[ctx.index.reshape(-1)] = 0
        grad_base = grad * _new_tensor(keep.reshape(ctx.shape))
        return grad_base, TakeFlat.apply(grad, ctx.index), None


class TakeFlat(Function):
    """``x.reshape(-1)[index]`` for an integer array ``index`` of distinct positions."""
    _raw = True
    op_name = "take"

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.shape = index, x.shape
        return x.reshape(-1)[index]

    @staticmethod
    def backward(ctx, grad):
        return PutFlat.apply(grad, ctx.index, ctx.shape), None


class PutFlat(Function):
    """A tensor of shape ``shape``, zero except at flat positions ``index`` (distinct), which
    take the values of ``x``; the adjoint of TakeFlat."""
    _raw = True
    op_name = "put"

    @staticmethod
    def forward(ctx, x, index, shape):
        ctx.index = index
        out = ctx.xp.zeros(int(np.prod(shape)), dtype=x.dtype)
        out[index.reshape(-1)] = x.reshape(-1)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return TakeFlat.apply(grad, ctx.index), None, None

