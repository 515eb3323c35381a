"""nn.functional lookups: ``embedding`` (one Function: a row gather whose backward scatters the
gradient into the table, skipping ``padding_idx`` and optionally scaling by index frequency)
and ``embedding_bag`` (sums, means or maxima of bags of rows, built on it). Dense gradients
only: ``sparse=True`` is refused."""
import numpy as np

from ..._errors import mark, describe
from ..._tensor import Tensor, _new_tensor
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...ops.index import ufunc_at

__all__ = ["embedding", "embedding_bag"]

_INDEX_NP = (np.dtype(np.int64), np.dtype(np.int32))


def _counts(xp, idx, n):
    """How often each row index occurs."""
    return xp.bincount(idx.ravel(), minlength=n)


def _row_scale(xp, idx, n, padding_idx, scale_grad_by_freq, dtype):
    """Per looked-up entry, the factor its gradient gets: 0 for padding_idx, 1/frequency with
    scale_grad_by_freq, else 1. None when every factor is 1."""
    if padding_idx is None and not scale_grad_by_freq:
        return None
    scale = xp.ones(idx.shape, dtype)
    if scale_grad_by_freq:
        scale = scale / _counts(xp, idx, n)[idx]
    if padding_idx is not None:
        scale = scale * (idx != padding_idx)
    return scale.astype(dtype, copy=False)


class Embedding(Function):
    """``weight[indices]``; the gradient of the table accumulates the rows' gradients."""
    _raw = True
    op_name = "embedding"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.indices = indices
        ctx.n_rows = weight.shape[0]
        ctx.scale = _row_scale(ctx.xp, indices, weight.shape[0], padding_idx, scale_grad_by_freq,
                               weight.dtype)
        return ctx.xp.take(weight, indices, axis=0)

    @staticmethod
    def backward(ctx, grad):
        return EmbeddingBackward.apply(grad, ctx.indices, ctx.n_rows, ctx.scale), None, None, None


class EmbeddingBackward(Function):
    _raw = True
    op_name = "embedding_backward"

    @staticmethod
    def forward(ctx, grad, indices, n_rows, scale):
        ctx.indices, ctx.scale = indices, scale
        dim = grad.shape[-1]
        rows = grad.reshape(-1, dim)
        if scale is not None:
            rows = rows * scale.reshape(-1, 1)
        out = ctx.xp.zeros((n_rows, dim), grad.dtype)
        ufunc_at(ctx.xp, "add", out, indices.ravel(), rows)
        return out

    @staticmethod
    def backward(ctx, gg):
        # Linear in grad: the gradient of grad is gg's rows at the indices, scaled again.
        rows = gg[_new_tensor(ctx.indices)]
        if ctx.scale is not None:
            rows = rows * _new_tensor(ctx.scale).unsqueeze(-1)
        return rows, None, None, None


def _check_sparse(op, sparse):
    if sparse:
        raise mark(NotImplementedError(f"{op}: sparse=True (sparse gradients) is not supported "
                                       f"by ember; use sparse=False (dense gradients), which "
                                       f"every optimizer accepts"))


def _check_indices(op, input, weight):
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        bad = input if not isinstance(input, Tensor) else weight
        raise mark(TypeError(f"{op}(): expected Tensors for input and weight, got "
                             f"{type(bad).__name__}"))
    if input._data.dtype not in _INDEX_NP:
        raise mark(RuntimeError(f"{op}: Expected tensor for argument #1 'indices' to have one of "
                                f"the following scalar types: Long, Int; but got "
                                f"{describe(input)} instead; convert it with .long()"))
    if weight.ndim != 2:
        raise mark(RuntimeError(f"{op}: weight must be 2-D (num_embeddings, embedding_dim), got "
                                f"{describe(weight)}"))
    if weight.device != input.device:
        raise mark(RuntimeError(f"{op}: indices {describe(input)} and weight {describe(weight)} "
                                f"are on different devices; move the indices with "
                                f".to(weight.device)"))
    idx = input._data
    n = weight.shape[0]
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        raise mark(IndexError(f"{op}: index out of range in self (indices must be in [0, {n}) "
                              f"for a table of {n} rows, got values in [{int(idx.min())}, "
                              f"{int(idx.max())}])"))


def _padding(padding_idx, n):
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise mark(AssertionError(f"Padding_idx must be within num_embeddings (got "
                                  f"{padding_idx} for {n} embeddings)"))
    return padding_idx + n if padding_idx < 0 else padding_idx


def _renorm_(weight, idx, max_norm, norm_type):
    """Rescale, in place, the rows ``idx`` refers to whose norm exceeds ``max_norm``."""
    xp = weight._xp()
    rows = xp.unique(idx.ravel())
    with no_grad():
        data = weight._data
        norms = xp.linalg.norm(data[rows].astype(np.float64), ord=norm_type, axis=1)
        big = norms > max_norm
        if bool(big.any()):
            scale = (max_norm / (norms[big] + 1e-7)).astype(data.dtype)
            data[rows[big]] *= scale[:, None]
            weight._bump()


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """The rows of ``weight`` (num_embeddings, dim) at the integer ``input``'s entries:
    output shape ``input.shape + (dim,)``. Rows at ``padding_idx`` get no gradient;
    ``max_norm`` renormalizes (in place) looked-up rows whose ``norm_type``-norm exceeds it."""
    _check_sparse("embedding", sparse)
    _check_indices("embedding", input, weight)
    padding_idx = _padding(padding_idx, weight.shape[0])
    idx = input._data
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    return Embedding.apply(weight, idx.astype(np.int64, copy=False), padding_idx,
                           scale_grad_by_freq)


def _bags(op, input, offsets, include_last_offset, xp):
    """Flat indices and, for each, the bag it belongs to; and the number of bags."""
    if input.ndim == 2:
        if offsets is not None:
            raise mark(ValueError(f"if input is 2D, then offsets has to be None, as input is "
                                  f"treated is a mini-batch of fixed length sequences. However, "
                                  f"found offsets of type {type(offsets).__name__}"))
        n_bags, length = input.shape
        bag = xp.repeat(xp.arange(n_bags), length)
        return input._data.reshape(-1), bag, n_bags
    if input.ndim != 1:
        raise mark(ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension "
                              f"{input.ndim}"))
    if offsets is None:
        raise mark(ValueError("offsets has to be a 1D Tensor but got None"))
    if not isinstance(offsets, Tensor) or offsets.ndim != 1:
        raise mark(ValueError(f"offsets has to be a 1D Tensor, got {describe(offsets)}"))
    off = offsets._data.astype(np.int64)
    if off.size and int(off[0]) != 0:
        raise mark(RuntimeError(f"offsets[0] has to be 0, i.e., the first sequence in the "
                                f"mini-batch has to start from position 0. However, got "
                                f"{int(off[0])}"))
    n = input.shape[0]
    if off.size and int(off[-1]) > n:
        raise mark(RuntimeError(f"offsets[-1] can not be greater than input's length ({n}), but "
                                f"got offsets[-1] of {int(off[-1])}"))
    if off.size > 1 and bool((off[1:] < off[:-1]).any()):
        raise mark(RuntimeError(f"{op}: offsets must be non-decreasing, got {describe(offsets)}"))
    n_bags = off.size - 1 if include_last_offset else off.size
    ends = off[1:] if include_last_offset else xp.concatenate([off[1:], xp.asarray([n])])
    starts = off[:n_bags]
    ends = ends[:n_bags]
    bag = xp.repeat(xp.arange(n_bags), ends - starts)
    used = int((ends - starts).sum())
    first = int(starts[0]) if n_bags else 0
    return input._data[first:first + used], bag, n_bags


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2,
                  scale_grad_by_freq=False, mode="mean", sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
    """Reduce bags of embedding rows (sum, mean or max) without making the (bag, length, dim)
    intermediate visible: ``input`` (B, L) is B bags of L indices, or a 1-D ``input`` is split
    into bags at ``offsets``. Entries equal to ``padding_idx`` are left out; empty bags give
    zeros."""
    op = "embedding_bag"
    _check_sparse(op, sparse)
    _check_indices(op, input, weight)
    if mode not in ("sum", "mean", "max"):
        raise mark(ValueError(f"mode has to be one of sum, mean or max, got {mode!r}"))
    if per_sample_weights is not None:
        if mode != "sum":
            raise mark(NotImplementedError(
                f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                f"GitHub."))
        if per_sample_weights.shape != input.shape:
            raise mark(ValueError(f"embedding_bag: per_sample_weights "
                                  f"{describe(per_sample_weights)} must have the same shape as "
                                  f"the input {describe(input)}"))
    xp = weight._xp()
    n_rows = weight.shape[0]
    padding_idx = _padding(padding_idx, n_rows)
    idx, bag, n_bags = _bags(op, input, offsets, include_last_offset, xp)
    keep = None if padding_idx is None else idx != padding_idx
    if max_norm is not None:
        _renorm_(weight, idx, max_norm, norm_type)
    psw = None
    if per_sample_weights is not None:
        psw = per_sample_weights.reshape(-1)[:idx.shape[0]] if input.ndim == 1 \
            else per_sample_weights.reshape(-1)
    if keep is not None:
        kept = xp.nonzero(keep)[0]
        idx, bag = idx[kept], bag[kept]
        if psw is not None:
            psw = psw[_new_tensor(kept)]
    rows = Embedding.apply(weight, idx.astype(np.int64, copy=False), None, scale_grad_by_freq)
    if psw is not None:
        rows = rows * psw.unsqueeze(1)
    dim = weight.shape[1]
    out = weight.new_zeros((n_bags, dim))
    bag_t = _new_tensor(bag)
    if mode == "max":
        if idx.shape[0] == 0:
            return out
        expanded = bag_t.unsqueeze(1).expand(idx.shape[0], dim)
        return out.scatter_reduce(0, expanded, rows, "amax", include_self=False)
    out = out.index_add(0, bag_t, rows)
    if mode == "mean":
        counts = xp.bincount(bag, minlength=n_bags).astype(weight._data.dtype)
        out = out / _new_tensor(xp.maximum(counts, 1)).unsqueeze(1)
    return out

