"""Storages and the tensors that view them, shared by every checkpoint format.

A storage is a 1-D uint8 array (the saved bytes) placed on a device following ``map_location``;
tensors are strided views of it, so tensors that shared memory when saved share it again after
loading."""
import numpy as np

from .._device import device as Device
from .._errors import mark
from .._tensor import Tensor, _new_tensor
from ..backend import move, xp_of


def placement(map_location, op="ember.load"):
    """``place(raw, location) -> array``: the storage ``raw`` (host uint8) moved where
    ``map_location`` sends a storage saved on ``location`` ('cpu', 'cuda:0', ...).

    ``map_location`` is None (back where it was saved), a device or device string, a dict
    from saved location to target, or ``fn(storage, location)`` returning the storage moved
    (``storage.cuda(1)``; the storage is a uint8 tensor) or None for the default."""
    if map_location is None:
        return restore
    if isinstance(map_location, dict):
        mapping = {str(k): str(v) for k, v in map_location.items()}
        return lambda raw, location: restore(raw, mapping.get(location, location))
    if isinstance(map_location, (str, Device)) or type(map_location).__name__ == "device":
        target = str(map_location)  # also accepts a torch.device
        return lambda raw, location: restore(raw, target)
    if callable(map_location):
        def place(raw, location):
            result = map_location(_new_tensor(raw), location)
            if result is None:
                return restore(raw, location)
            if (not isinstance(result, Tensor) or result._data.dtype != np.uint8
                    or result._data.shape != raw.shape):
                raise mark(TypeError(
                    f"{op}: map_location(storage, location) must return the storage it was "
                    f"given (a uint8 tensor of {raw.size} bytes), possibly moved to another "
                    f"device, or None; it returned {type(result).__name__}"))
            return result._data
        return place
    raise TypeError(f"{op}: map_location must be None, a device, a string like 'cpu' or "
                    f"'cuda:0', a dict or a callable, got {type(map_location).__name__}")


def restore(raw, location):
    """``raw`` on the device named ``location``."""
    try:
        dev = Device(location)
    except (RuntimeError, TypeError):
        raise RuntimeError(
            f"ember.load: the checkpoint holds tensors saved on device {location!r}, which "
            f"ember does not support; load them to the CPU with map_location='cpu'") from None
    if dev.type == "cpu":
        return raw
    if not _cuda_available():
        raise RuntimeError(
            f"ember.load: the checkpoint holds tensors saved on {location}, but CUDA is not "
            f"available. If you are running on a CPU-only machine, use ember.load(f, "
            f"map_location='cpu') to map your storages to the CPU.")
    return move(raw, dev)


def _cuda_available():
    from .. import cuda
    return cuda.is_available()


def view(raw, dtype, offset, shape, stride, where):
    """The tensor data ``(shape, stride)`` of ``dtype`` (a NumPy dtype) starting ``offset``
    elements into storage ``raw``, sharing its memory. ``where`` names it in errors."""
    xp = xp_of(raw)
    if 0 in shape:
        return xp.empty(shape, dtype)
    item = dtype.itemsize
    extent = 1 + sum((n - 1) * s for n, s in zip(shape, stride))  # elements spanned
    begin, end = offset * item, (offset + extent) * item
    if (offset < 0 or min(stride, default=0) < 0 or len(stride) != len(shape)
            or end > raw.size):
        raise RuntimeError(
            f"ember.load: {where} is corrupt: a tensor of shape {list(shape)} with stride "
            f"{list(stride)} at offset {offset} does not fit in its storage of {raw.size} "
            f"bytes")
    flat = raw[begin:end].view(dtype)
    return xp.lib.stride_tricks.as_strided(flat, tuple(shape), tuple(s * item for s in stride))


def make_tensor(arr, requires_grad=False, parameter=False):
    """A leaf tensor on ``arr``, as a ``Parameter`` if it was one when saved."""
    t = _new_tensor(arr)
    if parameter:
        from ..nn.parameter import Parameter
        return Parameter(t, requires_grad=bool(requires_grad))
    if requires_grad:
        t.requires_grad_(True)
    return t
