"""``ember.device``: where a tensor lives, and the array module (NumPy or CuPy) that serves it."""
import numpy as np

_TYPES = ("cpu", "cuda")


class device:
    """``device('cpu')``, ``device('cuda')``, ``device('cuda:1')``, ``device('cuda', 1)``.

    Instances are interned, so ``is`` works between equal devices."""

    __slots__ = ("type", "index")
    _cache = {}

    def __new__(cls, type, index=None):
        if isinstance(type, device):
            return type
        key = (type, index)
        found = cls._cache.get(key)
        if found is not None:
            return found
        if isinstance(type, int) and not isinstance(type, bool):  # device(0) means cuda:0
            type, index = "cuda", type
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string like 'cpu' or 'cuda:0', got {type!r}")
        kind, _, idx = type.partition(":")
        if kind not in _TYPES:
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {type}")
        if idx:
            if index is not None:
                raise RuntimeError(f"device(): index given twice in {type!r} and index={index}")
            if not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"cpu device index must be 0 or None, got {index}")
        self = object.__new__(cls)
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", index)
        canonical = cls._cache.setdefault((kind, index), self)
        cls._cache[key] = canonical
        return canonical

    def __setattr__(self, name, value):
        raise AttributeError("device objects are immutable")

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))


CPU = device("cpu")


def as_device(d):
    """Normalize a user-given device (None, str, int, device) ; None stays None."""
    if d is None or type(d) is device:
        return d
    return device(d)


def device_of_array(arr):
    """The device holding a NumPy or CuPy array."""
    if type(arr) is np.ndarray:
        return CPU
    return device("cuda", arr.device.id)
