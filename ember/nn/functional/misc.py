"""nn.functional helpers: normalize, one_hot, and pad (``ember.pad``, the same function)."""
import numpy as np

from ..._errors import mark, describe
from ..._tensor import Tensor, _new_tensor
from ...linalg import vector_norm
from ...ops.shape import pad

__all__ = ["normalize", "one_hot", "pad"]


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """``input / max(||input||_p, eps)`` along ``dim``."""
    if not isinstance(input, Tensor):
        raise mark(TypeError(f"normalize(): argument 'input' (position 1) must be Tensor, not "
                             f"{type(input).__name__}"))
    denom = vector_norm(input, p, dim=dim, keepdim=True).clamp_min(eps).expand_as(input)
    if out is None:
        return input / denom
    from ...ops.elementwise import div
    return div(input, denom, out=out)


def one_hot(tensor, num_classes=-1):
    """An int64 tensor of shape ``tensor.shape + (num_classes,)`` with a 1 at each class index
    (``num_classes=-1``: one more than the largest index)."""
    if not isinstance(tensor, Tensor) or tensor._data.dtype != np.int64:
        raise mark(RuntimeError(f"one_hot is only applicable to index tensor of type LongTensor "
                                f"(got {describe(tensor)}); convert it with .long()"))
    idx = tensor._data
    xp = tensor._xp()
    if num_classes == -1:
        if idx.size == 0:
            raise mark(RuntimeError("Can not infer total number of classes from empty tensor."))
        num_classes = int(idx.max()) + 1
    if idx.size:
        if int(idx.min()) < 0:
            raise mark(RuntimeError(f"Class values must be non-negative. (one_hot got "
                                    f"{int(idx.min())})"))
        if int(idx.max()) >= num_classes:
            raise mark(RuntimeError(f"Class values must be smaller than num_classes. (one_hot got "
                                    f"{int(idx.max())} for num_classes={num_classes})"))
    return _new_tensor((idx[..., None] == xp.arange(num_classes)).astype(np.int64))
