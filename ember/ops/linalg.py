"""Matrix products (matmul, mm, bmm, ...); ``ember.linalg`` builds on these."""
from .._errors import mark, describe
from .._tensor import Tensor
from ..autograd.function import Function
from ._broadcast import sum_to
from ._registry import public, public_method


class Matmul(Function):
    """Matrix product of operands with at least 2 dims (batch dims broadcast)."""
    _raw = True
    op_name = "matmul"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return ctx.xp.matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx, gy = ctx._edges
        return (sum_to(matmul(grad, y.mT.conj() if y.is_complex() else y.mT), x.shape)
                if gx else None,
                sum_to(matmul(x.mT.conj() if x.is_complex() else x.mT, grad), y.shape)
                if gy else None)


def _check_matmul(op, a, b):
    if not isinstance(a, Tensor) or not isinstance(b, Tensor):
        raise mark(TypeError(f"{op}: expected Tensors, got {describe(a)} and {describe(b)}"))
    if a._data.ndim == 0 or b._data.ndim == 0:
        raise mark(RuntimeError(f"{op}: both arguments to matmul need to be at least 1D, but "
                                f"they are {a._data.ndim}D and {b._data.ndim}D"))
    if a._data.dtype is not b._data.dtype:
        raise mark(RuntimeError(f"{op}: expected both operands to have the same dtype, but got "
                                f"{a.dtype.name} != {b.dtype.name}; cast one with .to()"))
    ka = a._data.shape[-1]
    kb = b._data.shape[-2] if b._data.ndim > 1 else b._data.shape[0]
    if ka != kb:
        sa = "x".join(map(str, a._data.shape))
        sb = "x".join(map(str, b._data.shape))
        raise mark(RuntimeError(f"{op}: mat1 and mat2 shapes cannot be multiplied ({sa} and "
                                f"{sb})"))


@public
def matmul(input, other, *, out=None):
    _check_matmul("matmul", input, other)
    a, b = input, other
    if a._data.ndim == 1 and b._data.ndim == 1:
        result = Matmul.apply(a.unsqueeze(0), b.unsqueeze(-1)).reshape(())
    elif a._data.ndim == 1:
        result = Matmul.apply(a.unsqueeze(0), b).squeeze(-2)
    elif b._data.ndim == 1:
        result = Matmul.apply(a, b.unsqueeze(-1)).squeeze(-1)
    else:
        result = Matmul.apply(a, b)
    if out is not None:
        from .._out import write_out
        return write_out(out, result)
    return result


public_method("__matmul__")(matmul)


@public_method("__rmatmul__")
def _rmatmul(self, other):
    return matmul(other, self)


@public
def mm(input, mat2, *, out=None):
    if input.ndim != 2 or mat2.ndim != 2:
        raise mark(RuntimeError(f"mm: self must be a matrix and mat2 must be a matrix, got "
                                f"{describe(input)} and {describe(mat2)}"))
    return matmul(input, mat2, out=out)


@public
def bmm(input, mat2, *, out=None):
    if input.ndim != 3 or mat2.ndim != 3:
        raise mark(RuntimeError(f"bmm: batch1 must be a 3D tensor and batch2 must be a 3D "
                                f"tensor, got {describe(input)} and {describe(mat2)}"))
    if input.shape[0] != mat2.shape[0]:
        raise mark(RuntimeError(f"bmm: batch1 and batch2 must have same number of batches, got "
                                f"{input.shape[0]} and {mat2.shape[0]}"))
    return matmul(input, mat2, out=out)
