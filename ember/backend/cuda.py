"""The convolution, pooling and resampling kernels on CuPy arrays.

Most are ``cpu.py``'s own code, written against ``xp``: im2col views with
``cupy.lib.stride_tricks.as_strided``, matrix products on cuBLAS, strided adds (no cuDNN is
needed). What differs is adding along an axis with repeated indices: NumPy's ``add.reduceat``
becomes ``cupyx.scatter_add``."""
from .cpu import (conv, conv_input_grad, conv_weight_grad, unfold, fold, max_pool,  # noqa: F401
                  adaptive_max_pool, window_sum, window_spread, index_gather, index_scatter,
                  axis_gather, axis_scatter)


def add_along_axis(xp, out, axis, index, values):
    """``out[..., index[i], ...] += values[..., i, ...]``, repeated indices adding up."""
    if index.size == 0:
        return
    import cupyx
    cupyx.scatter_add(xp.moveaxis(out, axis, 0), xp.asarray(index),
                      xp.moveaxis(values, axis, 0))
