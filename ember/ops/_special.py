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


# ---- the standard normal CDF, Φ(x) = (1 + erf(x / √2)) / 2, for gelu --------------------------
# SciPy's erf costs about 12 ns an element on float32 (it computes in double, element by
# element), which made exact gelu 7x slower than PyTorch's. On float32 CPU arrays Φ comes instead
# from one rational function, erf(z) ≈ z P(z²) / Q(z²) for |z| <= 4 (erf(4) rounds to 1 in
# float32), evaluated in float64 with in-place passes over cache-sized blocks: twice as fast as
# SciPy, and more accurate than float32 PyTorch (within 3e-8 of Φ; float32 evaluation would be
# twice as fast again but 5x less accurate than PyTorch where Φ is small). The coefficients are
# a weighted least-squares (Lawson) minimax fit of erf on [0, 4] made for ember, within 2e-9.
_ERF_P = (1.128379182029, 0.1847155752753, 0.05433246210155, 0.003839634175961,
          0.0003826603110589, 4.77957146324e-06, -1.366218988003e-08)
_ERF_Q = (1.0, 0.4970334609533, 0.1138277362821, 0.01545361612583, 0.001309557345122,
          6.400008504099e-05)
# Φ(x) = 1/2 + x P'(x²) / Q'(x²): z = x/√2 folded into the coefficients (z^2k = x^2k / 2^k),
# and the 1/2 · 1/√2 in front of erf into P'; highest degree first, for Horner's rule.
_CDF_P = [c / 2 ** k * 0.5 ** 1.5 for k, c in enumerate(_ERF_P)][::-1]
_CDF_Q = [c / 2 ** k for k, c in enumerate(_ERF_Q)][::-1]
_CDF_CLIP = 4 * 2 ** 0.5
_CDF_BLOCK = 1 << 15  # elements per block: the float64 working arrays stay in the L2 cache


def normal_cdf(xp, x):
    """Φ(x), the standard normal CDF, elementwise in ``x``'s dtype."""
    if xp is not np or x.dtype != np.float32:
        out = erf(xp, x * np.sqrt(0.5).astype(x.dtype))
        out += 1
        out *= 0.5
        return out
    out = np.empty_like(x)
    flat_x, flat_out = x.reshape(-1), out.reshape(-1)
    size = min(_CDF_BLOCK, flat_x.size)
    work = [np.empty(size) for _ in range(3)] + [np.empty(size, bool)]
    for a in range(0, flat_x.size, _CDF_BLOCK):
        b = min(a + _CDF_BLOCK, flat_x.size)
        _normal_cdf_block(flat_x[a:b], flat_out[a:b], *(w[:b - a] for w in work))
    return out


def _normal_cdf_block(x, out, xc, u, num, below):
    np.clip(x, -_CDF_CLIP, _CDF_CLIP, out=xc)
    np.multiply(xc, xc, out=u)
    _horner(u, _CDF_P, num)
    num *= xc
    den = _horner(u, _CDF_Q, xc)  # (xc is no longer needed)
    np.divide(num, den, out=num)
    num += 0.5
    # below the clip Φ < 8e-9: 0, as float32 erf gives (not the clip point's value)
    np.putmask(num, np.less(x, -_CDF_CLIP, out=below), 0.0)
    out[...] = num


def _horner(u, coefficients, out):
    np.multiply(u, coefficients[0], out=out)
    out += coefficients[1]
    for c in coefficients[2:]:
        out *= u
        out += c
    return out
