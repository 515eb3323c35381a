"""``Function``: one differentiable op. An instance is both the ``ctx`` its forward fills in and
the node of the backward graph (``tensor.grad_fn``).

Built-in ops set ``_raw = True``: their forward receives NumPy/CuPy arrays (tensor arguments
unwrapped, other arguments as given) and returns arrays. User subclasses, as in PyTorch,
receive and return Tensors. Either way ``backward`` is written in Tensor ops, so gradients of
gradients come for free, and ``apply`` records the node the same way."""
import numpy as np

from .._tensor import Tensor, _new_tensor, DIFFERENTIABLE_NP
from .. import _errors
from .grad_mode import GradMode
from .anomaly import AnomalyMode, creation_stack
from . import tracing

_new = object.__new__
_ndarray = np.ndarray


class Function:
    """Base class of differentiable ops (see the module docstring)."""

    _raw = False         # forward on arrays (built-in ops) or on Tensors (user Functions)
    _view = False        # outputs are views of input 0 (share its memory and version counter)
    op_name = None       # name in error messages and captured graphs; defaults to the class name
    xp = np              # array module of this call; cupy for CUDA tensors

    # Per-node state, set only when it differs from these defaults.
    _edges = ()          # per positional argument: (target, output_nr) or None
    _to_save = None      # what forward passed to save_for_backward
    _saved = None        # packed saved tensors once recorded; False once freed
    _n_out = 1
    _out_meta = None     # (shape, array dtype) per output, to materialize missing gradients
    _pre_hooks = None    # output_nr -> [hook] (hooks of non-leaf tensors)
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
        needs_grad = False
        arr_type = first = None
        for a in args:
            if isinstance(a, Tensor):
                d = a._data
                if arr_type is None:
                    arr_type = type(d)
                    first = a
                elif type(d) is not arr_type or (arr_type is not _ndarray
                                                 and d.device != first._data.device):
                    args = _errors.fix_mixed_devices(cls.op_name, args)
                    return cls.apply(*args, **kwargs)
                if a._rg:
                    needs_grad = True
        ctx = _new(cls)
        record = needs_grad and GradMode.enabled
        if record:
            ctx._edges = _edges_of(args)
        elif not cls._raw:
            ctx._edges = (None,) * len(args)
        if arr_type is not None and arr_type is not _ndarray:
            from ..backend import cupy
            ctx.xp = cupy()
        if cls._raw:
            vals = [a._data if isinstance(a, Tensor) else a for a in args]
            try:
                out = cls.forward(ctx, *vals, **kwargs)
            except Exception as e:
                raise _errors.from_forward(cls.op_name, args, kwargs, e) from None
        else:
            vals = None
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

        if type(out) is tuple:
            outs = tuple(_wrap_output(ctx, o, args) for o in out)
        else:
            outs = (_wrap_output(ctx, out, args),)
        if cls._view:  # every output views input 0 (split/unbind give several)
            for o in outs:
                if o is not None:
                    _share_view(first, o)
        if record:
            _record(ctx, cls, args, vals, outs)
        if tracing.active is not None:
            tracing.active.record(cls, args, kwargs, outs)
        return outs if type(out) is tuple else outs[0]

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
        return tuple(e is not None for e in self._edges)

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
            return tuple(_as_tensor(s) for s in (self._to_save or ()))
        return tuple(_unpack(self, entry) for entry in saved)

    saved_variables = saved_tensors

    # ---- the node, as the engine and users see it --------------------------------------------
    def name(self):
        return type(self).__name__ + ("Backward0" if self._raw else "Backward")

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    @property
    def next_functions(self):
        return tuple(_as_next_function(e) for e in self._edges)

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
            self._post_hooks = []
        self._post_hooks.append(fn)
        return _RemovableHandle(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` runs before this node's backward; it may return new ones."""
        if self.__dict__.get("_node_prehooks") is None:
            self._node_prehooks = []
        self._node_prehooks.append(fn)
        return _RemovableHandle(self._node_prehooks, fn)

    def _add_tensor_prehook(self, output_nr, fn):
        if self._pre_hooks is None:
            self._pre_hooks = {}
        hooks = self._pre_hooks.setdefault(output_nr, [])
        hooks.append(fn)
        return _RemovableHandle(hooks, fn)

    def _run_backward(self, grads):
        """Call backward with one gradient per output; returns one per forward argument."""
        if self._materialize and None in grads:
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

    def _release(self):
        """Free saved tensors after a backward without retain_graph."""
        if self._saved is not None:
            self._saved = False
        self._to_save = None


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
    remembers the root tensor whose memory it views."""
    view._vc = base._vc_box()
    view._base = base._base if base._base is not None else base


def _edges_of(args):
    """Per argument, where its gradient goes: the node that made it, the leaf tensor itself, or
    None when it needs no gradient."""
    edges = []
    for a in args:
        if isinstance(a, Tensor) and a._rg:
            fn = a.grad_fn
            edges.append((a, 0) if fn is None else (fn, a._output_nr))
        else:
            edges.append(None)
    return tuple(edges)


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
        if o._data.dtype not in DIFFERENTIABLE_NP or (non_diff is not None and id(o) in non_diff):
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


# Saved entries: ("in", tensor, version) for an input, ("out", data, version counter, version,
# output_nr) for an output (kept without a reference to the output tensor, which would make a
# cycle through grad_fn), ("const", value) for anything else.
def _pack(s, args, vals, outs):
    if s is None:
        return ("const", None)
    for i, a in enumerate(args):
        if isinstance(a, Tensor) and (s is a or (vals is not None and s is vals[i])):
            return ("in", a, a._version_value())
    for nr, o in enumerate(outs):
        if o is not None and (s is o or s is o._data):
            box = o._vc_box()
            return ("out", o._data, box, box[0], nr)
    if isinstance(s, Tensor):
        return ("in", s, s._version_value())
    return ("const", s)


def _unpack(node, entry):
    kind = entry[0]
    if kind == "in":
        t = entry[1]
        if t._version_value() != entry[2]:
            _errors.raise_modified_inplace(node, t, t._version_value(), entry[2])
        return t
    if kind == "out":
        _, data, box, version, nr = entry
        if box[0] != version:
            _errors.raise_modified_inplace(node, _new_tensor(data), box[0], version, output_nr=nr)
        t = _new_tensor(data)
        t._vc = box
        t.grad_fn = node
        t._output_nr = nr
        t._rg = True
        return t
    return _as_tensor(entry[1])


def _as_tensor(value):
    """Saved arrays come back as tensors; scalars and None as they are."""
    if type(value) is _ndarray or hasattr(value, "__cuda_array_interface__"):
        return _new_tensor(value)
    return value


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


class _RemovableHandle:
    def __init__(self, container, item):
        self._container, self._item = container, item

    def remove(self):
        try:
            if isinstance(self._container, dict):
                self._container.pop(self._item, None)
            else:
                self._container.remove(self._item)
        except ValueError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


RemovableHandle = _RemovableHandle


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
