"""``Tensor``: an n-dimensional array on a device, with the state autograd needs.

A tensor holds its array in ``_data`` (a NumPy or CuPy ndarray, never a NumPy scalar). Autograd
state lives in attributes whose class-level defaults cover the common case, so that making a
tensor costs one object and one attribute:

- ``_rg``: requires grad; ``grad_fn`` / ``_output_nr``: the node that made it (None for leaves);
- ``_grad``: accumulated gradient; ``_vc``: version counter, a one-element list shared by all
  tensors viewing the same memory (created on first need); ``_base``: the tensor whose memory
  a view looks at.

Ops are bound as methods by ``ember.ops`` (see ``ember/ops/_registry.py``)."""
import weakref
from collections import OrderedDict

import numpy as np

from . import _dtype
from ._device import CPU, device as _device_cls
from ._hooks import add_hook
from ._size import Size

_object_new = object.__new__

# Array dtypes whose tensors can require grad.
DIFFERENTIABLE_NP = frozenset(d._np for d in _dtype.ALL
                              if (d.is_floating_point or d.is_complex) and d._np is not None)


def _new_tensor(data):
    """Wrap an array (no copy, no checks): the fast path every op's output goes through."""
    t = _object_new(Tensor)
    t._data = data
    return t


class Tensor:
    # Defaults shared by all tensors; instances set only what differs.
    grad_fn = None
    _rg = False
    _grad = None
    _output_nr = 0
    _vc = None
    _base = None
    _backward_hooks = None
    _post_accumulate_hooks = None
    _retains_grad = False
    _multi_view = False   # one of several views returned by one op (split, unbind, chunk)
    _view_version = 0     # a view's version counter value when its grad_fn was recorded
    _n_out = 1            # a leaf is an edge target with one gradient slot, like a node output
    __array_ufunc__ = None  # NumPy defers `ndarray op tensor` to the tensor's reflected operator

    def __new__(cls, *args, device=None, dtype=None):
        """``Tensor(data)`` / ``Tensor(*sizes)``, PyTorch's legacy constructor (default dtype)."""
        from ._creation import legacy_tensor
        return legacy_tensor(cls, args, device, dtype)

    __hash__ = object.__hash__

    # ---- metadata ------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self._data.shape)

    def size(self, dim=None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim, "size")]

    @property
    def dtype(self):
        return _dtype.NP_TO_DTYPE[self._data.dtype]

    @property
    def device(self):
        d = self._data
        if type(d) is np.ndarray:
            return CPU
        return _device_cls("cuda", d.device.id)

    @property
    def is_cuda(self):
        return type(self._data) is not np.ndarray

    @property
    def is_cpu(self):
        return type(self._data) is np.ndarray

    is_sparse = False
    is_quantized = False
    is_meta = False
    is_nested = False
    is_mkldnn = False

    @property
    def layout(self):
        from . import strided
        return strided

    @property
    def ndim(self):
        return self._data.ndim

    def dim(self):
        return self._data.ndim

    ndimension = dim

    def numel(self):
        return self._data.size

    nelement = numel

    @property
    def itemsize(self):
        return self._data.itemsize

    def element_size(self):
        return self._data.itemsize

    @property
    def nbytes(self):
        return self._data.nbytes

    def stride(self, dim=None):
        item = self._data.itemsize
        strides = tuple(s // item for s in self._data.strides)
        if dim is None:
            return strides
        return strides[_wrap_dim(dim, self._data.ndim, "stride")]

    def is_contiguous(self, memory_format=None):
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self):
        d = self._data
        if type(d) is np.ndarray:
            return d.__array_interface__["data"][0]
        return d.data.ptr

    def storage_offset(self):
        root = self._data
        while getattr(root, "base", None) is not None and hasattr(root.base, "shape"):
            root = root.base
        base_ptr = (root.__array_interface__["data"][0] if type(root) is np.ndarray
                    else root.data.ptr)
        return (self.data_ptr() - base_ptr) // self._data.itemsize

    def is_floating_point(self):
        return self.dtype.is_floating_point

    def is_complex(self):
        return self.dtype.is_complex

    def is_signed(self):
        return self.dtype.is_signed

    def get_device(self):
        d = self._data
        return -1 if type(d) is np.ndarray else d.device.id

    def _xp(self):
        if type(self._data) is np.ndarray:
            return np
        from .backend import cupy
        return cupy()

    # ---- autograd state ---------------------------------------------------------------------
    @property
    def requires_grad(self):
        if self._base is not None and self._vc[0] != self._view_version:
            from .autograd.inplace import refresh_view
            refresh_view(self)
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value):
        if self.grad_fn is not None:
            if not value:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach().")
            return
        if value and self._data.dtype not in DIFFERENTIABLE_NP:
            raise RuntimeError(
                f"only Tensors of floating point and complex dtype can require gradients "
                f"(this tensor is {self.dtype}); convert it first, e.g. x.float()")
        self._rg = bool(value)

    def requires_grad_(self, requires_grad=True):
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def grad(self):
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"assigned grad has data of a different size: grad shape "
                                   f"{tuple(value.shape)}, tensor shape {tuple(self.shape)}")
            if value.dtype is not self.dtype:
                raise RuntimeError(f"assigned grad has data of a different type: grad "
                                   f"{value.dtype}, tensor {self.dtype}")
            if value.device != self.device:
                raise RuntimeError(f"assigned grad has data located on a different device: grad "
                                   f"on {value.device}, tensor on {self.device}")
        self._grad = value

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def retains_grad(self):
        return self._retains_grad

    @property
    def data(self):
        """The same memory without autograd history (and, as in PyTorch, without sharing the
        version counter: changes through ``.data`` escape autograd's checks)."""
        return _new_tensor(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def _version(self):
        vc = self._vc
        return 0 if vc is None else vc[0]

    def _version_value(self):
        vc = self._vc
        return 0 if vc is None else vc[0]

    def _vc_box(self):
        """This tensor's version counter, created on first need."""
        vc = self._vc
        if vc is None:
            base = self._base
            vc = self._vc = base._vc_box() if base is not None else [0]
        return vc

    def _bump(self):
        self._vc_box()[0] += 1

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        from .autograd import engine
        engine.backward(self, gradient, retain_graph, create_graph, inputs)

    def register_hook(self, hook):
        """``hook(grad)`` runs when this tensor's gradient is computed; it may return a
        replacement."""
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            return self.grad_fn._add_tensor_prehook(self._output_nr, hook)
        if self._backward_hooks is None:
            self._backward_hooks = OrderedDict()
        return add_hook(self._backward_hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` runs after a leaf's ``.grad`` was accumulated."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._post_accumulate_hooks is None:
            self._post_accumulate_hooks = OrderedDict()
        return add_hook(self._post_accumulate_hooks, hook)

    def retain_grad(self):
        if not self._rg:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        fn = self.grad_fn
        if fn._retained is None:
            fn._retained = {}
        fn._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def detach(self):
        """The same memory (and version counter) without autograd history."""
        t = _new_tensor(self._data)
        t._vc = self._vc_box()
        return t

    def detach_(self):
        self.grad_fn = None
        self._rg = False
        self._output_nr = 0
        return self

    # ---- conversion to Python and NumPy -----------------------------------------------------------
    def numpy(self, *, force=False):
        if force:
            return self.detach().cpu()._data
        if self._rg:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use "
                               "tensor.detach().numpy() instead.")
        if type(self._data) is not np.ndarray:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            f"Tensor.cpu() to copy the tensor to host memory first.")
        return self._data

    def __array__(self, dtype=None, copy=None):
        if type(self._data) is not np.ndarray:
            raise TypeError(f"can't convert {self.device} device type tensor to numpy. Use "
                            f"Tensor.cpu() to copy the tensor to host memory first.")
        arr = self._data
        if dtype is not None and arr.dtype != dtype:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted "
                               f"to Scalar")
        return _to_python(self._data.reshape(()).item() if type(self._data) is np.ndarray
                          else self._data.reshape(()).get().item(), self._data.dtype)

    def tolist(self):
        arr = self._data if type(self._data) is np.ndarray else self._data.get()
        if arr.dtype not in _NATIVE_NP:
            arr = arr.astype(np.float32)
        return arr.tolist()

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)}); use .any() or .all()")
        return bool(self.item())

    def __float__(self):
        return float(_real_scalar(self, "double"))

    def __int__(self):
        return int(_real_scalar(self, "int64_t"))

    def __complex__(self):
        _check_scalar(self, "complex")
        return complex(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.dtype.is_complex or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __contains__(self, element):
        if isinstance(element, (Tensor, int, float, bool, complex)):
            return bool((self == element).any())
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed "
                           f"in a {type(element).__name__}.")

    def __repr__(self, *, tensor_contents=None):
        from ._tensor_str import tensor_repr
        return tensor_repr(self)

    def __format__(self, spec):
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def type(self, dtype=None, non_blocking=False):
        if dtype is None:
            prefix = "torch." if type(self._data) is np.ndarray else "torch.cuda."
            return prefix + _LEGACY_NAMES[self.dtype]
        if isinstance(dtype, str) and dtype.replace(".cuda", "").split(".")[-1] in _LEGACY_BY_NAME:
            cuda = ".cuda." in dtype
            t = self.to(_LEGACY_BY_NAME[dtype.split(".")[-1]])
            return t.cuda() if cuda else t
        return self.to(_dtype.as_dtype(dtype))

    # ---- pickling and copying ------------------------------------------------------------------
    def __reduce_ex__(self, protocol):
        data = self._data if type(self._data) is np.ndarray else self._data.get()
        data = np.ascontiguousarray(data).reshape(data.shape)  # ascontiguousarray makes 0-d 1-d
        return (_rebuild_tensor, (type(self), data, self._rg, str(self.device)))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment. If you were "
                               "attempting to deepcopy a module, this may be because of a "
                               "torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        import copy
        new = _object_new(type(self))
        new._data = self._data.copy()
        new._rg = self._rg
        if self._grad is not None:
            new._grad = copy.deepcopy(self._grad, memo)
        extra = {k: v for k, v in self.__dict__.items() if not k.startswith("_")
                 and k not in ("grad_fn",)}
        for k, v in extra.items():
            setattr(new, k, copy.deepcopy(v, memo))
        memo[id(self)] = new
        return new


def _rebuild_tensor(cls, data, requires_grad, device):
    from .backend import move
    from ._device import device as make_device
    t = _object_new(cls)
    t._data = move(data, make_device(device))
    t._rg = requires_grad
    return t


def _wrap_dim(dim, ndim, op):
    """A dim in [-ndim, ndim) made non-negative; 0-d tensors accept -1 and 0."""
    n = ndim if ndim > 0 else 1
    if not isinstance(dim, int) and not hasattr(dim, "__index__"):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of "
                         f"[{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def _check_scalar(t, kind):
    if t._data.size != 1:
        raise ValueError(f"only one element tensors can be converted to Python scalars "
                         f"(got {t._data.size} elements for {kind}())")


def _real_scalar(t, ctype):
    """The single value of ``t`` for float()/int(); complex values refuse, as in PyTorch."""
    _check_scalar(t, "float" if ctype == "double" else "int")
    value = t.item()
    if isinstance(value, complex):
        raise RuntimeError(f"value cannot be converted to type {ctype} without overflow "
                           f"(a complex tensor has no real value; use .real or .abs())")
    return value


_NATIVE_NP = frozenset(np.dtype(n) for n in ("bool", "uint8", "int8", "int16", "int32", "int64",
                                             "float16", "float32", "float64", "complex64",
                                             "complex128"))


def _to_python(value, np_dtype):
    if np_dtype in _NATIVE_NP:
        return value
    return float(value)  # bfloat16 scalars become Python floats


_LEGACY_NAMES = {
    _dtype.float32: "FloatTensor", _dtype.float64: "DoubleTensor", _dtype.float16: "HalfTensor",
    _dtype.bfloat16: "BFloat16Tensor", _dtype.int64: "LongTensor", _dtype.int32: "IntTensor",
    _dtype.int16: "ShortTensor", _dtype.int8: "CharTensor", _dtype.uint8: "ByteTensor",
    _dtype.bool: "BoolTensor", _dtype.complex64: "ComplexFloatTensor",
    _dtype.complex128: "ComplexDoubleTensor",
}
_LEGACY_BY_NAME = {v: k for k, v in _LEGACY_NAMES.items()}
