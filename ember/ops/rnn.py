"""Recurrent layers: one Function runs all time steps of one layer in one direction.

The caller projects the inputs of all time steps at once (``x @ W_ih^T + b_ih``, one matrix
product per layer and direction); ``Recurrence`` then runs the recurrence on arrays: per step
one product ``h @ W_hh^T`` for all gates and a few in-place array operations on the fused gate
tensor. The backward pass through time is one loop of the same shape, with every factor that
does not depend on the recurrence computed for all steps at once before the loop, and the
weight gradients as one matrix product over all steps after it. Under ``create_graph`` the
backward replays the layer with Tensor ops and differentiates that, so gradients of gradients
are exact.

Inputs are in PyTorch's packed layout: the rows of time step ``t`` are a contiguous block of
``batch_sizes[t]`` rows (a padded (T, B) batch is the special case of T equal sizes), sorted by
decreasing length. The hidden state of a sequence that has ended stays as it was, so the final
state holds each sequence's last step. A reverse layer runs the steps from last to first; the
rows that join as the batch grows start from the initial state."""
import functools

import numpy as np

from .._tensor import _new_tensor
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode

from ._promote import HALF_NP as _HALF  # noqa: E402
_F32 = np.dtype(np.float32)


def _sigmoid_(xp, a):
    """In-place logistic sigmoid, as 0.5 + 0.5 * tanh(a / 2) (no overflow, one transcendental
    call)."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5


def steps_of(batch_sizes, reverse):
    """``(row_start, row_stop, batch_size)`` of each time step, in processing order."""
    steps, start = [], 0
    for bs in batch_sizes:
        steps.append((start, start + bs, bs))
        start += bs
    return steps[::-1] if reverse else steps


# ---- cells on arrays -------------------------------------------------------------------------------
# A cell type gives: ``prepare`` (the projected input and W_hh^T as the step wants them);
# ``step`` (one step for the active rows: fills the rows of the store and of the output);
# ``factors`` (for all rows at once, what the backward needs besides the incoming gradient);
# ``back_step`` (the gradient of one step's output -> those of the gate pre-activations, and
# the direct part of the previous state's gradient, if any). ``store["c"]`` holds the LSTM
# cell states; ``prev`` maps the previous states of all rows (see ``_layout``).

def _prepare(xp, xproj, b_hh, w_hh):
    """b_hh added to the input side once (LSTM, RNN); W_hh^T made contiguous (faster BLAS)."""
    xb = xproj + b_hh if b_hh is not None else xproj
    return xb, xp.ascontiguousarray(w_hh.T), None, None


class _LSTM:
    gates = 4
    has_cell = True

    @staticmethod
    def new_store(xp, n, hidden, dtype):
        return {"act": xp.empty((n, 4 * hidden), dtype), "tanh_c": xp.empty((n, hidden), dtype),
                "c": xp.empty((n, hidden), dtype)}

    @staticmethod
    def prepare(xp, xproj, b_hh, w_hh):
        # sigmoid(i, f, o) and tanh(g) in one tanh call, as sigmoid(a) = 0.5 + 0.5 tanh(a / 2):
        # the pre-activations are scaled by `scale`, the tanh values mapped back with `scale`
        # and `shift`.
        xb, whh_t, _, _ = _prepare(xp, xproj, b_hh, w_hh)
        hidden = w_hh.shape[0] // 4
        scale = xp.full(4 * hidden, 0.5, xproj.dtype)
        scale[2 * hidden:3 * hidden] = 1
        shift = scale.copy()
        shift[2 * hidden:3 * hidden] = 0
        return xb, whh_t, None, (scale, shift)

    @staticmethod
    def step(xp, s, r0, r1, xg, h, c, whh_t, b_hh, w_hr, out, consts):
        hidden = c.shape[1]
        act = s["act"][r0:r1]
        xp.matmul(h, whh_t, out=act)
        act += xg
        scale, shift = consts
        act *= scale
        xp.tanh(act, out=act)
        act *= scale
        act += shift
        i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
        c_new = s["c"][r0:r1]
        xp.multiply(f, c, out=c_new)
        c_new += i * g
        tc = xp.tanh(c_new, out=s["tanh_c"][r0:r1])
        if w_hr is None:
            xp.multiply(o, tc, out=out)
        else:
            xp.matmul(o * tc, w_hr.T, out=out)

    @staticmethod
    def factors(xp, s, h_prev, c_prev):
        act, tc = s["act"], s["tanh_c"]
        hidden = tc.shape[1]
        i, f, g, o = (act[:, k * hidden:(k + 1) * hidden] for k in range(4))
        n = act.shape[0]
        ifg = xp.empty((n, 3, hidden), act.dtype)  # d(i, f, g pre-activations) / dc
        xp.multiply(g, i * (1 - i), out=ifg[:, 0])
        xp.multiply(c_prev, f * (1 - f), out=ifg[:, 1])
        xp.multiply(i, 1 - g * g, out=ifg[:, 2])
        return {"ifg": ifg, "o": tc * o * (1 - o),  # d(o pre-activation) / dm
                "c": o * (1 - tc * tc),  # dc / dm, where m = o * tanh(c) is the output
                "f": f.copy()}

    @staticmethod
    def unprojected(s):
        """The outputs before the projection, o * tanh(c), of all rows."""
        hidden = s["tanh_c"].shape[1]
        return s["act"][:, 3 * hidden:] * s["tanh_c"]

    @staticmethod
    def back_step(xp, k, r0, r1, dm, dc, dxg, dhg):
        hidden = dc.shape[1]
        dc += dm * k["c"][r0:r1]
        rows = dxg[r0:r1]
        xp.multiply(dm, k["o"][r0:r1], out=rows[:, 3 * hidden:])
        xp.multiply(dc[:, None, :], k["ifg"][r0:r1],
                    out=rows[:, :3 * hidden].reshape(-1, 3, hidden))
        dc *= k["f"][r0:r1]
        return None  # no direct path from h_prev to h besides W_hh


class _GRU:
    gates = 3
    has_cell = False

    @staticmethod
    def new_store(xp, n, hidden, dtype):
        return {"act": xp.empty((n, 3 * hidden), dtype), "hn": xp.empty((n, hidden), dtype)}

    @staticmethod
    def prepare(xp, xproj, b_hh, w_hh):
        return xproj, xp.ascontiguousarray(w_hh.T), b_hh, None  # b_hn sits inside r * (...)

    @staticmethod
    def step(xp, s, r0, r1, xg, h, c, whh_t, b_hh, w_hr, out, consts):
        hidden = h.shape[1]
        hg = h @ whh_t
        if b_hh is not None:
            hg += b_hh
        act = s["act"][r0:r1]
        rz = act[:, :2 * hidden]
        xp.add(xg[:, :2 * hidden], hg[:, :2 * hidden], out=rz)
        _sigmoid_(xp, rz)
        r, z = act[:, :hidden], act[:, hidden:2 * hidden]
        hn = s["hn"][r0:r1]
        hn[...] = hg[:, 2 * hidden:]
        n = act[:, 2 * hidden:]
        xp.multiply(r, hn, out=n)
        n += xg[:, 2 * hidden:]
        xp.tanh(n, out=n)
        xp.subtract(h, n, out=out)  # h' = n + z * (h - n)
        out *= z
        out += n

    @staticmethod
    def factors(xp, s, h_prev, c_prev):
        act, hn = s["act"], s["hn"]
        hidden = hn.shape[1]
        r, z, n = act[:, :hidden], act[:, hidden:2 * hidden], act[:, 2 * hidden:]
        rows = act.shape[0]
        dn = (1 - z) * (1 - n * n)  # d(n pre-activation) / dh'
        dx = xp.empty((rows, 3, hidden), act.dtype)  # d(x-side pre-activations) / dh'
        xp.multiply(dn * hn, r * (1 - r), out=dx[:, 0])
        xp.multiply(h_prev - n, z * (1 - z), out=dx[:, 1])
        dx[:, 2] = dn
        dh = dx.copy()  # d(h-side pre-activations) / dh': r scales the hidden n part
        dh[:, 2] *= r
        return {"dx": dx, "dh": dh, "z": z.copy()}

    @staticmethod
    def back_step(xp, k, r0, r1, dh, dc, dxg, dhg):
        hidden = dh.shape[1]
        d = dh[:, None, :]
        xp.multiply(d, k["dx"][r0:r1], out=dxg[r0:r1].reshape(-1, 3, hidden))
        xp.multiply(d, k["dh"][r0:r1], out=dhg[r0:r1].reshape(-1, 3, hidden))
        return dh * k["z"][r0:r1]  # the direct path h' = ... + z * h


class _RNN:
    gates = 1
    has_cell = False
    relu = False
    prepare = staticmethod(_prepare)

    @staticmethod
    def new_store(xp, n, hidden, dtype):
        return {}

    @classmethod
    def step(cls, xp, s, r0, r1, xg, h, c, whh_t, b_hh, w_hr, out, consts):
        xp.matmul(h, whh_t, out=out)
        out += xg
        if cls.relu:
            xp.maximum(out, 0, out=out)
        else:
            xp.tanh(out, out=out)

    @classmethod
    def factors(cls, xp, s, h_prev, c_prev):
        y = s["out"]
        return {"d": (y > 0).astype(y.dtype) if cls.relu else 1 - y * y}

    @staticmethod
    def back_step(xp, k, r0, r1, dh, dc, dxg, dhg):
        xp.multiply(dh, k["d"][r0:r1], out=dxg[r0:r1])
        return None


class _RNNRelu(_RNN):
    relu = True


CELLS = {"LSTM": _LSTM, "GRU": _GRU, "RNN_TANH": _RNN, "RNN_RELU": _RNNRelu}


# ---- the layer ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _layout(batch_sizes, reverse):
    """The steps in processing order; for the rows in packed order, where each one's previous
    state is, and for each sequence where its final state is. Both are lists of row ranges of
    ``concatenate([outputs, initial states])`` (so rows from n on are initial states): for a
    padded batch they are one or two ranges."""
    steps = steps_of(batch_sizes, reverse)
    n = sum(batch_sizes)
    batch = max(batch_sizes, default=0)
    prev = np.empty(n, np.int64)
    last = n + np.arange(batch)
    before = None
    for r0, r1, bs in steps:
        b = np.arange(bs)
        if before is None:
            prev[r0:r1] = n + b
        else:
            prev[r0:r1] = np.where(b < before[2], before[0] + b, n + b)
        last[:bs] = r0 + b
        before = (r0, r1, bs)
    return steps, _ranges(prev, n), _ranges(last, n)


def _ranges(index, n):
    """An index array as a list of (start, stop) runs of consecutive values, none of which
    crosses ``n`` (where the initial states begin)."""
    if index.size == 0:
        return []
    breaks = np.nonzero((np.diff(index) != 1) | (index[1:] == n))[0] + 1
    starts = np.concatenate([[0], breaks])
    stops = np.concatenate([breaks, [index.size]])
    return [(int(index[a]), int(index[b - 1]) + 1) for a, b in zip(starts, stops)]


def _previous(xp, states, initial, bs, before):
    """The previous state of the ``bs`` rows of a step: the rows of the step before (a view),
    joined by initial states where the batch grows (reverse direction of a packed batch)."""
    if before is None:
        return initial[:bs]
    p0, p1, pbs = before
    if pbs >= bs:
        return states[p0:p0 + bs]
    return xp.concatenate([states[p0:p1], initial[pbs:bs]])


def _gather(xp, states, initial, ranges):
    """The rows ``ranges`` (see ``_layout``) of ``concatenate([states, initial])``."""
    n = states.shape[0]
    parts = [states[a:b] if a < n else initial[a - n:b - n] for a, b in ranges]
    if len(parts) <= 1:
        return (parts[0] if parts else initial[:0]).copy()
    return xp.concatenate(parts)


def _forward(xp, cell, xproj, h0, c0, w_hh, b_hh, w_hr, steps, last):
    n, dtype = xproj.shape[0], xproj.dtype
    hidden = w_hh.shape[0] // cell.gates
    store = cell.new_store(xp, n, hidden, dtype)
    xb, whh_t, step_bias, consts = cell.prepare(xp, xproj, b_hh, w_hh)
    out = store["out"] = xp.empty((n, h0.shape[1]), dtype)
    cells = store.get("c")
    before = None
    for r0, r1, bs in steps:
        h = _previous(xp, out, h0, bs, before)
        c = None if cells is None else _previous(xp, cells, c0, bs, before)
        cell.step(xp, store, r0, r1, xb[r0:r1], h, c, whh_t, step_bias, w_hr, out[r0:r1],
                  consts)
        before = (r0, r1, bs)
    hn = _gather(xp, out, h0, last)
    cn = None if cells is None else _gather(xp, cells, c0, last)
    return out, hn, cn, store


def _backward(xp, cell, store, h0, c0, dout, dhn, dcn, w_hh, w_hr, steps, prev, need):
    """Gradients (xproj, h0, c0, w_hh, b_hh, w_hr) from those of (out, hn, cn) (None = 0);
    ``need`` says which are wanted."""
    out = store["out"]
    n, dtype, batch = out.shape[0], out.dtype, h0.shape[0]
    hidden = w_hh.shape[0] // cell.gates
    h_prev = _gather(xp, out, h0, prev)
    c_prev = _gather(xp, store["c"], c0, prev) if cell.has_cell else None
    k = cell.factors(xp, store, h_prev, c_prev)
    dh = xp.zeros((batch, out.shape[1]), dtype) if dhn is None else dhn.copy()
    dc = None
    if cell.has_cell:
        dc = xp.zeros((batch, hidden), dtype) if dcn is None else dcn.copy()
    dxg = xp.empty((n, cell.gates * hidden), dtype)
    dhg = xp.empty_like(dxg) if cell is _GRU else dxg
    d_out_all = xp.empty_like(out) if w_hr is not None else None
    for r0, r1, bs in reversed(steps):
        d = dh[:bs]
        if dout is not None:
            d += dout[r0:r1]
        if w_hr is not None:
            d_out_all[r0:r1] = d
            d = d @ w_hr
        direct = cell.back_step(xp, k, r0, r1, d, None if dc is None else dc[:bs], dxg, dhg)
        xp.matmul(dhg[r0:r1], w_hh, out=dh[:bs])
        if direct is not None:
            dh[:bs] += direct
    g_xproj, g_h0, g_c0, g_whh, g_bhh, g_whr = need
    return (dxg if g_xproj else None, dh if g_h0 else None, dc if g_c0 else None,
            dhg.T @ h_prev if g_whh else None, dhg.sum(0) if g_bhh else None,
            d_out_all.T @ _LSTM.unprojected(store) if g_whr else None)


class Recurrence(Function):
    """All steps of one recurrent layer in one direction: ``(xproj, h0, c0, w_hh, b_hh, w_hr)
    -> (out, hn[, cn])`` where ``xproj`` (rows, gates * hidden) is the projected input in
    packed layout, ``mode`` one of LSTM, GRU, RNN_TANH, RNN_RELU, ``batch_sizes`` the rows per
    time step and ``reverse`` the direction. ``c0`` (LSTM only), ``b_hh`` and ``w_hr`` (LSTM
    projections) may be None."""
    _raw = True
    op_name = "recurrent_layer"

    @staticmethod
    def forward(ctx, xproj, h0, c0, w_hh, b_hh, w_hr, mode, batch_sizes, reverse):
        cell = CELLS[mode]
        steps, prev, last = _layout(tuple(batch_sizes), bool(reverse))
        dtype = xproj.dtype
        arrays = _upcast((xproj, h0, c0, w_hh, b_hh, w_hr))
        out, hn, cn, store = _forward(ctx.xp, cell, *arrays, steps, last)
        ctx.mode, ctx.steps, ctx.prev = mode, steps, prev
        ctx.keys = tuple(store)
        ctx.save_for_backward(xproj, h0, c0, w_hh, b_hh, w_hr, *store.values())
        ctx.set_materialize_grads(False)
        outs = tuple(a if a.dtype == dtype else a.astype(dtype) for a in (out, hn, cn)
                     if a is not None)
        return outs

    @staticmethod
    def backward(ctx, dout, dhn, dcn=None):
        saved = ctx.saved_tensors
        inputs = saved[:6]
        if GradMode.enabled:  # create_graph: differentiate a replay in Tensor ops
            return _replay_grads(ctx, inputs, (dout, dhn, dcn)) + (None, None, None)
        store = {k: t._data for k, t in zip(ctx.keys, saved[6:])}
        _, h0, c0, w_hh, b_hh, w_hr = _upcast(tuple(None if t is None else t._data
                                                     for t in inputs))
        dtypes = [None if t is None else t._data.dtype for t in inputs]
        grads_in = _upcast(tuple(None if g is None else g._data for g in (dout, dhn, dcn)))
        need = tuple(bool(e) for e in ctx._edges[:6])
        grads = _backward(ctx.xp, CELLS[ctx.mode], store, h0, c0, *grads_in, w_hh, w_hr,
                          ctx.steps, ctx.prev, need)
        return tuple(None if g is None else _new_tensor(g.astype(dt, copy=False))
                     for g, dt in zip(grads, dtypes)) + (None, None, None)


def _upcast(arrays):
    """float16 / bfloat16 arrays in float32 (the kernels accumulate in float32)."""
    return tuple(a.astype(_F32) if a is not None and a.dtype in _HALF else a for a in arrays)


# ---- the same computation in Tensor ops (for double backward) ---------------------------------------

def _step_in_ops(mode, xg, h, c, w_hh, b_hh, w_hr=None):
    """One step in Tensor ops: ``(h', c')`` (c' None except for LSTM) from the projected input
    ``xg`` and the previous state."""
    from .activation import relu
    from .elementwise import sigmoid, tanh
    hg = h.matmul(w_hh.mT)
    if b_hh is not None:
        hg = hg + b_hh
    if mode == "LSTM":
        i, f, g, o = (xg + hg).chunk(4, 1)
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h = sigmoid(o) * tanh(c)
        return (h if w_hr is None else h.matmul(w_hr.mT)), c
    if mode == "GRU":
        xr, xz, xn = xg.chunk(3, 1)
        hr, hz, hn = hg.chunk(3, 1)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = tanh(xn + r * hn)
        return n + z * (h - n), None
    pre = xg + hg
    return (relu(pre) if mode == "RNN_RELU" else tanh(pre)), None


def _replay(mode, steps, xproj, h0, c0, w_hh, b_hh, w_hr):
    """The layer in Tensor ops, step by step (differentiable to any order)."""
    from .shape import cat
    h, c = h0, c0
    outs = {}
    for r0, r1, bs in steps:
        h_new, c_new = _step_in_ops(mode, xproj[r0:r1], h[:bs],
                                    None if c is None else c[:bs], w_hh, b_hh, w_hr)
        outs[r0] = h_new
        h = h_new if bs == h.shape[0] else cat([h_new, h[bs:]])
        if c is not None:
            c = c_new if bs == c.shape[0] else cat([c_new, c[bs:]])
    out = cat([outs[r0] for r0 in sorted(outs)])
    return (out, h) if c is None else (out, h, c)


def _replay_grads(ctx, inputs, grads):
    """The input gradients as differentiable functions of the inputs and ``grads``."""
    from ..autograd import engine
    outs = _replay(ctx.mode, ctx.steps, *inputs)
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
    wanted = [i for i, e in enumerate(ctx._edges[:6]) if e]
    found = engine.grad([o for o, _ in pairs], [inputs[i] for i in wanted],
                        [g for _, g in pairs], create_graph=True, allow_unused=True)
    result = [None] * 6
    for i, g in zip(wanted, found):
        result[i] = g
    return tuple(result)
