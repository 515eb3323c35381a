"""Scaled dot-product attention as one Function: ``softmax(q k^T * scale + mask) v`` with two
batched matrix products and an in-place, max-shifted softmax on the score array.

The backward is four batched products and the softmax backward, on arrays in the common case;
when a graph of the gradient is being built (``create_graph``) it is written in Tensor ops,
with the attention weights recomputed from q, k and the mask, so that gradients of gradients
are exact.

A row whose every position is masked out attends to nothing: its output and its gradients are
zero (as PyTorch's CPU kernels give), not NaN."""
import numpy as np

from .. import _dtype
from .._tensor import _new_tensor
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode
from ._broadcast import _reduced_axes, sum_to
from ._kept import shift_kept, sum_kept, dot_kept

from ._promote import HALF_NP as _HALF  # noqa: E402
_F32 = np.dtype(np.float32)


def causal_mask(xp, length, source_length):
    """(L, S) bool array: query i may attend to keys 0..i (aligned at the top left)."""
    return xp.tril(xp.ones((length, source_length), dtype=bool))


def _mask_out(xp, s, allowed):
    """Scores set to -inf where ``allowed`` (bool, broadcasting) is False, in place."""
    xp.copyto(s, -np.inf, where=~allowed)


def _weights(xp, q, k, mask, scale, causal):
    """The attention weights softmax(q k^T * scale + mask) on arrays, computed in place in the
    score array; fully masked rows are zero."""
    s = xp.matmul(q * scale, xp.swapaxes(k, -1, -2))
    if mask is not None:
        full = np.broadcast_shapes(s.shape, mask.shape)  # a mask may add batch dims
        if full != s.shape:
            s = xp.broadcast_to(s, full).copy()
        if mask.dtype == bool:
            _mask_out(xp, s, mask)
        else:
            s += mask
    if causal:
        _mask_out(xp, s, causal_mask(xp, s.shape[-2], s.shape[-1]))
    if s.size == 0:
        return s
    top = shift_kept(xp, s, -1)
    top[top == -np.inf] = 0  # a fully masked row: exp gives zeros, the sum below is fixed up
    s -= top
    xp.exp(s, out=s)
    total = sum_kept(xp, s, (s.ndim - 1,))
    total[total == 0] = 1
    s /= total
    return s


class ScaledDotProductAttention(Function):
    """``(q, k, v, mask) -> softmax(q k^T * scale + mask) v`` for q (..., L, E), k (..., S, E),
    v (..., S, Ev) with broadcasting batch dims. ``mask`` is None, bool (True: may attend) or
    float (added to the scores); ``causal`` adds the top-left causal mask; ``keep`` is None or
    the dropout multiplier (0 or 1 / (1 - p)) applied to the weights."""
    _raw = True
    op_name = "scaled_dot_product_attention"

    @staticmethod
    def forward(ctx, q, k, v, mask, keep, scale, causal):
        dtype = q.dtype
        qc, kc, vc, mc = q, k, v, mask
        if dtype in _HALF:  # computed in float32
            qc, kc, vc = (a.astype(_F32) for a in (q, k, v))
            mc = mask if mask is None or mask.dtype == bool else mask.astype(_F32)
        p = _weights(ctx.xp, qc, kc, mc, scale, causal)
        out = ctx.xp.matmul(p if keep is None else p * keep, vc)
        ctx.scale, ctx.causal = scale, causal
        ctx.save_for_backward(q, k, v, mask, keep, p)
        return out.astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        q, k, v, mask, keep, p = ctx.saved_tensors
        if GradMode.enabled:  # create_graph: differentiable, in Tensor ops
            grads = _grads_in_ops(ctx, grad, q, k, v, mask, keep, p)
        else:
            arrays = [None if t is None else t._data for t in (grad, q, k, v, mask, keep, p)]
            grads = tuple(None if g is None else _new_tensor(g)
                          for g in _grads_arrays(ctx, *arrays))
        return grads + (None, None, None)


def _grads_arrays(ctx, grad, q, k, v, mask, keep, p):
    """The gradients of (q, k, v, mask) on arrays: four batched products and the softmax
    backward ``p * (dp - rowsum(dp * p))`` in place."""
    xp = ctx.xp
    e_q, e_k, e_v, e_mask = ctx._edges[:4]
    dtype = q.dtype
    if dtype in _HALF:
        grad, q, k, v = (a.astype(_F32) for a in (grad, q, k, v))
    g_q = g_k = g_v = g_mask = None
    if e_v:
        dropped = p if keep is None else p * keep
        g_v = _sum_to(xp.matmul(xp.swapaxes(dropped, -1, -2), grad), v.shape)
    if e_q or e_k or e_mask:
        ds = xp.matmul(grad, xp.swapaxes(v, -1, -2))
        if keep is not None:
            ds *= keep
        ds -= dot_kept(xp, ds, p, (ds.ndim - 1,))
        ds *= p
        if e_mask:
            g_mask = _sum_to(ds, mask.shape).astype(mask.dtype, copy=False)
        ds *= ctx.scale
        if e_q:
            g_q = _sum_to(xp.matmul(ds, k), q.shape)
        if e_k:
            g_k = _sum_to(xp.matmul(xp.swapaxes(ds, -1, -2), q), k.shape)
    return tuple(g if g is None else g.astype(dtype, copy=False)
                 for g in (g_q, g_k, g_v)) + (g_mask,)


def _sum_to(a, shape):
    """Array ``a`` summed over the dims broadcasting added or stretched to reach ``shape``."""
    axes = _reduced_axes(a.shape, tuple(shape))
    return a.sum(axis=axes).reshape(shape) if axes else a


def _grads_in_ops(ctx, grad, q, k, v, mask, keep, p):
    """The same gradients in Tensor ops, with the weights recomputed from q, k and the mask,
    so that gradients of gradients are exact."""
    from .activation import SoftmaxBackward
    e_q, e_k, e_v, e_mask = ctx._edges[:4]
    dtype = grad.dtype
    if grad._data.dtype in _HALF:
        q, k, v, grad = q.float(), k.float(), v.float(), grad.float()
        if mask is not None and mask.dtype is not _dtype.bool:
            mask = mask.float()
    scale = ctx.scale
    p = _weights_in_ops(q, k, mask, scale, ctx.causal, p)
    dropped = p if keep is None else p * keep
    g_v = sum_to(dropped.mT.matmul(grad), v.shape) if e_v else None
    g_q = g_k = g_mask = None
    if e_q or e_k or e_mask:
        dp = grad.matmul(v.mT)
        if keep is not None:
            dp = dp * keep
        ds = SoftmaxBackward.apply(dp, p, -1)
        if e_mask:
            g_mask = sum_to(ds, mask.shape)
        ds = ds * scale
        g_q = sum_to(ds.matmul(k), q.shape) if e_q else None
        g_k = sum_to(ds.mT.matmul(q), k.shape) if e_k else None
    return tuple(g if g is None or g.dtype == dtype else g.to(dtype)
                 for g in (g_q, g_k, g_v, g_mask))


def _weights_in_ops(q, k, mask, scale, causal, p_forward):
    """The attention weights in Tensor ops (differentiable); rows the forward found fully
    masked stay zero without producing NaN."""
    from .activation import softmax
    from .compare import where
    s = (q * scale).matmul(k.mT)
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf")) if mask.dtype is _dtype.bool else s + mask
    if causal:
        allowed = _new_tensor(causal_mask(s._xp(), s.shape[-2], s.shape[-1]))
        s = s.masked_fill(~allowed, float("-inf"))
    live = _new_tensor((p_forward._data != 0).any(axis=-1, keepdims=True))
    s = where(live, s, 0.0)
    return where(live, softmax(s, -1), 0.0)
