"""``Parameter`` (a tensor a Module learns) and ``Buffer`` (state a Module keeps), as in
``torch.nn.parameter``."""
import numpy as np

from .._tensor import Tensor, _rebuild_tensor, _object_new
from .. import _dtype

__all__ = ["Parameter", "Buffer"]


def _data_of(cls_name, data):
    """The array a Parameter/Buffer wraps: ``data``'s own memory (no copy), or an empty default
    float tensor's."""
    if data is None:
        return np.empty((0,), _dtype._Defaults.float.np)
    if not isinstance(data, Tensor):
        raise TypeError(f"{cls_name}(): data must be a Tensor, got {type(data).__name__}")
    return data._data


class Parameter(Tensor):
    """A leaf tensor that is registered as a module parameter when assigned as a Module
    attribute. It shares memory (and the version counter) with the tensor it is made from, has
    no autograd history, and requires grad by default."""

    def __new__(cls, data=None, requires_grad=True):
        self = _object_new(cls)
        self._data = _data_of("Parameter", data)
        if isinstance(data, Tensor):
            self._vc = data._vc_box()
        if requires_grad:
            self.requires_grad = True  # raises for integer data, as PyTorch
        return self

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo):
        # As PyTorch: a new Parameter on a copy of the data; .grad and attributes are not copied.
        if id(self) in memo:
            return memo[id(self)]
        data = _object_new(Tensor)
        data._data = self._data.copy()
        result = type(self)(data, self._rg)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol):
        _, args = super().__reduce_ex__(protocol)
        return (_rebuild_tensor, (type(self),) + args[1:])


class _BufferMeta(type):
    """``isinstance(t, Buffer)`` is true for tensors made by ``Buffer(...)`` (which are plain
    tensors marked as buffers, as in PyTorch)."""

    def __instancecheck__(cls, instance):
        if cls is Buffer:
            return isinstance(instance, Tensor) and getattr(instance, "_is_buffer", False)
        return super().__instancecheck__(instance)


class Buffer(Tensor, metaclass=_BufferMeta):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (``self.running_mean = nn.Buffer(ember.zeros(3))``); ``persistent=False`` keeps it out of
    the state_dict. ``Buffer(t)`` returns a plain tensor sharing ``t``'s memory."""

    def __new__(cls, data=None, *, persistent=True):
        arr = _data_of("Buffer", data)
        t = _object_new(Tensor)
        t._data = arr
        if isinstance(data, Tensor):
            t._vc = data._vc_box()
            if data._rg:
                t._rg = True
        t.persistent = persistent
        t._is_buffer = True
        return t
