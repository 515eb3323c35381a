"""Moving tensors between dtypes and devices: ``to``, ``cpu``, ``cuda``, ``float`` ..."""
import numpy as np

from .. import _dtype
from .._device import as_device, device_of_array
from .._errors import mark
from .._tensor import Tensor
from ..autograd.function import Function
from ..backend import move, resolve
from ._registry import public, public_method


class Cast(Function):
    _raw = True
    op_name = "to"

    @staticmethod
    def forward(ctx, x, np_dtype):
        ctx.in_dtype = x.dtype
        if x.dtype.kind == "c" and np.dtype(np_dtype).kind not in "cb":
            x = x.real  # PyTorch discards the imaginary part (to bool: nonzero, as NumPy)
        return x.astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        src = ctx.in_dtype
        if grad._data.dtype == src:
            return grad, None
        if grad._data.dtype.kind == "c" and src.kind != "c":
            grad = grad.real
        return Cast.apply(grad, src), None


class ToDevice(Function):
    _raw = True
    op_name = "to"

    @staticmethod
    def forward(ctx, x, dev):
        ctx.src = device_of_array(x)
        return move(x, dev)

    @staticmethod
    def backward(ctx, grad):
        return ToDevice.apply(grad, ctx.src), None


def _parse_to_args(self, args, kwargs):
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    non_blocking = kwargs.pop("non_blocking", False)
    copy = kwargs.pop("copy", False)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise mark(TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}"))
    rest = list(args)
    if rest and isinstance(rest[0], Tensor):
        other = rest.pop(0)
        dev, dtype = other.device, other.dtype
    elif rest and (isinstance(rest[0], (str, int)) and not isinstance(rest[0], bool)
                   or type(rest[0]).__name__ == "device"):
        dev = rest.pop(0)
    if rest and not isinstance(rest[0], bool):
        dtype = rest.pop(0)
    if rest:
        non_blocking = rest.pop(0)
    if rest:
        copy = rest.pop(0)
    del non_blocking
    return (as_device(dev) if dev is not None else None,
            _dtype.as_dtype(dtype) if dtype is not None else None, copy)


@public_method("to")
def to(self, *args, **kwargs):
    """``x.to(dtype)``, ``x.to(device)``, ``x.to(device, dtype)``, ``x.to(other)``; returns
    ``x`` itself when nothing changes (unless ``copy=True``)."""
    dev, dtype, copy = _parse_to_args(self, args, kwargs)
    out = self
    if dev is not None:
        dev = resolve(dev)
        if dev != self.device:
            out = ToDevice.apply(out, dev)
    if dtype is not None and out._data.dtype is not dtype.np:
        out = Cast.apply(out, dtype.np)
    if copy and out is self:
        out = self.clone()
    return out


@public_method("cpu")
def cpu(self, memory_format=None):
    return to(self, "cpu")


@public_method("cuda")
def cuda(self, device=None, non_blocking=False, memory_format=None):
    if device is None:
        device = "cuda"
    elif isinstance(device, int):
        device = f"cuda:{device}"
    return to(self, device)


def _caster(dtype):
    def method(self, memory_format=None):
        return to(self, dtype)
    return method


for _name, _dt in {"float": _dtype.float32, "double": _dtype.float64, "half": _dtype.float16,
                   "bfloat16": _dtype.bfloat16, "long": _dtype.int64, "int": _dtype.int32,
                   "short": _dtype.int16, "char": _dtype.int8, "byte": _dtype.uint8,
                   "bool": _dtype.bool, "cfloat": _dtype.complex64,
                   "cdouble": _dtype.complex128}.items():
    public_method(_name)(_caster(_dt))


@public_method("type_as")
def type_as(self, other):
    return to(self, other.dtype)


@public(method=False)
def is_tensor(obj):
    return isinstance(obj, Tensor)


__all__ = ["Cast", "ToDevice", "to"]
