"""The safetensors format, implemented directly (the ``safetensors`` package is not needed), with
the API of ``safetensors.torch``: ``save_file``, ``load_file``, ``save``, ``load``,
``safe_open``.

A file is: 8 bytes, the little-endian length N of the header; N bytes of JSON header, padded
with spaces to a multiple of 8, mapping each tensor name to ``{"dtype": "F32", "shape": [2, 3],
"data_offsets": [begin, end]}`` (byte offsets into the data that follows) plus an optional
``"__metadata__"`` of string to string; then the tensors' bytes, C-contiguous, little-endian,
back to back with no gaps, covering the rest of the file exactly."""
import io
import json
import os

import numpy as np

from .. import _dtype
from .._tensor import Tensor
from ._io import open_source, open_target, read_all
from ._storage import make_tensor, placement

_DTYPES = {"BOOL": _dtype.bool, "U8": _dtype.uint8, "I8": _dtype.int8, "I16": _dtype.int16,
           "F16": _dtype.float16, "BF16": _dtype.bfloat16, "I32": _dtype.int32,
           "F32": _dtype.float32, "C64": _dtype.complex64, "F64": _dtype.float64,
           "I64": _dtype.int64}
_CODES = {d: code for code, d in _DTYPES.items()}
# The reference writer's dtype order; it puts tensors of later dtypes first (then sorts by
# name), which keeps every tensor aligned to its element size. ember writes the same order.
_ORDER = ("BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
          "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64")
_RANK = {code: i for i, code in enumerate(_ORDER)}
MAX_HEADER = 100_000_000  # the reference reader's limit
METADATA = "__metadata__"


# ---- saving -----------------------------------------------------------------------------------
def save(tensors, metadata=None):
    """The safetensors bytes of ``tensors`` (a dict of name -> tensor)."""
    header, arrays = _prepare(tensors, metadata, "save")
    out = io.BytesIO()
    _write(out, header, arrays)
    return out.getvalue()


def save_file(tensors, filename, metadata=None):
    """Write ``tensors`` (a dict of name -> tensor) to ``filename`` (atomically: a crash never
    leaves a partial file). ``metadata``: a dict of str -> str stored in the header."""
    header, arrays = _prepare(tensors, metadata, "save_file")
    with open_target(filename, "save_file") as f:
        _write(f, header, arrays)


def _prepare(tensors, metadata, op):
    if not isinstance(tensors, dict):
        raise TypeError(f"{op}: tensors must be a dict of name -> tensor, got "
                        f"{type(tensors).__name__}")
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError(f"{op}: metadata must be a dict of str -> str (convert values with "
                        f"str() or json.dumps), got {metadata!r:.100}")
    for name, t in tensors.items():
        if not isinstance(name, str) or name == METADATA:
            raise TypeError(f"{op}: tensor names must be strings other than {METADATA!r}, "
                            f"got {name!r}")
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: {name!r} is a {type(t).__name__}, not a tensor")
        if t.dtype not in _CODES:
            raise TypeError(f"{op}: {name!r} is {t.dtype}, which safetensors cannot store; "
                            f"convert it first (e.g. .to(ember.complex64))")
        if not t.is_contiguous():
            raise ValueError(
                f"{op}: {name!r} is not contiguous (shape {list(t.shape)}, stride "
                f"{list(t.stride())}); safetensors stores C-contiguous data. Call .contiguous() "
                f"on it, or save the tensor it is a view of and slice after loading.")
    _check_not_shared(tensors, op)
    order = sorted(tensors, key=lambda n: (-_RANK[_CODES[tensors[n].dtype]], n))
    header = {METADATA: metadata} if metadata else {}
    arrays, offset = [], 0
    for name in order:
        t = tensors[name]
        arr = t._data if type(t._data) is np.ndarray else t._data.get()
        header[name] = {"dtype": _CODES[t.dtype], "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        arrays.append(arr.reshape(-1).view(np.uint8))
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return text + b" " * (-len(text) % 8), arrays


def _check_not_shared(tensors, op):
    spans = sorted((str(t.device), t.data_ptr(), t.data_ptr() + t.nbytes, name)
                   for name, t in tensors.items() if t.nbytes)
    shared = [(a[3], b[3]) for a, b in zip(spans, spans[1:]) if a[0] == b[0] and b[1] < a[2]]
    if shared:
        raise RuntimeError(
            f"{op}: some tensors share memory, which safetensors cannot represent (they would "
            f"be written twice and come back as independent copies): {shared}. Save only one "
            f"of them, or .clone() the others first.")


def _write(f, header, arrays):
    f.write(len(header).to_bytes(8, "little"))
    f.write(header)
    for arr in arrays:
        f.write(arr)


# ---- loading ----------------------------------------------------------------------------------
def load(data, device="cpu"):
    """The tensors in safetensors bytes ``data``, as a dict."""
    buf = np.frombuffer(bytearray(data), np.uint8)
    return read(buf, "the safetensors bytes", placement(_device(device), "load"))


def load_file(filename, device="cpu"):
    """The tensors in safetensors file ``filename``, as a dict, on ``device``."""
    place = placement(_device(device), "load_file")
    with open_source(filename, "load_file") as source:
        return read(read_all(source), source.name, place)


def read(buf, where, place):
    """The tensors in the safetensors bytes ``buf`` (a uint8 array); their data is placed with
    ``place(raw, 'cpu')`` and viewed, not copied."""
    entries, _, start = _parse_header(lambda k: buf[:k].tobytes(), buf.size, where)
    data = place(buf[start:], "cpu")
    return {name: make_tensor(data[begin:end].view(dt.np).reshape(shape))
            for name, dt, shape, begin, end in entries}


def _device(device):
    return f"cuda:{device}" if isinstance(device, int) and not isinstance(device, bool) \
        else device


def _parse_header(prefix, size, where):
    """``(entries, metadata, data_start)`` of a file of ``size`` bytes whose first ``k`` bytes
    are ``prefix(k)``; entries ``(name, dtype, shape, begin, end)`` sorted by offset. Every
    rule of the format is checked: a bad file never gives wrong tensors."""
    def bad(problem):
        return RuntimeError(f"safetensors: {where} is not a valid safetensors file: {problem}")

    if size < 8:
        raise bad(f"it has {size} bytes, fewer than the 8-byte header length")
    n = int.from_bytes(prefix(8), "little")
    if n > MAX_HEADER:
        raise bad(f"its header length {n} is over the limit of {MAX_HEADER} bytes")
    if 8 + n > size:
        raise bad(f"its header says {n} bytes but the file ends after {size - 8}; the file "
                  f"is truncated")
    try:
        header = json.loads(prefix(8 + n)[8:].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise bad(f"its header is not UTF-8 JSON ({e})") from None
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    metadata = header.pop(METADATA, None)
    if metadata is not None and not (isinstance(metadata, dict) and all(
            isinstance(v, str) for v in metadata.values())):
        raise bad("its __metadata__ is not a map of strings to strings")
    entries = [_entry(name, info, bad) for name, info in header.items()]
    entries.sort(key=lambda e: (e[3], e[4]))
    end = 0
    for name, dt, shape, begin, stop in entries:
        if begin != end:
            raise bad(f"tensor {name!r} starts at byte {begin} of the data, expected {end} "
                      f"(tensors must follow each other without gaps or overlaps)")
        end = stop
    if 8 + n + end != size:
        raise bad(f"its tensors cover {end} bytes of data but {size - 8 - n} follow the "
                  f"header; the file is truncated or has trailing bytes")
    return entries, metadata, 8 + n


def _entry(name, info, bad):
    try:
        code, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
    except (TypeError, KeyError, ValueError):
        raise bad(f"the entry of {name!r} needs dtype, shape and data_offsets [begin, end], "
                  f"got {info!r:.100}") from None
    if code not in _DTYPES:
        what = "is not a safetensors dtype" if code not in _RANK else "has no ember dtype"
        raise bad(f"tensor {name!r} has dtype {code!r}, which {what}")
    ints = [*shape, begin, end] if isinstance(shape, list) else [None]
    if not all(type(v) is int and v >= 0 for v in ints):
        raise bad(f"tensor {name!r} has a malformed shape {shape!r} or offsets "
                  f"{[begin, end]!r}")
    nbytes = int(np.prod(shape, dtype=object)) * _DTYPES[code].itemsize
    if end - begin != nbytes:
        raise bad(f"tensor {name!r} of dtype {code} and shape {shape} needs {nbytes} bytes "
                  f"but its offsets span {end - begin}")
    return name, _DTYPES[code], tuple(shape), begin, end


class safe_open:
    """Lazy access to a safetensors file, as ``safetensors.safe_open``: reads the header, then
    single tensors on request.

        with safe_open("model.safetensors", framework="pt") as f:
            for name in f.keys():
                t = f.get_tensor(name)
    """

    def __init__(self, filename, framework="pt", device="cpu"):
        if framework not in ("pt", "pytorch", "torch", "ember"):
            raise ValueError(f"safe_open: framework {framework!r} is not supported by ember; "
                             f"use 'pt'")
        self._place = placement(_device(device), "safe_open")
        self._name = repr(os.fspath(filename))
        self._file = open(os.fspath(filename), "rb")
        try:
            entries, self._metadata, self._start = _parse_header(
                self._prefix, os.fstat(self._file.fileno()).st_size, self._name)
        except BaseException:
            self._file.close()
            raise
        self._entries = {e[0]: e for e in entries}

    def _prefix(self, k):
        self._file.seek(0)
        return self._file.read(k)

    def keys(self):
        return list(self._entries)

    def metadata(self):
        return self._metadata

    def get_tensor(self, name):
        try:
            _, dt, shape, begin, end = self._entries[name]
        except KeyError:
            raise KeyError(f"safe_open: no tensor named {name!r} in {self._name}") from None
        raw = np.empty(end - begin, np.uint8)
        self._file.seek(self._start + begin)
        if self._file.readinto(memoryview(raw)) != raw.size:
            raise RuntimeError(f"safe_open: {self._name} is truncated")
        return make_tensor(self._place(raw, "cpu").view(dt.np).reshape(shape))

    def close(self):
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


__all__ = ["save", "save_file", "load", "load_file", "safe_open"]
