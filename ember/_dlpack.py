"""DLPack interop: ``ember.from_dlpack``, ``ember.to_dlpack``, ``Tensor.__dlpack__`` and
``Tensor.__dlpack_device__``. Tensors are exchanged without copying with anything that speaks
DLPack (NumPy, PyTorch, CuPy, JAX ...): the work is done by NumPy's and CuPy's own DLPack
support, on the tensor's array."""
import numpy as np

from ._errors import mark
from ._tensor import Tensor, _new_tensor
from .ops._registry import public, public_method

_CPU, _CUDA = 1, 2  # DLPack device types (kDLCPU, kDLCUDA)


def _array(t, op):
    if t._rg:
        raise mark(RuntimeError(f"{op}: Can't export tensors that require gradient, use "
                                f"tensor.detach()"))
    arr = t._data
    if arr.dtype.kind not in "biufc":
        raise mark(BufferError(f"{op}: DLPack can't carry {t.dtype} through NumPy/CuPy; "
                               f"convert the tensor first, e.g. t.float()"))
    return arr


@public_method("__dlpack__")
def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
    """A DLPack capsule viewing this tensor's memory (``stream``: the consumer's CUDA stream,
    which the export is ordered before)."""
    arr = _array(self, "__dlpack__")
    kwargs = {} if max_version is None else {"max_version": max_version}
    if dl_device is not None:
        kwargs["dl_device"] = dl_device
    if copy is not None:
        kwargs["copy"] = copy
    if type(arr) is np.ndarray:
        if stream is not None:
            raise mark(BufferError(f"__dlpack__: stream must be None for a CPU tensor, got "
                                   f"{stream!r}"))
        return arr.__dlpack__(**kwargs)
    return arr.__dlpack__(stream=stream, **kwargs)


@public_method("__dlpack_device__")
def __dlpack_device__(self):
    """``(device_type, device_index)`` in DLPack's codes: (1, 0) for the CPU, (2, i) for
    cuda:i."""
    d = self._data
    return (_CPU, 0) if type(d) is np.ndarray else (_CUDA, d.device.id)


@public(method=False)
def to_dlpack(tensor):
    """A DLPack capsule (the legacy, unversioned kind) viewing ``tensor``'s memory."""
    if not isinstance(tensor, Tensor):
        raise mark(TypeError(f"to_dlpack: expected a Tensor, got {type(tensor).__name__}"))
    return _array(tensor, "to_dlpack").__dlpack__()


@public(method=False)
def from_dlpack(ext_tensor):
    """A tensor sharing memory with ``ext_tensor``: any object with ``__dlpack__`` (a NumPy,
    PyTorch, CuPy or JAX array ...) or a DLPack capsule."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor)
    elif not hasattr(ext_tensor, "__dlpack__"):
        raise mark(TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack "
                             f"capsule, got {type(ext_tensor).__name__}"))
    kind, index = ext_tensor.__dlpack_device__()
    try:
        if kind == _CPU:
            arr = np.from_dlpack(ext_tensor)
            if isinstance(ext_tensor, _Capsule) and not arr.flags.writeable:
                arr = np.asarray(_WritableAlias(arr))  # legacy capsules carry no read-only flag
        elif kind == _CUDA:
            from .backend import cupy
            cp = cupy()
            with cp.cuda.Device(index):
                arr = cp.from_dlpack(ext_tensor)
        else:
            raise mark(RuntimeError(f"from_dlpack: unsupported DLPack device type {kind}; "
                                    f"ember tensors live on the CPU or CUDA GPUs"))
    except (BufferError, RuntimeError, TypeError) as e:
        if getattr(e, "_ember", False):
            raise
        raise mark(RuntimeError(f"from_dlpack: can't import {type(ext_tensor).__name__} ({e}); "
                                f"ember supports bool, integer, float16/32/64 and complex "
                                f"data")) from None
    return _new_tensor(arr)


class _Capsule:
    """A bare DLPack capsule dressed as an object with ``__dlpack__``."""

    def __init__(self, capsule):
        self.capsule = capsule

    def __dlpack__(self, **kwargs):
        return self.capsule

    def __dlpack_device__(self):
        import ctypes
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        # The DLTensor {void *data; DLDevice {int32 type; int32 id}; ...} starts the legacy
        # DLManagedTensor, and follows version, manager_ctx, deleter and flags in the versioned.
        for name, start in ((b"dltensor", 0), (b"dltensor_versioned", 32)):
            try:
                ptr = get(self.capsule, name)
            except ValueError:
                continue
            device = (ctypes.c_int32 * 2).from_address(ptr + start + ctypes.sizeof(ctypes.c_void_p))
            return device[0], device[1]
        raise mark(RuntimeError("from_dlpack: the capsule is not an unused DLPack capsule (was it "
                                "consumed already?)"))


class _WritableAlias:
    """Presents a read-only array's memory as writable, keeping the array (and so the
    exporter's memory) alive."""

    def __init__(self, arr):
        self.arr = arr
        interface = dict(arr.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        self.__array_interface__ = interface
