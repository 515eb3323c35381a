"""Convolution, pooling and resampling kernels on arrays.

The kernels take the array module ``xp`` as their first argument and are written once against
it: NumPy here, and ``cuda.py`` reuses them on CuPy arrays, replacing only what differs per
device (``kernels(xp)`` picks the module).

Convolutions run channels-last inside (N, *spatial, C), so that window copies read runs of
``kw * C`` contiguous values, and do their arithmetic in a few large 2-D matrix products:
im2col + one product per group in general, a "row-flat" im2col (3x the input, not 9x) with one
product per kernel row for stride-1 2-D convolutions, K broadcast multiply-adds for depthwise
ones. The input gradient is one product and one strided add per kernel offset (no big column
buffer, no ``np.add.at``). Max pooling is a running maximum over the kernel offsets. float16 and
bfloat16 compute in float32 (NumPy has no fast half-precision matrix product)."""
import itertools
import math
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .. import _dtype

_HALF = frozenset(d.np for d in (_dtype.float16, _dtype.bfloat16) if d._np is not None)


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
# Channels-last inside: im2col gives, per group, a matrix (N*L, K*Cg) whose columns are ordered
# (kernel offset, channel). Every product is a 2-D matmul (NumPy's stacked matmul does not call
# BLAS), oriented so that BLAS can split a large dimension across its threads. Depthwise
# convolutions (one input channel per group) are K broadcast multiply-adds instead.

def _channels_last(xp, x, pads):
    """``x`` (N, C, *S) as a zero-padded channels-last array (N, *(S + pads), C)."""
    moved = xp.moveaxis(x, 1, -1)
    padded_ = any(lo or hi for lo, hi in pads)
    if not padded_ and moved.flags.c_contiguous:
        return moved
    shape = (x.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)) \
        + (x.shape[1],)
    out = xp.zeros(shape, x.dtype) if padded_ else xp.empty(shape, x.dtype)
    assign(xp, out[(slice(None),) + crop(pads, x.shape[2:])], moved)
    return out


def _channels_first(xp, y, dtype, bias=None):
    """Channels-last (N, *L, C) as a new C-contiguous (N, C, *L) array of ``dtype``, plus
    ``bias`` (C) if given."""
    out = xp.empty((y.shape[0], y.shape[-1]) + y.shape[1:-1], dtype)
    moved = xp.moveaxis(y, -1, 1)
    if bias is None:
        assign(xp, out, moved)
    else:
        bias = bias.reshape((-1,) + (1,) * (y.ndim - 2))

        def part(a, b):
            xp.add(moved[a:b], bias, out=out[a:b], casting="unsafe")
        in_parallel(xp, out.shape[0], part, out.size)
    return out


def _tap(xcl, offset, counts, stride, dilation):
    """The (N, *counts, C) view of what kernel offset ``offset`` reads in every window."""
    return xcl[(slice(None),) + strided_region(offset, counts, stride, dilation)]


def _columns(xp, xcl, counts, ksize, stride, dilation, groups):
    """im2col of channels-last ``xcl``: one (N*L, K*Cg) matrix per group."""
    st = xcl.strides
    n, c = xcl.shape[0], xcl.shape[-1]
    view = as_strided(xp, xcl, (n,) + tuple(counts) + tuple(ksize) + (c,),
                      (st[0],) + tuple(s * a for s, a in zip(stride, st[1:-1]))
                      + tuple(d * a for d, a in zip(dilation, st[1:-1])) + (st[-1],))
    rows, cg, k = n * math.prod(counts), c // groups, math.prod(ksize)
    if groups == 1:
        cols = xp.empty(view.shape, view.dtype)
        assign(xp, cols, view)
        return [cols.reshape(rows, k * c)]
    return [view[..., i * cg:(i + 1) * cg].reshape(rows, k * cg) for i in range(groups)]


def _row_flat(x_shape, w_shape, stride, padding, groups):
    """Whether a convolution takes the row-flat path: 2-D, one group, stride 1 along the
    height, enough channels for the products to pay, and few wasted rows (the path computes
    every padded input row)."""
    if len(x_shape) != 4 or groups != 1 or stride[0] != 1 or w_shape[2] == 1 or x_shape[1] < 8:
        return False
    rows = x_shape[2] + padding[0][0] + padding[0][1]
    return rows * 4 <= (rows - w_shape[2] + 1) * 5


def _row_windows(xp, xcl, kernel, stride, dilation, width):
    """The row-flat im2col of a 2-D convolution: (N * Hp * OW + tail, kW * C), row
    (n, h, ow) holding the kW taps that output column ow reads in padded input row h. Kernel
    row i of output row (n, oh, ow) is then row (n, oh + i * dH, ow): the rows shifted by
    i * dH * OW, so each kernel row is one product on a contiguous slice (the rows computed
    for h >= OH are thrown away)."""
    n, hp, _, c = xcl.shape
    kh, kw = kernel
    rows = n * hp * width
    out = xp.empty((rows + (kh - 1) * dilation[0] * width, kw * c), xcl.dtype)
    out[rows:] = 0
    st = xcl.strides
    assign(xp, out[:rows].reshape(n, hp, width, kw, c), as_strided(
        xp, xcl, (n, hp, width, kw, c), (st[0], st[1], stride[1] * st[2], dilation[1] * st[2],
                                         st[3])))
    return out


def _row_slices(windows, kernel_rows, dilation, rows, width):
    """The slice of the row-flat windows each kernel row multiplies."""
    return [windows[i * dilation * width:i * dilation * width + rows] for i in range(kernel_rows)]


def _geometry(x_shape, w_shape, stride, padding, dilation):
    counts = tuple(window_count(s, k, st, p, d) for s, k, st, p, d in
                   zip(x_shape[2:], w_shape[2:], stride, padding, dilation))
    return counts, x_shape[0] * math.prod(counts), math.prod(w_shape[2:])


def conv(xp, x, w, b, stride, padding, dilation, groups, keep_columns=False):
    """Cross-correlation of ``x`` (N, C, *S) with ``w`` (O, C/groups, *k), plus ``b`` (O) or
    None; ``padding`` is one (before, after) pair per spatial dim. Returns (y, columns): the
    im2col matrices if ``keep_columns`` (``conv_weight_grad`` can reuse them), else None."""
    dtype = x.dtype
    x, w = upcast(x), upcast(w)
    b = None if b is None else upcast(b)
    o, cg = w.shape[:2]
    counts, rows, k = _geometry(x.shape, w.shape, stride, padding, dilation)
    xcl = _channels_last(xp, x, padding)
    if cg == 1 and groups > 1:
        return _depthwise(xp, xcl, w, b, counts, stride, dilation, dtype), None
    if _row_flat(x.shape, w.shape, stride, padding, groups):
        windows = _row_windows(xp, xcl, w.shape[2:], stride, dilation, counts[1])
        n, hp = xcl.shape[:2]
        kh = w.shape[2]
        wr = w.transpose(2, 3, 1, 0).reshape(kh, -1, o)  # (kH, kW * C, O)
        y = None
        for part, wi in zip(_row_slices(windows, kh, dilation[0], n * hp * counts[1],
                                        counts[1]), wr):
            y = xp.matmul(part, wi) if y is None else xp.add(y, xp.matmul(part, wi), out=y)
        y = y.reshape(n, hp, counts[1], o)[:, :counts[0]]
        return _channels_first(xp, y, dtype, b), (windows if keep_columns else None)
    og = o // groups
    wm = w.reshape(o, cg, k).transpose(0, 2, 1).reshape(o, k * cg)
    columns = _columns(xp, xcl, counts, w.shape[2:], stride, dilation, groups)
    if groups == 1:
        y = xp.matmul(columns[0], wm.T)  # (N*L, O)
    else:
        y = xp.empty((rows, o), x.dtype)
        for i, cols in enumerate(columns):
            y[:, i * og:(i + 1) * og] = xp.matmul(cols, wm[i * og:(i + 1) * og].T)
    y = _channels_first(xp, y.reshape((x.shape[0],) + counts + (o,)), dtype, b)
    return y, (columns if keep_columns else None)


def _depthwise(xp, xcl, w, b, counts, stride, dilation, dtype):
    """Convolution with one input channel per group: y[..., c, j] = sum over kernel offsets
    of the tap times w[c * m + j] (m outputs per channel)."""
    c = xcl.shape[-1]
    m = w.shape[0] // c
    wk = w.reshape(c, m, math.prod(w.shape[2:]))
    y = None
    for i, offset in enumerate(offsets(w.shape[2:])):
        part = _tap(xcl, offset, counts, stride, dilation)[..., None] * wk[:, :, i]
        y = part if y is None else xp.add(y, part, out=y)
    return _channels_first(xp, y.reshape(y.shape[:-2] + (c * m,)), dtype, b)


def conv_input_grad(xp, g, w, size, stride, padding, dilation, groups):
    """The gradient of ``conv`` with respect to its input of spatial ``size``, for output
    gradient ``g`` (N, O, *L); also the transposed convolution of ``g`` with ``w``. One product
    per kernel offset, added into the strided region of the input it came from."""
    pads = padding
    dtype = g.dtype
    g, w = upcast(g), upcast(w)
    n, o = g.shape[:2]
    counts = g.shape[2:]
    ksize = w.shape[2:]
    cg = w.shape[1]
    og = o // groups
    extent = [max(s + lo + hi, st * (c - 1) + d * (k - 1) + 1)
              for s, (lo, hi), st, c, d, k in zip(size, pads, stride, counts, dilation, ksize)]
    acc = xp.zeros((n,) + tuple(extent) + (groups * cg,), g.dtype)
    gcl = xp.moveaxis(g, 1, -1)  # (N, *L, O)
    lead = (slice(None),)
    if cg == 1 and groups > 1:  # depthwise: broadcast products
        gcl = gcl.reshape(gcl.shape[:-1] + (groups, og))
        wk = w.reshape(groups, og, math.prod(ksize))
        for i, offset in enumerate(offsets(ksize)):
            acc[lead + strided_region(offset, counts, stride, dilation)] += \
                (gcl * wk[:, :, i]).sum(-1) if og > 1 else gcl[..., 0] * wk[:, 0, i]
    else:
        gm = xp.empty(gcl.shape, gcl.dtype)
        assign(xp, gm, gcl)
        gm = gm.reshape(n * math.prod(counts), o)  # (N*L, O)
        wk = xp.ascontiguousarray(w.reshape(o, cg, math.prod(ksize)).transpose(2, 0, 1))
        for i, offset in enumerate(offsets(ksize)):
            region = acc[lead + strided_region(offset, counts, stride, dilation)]
            for j in range(groups):
                part = xp.matmul(gm[:, j * og:(j + 1) * og], wk[i, j * og:(j + 1) * og])
                _add_into(xp, region[..., j * cg:(j + 1) * cg],
                          part.reshape(region.shape[:-1] + (cg,)))
    return _channels_first(xp, acc[lead + crop(pads, size)], dtype)


def _add_into(xp, out, values):
    """``out += values``, split across threads."""
    def part(a, b):
        out[a:b] += values[a:b]
    in_parallel(xp, out.shape[0], part, out.size)


def conv_weight_grad(xp, x, g, ksize, stride, padding, dilation, groups, columns=None):
    """The gradient of ``conv`` with respect to its weight of spatial size ``ksize``
    (``columns``: the forward's im2col matrices, if it kept them)."""
    dtype = x.dtype
    x, g = upcast(x), upcast(g)
    n, o = g.shape[:2]
    counts = g.shape[2:]
    cg = x.shape[1] // groups
    og = o // groups
    k = math.prod(ksize)
    if cg == 1 and groups > 1:  # depthwise: one reduction per kernel offset
        xcl = _channels_last(xp, x, padding)
        gcl = xp.moveaxis(g, 1, -1).reshape(g.shape[:1] + counts + (groups, og))
        gw = xp.empty((groups, og, k), g.dtype)
        lead = "nxyz"[:1 + len(counts)]  # the batch and spatial dims, summed over
        spec = f"{lead}c,{lead}cj->cj"
        for i, offset in enumerate(offsets(ksize)):
            gw[:, :, i] = xp.einsum(spec, _tap(xcl, offset, counts, stride, dilation), gcl)
        return gw.reshape((o, 1) + tuple(ksize)).astype(dtype, copy=False)
    if _row_flat(x.shape, (o, cg) + tuple(ksize), stride, padding, groups):
        return _row_flat_weight_grad(xp, x, g, ksize, stride, padding, dilation, columns, dtype)
    positions = math.prod(counts)
    g_rows = g.reshape(n, o, positions).transpose(1, 0, 2).reshape(o, n * positions)
    if columns is None:
        columns = _columns(xp, _channels_last(xp, x, padding), counts, ksize, stride, dilation,
                           groups)
    gw = xp.empty((o, cg, k), g.dtype)
    for j, cols in enumerate(columns):
        part = xp.matmul(cols.T, g_rows[j * og:(j + 1) * og].T)  # (K*Cg, Og)
        gw[j * og:(j + 1) * og] = part.reshape(k, cg, og).transpose(2, 1, 0)
    return gw.reshape((o, cg) + tuple(ksize)).astype(dtype, copy=False)


def _row_flat_weight_grad(xp, x, g, ksize, stride, padding, dilation, windows, dtype):
    """``conv_weight_grad`` on the row-flat windows: the gradient spread over all padded rows
    (zero where no output row is), one product per kernel row."""
    n, o, oh, ow = g.shape
    hp = x.shape[2] + padding[0][0] + padding[0][1]
    if windows is None:
        windows = _row_windows(xp, _channels_last(xp, x, padding), ksize, stride, dilation, ow)
    spread = xp.zeros((n, hp, ow, o), g.dtype)
    assign(xp, spread[:, :oh], xp.moveaxis(g, 1, -1))
    spread = spread.reshape(n * hp * ow, o)
    kh, kw = ksize
    gw = xp.empty((kh, windows.shape[1], o), g.dtype)
    for i, part in enumerate(_row_slices(windows, kh, dilation[0], n * hp * ow, ow)):
        xp.matmul(part.T, spread, out=gw[i])
    gw = gw.reshape(kh, kw, x.shape[1], o).transpose(3, 2, 0, 1)
    return xp.ascontiguousarray(gw, dtype=dtype)


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
        return (xp.sign(out) * (xp.abs(out) // xp.asarray(divisor, np.int64))).astype(x.dtype)
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
