"""PyTorch's type promotion applied to op operands.

Operands are tensors or Python numbers. Tensors are cast (through the differentiable ``to``)
to the result type; Python numbers stay Python numbers, which NumPy >= 2 and CuPy treat as
"weak" (they never widen an array), exactly like PyTorch's wrapped numbers."""
import numbers

import numpy as np

from .. import _dtype
from .._dtype import _Defaults, NP_TO_DTYPE, scalar_dtype, result_type_of
from .._errors import mark
from .._tensor import Tensor

FLOAT_NP = frozenset(d._np for d in _dtype.ALL if d.is_floating_point and d._np is not None)
COMPLEX_NP = frozenset(d._np for d in _dtype.ALL if d.is_complex)
INEXACT_NP = FLOAT_NP | COMPLEX_NP
HALF_NP = frozenset(d for d in FLOAT_NP if d.itemsize == 2)  # float16, bfloat16: computed in float32
INT_NP = frozenset(d._np for d in _dtype.ALL if d._category == _dtype._INT)
BOOL_NP = np.dtype(np.bool_)
_BF16_NP = _dtype.bfloat16._np


def is_number(x):
    return isinstance(x, numbers.Number) and not isinstance(x, Tensor)


def result_type(*operands):
    """``ember.result_type``: the dtype an op on ``operands`` computes in."""
    dims, zeros, scalars = [], [], []
    for x in operands:
        if isinstance(x, Tensor):
            (dims if x._data.ndim else zeros).append(NP_TO_DTYPE[x._data.dtype])
        elif isinstance(x, np.ndarray):
            (dims if x.ndim else zeros).append(_dtype.from_numpy_dtype(x.dtype))
        elif x is not None:
            scalars.append(scalar_dtype(x))
    out = result_type_of(dims, zeros, scalars)
    if out is None:
        raise mark(TypeError("result_type: no tensor or number among the operands"))
    return out


def cast_operands(op, dtype, operands):
    """Tensors cast to ``dtype``; numbers adjusted so NumPy computes in ``dtype``."""
    out = []
    for x in operands:
        if isinstance(x, Tensor):
            if x._data.dtype is not dtype.np:
                x = x.to(dtype)
        elif x is not None and not isinstance(x, Tensor):
            x = _scalar_for(op, x, dtype)
        out.append(x)
    return out


def _scalar_for(op, x, dtype):
    if isinstance(x, np.generic):  # NumPy scalars are not weak: make them Python numbers
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, int):
        if isinstance(x, complex) and not dtype.is_complex:
            raise mark(RuntimeError(f"{op}: result type {_Defaults.complex.name} can't be cast "
                                    f"to the desired output type {dtype.name}"))
        if dtype is _dtype.bfloat16 and isinstance(x, float):
            # NumPy computes a bfloat16 array with a Python float in float32; a bfloat16
            # scalar keeps the result in bfloat16 (the scalar is rounded to bfloat16 first).
            return dtype.np.type(x)
        return x
    if dtype._category == _dtype._INT:  # out-of-range integers wrap around, as in PyTorch
        info = np.iinfo(dtype.np)
        if not info.min <= x <= info.max:
            return np.array(x).astype(dtype.np)[()]
    return x


def binary_operands(op, a, b):
    """``a`` and ``b`` ready for a NumPy binary op computing in their promoted type."""
    if type(a) is Tensor and type(b) is Tensor:
        if a._data.dtype is b._data.dtype:
            return a, b
    elif type(b) is float and isinstance(a, Tensor):
        if a._data.dtype in INEXACT_NP and a._data.dtype is not _BF16_NP:
            return a, b
    elif type(b) is int and isinstance(a, Tensor):
        if a._data.dtype in INEXACT_NP:
            return a, b
    dtype = result_type(a, b)
    a, b = cast_operands(op, dtype, (a, b))
    return a, b


def float_operand(x):
    """Integer and bool tensors become the default float type (``exp``, ``sqrt``, ``mean``...)."""
    if x._data.dtype in INEXACT_NP:
        return x
    return x.to(_Defaults.float)


def float_result_type(*operands):
    d = result_type(*operands)
    return d if (d.is_floating_point or d.is_complex) else _Defaults.float


def conj_if_complex(t):
    """Complex gradients use the conjugate (PyTorch's convention); real tensors and numbers
    pass through."""
    if isinstance(t, Tensor):
        return t.conj() if t._data.dtype in COMPLEX_NP else t
    return t.conjugate() if isinstance(t, complex) else t

