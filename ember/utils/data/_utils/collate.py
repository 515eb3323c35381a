"""Turning a list of samples into a batch.

``collate(batch, collate_fn_map=...)`` looks at the type of the first sample: a type found in
``collate_fn_map`` (exactly, then by ``isinstance`` in insertion order) is collated by its
function; mappings are collated per key, namedtuples per field, other sequences are
transposed and collated per position. ``default_collate`` is ``collate`` with
``default_collate_fn_map``: tensors and NumPy arrays are stacked along a new first dim, NumPy
scalars become a tensor, Python floats a float64 tensor, ints (and bools) an int64 (bool)
tensor, strings and bytes stay a list. Extend it by adding entries to
``default_collate_fn_map``.

``default_convert`` (the DataLoader's default when batching is off) only turns NumPy arrays and
scalars into tensors, at any depth."""
import collections.abc
import copy
import re

import numpy as np

from ...._tensor import Tensor, _new_tensor

__all__ = ["collate", "default_collate", "default_convert", "default_collate_fn_map",
           "collate_tensor_fn", "collate_numpy_array_fn", "collate_numpy_scalar_fn",
           "collate_float_fn", "collate_int_fn", "collate_str_fn"]

# NumPy dtype codes (bytes, str, object) that have no tensor equivalent.
_STR_OR_OBJECT = re.compile("[SaUO]")

_TYPE_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
               "lists; found {}")


def default_convert(data):
    """``data`` with every NumPy array and scalar in it (at any depth of mappings and
    sequences) turned into a tensor; everything else is left as it is."""
    import ember
    if isinstance(data, Tensor):
        return data
    cls = type(data)
    if cls.__module__ == "numpy" and not isinstance(data, (np.str_, np.bytes_)):
        if isinstance(data, np.ndarray) and _STR_OR_OBJECT.search(data.dtype.str):
            return data
        return ember.as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return cls(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, values):
    """A mapping of ``like``'s type holding ``values`` (a plain dict if the type can't be
    rebuilt from a dict)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like, items):
    """A sequence of ``like``'s type holding ``items`` (a list if that type can't be
    rebuilt). Plain tuples become lists, as in PyTorch."""
    if isinstance(like, tuple):
        return items
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Collate a list of samples by the type of the first one (see the module docstring)."""
    elem = batch[0]
    cls = type(elem)
    if collate_fn_map is not None:
        fn = collate_fn_map.get(cls)
        if fn is None:
            fn = next((f for t, f in collate_fn_map.items() if isinstance(elem, t)), None)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch],
                                                    collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return cls(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        for i, other in enumerate(batch):
            if len(other) != size:
                raise RuntimeError(
                    f"each element in list of batch should be of equal size (element 0 has "
                    f"{size} items, element {i} has {len(other)}); pad the sequences or pass "
                    f"a collate_fn that handles different lengths")
        return _rebuild_sequence(elem, [collate(s, collate_fn_map=collate_fn_map)
                                        for s in zip(*batch)])
    raise TypeError(_TYPE_ERROR.format(cls))


def default_collate(batch):
    """Stack a list of samples into a batch (``DataLoader``'s default ``collate_fn``)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)


def _check_same_shape(arrays):
    shape = arrays[0].shape
    for i, a in enumerate(arrays):
        if a.shape != shape:
            raise RuntimeError(
                f"default_collate: stack expects each tensor to be equal size, but got "
                f"{list(shape)} at entry 0 and {list(a.shape)} at entry {i}; samples batched "
                f"together must have the same shape (resize or pad them, or pass a collate_fn)")


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """``stack(batch)``: NumPy-backed tensors of one dtype that need no gradient are stacked
    in one ``np.stack``; the rest (dtype promotion, devices, autograd) through
    ``ember.stack``."""
    arrays = [t._data for t in batch]
    _check_same_shape(arrays)
    first = arrays[0]
    if (type(first) is np.ndarray and all(type(a) is np.ndarray and a.dtype == first.dtype
                                          for a in arrays)
            and not any(t._rg for t in batch)):
        return _new_tensor(np.stack(arrays))
    import ember
    return ember.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    dtype = batch[0].dtype
    if _STR_OR_OBJECT.search(dtype.str):
        raise TypeError(_TYPE_ERROR.format(dtype))
    import ember
    fast = collate_fn_map is None or collate_fn_map.get(Tensor) is collate_tensor_fn
    if fast and all(a.dtype == dtype for a in batch):
        _check_same_shape(batch)
        return ember.as_tensor(np.stack(batch))
    return collate([ember.as_tensor(a) for a in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    import ember
    return ember.as_tensor(batch)


def collate_float_fn(batch, *, collate_fn_map=None):
    import ember
    return ember.tensor(batch, dtype=ember.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    import ember
    return ember.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}
