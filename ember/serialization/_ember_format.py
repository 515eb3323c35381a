"""ember's checkpoint format (version 1): a zip archive, uncompressed, holding

- ``manifest.json``: ``{"format": "ember", "version": 1, "byteorder": "little",
  "storages": [{"dtype": "float32", "numel": 6, "location": "cpu"}, ...], "object": <value>}``
- ``data/<i>``: the raw bytes of storage ``i`` (``numel`` elements of ``dtype`` in ``byteorder``),
  starting at a multiple of 64 bytes in the file, so that it can be memory-mapped.

A ``<value>`` is JSON: ``null``, booleans, integers, finite floats, strings and arrays (Python
lists) stand for themselves; every JSON object is a tagged value ``{"$": <tag>, ...}``:

====================  ======================================================================
``float``             ``"value"``: ``"nan"``, ``"inf"`` or ``"-inf"``
``complex``           ``"real"``, ``"imag"``: values
``bytes``/``bytearray``  ``"base64"``: the bytes
``tuple``/``set``/``frozenset``  ``"items"``: values
``namedtuple``        ``"name"``, ``"fields"``, ``"items"`` (rebuilt as a namedtuple class of
                      that name: no code is looked up)
``dict``/``OrderedDict``  ``"items"``: ``[key, value]`` pairs (keys are values too);
                      ``"attrs"`` (OrderedDict only): attributes such as a state_dict's
                      ``_metadata``
``tensor``            ``"dtype"`` (ember dtype name), ``"shape"``, ``"requires_grad"``,
                      ``"parameter"`` (saved from an ``nn.Parameter``), and unless empty
                      ``"storage"`` (index), ``"offset"`` and ``"stride"`` (in elements)
``ndarray``/``numpy_scalar``  a NumPy array or scalar: as a tensor, with a NumPy dtype name
``dtype``/``device``  ``"name"``: ``"float32"``, ``"cuda:0"``
``Size``              ``"items"``: the sizes
====================  ======================================================================

Tensors (and arrays) whose memory overlaps when saved are stored once and come back as views
of one storage; non-overlapping parts of a large tensor are not saved. CUDA tensors are copied
to the host one by one, so sharing between them is not kept. Loading reads JSON and raw numbers
only: it never imports or runs anything named in the file."""
import base64
import collections
import functools
import json
import math
import sys

import numpy as np

from .. import _dtype
from .._device import device as Device
from .._size import Size
from .._tensor import Tensor
from ._storage import make_tensor, view

FORMAT = "ember"
VERSION = 1
MANIFEST = "manifest.json"


class Unsupported(TypeError):
    """An object ember.save cannot store; ``path`` says where it sits in the saved object."""

    def __init__(self, obj, path="", reason=""):
        super().__init__(obj, path, reason)
        self.obj, self.path, self.reason = obj, path, reason

    def within(self, segment):
        return Unsupported(self.obj, segment + self.path, self.reason)


# ---- saving ---------------------------------------------------------------------------------
def prepare(obj):
    """``(manifest bytes, storage byte arrays)`` for ``obj``; raises Unsupported before
    anything is written."""
    encoder = _Encoder()
    root = encoder.encode(obj)
    storages, datas = encoder.plan_storages()
    manifest = {"format": FORMAT, "version": VERSION, "byteorder": sys.byteorder,
                "storages": storages, "object": root}
    return json.dumps(manifest, separators=(",", ":"), allow_nan=False).encode(), datas


def write(prepared, writer):
    manifest, datas = prepared
    writer.write(MANIFEST, manifest)
    for i, data in enumerate(datas):
        writer.write(f"data/{i}", data)


class _Encoder:
    def __init__(self):
        self.arrays = []     # (node, host array, location) of every non-empty tensor / array
        self._open = set()   # ids of the containers being encoded: a cycle cannot be saved

    def encode(self, obj):
        t = type(obj)
        if obj is None or t is bool or t is int or t is str:
            return obj
        if t is float:
            return obj if math.isfinite(obj) else {"$": "float", "value": repr(obj)}
        if isinstance(obj, Tensor):
            return self._tensor(obj)
        if isinstance(obj, (np.ndarray, np.generic)):
            tag = "ndarray" if isinstance(obj, np.ndarray) else "numpy_scalar"
            return self._data({"$": tag, "dtype": _numpy_dtype_name(obj.dtype),
                               "shape": list(np.shape(obj))}, np.asarray(obj), "cpu")
        if isinstance(obj, _dtype.dtype):
            return {"$": "dtype", "name": obj.name}
        if isinstance(obj, Device):
            return {"$": "device", "name": str(obj)}
        if isinstance(obj, Size):
            return {"$": "Size", "items": list(obj)}
        if isinstance(obj, (list, tuple, dict, set, frozenset)):
            return self._container(obj)
        if isinstance(obj, (bool, int, str)):  # IntEnum, str subclasses: their plain value
            return self.encode((int if isinstance(obj, int) else str)(obj))
        if isinstance(obj, float):
            return self.encode(float(obj))
        if isinstance(obj, complex):
            return {"$": "complex", "real": self.encode(obj.real), "imag": self.encode(obj.imag)}
        if isinstance(obj, (bytes, bytearray)):
            return {"$": type(obj).__name__ if type(obj) in (bytes, bytearray) else "bytes",
                    "base64": base64.b64encode(obj).decode("ascii")}
        raise Unsupported(obj)

    def _container(self, obj):
        if id(obj) in self._open:
            raise ValueError("ember.save: the object contains itself (a reference cycle); "
                             "break the cycle before saving")
        self._open.add(id(obj))
        try:
            if isinstance(obj, dict):
                node = {"$": "OrderedDict" if isinstance(obj, collections.OrderedDict) else "dict",
                        "items": [[self._item(k, None, ".keys()"), self._item(v, k, "[{!r}]")]
                                  for k, v in obj.items()]}
                attrs = getattr(obj, "__dict__", None)
                if attrs and node["$"] == "OrderedDict":
                    node["attrs"] = {str(k): self._item(v, k, ".{}") for k, v in attrs.items()}
                return node
            items = [self._item(v, i, "[{}]") for i, v in enumerate(obj)]
            if isinstance(obj, list):
                return items
            if isinstance(obj, tuple) and hasattr(type(obj), "_fields"):
                return {"$": "namedtuple", "name": type(obj).__name__,
                        "fields": list(type(obj)._fields), "items": items}
            tag = "tuple" if isinstance(obj, tuple) else (
                "frozenset" if isinstance(obj, frozenset) else "set")
            return {"$": tag, "items": items}
        finally:
            self._open.discard(id(obj))

    def _item(self, value, key, segment):
        """``value`` encoded; ``segment.format(key)`` (``['a']``, ``[3]``) locates it in
        errors."""
        try:
            return self.encode(value)
        except Unsupported as e:
            raise e.within(segment.format(key)) from None

    def _tensor(self, t):
        from ..nn.parameter import Parameter
        node = {"$": "tensor", "dtype": t.dtype.name, "shape": list(t._data.shape),
                "requires_grad": t._rg}
        if isinstance(t, Parameter):
            node["parameter"] = True
        data = t._data
        if type(data) is np.ndarray:
            return self._data(node, data, "cpu")
        return self._data(node, data.get(), str(t.device))

    def _data(self, node, arr, location):
        if arr.size == 0:
            node["location"] = location  # no storage: only where it lives
            return node
        item = arr.itemsize
        if not arr.dtype.isnative or any(s < 0 or s % item for s in arr.strides):
            arr = np.ascontiguousarray(arr, arr.dtype.newbyteorder("="))  # a plain copy
        self.arrays.append((node, arr, location))
        return node

    def plan_storages(self):
        """One storage per run of overlapping memory (same dtype and device); fills each
        tensor node's ``storage``, ``offset`` and ``stride``. Returns the storage records and
        their bytes."""
        groups = collections.defaultdict(list)
        for node, arr, location in self.arrays:
            item = arr.itemsize
            start = arr.__array_interface__["data"][0]
            end = start + item + sum((n - 1) * s for n, s in zip(arr.shape, arr.strides))
            # arrays overlap only if their elements line up: same dtype, same address mod size
            groups[(arr.dtype, start % item, location)].append((start, end, node, arr))
        storages, datas = [], []
        for (dt, _, location), members in groups.items():
            members.sort(key=lambda m: m[0])
            first = 0
            while first < len(members):
                low, high = members[first][0], members[first][1]
                last = first + 1
                while last < len(members) and members[last][0] < high:
                    high = max(high, members[last][1])
                    last += 1
                for start, _, node, arr in members[first:last]:
                    node.update(storage=len(storages), offset=(start - low) // dt.itemsize,
                                stride=[s // dt.itemsize for s in arr.strides])
                storages.append({"dtype": _numpy_dtype_name(dt),
                                 "numel": (high - low) // dt.itemsize, "location": location})
                datas.append(np.asarray(_Bytes(members[first][3], low, high - low)))
                first = last
        return storages, datas


class _Bytes:
    """Exposes the memory ``[address, address + nbytes)`` inside ``owner``'s allocation as a
    uint8 array, without copying."""

    def __init__(self, owner, address, nbytes):
        self.__array_interface__ = {"shape": (nbytes,), "typestr": "|u1",
                                    "data": (address, True), "version": 3}
        self._owner = owner  # keeps the memory alive


def _numpy_dtype_name(dt):
    try:
        if not (dt.hasobject or dt.fields or dt.subdtype) and \
                np.dtype(dt.name) == dt.newbyteorder("="):
            return dt.name
    except TypeError:
        pass
    raise Unsupported(np.empty(0, dt), reason=f"NumPy arrays of dtype {dt} (only arrays of "
                      f"numbers, bools and dates can be saved)")


# ---- loading --------------------------------------------------------------------------------
def load_archive(reader, place, mmap):
    source = reader.source
    try:
        manifest = json.loads(reader.read(MANIFEST))
        version = manifest["version"]
    except (ValueError, KeyError, TypeError) as e:
        raise source.error(f"is corrupt: its manifest is not valid ({e})") from None
    if not isinstance(version, int) or version > VERSION:
        raise source.error(f"was written by a newer ember (checkpoint format version "
                           f"{version}; this ember reads up to {VERSION}): upgrade ember")
    try:
        return _Decoder(reader, place, mmap, manifest).decode(manifest["object"])
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
        if getattr(e, "_ember", False):
            raise
        raise source.error(f"is corrupt: its manifest is not valid ({type(e).__name__}: "
                           f"{e})") from None


class _Decoder:
    def __init__(self, reader, place, mmap, manifest):
        self.reader, self.place, self.mmap = reader, place, mmap
        self.records = manifest["storages"]
        self.swap = manifest["byteorder"] != sys.byteorder
        self.storages = {}

    def decode(self, node):
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            return node
        return _DECODERS[node["$"]](self, node)

    def items(self, node):
        return [self.decode(v) for v in node["items"]]

    def storage(self, index):
        raw = self.storages.get(index)
        if raw is None:
            record = self.records[index]
            dt = _load_numpy_dtype(record["dtype"])
            raw = self.reader.array(f"data/{index}", self.mmap)
            if raw.size != record["numel"] * dt.itemsize:
                raise self.reader.source.error(
                    f"is corrupt: storage {index} holds {raw.size} bytes, but its record says "
                    f"{record['numel']} elements of {dt.name}")
            if self.swap:
                raw.view(dt).byteswap(inplace=True)
            raw = self.storages[index] = self.place(raw, record["location"])
        return raw

    def array(self, node, dt):
        shape = tuple(node["shape"])
        if "storage" not in node:  # empty: nothing saved but where it was
            return view(self.place(np.empty(0, np.uint8), node["location"]), dt, 0, shape, (),
                        "")
        return view(self.storage(node["storage"]), dt, node["offset"], shape,
                    tuple(node["stride"]), self.reader.source.name)

    def tensor(self, node):
        dt = getattr(_dtype, node["dtype"])
        if not isinstance(dt, _dtype.dtype):
            raise ValueError(f"unknown dtype {node['dtype']!r}")
        return make_tensor(self.array(node, dt.np), node["requires_grad"],
                           node.get("parameter", False))

    def ndarray(self, node):
        arr = self.array(node, _load_numpy_dtype(node["dtype"]))
        if type(arr) is not np.ndarray:  # map_location moved the storage: arrays stay on host
            arr = arr.get()
        return arr[()] if node["$"] == "numpy_scalar" else arr

    def mapping(self, node):
        pairs = [(self.decode(k), self.decode(v)) for k, v in node["items"]]
        if node["$"] == "dict":
            return dict(pairs)
        out = collections.OrderedDict(pairs)
        for name, value in node.get("attrs", {}).items():
            if not name.startswith("__"):  # plain attributes only, never Python's own
                setattr(out, name, self.decode(value))
        return out


def _load_numpy_dtype(name):
    dt = np.dtype(name)
    if dt.hasobject:
        raise ValueError(f"refusing NumPy dtype {name!r}")
    return dt


@functools.lru_cache(maxsize=None)
def _namedtuple(name, fields):
    return collections.namedtuple(name, fields)


_FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

_DECODERS = {
    "float": lambda d, n: _FLOATS[n["value"]],
    "complex": lambda d, n: complex(d.decode(n["real"]), d.decode(n["imag"])),
    "bytes": lambda d, n: base64.b64decode(n["base64"], validate=True),
    "bytearray": lambda d, n: bytearray(base64.b64decode(n["base64"], validate=True)),
    "tuple": lambda d, n: tuple(d.items(n)),
    "set": lambda d, n: set(d.items(n)),
    "frozenset": lambda d, n: frozenset(d.items(n)),
    "namedtuple": lambda d, n: _namedtuple(n["name"], tuple(n["fields"]))(*d.items(n)),
    "dict": _Decoder.mapping,
    "OrderedDict": _Decoder.mapping,
    "tensor": _Decoder.tensor,
    "ndarray": _Decoder.ndarray,
    "numpy_scalar": _Decoder.ndarray,
    "dtype": lambda d, n: _dtype.as_dtype(n["name"]),
    "device": lambda d, n: Device(n["name"]),
    "Size": lambda d, n: Size(n["items"]),
}
