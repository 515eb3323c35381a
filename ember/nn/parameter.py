"""``Parameter`` (a tensor a Module learns) and ``Buffer`` (state a Module keeps)."""
from .._tensor import Tensor, _rebuild_tensor
from .. import _dtype


class Parameter(Tensor):
    """A leaf tensor registered as a module parameter when assigned as an attribute. It shares
    memory with the tensor it is made from, and requires grad by default."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            import numpy as np
            arr = np.empty((0,), _dtype._Defaults.float.np)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Parameter(): data must be a Tensor, got {type(data).__name__}")
        self = object.__new__(cls)
        self._data = arr
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    def __reduce_ex__(self, protocol):
        fn, args = super().__reduce_ex__(protocol)
        return (_rebuild_tensor, (Parameter,) + args[1:])


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a Module attribute
    (``self.running_mean = nn.Buffer(ember.zeros(3))``); ``persistent=False`` keeps it out of
    the state_dict."""

    def __new__(cls, data=None, *, persistent=True):
        if data is None:
            import numpy as np
            arr = np.empty((0,), _dtype._Defaults.float.np)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Buffer(): data must be a Tensor, got {type(data).__name__}")
        self = object.__new__(cls)
        self._data = arr
        self.persistent = persistent
        return self
