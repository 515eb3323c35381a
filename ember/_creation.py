"""Creating tensors from data: ``tensor``, ``as_tensor``, ``from_numpy``, the legacy
``Tensor(...)`` constructor, and filled tensors (``zeros``, ``ones``, ``full``, ``empty``, the
``*_like`` forms, ``arange``)."""
import numbers

import numpy as np

from . import _dtype
from ._device import as_device, CPU
from ._errors import mark
from ._tensor import Tensor, _new_tensor
from .backend import move, resolve, xp_for
from .ops._dims import as_shape
from .ops._registry import public


def _finish(arr, device, requires_grad):
    """Move ``arr`` to ``device`` and wrap it."""
    if device is not None:
        arr = move(arr, resolve(as_device(device)))
    t = _new_tensor(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_array(data, op):
    """A NumPy array for Python data, with PyTorch's dtype inference (floats become the
    default dtype, ints int64, complex the default complex type)."""
    if isinstance(data, Tensor):
        return data.detach().cpu()._data
    if isinstance(data, np.ndarray):
        if data.dtype.byteorder == ">" or data.dtype not in _dtype.NP_TO_DTYPE:
            return data.astype(_dtype.from_numpy_dtype(data.dtype).np)
        return data
    if isinstance(data, np.generic):
        return np.asarray(data)
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _leaves(data)):
        data = _tensors_to_lists(data)
    try:
        arr = np.array(data)
    except ValueError as e:
        raise mark(ValueError(f"{op}: expected a rectangular nested sequence of numbers "
                              f"({e})")) from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise mark(TypeError(f"{op}: could not infer dtype of {type(data).__name__}; pass "
                             f"numbers, nested lists of numbers, NumPy arrays or tensors"))
    kind = arr.dtype.kind
    if kind == "f":
        return arr.astype(_dtype._Defaults.float.np, copy=False) if _all_python(data) else arr
    if kind == "c":
        return arr.astype(_dtype._Defaults.complex.np, copy=False) if _all_python(data) else arr
    if kind in "iu":
        return arr.astype(np.int64, copy=False) if _all_python(data) else arr
    return arr


def _leaves(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _leaves(x)
        else:
            yield x


def _all_python(data):
    if isinstance(data, (list, tuple)):
        return all(_all_python(x) for x in data) if len(data) < 64 else \
            all(not isinstance(x, np.generic) for x in _leaves(data))
    return not isinstance(data, np.generic)


def _tensors_to_lists(data):
    if isinstance(data, Tensor):
        if data.numel() != 1 and data.dim() != 0:
            return data.tolist()
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(x) for x in data]
    return data


@public(method=False)
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data``."""
    if isinstance(data, Tensor) and data.is_cuda and (device is None or
                                                        as_device(device).type == "cuda"):
        arr = data.detach()._data.copy()
        if dtype is not None:
            arr = arr.astype(_dtype.as_dtype(dtype).np)
        return _finish(arr, device, requires_grad)
    arr = _infer_array(data, "tensor")
    if dtype is not None:
        arr = arr.astype(_dtype.as_dtype(dtype).np)
    elif isinstance(data, (np.ndarray, Tensor)):
        arr = arr.copy()
    else:
        arr = np.array(arr, copy=True)
    return _finish(arr, device, requires_grad)


@public(method=False)
def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory when it already is a tensor or NumPy array of the
    right dtype on the right device."""
    dtype = _dtype.as_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        out = data
        if device is not None:
            out = out.to(device)
        return out.to(dtype) if dtype is not None else out
    if hasattr(data, "__cuda_array_interface__") and not isinstance(data, np.ndarray):
        from .backend import cupy
        arr = cupy().asarray(data)
        if dtype is not None:
            arr = arr.astype(dtype.np, copy=False)
        return _finish(arr, device, False)
    arr = _infer_array(data, "as_tensor")
    if dtype is not None:
        arr = arr.astype(dtype.np, copy=False)
    return _finish(arr, device, False)


@public(method=False)
def from_numpy(ndarray):
    """A tensor sharing memory with the NumPy array ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise mark(TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})"))
    if ndarray.dtype not in _dtype.NP_TO_DTYPE:
        _dtype.from_numpy_dtype(ndarray.dtype)  # raises the unsupported-type error
    return _new_tensor(ndarray)


def legacy_tensor(cls, args, device, dtype):
    """``ember.Tensor(data)`` or ``ember.Tensor(*sizes)``, in the default float dtype."""
    dtype = _dtype.as_dtype(dtype) if dtype is not None else _dtype._Defaults.float
    if len(args) == 0:
        arr = np.empty((0,), dtype.np)
    elif len(args) == 1 and isinstance(args[0], Tensor):
        arr = args[0]._data
    elif all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
        arr = np.zeros(tuple(args), dtype.np)
    elif len(args) == 1 and isinstance(args[0], (tuple, list, np.ndarray)) or \
            len(args) == 1 and hasattr(args[0], "__len__"):
        arr = np.asarray(_infer_array(args[0], "Tensor"), dtype=dtype.np)
    else:
        raise mark(TypeError(f"Tensor(): expected data or sizes, got {args!r}"))
    t = object.__new__(cls)
    t._data = move(arr, resolve(as_device(device))) if device is not None else arr
    return t


def _creation_args(op, size, dtype, device, default=None):
    shape = as_shape(op, size)
    if any(s < 0 for s in shape):
        raise mark(RuntimeError(f"{op}: Trying to create tensor with negative dimension "
                                f"{min(shape)}: {list(shape)}"))
    d = _dtype.as_dtype(dtype) if dtype is not None else (default or _dtype._Defaults.float)
    dev = resolve(as_device(device)) if device is not None else CPU
    return shape, d, dev


def _filled(op, fill, size, dtype, device, requires_grad, out=None):
    shape, d, dev = _creation_args(op, size, dtype, device)
    xp = xp_for(dev)
    if dev.type == "cuda":
        with xp.cuda.Device(dev.index):
            arr = fill(xp, shape, d.np)
    else:
        arr = fill(xp, shape, d.np)
    t = _finish(arr, None, requires_grad)
    if out is not None:
        from ._out import write_out
        return write_out(out, t)
    return t


@public(method=False)
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    return _filled("zeros", lambda xp, s, d: xp.zeros(s, d), size, dtype, device, requires_grad,
                   out)


@public(method=False)
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    return _filled("ones", lambda xp, s, d: xp.ones(s, d), size, dtype, device, requires_grad,
                   out)


@public(method=False)
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    # Zero-filled rather than uninitialized: NumPy's empty can expose stale memory, and the
    # cost of zeroing is small next to everything else here.
    return _filled("empty", lambda xp, s, d: xp.zeros(s, d), size, dtype, device,
                   requires_grad, out)


def _fill_dtype(fill_value):
    if isinstance(fill_value, Tensor):
        return fill_value.dtype
    return _dtype.scalar_dtype(fill_value)


@public(method=False)
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dtype = dtype if dtype is not None else _fill_dtype(fill_value)
    return _filled("full", lambda xp, s, d: xp.full(s, fill_value, d), (size,), dtype, device,
                   requires_grad, out)


def _like(input, dtype, device):
    return (dtype if dtype is not None else input.dtype,
            device if device is not None else input.device)


@public(method=False)
def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    dtype, device = _like(input, dtype, device)
    return zeros(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


@public(method=False)
def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like(input, dtype, device)
    return ones(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


@public(method=False)
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    dtype, device = _like(input, dtype, device)
    return empty(input.shape, dtype=dtype, device=device, requires_grad=requires_grad)


@public(method=False)
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    dtype, device = _like(input, dtype, device)
    return full(input.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


@public(method=False)
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if step == 0:
        raise mark(RuntimeError("arange: step must be nonzero"))
    if (end - start) / step < 0:
        raise mark(RuntimeError(f"arange: upper bound and larger bound inconsistent with step "
                                f"sign (start={start}, end={end}, step={step})"))
    if dtype is None:
        dtype = _dtype._Defaults.float if any(isinstance(v, float) for v in values) \
            else _dtype.int64
    d = _dtype.as_dtype(dtype)
    dev = resolve(as_device(device)) if device is not None else CPU
    xp = xp_for(dev)
    n = int(np.ceil((end - start) / step))
    # Computed in float64 (or int64) and cast, as PyTorch does, so float32 ranges match it.
    compute = np.float64 if (d.is_floating_point or d.is_complex) else np.int64
    arr = (start + np.arange(n, dtype=compute) * step).astype(d.np) if compute is np.float64 \
        else np.arange(start, start + n * step, step, dtype=np.int64)[:n].astype(d.np)
    t = _finish(arr if xp is np else move(arr, dev), None, requires_grad)
    if out is not None:
        from ._out import write_out
        return write_out(out, t)
    return t


def scalar_tensor(value, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding ``value`` (default float dtype unless ``dtype`` is given)."""
    d = _dtype.as_dtype(dtype) if dtype is not None else _dtype._Defaults.float
    return _finish(np.array(value, dtype=d.np), device, requires_grad)


public(method=False, name="scalar_tensor")(scalar_tensor)
