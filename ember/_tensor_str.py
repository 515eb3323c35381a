"""The printed form of tensors, modeled on PyTorch's: ``tensor([[1., 2.]], requires_grad=True)``."""
import numpy as np


def tensor_repr(t):
    arr = t._data if type(t._data) is np.ndarray else t._data.get()
    if arr.dtype.kind not in "biufc":
        arr = arr.astype(np.float32)
    body = np.array2string(arr, separator=", ", prefix="tensor(",
                           formatter=None, threshold=1000, edgeitems=3)
    extras = []
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    from . import _dtype
    if t.dtype not in (_dtype._Defaults.float, _dtype.int64, _dtype.bool, _dtype.complex64):
        extras.append(f"dtype={t.dtype}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"
