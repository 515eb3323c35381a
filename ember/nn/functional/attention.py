"""nn.functional: scaled_dot_product_attention and multi_head_attention_forward.

``scaled_dot_product_attention`` checks and prepares its arguments (grouped-query heads, the
dropout draw) and runs the fused ``ember.ops.attention`` Function. ``multi_head_attention_forward``
follows PyTorch's algorithm: input projections, the masks merged into one additive float mask,
then scaled dot-product attention or, when the weights are wanted, the explicit
softmax(q k^T) path that returns them."""
import math
import warnings

import numpy as np

from ... import _dtype
from ..._creation import zeros
from ..._errors import describe, mark
from ..._tensor import Tensor, _new_tensor
from ...ops.activation import softmax
from ...ops.attention import ScaledDotProductAttention
from ...ops.linalg import baddbmm, bmm
from ...ops._promote import FLOAT_NP
from ...ops.shape import cat
from ...random import _source, _unit_uniform
from .dropout import dropout
from .linear import linear

# The private helpers are exported too: code copied from PyTorch's transformer layers calls
# F._canonical_mask and F._none_or_dtype.
__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "_canonical_mask",
           "_none_or_dtype"]


# ---- scaled dot-product attention ---------------------------------------------------------------

def _check_sdpa(query, key, value, attn_mask, is_causal):
    op = "scaled_dot_product_attention"
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise mark(TypeError(f"{op}(): argument '{name}' must be Tensor, not "
                                 f"{type(t).__name__}"))
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise mark(RuntimeError(f"{op}: Expected query, key, and value to all be at least 2 "
                                f"dimensional, but got query {describe(query)}, key "
                                f"{describe(key)} and value {describe(value)}"))
    if not (query.dtype == key.dtype == value.dtype):
        raise mark(RuntimeError(f"{op}: Expected query, key, and value to have the same dtype, "
                                f"but got query {describe(query)}, key {describe(key)} and "
                                f"value {describe(value)}"))
    if query._data.dtype not in FLOAT_NP:
        raise mark(RuntimeError(f"{op}: expected floating point query, key and value, got "
                                f"{describe(query)}"))
    if query.shape[-1] != key.shape[-1]:
        raise mark(RuntimeError(f"{op}: query and key must have the same embedding size (last "
                                f"dim), got query {describe(query)} and key {describe(key)}"))
    if key.shape[-2] != value.shape[-2]:
        raise mark(RuntimeError(f"{op}: key and value must have the same sequence length "
                                f"(dim -2), got key {describe(key)} and value "
                                f"{describe(value)}"))
    if attn_mask is not None:
        if is_causal:
            raise mark(RuntimeError(f"{op}: Explicit attn_mask should not be set when "
                                    f"is_causal=True"))
        if not isinstance(attn_mask, Tensor):
            raise mark(TypeError(f"{op}(): argument 'attn_mask' must be Tensor, not "
                                 f"{type(attn_mask).__name__}"))
        if attn_mask.dtype is not _dtype.bool and attn_mask.dtype != query.dtype:
            raise mark(RuntimeError(f"{op}: Expected attn_mask dtype to be bool or float or to "
                                    f"match query dtype, but got attn_mask {describe(attn_mask)} "
                                    f"and query {describe(query)}"))


def _repeat_heads(query, key, value):
    """Grouped-query attention: each key / value head serves several query heads (dim -3)."""
    hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
    if hq % hk or hq % hv:
        raise mark(RuntimeError(f"scaled_dot_product_attention: Number of heads in key and "
                                f"value must divide the number of heads in query, got query "
                                f"{describe(query)}, key {describe(key)} and value "
                                f"{describe(value)}"))
    return (key.repeat_interleave(hq // hk, -3) if hk != hq else key,
            value.repeat_interleave(hq // hv, -3) if hv != hq else value)


def _dropout_keep(query, key, value, attn_mask, p):
    """The dropout multiplier of the attention weights: 0 with probability p, else 1/(1-p)."""
    shape = np.broadcast_shapes(tuple(query.shape[:-1]) + (key.shape[-2],),
                                tuple(key.shape[:-2]) + (1, 1),
                                tuple(value.shape[:-2]) + (1, 1),
                                () if attn_mask is None else tuple(attn_mask.shape))
    dt = query.dtype if query._data.dtype.itemsize > 2 else _dtype.float32
    u = _unit_uniform(_source(None, query.device, "scaled_dot_product_attention"), shape, dt)
    keep = (u >= p).astype(dt.np)
    keep *= dt.np.type(1.0 / (1.0 - p)) if p < 1 else 0
    return _new_tensor(keep)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """``softmax(query @ key^T * scale + mask) @ value`` with query (..., L, E), key (..., S, E),
    value (..., S, Ev). A bool ``attn_mask`` marks the positions that may be attended to; a
    float one is added to the scores; ``is_causal`` lets query i attend to keys 0..i.
    ``scale`` defaults to 1/sqrt(E); ``dropout_p`` drops attention weights; ``enable_gqa``
    lets key and value have fewer heads (dim -3) than query."""
    _check_sdpa(query, key, value, attn_mask, is_causal)
    if enable_gqa and query.ndim >= 3:
        key, value = _repeat_heads(query, key, value)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    keep = None
    if dropout_p > 0.0:
        keep = _dropout_keep(query, key, value, attn_mask, dropout_p)
    return ScaledDotProductAttention.apply(query, key, value, attn_mask, keep, float(scale),
                                           bool(is_causal))


# ---- multi-head attention --------------------------------------------------------------------------

def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or ember.Tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask as an additive float mask (-inf where True); float masks pass through."""
    if mask is None:
        return None
    if mask.dtype is not _dtype.bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use "
                      f"same type for both instead.", stacklevel=2)
    if mask.dtype is _dtype.bool:
        return zeros(mask.shape, dtype=target_type, device=mask.device).masked_fill_(
            mask, float("-inf"))
    return mask


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True for batched (3-D) inputs, False for unbatched (2-D); AssertionError otherwise."""
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be "
                                 f"3-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be "
                                 f"`None` or 2-D but found {key_padding_mask.dim()}-D tensor "
                                 f"instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`, "
                                 f"2-D or 3-D but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to be "
                                 f"2-D but found {key.dim()}-D and {value.dim()}-D tensors "
                                 f"respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to "
                                 f"be `None` or 1-D but found {key_padding_mask.dim()}-D tensor "
                                 f"instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be "
                                     f"`None`, 2-D or 3-D but found {attn_mask.dim()}-D tensor "
                                     f"instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                     f"{attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _in_projection_packed(q, k, v, w, b):
    """q, k, v projected with the packed (3E, E) weight: one product when they are the same
    tensor, two when key is value."""
    e = q.size(-1)
    if k is v:
        if q is k:
            return linear(q, w, b).chunk(3, -1)
        w_q, w_kv = w.split([e, 2 * e])
        b_q, b_kv = (None, None) if b is None else b.split([e, 2 * e])
        return (linear(q, w_q, b_q),) + linear(k, w_kv, b_kv).chunk(2, -1)
    ws = w.chunk(3)
    bs = (None,) * 3 if b is None else b.chunk(3)
    return tuple(linear(x, wi, bi) for x, wi, bi in zip((q, k, v), ws, bs))


def _pad_last(mask):
    """One more (zero) position at the end of a mask's last dim."""
    return cat([mask, zeros(mask.shape[:-1] + (1,), dtype=mask.dtype, device=mask.device)], -1)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads,
                                 in_proj_weight, in_proj_bias, bias_k, bias_v, add_zero_attn,
                                 dropout_p, out_proj_weight, out_proj_bias, training=True,
                                 key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None,
                                 k_proj_weight=None, v_proj_weight=None, static_k=None,
                                 static_v=None, average_attn_weights=True, is_causal=False):
    """Multi-head attention on (L, N, E) / (S, N, E) inputs (or unbatched (L, E)); returns the
    output (L, N, E) and, with ``need_weights``, the attention weights (N, L, S) averaged over
    heads (or (N, heads, L, S))."""
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone: attention applies the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                    check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight "
                                     f"is None")
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)
    else:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {key.shape} does not match value shape "
                                 f"{value.shape}")
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            expected = (bsz * num_heads, tgt_len, src_len)
            if tuple(attn_mask.shape) != expected:
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but "
                                   f"should be {expected}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")

    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")

    # (seq, batch, embed) -> (batch * heads, seq, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, bsz * num_heads, head_dim, "static_k")
    v = _heads(v, static_v, bsz * num_heads, head_dim, "static_v")
    if add_zero_attn:
        zero = zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k, v = cat([k, zero], 1), cat([v, zero], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.size(1)

    if key_padding_mask is not None:
        for dim, size in enumerate((bsz, src_len)):
            if key_padding_mask.shape[dim] != size:
                raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be {size}, but "
                                     f"got {key_padding_mask.shape[dim]}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        if is_causal and attn_mask is None:
            raise AssertionError("is_causal without attn_mask is not supported with "
                                 "need_weights=True")
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        if attn_mask is not None:
            weights = baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
        else:
            weights = bmm(q_scaled, k.transpose(-2, -1))
        weights = softmax(weights, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = bmm(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not batched:
        out = out.squeeze(1)
    return out, None


def _heads(x, static, batch_heads, head_dim, name):
    """(seq, batch, embed) -> (batch * heads, seq, head_dim), or the given static tensor."""
    if static is None:
        return x.reshape(x.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.size(0) != batch_heads or static.size(2) != head_dim:
        raise AssertionError(f"expecting {name} of shape ({batch_heads}, *, {head_dim}), but "
                             f"got {tuple(static.shape)}")
    return static
