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
