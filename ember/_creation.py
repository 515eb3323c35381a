"""Creating tensors: from data (``tensor``, ``as_tensor``, ``asarray``, ``from_numpy``, the legacy
``Tensor(...)`` / ``Tensor.new(...)`` constructors, ``Tensor.new_tensor``), filled tensors
(``zeros``, ``ones``, ``empty``, ``full``, ``eye``, ``empty_strided``, the ``*_like`` and
``new_*`` forms), ranges (``arange``, ``range``, ``linspace``, ``logspace``), ``complex`` /
``polar``, and writing into tensors (``copy_``, ``fill_``, ``zero_``)."""
import builtins
import math
import numbers
import warnings

import numpy as np

from . import _dtype
from . import _tensor_str  # noqa: F401  (registers ember.set_printoptions / get_printoptions)
from ._device import as_device, CPU
from ._errors import mark
from ._tensor import Tensor, _new_tensor
from .autograd.function import Function
from .autograd.grad_mode import GradMode
from .autograd.inplace import commit_inplace, write_into
from .backend import move, resolve, xp_for
from .ops._broadcast import broadcast_shape, sum_to
from .ops._dims import as_shape
from .ops._registry import public, public_method


def _device(device):
    """A concrete device for a user-given one (None means the CPU)."""
    return CPU if device is None else resolve(as_device(device))


def check_grad_dtype(op, d):
    """Only floating point and complex tensors can require grad."""
    if not (d.is_floating_point or d.is_complex):
        raise mark(RuntimeError(f"{op}: only Tensors of floating point and complex dtype can "
                                f"require gradients (got {d}); pass a floating dtype, e.g. "
                                f"dtype=ember.float32"))


def _finish(arr, device, requires_grad, op="tensor"):
    """Move ``arr`` to ``device`` (None: leave it where it is) and wrap it."""
    if requires_grad:
        check_grad_dtype(op, _dtype.NP_TO_DTYPE[arr.dtype])
    if device is not None:
        arr = move(arr, _device(device))
    t = _new_tensor(arr)
    if requires_grad:
        t._rg = True
    return t


def to_out(out, t):
    """``t``, or ``out`` with ``t`` written into it when given (``out=``)."""
    if out is None:
        return t
    from ._out import write_out
    return write_out(out, t)


def make_tensor(op, fill, shape, dtype, device, requires_grad, out, source=None, generator=None):
    """A new tensor ``fill(xp, shape, d)`` made on device ``dev`` (``xp``: its array module), of
    dtype ``d`` (default: the default float), or written into ``out`` (whose dtype and device
    are the defaults then). Random samplers give ``source(generator, dev, op)``, which ``fill``
    then gets in place of ``xp`` to draw from."""
    if out is not None:
        dtype = dtype if dtype is not None else out.dtype
        device = device if device is not None else out.device
    d = _dtype.as_dtype(dtype) if dtype is not None else _dtype._Defaults.float
    if requires_grad:
        check_grad_dtype(op, d)
    dev = _device(device)
    src = xp_for(dev) if source is None else source(generator, dev, op)
    if dev.type == "cuda":
        with xp_for(dev).cuda.Device(dev.index):
            arr = fill(src, shape, d)
    else:
        arr = fill(src, shape, d)
    t = _new_tensor(arr)
    if requires_grad:
        t._rg = True
    return t if out is None else to_out(out, t)


# ---- dtype inference for Python data ---------------------------------------------------------
_PY_KIND = {builtins.bool: "bool", builtins.int: "int", builtins.float: "float",
            builtins.complex: "complex"}


def _py_dtype(kind):
    """The dtype a Python number of ``kind`` becomes (floats follow the default dtype)."""
    if kind == "float":
        return _dtype._Defaults.float
    if kind == "complex":
        return _dtype._Defaults.complex
    return _dtype.bool if kind == "bool" else _dtype.int64


def _is_sequence_type(t):
    """Lists, tuples, ranges and other sequences; not strings, mappings or array-likes (objects
    with ``__array__``, e.g. torch tensors, which convert as arrays)."""
    return issubclass(t, (list, tuple, range)) or (
        hasattr(t, "__len__") and hasattr(t, "__getitem__") and not hasattr(t, "__array__")
        and not issubclass(t, (str, bytes, dict, Tensor)))


def _is_sequence(x):
    return _is_sequence_type(type(x))


def _scan(seq, dtypes, op):
    """Collect into ``dtypes`` the dtype of every leaf of the nested sequence ``seq`` (PyTorch
    promotes them all together); returns True if a leaf is a tensor."""
    has_tensor = False
    for t in set(map(type, seq)):
        kind = _PY_KIND.get(t)
        if kind is not None:
            dtypes.add(_py_dtype(kind))
        elif issubclass(t, np.generic):
            dtypes.add(_numpy_dtype(np.dtype(t), op))
        elif issubclass(t, Tensor):
            for x in seq:
                if type(x) is t:
                    if x._data.size != 1:
                        raise mark(ValueError(
                            f"{op}: only one-element tensors can be elements of a list (got a "
                            f"tensor of shape {list(x.shape)}); use ember.stack to join tensors"))
                    dtypes.add(x.dtype)
            has_tensor = True
        elif hasattr(t, "__array__"):  # NumPy arrays, torch tensors ...
            dtypes.update(_numpy_dtype(np.asarray(x).dtype, op) for x in seq if type(x) is t)
        elif _is_sequence_type(t):
            for x in seq:
                if type(x) is t:
                    has_tensor |= _scan(x, dtypes, op)
        else:
            x = next(x for x in seq if type(x) is t)
            dtypes.add(_py_dtype(_number_kind(x, op)))
    return has_tensor


def _number_kind(x, op):
    """"bool", "int", "float" or "complex" for a number of a Python numeric type or subclass."""
    for kind, base in (("bool", builtins.bool), ("int", numbers.Integral),
                       ("float", numbers.Real), ("complex", numbers.Complex)):
        if isinstance(x, base):
            return kind
    _bad_leaf(x, op)


def _bad_leaf(x, op):
    if isinstance(x, (str, bytes)):
        raise mark(TypeError(f"{op}: invalid data type '{type(x).__name__}'; pass numbers, "
                             f"nested lists of numbers, NumPy arrays or tensors"))
    raise mark(RuntimeError(f"{op}: Could not infer dtype of {type(x).__name__}"))


def _numpy_dtype(np_dtype, op):
    found = _dtype.NP_TO_DTYPE.get(np_dtype)
    if found is not None:
        return found
    if np_dtype.kind in "USVO":
        raise mark(TypeError(f"{op}: can't convert np.ndarray of type numpy.{np_dtype.name}; "
                             f"the supported types are float64, float32, float16, bfloat16, "
                             f"complex64, complex128, int64, int32, int16, int8, uint8 and bool"))
    return _dtype.from_numpy_dtype(np_dtype)


def _untensor(seq):
    """``seq`` with its (one-element) tensors replaced by Python numbers."""
    return [x.item() if isinstance(x, Tensor) else _untensor(x) if _is_sequence(x) else x
            for x in seq]


def _ragged_error(data, op):
    """The error PyTorch gives for a nested sequence that is not rectangular."""
    def nested(x):
        return _is_sequence(x) or (isinstance(x, np.ndarray) and x.ndim > 0)

    sizes, x = [], data
    while nested(x):
        sizes.append(len(x))
        if not len(x):
            break
        x = x[0]

    def walk(x, dim):
        if dim == len(sizes):
            if nested(x):
                return TypeError(f"{op}: expected a number at dim {dim} but got a "
                                 f"{type(x).__name__} (the nesting depth of the data varies)")
            return None
        if not nested(x):
            return TypeError(f"{op}: expected a sequence at dim {dim} but got "
                             f"{type(x).__name__} (the nesting depth of the data varies)")
        if len(x) != sizes[dim]:
            return ValueError(f"{op}: expected sequence of length {sizes[dim]} at dim {dim} "
                              f"(got {len(x)}); nested lists must be rectangular")
        for item in x:
            e = walk(item, dim + 1)
            if e is not None:
                return e
        return None
    return mark(walk(data, 0) or ValueError(f"{op}: could not convert the data to a tensor"))


def _sequence_array(data, dtype, op):
    """A NumPy array of the nested sequence ``data``, in ``dtype`` or the dtype PyTorch infers."""
    dtypes = set()
    if _scan(data, dtypes, op):
        data = _untensor(data)
    if dtype is None:
        dtype = _dtype._Defaults.float
        if dtypes:
            it = iter(dtypes)
            dtype = next(it)
            for d in it:
                dtype = _dtype.PROMOTE[(dtype, d)]
    try:
        return np.array(data, dtype=dtype.np)
    except OverflowError:
        if dtype._category == _dtype._INT:  # out-of-range ints wrap around, as in PyTorch
            try:
                return np.array(data, dtype=np.int64).astype(dtype.np)
            except OverflowError:
                pass
        raise mark(RuntimeError(f"{op}: a value is out of range for {dtype} (it can't be "
                                f"converted without overflow)")) from None
    except (ValueError, TypeError):
        try:
            return np.array(data).astype(dtype.np)  # e.g. nan into an integer dtype
        except (ValueError, TypeError):
            raise _ragged_error(data, op) from None


def _scalar_array(value, dtype, op):
    if isinstance(value, np.generic):
        return _numpy_array(np.asarray(value), dtype, op)
    d = dtype or _py_dtype(_PY_KIND.get(type(value)) or _number_kind(value, op))
    try:
        return np.array(value, dtype=d.np)
    except OverflowError:
        if d._category == _dtype._INT and -2**63 <= value < 2**63:
            return np.array(value, dtype=np.int64).astype(d.np)
        raise mark(RuntimeError(f"{op}: value {value} is out of range for {d} (it can't be "
                                f"converted without overflow)")) from None


def _numpy_array(arr, dtype, op):
    """``arr`` in a dtype ember has (``dtype`` if given); shares memory when nothing changes."""
    target = dtype or _numpy_dtype(arr.dtype, op)
    if arr.dtype is not target.np and arr.dtype != target.np:
        return arr.astype(target.np)
    return arr


def data_array(data, dtype, op):
    """A NumPy array (or, for CUDA data, a CuPy array) holding ``data`` with PyTorch's dtype
    inference; it may share memory with ``data``."""
    if isinstance(data, Tensor):
        arr = data._data
        return arr if dtype is None else arr.astype(dtype.np, copy=False)
    if isinstance(data, np.ndarray):
        return _numpy_array(data, dtype, op)
    if isinstance(data, (numbers.Number, np.generic)):
        return _scalar_array(data, dtype, op)
    if hasattr(data, "__cuda_array_interface__"):
        from .backend import cupy
        arr = cupy().asarray(data)
        return arr if dtype is None else arr.astype(dtype.np, copy=False)
    if hasattr(data, "__array__"):  # e.g. a torch tensor or a pandas object
        return _numpy_array(np.asarray(data), dtype, op)
    if _is_sequence(data):
        return _sequence_array(data, dtype, op)
    _bad_leaf(data, op)


def _opt_dtype(dtype):
    return None if dtype is None else _dtype.as_dtype(dtype)


# ---- from data ---------------------------------------------------------------------------------
@public(method=False)
def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data``; its dtype is inferred as PyTorch does (Python
    floats: the default dtype, ints: int64, bools: bool, NumPy data keeps its dtype)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than ember.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    return _finish(_fresh(data_array(data, _opt_dtype(dtype), "tensor"), data), device,
                   requires_grad)


def _fresh(arr, data):
    """``arr`` (made from ``data`` by ``data_array``), copied if it may share ``data``'s memory."""
    if arr is data or arr.base is not None or (isinstance(data, Tensor) and arr is data._data):
        return arr.copy()
    return arr


@public(method=False)
def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor, sharing memory (and, for tensors, autograd history) when it already
    is a tensor or array of the requested dtype on the requested device."""
    dtype = _opt_dtype(dtype)
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return _finish(data_array(data, dtype, "as_tensor"), device, False)


@public(method=False)
def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """``obj`` (a tensor, NumPy/CuPy array, DLPack object, number or nested sequence) as a
    tensor, sharing its memory when possible; ``copy=True`` always copies, ``copy=False``
    raises instead of copying."""
    dtype = _opt_dtype(dtype)
    if isinstance(obj, Tensor):
        out = obj.to(device=device, dtype=dtype)
        shared = out is obj
        if copy and shared:
            out = obj.clone()
    elif isinstance(obj, np.ndarray) or not hasattr(obj, "__dlpack__"):
        arr = data_array(obj, dtype, "asarray")
        shared = arr is obj or arr.base is not None
        out = _finish(_fresh(arr, obj) if copy else arr, device, False)
        shared = shared and out._data is arr
    else:
        from ._dlpack import from_dlpack
        out = from_dlpack(obj)
        converted = out.to(device=device, dtype=dtype)
        shared = converted is out
        out = converted.clone() if copy and shared else converted
    if copy is False and not shared and isinstance(obj, (Tensor, np.ndarray)):
        raise mark(ValueError(
            f"asarray: copy=False, but {type(obj).__name__} of dtype {obj.dtype} can't be "
            f"returned as {dtype or obj.dtype} on {device or 'its device'} without copying"))
    if requires_grad:
        out.requires_grad_(True)
    return out


@public(method=False)
def from_numpy(ndarray):
    """A tensor sharing memory with the NumPy array ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise mark(TypeError(f"from_numpy: expected np.ndarray (got {type(ndarray).__name__})"))
    nd = ndarray.dtype
    if nd not in _dtype.NP_TO_DTYPE:
        if nd.byteorder == ">":
            raise mark(ValueError(
                "from_numpy: given numpy array has byte order different from the native byte "
                "order, so it can't share memory with a tensor; use ember.tensor(array) (which "
                "copies) or array.astype(array.dtype.newbyteorder('='))"))
        if nd.kind in "iub":
            raise mark(TypeError(
                f"from_numpy: can't share memory with np.ndarray of type numpy.{nd.name} (ember "
                f"has no {nd.name} tensors); use ember.tensor(array) to convert it (copies)"))
        _numpy_dtype(nd, "from_numpy")
    if not ndarray.flags.writeable:
        warnings.warn("The given NumPy array is not writable, and ember does not support "
                      "non-writable tensors: in-place operations on this tensor will fail. "
                      "Copy the array (array.copy()) to get a writable tensor.",
                      UserWarning, stacklevel=2)
    return _new_tensor(ndarray)


def _legacy(args, dtype, device, op, like=None):
    """``Tensor(*sizes)`` / ``Tensor(data)`` / ``x.new(...)``: an uninitialized tensor of the
    given sizes, or a copy of data, in ``dtype``."""
    if len(args) == 0:
        return _finish(np.empty((0,), dtype.np), device, False)
    if len(args) == 1 and isinstance(args[0], Tensor):
        src = args[0]
        if src.dtype is not dtype:
            raise mark(TypeError(f"{op}: expected a tensor of dtype {dtype} (got {src.dtype}); "
                                 f"convert it with .to({dtype})"))
        return src.detach()
    if all(isinstance(a, numbers.Integral) and not isinstance(a, (builtins.bool, np.bool_))
           for a in args):
        return zeros(args, dtype=dtype, device=device)
    if len(args) == 1 and (_is_sequence(args[0]) or isinstance(args[0], np.ndarray)):
        return _finish(_fresh(data_array(args[0], dtype, op), args[0]), device, False)
    raise mark(TypeError(f"{op}: expected data (a sequence or array) or sizes (ints), got "
                         f"{', '.join(type(a).__name__ for a in args)}"))


def legacy_tensor(cls, args, device, dtype):
    """``ember.Tensor(data)`` or ``ember.Tensor(*sizes)``, in the default float dtype."""
    dtype = _opt_dtype(dtype) or _dtype._Defaults.float
    t = _legacy(args, dtype, device, "Tensor")
    if cls is not Tensor:
        sub = object.__new__(cls)
        sub._data = t._data
        return sub
    return t


@public_method("new")
def _new(self, *args, dtype=None, device=None):
    """``x.new(*sizes)`` / ``x.new(data)``: legacy constructor in ``x``'s dtype and device."""
    return _legacy(args, _opt_dtype(dtype) or self.dtype,
                   self.device if device is None else device, "new")


@public_method("new_tensor")
def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    """A copy of ``data`` in ``self``'s dtype and device (unless given)."""
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use "
                      "sourceTensor.detach().clone() or sourceTensor.detach().clone()"
                      ".requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
    arr = _fresh(data_array(data, _opt_dtype(dtype) or self.dtype, "new_tensor"), data)
    return _finish(arr, self.device if device is None else device, requires_grad, "new_tensor")


# ---- filled tensors ---------------------------------------------------------------------------
def _shape(op, size):
    shape = as_shape(op, size)
    for s in shape:
        if s < 0:
            raise mark(RuntimeError(f"{op}: Trying to create tensor with negative dimension {s}: "
                                    f"{list(shape)}"))
    return shape


def _zeros(xp, shape, d):
    return xp.zeros(shape, d.np)


def _ones(xp, shape, d):
    return xp.ones(shape, d.np)


@public(method=False)
def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False):
    return make_tensor("zeros", _zeros, _shape("zeros", size), dtype, device, requires_grad, out)


@public(method=False)
def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    return make_tensor("ones", _ones, _shape("ones", size), dtype, device, requires_grad, out)


@public(method=False)
def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None):
    # Zero-filled rather than uninitialized: NumPy's empty can expose stale memory, and the
    # cost of zeroing is small next to everything else here.
    return make_tensor("empty", _zeros, _shape("empty", size), dtype, device, requires_grad, out)


def _fill_dtype(value, op):
    """The dtype ``full`` infers from its fill value: that of a Python number of its kind (NumPy
    scalars and 0-d tensors count as Python numbers)."""
    if isinstance(value, Tensor):
        d = value.dtype
        return _py_dtype("complex" if d.is_complex else "float" if d.is_floating_point else
                         "bool" if d is _dtype.bool else "int")
    if isinstance(value, np.generic):
        value = value.item()
    kind = _PY_KIND.get(type(value))
    if kind is None:
        raise mark(TypeError(f"{op}: fill_value must be a number or a 0-d tensor, got "
                             f"{type(value).__name__}"))
    return _py_dtype(kind)


def _fill_value(value, op):
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise mark(RuntimeError(f"{op}: fill_value must be a number or a 0-d tensor, got a "
                                    f"tensor of shape {list(value.shape)}"))
        return value.item()
    return value.item() if isinstance(value, np.generic) else value


def _full_array(value, dtype, op):
    """A 0-d NumPy array of ``value`` in ``dtype`` (PyTorch's rules: complex into a real type
    is an error, out-of-range integers overflow errors)."""
    if isinstance(value, builtins.complex) and not dtype.is_complex:
        raise mark(RuntimeError(f"{op}: value {value} cannot be converted to type {dtype.name} "
                                f"without overflow (it is complex)"))
    try:
        return np.array(value, dtype=dtype.np)
    except (OverflowError, ValueError):
        raise mark(RuntimeError(f"{op}: value {value} cannot be converted to type {dtype.name} "
                                f"without overflow")) from None


@public(method=False)
def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    if not isinstance(size, (tuple, list)):
        raise mark(TypeError(f"full: argument 'size' must be a tuple of ints, not "
                             f"{type(size).__name__}"))
    if dtype is None:
        dtype = out.dtype if out is not None else _fill_dtype(fill_value, "full")
    value = _full_array(_fill_value(fill_value, "full"), _dtype.as_dtype(dtype), "full")
    return make_tensor("full", lambda xp, s, d: xp.full(s, value, d.np), _shape("full", size),
                       dtype, device, requires_grad, out)


def _like(fn, input, op, dtype, device, requires_grad, *args):
    if not isinstance(input, Tensor):
        raise mark(TypeError(f"{op}: argument 'input' must be a Tensor, not "
                             f"{type(input).__name__}"))
    return fn(input._data.shape, *args, dtype=dtype if dtype is not None else input.dtype,
              device=device if device is not None else input.device,
              requires_grad=requires_grad)


@public(method=False)
def zeros_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    return _like(zeros, input, "zeros_like", dtype, device, requires_grad)


@public(method=False)
def ones_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return _like(ones, input, "ones_like", dtype, device, requires_grad)


@public(method=False)
def empty_like(input, *, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None):
    return _like(empty, input, "empty_like", dtype, device, requires_grad)


@public(method=False)
def full_like(input, fill_value, *, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None):
    return _like(full, input, "full_like", dtype, device, requires_grad, fill_value)


def _new_filled(fn, self, size, dtype, device, requires_grad, *args):
    return fn(as_shape(fn.__name__, size), *args,
              dtype=dtype if dtype is not None else self.dtype,
              device=device if device is not None else self.device, requires_grad=requires_grad)


@public_method("new_zeros")
def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    return _new_filled(zeros, self, size, dtype, device, requires_grad)


@public_method("new_ones")
def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    return _new_filled(ones, self, size, dtype, device, requires_grad)


@public_method("new_empty")
def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False):
    return _new_filled(empty, self, size, dtype, device, requires_grad)


@public_method("new_full")
def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
             layout=None, pin_memory=False):
    return _new_filled(full, self, (size,), dtype, device, requires_grad, fill_value)


@public(method=False)
def eye(n, m=None, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    m = n if m is None else m
    for name, v in (("n", n), ("m", m)):
        if v < 0:
            raise mark(RuntimeError(f"eye: {name} must be greater or equal to 0, got {v}"))
    return make_tensor("eye", lambda xp, s, d: xp.eye(s[0], s[1], dtype=d.np), (n, m), dtype,
                       device, requires_grad, out)


@public(method=False)
def empty_strided(size, stride, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A tensor of shape ``size`` whose memory is laid out with ``stride`` (in elements)."""
    shape, strides = _shape("empty_strided", (size,)), as_shape("empty_strided", (stride,))
    if len(shape) != len(strides):
        raise mark(RuntimeError(f"empty_strided: mismatch in length of strides and shape "
                                f"(size {list(shape)}, stride {list(strides)})"))
    if any(s < 0 for s in strides):
        raise mark(RuntimeError(f"empty_strided: strides must be non-negative, got "
                                f"{list(strides)}"))
    n = 0 if 0 in shape else 1 + sum((k - 1) * s for k, s in zip(shape, strides))
    flat = empty((n,), dtype=dtype, device=device)._data
    item = flat.itemsize
    xp = np if type(flat) is np.ndarray else xp_for(_device(device))
    arr = xp.lib.stride_tricks.as_strided(flat, shape, tuple(s * item for s in strides))
    return _finish(arr, None, requires_grad, "empty_strided")


def scalar_tensor(value, *, dtype=None, layout=None, device=None, requires_grad=False,
                  pin_memory=False):
    """A 0-d tensor holding ``value`` (default float dtype unless ``dtype`` is given)."""
    d = _opt_dtype(dtype) or _dtype._Defaults.float
    return _finish(_full_array(_fill_value(value, "scalar_tensor"), d, "scalar_tensor"),
                   device, requires_grad)


public(method=False, name="scalar_tensor")(scalar_tensor)


# ---- ranges ----------------------------------------------------------------------------------
def _number(v, op, name):
    """A range endpoint as a Python number (0-d tensors and NumPy scalars accepted)."""
    if isinstance(v, Tensor):
        if v._data.size != 1:
            raise mark(RuntimeError(f"{op}: {name} must be a number or a 0-d tensor, got a "
                                    f"tensor of shape {list(v.shape)}"))
        return v.item()
    if isinstance(v, np.generic):
        return v.item()
    if not isinstance(v, numbers.Number):
        raise mark(TypeError(f"{op}: {name} must be a number, got {type(v).__name__}"))
    return v


def _range_dtype(values, dtype, out):
    """Ranges default to int64 for integer endpoints and to the default float dtype when any
    endpoint is a float (complex: the default complex dtype)."""
    if dtype is not None:
        return _dtype.as_dtype(dtype)
    if out is not None:
        return out.dtype
    if any(isinstance(v, builtins.complex) for v in values):
        return _dtype._Defaults.complex
    if any(isinstance(v, float) for v in values):
        return _dtype._Defaults.float
    return _dtype.int64


def _range_result(op, arr, device, requires_grad, out):
    dev = _device(device if device is not None else (out.device if out is not None else None))
    t = _finish(arr if dev.type == "cpu" else move(arr, dev), None, requires_grad, op)
    return to_out(out, t)


@public(method=False)
def arange(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    if end is None:
        start, end = 0, start
    start, end, step = (_number(v, "arange", n) for v, n in
                        ((start, "start"), (end, "end"), (step, "step")))
    d = _range_dtype((start, end, step), dtype, out)
    if step == 0:
        raise mark(RuntimeError("arange: step must be nonzero"))
    if not (math.isfinite(start) and math.isfinite(end)):
        raise mark(RuntimeError(f"arange: unsupported range: {start} -> {end}"))
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise mark(RuntimeError(f"arange: upper bound and lower bound inconsistent with step "
                                f"sign (start={start}, end={end}, step={step})"))
    if d is _dtype.int64:
        # PyTorch computes int64 ranges in integer arithmetic on the truncated endpoints.
        start, end, step = builtins.int(start), builtins.int(end), builtins.int(step)
        if step == 0:  # a ValueError here, as in PyTorch
            raise mark(ValueError("arange: step must be nonzero (it is 0 once truncated to "
                                  "an integer for an int64 range)"))
        arr = np.arange(start, end, step, dtype=np.int64)
    else:
        n = math.ceil((end - start) / step)
        if d.is_floating_point or d.is_complex:
            arr = (start + np.arange(n, dtype=np.float64) * step).astype(d.np)
        else:  # other integer dtypes: the count from the exact endpoints, the values truncated
            arr = (builtins.int(start) + np.arange(n, dtype=np.int64) * builtins.int(step))
            arr = arr.astype(d.np)
    return _range_result("arange", arr, device, requires_grad, out)


@public(method=False, name="range")
def range_(start, end, step=1, *, out=None, dtype=None, layout=None, device=None,
           requires_grad=False):
    """Deprecated inclusive range: ``[start, start + step, ..., end]`` in the default dtype."""
    warnings.warn("ember.range is deprecated and will be removed in a future release because "
                  "its behavior is inconsistent with Python's range builtin. Instead, use "
                  "ember.arange, which produces values in [start, end).",
                  UserWarning, stacklevel=2)
    start, end, step = (_number(v, "range", n) for v, n in
                        ((start, "start"), (end, "end"), (step, "step")))
    d = _dtype.as_dtype(dtype) if dtype is not None else (
        out.dtype if out is not None else _dtype._Defaults.float)
    if step == 0:
        raise mark(RuntimeError("range: step must be nonzero"))
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise mark(RuntimeError(f"range: upper bound and lower bound inconsistent with step "
                                f"sign (start={start}, end={end}, step={step})"))
    n = math.floor((end - start) / step) + 1
    arr = (start + np.arange(n, dtype=np.float64) * step).astype(d.np)
    return _range_result("range", arr, device, requires_grad, out)


def _linear_steps(start, end, steps, compute):
    """``steps`` evenly spaced values from ``start`` to ``end``, computed in ``compute`` from
    both ends toward the middle (as PyTorch does, so both endpoints are exact)."""
    if steps == 1:
        return np.array([start], dtype=compute)
    start_c, end_c = np.array(start, compute), np.array(end, compute)
    step = (end_c - start_c) / np.array(steps - 1, compute)
    i = np.arange(steps)
    half = steps // 2
    low = start_c + step * i[:half].astype(compute)
    high = end_c - step * (steps - 1 - i[half:]).astype(compute)
    return np.concatenate([low, high])


def _check_steps(op, steps):
    steps = _number(steps, op, "steps")
    if not isinstance(steps, numbers.Integral):
        raise mark(TypeError(f"{op}: steps must be an int, got {type(steps).__name__}"))
    if steps < 0:
        raise mark(RuntimeError(f"{op}: number of steps must be non-negative, got {steps}"))
    return steps


def _linspace_dtype(start, end, dtype, out):
    if dtype is not None:
        return _dtype.as_dtype(dtype)
    if out is not None:
        return out.dtype
    if isinstance(start, builtins.complex) or isinstance(end, builtins.complex):
        return _dtype._Defaults.complex
    return _dtype._Defaults.float


def _compute_type(d):
    """The NumPy type a range in ``d`` is computed in: its own type for float32/float64 and
    complex, float64 for integers, float32 for the half types."""
    if d.is_complex:
        return d.np
    if d.is_floating_point:
        return d.np if d.itemsize >= 4 else np.dtype(np.float32)
    return np.dtype(np.float64)


def _range_ends(op, start, end, dtype, out):
    """The endpoints as numbers, and the result dtype. For an integer dtype PyTorch first
    converts the endpoints to it (truncating), then spaces the values in float64."""
    start, end = _number(start, op, "start"), _number(end, op, "end")
    d = _linspace_dtype(start, end, dtype, out)
    if not (d.is_floating_point or d.is_complex):
        start, end = (np.array(builtins.int(v)).astype(d.np).item() for v in (start, end))
    return start, end, d


@public(method=False)
def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    start, end, d = _range_ends("linspace", start, end, dtype, out)
    steps = _check_steps("linspace", steps)
    arr = _linear_steps(start, end, steps, _compute_type(d)).astype(d.np)
    return _range_result("linspace", arr, device, requires_grad, out)


@public(method=False)
def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    start, end, d = _range_ends("logspace", start, end, dtype, out)
    steps = _check_steps("logspace", steps)
    compute = np.dtype(np.complex128) if d.is_complex else np.dtype(np.float64)
    exps = _linear_steps(start, end, steps, compute)
    arr = np.power(np.array(_number(base, "logspace", "base"), compute), exps).astype(d.np)
    return _range_result("logspace", arr, device, requires_grad, out)


# ---- complex numbers from parts ----------------------------------------------------------------
class Complex(Function):
    """``real + 1j * imag`` (broadcast); its adjoint is ``_ComplexParts``."""
    _raw = True
    op_name = "complex"

    @staticmethod
    def forward(ctx, real, imag):
        ctx.shapes = (real.shape, imag.shape)
        out = ctx.xp.empty(np.broadcast_shapes(real.shape, imag.shape),
                           np.result_type(real.dtype, np.complex64))
        out.real = real
        out.imag = imag
        return out

    @staticmethod
    def backward(ctx, grad):
        gr, gi = _ComplexParts.apply(grad)
        return sum_to(gr, ctx.shapes[0]), sum_to(gi, ctx.shapes[1])


class _ComplexParts(Function):
    """A complex tensor's real and imaginary parts, as two new real tensors."""
    _raw = True
    op_name = "complex_parts"

    @staticmethod
    def forward(ctx, z):
        return z.real.copy(), z.imag.copy()

    @staticmethod
    def backward(ctx, grad_real, grad_imag):
        return Complex.apply(grad_real, grad_imag)


def _check_complex_parts(op, a, b):
    for x in (a, b):
        if not isinstance(x, Tensor):
            raise mark(TypeError(f"{op}: expected tensors, got {type(x).__name__}"))
    if not (a.is_floating_point() and b.is_floating_point()):
        raise mark(RuntimeError(f"{op}: Expected both inputs to be Float or Double tensors but "
                                f"got {a.dtype} and {b.dtype}"))
    if a.dtype is not b.dtype:
        raise mark(RuntimeError(f"{op}: Expected both inputs to have the same dtype but got "
                                f"{a.dtype} and {b.dtype}; convert one with .to({a.dtype})"))
    if a.dtype.itemsize < 4:
        raise mark(RuntimeError(f"{op}: {a.dtype} inputs are not supported (ember has no "
                                f"complex32); convert them to float32 first"))
    broadcast_shape(a._data.shape, b._data.shape)


@public(method=False, name="complex")
def complex_(real, imag, *, out=None):
    _check_complex_parts("complex", real, imag)
    t = Complex.apply(real, imag)
    if out is not None and out.dtype is not t.dtype:
        raise mark(RuntimeError(f"complex: Expected object of scalar type {t.dtype.name} but "
                                f"got scalar type {out.dtype.name} for argument 'out'"))
    return to_out(out, t)


@public(method=False)
def polar(abs, angle, *, out=None):
    """``abs * (cos(angle) + 1j * sin(angle))``."""
    _check_complex_parts("polar", abs, angle)
    t = Complex.apply(abs * angle.cos(), abs * angle.sin())
    return to_out(out, t)


# ---- writing into tensors ----------------------------------------------------------------------
class Overwrite(Function):
    """New values for a tensor that an in-place op replaces wholesale (``fill_(3)``,
    ``normal_()``): the old values get a zero gradient. Subclasses name the node."""
    _raw = True

    @staticmethod
    def forward(ctx, old, values):
        return values

    @staticmethod
    def backward(ctx, grad):
        return zeros_like(grad), None


_OVERWRITE = {}


def overwrite(self, values, op):
    """Write the array ``values`` (self's shape, dtype and device) into ``self`` as the in-place
    op ``op`` (``"fill_"``): ``self``'s autograd history, if any, becomes ``<Op>Backward0``."""
    if not (self._rg and GradMode.enabled):
        write_into(self, values, op)
        self._bump()
        return self
    cls = _OVERWRITE.get(op)
    if cls is None:
        name = "".join(p.capitalize() for p in op.strip("_").split("_"))
        cls = _OVERWRITE[op] = type(name, (Overwrite,), {"op_name": op})
    return commit_inplace(self, cls.apply(self, values), op)


class Copy(Function):
    """``src`` broadcast to ``shape`` and cast to ``np_dtype``; ``dst`` (the tensor written into)
    is an input only so that its old history gets a zero gradient, as in PyTorch."""
    _raw = True
    op_name = "copy_"

    def name(self):
        return "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src, np_dtype):
        ctx.src_shape, ctx.src_dtype = src.shape, src.dtype
        if src.dtype.kind == "c" and np.dtype(np_dtype).kind != "c":
            src = src.real
        return ctx.xp.broadcast_to(src, dst.shape).astype(np_dtype)

    @staticmethod
    def backward(ctx, grad):
        g = sum_to(grad, ctx.src_shape)
        if g._data.dtype != ctx.src_dtype:
            g = g.to(_dtype.NP_TO_DTYPE[ctx.src_dtype])
        return zeros_like(grad), g, None


def _check_copy_shapes(op, dst, src):
    shape = dst._data.shape
    if src._data.shape != shape and broadcast_shape(shape, src._data.shape) != shape:
        raise mark(RuntimeError(f"{op}: source of shape {list(src.shape)} can't be broadcast "
                                f"to the destination's shape {list(shape)}"))


@public_method("copy_")
def copy_(self, src, non_blocking=False):
    """Copy ``src`` into ``self`` (broadcast, cast to ``self``'s dtype, moved to its device)."""
    if not isinstance(src, Tensor):
        raise mark(TypeError(f"copy_: argument 'src' must be a Tensor, not {type(src).__name__}"))
    _check_copy_shapes("copy_", self, src)
    if src.is_complex() and not self.is_complex():
        warnings.warn("Casting complex values to real discards the imaginary part",
                      UserWarning, stacklevel=2)
    if GradMode.enabled and (self._rg or src._rg):
        if src.device != self.device:
            src = src.to(self.device)
        return commit_inplace(self, Copy.apply(self, src, self._data.dtype), "copy_")
    data = src._data
    if type(data) is not type(self._data) or (type(data) is not np.ndarray and
                                             data.device != self._data.device):
        data = move(data, self.device)
    if data.dtype.kind == "c" and self._data.dtype.kind != "c":
        data = data.real
    write_into(self, data, "copy_")
    self._bump()
    return self


@public_method("fill_")
def fill_(self, value):
    """Set every element to ``value`` (a number or a 0-d tensor)."""
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise mark(RuntimeError(f"fill_: only supports 0-dimension value tensor but got "
                                    f"tensor with {value._data.ndim} dimensions"))
        if value._rg and GradMode.enabled:
            return copy_(self, value)
        value = value.item()
    elif isinstance(value, np.generic):
        value = value.item()
    elif not isinstance(value, numbers.Number):
        raise mark(TypeError(f"fill_: value must be a number or a 0-d tensor, got "
                             f"{type(value).__name__}"))
    arr = _full_array(value, self.dtype, "fill_")
    if not (self._rg and GradMode.enabled):
        write_into(self, arr[()], "fill_")
        self._bump()
        return self
    xp = self._xp()
    return overwrite(self, xp.broadcast_to(xp.asarray(arr), self._data.shape).copy(), "fill_")


@public_method("zero_")
def zero_(self):
    """Set every element to zero."""
    if not (self._rg and GradMode.enabled):
        write_into(self, 0, "zero_")
        self._bump()
        return self
    return overwrite(self, self._xp().zeros_like(self._data), "zero_")
