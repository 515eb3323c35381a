"""nn.functional: padding, interpolation (``interpolate`` and the deprecated ``upsample*``),
``grid_sample`` / ``affine_grid``, pixel and channel shuffles.

Interpolation is separable: each resized dim is one ``AxisGather`` (every output position a
weighted sum of a few input positions, with PyTorch's index arithmetic), the last dim first as
in PyTorch's kernels; uint8 images are resized in PyTorch's fixed-point integer arithmetic.
``grid_sample`` gathers the corners of each sample point (``IndexGather``) and weights them with
ember ops on the grid, so gradients reach the grid as well."""
import math
import numbers
import warnings

import numpy as np

from ... import _dtype
from ..._creation import linspace, ones
from ..._errors import mark, describe
from ..._tensor import _new_tensor
from ...autograd.function import Function
from ...ops.compare import where
from ...ops.pool import IndexGather
from ...ops.resample import (gather_along, pixel_shuffle, pixel_unshuffle,  # noqa: F401
                             channel_shuffle)
from ...ops.shape import pad, stack  # noqa: F401
from ...ops._promote import FLOAT_NP
from ...ops._window import require_tensor
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["pad", "interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "grid_sample", "affine_grid", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle",
           "native_channel_shuffle"]

native_channel_shuffle = channel_shuffle

_LINEAR_MODES = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_UINT8_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")  # as PyTorch's CPU kernels
# modes whose kernels copy a dim of unchanged size whatever the scale factor (bicubic and
# nearest-exact resample it by the scale factor given; nearest copies it only in PyTorch's 2-D
# kernel for small outputs, see _NEAREST_SHORTCUT)
_COPY_KEPT_SIZE = ("linear", "bilinear", "trilinear")
# PyTorch picks its 2-D nearest kernel, which copies kept dims and halves the index of doubled
# ones, when the output's height + width is at most this; other nearest kernels always compute
# floor(i * scale)
_NEAREST_SHORTCUT = 128
_CUBIC_A = -0.75


# ---- interpolate -------------------------------------------------------------------------------

def _opmath(dtype):
    """The NumPy type PyTorch's CPU kernels compute index arithmetic in for ``dtype``."""
    return np.float64 if dtype == np.float64 else np.float32


def _scale(ftype, size, out, scale_factor):
    """Input positions per output position: 1 / scale_factor when given, else size / out."""
    if scale_factor is not None and scale_factor > 0:
        return ftype(1.0 / scale_factor)
    return ftype(size) / ftype(out)


def _nearest_index(size, out, scale_factor, exact, shortcut):
    """PyTorch's nearest (or nearest-exact) source index of each output position (float32
    arithmetic whatever the input dtype, as PyTorch's); ``shortcut``: the index of a doubled
    dim is halved rather than computed."""
    positions = np.arange(out, dtype=np.float32)
    if not exact and shortcut and out == 2 * size:
        return np.arange(out) >> 1
    scale = _scale(np.float32, size, out, scale_factor)
    if exact:
        positions = positions + np.float32(0.5)
    return np.minimum(np.floor(positions * scale).astype(np.int64), size - 1)


def _source_position(ftype, size, out, align_corners, scale_factor, cubic):
    """PyTorch's fractional source position of each output position (area_pixel_compute_*)."""
    positions = np.arange(out).astype(ftype)
    if align_corners:
        scale = ftype(size - 1) / ftype(out - 1) if out > 1 else ftype(0)
        return scale * positions
    scale = _scale(ftype, size, out, scale_factor)
    src = scale * (positions + ftype(0.5)) - ftype(0.5)
    return src if cubic else np.maximum(src, ftype(0))


def _guard(src, size):
    """The integer part (at most size - 1) and the fraction clamped to [0, 1]."""
    index = np.minimum(np.floor(src).astype(np.int64), size - 1)
    frac = np.clip(src - index.astype(src.dtype), 0, 1).astype(src.dtype)
    return index, frac


def _cubic_weights(t):
    """The four cubic convolution coefficients (A = -0.75) at fraction ``t``."""
    a = t.dtype.type(_CUBIC_A)
    one = t.dtype.type(1)

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.stack([far(t + one), near(t), near(one - t), far(one - t + one)], axis=1)


def _axis_taps(mode, dtype, size, out, align_corners, scale_factor, shortcut=False):
    """(index, weights) of one dim for ``AxisGather``; weights None for nearest modes."""
    if mode in ("nearest", "nearest-exact"):
        index = _nearest_index(size, out, scale_factor, mode == "nearest-exact", shortcut)
        return index[:, None], None
    ftype = _opmath(dtype)
    src = _source_position(ftype, size, out, align_corners, scale_factor, mode == "bicubic")
    index, frac = _guard(src, size)
    if mode == "bicubic":
        taps = np.clip(index[:, None] + np.arange(-1, 3), 0, size - 1)
        return taps, _cubic_weights(frac)
    upper = index + (index < size - 1)
    return np.stack([index, upper], 1), np.stack([ftype(1) - frac, frac], 1)


def _fixed_point_taps(mode, size, out, align_corners, scale_factor):
    """(index, int32 weights, fraction bits) of one dim for uint8 input, as PyTorch's uint8
    kernels compute them: float64 weights, those of taps clamped onto the same edge pixel added
    up (in tap order: the largest running sum sets the precision), then rounded half away from
    zero to fixed point with as many fraction bits as int16 holds."""
    taps, weights = _axis_taps(mode, np.float64, size, out, align_corners, scale_factor)
    rows = np.arange(out)
    merged = np.zeros_like(weights)  # slot s holds the weight of pixel taps[:, 0] + s
    peak = 0.0
    for k in range(taps.shape[1]):
        slot = taps[:, k] - taps[:, 0]
        merged[rows, slot] += weights[:, k]
        peak = max(peak, merged[rows, slot].max())
    bits = 0
    while bits < 22 and int(0.5 + peak * 2.0 ** (bits + 1)) < 1 << 15:
        bits += 1
    scaled = merged * 2.0 ** bits
    fixed = np.trunc(scaled + np.where(scaled < 0, -0.5, 0.5)).astype(np.int32)
    index = np.minimum(taps[:, :1] + np.arange(taps.shape[1]), size - 1)
    return index, fixed, bits


def _resize_uint8(input, mode, sizes, align_corners, factors):
    """Bilinear / bicubic resizing of uint8 images as PyTorch's: one dim at a time (the last
    first, dims whose size is kept skipped), each pass in fixed-point integer arithmetic,
    rounded to nearest and clamped to [0, 255]."""
    out = input
    for axis in reversed(range(len(sizes))):
        n, m = input.shape[2 + axis], sizes[axis]
        if n == m:
            continue
        index, weights, bits = _fixed_point_taps(mode, n, m, align_corners, factors[axis])
        acc = gather_along(out.to(_dtype.int32), 2 + axis, index, weights)
        out = ((acc + (1 << (bits - 1))) >> bits).clamp(0, 255).to(_dtype.uint8)
    return input.clone() if out is input else out


def _output_size(input, size, scale_factor, recompute_scale_factor, d):
    """(output sizes, scale factors handed to the index arithmetic), as F.interpolate
    computes them."""
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = list(input.shape[2:])
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != d:
                raise ValueError(
                    f"Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                    f"size in (o1, o2, ...,oK) format.")
            if not all(isinstance(s, numbers.Integral) for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, "
                                f"int] or Tuple[int, int, int], but got size with types "
                                f"{[type(s) for s in size]}")
            sizes = [int(s) for s in size]
        else:
            if not isinstance(size, numbers.Integral):
                raise TypeError(f"interpolate(): size must be an int or a tuple of ints, got "
                                f"{type(size).__name__}")
            sizes = [int(size)] * d
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return sizes, [None] * d
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != d:
            raise ValueError(
                f"Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {spatial} and scale_factor of shape "
                f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                f"and scale_factor in (s1, s2, ...,sK) format.")
        factors = [float(s) for s in scale_factor]
    else:
        factors = [float(scale_factor)] * d
    sizes = [int(math.floor(float(n) * s)) for n, s in zip(spatial, factors)]
    return sizes, ([None] * d if recompute_scale_factor else factors)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resizes (N, C, *spatial) to ``size`` or by ``scale_factor`` with PyTorch's modes and
    index arithmetic: nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area."""
    op = "interpolate"
    require_tensor(op, input)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating "
                             "modes: linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    ndim = input._data.ndim
    d = ndim - 2
    if mode not in ("nearest", "area", "nearest-exact") and mode not in _LINEAR_MODES \
            or ndim not in (3, 4, 5):
        raise mark(NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for the "
            f"modes: nearest | linear | bilinear | bicubic | trilinear | area | nearest-exact "
            f"(got {mode})"))
    if mode in _LINEAR_MODES and _LINEAR_MODES[mode] != ndim:
        need = _LINEAR_MODES[mode]
        raise mark(NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {need}D "
                                       f"input"))
    sizes, factors = _output_size(input, size, scale_factor,
                                  recompute_scale_factor or (mode == "area" and size is None), d)
    if antialias:
        if not (mode in ("bilinear", "bicubic") and ndim == 4):
            raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos "
                             "modes and requires a 4-D tensor as input")
        raise mark(NotImplementedError(f"{op}: antialias=True is not supported by ember yet; "
                                       f"use antialias=False"))
    spatial = tuple(input.shape[2:])
    if any(n <= 0 for n in sizes) or any(n <= 0 for n in spatial):
        raise mark(RuntimeError(
            f"{op}: Input and output sizes should be greater than 0, but got input "
            f"{spatial} and output {tuple(sizes)}"))
    if mode == "area":
        pool = (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[d - 1]
        return pool(input, sizes)
    dtype = input._data.dtype
    if dtype not in FLOAT_NP and (dtype != np.uint8 or mode not in _UINT8_MODES):
        raise mark(NotImplementedError(f"{op}: mode {mode!r} is not implemented for "
                                       f"{input.dtype.name} tensors ({describe(input)}); "
                                       f"convert the input with .float() first"))
    if dtype == np.uint8 and mode in _LINEAR_MODES:
        return _resize_uint8(input, mode, sizes, align_corners, factors)
    half = input.dtype in (_dtype.float16, _dtype.bfloat16)
    out = input.float() if half else input  # one float32 pass, as PyTorch's opmath
    shortcut = mode == "nearest" and d == 2 and sum(sizes) <= _NEAREST_SHORTCUT
    for axis in reversed(range(d)):
        n, m = spatial[axis], sizes[axis]
        if n == m and (mode in _COPY_KEPT_SIZE or shortcut):
            continue
        index, weights = _axis_taps(mode, dtype, n, m, align_corners, factors[axis], shortcut)
        out = gather_along(out, 2 + axis, index, weights)
    if out is input:
        out = input.clone()
    return out.to(input.dtype) if half else out


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated alias of ``interpolate``."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` "
                  "instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use "
                  "`nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- grid_sample / affine_grid -----------------------------------------------------------------

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to "
                  "align_corners=False since 1.3.0. Please specify align_corners=True if the old "
                  "behavior is desired. See the documentation of grid_sample for details.")


def _unnormalize(coord, size, align_corners):
    """Grid coordinates in [-1, 1] as pixel positions."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _reflect(coord, twice_low, twice_high):
    """``coord`` reflected back and forth into [twice_low / 2, twice_high / 2]."""
    if twice_low == twice_high:
        return coord * 0
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    coord = (coord - low).abs()
    extra = coord.fmod(span)
    flips = (coord / span).floor()
    return where(flips.fmod(2) == 0, extra + low, span - extra + low)


def _pad_coordinates(coord, size, padding_mode, align_corners):
    """PyTorch's compute_coordinates: clipped (border) or reflected then clipped."""
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        if align_corners:
            coord = _reflect(coord, 0, 2 * (size - 1))
        else:
            coord = _reflect(coord, -1, 2 * size - 1)
        return coord.clamp(0, size - 1)
    return coord


def _gather_points(input, positions, sizes):
    """Values of ``input`` (N, C, *sizes) at integer ``positions`` (per dim, (N, *out) int64
    arrays), 0 where a position is outside: (N, C, *out)."""
    xp = input._xp()
    n, c = input._data.shape[:2]
    inside = None
    flat = None
    for pos, size in zip(positions, sizes):
        ok = (pos >= 0) & (pos < size)
        inside = ok if inside is None else inside & ok
        pos = xp.clip(pos, 0, size - 1)
        flat = pos if flat is None else flat * size + pos
    out_shape = positions[0].shape[1:]
    index = flat.reshape(n, 1, -1)
    values = IndexGather.apply(input, index).reshape(n, c, *out_shape)
    return values, inside


def _mask(values, inside):
    """``values`` with the points outside the input zeroed (a constant mask)."""
    if bool(inside.all()):
        return values
    keep = _new_tensor(inside[:, None].astype(values._data.dtype))
    return values * keep


def _floor_index(coord):
    """The integer part of a coordinate tensor, as an int64 array."""
    return coord._xp().floor(coord._data).astype(np.int64)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples ``input`` (N, C, H, W) or (N, C, D, H, W) at the points of ``grid``
    (N, H_out, W_out, 2) or (N, D_out, H_out, W_out, 3), in [-1, 1] coordinates (x first)."""
    op = "grid_sample"
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', "
                         f"'nearest' or 'bicubic', but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', "
                         f"'border', or 'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    require_tensor(op, input)
    require_tensor(op, grid, "grid", 2)
    _check_grid(op, input, grid, mode)
    d = input._data.ndim - 2
    sizes = tuple(input.shape[2:])
    # grid's last dim lists x (the last spatial dim) first
    coords = [_unnormalize(grid[..., d - 1 - i], sizes[i], align_corners) for i in range(d)]
    if mode == "bicubic":
        return _grid_bicubic(input, coords, sizes, padding_mode, align_corners)
    coords = [_pad_coordinates(c, n, padding_mode, align_corners)
              for c, n in zip(coords, sizes)]
    xp = input._xp()
    if mode == "nearest":
        positions = [xp.rint(c._data).astype(np.int64) for c in coords]
        values, inside = _gather_points(input, positions, sizes)
        return _ZeroGridGradient.apply(_mask(values, inside), grid)
    lows = [_floor_index(c) for c in coords]
    fracs = [c - _as_float(low, c) for c, low in zip(coords, lows)]
    out = None
    for corner in np.ndindex(*(2,) * d):  # every corner of the cell around the point
        positions = [low + k for low, k in zip(lows, corner)]
        values, inside = _gather_points(input, positions, sizes)
        weight = None
        for f, k in zip(fracs, corner):
            w = f if k else 1 - f
            weight = w if weight is None else weight * w
        term = _mask(values * weight.unsqueeze(1), inside)
        out = term if out is None else out + term
    return out


class _ZeroGridGradient(Function):
    """Nearest sampling passes ``values`` on unchanged; the grid gets a zero gradient (the
    output is piecewise constant in it), as in PyTorch, rather than none."""
    _raw = True
    op_name = "grid_sample_nearest"

    @staticmethod
    def forward(ctx, values, grid):
        ctx.grid = (grid.shape, grid.dtype)
        return values.view()

    @staticmethod
    def backward(ctx, grad):
        shape, dtype = ctx.grid
        return grad, _new_tensor(grad._xp().zeros(shape, dtype))


def _as_float(index, like):
    """An integer position array as a constant tensor of ``like``'s dtype."""
    return _new_tensor(index.astype(like._data.dtype))


def _grid_bicubic(input, coords, sizes, padding_mode, align_corners):
    """Bicubic sampling: 4 x 4 taps, each tap's position padded on its own (as PyTorch's)."""
    xp = input._xp()
    (cy, cx), (h, w) = coords, sizes
    y0, x0 = _floor_index(cy), _floor_index(cx)
    wy = _cubic_coefficients(cy - _as_float(y0, cy))
    wx = _cubic_coefficients(cx - _as_float(x0, cx))
    out = None
    for i in range(4):
        ty = _tap(xp, y0 - 1 + i, h, padding_mode, align_corners, cy)
        for j in range(4):
            tx = _tap(xp, x0 - 1 + j, w, padding_mode, align_corners, cx)
            values, inside = _gather_points(input, [ty, tx], sizes)
            term = _mask(values * (wy[i] * wx[j]).unsqueeze(1), inside)
            out = term if out is None else out + term
    return out


def _tap(xp, position, size, padding_mode, align_corners, like):
    """A bicubic tap's integer position after padding (PyTorch truncates the padded
    coordinate)."""
    if padding_mode == "zeros":
        return position
    coord = _pad_coordinates(_as_float(position, like), size, padding_mode, align_corners)
    return xp.trunc(coord._data).astype(np.int64)


def _cubic_coefficients(t):
    """The cubic convolution coefficients (A = -0.75) of the four taps, as tensors."""
    a = _CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _check_grid(op, input, grid, mode):
    x, g = input._data, grid._data
    if x.dtype != g.dtype:
        raise mark(RuntimeError(f"grid_sampler(): expected input and grid to have the same "
                                f"dtype, but got input {describe(input)} and grid "
                                f"{describe(grid)}"))
    if x.dtype not in FLOAT_NP:
        raise mark(RuntimeError(f"grid_sampler(): expected a floating point input, got "
                                f"{describe(input)}"))
    if x.ndim not in (4, 5) or g.ndim != x.ndim:
        raise mark(RuntimeError(
            f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, "
            f"but got input with sizes {list(x.shape)} and grid with sizes {list(g.shape)}"))
    if x.shape[0] != g.shape[0]:
        raise mark(RuntimeError(
            f"grid_sampler(): expected grid and input to have same batch size, but got input "
            f"with sizes {list(x.shape)} and grid with sizes {list(g.shape)}"))
    if g.shape[-1] != x.ndim - 2:
        raise mark(RuntimeError(
            f"grid_sampler(): expected grid to have size {x.ndim - 2} in last dimension, but "
            f"got grid with sizes {list(g.shape)}"))
    if mode == "bicubic" and x.ndim != 4:
        raise mark(RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input"))
    if 0 in x.shape[2:]:
        raise mark(RuntimeError(f"grid_sampler(): expected input to have non-empty spatial "
                                f"dimensions, but input has sizes {list(x.shape)}"))


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) or (N, D, H, W, 3) of the affine maps ``theta``
    (N, 2, 3) or (N, 3, 4), for ``grid_sample`` output ``size``."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    require_tensor("affine_grid", theta, "theta")
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size "
                             f"{size}. Got {theta.shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size "
                             f"{size}. Got {theta.shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D "
                                  f"affine transforms, respectively. Got size {tuple(size)}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size "
                      "grids when align_corners=True. This is not an intended use case of "
                      "affine_grid. See the documentation of affine_grid for details.",
                      stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {tuple(size)}")
    if theta.shape[0] != size[0]:
        raise mark(RuntimeError(f"affine_grid: theta has {theta.shape[0]} matrices but size "
                                f"{tuple(size)} asks for a batch of {size[0]}"))
    kw = dict(dtype=theta.dtype, device=theta.device)
    axes = [_base_coords(n, align_corners, kw) for n in reversed(spatial)]  # x first
    d = len(spatial)
    parts = []
    for i, coord in enumerate(axes):  # coordinate i varies along spatial dim d - 1 - i
        shape = [1] * d
        shape[d - 1 - i] = -1
        parts.append(coord.reshape(shape).expand(*spatial))
    parts.append(ones(*spatial, **kw))
    base = stack(parts, -1).reshape(-1, d + 1)  # (prod(spatial), d + 1)
    grid = base.matmul(theta.transpose(1, 2))  # (N, prod(spatial), d)
    return grid.reshape(size[0], *spatial, d)


def _base_coords(n, align_corners, kw):
    """The n normalized coordinates of a grid dim of size n."""
    if n <= 1:
        return linspace(-1, 1, n, **kw) * 0
    coords = linspace(-1, 1, n, **kw)
    return coords if align_corners else coords * ((n - 1) / n)
