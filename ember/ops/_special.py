"""Special functions on arrays (erf, erfc, erfinv, lgamma, digamma, polygamma): NumPy has none of
them, so they come from ``scipy.special`` on the CPU and ``cupyx.scipy.special`` on CUDA, both
imported on first use. Half-precision inputs are computed in float32 and rounded back, as
PyTorch does."""
import numpy as np

from .._errors import mark

from ._promote import HALF_NP as _HALF  # noqa: E402

_modules = {}


def _module(xp, op):
    mod = _modules.get(xp)
    if mod is None:
        try:
            if xp is np:
                import scipy.special as mod
            else:
                import cupyx.scipy.special as mod
        except ImportError:
            raise mark(RuntimeError(
                f"{op}: needs SciPy for special functions on the CPU, which is not installed; "
                f"pip install 'ember[special]' (or pip install scipy)")) from None
        _modules[xp] = mod
    return mod


def _call(xp, op, name, x, *lead):
    fn = getattr(_module(xp, op), name)
    if x.dtype in _HALF:
        return fn(*lead, x.astype(np.float32)).astype(x.dtype)
    out = fn(*lead, x)
    return out if out.dtype == x.dtype else out.astype(x.dtype)


def erf(xp, x):
    return _call(xp, "erf", "erf", x)


def erfc(xp, x):
    return _call(xp, "erfc", "erfc", x)


def erfinv(xp, x):
    return _call(xp, "erfinv", "erfinv", x)


def lgamma(xp, x):
    out = _call(xp, "lgamma", "gammaln", x)
    return xp.where(x == -np.inf, xp.asarray(np.inf, out.dtype), out)  # SciPy gives -inf


def digamma(xp, x):
    return _call(xp, "digamma", "psi", x)


def polygamma(xp, n, x):
    if n == 0:
        return digamma(xp, x)
    return _call(xp, "polygamma", "polygamma", x, n)
