"""Convolution, pooling and resampling kernels on arrays.

The kernels take the array module ``xp`` as their first argument and are written once against
it: NumPy here, and ``cuda.py`` reuses them on CuPy arrays, replacing only what differs per
device (``kernels(xp)`` picks the module).

Convolutions are matrix products on im2col columns in one of three layouts, the batch taken in
chunks whose columns stay in the CPU cache (see "convolution" below). Max pooling is a running
maximum over the kernel offsets. float16 and bfloat16 compute in float32 (NumPy has no fast
half-precision matrix product)."""
import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..ops._promote import HALF_NP as _HALF


def kernels(xp):
    """The kernel module for arrays of ``xp``: this one for NumPy, ``cuda`` for CuPy."""
    if xp is np:
        from . import cpu
        return cpu
    from . import cuda
    return cuda


# ---- work split across threads ---------------------------------------------------------------
# NumPy releases the GIL in copies and arithmetic, so large ones split along their first axis run
# on several cores at once (as BLAS does for the products). The thread count follows
# ember.set_num_threads (through the environment variables it sets), else the usable CPUs. When
# the machine is already busy (its load average leaves no core idle) the split only adds
# contention, so it is skipped.

PARALLEL_MIN_ELEMENTS = 1 << 18  # smaller work is not worth a thread hand-off
_pool = None
_pool_key = None


def num_threads():
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1


def in_parallel(xp, n, fn, elements):
    """``fn(start, stop)`` over ``range(n)`` in one chunk per thread when ``elements`` (the
    work's size) is large, else once over everything. CuPy work is never split."""
    global _pool, _pool_key
    k = min(num_threads(), n) if xp is np and elements >= PARALLEL_MIN_ELEMENTS else 1
    if k > 1 and hasattr(os, "getloadavg") and os.getloadavg()[0] > k - 0.5:
        k = 1  # no idle core (this process itself counts about 1)
    if k <= 1:
        fn(0, n)
        return
    key = (os.getpid(), k)  # a forked child gets its own threads
    if _pool_key != key:
        _pool, _pool_key = ThreadPoolExecutor(k - 1, thread_name_prefix="ember-cpu"), key
    bounds = [n * i // k for i in range(k + 1)]
    futures = [_pool.submit(fn, bounds[i], bounds[i + 1]) for i in range(1, k)]
    try:
        fn(bounds[0], bounds[1])
    finally:
        for f in futures:
            f.result()


def assign(xp, out, src):
    """``out[...] = src`` (same leading size), split across threads."""
    def part(a, b):
        out[a:b] = src[a:b]
    in_parallel(xp, out.shape[0], part, out.size)


# ---- small helpers -------------------------------------------------------------------------------

def as_strided(xp, a, shape, strides):
    """A read-only strided view of ``a`` (never written through)."""
    if xp is np:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=False)
    return xp.lib.stride_tricks.as_strided(a, shape, strides)


def compute_dtype(dtype):
    """The dtype a kernel computes in for inputs of ``dtype``."""
    return np.dtype(np.float32) if dtype in _HALF else dtype


def upcast(a):
    return a.astype(np.float32) if a.dtype in _HALF else a


def window_count(size, kernel, stride, pads, dilation):
    """How many windows fit along one dim of ``size`` padded by ``pads``."""
    return (size + pads[0] + pads[1] - dilation * (kernel - 1) - 1) // stride + 1


def offsets(ksize):
    """Every kernel offset (a tuple of indices), in row-major order."""
    return itertools.product(*(range(k) for k in ksize))


def strided_region(offset, counts, stride, dilation):
    """The slices that pick, for kernel offset ``offset``, the element each window uses."""
    return tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                 for o, n, s, d in zip(offset, counts, stride, dilation))


def crop(pads, size):
    return tuple(slice(lo, lo + n) for (lo, _), n in zip(pads, size))


def padded(xp, x, pads, fill=0, extent=None):
    """``x`` (N, C, *S) in a new array (N, C, *S') with ``fill`` around it: ``pads`` before and
    after each spatial dim, and more at the end where ``extent`` (the sizes S') asks for it."""
    sizes = [n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)]
    if extent is not None:
        sizes = [max(a, b) for a, b in zip(sizes, extent)]
    out = xp.full(x.shape[:2] + tuple(sizes), fill, dtype=x.dtype)
    out[(slice(None), slice(None)) + crop(pads, x.shape[2:])] = x
    return out


def windows(xp, xpad, counts, ksize, stride, dilation):
    """View (N, C, *counts, *ksize) of the windows of channels-first ``xpad`` (N, C, *S)."""
    st = xpad.strides
    return as_strided(xp, xpad, xpad.shape[:2] + tuple(counts) + tuple(ksize),
                      st[:2] + tuple(s * a for s, a in zip(stride, st[2:]))
                      + tuple(d * a for d, a in zip(dilation, st[2:])))


# ---- convolution -----------------------------------------------------------------------------
# A convolution is a few large matrix products on im2col "columns", in one of three layouts,
# each the fastest for some shapes (measured against PyTorch on one core):
# - "images": channels-first columns per image, (C*K, L), and one product per image (a stacked
#   matmul) writing the (N, O, *L) output in place. Best when C*K is small (first layers), for
#   1x1 kernels (the input is its own columns) and for groups (one product per group).
# - "rows": 2-D, stride 1 along the height, larger images. Per image, the kW taps of every
#   padded input row, (kW*C, Hp*OW): 3x the input, not 9x. One product with all kernel rows at
#   once, (kH*O, kW*C), gives per kernel row i the partial sums of every padded row; output row
#   oh takes padded row oh + i*dH of each, so the output is kH shifted contiguous slices added.
#   The weight gradient spreads the output gradient over the padded rows each kernel row reads.
# - "last" (channels-last): columns (N*L, K*C) times (K*C, O), the result moved to
#   channels-first. Best for many channels on small images.
# The batch goes through in chunks of images whose columns take about CHUNK_BYTES, so that the
# copies and products run from the CPU cache (all at once on a GPU). The input gradient of a
# stride-1 convolution is the convolution of the output gradient with the flipped kernel (any
# layout above); otherwise it is one product per image and a strided add per kernel offset.
# Depthwise convolutions (one input channel per group) are K broadcast multiply-adds instead.

CHUNK_BYTES = 1 << 20
SMALL_COLUMNS = 32     # C * K up to this: the "images" layout
ROWS_MIN_LENGTH = 256  # output positions per image from which the "rows" layout pays


def batch_chunks(xp, n, item_bytes, budget=None):
    """(step, [(start, stop), ...]): ``n`` items (of ``item_bytes`` of work each) in chunks of
    about ``budget`` bytes (CHUNK_BYTES), so that each chunk's work stays in the CPU cache; one
    chunk for CuPy."""
    budget = CHUNK_BYTES if budget is None else budget
    step = n if xp is not np else max(1, min(n, budget // max(1, item_bytes)))
    return step, [(a, min(a + step, n)) for a in range(0, n, max(step, 1))]


def _unpadded(pads):
    return not any(lo or hi for lo, hi in pads)


def _padder(xp, x, pads, step):
    """A function ``(a, b) -> x[a:b]`` zero-padded by ``pads``, filling one buffer reused for
    every chunk (its border is zeroed once)."""
    if _unpadded(pads):
        return lambda a, b: x[a:b]
    buf = xp.zeros((step, x.shape[1]) + tuple(n + lo + hi for n, (lo, hi) in
                                              zip(x.shape[2:], pads)), x.dtype)
    inner = (slice(None), slice(None)) + crop(pads, x.shape[2:])

    def chunk(a, b):
        view = buf[:b - a]
        view[inner] = x[a:b]
        return view
    return chunk


def _layout(channels, ksize, counts, stride, groups):
    """Which of the three layouts (see above) a convolution of this shape runs in."""
    k = math.prod(ksize)
    if groups > 1 or k == 1 or channels * k <= SMALL_COLUMNS:
        return "images"
    if len(ksize) == 2 and stride[0] == 1 and ksize[0] > 1 \
            and math.prod(counts) >= ROWS_MIN_LENGTH:
        return "rows"
    return "last"


def conv(xp, x, w, b, stride, padding, dilation, groups):
    """Cross-correlation of ``x`` (N, C, *S) with ``w`` (O, C/groups, *k), plus ``b`` (O) or
    None; ``padding`` is one (before, after) pair per spatial dim."""
    dtype = x.dtype
    x, w = upcast(x), upcast(w)
    b = None if b is None else upcast(b)
    counts = tuple(window_count(n, k, s, p, d) for n, k, s, p, d in
                   zip(x.shape[2:], w.shape[2:], stride, padding, dilation))
    if w.shape[1] == 1 and groups > 1:
        y = _depthwise(xp, _channels_last(xp, x, padding), w, b, counts, stride, dilation)
    else:
        layout = _layout(x.shape[1], w.shape[2:], counts, stride, groups)
        run = _conv_images if layout == "images" else _conv_rows if layout == "rows" \
            else _conv_last
        y = run(xp, x, w, b, counts, stride, padding, dilation, groups)
    return y.astype(dtype, copy=False)


def _image_columns(xp, x, counts, ksize, stride, pads, dilation):
    """Yields ``(a, b, columns)`` over the batch of ``x`` in chunks: the channels-first columns
    (b - a, C, *k, *counts) of x[a:b]."""
    n, c = x.shape[:2]
    d = len(ksize)
    step, ranges = batch_chunks(xp, n, c * math.prod(ksize) * math.prod(counts) * x.itemsize)
    if math.prod(ksize) == 1 and _unpadded(pads) and all(s == 1 for s in stride):
        for a, e in ranges:  # a 1x1 kernel reads the input as it is
            yield a, e, x[a:e]
        return
    pad = _padder(xp, x, pads, step)
    buf = xp.empty((step, c) + tuple(ksize) + tuple(counts), x.dtype)
    order = (0, 1) + tuple(range(2 + d, 2 + 2 * d)) + tuple(range(2, 2 + d))
    for a, e in ranges:
        cols = buf[:e - a]
        cols[...] = windows(xp, pad(a, e), counts, ksize, stride, dilation).transpose(order)
        yield a, e, cols


def _conv_images(xp, x, w, b, counts, stride, pads, dilation, groups):
    n = x.shape[0]
    o, cg = w.shape[:2]
    rows, length = cg * math.prod(w.shape[2:]), math.prod(counts)
    wg = w.reshape(groups, o // groups, rows)
    out = xp.empty((n, groups, o // groups, length), x.dtype)
    for a, e, cols in _image_columns(xp, x, counts, w.shape[2:], stride, pads, dilation):
        part = out[a:e]
        xp.matmul(wg, cols.reshape(e - a, groups, rows, length), out=part)
        if b is not None:
            part += b.reshape(groups, -1, 1)
    return out.reshape((n, o) + counts)


def _conv_rows(xp, x, w, b, counts, stride, pads, dilation, groups):
    n, c = x.shape[:2]
    o, _, kh, kw = w.shape
    oh, ow = counts
    dh = dilation[0]
    hp = x.shape[2] + pads[0][0] + pads[0][1]
    plane, length = hp * ow, oh * ow
    wb = w.transpose(2, 0, 3, 1).reshape(kh * o, kw * c)  # rows (i, o), columns (j, c)
    step, ranges = batch_chunks(xp, n, (kw * c + kh * o) * plane * x.itemsize)
    taps = xp.zeros((step, kw, c, hp, ow), x.dtype)  # what reads the padding stays zero
    sums = xp.empty((step, kh * o, plane), x.dtype)
    out = xp.empty((n, o, length), x.dtype)
    for a, e in ranges:
        m = e - a
        _row_taps(x[a:e], taps[:m], pads, stride[1], dilation[1])
        z = sums[:m]
        xp.matmul(wb, taps[:m].reshape(m, kw * c, plane), out=z)
        y = out[a:e]
        shift = dh * ow
        xp.add(z[:, :o, :length], z[:, o:2 * o, shift:shift + length], out=y)
        for i in range(2, kh):
            y += z[:, i * o:(i + 1) * o, i * shift:i * shift + length]
        if b is not None:
            y += b[:, None]
    return out.reshape((n, o) + counts)


def _row_taps(x, taps, pads, stride, dilation):
    """``taps[:, j, :, h, ow]`` (m, kW, C, Hp, OW) = the zero-padded ``x`` (m, C, H, W) at row h,
    column ``ow * stride + j * dilation``, copied straight from ``x`` (the parts of ``taps``
    that read the padding are left as they are: zero)."""
    (top, _), (left, _) = pads
    width, count = x.shape[3], taps.shape[4]
    rows = slice(top, top + x.shape[2])
    for j in range(taps.shape[1]):
        start = j * dilation - left  # the input column output column 0 reads
        first = 0 if start >= 0 else (stride - 1 - start) // stride
        stop = min(count, (width - 1 - start) // stride + 1) if width > start else 0
        if stop > first:
            col = first * stride + start
            end = col + (stop - first - 1) * stride + 1
            taps[:, j, :, rows, first:stop] = x[..., col:end:stride]


def _padded_channels_last(xp, x, pads, step, ranges):
    """Yields ``(a, b, chunk)`` over the batch ``ranges`` of ``x`` (N, C, *S): x[a:b]
    channels-last and zero-padded, (b - a, *(S + pads), C), in one buffer of ``step`` images
    reused for every chunk (its padding is written once and stays zero)."""
    c = x.shape[1]
    xcl = xp.zeros((step,) + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
                   + (c,), x.dtype)
    inner = (slice(None),) + crop(pads, x.shape[2:])
    for a, e in ranges:
        chunk = xcl[:e - a]
        chunk[inner] = xp.moveaxis(x[a:e], 1, -1)
        yield a, e, chunk


def _last_columns(xp, x, counts, ksize, stride, pads, dilation):
    """Yields ``(a, b, columns)`` over the batch of ``x`` in chunks: the channels-last columns
    ((b - a) * L, K * C) of x[a:b], ordered (kernel offset, channel)."""
    n, c = x.shape[:2]
    k, length = math.prod(ksize), math.prod(counts)
    step, ranges = batch_chunks(xp, n, c * k * length * x.itemsize)
    buf = xp.empty((step,) + tuple(counts) + tuple(ksize) + (c,), x.dtype)
    for a, e, xm in _padded_channels_last(xp, x, pads, step, ranges):
        m = e - a
        st = xm.strides
        cols = buf[:m]
        cols[...] = as_strided(xp, xm, cols.shape, (st[0],)
                               + tuple(s * t for s, t in zip(stride, st[1:-1]))
                               + tuple(d * t for d, t in zip(dilation, st[1:-1])) + (st[-1],))
        yield a, e, cols.reshape(m * length, k * c)


def _conv_last(xp, x, w, b, counts, stride, pads, dilation, groups):
    n, c = x.shape[:2]
    o = w.shape[0]
    ksize = w.shape[2:]
    wm = w.reshape(o, c, -1).transpose(0, 2, 1).reshape(o, -1)  # columns (offset, channel)
    out = xp.empty((n, o) + counts, x.dtype)
    bias = None if b is None else b.reshape((-1,) + (1,) * len(counts))
    for a, e, cols in _last_columns(xp, x, counts, ksize, stride, pads, dilation):
        y = xp.moveaxis(xp.matmul(cols, wm.T).reshape((e - a,) + counts + (o,)), -1, 1)
        if bias is None:
            out[a:e] = y
        else:
            xp.add(y, bias, out=out[a:e])
    return out


def _channels_last(xp, x, pads):
    """``x`` (N, C, *S) as a zero-padded channels-last array (N, *(S + pads), C)."""
    moved = xp.moveaxis(x, 1, -1)
    padded_ = not _unpadded(pads)
    if not padded_ and moved.flags.c_contiguous:
        return moved
    shape = (x.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)) \
        + (x.shape[1],)
    out = xp.zeros(shape, x.dtype) if padded_ else xp.empty(shape, x.dtype)
    assign(xp, out[(slice(None),) + crop(pads, x.shape[2:])], moved)
    return out


def _channels_first(xp, y, bias=None):
    """Channels-last (N, *L, C) as a new C-contiguous (N, C, *L) array, plus ``bias`` (C) if
    given."""
    out = xp.empty((y.shape[0], y.shape[-1]) + y.shape[1:-1], y.dtype)
    moved = xp.moveaxis(y, -1, 1)
    if bias is None:
        assign(xp, out, moved)
    else:
        bias = bias.reshape((-1,) + (1,) * (y.ndim - 2))

        def part(a, b):
            xp.add(moved[a:b], bias, out=out[a:b])
        in_parallel(xp, out.shape[0], part, out.size)
    return out


def _tap(xcl, offset, counts, stride, dilation):
    """The (N, *counts, C) view of what kernel offset ``offset`` reads in every window."""
    return xcl[(slice(None),) + strided_region(offset, counts, stride, dilation)]


def _depthwise(xp, xcl, w, b, counts, stride, dilation):
    """Convolution with one input channel per group: y[..., c, j] = sum over kernel offsets
    of the tap times w[c * m + j] (m outputs per channel)."""
    c = xcl.shape[-1]
    m = w.shape[0] // c
    wk = w.reshape(c, m, math.prod(w.shape[2:]))
    y = None
    for i, offset in enumerate(offsets(w.shape[2:])):
        part = _tap(xcl, offset, counts, stride, dilation)[..., None] * wk[:, :, i]
        y = part if y is None else xp.add(y, part, out=y)
    return _channels_first(xp, y.reshape(y.shape[:-2] + (c * m,)), b)


def conv_input_grad(xp, g, w, size, stride, padding, dilation, groups):
    """The gradient of ``conv`` with respect to its input of spatial ``size``, for output
    gradient ``g`` (N, O, *L); also the transposed convolution of ``g`` with ``w``."""
    dtype = g.dtype
    g, w = upcast(g), upcast(w)
    counts = g.shape[2:]
    ksize = w.shape[2:]
    if w.shape[1] == 1 and groups > 1:
        out = _depthwise_input_grad(xp, g, w, size, stride, padding, dilation, groups)
    else:
        # stride 1: a convolution of g padded by the kernel's reach less the forward padding
        flipped_pads = tuple((d * (k - 1) - lo, s - c + lo) for s, c, k, d, (lo, _) in
                             zip(size, counts, ksize, dilation, padding))
        if all(s == 1 for s in stride) and all(lo >= 0 and hi >= 0 for lo, hi in flipped_pads):
            o, cg = w.shape[:2]
            flip = w[(slice(None), slice(None)) + (slice(None, None, -1),) * len(ksize)]
            wf = flip.reshape((groups, o // groups, cg) + ksize).swapaxes(1, 2).reshape(
                (groups * cg, o // groups) + ksize)
            out = conv(xp, g, wf, None, stride, flipped_pads, dilation, groups)
        else:
            out = _input_grad_images(xp, g, w, size, stride, padding, dilation, groups)
    return out.astype(dtype, copy=False)


def _input_grad_images(xp, g, w, size, stride, pads, dilation, groups):
    """Per image, the columns' gradient (one product per group), each kernel offset's part
    added into the strided region of the (padded) input it came from."""
    n, o = g.shape[:2]
    counts = g.shape[2:]
    cg = w.shape[1]
    ksize = w.shape[2:]
    c, rows, length = cg * groups, cg * math.prod(ksize), math.prod(counts)
    wt = w.reshape(groups, o // groups, rows).swapaxes(1, 2)
    gm = g.reshape(n, groups, o // groups, length)
    extent = tuple(max(s + lo + hi, st * (m - 1) + d * (k - 1) + 1) for s, (lo, hi), st, m, d, k
                   in zip(size, pads, stride, counts, dilation, ksize))
    out = xp.empty((n, c) + tuple(size), g.dtype)
    step, ranges = batch_chunks(xp, n, groups * rows * length * g.itemsize)
    buf = xp.empty((step, groups, rows, length), g.dtype)
    direct = _unpadded(pads) and extent == tuple(size)  # add straight into the output
    acc = None if direct else xp.empty((step, c) + extent, g.dtype)
    lead = (slice(None), slice(None))
    for a, e in ranges:
        m = e - a
        cols = buf[:m]
        xp.matmul(wt, gm[a:e], out=cols)
        taps = cols.reshape((m, c) + tuple(ksize) + tuple(counts))
        region = out[a:e] if direct else acc[:m]
        region[...] = 0
        for offset in offsets(ksize):
            region[lead + strided_region(offset, counts, stride, dilation)] += taps[lead + offset]
        if not direct:
            out[a:e] = region[lead + crop(pads, size)]
    return out


def _depthwise_input_grad(xp, g, w, size, stride, pads, dilation, groups):
    """The input gradient of a depthwise convolution: broadcast products per kernel offset."""
    n, o = g.shape[:2]
    counts = g.shape[2:]
    ksize = w.shape[2:]
    og = o // groups
    extent = [max(s + lo + hi, st * (c - 1) + d * (k - 1) + 1)
              for s, (lo, hi), st, c, d, k in zip(size, pads, stride, counts, dilation, ksize)]
    acc = xp.zeros((n,) + tuple(extent) + (groups,), g.dtype)
    gcl = xp.moveaxis(g, 1, -1).reshape((n,) + tuple(counts) + (groups, og))
    wk = w.reshape(groups, og, math.prod(ksize))
    lead = (slice(None),)
    for i, offset in enumerate(offsets(ksize)):
        acc[lead + strided_region(offset, counts, stride, dilation)] += \
            (gcl * wk[:, :, i]).sum(-1) if og > 1 else gcl[..., 0] * wk[:, 0, i]
    return _channels_first(xp, acc[lead + crop(pads, size)])


def conv_weight_grad(xp, x, g, ksize, stride, padding, dilation, groups):
    """The gradient of ``conv`` with respect to its weight of spatial size ``ksize``."""
    dtype = x.dtype
    x, g = upcast(x), upcast(g)
    c = x.shape[1]
    layout = _layout(c // groups, ksize, g.shape[2:], stride, groups)
    if c == groups and groups > 1:
        gw = _depthwise_weight_grad(xp, x, g, ksize, stride, padding, dilation, groups)
    elif layout == "images":
        gw = _weight_grad_images(xp, x, g, ksize, stride, padding, dilation, groups)
    elif layout == "rows":
        gw = _weight_grad_rows(xp, x, g, ksize, stride, padding, dilation)
    else:
        gw = _weight_grad_last(xp, x, g, ksize, stride, padding, dilation)
    return gw.astype(dtype, copy=False)


def _weight_grad_images(xp, x, g, ksize, stride, pads, dilation, groups):
    n, o = g.shape[:2]
    counts = g.shape[2:]
    cg = x.shape[1] // groups
    rows, length = cg * math.prod(ksize), math.prod(counts)
    gm = g.reshape(n, groups, o // groups, length)
    acc = xp.zeros((groups, o // groups, rows), g.dtype)
    for a, e, cols in _image_columns(xp, x, counts, ksize, stride, pads, dilation):
        acc += xp.matmul(gm[a:e], cols.reshape(e - a, groups, rows, length).swapaxes(-1, -2)
                         ).sum(0)
    return acc.reshape((o, cg) + tuple(ksize))


def _weight_grad_rows(xp, x, g, ksize, stride, pads, dilation):
    """The weight gradient in the "rows" layout: the output gradient placed, per kernel row i,
    at the padded rows that kernel row reads (zero elsewhere), (kH*O, M) with M = N*Hp*OW, times
    the kW taps of every padded row, channels-last (M, kW*C)."""
    n, c = x.shape[:2]
    o, oh, ow = g.shape[1:]
    kh, kw = ksize
    hp = x.shape[2] + pads[0][0] + pads[0][1]
    shift = dilation[0]
    step, ranges = batch_chunks(xp, n, (kw * c + kh * o) * hp * ow * x.itemsize)
    taps = xp.empty((step, hp, ow, kw, c), x.dtype)
    spread = None
    acc = xp.zeros((kh * o, kw * c), g.dtype)
    part = xp.empty_like(acc)
    for a, e, xm in _padded_channels_last(xp, x, pads, step, ranges):
        m = e - a
        st = xm.strides
        t = taps[:m]
        t[...] = as_strided(xp, xm, t.shape, (st[0], st[1], stride[1] * st[2],
                                              dilation[1] * st[2], st[3]))
        if spread is None or spread.shape[2] != m:  # (a last, smaller chunk has its own)
            spread = xp.zeros((kh, o, m, hp, ow), g.dtype)  # rows no kernel row reads stay 0
        gt = g[a:e].swapaxes(0, 1)
        for i in range(kh):
            spread[i, :, :, i * shift:i * shift + oh] = gt
        acc += xp.matmul(spread.reshape(kh * o, -1), t.reshape(-1, kw * c), out=part)
    # acc[(i, o), (j, c)] -> (O, C, kH, kW)
    return acc.reshape(kh, o, kw, c).transpose(1, 3, 0, 2)


def _weight_grad_last(xp, x, g, ksize, stride, pads, dilation):
    n, o = g.shape[:2]
    counts = g.shape[2:]
    c = x.shape[1]
    acc = xp.zeros((math.prod(ksize) * c, o), g.dtype)
    part = xp.empty_like(acc)
    gcl = None
    for a, e, cols in _last_columns(xp, x, counts, ksize, stride, pads, dilation):
        if gcl is None:
            gcl = xp.empty((e - a,) + tuple(counts) + (o,), g.dtype)
        gm = gcl[:e - a]
        gm[...] = xp.moveaxis(g[a:e], 1, -1)
        acc += xp.matmul(cols.T, gm.reshape(-1, o), out=part)
    d = len(ksize)
    return acc.reshape(tuple(ksize) + (c, o)).transpose((d + 1, d) + tuple(range(d)))


def _depthwise_weight_grad(xp, x, g, ksize, stride, pads, dilation, groups):
    """One reduction per kernel offset of the taps times the output gradient."""
    o = g.shape[1]
    counts = g.shape[2:]
    og = o // groups
    xcl = _channels_last(xp, x, pads)
    gcl = xp.moveaxis(g, 1, -1).reshape(g.shape[:1] + counts + (groups, og))
    gw = xp.empty((groups, og, math.prod(ksize)), g.dtype)
    lead = "nxyz"[:1 + len(counts)]  # the batch and spatial dims, summed over
    spec = f"{lead}c,{lead}cj->cj"
    for i, offset in enumerate(offsets(ksize)):
        gw[:, :, i] = xp.einsum(spec, _tap(xcl, offset, counts, stride, dilation), gcl)
    return gw.reshape((o, 1) + tuple(ksize))


# ---- unfold / fold -----------------------------------------------------------------------------

def unfold(xp, x, kernel_size, dilation, padding, stride):
    """im2col in PyTorch's layout: (N, C, *S) -> (N, C * K, L), rows ordered (channel, kernel
    offset)."""
    pads = [(p, p) for p in padding]
    counts = [window_count(n, k, s, p, d)
              for n, k, s, p, d in zip(x.shape[2:], kernel_size, stride, pads, dilation)]
    xpad = padded(xp, x, pads) if any(padding) else x
    view = windows(xp, xpad, counts, kernel_size, stride, dilation)
    d = len(kernel_size)
    view = view.transpose((0, 1) + tuple(range(2 + d, 2 + 2 * d)) + tuple(range(2, 2 + d)))
    n, c = x.shape[:2]
    return view.reshape(n, c * math.prod(kernel_size), math.prod(counts))


def fold(xp, cols, output_size, kernel_size, dilation, padding, stride):
    """col2im, the adjoint of ``unfold``: each column added back into its window."""
    pads = [(p, p) for p in padding]
    counts = [window_count(n, k, s, p, d)
              for n, k, s, p, d in zip(output_size, kernel_size, stride, pads, dilation)]
    n = cols.shape[0]
    c = cols.shape[1] // math.prod(kernel_size)
    cols = cols.reshape((n, c) + tuple(kernel_size) + tuple(counts))
    extent = [max(s + 2 * p, st * (m - 1) + d * (k - 1) + 1) for s, p, st, m, d, k in
              zip(output_size, padding, stride, counts, dilation, kernel_size)]
    acc = xp.zeros((n, c) + tuple(extent), cols.dtype)
    for offset in offsets(kernel_size):
        acc[(slice(None), slice(None)) + strided_region(offset, counts, stride, dilation)] += \
            cols[(slice(None), slice(None)) + offset]
    return xp.ascontiguousarray(acc[(slice(None), slice(None)) + crop(pads, output_size)])


# ---- pooling -----------------------------------------------------------------------------------

def lowest(dtype):
    """The value padding never wins a maximum with: -inf, or the smallest integer."""
    return -np.inf if dtype.kind in "fc" or dtype in _HALF else np.iinfo(dtype).min


def _offset_positions(counts, kernel_size, stride, padding, dilation, size):
    """For each kernel offset, the flat index (into the unpadded spatial dims of ``size``) of
    the element every window reads there: a list of arrays of shape ``counts``."""
    per_dim = [[np.arange(c) * s - p + o * d for o in range(k)] for c, k, s, p, d in
               zip(counts, kernel_size, stride, padding, dilation)]
    return [_flat_index([per_dim[i][o] for i, o in enumerate(offset)], size)
            for offset in offsets(kernel_size)]


def _flat_index(positions, size):
    """The flat index of the grid of per-dim ``positions`` (1-D arrays) in spatial ``size``."""
    flat = np.zeros((1,) * len(positions), np.int64)
    for i, (pos, n) in enumerate(zip(positions, size)):
        shape = [1] * len(positions)
        shape[i] = len(pos)
        flat = flat * n + pos.reshape(shape)
    return flat


def _first_real(counts, kernel_size, stride, padding, dilation, size):
    """Per window, the flat index of its first element inside the input (what PyTorch reports
    when nothing in the window beats the padding)."""
    firsts = []
    for c, k, s, p, d in zip(counts, kernel_size, stride, padding, dilation):
        start = np.arange(c) * s - p
        firsts.append(np.where(start < 0, start + (-start + d - 1) // d * d, start))
    return _flat_index(firsts, size)


def max_pool(xp, x, kernel_size, stride, padding, dilation, counts):
    """(values, indices) of the maximum of every window of ``x`` (N, C, *S), the indices flat
    in the spatial dims. As PyTorch: the first maximum wins, a NaN beats everything and the
    last NaN wins, padding is never picked."""
    size = x.shape[2:]
    low = lowest(x.dtype)
    extent = [(c - 1) * s + d * (k - 1) + 1
              for c, k, s, d in zip(counts, kernel_size, stride, dilation)]
    pads = [(p, p) for p in padding]
    padded_input = any(padding) or any(e > n + 2 * p for e, n, p in zip(extent, size, padding))
    if padded_input:
        x = padded(xp, x, pads, low, extent)
    lead = (slice(None), slice(None))
    views = [x[lead + strided_region(o, counts, stride, dilation)] for o in offsets(kernel_size)]
    # offset k reads a fixed distance after offset 0: its flat index is offset 0's plus delta[k]
    positions = _offset_positions(counts, kernel_size, stride, padding, dilation, size)
    delta = xp.asarray([int(p.flat[0] - positions[0].flat[0]) for p in positions], np.int64)
    if len(views) <= 16:  # running maximum over the kernel offsets, the winner's offset kept
        values = views[0].copy()
        arg = xp.zeros(values.shape, np.uint8)
        for k, v in enumerate(views[1:], 1):
            # k grows, so "arg = k where v wins" is a maximum (faster than a masked copy)
            xp.maximum(arg, (v > values).view(np.uint8) * np.uint8(k), out=arg)
            xp.maximum(values, v, out=values)
    else:  # one copy of the windows and an argmax over them
        wins = xp.stack(views, axis=-1)
        arg = wins.argmax(-1)
        values = xp.take_along_axis(wins, arg[..., None], -1)[..., 0]
    if values.dtype.kind in "fc" or values.dtype in _HALF:
        if xp.isnan(values).any():
            for k, v in enumerate(views):
                xp.copyto(arg, k, where=xp.isnan(v))
    index = xp.asarray(positions[0]) + xp.take(delta, arg)
    if padded_input:
        at_low = values == low
        if at_low.any():
            first = xp.asarray(_first_real(counts, kernel_size, stride, padding, dilation, size))
            xp.copyto(index, xp.broadcast_to(first, index.shape), where=at_low)
    return values, index


def adaptive_windows(size, out):
    """Per output position, the start and end of its window along a dim of ``size``."""
    starts = (np.arange(out) * size) // out
    ends = -((-(np.arange(out) + 1) * size) // out)
    return starts, ends


def adaptive_max_pool(xp, x, output_size):
    """(values, indices) of the maximum over PyTorch's adaptive windows."""
    size = x.shape[2:]
    dims = len(size)
    grids = []
    for i, (n, m) in enumerate(zip(size, output_size)):
        starts, ends = adaptive_windows(n, m)
        k = int((ends - starts).max()) if m else 1
        # (m, k) positions, the short windows padded with their last element (which then can
        # neither be an earlier maximum nor a later NaN than the real one)
        grids.append(np.minimum(starts[:, None] + np.arange(k), ends[:, None] - 1))
    index = np.zeros((1,) * (2 * dims), np.int64)
    for i, (g, n) in enumerate(zip(grids, size)):
        shape = [1] * (2 * dims)
        shape[i], shape[dims + i] = g.shape
        index = index * n + g.reshape(shape)  # (*out, *k) flat positions
    index = index.reshape(tuple(output_size) + (-1,))
    flat = x.reshape(x.shape[:2] + (-1,))
    wins = flat[..., xp.asarray(index)]
    return _max_of_windows(xp, wins, xp.asarray(index))


def _max_of_windows(xp, wins, positions):
    """Maximum along the last axis of ``wins`` with PyTorch's choice of index."""
    arg = wins.argmax(-1)[..., None]
    if wins.dtype.kind in "fc" or wins.dtype in _HALF:
        nan = xp.isnan(wins)
        if nan.any():  # the last NaN, not the first
            last = wins.shape[-1] - 1 - nan[..., ::-1].argmax(-1)[..., None]
            arg = xp.where(nan.any(-1, keepdims=True), last, arg)
    values = xp.take_along_axis(wins, arg, -1)[..., 0]
    index = xp.take_along_axis(xp.broadcast_to(positions, wins.shape), arg, -1)[..., 0]
    return values, index


def window_sum(xp, x, kernel_size, stride, padding, counts, divisor):
    """The sum of every zero-padded window of ``x`` (no dilation) divided by ``divisor`` (None,
    a number, or an array broadcasting to the output)."""
    size = x.shape[2:]
    ones = (1,) * len(size)
    acc_dtype = np.dtype(np.int64) if x.dtype.kind in "iub" else compute_dtype(x.dtype)
    if tuple(kernel_size) == tuple(size) and not any(padding):  # one window: a global sum
        out = x.sum(axis=tuple(range(2, x.ndim)), keepdims=True, dtype=acc_dtype)
    else:
        extent = [(c - 1) * s + k for c, k, s in zip(counts, kernel_size, stride)]
        if any(padding) or any(e > n for e, n in zip(extent, size)):
            x = padded(xp, x, [(p, p) for p in padding], 0, extent)
        lead = (slice(None), slice(None))
        out = None
        for o in offsets(kernel_size):
            v = x[lead + strided_region(o, counts, stride, ones)]
            out = v.astype(acc_dtype) if out is None else \
                xp.add(out, v, out=out, casting="unsafe")
    if divisor is None:
        return out.astype(x.dtype, copy=False)
    if x.dtype.kind in "iu":  # integer averages round toward zero, as PyTorch's
        # Integer division truncating toward zero, as PyTorch's (also for negative divisors).
        d = xp.asarray(divisor, np.int64)
        return (xp.sign(out) * xp.sign(d) * (xp.abs(out) // xp.abs(d))).astype(x.dtype)
    out /= divisor
    return out.astype(x.dtype, copy=False)


def window_spread(xp, g, kernel_size, stride, padding, size, divisor):
    """The adjoint of ``window_sum``: ``g / divisor`` added into every element of its
    window."""
    counts = g.shape[2:]
    ones = (1,) * len(size)
    dtype = g.dtype
    g = upcast(g)
    if divisor is not None:
        g = g / divisor
    if tuple(kernel_size) == tuple(size) and not any(padding):  # one window: a broadcast
        return xp.ascontiguousarray(xp.broadcast_to(g, g.shape[:2] + tuple(size)), dtype=dtype)
    extent = [max(n + 2 * p, (c - 1) * s + k)
              for n, p, c, k, s in zip(size, padding, counts, kernel_size, stride)]
    acc = xp.zeros(g.shape[:2] + tuple(extent), g.dtype)
    lead = (slice(None), slice(None))
    for o in offsets(kernel_size):
        acc[lead + strided_region(o, counts, stride, ones)] += g
    acc = acc[lead + crop([(p, p) for p in padding], size)]
    return xp.ascontiguousarray(acc, dtype=dtype)


def index_gather(xp, x, index):
    """``out[n, c, ...] = x[n, c].flat[index[n, c, ...]]``; ``index`` may have one channel,
    shared by all."""
    n, c = x.shape[:2]
    flat = x.reshape(n, c, math.prod(x.shape[2:]))
    out = xp.take_along_axis(flat, index.reshape(index.shape[:2] + (math.prod(index.shape[2:]),)),
                             -1)
    return out.reshape((n, c) + index.shape[2:])


def index_scatter(xp, values, index, size, accumulate):
    """(N, C, *size) zeros with ``values`` put at the flat spatial ``index`` (which may have
    one channel, shared by all); added up where indices repeat if ``accumulate``, else one of
    them stays."""
    n, c = values.shape[:2]
    plane = math.prod(size)
    rows = (xp.arange(n * c, dtype=np.int64) * plane).reshape((n, c) + (1,) * (index.ndim - 2))
    flat = (index + rows).reshape(-1)
    if not accumulate:
        out = xp.zeros(n * c * plane, values.dtype)
        out[flat] = values.reshape(-1)
    elif values.dtype.kind == "c":
        out = (xp.bincount(flat, values.real.reshape(-1), n * c * plane)
               + 1j * xp.bincount(flat, values.imag.reshape(-1), n * c * plane))
    else:
        out = xp.bincount(flat, upcast(values).reshape(-1), n * c * plane)
    return out.astype(values.dtype, copy=False).reshape((n, c) + tuple(size))


# ---- weighted gathers along one axis (interpolation, adaptive averages) -------------------------

def _along(axis, ndim, index):
    """Broadcast shape of a per-position array ``index`` (1-D) placed on ``axis``."""
    shape = [1] * ndim
    shape[axis] = -1
    return index.reshape(shape)


def axis_gather(xp, x, axis, index, weights):
    """``y[..., o, ...] = sum_k weights[o, k] * x[..., index[o, k], ...]`` along ``axis``
    (``weights`` None means all ones)."""
    dtype = x.dtype
    x = upcast(x)
    out = None
    for k in range(index.shape[1]):
        part = xp.take(x, index[:, k], axis=axis)
        if weights is not None:
            part *= _along(axis, x.ndim, weights[:, k])
        out = part if out is None else xp.add(out, part, out=out)
    return out.astype(dtype, copy=False)


def axis_scatter(xp, g, axis, index, weights, size):
    """The adjoint of ``axis_gather``: ``g`` weighted and added back to the positions it was
    gathered from, in an array of ``size`` along ``axis``."""
    dtype = g.dtype
    g = upcast(g)
    shape = list(g.shape)
    shape[axis] = size
    out = xp.zeros(shape, g.dtype)
    add = kernels(xp).add_along_axis
    for k in range(index.shape[1]):
        part = g if weights is None else g * _along(axis, g.ndim, weights[:, k])
        add(xp, out, axis, index[:, k], part)
    return out.astype(dtype, copy=False)


def add_along_axis(xp, out, axis, index, values):
    """``out[..., index[i], ...] += values[..., i, ...]`` with repeated indices adding up: the
    runs of equal indices are summed with ``add.reduceat`` (indices sorted first if they are not
    already, as interpolation's are)."""
    if index.size == 0:
        return
    index = np.asarray(index)
    if (np.diff(index) < 0).any():
        order = np.argsort(index, kind="stable")
        index, values = index[order], xp.take(values, order, axis=axis)
    starts = np.flatnonzero(np.concatenate(([True], index[1:] != index[:-1])))
    sums = np.add.reduceat(values, starts, axis=axis)
    region = (slice(None),) * axis + (index[starts],)
    out[region] += sums
