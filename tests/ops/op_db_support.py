"""Running PyTorch's OpInfo samples (``op_db``) against ember: resolving an OpInfo to the ember
callable that implements it, converting a torch ``SampleInput`` to ember, and comparing results
and gradients. The tables of what is not covered and why live in ``test_op_db.py``."""
import types
import zlib

import numpy as np
import torch
from torch.testing._internal.opinfo import core as opinfo_core

import ember
from helpers import assert_same


def op_key(op):
    """The id of an OpInfo in the tables: its name, then ``/variant`` when it has one."""
    return f"{op.name}/{op.variant_test_name}" if op.variant_test_name else op.name


def op_seed(key):
    return zlib.crc32(key.encode())


# ---- resolving an OpInfo to ember -------------------------------------------------------------
def _attr_path(root, path):
    for part in path.split("."):
        root = getattr(root, part, None)
        if root is None:
            return None
    return root


def _method(name):
    """``Tensor.<name>``, called as ``(tensor, *args, **kwargs)``, or None."""
    return getattr(ember.Tensor, name, None)


# OpInfos whose torch op is a lambda that is not ``lambda x, *args: x.<name>(*args)``, written
# for ember with the signature of the OpInfo's op.
LAMBDAS = {
    "__rdiv__": lambda x, other: x.__rtruediv__(other),  # Python 2's name for __rtruediv__
    "einsum": lambda tensors, equation: ember.einsum(equation, tensors),
    "resize_": lambda x, shape: x.clone().resize_(shape),
    "resize_as_": lambda x, other: x.clone().resize_as_(other),
    "zero_": lambda x: x.clone().zero_(),
    "T": lambda x: x.T,
    "H": lambda x: x.H,
    "mT": lambda x: x.mT,
    "mH": lambda x: x.mH,
    "nn.functional.embedding":
        lambda weight, idx, **kwargs: ember.nn.functional.embedding(idx, weight, **kwargs),
    "nn.functional.embedding_bag":
        lambda weight, idx, **kwargs: ember.nn.functional.embedding_bag(idx, weight, **kwargs),
    "linalg.lstsq/grad_oriented":
        lambda a, b, driver: ember.linalg.lstsq(a, b, driver=driver)[:2],
    "linalg.pinv/singular": lambda a, b: ember.linalg.pinv(a @ b.mT),
    "normal/number_mean":
        lambda std, mean, *args, **kwargs: ember.normal(mean, std, *args, **kwargs),
    # random in-place samplers: the OpInfo calls the in-place method on the sample's input
    "normal/in_place": lambda x, *args, **kwargs: x.normal_(*args, **kwargs),
    "uniform": lambda x, *args, **kwargs: x.uniform_(*args, **kwargs),
    "cauchy": lambda x, *args, **kwargs: x.cauchy_(*args, **kwargs),
    "exponential": lambda x, *args, **kwargs: x.exponential_(*args, **kwargs),
    "geometric": lambda x, *args, **kwargs: x.geometric_(*args, **kwargs),
    "log_normal": lambda x, *args, **kwargs: x.log_normal_(*args, **kwargs),
}


def _torch_name(fn):
    """The name under which a torch builtin is published, or None for lambdas and wrappers."""
    name = getattr(fn, "__name__", None)
    return None if name is None or name == "<lambda>" else name


def _op_callable(x):
    """Ops only: ``ember.float`` and friends are dtypes, not conversion functions."""
    return x if callable(x) and not isinstance(x, (ember.dtype, type)) else None


def resolve(op):
    """The ember callable for ``op`` with the signature of ``op.op``, or None if ember lacks it."""
    for k in (op_key(op), op.name):
        if k in LAMBDAS:
            return LAMBDAS[k]
    for prefix, root in (("nn.functional.", ember.nn.functional), ("linalg.", ember.linalg)):
        if op.name.startswith(prefix):
            return _attr_path(root, op.name[len(prefix):])
    if "." in op.name:
        return None  # special., fft., masked., sparse., signal. ...
    function = _op_callable(getattr(ember, op.name, None))
    if _torch_name(op.op) is None:  # ``lambda x, *args: x.<name>(*args)`` or a sampler
        return _method(op.name) or function
    return function or _method(op.name)


def _variant(torch_fn):
    """``(torch method, ember method or None)`` when ``torch_fn`` is a plain ``torch.Tensor``
    method, else None."""
    name = _torch_name(torch_fn)
    if name is None or getattr(torch.Tensor, name, None) is not torch_fn:
        return None
    return torch_fn, _method(name)


def resolve_method(op):
    return _variant(op.method_variant)


def resolve_inplace(op):
    return _variant(op.inplace_variant)


def _real_positive_diagonal(op, *args, upper=False, idx=0, **kwargs):
    """torch's gradcheck_wrapper_triangular_input_real_positive_diagonal for either library:
    the triangle of ``args[idx]`` with its diagonal replaced by ones."""
    lib = ember if isinstance(args[idx], ember.Tensor) else torch
    arg = args[idx]
    arg = arg - lib.diag_embed(arg.diagonal(0, -2, -1)) + lib.diag_embed(
        lib.ones_like(arg.diagonal(0, -2, -1)))
    arg = arg.triu() if upper else arg.tril()
    return op(*args[:idx], arg, *args[idx + 1:], upper, **kwargs)


def gradcheck_wrapper(op):
    """The OpInfo's wrapper for gradient checks (restricting inputs to the op's domain, such as
    Hermitian matrices), usable with ember callables."""
    torch_only = opinfo_core.gradcheck_wrapper_triangular_input_real_positive_diagonal
    if op.gradcheck_wrapper is torch_only:  # calls torch.diag_embed
        return _real_positive_diagonal
    return op.gradcheck_wrapper


# ---- converting samples -----------------------------------------------------------------------
class Unconvertible(Exception):
    """A sample argument that has no ember counterpart."""


def _strided_copy(arr):
    """A copy of ``arr`` laid out with the same strides (non-contiguous stays non-contiguous)."""
    if arr.size == 0 or arr.flags.c_contiguous:
        return arr.copy()
    span = 1 + sum((n - 1) * s for n, s in zip(arr.shape, arr.strides)) // arr.itemsize
    buf = np.empty(span, dtype=arr.dtype)
    view = np.lib.stride_tricks.as_strided(buf, arr.shape, arr.strides)
    view[...] = arr  # where strides are 0, every write of one element carries the same value
    return view


def ember_dtype(dtype):
    return getattr(ember, str(dtype).replace("torch.", ""))


def _array_tensor(data):
    """An ember tensor with the values and the strides of the torch tensor ``data``: dims of
    stride 0 come from ``expand`` (read-only memory, as in ember), the rest from a copy laid
    out like ``data``."""
    if data.dtype == torch.bfloat16:
        return ember.tensor(data.float().numpy()).to(ember.bfloat16)
    arr = data.numpy()
    expanded = [n > 1 and s == 0 for n, s in zip(arr.shape, arr.strides)]
    if not any(expanded):
        return ember.from_numpy(_strided_copy(arr))
    compact = arr[tuple(slice(0, 1) if e else slice(None) for e in expanded)]
    return ember.from_numpy(_strided_copy(compact)).expand(arr.shape)


def _tensor(t):
    """``t`` in ember; a view into a larger storage (``base[5:15]``) stays a view of a copy of
    that storage, so that ops which see the storage (as_strided) see the same one."""
    data = t.detach().resolve_conj().resolve_neg()
    storage = data.untyped_storage().nbytes() // data.element_size()
    if data.storage_offset() == 0 or data.dtype == torch.bfloat16:
        e = _array_tensor(data)
    else:
        base = _array_tensor(torch.as_strided(data, (storage,), (1,), 0))
        e = ember.as_strided(base, tuple(data.shape), data.stride(), data.storage_offset())
    return e.requires_grad_(t.requires_grad)


def _module(m):
    """A parameterless torch module (e.g. ``nn.PairwiseDistance()`` passed as a distance
    function) as the ember module of the same class and settings."""
    cls = getattr(ember.nn, type(m).__name__, None)
    if cls is None or list(m.parameters()) or list(m.buffers()):
        raise Unconvertible(f"module {type(m).__name__}")
    e = cls()
    for name, value in vars(m).items():
        if not name.startswith("_") and name in vars(e):
            setattr(e, name, value)
    return e.train(m.training)


class Converter:
    """Converts torch sample arguments at any nesting depth into ember ones, mapping each torch
    tensor to one ember tensor (aliases stay aliases)."""

    def __init__(self):
        self.pairs = {}  # id(torch tensor) -> (torch tensor, ember tensor)

    def __call__(self, x):
        if isinstance(x, torch.Tensor):
            if id(x) not in self.pairs:
                self.pairs[id(x)] = (x, _tensor(x))
            return self.pairs[id(x)][1]
        if isinstance(x, torch.Size):
            return tuple(x)
        if isinstance(x, (list, tuple)):
            return type(x)(self(v) for v in x)
        if isinstance(x, dict):
            return {k: self(v) for k, v in x.items()}
        if isinstance(x, torch.dtype):
            return ember_dtype(x)
        if isinstance(x, torch.device):
            return ember.device(str(x))
        if isinstance(x, (torch.layout, torch.memory_format)):
            name = str(x).replace("torch.", "")
            if not hasattr(ember, name):
                raise Unconvertible(f"ember has no {name}")
            return getattr(ember, name)
        if isinstance(x, torch.nn.Module):
            return _module(x)
        if isinstance(x, torch.Generator):
            raise Unconvertible("torch.Generator")
        if isinstance(x, (types.FunctionType, types.BuiltinFunctionType)):
            return self._function(x)
        return x

    @staticmethod
    def _function(fn):
        """torch functions passed as arguments (e.g. a distance function), by their name."""
        module = getattr(fn, "__module__", "") or ""
        if not module.startswith("torch"):
            return fn
        path = module.replace("torch.nn.functional", "nn.functional").replace("torch", "")
        found = _attr_path(ember, f"{path}.{fn.__name__}".strip("."))
        if found is None:
            raise Unconvertible(f"function {module}.{fn.__name__}")
        return found

    def grad_pairs(self):
        """(torch, ember) tensors of the sample that require grad."""
        return [(t, e) for t, e in self.pairs.values() if t.requires_grad]


# ---- comparing results ------------------------------------------------------------------------
def builtin_exception(exc_type):
    """The first built-in class of an exception type (torch's LinAlgError is a RuntimeError)."""
    return next(c for c in exc_type.__mro__ if c.__module__ == "builtins")


def flatten(out):
    if isinstance(out, (torch.Tensor, ember.Tensor)):
        return [out]
    if isinstance(out, (list, tuple)) and not isinstance(out, (torch.Size, ember.Size)):
        return [t for o in out for t in flatten(o)]
    return [out]


def assert_same_result(e, t, tol=(None, None), what="output"):
    """``helpers.assert_same``, also checking named tuples' type and field names."""
    fields = getattr(type(t), "__match_args__", None)
    if isinstance(t, tuple) and fields:
        e_fields = getattr(e, "_fields", None)
        assert type(e).__name__ == type(t).__name__ and e_fields == fields, \
            f"{what}: {type(e).__name__}{e_fields} != torch {type(t).__name__}{fields}"
    if isinstance(t, (list, tuple)) and not isinstance(t, torch.Size):
        assert isinstance(e, (list, tuple)), f"{what}: expected a sequence, got {type(e)}"
        assert len(e) == len(t), f"{what}: {len(e)} items != torch {len(t)}"
        for i, (ei, ti) in enumerate(zip(e, t)):
            assert_same_result(ei, ti, tol, f"{what}[{i}]")
    else:
        assert_same(e, t, *tol, what=what)


def assert_same_meta(e, t, what="output"):
    """Same structure, and tensors of the same shapes and dtypes (for random or uninitialized
    results)."""
    e_flat, t_flat = flatten(e), flatten(t)
    assert len(e_flat) == len(t_flat), f"{what}: {len(e_flat)} outputs != torch {len(t_flat)}"
    for i, (ei, ti) in enumerate(zip(e_flat, t_flat)):
        if isinstance(ti, torch.Tensor):
            assert isinstance(ei, ember.Tensor), f"{what}[{i}]: {type(ei).__name__}, not a Tensor"
            assert tuple(ei.shape) == tuple(ti.shape), \
                f"{what}[{i}]: shape {tuple(ei.shape)} != torch {tuple(ti.shape)}"
            assert ei.dtype == ember_dtype(ti.dtype), \
                f"{what}[{i}]: dtype {ei.dtype} != torch {ti.dtype}"
            assert ei.requires_grad == ti.requires_grad, \
                f"{what}[{i}]: requires_grad {ei.requires_grad} != torch {ti.requires_grad}"


def assert_valid_indices(e_out, t_out, x, dim, keepdim):
    """``(values, indices)`` results whose indices PyTorch leaves unspecified among ties (mode,
    median, kthvalue, topk): same values as torch, and ember's indices point at them."""
    assert_same_result(e_out[0], t_out[0])
    values, idx, x = t_out[0].detach().numpy(), e_out[1].numpy(), x.detach().numpy()
    if x.ndim == 0:
        assert idx.shape == () and idx == 0, f"index {idx} into a 0-d tensor"
        return
    if not keepdim:
        idx = np.expand_dims(idx, dim)
    picked = np.take_along_axis(x, idx, dim)
    np.testing.assert_array_equal(picked.reshape(values.shape), values,
                                  err_msg="ember's indices do not point at the values")


def projection_loss(lib, outputs, seed):
    """sum(out * w) over the outputs, w a fixed random weight per output."""
    rng = np.random.default_rng(seed)
    loss = 0
    for out in outputs:
        w = rng.standard_normal(tuple(out.shape))
        if out.is_complex():
            w = w + 1j * rng.standard_normal(tuple(out.shape))
        w = (torch.from_numpy if lib is torch else ember.tensor)(np.asarray(w)).to(out.dtype)
        term = out * w
        loss = loss + (term.real.sum() if out.is_complex() else term.sum())
    return loss


# ---- matching samples in the tables of test_op_db.py ------------------------------------------
# A matcher is ``f(sample, dtype) -> bool`` (dtype None for error inputs).
def arg(sample, pos, name, default=None):
    """A sample argument given positionally (``pos`` in ``args``) or by keyword."""
    if name in sample.kwargs:
        return sample.kwargs[name]
    return sample.args[pos] if len(sample.args) > pos else default


def always(sample, dtype):
    return True


def has_kwarg(name, value=None):
    """The sample passes keyword ``name`` (with ``value`` if given)."""
    return lambda s, dtype: name in s.kwargs and (value is None or s.kwargs[name] == value)


def shapes(*expected):
    """The sample's input and first arguments have these shapes."""
    def match(s, dtype):
        tensors = [s.input] + list(s.args[:len(expected) - 1])
        return all(isinstance(t, torch.Tensor) and tuple(t.shape) == shape
                   for t, shape in zip(tensors, expected))
    return match


def not_tensor_input(s, dtype):
    return not isinstance(s.input, torch.Tensor)


def dropping(training_default):
    """A dropout sample that drops: p > 0 in training mode."""
    return lambda s, dtype: bool(arg(s, 1, "training", training_default)) and \
        arg(s, 0, "p", 0.5) > 0


def _outs(s):
    return [t for t in flatten(s.kwargs.get("out")) if isinstance(t, torch.Tensor)]


def out_overlaps_input(s, dtype):
    """out= shares memory with an input."""
    ins = [t for t in flatten([s.input, list(s.args)]) if isinstance(t, torch.Tensor)]
    return any(o.untyped_storage().data_ptr() == i.untyped_storage().data_ptr()
               for o in _outs(s) for i in ins)
