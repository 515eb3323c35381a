"""The convolution, pooling and resampling kernels on CuPy arrays.

Most are ``cpu.py``'s own code, written against ``xp``: im2col views with
``cupy.lib.stride_tricks.as_strided``, matrix products on cuBLAS, strided adds (no cuDNN is
needed). What differs is scattering: NumPy's ``add.reduceat`` and ``put_along_axis`` become
``cupyx.scatter_add`` and an indexed assignment."""
import math

from .cpu import (conv, conv_input_grad, conv_weight_grad, unfold, fold, max_pool,  # noqa: F401
                  adaptive_max_pool, window_sum, window_spread, index_gather, axis_gather,
                  axis_scatter)
from .cpu import index_scatter as _bincount_scatter


def add_along_axis(xp, out, axis, index, values):
    """``out[..., index[i], ...] += values[..., i, ...]``, repeated indices adding up."""
    if index.size == 0:
        return
    import cupyx
    cupyx.scatter_add(xp.moveaxis(out, axis, 0), xp.asarray(index),
                      xp.moveaxis(values, axis, 0))


def index_scatter(xp, values, index, size, accumulate):
    """(N, C, *size) zeros with ``values`` put at the flat spatial ``index`` (added up where
    indices repeat if ``accumulate``, which ``cupy.bincount`` does as on the CPU)."""
    if accumulate:
        return _bincount_scatter(xp, values, index, size, accumulate)
    n, c = values.shape[:2]
    points = math.prod(values.shape[2:])
    out = xp.zeros((n, c, math.prod(size)), values.dtype)
    rows = xp.arange(n).reshape(n, 1, 1)
    channels = xp.arange(c).reshape(1, c, 1)
    out[rows, channels, index.reshape(index.shape[:2] + (points,))] = \
        values.reshape(n, c, points)
    return out.reshape((n, c) + tuple(size))
