"""The printed form of tensors, as PyTorch prints them: ``tensor([[1., 2.]], requires_grad=True)``.

The rules (kept identical to PyTorch's so that printed output can be compared):

- One format for all the elements of a tensor, chosen from its finite nonzero values: integer
  mode (``1.``) when they are all whole numbers, scientific notation (``1.0000e-05``) when the
  largest is above 1e8, the smallest below 1e-4 or their ratio above 1000, fixed point
  (``0.1235``) otherwise; every element padded to the widest. Complex tensors format real and
  imaginary parts separately.
- Above ``threshold`` elements, each dimension longer than ``2 * edgeitems`` shows only its
  first and last ``edgeitems`` entries around ``...`` (and the format is chosen from those).
- Rows wrap at ``linewidth`` characters; suffixes (device, dtype when it is not implied by the
  values, ``grad_fn`` or ``requires_grad``) follow the values."""
import contextlib
import math

import numpy as np

from . import _dtype
from ._tensor import Tensor
from .ops._registry import public


class _Options:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


@public(method=False)
def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set how tensors print (``profile``: ``"default"``, ``"short"`` or ``"full"``, then the
    other arguments override it). ``sci_mode=None`` lets the values choose."""
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; use one of "
                             f"{sorted(_PROFILES)}")
        for k, v in _PROFILES[profile].items():
            setattr(_Options, k, v)
    for k, v in (("precision", precision), ("threshold", threshold),
                 ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if v is not None:
            setattr(_Options, k, v)
    _Options.sci_mode = sci_mode


@public(method=False)
def get_printoptions():
    """The current print options, as keyword arguments for ``set_printoptions``."""
    return {k: getattr(_Options, k)
            for k in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Change the print options inside a ``with`` block."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """The common format of a set of values (a NumPy array, real)."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f" or values.dtype.name == "bfloat16"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        p = _Options.precision
        if not self.floating:
            self.width = max((len(str(v)) for v in values.ravel().tolist()), default=1)
            return
        v = values.ravel().astype(np.float64)
        v = v[np.isfinite(v) & (v != 0)]
        if v.size == 0:
            return
        a = np.abs(v)
        lo, hi = a.min(), a.max()
        self.int_mode = bool((v == np.ceil(v)).all())
        self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4) \
            if _Options.sci_mode is None else _Options.sci_mode
        values = v.tolist()
        if self.sci_mode:
            self.width = max(len(f"{x:.{p}e}") for x in values)
        elif self.int_mode:
            self.width = max(len(f"{x:.0f}") + 1 for x in values)
        else:
            self.width = max(len(f"{x:.{p}f}") for x in values)

    def format(self, value):
        if self.floating:
            p = _Options.precision
            if self.sci_mode:
                s = f"{value:{self.width}.{p}e}"
            elif self.int_mode:
                s = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
            else:
                s = f"{value:.{p}f}"
        else:
            s = str(value)
        return s.rjust(self.width)


class _ComplexFormatter:
    """Real and imaginary parts formatted separately: ``1.5000-2.0000j``."""

    def __init__(self, values):
        self.real, self.imag = _Formatter(values.real), _Formatter(values.imag)
        self.width = self.real.width + self.imag.width + 1

    def format(self, value):
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return self.real.format(value.real) + ("" if imag[0] in "+-" else "+") + imag


def _summarized(arr):
    """The elements printing shows when it summarizes: the first and last ``edgeitems`` along
    every dimension longer than ``2 * edgeitems``."""
    e = _Options.edgeitems
    if arr.ndim >= 2 and not e:
        return arr[(slice(0, 0),) * arr.ndim]
    for axis, n in enumerate(arr.shape):
        if n > 2 * e:
            head = (slice(None),) * axis
            arr = np.concatenate([arr[head + (slice(None, e),)], arr[head + (slice(-e, None),)]],
                                 axis=axis)
    return arr


def _as_python(arr):
    """Elements as Python numbers (bfloat16 through float64)."""
    if arr.dtype.name == "bfloat16":
        arr = arr.astype(np.float64)
    return arr.tolist()


def _vector(arr, indent, summarize, fmt):
    per_line = max(1, math.floor((_Options.linewidth - indent) / (fmt.width + 2)))
    e = _Options.edgeitems
    if summarize and not e:
        items = ["..."]
    elif summarize and arr.shape[0] > 2 * e:
        items = ([fmt.format(v) for v in _as_python(arr[:e])] + [" ..."]
                 + [fmt.format(v) for v in _as_python(arr[-e:])])
    else:
        items = [fmt.format(v) for v in _as_python(arr)]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(arr, indent, summarize, fmt):
    if arr.ndim == 0:
        return fmt.format(_as_python(arr))
    if arr.ndim == 1:
        return _vector(arr, indent, summarize, fmt)
    e = _Options.edgeitems
    n = arr.shape[0]
    if summarize and n > 2 * e:
        rows = ([_nested(arr[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                + [_nested(arr[i], indent + 1, summarize, fmt) for i in range(n - e, n)])
    else:
        rows = [_nested(arr[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (arr.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _values_str(arr, indent):
    summarize = arr.size > _Options.threshold
    shown = _summarized(arr) if summarize else arr
    fmt = _ComplexFormatter(shown) if arr.dtype.kind == "c" else _Formatter(shown)
    return _nested(arr, indent, summarize, fmt)


def _with_suffixes(text, suffixes, indent):
    parts = [text]
    last = len(text) - text.rfind("\n") + 1
    for s in suffixes:
        if last + len(s) + 2 > _Options.linewidth:
            parts.append(",\n" + " " * indent + s)
            last = indent + len(s)
        else:
            parts.append(", " + s)
            last += len(s) + 2
    return "".join(parts) + ")"


def tensor_repr(t):
    """``repr(t)`` (and ``str(t)``) of an ember Tensor."""
    cls = type(t)
    prefix = "tensor(" if cls is Tensor or cls.__name__ == "Parameter" else f"{cls.__name__}("
    indent = len(prefix)
    arr = t._data if type(t._data) is np.ndarray else t._data.get()
    dtype = t.dtype
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if arr.size == 0:
        if arr.ndim != 1:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dtype is not _dtype._Defaults.float:
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if not _Options.edgeitems:
            suffixes.append(f"size={tuple(arr.shape)}")
        if dtype not in (_dtype._Defaults.float, _dtype._Defaults.complex, _dtype.int64,
                         _dtype.bool):
            suffixes.append(f"dtype={dtype!r}")
        body = _values_str(arr, indent)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._rg:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)
