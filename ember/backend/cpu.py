"""Convolution, pooling and resampling kernels on arrays.

The kernels take the array module ``xp`` as their first argument and are written once against
it: NumPy here, and ``cuda.py`` reuses them on CuPy arrays, replacing only what differs per
device (``kernels(xp)`` picks the module).

Convolutions run channels-last inside (N, *spatial, C): the im2col copy then reads runs of
``kw * C`` contiguous values, one matrix product per group does the arithmetic, and the input
gradient is accumulated per kernel offset with one matrix product and one strided add each (no
big column buffer, no ``np.add.at``). float16 and bfloat16 compute in float32 (NumPy has no fast
half-precision matrix product) and are rounded back."""
import itertools
import math

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

def _channels_last(xp, x, pads):
    """``x`` (N, C, *S) as a zero-padded channels-last array (N, *(S + pads), C)."""
    moved = xp.moveaxis(x, 1, -1)
    if not any(lo or hi for lo, hi in pads) and moved.flags.c_contiguous:
        return moved
    shape = (x.shape[0],) + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)) \
        + (x.shape[1],)
    out = xp.zeros(shape, x.dtype) if any(lo or hi for lo, hi in pads) \
        else xp.empty(shape, x.dtype)
    out[(slice(None),) + crop(pads, x.shape[2:])] = moved
    return out


def _columns(xp, x, pads, counts, ksize, stride, dilation, groups):
    """im2col, channels-last: (G, N*L, K*Cg) with L output positions, K kernel offsets and Cg
    input channels per group; columns ordered (kernel offset, channel)."""
    xcl = _channels_last(xp, x, pads)
    st = xcl.strides
    n, c = xcl.shape[0], xcl.shape[-1]
    cg = c // groups
    view = as_strided(
        xp, xcl, (n,) + tuple(counts) + tuple(ksize) + (groups, cg),
        (st[0],) + tuple(s * a for s, a in zip(stride, st[1:-1]))
        + tuple(d * a for d, a in zip(dilation, st[1:-1])) + (cg * st[-1], st[-1]))
    view = xp.moveaxis(view, -2, 0)
    return view.reshape(groups, n * math.prod(counts), math.prod(ksize) * cg)


def _weight_rows(w, groups):
    """The weight (O, Cg, *k) as (G, Og, K*Cg), columns ordered like ``_columns``'."""
    o, cg = w.shape[:2]
    k = math.prod(w.shape[2:])
    return w.reshape(groups, o // groups, cg, k).transpose(0, 1, 3, 2).reshape(
        groups, o // groups, k * cg)


def _grad_rows(g, groups):
    """The output gradient (N, O, *L) as (G, Og, N*L)."""
    n, o = g.shape[:2]
    positions = math.prod(g.shape[2:])
    g = g.reshape(n, groups, o // groups, positions)
    return g.transpose(1, 2, 0, 3).reshape(groups, o // groups, n * positions)


def conv(xp, x, w, b, stride, padding, dilation, groups):
    """Cross-correlation of ``x`` (N, C, *S) with ``w`` (O, C/groups, *k), plus ``b`` (O) or
    None; ``padding`` is one (before, after) pair per spatial dim."""
    pads = padding
    dtype = x.dtype
    x, w = upcast(x), upcast(w)
    n, o = x.shape[0], w.shape[0]
    ksize = w.shape[2:]
    counts = [window_count(s, k, st, p, d)
              for s, k, st, p, d in zip(x.shape[2:], ksize, stride, pads, dilation)]
    cols = _columns(xp, x, pads, counts, ksize, stride, dilation, groups)
    y = xp.matmul(_weight_rows(w, groups), cols.transpose(0, 2, 1))  # (G, Og, N*L)
    y = y.reshape(o, n, math.prod(counts))
    out = xp.empty((n, o, math.prod(counts)), dtype)
    if b is None:
        out[...] = y.transpose(1, 0, 2)
    else:
        xp.add(y.transpose(1, 0, 2), upcast(b).reshape(o, 1), out=out, casting="unsafe")
    return out.reshape((n, o) + tuple(counts))


def conv_input_grad(xp, g, w, size, stride, padding, dilation, groups):
    """The gradient of ``conv`` with respect to its input of spatial ``size``, for output
    gradient ``g`` (N, O, *L); also the transposed convolution of ``g`` with ``w``."""
    pads = padding
    dtype = g.dtype
    g, w = upcast(g), upcast(w)
    n, o = g.shape[:2]
    counts = g.shape[2:]
    ksize = w.shape[2:]
    cg = w.shape[1]
    og = o // groups
    # One matrix per kernel offset: (K, G, Og, Cg).
    k, positions = math.prod(ksize), math.prod(counts)
    wk = xp.ascontiguousarray(w.reshape(groups, og, cg, k).transpose(3, 0, 1, 2))
    gm = g.reshape(n, groups, og, positions).transpose(1, 0, 3, 2).reshape(
        groups, n * positions, og)
    extent = [max(s + lo + hi, st * (c - 1) + d * (k - 1) + 1)
              for s, (lo, hi), st, c, d, k in zip(size, pads, stride, counts, dilation, ksize)]
    acc = xp.zeros((n,) + tuple(extent) + (groups, cg), g.dtype)
    for i, offset in enumerate(offsets(ksize)):
        part = xp.matmul(gm, wk[i]).reshape((groups, n) + tuple(counts) + (cg,))
        acc[(slice(None),) + strided_region(offset, counts, stride, dilation)] += \
            xp.moveaxis(part, 0, -2)
    acc = acc[(slice(None),) + crop(pads, size)]
    acc = acc.reshape(acc.shape[:-2] + (groups * cg,))
    return xp.ascontiguousarray(xp.moveaxis(acc, -1, 1), dtype=dtype)


def conv_weight_grad(xp, x, g, ksize, stride, padding, dilation, groups):
    """The gradient of ``conv`` with respect to its weight of spatial size ``ksize``."""
    dtype = x.dtype
    pads = padding
    x, g = upcast(x), upcast(g)
    o = g.shape[1]
    cg = x.shape[1] // groups
    cols = _columns(xp, x, pads, g.shape[2:], ksize, stride, dilation, groups)
    gw = xp.matmul(_grad_rows(g, groups), cols)  # (G, Og, K*Cg)
    gw = gw.reshape(groups, o // groups, math.prod(ksize), cg).transpose(0, 1, 3, 2)
    return xp.ascontiguousarray(gw.reshape((o, cg) + tuple(ksize)), dtype=dtype)


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
    positions = [xp.asarray(p) for p in
                 _offset_positions(counts, kernel_size, stride, padding, dilation, size)]
    if len(views) <= 16:  # running maximum over the kernel offsets
        values = views[0].copy()
        index = xp.empty(values.shape, np.int64)
        index[...] = positions[0]
        for v, pos in zip(views[1:], positions[1:]):
            xp.copyto(index, pos, where=v > values)
            xp.maximum(values, v, out=values)
    else:  # one copy of the windows and an argmax over them
        wins = xp.stack(views, axis=-1)
        arg = wins.argmax(-1)[..., None]
        values = xp.take_along_axis(wins, arg, -1)[..., 0]
        index = xp.take_along_axis(xp.broadcast_to(xp.stack(positions, -1), wins.shape), arg,
                                   -1)[..., 0]
    if values.dtype.kind in "fc" or values.dtype in _HALF:
        nan = xp.isnan(values)
        if nan.any():
            for v, pos in zip(views, positions):
                xp.copyto(index, pos, where=xp.isnan(v))
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
    """(N, C, *size) zeros with ``values`` put at the flat spatial ``index``; added up where
    indices repeat if ``accumulate``, else the last one written stays."""
    n, c = values.shape[:2]
    plane = math.prod(size)
    if accumulate:
        rows = (xp.arange(n * c, dtype=np.int64) * plane).reshape(n, c, *(1,) * (index.ndim - 2))
        flat = (index + rows).reshape(-1)
        if values.dtype.kind == "c":
            out = (xp.bincount(flat, values.real.reshape(-1), n * c * plane)
                   + 1j * xp.bincount(flat, values.imag.reshape(-1), n * c * plane))
        else:
            out = xp.bincount(flat, upcast(values).reshape(-1), n * c * plane)
        return out.astype(values.dtype).reshape((n, c) + tuple(size))
    out = xp.zeros((n, c, plane), values.dtype)
    points = math.prod(values.shape[2:])
    xp.put_along_axis(out, index.reshape(index.shape[:2] + (points,)),
                      values.reshape(n, c, points), -1)
    return out.reshape((n, c) + tuple(size))


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
