"""``Function``: one differentiable op. An instance is both the ``ctx`` its forward fills in and
the node of the backward graph (``tensor.grad_fn``).

Built-in ops set ``_raw = True``: their forward receives NumPy/CuPy arrays (tensor arguments
unwrapped, other arguments as given) and returns arrays. User subclasses, as in PyTorch,
receive and return Tensors. Either way ``backward`` is written in Tensor ops, so gradients of
gradients come for free, and ``apply`` records the node the same way."""
from collections import OrderedDict

import numpy as np

from .._hooks import RemovableHandle, add_hook  # noqa: F401  (RemovableHandle: public here)
from .._tensor import Tensor, _new_tensor, DIFFERENTIABLE_NP
from .. import _errors
from .grad_mode import GradMode
from .anomaly import AnomalyMode, creation_stack
from . import tracing

_new = object.__new__
_ndarray = np.ndarray
_np_scalar = np.generic
_asarray = np.asarray


class Function:
    """Base class of differentiable ops (see the module docstring)."""

    _raw = False         # forward on arrays (built-in ops) or on Tensors (user Functions)
    _view = False        # outputs are views of input 0 (share its memory and version counter)
    op_name = None       # name in error messages and captured graphs; defaults to the class name
    xp = np              # array module of this call; cupy for CUDA tensors

    # Per-node state, set only when it differs from these defaults.
    _edges = ()          # per positional argument: (target, output_nr), None or False
    _to_save = None      # what forward passed to save_for_backward
    _saved = None        # packed saved tensors once recorded; False once freed
    _n_out = 1
    _out_meta = None     # (shape, array dtype) per output, to materialize missing gradients
    _pre_hooks = None    # output_nr -> {id: hook} (non-leaf tensors' hooks); None -> node pre-hooks
    _retained = None     # output_nr -> weakref to a tensor that called retain_grad()
    _post_hooks = None
    _non_diff = None     # ids of outputs marked non-differentiable
    _dirty = None        # ids of inputs modified in place by a user Function
    _materialize = True
    _stack = None        # creation stack, under anomaly detection
    _in_meta = None      # input shapes, checked against user Functions' gradients

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("op_name") is None:
            cls.op_name = cls.__name__

    # ---- forward -------------------------------------------------------------------------
    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom "
                                  "autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for "
                                  "your custom autograd.Function to use it with backward mode AD.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not overridden")

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run the op: forward on arrays (built-ins) or tensors (user Functions), then wrap the
        outputs and, if some input requires grad and grad mode is on, link the node into the
        graph. This is the hot path of every op: the common case (a NumPy array out) is kept
        short."""
        if not cls._raw:
            return _apply_user(cls, args, kwargs)
        vals = list(args)
        needs_grad = False
        arr_type = first = None
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                d = vals[i] = a._data
                if arr_type is None:
                    arr_type = type(d)
                    first = a
                elif type(d) is not arr_type or (arr_type is not _ndarray
                                                 and d.device != first._data.device):
                    return cls.apply(*_errors.fix_mixed_devices(cls.op_name, args), **kwargs)
                if a._base is not None and a._vc[0] != a._view_version:
                    refresh_view(a)
                if a._rg:
                    needs_grad = True
        ctx = _new(cls)
        if arr_type is not _ndarray and arr_type is not None:
            ctx.xp = _cupy()
        record = needs_grad and GradMode.enabled
        if record:
            ctx._edges = _edges_of(args)
        try:
            out = cls.forward(ctx, *vals, **kwargs)
        except Exception as e:
            raise _errors.from_forward(cls.op_name, args, kwargs, e) from None
        if type(out) is not _ndarray:
            if not isinstance(out, _np_scalar):  # NumPy reductions return scalars
                return _finish(ctx, cls, args, vals, kwargs, out, first, record)
            out = _asarray(out)
        t = _new(Tensor)
        t._data = out
        if cls._view:
            _share_view(first, t)
        if record and out.dtype in DIFFERENTIABLE_NP:
            t.grad_fn = ctx
            t._rg = True
            if ctx._to_save is not None:
                ctx._saved = [_pack(s, args, vals, (t,)) for s in ctx._to_save]
            if AnomalyMode.enabled:
                ctx._stack = creation_stack()
        if tracing.active is not None:
            tracing.active.record(cls, args, kwargs, (t,))
        return t

    # ---- ctx API used inside forward ----------------------------------------------------------
    def save_for_backward(self, *tensors):
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self._materialize = bool(value)

    @property
    def needs_input_grad(self):
        return tuple(bool(e) for e in self._edges)

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is False:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved "
                f"tensors after they have already been freed) in {self.name()}. Saved "
                f"intermediate values of the graph are freed when you call .backward() or "
                f"autograd.grad(). Specify retain_graph=True if you need to backward through the "
                f"graph a second time or if you need to access saved tensors after calling "
                f"backward.")
        if saved is None:  # forward saved something but nothing was recorded
            return tuple([_as_tensor(s) for s in (self._to_save or ())])
        out = []
        for entry in saved:
            if type(entry) is tuple:  # an input tensor and its version when saved
                t, version = entry
                vc = t._vc
                if (0 if vc is None else vc[0]) != version:
                    _errors.raise_modified_inplace(self, t, vc[0], version)
                out.append(t)
            elif type(entry) is _SavedOutput:
                out.append(entry.unpack(self))
            else:
                out.append(entry)
        return tuple(out)

    saved_variables = saved_tensors

    # ---- the node, as the engine and users see it --------------------------------------------
    def name(self):
        return type(self).__name__ + ("Backward0" if self._raw else "Backward")

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self):
        return tuple(_as_next_function(e) for e in self._edges if e is not False)

    @property
    def metadata(self):
        meta = self.__dict__.get("_metadata")
        if meta is None:
            meta = self._metadata = {}
        return meta

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` runs after this node's backward; it may return new
        grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = OrderedDict()
        return add_hook(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; it may return new ones."""
        return self._add_tensor_prehook(None, fn)

    def _add_tensor_prehook(self, output_nr, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        return add_hook(self._pre_hooks.setdefault(output_nr, OrderedDict()), fn)

    def _run_backward(self, grads):
        """Call backward with one gradient per output; returns one per forward argument."""
        if len(grads) == 1:
            result = type(self).backward(self, grads[0])
        else:
            if self._materialize and any(g is None for g in grads):
                grads = self._materialized(grads)
            result = type(self).backward(self, *grads)
        if type(result) is not tuple:
            result = (result,)
        n = len(self._edges)
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients "
                    f"(expected {n}, got {len(result)})")
        if self._in_meta is not None:
            result = _errors.check_user_grads(self, result)
        return result

    def _materialized(self, grads):
        xp = self.xp
        meta = self._out_meta
        return [g if g is not None else _new_tensor(xp.zeros(*meta[i]))
                for i, g in enumerate(grads)]


def _finish(ctx, cls, args, vals, kwargs, out, first, record):
    """The general tail of ``apply``: several outputs, NumPy scalars, CuPy arrays, user
    Functions' tensors."""
    if type(out) is tuple:
        outs = tuple(_wrap_output(ctx, o, args) for o in out)
    else:
        outs = (_wrap_output(ctx, out, args),)
    if cls._view:  # every output views input 0 (split/unbind give several)
        for o in outs:
            if o is not None:
                _share_view(first, o)
                if len(outs) > 1:
                    o._multi_view = True
    if record:
        _record(ctx, cls, args, vals, outs)
    if tracing.active is not None:
        tracing.active.record(cls, args, kwargs, outs)
    return outs if type(out) is tuple else outs[0]


def _apply_user(cls, args, kwargs):
    """``apply`` of a user Function: forward gets the tensors themselves, under no_grad."""
    needs_grad = False
    first = None
    for a in args:
        if isinstance(a, Tensor):
            if first is None:
                first = a
            elif type(a._data) is not type(first._data) or (
                    type(a._data) is not _ndarray and a._data.device != first._data.device):
                return cls.apply(*_errors.fix_mixed_devices(cls.op_name, args), **kwargs)
            if a._base is not None and a._vc[0] != a._view_version:
                refresh_view(a)
            if a._rg:
                needs_grad = True
    ctx = _new(cls)
    if first is not None and type(first._data) is not _ndarray:
        ctx.xp = _cupy()
    record = needs_grad and GradMode.enabled
    ctx._edges = _edges_of(args) if record else (None,) * len(args)
    prev = GradMode.enabled
    GradMode.enabled = False
    try:
        if "setup_context" in _overrides(cls):
            out = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, out)
        else:
            out = cls.forward(ctx, *args, **kwargs)
    finally:
        GradMode.enabled = prev
    return _finish(ctx, cls, args, None, kwargs, out, first, record)


def _cupy():
    from ..backend import cupy
    return cupy()


def _overrides(cls):
    return {name for klass in cls.__mro__ if klass is not Function for name in klass.__dict__}


def _wrap_output(ctx, o, args):
    if isinstance(o, Tensor):  # user Function output
        if ctx._dirty is not None and id(o) in ctx._dirty:
            o._bump()
            return o
        for a in args:  # an input returned as is becomes a new tensor sharing its memory
            if o is a:
                alias = _new_tensor(o._data)
                alias._vc = o._vc_box()
                return alias
        if o._rg or o.grad_fn is not None:
            o = o.detach()
        return o
    if o is None or type(o) is _ndarray:
        return o if o is None else _new_tensor(o)
    if isinstance(o, (np.generic, float, int, bool, complex)):  # NumPy reductions give scalars
        return _new_tensor(ctx.xp.asarray(o))
    if hasattr(o, "__cuda_array_interface__"):
        return _new_tensor(o)
    return o


def _share_view(base, view):
    """The output of a view op shares its input's memory: it shares the version counter and
    remembers the root tensor whose memory it views (and the version its history is for)."""
    vc = view._vc = base._vc_box()
    view._base = base._base if base._base is not None else base
    view._view_version = vc[0]


def _edges_of(args):
    """Per argument, where its gradient goes: the node that made it, the leaf tensor itself,
    None for a tensor that needs no gradient, False for a non-tensor argument."""
    return tuple([_edge(a) if isinstance(a, Tensor) else False for a in args])


def _edge(t):
    if not t._rg:
        return None
    fn = t.grad_fn
    return (t, 0) if fn is None else (fn, t._output_nr)


def _record(ctx, cls, args, vals, outs):
    """Link ``ctx`` into the graph: its outputs point back to it, its saved tensors are packed."""
    non_diff = ctx._non_diff
    n = len(outs)
    if n > 1:
        ctx._n_out = n
        ctx._out_meta = [(o.shape, o._data.dtype) if o is not None else ((), np.float32)
                         for o in outs]
    for i, o in enumerate(outs):
        if o is None or not isinstance(o, Tensor):
            continue
        if o._data.dtype not in DIFFERENTIABLE_NP or (
                non_diff is not None and (id(o) in non_diff or id(o._data) in non_diff)):
            continue
        o.grad_fn = ctx
        o._output_nr = i
        o._rg = True
    if not cls._raw:
        ctx._in_meta = [a.shape if isinstance(a, Tensor) else None for a in args]
    if ctx._to_save is not None:
        ctx._saved = [_pack(s, args, vals, outs) for s in ctx._to_save]
    if AnomalyMode.enabled:
        ctx._stack = creation_stack()


# A saved entry is (tensor, version) for an input (checked against the tensor's version counter
# on unpack), a _SavedOutput for an output, or the value itself (a tensor made from a saved
# array, a number, None).
def _pack(s, args, vals, outs):
    if type(s) is not _ndarray and not isinstance(s, Tensor):
        return _as_tensor(s)  # numbers, None, CuPy arrays
    for i, a in enumerate(args):
        if s is a or (vals is not None and s is vals[i]):
            if isinstance(a, Tensor):
                vc = a._vc
                return (a, 0 if vc is None else vc[0])
    for nr, o in enumerate(outs):
        if o is not None and (s is o or s is o._data):
            return _SavedOutput(o, nr)
    if isinstance(s, Tensor):
        vc = s._vc
        return (s, 0 if vc is None else vc[0])
    return _new_tensor(s)


class _SavedOutput:
    """An output saved for backward, kept without a reference to the output tensor (which
    would make a cycle through its grad_fn): unpacking rebuilds a tensor with this node as its
    grad_fn, sharing the output's memory and version counter."""
    __slots__ = ("data", "box", "version", "nr")

    def __init__(self, out, nr):
        self.data = out._data
        box = out._vc
        if box is None:
            box = out._vc_box()
        self.box = box
        self.version = box[0]
        self.nr = nr

    def unpack(self, node):
        if self.box[0] != self.version:
            _errors.raise_modified_inplace(node, _new_tensor(self.data), self.box[0],
                                           self.version, output_nr=self.nr)
        t = _new_tensor(self.data)
        t._vc = self.box
        t.grad_fn = node
        t._output_nr = self.nr
        t._rg = True
        return t


def _as_tensor(value):
    """Saved arrays come back as tensors; numbers and None as they are."""
    if type(value) is _ndarray or (type(value) not in _PLAIN
                                   and hasattr(value, "__cuda_array_interface__")):
        return _new_tensor(value)
    return value


_PLAIN = frozenset((float, int, bool, complex, type(None), tuple, list))


class AccumulateGrad:
    """What ``next_functions`` shows for a leaf tensor (ember's engine accumulates into leaves
    directly; this object only describes the edge)."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "torch::autograd::AccumulateGrad"

    def __repr__(self):
        return f"<AccumulateGrad object at {id(self):#x}>"

    next_functions = ()


def _as_next_function(edge):
    if edge is None:
        return (None, 0)
    target, nr = edge
    return (AccumulateGrad(target), 0) if isinstance(target, Tensor) else (target, nr)




class FunctionCtx:
    """Namespace some PyTorch code imports for type annotations (``torch.autograd.function.FunctionCtx``)."""


def once_differentiable(fn):
    """Marks a backward that cannot itself be differentiated: it runs under no_grad, and
    differentiating its result raises."""
    import functools

    @functools.wraps(fn)
    def wrapper(ctx, *grads):
        from .grad_mode import no_grad
        with no_grad():
            return fn(ctx, *grads)
    return wrapper


from .inplace import refresh_view  # noqa: E402  (inplace builds on Function)
