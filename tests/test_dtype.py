"""dtypes against PyTorch: attributes, finfo/iinfo, the default dtype, and type promotion
(promote_types, result_type and the dtype of ``a + b``, exhaustive over the 12 dtypes and over
dimensioned tensors, 0-d tensors and Python numbers)."""
import copy
import itertools
import pickle

import numpy as np
import pytest
import torch

import ember
from helpers import raises

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
         "float64", "complex64", "complex128"]
PAIRS = list(itertools.product(NAMES, NAMES))


def E(name):
    return getattr(ember, name)


def T(name):
    return getattr(torch, name)


def name_of(d):
    """The dtype's name; torch's complex32 (the complex of float16, which ember lacks: it uses
    complex64 there) counts as complex64."""
    name = str(d).split(".")[-1]
    return "complex64" if name == "complex32" else name


@pytest.mark.parametrize("name", NAMES)
def test_attributes(name):
    e, t = E(name), T(name)
    assert e.is_floating_point == t.is_floating_point
    assert e.is_complex == t.is_complex
    assert e.is_signed == t.is_signed
    assert e.itemsize == t.itemsize
    assert repr(e) == repr(t).replace("torch", "ember") == str(e)
    assert name_of(e.to_real()) == name_of(t.to_real())
    if e.is_floating_point and e is not ember.float16:  # torch: complex32, which ember lacks
        assert name_of(e.to_complex()) == name_of(t.to_complex())
    elif not (e.is_complex or e.is_floating_point):
        with pytest.raises(RuntimeError):
            t.to_complex()
        raises(RuntimeError, "to_complex", e.to_complex)
    assert pickle.loads(pickle.dumps(e)) is e
    assert copy.deepcopy(e) is e
    assert hash(e) == hash(E(name)) and e == E(name) and e != (ember.int8 if e is not
                                                               ember.int8 else ember.uint8)


def test_aliases():
    for alias in ("half", "float", "double", "short", "int", "long", "cfloat", "cdouble"):
        assert name_of(getattr(ember, alias)) == name_of(getattr(torch, alias))
    assert ember.float16.to_complex() is ember.complex64


def test_as_dtype_spellings():
    from ember._dtype import as_dtype
    for spelling in ("float32", "torch.float32", "ember.float32", np.float32,
                     np.dtype("float32"), torch.float32, ember.float32, "float"):
        assert as_dtype(spelling) is ember.float32
    assert as_dtype(float) is ember.float64 and as_dtype(int) is ember.int64
    assert as_dtype(bool) is ember.bool and as_dtype(complex) is ember.complex128
    raises(TypeError, "is not a dtype", as_dtype, "floaty")
    assert ember.zeros(2, dtype=float).dtype is ember.float64


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "complex64",
                                  "complex128"])
def test_finfo(name):
    e, t = ember.finfo(E(name)), torch.finfo(T(name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(e, field) == getattr(t, field), field
    assert e.dtype == t.dtype
    assert repr(e) == repr(t)


def test_finfo_default_and_errors():
    assert ember.finfo().eps == torch.finfo().eps
    ember.set_default_dtype(ember.float64)
    assert ember.finfo().bits == 64
    raises(TypeError, "finfo", ember.finfo, ember.int64)
    raises(TypeError, "iinfo", ember.iinfo, ember.float32)
    raises(TypeError, "iinfo", ember.iinfo, ember.bool)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo(name):
    e, t = ember.iinfo(E(name)), torch.iinfo(T(name))
    assert (e.bits, e.min, e.max, e.dtype) == (t.bits, t.min, t.max, t.dtype)
    assert repr(e) == repr(t)


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float64", "float32"])
def test_default_dtype(name):
    ember.set_default_dtype(E(name))
    torch.set_default_dtype(T(name))
    try:
        assert name_of(ember.get_default_dtype()) == name
        for expr in ("lib.tensor([1.5]).dtype", "lib.tensor([1j]).dtype", "lib.zeros(1).dtype",
                     "lib.arange(0.5, 2).dtype", "lib.tensor([1]).dtype",
                     "(lib.tensor([1, 2]) * 1).dtype", "(lib.tensor(True) + 1).dtype",
                     "lib.result_type(lib.tensor([1, 2]), 1.5)",
                     "lib.linspace(0, 1, 3).dtype", "lib.rand(2).dtype",
                     "lib.tensor([1, 2]).float().dtype", "lib.full((1,), 2.).dtype"):
            if name in ("float16", "bfloat16") and "1j" in expr:
                continue  # torch: complex32 for half
            got = name_of(eval(expr, {"lib": ember}))
            assert got == name_of(eval(expr, {"lib": torch})), expr
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("bad", ["int64", "complex64", "bool"])
def test_set_default_dtype_errors(bad):
    with pytest.raises(TypeError):
        torch.set_default_dtype(T(bad))
    raises(TypeError, "set_default_dtype: only floating-point types", ember.set_default_dtype,
           E(bad))


# ---- promotion ----------------------------------------------------------------------------------
def test_promote_types_exhaustive():
    for a, b in PAIRS:
        assert name_of(ember.promote_types(E(a), E(b))) == \
            name_of(torch.promote_types(T(a), T(b))), (a, b)


def _value(name):
    return {"bool": True, "uint8": 3, "int8": -3}.get(name, 2)


def _make(lib, name, dims):
    return lib.full((2,) * dims, _value(name), dtype=getattr(lib, name))


SCALARS = [True, 3, -2, 2.5, 1 + 2j]


@pytest.mark.parametrize("dims", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_result_type_tensors(dims):
    for a, b in PAIRS:
        ea, eb = _make(ember, a, dims[0]), _make(ember, b, dims[1])
        ta, tb = _make(torch, a, dims[0]), _make(torch, b, dims[1])
        assert name_of(ember.result_type(ea, eb)) == name_of(torch.result_type(ta, tb)), \
            (a, b, dims)


@pytest.mark.parametrize("dims", [0, 1])
@pytest.mark.parametrize("scalar", SCALARS)
def test_result_type_with_scalars(dims, scalar):
    for a in NAMES:
        e, t = _make(ember, a, dims), _make(torch, a, dims)
        assert name_of(ember.result_type(e, scalar)) == name_of(torch.result_type(t, scalar)), a
        assert name_of(ember.result_type(scalar, e)) == name_of(torch.result_type(scalar, t)), a


@pytest.mark.parametrize("dims", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_add_dtype_tensors(dims):
    for a, b in PAIRS:
        if a == b == "bool":
            continue
        ea, eb = _make(ember, a, dims[0]), _make(ember, b, dims[1])
        ta, tb = _make(torch, a, dims[0]), _make(torch, b, dims[1])
        assert name_of((ea + eb).dtype) == name_of((ta + tb).dtype), (a, b, dims)


@pytest.mark.parametrize("scalar", SCALARS)
def test_add_dtype_with_scalars(scalar):
    for a, dims in itertools.product(NAMES, (0, 1)):
        if a == "bool" and scalar is True or a == "bfloat16" and isinstance(scalar, float):
            continue  # bfloat16 with a float: test_bfloat16_with_float_scalar
        e, t = _make(ember, a, dims), _make(torch, a, dims)
        assert name_of((e + scalar).dtype) == name_of((t + scalar).dtype), (a, dims)
        assert name_of((scalar + e).dtype) == name_of((scalar + t).dtype), (a, dims)


@pytest.mark.parametrize("expr", ["x + 2.5", "2.5 * x", "x / 2.0"])
def test_bfloat16_with_float_scalar(expr):
    e = eval(expr, {"x": ember.ones(2, dtype=ember.bfloat16)})
    t = eval(expr, {"x": torch.ones(2, dtype=torch.bfloat16)})
    assert name_of(e.dtype) == name_of(t.dtype)


def test_three_way_result_type():
    """Dimensioned tensors outrank 0-d tensors, which outrank numbers, unless a lower group
    has a higher category (bool < integer < floating < complex)."""
    cases = [("int8", 1, "int64", 0, 2.5), ("uint8", 1, "float64", 0, 1),
             ("int32", 0, "float16", 0, True), ("bool", 1, "complex128", 0, 3)]
    for a, da, b, db, s in cases:
        e = ember.result_type(_make(ember, a, da), _make(ember, b, db))
        t = torch.result_type(_make(torch, a, da), _make(torch, b, db))
        assert name_of(e) == name_of(t)
        e = ember.result_type(_make(ember, a, da) + _make(ember, b, db), s)
        t = torch.result_type(_make(torch, a, da) + _make(torch, b, db), s)
        assert name_of(e) == name_of(t)


def test_can_cast():
    for a, b in PAIRS:
        assert ember.can_cast(E(a), E(b)) == torch.can_cast(T(a), T(b)), (a, b)
