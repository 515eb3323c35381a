"""Reading PyTorch's checkpoints without torch.

Two layouts exist. ``torch.save`` (PyTorch >= 1.6) writes a zip archive ``<name>/data.pkl``
(the object, pickled) + ``<name>/data/<key>`` (one entry per storage, raw bytes) +
``<name>/byteorder`` ("little" / "big"). The legacy layout (``_use_new_zipfile_serialization=
False``, PyTorch < 1.6) is a stream of pickles: a magic number, a protocol version, system info,
the object, the list of storage keys, then each storage as an int64 element count and its
little-endian bytes.

In both, tensors are pickled as calls to ``torch._utils._rebuild_tensor_v2(storage, offset,
size, stride, requires_grad, hooks)`` on storages given as persistent ids ``('storage',
<storage type>, key, location, numel)``. The unpickler here resolves a fixed list of such
globals to ember's equivalents and refuses every other one, so loading never runs code named
in the file; ``add_safe_globals`` widens the list, ``weights_only=False`` lifts it."""
import collections
import contextlib
import io
import pickle
import struct
import sys

import numpy as np

from .. import _dtype
from .._device import device as Device
from .._errors import mark
from .._size import Size
from .._tensor import Tensor
from ._storage import make_tensor, view

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001

_STORAGE_TYPES = {
    "FloatStorage": _dtype.float32, "DoubleStorage": _dtype.float64,
    "HalfStorage": _dtype.float16, "BFloat16Storage": _dtype.bfloat16,
    "LongStorage": _dtype.int64, "IntStorage": _dtype.int32, "ShortStorage": _dtype.int16,
    "CharStorage": _dtype.int8, "ByteStorage": _dtype.uint8, "BoolStorage": _dtype.bool,
    "ComplexFloatStorage": _dtype.complex64, "ComplexDoubleStorage": _dtype.complex128,
    "UntypedStorage": _dtype.uint8,
}

# Names that PyTorch checkpoints use for things ember does not have: refused with the reason.
_NOT_IN_EMBER = {
    **{("torch", n): f"ember has no {n} tensors" for n in (
        "uint16", "uint32", "uint64", "complex32", "float8_e4m3fn", "float8_e5m2",
        "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8",
        "quint8", "qint32", "quint4x2", "quint2x4", "bits8", "bits16", "bits1x8", "bits2x4",
        "bits4x2")},
    **{("torch._utils", f"_rebuild_{kind}"): f"ember has no {what} tensors" for kind, what in (
        ("qtensor", "quantized"), ("sparse_tensor", "sparse"), ("nested_tensor", "nested"),
        ("meta_tensor_no_storage", "meta-device"), ("wrapper_subclass", "subclass"),
        ("xla_tensor", "XLA"), ("mlc_tensor", "MLC"))},
}


class _StorageType:
    """What ``torch.FloatStorage`` and friends unpickle to: the storage's element dtype."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


class _Storage:
    """A loaded storage: its bytes (placed on their device) and element dtype."""

    def __init__(self, raw, dtype, where):
        self.raw, self.dtype, self.where = raw, dtype, where

    def view(self, dtype, offset, size, stride):
        return view(self.raw, dtype.np, offset, tuple(size), tuple(stride), self.where)


def _storage_of(storage):
    if not isinstance(storage, _Storage):
        raise mark(pickle.UnpicklingError(
            f"ember.load: the checkpoint is corrupt: a tensor is built from "
            f"{type(storage).__name__} instead of a storage"))
    return storage


def _finish(arr, requires_grad, metadata):
    if metadata:  # lazily conjugated / negated views saved with their bits set
        if metadata.get("conj"):
            arr = arr.conj()
        if metadata.get("neg"):
            arr = -arr
    return make_tensor(arr, requires_grad)


def _rebuild_tensor(storage, storage_offset, size, stride):
    s = _storage_of(storage)
    return make_tensor(s.view(s.dtype, storage_offset, size, stride))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       metadata=None):
    s = _storage_of(storage)
    return _finish(s.view(s.dtype, storage_offset, size, stride), requires_grad, metadata)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks,
                       dtype, metadata=None):
    s = _storage_of(storage)
    return _finish(s.view(dtype, storage_offset, size, stride), requires_grad, metadata)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    from ..nn.parameter import Parameter
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _set_state(_rebuild_parameter(data, requires_grad, backward_hooks), state)


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor pickled with Python attributes, or a Parameter."""
    out = func(*args)
    if new_type is not type(out):
        if not (isinstance(new_type, type) and issubclass(new_type, Tensor)):
            raise mark(pickle.UnpicklingError(
                f"ember.load: refusing to rebuild a tensor as {new_type!r}"))
        out = new_type(out, out.requires_grad)  # Parameter(data, requires_grad)
    return _set_state(out, state)


def _set_state(tensor, state):
    """Python attributes saved with a tensor; private ones (``_x``) are not restored."""
    if isinstance(state, tuple):  # (__dict__, __slots__ values)
        state = {k: v for part in state if isinstance(part, dict) for k, v in part.items()}
    for name, value in (state or {}).items():
        if isinstance(name, str) and not name.startswith("_"):
            setattr(tensor, name, value)
    return tensor


def _latin1_encode(text, encoding="latin1"):
    """``_codecs.encode``, which protocol-2 pickles use for bytes, limited to latin-1."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise mark(pickle.UnpicklingError(
            f"ember.load: refusing _codecs.encode with encoding {encoding!r}"))
    return text.encode("latin1")


def _numpy_dtype(*args):
    dt = np.dtype(*args)
    if dt.hasobject:
        raise mark(pickle.UnpicklingError(
            "ember.load: refusing a NumPy array or scalar of Python objects"))
    return dt


def _numpy_scalar(dt, data=None):
    return np.ndarray((), _numpy_dtype(dt), data)[()]


def _numpy_reconstruct(cls, shape, code):
    if cls is not np.ndarray:
        raise mark(pickle.UnpicklingError(f"ember.load: refusing to rebuild {cls!r}"))
    return np.ndarray.__new__(np.ndarray, shape, code)


def _parameter_class():
    from ..nn.parameter import Parameter
    return Parameter


_SAFE = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("collections", "Counter"): collections.Counter,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
    ("_codecs", "encode"): _latin1_encode,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch._tensor", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch", "Tensor"): Tensor,
    ("torch", "Size"): Size,
    ("torch", "device"): Device,
    ("numpy", "dtype"): _numpy_dtype,
    ("numpy", "ndarray"): np.ndarray,
    **{(m, "scalar"): _numpy_scalar for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{(m, "_reconstruct"): _numpy_reconstruct
       for m in ("numpy.core.multiarray", "numpy._core.multiarray")},
    **{("torch", d.name): d for d in _dtype.ALL},
    **{(m, name): _StorageType(name, dt) for name, dt in _STORAGE_TYPES.items()
       for m in ("torch", "torch.cuda", "torch.storage")},
}

_user_safe = {}  # "module.qualname" -> object, from add_safe_globals


def add_safe_globals(safe_globals):
    """Allow more globals in PyTorch checkpoints (``torch.serialization.add_safe_globals``):
    a list of objects (classes, functions), or of ``(object, "module.name")`` pairs naming
    them as the checkpoint does. Only allow what cannot run harmful code when called."""
    for entry in safe_globals:
        obj, name = entry if isinstance(entry, tuple) else (
            entry, f"{entry.__module__}.{entry.__qualname__}")
        _user_safe[name] = obj


def get_safe_globals():
    return [(obj, name) for name, obj in _user_safe.items()]


def clear_safe_globals():
    _user_safe.clear()


@contextlib.contextmanager
def safe_globals(globals_list):
    """``with safe_globals([...]):`` allows those globals inside the block only."""
    saved = dict(_user_safe)
    add_safe_globals(globals_list)
    try:
        yield
    finally:
        _user_safe.clear()
        _user_safe.update(saved)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, storages, where, weights_only, pickle_args):
        super().__init__(file, **pickle_args)
        self._storages, self._where, self._weights_only = storages, where, weights_only

    def find_class(self, module, name):
        if (module, name) == ("torch.nn.parameter", "Parameter"):
            return _parameter_class()
        found = _SAFE.get((module, name))
        if found is None:
            found = _user_safe.get(f"{module}.{name}")
        if found is not None:
            return found
        reason = _NOT_IN_EMBER.get((module, name))
        if reason is not None:
            raise mark(pickle.UnpicklingError(
                f"ember.load: {self._where} holds {module}.{name}: {reason}. In PyTorch, "
                f"convert those tensors (e.g. .float()) and save again."))
        if not self._weights_only:
            if module == "torch" or module.startswith("torch."):
                module = "ember" + module[len("torch"):]
            return super().find_class(module, name)
        raise mark(pickle.UnpicklingError(
            f"ember.load: {self._where} needs the Python global '{module}.{name}', which ember "
            f"refuses to load: only tensors, containers and plain values are read, so loading "
            f"never runs code from the file. If the file holds a whole model or another "
            f"object (torch.save(model)), save its state_dict() in PyTorch and load that. If "
            f"you trust the file, allow the global with ember.serialization.add_safe_globals"
            f"([{name}]) or pass weights_only=False."))

    def persistent_load(self, pid):
        return self._storages(pid)


def _parse_pid(pid, where):
    """``(key, dtype, location, numel, view)`` from a persistent id."""
    if not isinstance(pid, tuple) or not pid:
        raise mark(pickle.UnpicklingError(f"ember.load: {where} is corrupt: unexpected "
                                          f"persistent id {pid!r}"))
    kind = pid[0].decode("ascii") if isinstance(pid[0], bytes) else pid[0]
    if kind == "module":
        raise mark(pickle.UnpicklingError(
            f"ember.load: {where} holds a whole model saved with torch.save(model) (the "
            f"legacy format): save its state_dict() in PyTorch and load that"))
    if kind != "storage" or len(pid) not in (5, 6):
        raise mark(pickle.UnpicklingError(f"ember.load: {where} is corrupt: unexpected "
                                          f"persistent id {pid!r}"))
    storage_type, key, location, numel = pid[1:5]
    if not isinstance(storage_type, _StorageType):
        raise mark(pickle.UnpicklingError(f"ember.load: {where} is corrupt: {storage_type!r} "
                                          f"is not a storage type"))
    if isinstance(location, bytes):
        location = location.decode("ascii")
    return str(key), storage_type.dtype, location, numel, (pid[5] if len(pid) == 6 else None)


def _check_size(raw, dtype, numel, what, where):
    if raw.size != numel * dtype.itemsize:
        raise RuntimeError(f"ember.load: {where} is corrupt: {what} holds {raw.size} bytes, "
                           f"expected {numel} elements of {dtype.name}")


def _unpickle(source, file, storages, weights_only, pickle_args):
    """Run the unpickler, turning damage to the file into a clear error."""
    try:
        return _Unpickler(file, storages, source.name, weights_only, pickle_args).load()
    except (pickle.UnpicklingError, EOFError, ValueError, KeyError, IndexError, TypeError,
            AttributeError, struct.error) as e:
        if getattr(e, "_ember", False):
            raise
        raise source.error(f"is truncated or corrupt: its pickled data cannot be read "
                           f"({type(e).__name__}: {e})") from None


def load_zip(reader, place, mmap, weights_only, pickle_args):
    source, names = reader.source, reader.names()
    if any(n.endswith("/constants.pkl") for n in names):
        raise source.error("is a TorchScript archive (torch.jit.save), not a checkpoint: in "
                           "PyTorch, load it with torch.jit.load and save its state_dict() "
                           "with torch.save")
    pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pickles:
        raise source.error("is a zip archive but neither an ember nor a PyTorch checkpoint "
                           "(it has no manifest.json and no <name>/data.pkl)")
    prefix = pickles[0][:-len("data.pkl")]
    byteorder = (reader.read(prefix + "byteorder").decode("ascii")
                 if prefix + "byteorder" in names else "little")
    loaded = {}

    def storage(pid):
        key, dtype, location, numel, _ = _parse_pid(pid, source.name)
        raw = loaded.get(key)
        if raw is None:
            raw = reader.array(f"{prefix}data/{key}", mmap)
            _check_size(raw, dtype, numel, f"storage {key}", source.name)
            if byteorder != sys.byteorder:
                raw.view(dtype.np).byteswap(inplace=True)
            raw = loaded[key] = place(raw, location)
        return _Storage(raw, dtype, source.name)

    data = io.BytesIO(reader.read(prefix + "data.pkl"))
    return _unpickle(source, data, storage, weights_only, pickle_args)


def load_legacy(source, place, weights_only, pickle_args):
    """The legacy stream. The storages' bytes follow the object, so the object is unpickled
    twice: once to learn the storages (into empty host buffers, then filled from the file),
    once more with the storages placed where ``map_location`` says."""
    file = source.file

    def plain():
        return _unpickle(source, file, _no_storages, weights_only, pickle_args)

    if plain() != MAGIC_NUMBER:
        raise source.error("is a pickle file but not a PyTorch checkpoint (no PyTorch magic "
                           "number); ember.load reads only ember and PyTorch checkpoints")
    if plain() != PROTOCOL_VERSION:
        raise source.error("is a PyTorch checkpoint of an unknown legacy protocol version")
    plain()  # system info; the storages are little-endian whatever machine wrote them
    start = file.tell()
    buffers = {}  # key -> (host bytes, dtype, location)

    def declare(pid):
        key, dtype, location, numel, view_of = _parse_pid(pid, source.name)
        if key not in buffers:
            buffers[key] = (np.empty(numel * dtype.itemsize, np.uint8), dtype, location)
        return _legacy_view(buffers[key][0], dtype, view_of, source.name)

    _unpickle(source, file, declare, weights_only, pickle_args)
    for key in plain():
        raw, dtype, _ = buffers.get(str(key), (None, None, None))
        if raw is None:
            raise source.error(f"is corrupt: storage {key!r} is listed but never used")
        header = file.read(8)
        numel = struct.unpack("<q", header)[0] if len(header) == 8 else -1
        got = file.readinto(memoryview(raw)) if numel >= 0 else 0
        if got != raw.size:
            raise source.error(f"is truncated: storage {key!r} should hold {raw.size} bytes")
        _check_size(raw, dtype, numel, f"storage {key!r}", source.name)
    placed = {}

    def serve(pid):
        key, dtype, location, _, view_of = _parse_pid(pid, source.name)
        if key not in placed:
            placed[key] = place(buffers[key][0], location)
        return _legacy_view(placed[key], dtype, view_of, source.name)

    file.seek(start)
    return _unpickle(source, file, serve, weights_only, pickle_args)


def _legacy_view(raw, dtype, view_of, where):
    """The storage, or the part of it that an old storage view (key, offset, size) covers."""
    if view_of is not None:
        _, offset, size = view_of
        raw = raw[offset * dtype.itemsize:(offset + size) * dtype.itemsize]
    return _Storage(raw, dtype, where)


def _no_storages(pid):
    raise mark(pickle.UnpicklingError("ember.load: the checkpoint is corrupt: a storage where "
                                      "none belongs"))

