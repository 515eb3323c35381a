"""nn.functional: max, average, adaptive and power-average pooling, and max unpooling."""
import math

import numpy as np

from ..._errors import mark, describe
from ...ops.activation import relu
from ...ops.pool import (MaxPool, AdaptiveMaxPool, AvgPool, IndexScatter, pool_counts,
                         avg_divisor, adaptive_counts, check_nonempty)
from ...ops.resample import gather_along
from ...ops._promote import COMPLEX_NP, BOOL_NP
from ...ops._window import int_tuple, require_tensor
from ...backend.cpu import adaptive_windows

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices",
           "max_pool2d_with_indices", "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d",
           "avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d",
           "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d", "max_unpool1d",
           "max_unpool2d", "max_unpool3d"]


def _check_input(op, input, d):
    require_tensor(op, input)
    check_nonempty(op, input, d)
    dtype = input._data.dtype
    if dtype in COMPLEX_NP or dtype is BOOL_NP:
        raise mark(RuntimeError(f"{op}: not implemented for {input.dtype.name} tensors "
                                f"({describe(input)})"))
    return input._data.ndim == d + 2


def _window_args(op, d, kernel_size, stride, padding, dilation=1):
    """kernel_size, stride (default: kernel_size), padding, dilation as d-tuples, checked as
    PyTorch does."""
    kernel_size = int_tuple(op, "kernel_size", kernel_size, d)
    if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0):
        stride = kernel_size
    stride = int_tuple(op, "stride", stride, d)
    padding = int_tuple(op, "padding", padding, d)
    dilation = int_tuple(op, "dilation", dilation, d)
    for name, values in (("kernel_size", kernel_size), ("stride", stride),
                         ("dilation", dilation)):
        if any(v <= 0 for v in values):
            raise mark(RuntimeError(f"{op}: {name} should be greater than zero, but got "
                                    f"{name}={values}"))
    if any(p < 0 for p in padding):
        raise mark(RuntimeError(f"{op}: pad must be non-negative, but got padding={padding}"))
    for k, p in zip(kernel_size, padding):
        if p > k // 2:
            raise mark(RuntimeError(f"{op}: pad should be at most half of kernel size, but got "
                                    f"pad={p} and kernel_size={k}"))
    return kernel_size, stride, padding, dilation


def _batched(input, batched):
    return input if batched else input.unsqueeze(0)


def _unbatched(out, batched):
    if batched:
        return out
    if isinstance(out, tuple):
        return tuple(o.squeeze(0) for o in out)
    return out.squeeze(0)


# ---- max pooling -------------------------------------------------------------------------------

def _max_pool(op, d, input, kernel_size, stride, padding, dilation, ceil_mode):
    batched = _check_input(op, input, d)
    kernel_size, stride, padding, dilation = _window_args(op, d, kernel_size, stride, padding,
                                                          dilation)
    x = _batched(input, batched)
    counts = pool_counts(op, x._data.shape[2:], kernel_size, stride, padding, dilation,
                         ceil_mode, x._data.shape[1])
    return _unbatched(MaxPool.apply(x, kernel_size, stride, padding, dilation, counts), batched)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool3d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False, return_indices=False):
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over windows of (N, C, L) or (C, L); with ``return_indices`` also the flat
    index of each maximum."""
    out = _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over windows of (N, C, H, W) or (C, H, W); with ``return_indices`` also the
    flat index (in H * W) of each maximum."""
    out = _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over windows of (N, C, D, H, W) or (C, D, H, W); with ``return_indices`` also
    the flat index (in D * H * W) of each maximum."""
    out = _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation, ceil_mode)
    return out if return_indices else out[0]


# ---- average pooling ---------------------------------------------------------------------------

def _avg_pool(op, d, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    batched = _check_input(op, input, d)
    kernel_size, stride, padding, _ = _window_args(op, d, kernel_size, stride, padding)
    if divisor_override is not None and divisor_override == 0:
        raise mark(RuntimeError(f"{op}: divisor must be not zero"))
    x = _batched(input, batched)
    size = x._data.shape[2:]
    counts = pool_counts(op, size, kernel_size, stride, padding, (1,) * d, ceil_mode,
                         x._data.shape[1])
    divisor = avg_divisor(x._xp(), x._data.dtype, size, counts, kernel_size, stride, padding,
                          count_include_pad, divisor_override)
    return _unbatched(AvgPool.apply(x, kernel_size, stride, padding, counts, divisor), batched)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Average over windows of (N, C, L) or (C, L)."""
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Average over windows of (N, C, H, W) or (C, H, W)."""
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Average over windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# ---- adaptive pooling --------------------------------------------------------------------------

def _adaptive_input(op, input, output_size, d):
    require_tensor(op, input)
    if d > 1 and isinstance(output_size, (list, tuple)) and \
            len(output_size) >= input._data.ndim:
        # PyTorch checks a sequence output_size in Python, before anything else
        raise ValueError(f"{op}: Input dimension should be at least {len(output_size) + 1}, "
                         f"but got input {describe(input)} for output_size {output_size}")
    if input._data.ndim not in (d + 1, d + 2) or 0 in input._data.shape[-d:]:
        raise mark(RuntimeError(
            f"{op}: Expected {d + 1}D or {d + 2}D tensor with non-zero sizes in the pooled "
            f"dims, but got input {describe(input)}"))
    if input._data.dtype in COMPLEX_NP or input._data.dtype is BOOL_NP:
        raise mark(RuntimeError(f"{op}: not implemented for {input.dtype.name} tensors"))
    return adaptive_counts(op, input, output_size, d), input._data.ndim == d + 2


def _adaptive_max_pool(op, d, input, output_size):
    output_size, batched = _adaptive_input(op, input, output_size, d)
    x = _batched(input, batched)
    return _unbatched(AdaptiveMaxPool.apply(x, output_size), batched)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size)


def adaptive_max_pool3d_with_indices(input, output_size, return_indices=False):
    return _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` adaptive windows of (N, C, L) or (C, L)."""
    out = _adaptive_max_pool("adaptive_max_pool1d", 1, input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` adaptive windows of (N, C, H, W) or (C, H, W); None
    keeps a dim's size."""
    out = _adaptive_max_pool("adaptive_max_pool2d", 2, input, output_size)
    return out if return_indices else out[0]


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` adaptive windows of (N, C, D, H, W) or (C, D, H, W)."""
    out = _adaptive_max_pool("adaptive_max_pool3d", 3, input, output_size)
    return out if return_indices else out[0]


def _adaptive_avg_pool(op, d, input, output_size):
    output_size, _ = _adaptive_input(op, input, output_size, d)
    size = input._data.shape[-d:]
    lead = input._data.ndim - d
    if 0 in output_size:
        shape = tuple(input.shape[:lead]) + output_size
        return input.flatten()[:0].reshape(shape)
    if input._data.dtype.kind in "iu":
        raise mark(NotImplementedError(f"{op}: not implemented for {input.dtype.name} tensors; "
                                       f"convert the input with .float() first"))
    if all(n % m == 0 for n, m in zip(size, output_size)):  # equal windows: an average pool
        kernel = tuple(n // m for n, m in zip(size, output_size))
        batched = input._data.ndim == d + 2
        x = _batched(input, batched)
        out = AvgPool.apply(x, kernel, kernel, (0,) * d, output_size, math.prod(kernel))
        return _unbatched(out, batched)
    out = input
    for axis in reversed(range(d)):  # one dim at a time, the last one first
        n, m = size[axis], output_size[axis]
        if n != m:
            out = gather_along(out, lead + axis, *_average_weights(n, m))
    return out


def _average_weights(size, out):
    """(index, weights) averaging each adaptive window of a dim of ``size``; short windows are
    padded with weight 0."""
    starts, ends = adaptive_windows(size, out)
    k = int((ends - starts).max())
    index = np.minimum(starts[:, None] + np.arange(k), ends[:, None] - 1)
    valid = starts[:, None] + np.arange(k) < ends[:, None]
    return index, valid / (ends - starts)[:, None]


def adaptive_avg_pool1d(input, output_size):
    """Average over ``output_size`` adaptive windows of (N, C, L) or (C, L)."""
    return _adaptive_avg_pool("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average over ``output_size`` adaptive windows of (N, C, H, W) or (C, H, W); None keeps
    a dim's size."""
    return _adaptive_avg_pool("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Average over ``output_size`` adaptive windows of (N, C, D, H, W) or (C, D, H, W)."""
    return _adaptive_avg_pool("adaptive_avg_pool3d", 3, input, output_size)


# ---- power-average pooling ---------------------------------------------------------------------

def _lp_pool(d, avg_pool, max_pool, input, norm_type, kernel_size, stride, ceil_mode):
    """``(sum over the window of x ** p) ** (1 / p)``, computed as PyTorch does (through an
    average pool scaled back by the window size)."""
    kernel = int_tuple(f"lp_pool{d}d", "kernel_size", kernel_size, d)
    if norm_type == float("inf"):
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == float("-inf"):
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(math.prod(kernel)).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, L) or (C, L)."""
    return _lp_pool(1, avg_pool1d, max_pool1d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, H, W) or (C, H, W)."""
    return _lp_pool(2, avg_pool2d, max_pool2d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling over (N, C, D, H, W) or (C, D, H, W)."""
    return _lp_pool(3, avg_pool3d, max_pool3d, input, norm_type, kernel_size, stride, ceil_mode)


# ---- max unpooling -----------------------------------------------------------------------------

def _unpool_size(op, input, kernel_size, stride, padding, output_size):
    d = len(kernel_size)
    default = [(input.shape[-d + i] - 1) * stride[i] + kernel_size[i] - 2 * padding[i]
               for i in range(d)]
    if output_size is None:
        return tuple(default)
    output_size = list(output_size)
    if len(output_size) == d + 2:
        output_size = output_size[2:]
    if len(output_size) != d:
        raise ValueError(f"output_size should be a sequence containing {d} or {d + 2} "
                         f"elements, but it has a length of '{len(output_size)}'")
    for i in range(d):
        low, high = default[i] - stride[i], default[i] + stride[i]
        if not low < output_size[i] < high:
            raise ValueError(f'invalid output_size "{output_size}" (dim {i} must be between '
                             f'{low} and {high})')
    return tuple(output_size)


def _max_unpool(op, d, input, indices, kernel_size, stride, padding, output_size):
    require_tensor(op, input)
    require_tensor(op, indices, "indices", 2)
    kernel_size = int_tuple(op, "kernel_size", kernel_size, d)
    stride = kernel_size if stride is None else int_tuple(op, "stride", stride, d)
    padding = int_tuple(op, "padding", padding, d)
    if input._data.ndim not in (d + 1, d + 2):
        raise mark(RuntimeError(f"{op}: Expected {d + 1}D or {d + 2}D input, but got "
                                f"{describe(input)}"))
    if indices._data.dtype != np.int64:
        raise mark(RuntimeError(f"{op}: Expected indices to have dtype int64, but got "
                                f"{indices.dtype.name}"))
    if tuple(indices.shape) != tuple(input.shape):
        raise mark(RuntimeError(
            f"{op}: Expected shape of indices to be same as that of the input tensor "
            f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}"))
    size = _unpool_size(op, input, kernel_size, stride, padding, output_size)
    plane = math.prod(size)
    index = indices._data
    if index.size and (int(index.min()) < 0 or int(index.max()) >= plane):
        bad = int(index.max()) if int(index.max()) >= plane else int(index.min())
        raise mark(RuntimeError(f"{op}: Found an invalid max index: {bad} (output volumes are "
                                f"of size {'x'.join(map(str, size))})"))
    batched = input._data.ndim == d + 2
    x = _batched(input, batched)
    if not batched:
        index = index[None]
    return _unbatched(IndexScatter.apply(x, index, size, False), batched)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d``: each value put back at its index, zeros elsewhere."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: each value put back at its index, zeros elsewhere."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool3d``: each value put back at its index, zeros elsewhere."""
    return _max_unpool("max_unpool3d", 3, input, indices, kernel_size, stride, padding,
                       output_size)
