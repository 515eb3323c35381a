"""Connectionist Temporal Classification loss (Graves et al. 2006), as ``torch.nn.functional
.ctc_loss``.

The forward (alpha) and backward (beta) recursions run in log space over the extended label
sequence (blanks around and between the labels), one time step at a time for the whole batch.
As in PyTorch, the gradient with respect to ``log_probs`` is ``exp(log_probs) -
exp(log(sum over the label's positions of alpha * beta) + nll - log_probs)``, which assumes
``log_probs`` come from a log_softmax (through which it gives the exact gradient of the
logits); it is computed once and cannot be differentiated again."""
import numpy as np

from ..._errors import mark, describe
from ..._tensor import Tensor, _new_tensor
from ...autograd.function import Function
from ...ops.index import ufunc_at
from ...ops._promote import FLOAT_NP

__all__ = ["ctc_loss"]

_NEG_INF = -np.inf


def _logsumexp3(xp, a, b, c):
    m = xp.maximum(xp.maximum(a, b), c)
    m_safe = xp.where(xp.isneginf(m), 0, m)
    with np.errstate(divide="ignore"):
        return m_safe + xp.log(xp.exp(a - m_safe) + xp.exp(b - m_safe) + xp.exp(c - m_safe))


def _shift(xp, a, k, fill):
    """``a`` moved ``k`` places along its last axis (right for k > 0), padded with ``fill``."""
    out = xp.full(a.shape, fill, dtype=a.dtype)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


class _Lattice:
    """The extended labels of a batch and which moves between their positions are allowed."""

    def __init__(self, xp, targets, target_lengths, blank):
        n, s = targets.shape
        self.ext = xp.full((n, 2 * s + 1), blank, dtype=np.int64)
        self.ext[:, 1::2] = targets
        self.width = 2 * s + 1
        self.end = 2 * target_lengths  # the last blank of each sequence
        self.valid = xp.arange(self.width)[None, :] <= self.end[:, None]
        # s-2 -> s may skip a blank when label s differs from label s-2.
        self.skip = xp.zeros(self.ext.shape, bool)
        self.skip[:, 2:] = (self.ext[:, 2:] != blank) & (self.ext[:, 2:] != self.ext[:, :-2])


def _alpha(xp, lp_ext, lat, target_lengths):
    steps, n, width = lp_ext.shape
    alpha = xp.full((steps, n, width), _NEG_INF, dtype=lp_ext.dtype)
    if steps == 0:
        return alpha
    alpha[0, :, 0] = lp_ext[0, :, 0]
    if width > 1:
        alpha[0, :, 1] = xp.where(target_lengths > 0, lp_ext[0, :, 1], _NEG_INF)
    for t in range(1, steps):
        prev = alpha[t - 1]
        two_back = xp.where(lat.skip, _shift(xp, prev, 2, _NEG_INF), _NEG_INF)
        alpha[t] = lp_ext[t] + _logsumexp3(xp, prev, _shift(xp, prev, 1, _NEG_INF), two_back)
        alpha[t][~lat.valid] = _NEG_INF
    return alpha


def _beta(xp, lp_ext, lat, input_lengths, target_lengths):
    steps, n, width = lp_ext.shape
    beta = xp.full((steps, n, width), _NEG_INF, dtype=lp_ext.dtype)
    rows = xp.arange(n)
    last = input_lengths - 1
    skip_ahead = _shift(xp, lat.skip, -2, False)  # s -> s+2 allowed
    nxt = xp.full((n, width), _NEG_INF, dtype=lp_ext.dtype)
    for t in range(steps - 1, -1, -1):
        two_ahead = xp.where(skip_ahead, _shift(xp, nxt, -2, _NEG_INF), _NEG_INF)
        step = lp_ext[t] + _logsumexp3(xp, nxt, _shift(xp, nxt, -1, _NEG_INF), two_ahead)
        start = xp.full((n, width), _NEG_INF, dtype=lp_ext.dtype)
        start[rows, lat.end] = lp_ext[t, rows, lat.end]
        has_label = target_lengths > 0
        start[rows[has_label], lat.end[has_label] - 1] = lp_ext[t, rows[has_label],
                                                               lat.end[has_label] - 1]
        cur = xp.where((t == last)[:, None], start, xp.where((t < last)[:, None], step,
                                                             _NEG_INF))
        cur[~lat.valid] = _NEG_INF
        beta[t] = nxt = cur
    return beta


class CTCLoss(Function):
    """Per-sequence negative log likelihood of the targets under the alignments of
    ``log_probs`` (T, N, C)."""
    _raw = True
    op_name = "ctc_loss"

    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        xp = ctx.xp
        n = log_probs.shape[1]
        lat = _Lattice(xp, targets, target_lengths, blank)
        lp_ext = log_probs[:, xp.arange(n)[:, None], lat.ext]  # (T, N, 2S+1)
        alpha = _alpha(xp, lp_ext, lat, target_lengths)
        rows = xp.arange(n)
        last = xp.maximum(input_lengths - 1, 0)
        final = alpha[last, rows, lat.end]
        before = xp.where(target_lengths > 0,
                          alpha[last, rows, xp.maximum(lat.end - 1, 0)], _NEG_INF)
        nll = -xp.logaddexp(final, before)
        # An empty input explains only an empty target.
        nll = xp.where(input_lengths > 0, nll, xp.where(target_lengths == 0, 0, np.inf))
        nll = nll.astype(log_probs.dtype, copy=False)
        ctx.save_for_backward(log_probs)
        ctx.args = (lat, lp_ext, alpha, nll, input_lengths, target_lengths, zero_infinity)
        if zero_infinity:
            return xp.where(xp.isinf(nll), 0, nll).astype(nll.dtype, copy=False)
        return nll

    @staticmethod
    def backward(ctx, grad):
        (log_probs,) = ctx.saved_tensors
        return (CTCLossBackward.apply(grad, log_probs, ctx.args),) + (None,) * 5


class CTCLossBackward(Function):
    _raw = True
    op_name = "ctc_loss_backward"

    @staticmethod
    def forward(ctx, grad, lp, args):
        lat, lp_ext, alpha, nll, input_lengths, target_lengths, zero_infinity = args
        xp = ctx.xp
        steps, n, classes = lp.shape
        beta = _beta(xp, lp_ext, lat, input_lengths, target_lengths)
        ab = alpha + beta
        peak = ab.max(axis=2, keepdims=True) if ab.shape[2] else xp.zeros((steps, n, 1))
        peak = xp.where(xp.isneginf(peak), 0, peak)
        total = xp.zeros((steps, n, classes), lp.dtype)
        t_idx = xp.broadcast_to(xp.arange(steps)[:, None, None], ab.shape)
        n_idx = xp.broadcast_to(xp.arange(n)[None, :, None], ab.shape)
        labels = xp.broadcast_to(lat.ext[None], ab.shape)
        ufunc_at(xp, "add", total, (t_idx, n_idx, labels), xp.exp(ab - peak))
        with np.errstate(divide="ignore", invalid="ignore"):
            lcab = xp.log(total) + peak
            g = xp.exp(lp) - xp.exp(lcab + nll[None, :, None] - lp)
        g = g * grad[None, :, None]
        inside = xp.arange(steps)[:, None] < input_lengths[None, :]
        g = xp.where(inside[:, :, None], g, 0)
        if zero_infinity:
            g = xp.where(xp.isinf(nll)[None, :, None], 0, g)
        return g.astype(lp.dtype, copy=False)

    @staticmethod
    def backward(ctx, gg):
        raise mark(RuntimeError("ctc_loss: double backward is not supported (the derivative "
                                "for ctc_loss_backward is not implemented, as in PyTorch)"))


def _lengths(op, name, value, n, xp):
    """Lengths given as a tensor, list, tuple or int, as an int64 array of size ``n``."""
    if isinstance(value, Tensor):
        if value._data.dtype.kind not in "iu":
            raise mark(RuntimeError(f"{op}: {name} must be integers, got {describe(value)}"))
        arr = value._data
        arr = arr if type(arr) is type(xp.empty(0)) else xp.asarray(value.cpu()._data)
    else:
        arr = xp.asarray(value if not isinstance(value, int) else [value])
    arr = arr.reshape(-1).astype(np.int64)
    if arr.shape[0] != n:
        raise mark(RuntimeError(f"{op}: expected {name} to have {n} entries (one per sequence "
                                f"in the batch), got {arr.shape[0]}"))
    return arr


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """CTC loss of ``log_probs`` (T, N, C) (or (T, C) unbatched: log_softmax outputs) for
    ``targets`` (N, S) padded or 1-D concatenated, with per-sequence ``input_lengths`` and
    ``target_lengths``. 'mean' divides each loss by its target length, then averages."""
    op = "ctc_loss"
    for name, t in (("log_probs", log_probs), ("targets", targets)):
        if not isinstance(t, Tensor):
            raise mark(TypeError(f"{op}(): argument '{name}' must be Tensor, not "
                                 f"{type(t).__name__}"))
    if reduction not in ("none", "mean", "sum"):
        raise mark(ValueError(f"{reduction} is not a valid value for reduction"))
    if log_probs.ndim not in (2, 3) or log_probs._data.dtype not in FLOAT_NP:
        raise mark(RuntimeError(f"{op}: log_probs must be a floating (T, N, C) or (T, C) "
                                f"tensor, got {describe(log_probs)}"))
    unbatched = log_probs.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0)
    steps, n, classes = log_probs.shape
    xp = log_probs._xp()
    if not 0 <= blank < classes:
        raise mark(RuntimeError(f"{op}: blank must be in label range [0, {classes}), got "
                                f"{blank}"))
    if targets._data.dtype.kind not in "iu":
        raise mark(RuntimeError(f"{op}: targets must hold integer class indices, got "
                                f"{describe(targets)}"))
    in_len = _lengths(op, "input_lengths", input_lengths, n, xp)
    tg_len = _lengths(op, "target_lengths", target_lengths, n, xp)
    if in_len.size and (int(in_len.max()) > steps or int(in_len.min()) < 0):
        raise mark(RuntimeError(f"{op}: Expected input_lengths to have value at most {steps} "
                                f"(the length of log_probs) and non-negative, but got "
                                f"{in_len.tolist()}"))
    if tg_len.size and int(tg_len.min()) < 0:
        raise mark(RuntimeError(f"{op}: target_lengths must be non-negative, got "
                                f"{tg_len.tolist()}"))
    padded = _padded_targets(op, targets, tg_len, xp)
    if padded.size and (int(padded.min()) < 0 or int(padded.max()) >= classes):
        raise mark(IndexError(f"{op}: target class indices must be in [0, {classes}), got "
                              f"values in [{int(padded.min())}, {int(padded.max())}]"))
    loss = CTCLoss.apply(log_probs, padded, in_len, tg_len, blank, zero_infinity)
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    divisor = _new_tensor(xp.maximum(tg_len, 1).astype(log_probs._data.dtype))
    return (loss / divisor).mean()


def _padded_targets(op, targets, lengths, xp):
    """The targets as an (N, max length) int64 array whatever their layout."""
    t = targets._data.astype(np.int64)
    longest = int(lengths.max()) if lengths.size else 0
    if targets.ndim == 2:
        if targets.shape[1] < longest:
            raise mark(RuntimeError(f"{op}: Expected tensor to have size at least {longest} at "
                                    f"dimension 1, but got size {targets.shape[1]} for targets "
                                    f"{describe(targets)}"))
        keep = xp.arange(t.shape[1])[None, :] < lengths[:, None]
        return xp.where(keep, t, 0)[:, :longest]
    if targets.ndim != 1:
        raise mark(RuntimeError(f"{op}: targets must be (N, S) padded or 1-D concatenated, got "
                                f"{describe(targets)}"))
    if t.shape[0] < int(lengths.sum()):
        raise mark(RuntimeError(f"{op}: 1-D targets hold {t.shape[0]} labels but the "
                                f"target_lengths add up to {int(lengths.sum())}"))
    padded = xp.zeros((lengths.shape[0], longest), np.int64)
    keep = xp.arange(longest)[None, :] < lengths[:, None]
    padded[keep] = t[:int(lengths.sum())]
    return padded
