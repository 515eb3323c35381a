"""dtype objects (``ember.float32`` ...), their NumPy equivalents and PyTorch's type promotion."""
import builtins

import numpy as np

try:  # bfloat16 comes from ml_dtypes, an optional extra
    import ml_dtypes as _ml_dtypes
except ImportError:  # pragma: no cover - exercised only without the extra
    _ml_dtypes = None

# Categories order the kinds of number for promotion: bool < integer < floating < complex.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type. Instances are unique: compare them with ``is`` or ``==``."""

    __slots__ = ("name", "itemsize", "is_floating_point", "is_complex", "is_signed", "_category", "_np")

    def __init__(self, name, np_dtype, itemsize, category, is_signed):
        self.name = name
        self._np = np_dtype
        self.itemsize = itemsize
        self._category = category
        self.is_floating_point = category == _FLOAT
        self.is_complex = category == _COMPLEX
        self.is_signed = is_signed

    @property
    def np(self):
        """The NumPy dtype that stores this type."""
        if self._np is None:
            raise RuntimeError(
                f"ember.{self.name} needs the ml_dtypes package: pip install 'ember[bfloat16]'")
        return self._np

    def to_complex(self):
        """The complex type with this type's precision (complex64 for the half types: ember
        has no complex32). Integer and bool types have none."""
        if self.is_complex:
            return self
        if not self.is_floating_point:
            raise RuntimeError(f"to_complex: Unknown Complex ScalarType for {self}")
        return complex128 if self is float64 else complex64

    def to_real(self):
        return {complex64: float32, complex128: float64}.get(self, self)

    def __repr__(self):
        return f"ember.{self.name}"

    def __reduce__(self):  # pickled by name so that identity survives (DataLoader workers)
        return (_lookup, (self.name,))


def _lookup(name):
    return globals()[name]


bool = dtype("bool", np.dtype(np.bool_), 1, _BOOL, False)
uint8 = dtype("uint8", np.dtype(np.uint8), 1, _INT, False)
int8 = dtype("int8", np.dtype(np.int8), 1, _INT, True)
int16 = dtype("int16", np.dtype(np.int16), 2, _INT, True)
int32 = dtype("int32", np.dtype(np.int32), 4, _INT, True)
int64 = dtype("int64", np.dtype(np.int64), 8, _INT, True)
float16 = dtype("float16", np.dtype(np.float16), 2, _FLOAT, True)
bfloat16 = dtype("bfloat16", np.dtype(_ml_dtypes.bfloat16) if _ml_dtypes else None, 2, _FLOAT, True)
float32 = dtype("float32", np.dtype(np.float32), 4, _FLOAT, True)
float64 = dtype("float64", np.dtype(np.float64), 8, _FLOAT, True)
complex64 = dtype("complex64", np.dtype(np.complex64), 8, _COMPLEX, True)
complex128 = dtype("complex128", np.dtype(np.complex128), 16, _COMPLEX, True)

ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128)

# PyTorch's aliases.
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64
cfloat, cdouble, chalf = complex64, complex128, complex64
ALIASES = {"half": half, "float": float, "double": double, "short": short, "int": int,
           "long": long, "cfloat": cfloat, "cdouble": cdouble}

# numpy dtype -> ember dtype. Keyed by np.dtype; lookups with other numpy spellings go through
# from_numpy_dtype, which normalizes first.
NP_TO_DTYPE = {d._np: d for d in ALL if d._np is not None}


def from_numpy_dtype(np_dtype):
    """The ember dtype that stores ``np_dtype`` (TypeError for types ember has no tensor of)."""
    try:
        return NP_TO_DTYPE[np_dtype]
    except (KeyError, TypeError):
        pass
    nd = np.dtype(np_dtype)
    if nd in NP_TO_DTYPE:
        return NP_TO_DTYPE[nd]
    if nd.byteorder == ">":  # big-endian data from files: same type, swapped on conversion
        return from_numpy_dtype(nd.newbyteorder("="))
    narrowing = {"uint16": int32, "uint32": int64, "uint64": int64}
    if nd.name in narrowing:
        return narrowing[nd.name]
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{nd.name}. The only supported types are: "
        "float64, float32, float16, bfloat16, complex64, complex128, int64, int32, int16, int8, "
        "uint8, and bool.")


def _promote_pair(a, b):
    if a is b:
        return a
    if a._category < b._category:
        a, b = b, a  # a is now of the higher category
    if b is bool:
        return a
    cat = a._category
    if cat == _INT:  # both integer
        if a.is_signed == b.is_signed:
            return a if a.itemsize >= b.itemsize else b
        signed, unsigned = (a, b) if a.is_signed else (b, a)
        return signed if signed.itemsize > unsigned.itemsize else int16
    if b._category == _INT:  # float or complex with an integer
        return a
    if cat == _FLOAT:  # both floating
        if a.itemsize == b.itemsize:  # float16 with bfloat16
            return float32
        return a if a.itemsize > b.itemsize else b
    # a complex, b floating or complex
    if b.is_complex:
        return a if a.itemsize >= b.itemsize else b
    return complex128 if (b is float64 or a is complex128) else complex64


PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL for b in ALL}


def promote_types(type1, type2):
    """``ember.promote_types``: the smallest type both can be converted to."""
    return PROMOTE[(type1, type2)]


def can_cast(from_, to):
    """PyTorch's rule for in-place results and ``out=``: no complex -> real, float -> integer, or
    number -> bool."""
    if from_.is_complex and not to.is_complex:
        return False
    if from_._category >= _FLOAT and to._category < _FLOAT:
        return False
    if from_ is not bool and to is bool:
        return False
    return True


class _Defaults:
    """The default floating dtype (``set_default_dtype``), read on every creation op."""
    float = float32
    complex = complex64


def get_default_dtype():
    return _Defaults.float


def set_default_dtype(d):
    if d not in (float16, bfloat16, float32, float64):
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the "
                        f"default type, got {d}")
    _Defaults.float = d
    _Defaults.complex = complex128 if d is float64 else complex64


def scalar_dtype(value):
    """The dtype a Python scalar takes as a tensor: bool, int64, the default float or complex."""
    t = type(value)
    if t is builtins.bool or t is np.bool_:
        return bool
    if t is builtins.int:
        return int64
    if t is builtins.float:
        return _Defaults.float
    if t is builtins.complex:
        return _Defaults.complex
    if isinstance(value, np.generic):
        return from_numpy_dtype(value.dtype)
    raise TypeError(f"expected a number, got {t.__name__}")


def _combine(higher, lower):
    """PyTorch's combine_categories: a lower-priority group changes the result only if it is
    of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.is_complex:
        return higher
    if lower.is_complex:
        return higher.to_complex() if higher.is_floating_point else lower
    if higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return PROMOTE[(higher, lower)]
    return higher


def result_type_of(dims, zero_dims, scalars):
    """Promotion over three groups as in PyTorch: tensors with dimensions, 0-d tensors and
    Python numbers. Each argument is an iterable of dtypes."""
    def fold(ds):
        out = None
        for d in ds:
            out = d if out is None else PROMOTE[(out, d)]
        return out
    return _combine(fold(dims), _combine(fold(zero_dims), fold(scalars)))


def as_dtype(d):
    """Normalize what users pass as a dtype: an ember dtype, a NumPy dtype or type, a string
    like 'float32', or the Python types float/int/bool/complex."""
    if type(d) is dtype:
        return d
    if d is builtins.float:
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if d is builtins.complex:
        return complex128
    if isinstance(d, str):
        name = d.replace("torch.", "").replace("ember.", "")
        found = globals().get(name) if name in {x.name for x in ALL} else ALIASES.get(name)
        if found is not None:
            return found
    # A torch.dtype (from interop code) has the same names.
    mod = type(d).__module__
    if mod.startswith("torch") and str(d).startswith("torch."):
        return as_dtype(str(d))
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"{d!r} is not a dtype; use one of ember.float32, ember.int64, ...") from None


class finfo:
    """Machine limits of a floating type (``ember.finfo(ember.float32).eps`` ...)."""

    def __init__(self, type=None):
        type = _Defaults.float if type is None else as_dtype(type)
        if not (type.is_floating_point or type.is_complex):
            raise TypeError(f"finfo: {type} is not a floating point type; use ember.iinfo")
        info = (_ml_dtypes.finfo if type is bfloat16 else np.finfo)(type.to_real().np)
        self.dtype = type.to_real().name
        self.bits = info.bits
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = self.smallest_normal = builtins.float(info.tiny)
        self.resolution = 10.0 ** -builtins.int(info.precision)  # exact, as PyTorch reports it

    def __repr__(self):
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:
    """Limits of an integer type (``ember.iinfo(ember.int64).max`` ...)."""

    def __init__(self, type):
        type = as_dtype(type)
        if type._category != _INT:
            raise TypeError(f"iinfo: {type} is not an integer type; use ember.finfo for "
                            f"floating types")
        info = np.iinfo(type.np)
        self.dtype = type.name
        self.bits = info.bits
        self.max = builtins.int(info.max)
        self.min = builtins.int(info.min)

    def __repr__(self):  # PyTorch prints the limits with %g
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
