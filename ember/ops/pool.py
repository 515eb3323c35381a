"""Pooling primitives: window maxima and sums, and the index scatter / gather pair.

``MaxPool`` and ``AdaptiveMaxPool`` return the maxima and their flat spatial indices; their
gradient is ``IndexScatter`` (each gradient put back where its maximum came from), whose adjoint
is ``IndexGather`` and vice versa, so max pooling has gradients of any order. ``AvgPool`` (window
sums divided by a divisor) and ``AvgPoolBackward`` are adjoint linear maps. The array kernels
live in ``ember/backend``."""
import numpy as np

from .._errors import mark, describe
from ..autograd.function import Function
from ..backend.cpu import kernels, compute_dtype


class MaxPool(Function):
    """(values, indices) of the maximum of every window of x (N, C, *S)."""
    _raw = True
    op_name = "max_pool"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, dilation, counts):
        values, index = kernels(ctx.xp).max_pool(ctx.xp, x, kernel_size, stride, padding,
                                                 dilation, counts)
        ctx.index, ctx.size = index, x.shape[2:]
        # windows that overlap can pick the same element: its gradients add up
        ctx.overlap = any(s < d * (k - 1) + 1 for k, s, d in zip(kernel_size, stride, dilation))
        ctx.set_materialize_grads(False)
        return values, index

    @staticmethod
    def backward(ctx, grad, _):
        return (IndexScatter.apply(grad, ctx.index, ctx.size, ctx.overlap),) + (None,) * 5


class AdaptiveMaxPool(Function):
    """(values, indices) of the maximum over PyTorch's adaptive windows."""
    _raw = True
    op_name = "adaptive_max_pool"

    @staticmethod
    def forward(ctx, x, output_size):
        values, index = kernels(ctx.xp).adaptive_max_pool(ctx.xp, x, output_size)
        ctx.index, ctx.size = index, x.shape[2:]
        ctx.overlap = any(n % m for n, m in zip(x.shape[2:], output_size) if m)
        ctx.set_materialize_grads(False)
        return values, index

    @staticmethod
    def backward(ctx, grad, _):
        return IndexScatter.apply(grad, ctx.index, ctx.size, ctx.overlap), None


class IndexScatter(Function):
    """(N, C, *size) zeros with ``values`` put at the flat spatial ``index`` (an array), added
    where indices repeat if ``accumulate``."""
    _raw = True
    op_name = "index_scatter"

    @staticmethod
    def forward(ctx, values, index, size, accumulate):
        ctx.index = index
        return kernels(ctx.xp).index_scatter(ctx.xp, values, index, size, accumulate)

    @staticmethod
    def backward(ctx, grad):
        return IndexGather.apply(grad, ctx.index), None, None, None


class IndexGather(Function):
    """``out[n, c, ...] = x[n, c].flat[index[n, c, ...]]``."""
    _raw = True
    op_name = "index_gather"

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.size = index, x.shape[2:]
        return kernels(ctx.xp).index_gather(ctx.xp, x, index)

    @staticmethod
    def backward(ctx, grad):
        return IndexScatter.apply(grad, ctx.index, ctx.size, True), None


class AvgPool(Function):
    """Window sums of the zero-padded input divided by ``divisor`` (a number or an array)."""
    _raw = True
    op_name = "avg_pool"

    @staticmethod
    def forward(ctx, x, kernel_size, stride, padding, counts, divisor):
        ctx.args = (kernel_size, stride, padding)
        ctx.size, ctx.counts, ctx.divisor = x.shape[2:], counts, divisor
        return kernels(ctx.xp).window_sum(ctx.xp, x, kernel_size, stride, padding, counts,
                                          divisor)

    @staticmethod
    def backward(ctx, grad):
        return (AvgPoolBackward.apply(grad, *ctx.args, ctx.size, ctx.divisor),) + (None,) * 5


class AvgPoolBackward(Function):
    """The adjoint of ``AvgPool``: each ``grad / divisor`` spread over its window."""
    _raw = True
    op_name = "avg_pool_backward"

    @staticmethod
    def forward(ctx, grad, kernel_size, stride, padding, size, divisor):
        ctx.args = (kernel_size, stride, padding)
        ctx.counts, ctx.divisor = grad.shape[2:], divisor
        return kernels(ctx.xp).window_spread(ctx.xp, grad, kernel_size, stride, padding, size,
                                             divisor)

    @staticmethod
    def backward(ctx, grad):
        return (AvgPool.apply(grad, *ctx.args, ctx.counts, ctx.divisor),) + (None,) * 5


# ---- geometry ---------------------------------------------------------------------------------

def pool_counts(op, size, kernel_size, stride, padding, dilation, ceil_mode, channels):
    """The number of windows along each dim, as PyTorch counts them (with ``ceil_mode`` a last
    window may hang over the end, but none starts in the padding)."""
    counts = []
    for n, k, s, p, d in zip(size, kernel_size, stride, padding, dilation):
        c = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (c - 1) * s >= n + p:
            c -= 1
        counts.append(c)
    if any(c <= 0 for c in counts):
        raise mark(RuntimeError(
            f"{op}: Given input size: ({'x'.join(map(str, (channels,) + tuple(size)))}). "
            f"Calculated output size: ({'x'.join(map(str, (channels,) + tuple(counts)))}). "
            f"Output size is too small (kernel_size={kernel_size}, stride={stride}, "
            f"padding={padding}, dilation={dilation}); use a smaller kernel or pad the input"))
    return tuple(counts)


def avg_divisor(xp, dtype, size, counts, kernel_size, stride, padding, count_include_pad,
                divisor_override):
    """What each window sum is divided by: PyTorch's window size (clipped to the padded input,
    and to the input itself unless ``count_include_pad``), or ``divisor_override``."""
    if divisor_override is not None:
        return divisor_override
    per_dim = []
    for n, c, k, s, p in zip(size, counts, kernel_size, stride, padding):
        start = np.arange(c) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        per_dim.append(end - start)
    divisor = per_dim[0]
    for sizes in per_dim[1:]:
        divisor = np.multiply.outer(divisor, sizes)
    if divisor.size == 0 or (divisor == divisor.flat[0]).all():
        return int(divisor.flat[0]) if divisor.size else 1
    kind = np.int64 if np.dtype(dtype).kind in "iu" else compute_dtype(np.dtype(dtype))
    return xp.asarray(divisor.astype(kind))


def adaptive_counts(op, input, output_size, d):
    """``output_size`` with None entries filled in from the input."""
    from ._window import int_tuple
    if isinstance(output_size, (list, tuple)) and len(output_size) == d:
        sizes = tuple(n if m is None else m for m, n in zip(output_size, input.shape[-d:]))
    else:
        sizes = output_size
    sizes = int_tuple(op, "output_size", sizes, d)
    if any(m < 0 for m in sizes):
        raise mark(RuntimeError(f"{op}: elements of output_size must be greater than or equal "
                                f"to 0 but received {list(sizes)}"))
    return sizes


def check_nonempty(op, input, d):
    """An input of d + 1 or d + 2 dims whose non-batch dims are not empty."""
    shape = input._data.shape
    if input._data.ndim not in (d + 1, d + 2) or 0 in shape[-(d + 1):]:
        raise mark(RuntimeError(
            f"{op}: Expected {d + 1}D or {d + 2}D (batch mode) tensor with optional 0 dim batch "
            f"size for input, but got: {describe(input)}"))
