"""nn.functional losses, with torch's signatures (including the legacy ``size_average`` /
``reduce`` arguments) and reductions ``'none'`` / ``'mean'`` / ``'sum'``.

``cross_entropy`` with class-index targets is one fused Function (log-softmax and NLL in one
pass, stable, with a fused backward); ``binary_cross_entropy`` is a Function so that its
clamped logs get PyTorch's finite gradient at 0 and 1; ``ctc_loss`` lives in ``_ctc``. The
other losses are compositions of ember ops."""
import math
import warnings

import numpy as np

from ..._errors import mark, describe
from ..._tensor import Tensor, _new_tensor
from ...autograd.function import Function
from ...autograd.grad_mode import no_grad
from ...ops.activation import log_softmax, softmax, logsigmoid
from ...ops.compare import where
from ...ops._broadcast import broadcast_shape
from ...ops._promote import FLOAT_NP
from .distance import pairwise_distance
from ._ctc import ctc_loss

__all__ = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "cross_entropy", "nll_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
           "poisson_nll_loss", "gaussian_nll_loss", "margin_ranking_loss",
           "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
           "triplet_margin_with_distance_loss", "multi_margin_loss", "multilabel_margin_loss",
           "multilabel_soft_margin_loss", "soft_margin_loss", "ctc_loss"]

_INDEX_NP = (np.dtype(np.int64), np.dtype(np.uint8))
from ...ops._promote import HALF_NP as _LOW_PRECISION  # noqa: E402


# ---- reductions ---------------------------------------------------------------------------------

def legacy_get_string(size_average, reduce, emit_warning=True):
    """The reduction the deprecated ``size_average`` / ``reduce`` arguments stand for."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else ("sum" if reduce else "none")
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use "
                      f"reduction='{ret}' instead.", stacklevel=3)
    return ret


def _reduction(size_average, reduce, reduction):
    if size_average is not None or reduce is not None:
        return legacy_get_string(size_average, reduce)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' "
                      "instead.", stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise mark(ValueError(f"{reduction} is not a valid value for reduction"))
    return reduction


def _reduce(loss, reduction):
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_tensors(op, **tensors):
    for position, (name, t) in enumerate(tensors.items(), 1):
        if not isinstance(t, Tensor):
            raise mark(TypeError(f"{op}(): argument '{name}' (position {position}) must be "
                                 f"Tensor, not {type(t).__name__}"))


def _warn_size(op, input, target):
    """PyTorch's warning for an input and a target of different shapes (and an error naming the
    loss when they do not broadcast)."""
    if target._data.shape != input._data.shape:
        try:
            broadcast_shape(input._data.shape, target._data.shape)
        except RuntimeError:
            raise mark(RuntimeError(f"{op}: input {describe(input)} and target "
                                    f"{describe(target)} have shapes that do not broadcast; "
                                    f"they should have the same shape")) from None
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due to "
                      f"broadcasting. Please ensure they have the same size.", stacklevel=3)


def _check_broadcast(op, *tensors):
    """An error naming the loss when its elementwise operands do not broadcast."""
    shapes = [t._data.shape for t in tensors]
    if any(sh != shapes[0] for sh in shapes[1:]):
        try:
            broadcast_shape(*shapes)
        except RuntimeError:
            raise mark(RuntimeError(f"{op}: the shapes of {', '.join(describe(t) for t in tensors)}"
                                    f" do not broadcast; the input and the target should have "
                                    f"the same shape")) from None


def _weighted(loss, weight, input, reduction):
    """The reduction of an elementwise ``loss`` with per-element ``weight`` (l1/mse): the
    weighted mean divides by the sum of the weights."""
    if weight.shape != input.shape:
        raise mark(ValueError("Weights and input must have the same size."))
    loss = loss * weight
    if reduction == "mean":
        return loss.sum() / weight.sum()
    return _reduce(loss, reduction)


# ---- regression losses --------------------------------------------------------------------------

def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error."""
    _check_tensors("l1_loss", input=input, target=target)
    _warn_size("l1_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = (input - target).abs()
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error."""
    _check_tensors("mse_loss", input=input, target=target)
    _warn_size("mse_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = (input - target).square()
    if weight is not None:
        return _weighted(loss, weight, input, reduction)
    return _reduce(loss, reduction)


def _huber(diff, delta):
    """0.5 d² where |d| < delta, delta (|d| - delta/2) elsewhere."""
    a = diff.abs()
    return where(a < delta, 0.5 * diff.square(), delta * (a - 0.5 * delta))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Huber loss divided by ``beta`` (L1 for beta=0)."""
    _check_tensors("smooth_l1_loss", input=input, target=target)
    _warn_size("smooth_l1_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise mark(RuntimeError(f"smooth_l1_loss does not support negative values for beta "
                                f"(got {beta})."))
    diff = input - target
    loss = diff.abs() if beta == 0 else _huber(diff, beta) / beta
    return _reduce(loss, reduction)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """0.5 d² where |d| < delta, delta (|d| - delta/2) elsewhere."""
    _check_tensors("huber_loss", input=input, target=target)
    _warn_size("huber_loss", input, target)
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise mark(RuntimeError(f"huber_loss does not support non-positive values for delta "
                                f"(got {delta})."))
    loss = _huber(input - target, delta)
    if weight is not None:  # unlike l1/mse, the weighted mean divides by the element count
        loss = _weighted(loss, weight, input, "none")
    return _reduce(loss, reduction)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL(target || exp(input)) pointwise: ``target * (log(target) - input)``; 'batchmean'
    divides the sum by the batch size (the mathematical KL divergence)."""
    _check_tensors("kl_div", input=input, target=target)
    _check_broadcast("kl_div", input, target)
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.'mean' will be changed to behave the same as "
                      "'batchmean' in the next major release.", stacklevel=2)
    if reduction not in ("batchmean", "none", "mean", "sum"):
        raise mark(ValueError(f"{reduction} is not a valid value for reduction"))
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if reduction == "batchmean":
        total = loss.sum()
        return total / input.shape[0] if input.ndim else total
    return _reduce(loss, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """Negative log likelihood of a Poisson target: ``exp(input) - target * input`` (or
    ``input - target * log(input + eps)``), with Stirling's term when ``full``."""
    _check_tensors("poisson_nll_loss", input=input, target=target)
    _check_broadcast("poisson_nll_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (2 * math.pi * target).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log likelihood of a Gaussian target: ``0.5 (log var + (input - target)² /
    var)``; ``var`` is clamped to ``eps`` (without stopping its gradient)."""
    _check_tensors("gaussian_nll_loss", input=input, target=target)
    _check_broadcast("gaussian_nll_loss", input, target)
    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise mark(ValueError("var has negative entry/entries"))
        var = var * input.new_ones(input.shape)
    elif bool((var < 0).any()):
        raise mark(ValueError("var has negative entry/entries"))
    if var.shape != input.shape:
        if input.shape[:-1] == var.shape:  # one variance per sample
            var = var.unsqueeze(-1)
        elif not (input.ndim == var.ndim and sum(
                v for i, v in zip(input.shape, var.shape) if i != v) == 1):
            raise mark(ValueError(f"var is of incorrect size: gaussian_nll_loss got var "
                                  f"{describe(var)} for input {describe(input)}"))
    if reduction not in ("none", "mean", "sum"):
        raise mark(ValueError(reduction + " is not valid"))
    with no_grad():
        floor = var.clamp_min(eps) - var
    var = var + floor  # the value is clamped, the gradient flows as if it were not
    loss = 0.5 * (var.log() + (input - target).square() / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


# ---- classification: NLL and cross entropy ------------------------------------------------------

def _check_class_target(op, input, target):
    """``input`` (C) / (N, C, d1, ...) and ``target`` () / (N, d1, ...) of class indices."""
    if target.device != input.device:
        raise mark(RuntimeError(f"{op}: Expected all tensors to be on the same device, but got "
                                f"input {describe(input)} and target {describe(target)}; move "
                                f"the target with target.to(input.device)"))
    if target._data.dtype not in _INDEX_NP:
        raise mark(RuntimeError(
            f"{op}: expected target dtype to be Long or Byte (class indices), but got "
            f"{target.dtype} (target {describe(target)}, input {describe(input)}); use "
            f"target.long(), or pass class probabilities with the same shape as the input"))
    if input.ndim == 0:
        raise mark(ValueError(f"{op}: input must have at least 1 dim (C) or 2 dims (N, C), got "
                              f"{describe(input)}"))
    if input.ndim == 1:
        if target.ndim != 0:
            raise mark(RuntimeError(f"{op}: 1-D input (C) expects a 0-D target, got target "
                                    f"{describe(target)}"))
        return
    if target.ndim == 0 or input.shape[0] != target.shape[0]:
        raise mark(ValueError(f"Expected input batch_size ({input.shape[0]}) to match target "
                              f"batch_size ({target.shape[0] if target.ndim else 0}). ({op}: "
                              f"input {describe(input)}, target {describe(target)})"))
    expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        raise mark(RuntimeError(f"{op}: expected target size {list(expected)}, got "
                                f"{list(target.shape)} (input {describe(input)}, target "
                                f"{describe(target)})"))


def _check_weight(op, weight, input, n_classes):
    if weight is None:
        return
    if not isinstance(weight, Tensor):
        raise mark(TypeError(f"{op}(): argument 'weight' must be Tensor, not "
                             f"{type(weight).__name__}"))
    if weight.ndim != 1 or weight.shape[0] != n_classes:
        raise mark(RuntimeError(f"{op}: weight tensor should be defined either for all "
                                f"{n_classes} classes or no classes but got weight tensor of "
                                f"shape: {list(weight.shape)}"))


def _class_targets(op, xp, t, n_classes, ignore_index):
    """``(targets with ignored entries set to 0, mask of the kept entries)``, the mask None when
    every entry is kept (the common case, found with one comparison). Out-of-range class
    indices raise. ``ignore_index=None``: no index is ignored."""
    t = t.astype(np.int64, copy=False)
    out_of_range = t.view(np.uint64) >= n_classes  # negative indices wrap to huge values
    ignorable = ignore_index is not None and 0 <= ignore_index < n_classes
    if not ignorable and not out_of_range.any():
        return t, None
    valid = t != ignore_index if ignore_index is not None else xp.ones(t.shape, bool)
    bad = out_of_range & valid
    if bad.any():
        also = "" if ignore_index is None else f", or equal ignore_index={ignore_index}"
        raise mark(IndexError(f"Target {int(t[bad].ravel()[0])} is out of bounds. ({op}: class "
                              f"indices must be in [0, {n_classes}){also})"))
    if valid.all():
        return t, None
    return xp.where(valid, t, 0), valid


def _kept_weight(xp, w, safe, valid, dtype):
    """Per element, the class weight of its target times its kept mask (None: all 1)."""
    if w is None:
        return None if valid is None else valid.astype(dtype)
    return w[safe] if valid is None else w[safe] * valid


def _pick(xp, a, idx):
    """``a[n, idx[n, ...], ...]``: the class dim (1) indexed per element."""
    if a.ndim == 2:
        return a[xp.arange(a.shape[0]), idx]
    return xp.take_along_axis(a, idx[:, None], axis=1)[:, 0]


def _class_view(v, ndim):
    """A (C,) array shaped to broadcast along dim 1 of an ``ndim``-d array."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _along_class(v):
    """A per-element array (N, d...) shaped to broadcast along the class dim; 0-d as is."""
    return v[:, None] if getattr(v, "ndim", 0) else v


class CrossEntropy(Function):
    """Cross entropy of logits ``x`` (N, C, d...) with class indices ``t`` (N, d...): per
    element ``sum_c T_c (logsumexp(x) - x_c)`` where T is the (weighted, smoothed) one-hot
    target; ``mean`` divides by the total weight of the kept targets. The gradient is
    ``scale * (sum(T) softmax(x) - T)``. The forward saves exp(x - max) and its sums, so the
    backward is one pass over the logits."""
    _raw = True
    op_name = "cross_entropy"

    @staticmethod
    def forward(ctx, x, t, w, ignore_index, reduction, smoothing):
        xp = ctx.xp
        n_classes = x.shape[1]
        safe, valid = _class_targets("cross_entropy", xp, t, n_classes, ignore_index)
        xc = x.astype(np.float32) if x.dtype in _LOW_PRECISION else x  # computed as PyTorch
        if w is not None:
            w = w.astype(xc.dtype, copy=False)
        e = xc - xc.max(axis=1, keepdims=True)  # the shifted logits, then their exp
        picked = _pick(xp, e, safe)
        if smoothing:
            shifted_sum = (e * _class_view(w, x.ndim)).sum(axis=1) if w is not None \
                else e.sum(axis=1)
        xp.exp(e, out=e)
        total = e.sum(axis=1)
        lse = xp.log(total)
        loss = lse - picked
        w_t = _kept_weight(xp, w, safe, valid, xc.dtype)
        if w_t is not None:
            loss *= w_t
        if smoothing:
            smooth = lse * (w.sum() if w is not None else n_classes) - shifted_sum
            if valid is not None:
                smooth *= valid
            loss = (1 - smoothing) * loss + (smoothing / n_classes) * smooth
        scale = 1
        if reduction == "mean":
            denom = w_t.sum() if w_t is not None else safe.size
            # No kept target: the loss is 0/0 = nan and, as in PyTorch, the gradient 0.
            scale = 1 / denom if denom else 0
            out = xp.asarray(loss.sum() * scale if denom else np.nan, dtype=x.dtype)
        elif reduction == "sum":
            out = xp.asarray(loss.sum(), dtype=x.dtype)
        else:
            out = loss.astype(x.dtype, copy=False)
        ctx.save_for_backward(x, e, total)
        ctx.args = (safe, valid, w_t, w, smoothing, reduction, scale)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, e, total = ctx.saved_tensors
        return (CrossEntropyBackward.apply(grad, x, e, total, ctx.args),) + (None,) * 5


class CrossEntropyBackward(Function):
    _raw = True
    op_name = "cross_entropy_backward"

    @staticmethod
    def forward(ctx, grad, x, e, total, args):
        safe, valid, w_t, w, smoothing, reduction, scale = args
        ctx.save_for_backward(grad, x)
        ctx.args = args
        xp = ctx.xp
        n_classes = x.shape[1]
        beta = grad * scale if reduction != "none" else grad  # d loss / d element
        if valid is not None:
            beta = beta * valid
        hit = beta * (1 - smoothing) if smoothing else beta  # the target class's share
        if w_t is not None:
            hit = hit * w_t
        coef = hit
        if smoothing:
            coef = hit + beta * (smoothing / n_classes * (w.sum() if w is not None
                                                         else n_classes))
        gx = e * _along_class(coef / total)  # coef * softmax(x)
        if x.ndim == 2:
            gx[xp.arange(x.shape[0]), safe] -= hit
        else:
            hits = xp.broadcast_to(xp.asarray(hit, dtype=gx.dtype), safe.shape)
            xp.put_along_axis(gx, safe[:, None], (_pick(xp, gx, safe) - hits)[:, None],
                              axis=1)
        if smoothing:
            share = smoothing / n_classes
            gx -= _along_class(beta) * (share * _class_view(w, x.ndim) if w is not None
                                        else share)
        return gx.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, ggx):
        """The gradient ``scale * g * (sum(T) s - T)`` is linear in g; in x it goes through the
        softmax ``s``. Written in ember ops, so it can be differentiated again."""
        grad, x = ctx.saved_tensors
        safe, valid, w_t, w, smoothing, reduction, scale = ctx.args
        e_grad, e_x = ctx._edges[:2]
        xp = x._xp()
        dtype = x._data.dtype
        n_classes = x.shape[1]
        kept = valid if valid is not None else xp.ones(safe.shape, bool)
        target = xp.zeros(x.shape, dtype)
        weight_t = w_t if w_t is not None else kept.astype(dtype)
        xp.put_along_axis(target, safe[:, None], ((1 - smoothing) * weight_t)[:, None], axis=1)
        if smoothing:
            share = smoothing / n_classes
            target += (share * _class_view(w, x.ndim) if w is not None else share) \
                * kept[:, None]
        target = _new_tensor(target.astype(dtype, copy=False))
        t_sum = target.sum(1, keepdim=True)
        s = softmax(x, 1)
        coef = _new_tensor(kept.astype(dtype)).unsqueeze(1)
        if reduction != "none":
            coef = coef * scale
        g = grad.reshape(grad.shape[:1] + (1,) + grad.shape[1:]) if reduction == "none" \
            else grad
        d_grad = d_x = None
        if e_grad:
            d = (ggx * (t_sum * s - target) * coef).sum(1)
            d_grad = d if reduction == "none" else d.sum()
        if e_x:
            d_x = g * coef * t_sum * s * (ggx - (ggx * s).sum(1, keepdim=True))
        return d_grad, d_x, None, None, None


def _as_batched(input, target):
    """Unbatched input (C) and target () as a batch of one."""
    if input.ndim == 1:
        return input.unsqueeze(0), target.unsqueeze(0), True
    return input, target, False


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """Negative log likelihood of log-probabilities ``input`` (N, C, d...) at class indices
    ``target`` (N, d...): ``-weight[t] * input[n, t]``; 'mean' divides by the total weight of
    the targets that are not ``ignore_index``."""
    _check_tensors("nll_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    _check_class_target("nll_loss", input, target)
    n_classes = input.shape[0 if input.ndim == 1 else 1]
    _check_weight("nll_loss", weight, input, n_classes)
    x, t, unbatched = _as_batched(input, target)
    xp = x._xp()
    safe, valid = _class_targets("nll_loss", xp, t._data, n_classes, ignore_index)
    picked = x.gather(1, _new_tensor(safe).unsqueeze(1)).squeeze(1)
    w = None if weight is None else weight._data.astype(x._data.dtype, copy=False)
    w_t = _kept_weight(xp, w, safe, valid, x._data.dtype)
    w_t = _new_tensor(w_t if w_t is not None else xp.ones(safe.shape, x._data.dtype))
    loss = -picked * w_t
    if reduction == "none":
        return loss.squeeze(0) if unbatched else loss
    if reduction == "sum":
        return loss.sum()
    total = float(w_t.sum())
    if total == 0:  # no kept target: 0/0 = nan with a zero gradient, as in PyTorch
        return loss.sum() + float("nan")
    return loss.sum() / total


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100,
                  reduce=None, reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` (C) / (N, C) / (N, C, d1, ...) and either class
    indices ``target`` () / (N) / (N, d1, ...) or class probabilities of the input's shape."""
    try:  # the common case, checked cheaply: (N, C) float logits, (N,) int64 targets
        x, t = input._data, target._data
        fast = (x.ndim == 2 and t.ndim == 1 and t.dtype == np.int64 and x.dtype in FLOAT_NP
                and x.shape[0] == t.shape[0] and weight is None and size_average is None
                and reduce is None and label_smoothing == 0.0
                and reduction in ("mean", "sum", "none") and type(t) is type(x))
    except AttributeError:
        _check_tensors("cross_entropy", input=input, target=target)
    if fast:
        return CrossEntropy.apply(input, t, None, ignore_index, reduction, 0.0)
    return _cross_entropy_checked(input, target, weight, size_average, ignore_index, reduce,
                                  reduction, label_smoothing)


def _cross_entropy_checked(input, target, weight, size_average, ignore_index, reduce,
                           reduction, label_smoothing):
    if size_average is not None or reduce is not None or reduction not in ("mean", "sum",
                                                                             "none"):
        reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise mark(ValueError(f"cross_entropy: label_smoothing must be between 0.0 and 1.0. Got: "
                              f"{label_smoothing}"))
    if input._data.dtype not in FLOAT_NP:
        raise mark(RuntimeError(f"cross_entropy: expected a floating point input (logits), got "
                                f"{describe(input)}; convert it with .float()"))
    n_classes = input.shape[0 if input.ndim == 1 else 1] if input.ndim else 0
    if target.shape == input.shape and target._data.dtype in FLOAT_NP:
        _check_weight("cross_entropy", weight, input, n_classes)
        if ignore_index != -100:
            raise mark(RuntimeError("cross_entropy: ignore_index is not supported for floating "
                                    "point target (class probabilities)"))
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    _check_class_target("cross_entropy", input, target)
    _check_weight("cross_entropy", weight, input, n_classes)
    x, t, unbatched = _as_batched(input, target)
    w = None
    if weight is not None:
        w = weight._data if weight._data.dtype == x._data.dtype \
            else weight._data.astype(x._data.dtype)
    loss = CrossEntropy.apply(x, t._data, w, ignore_index, reduction, float(label_smoothing))
    return loss.squeeze(0) if unbatched and reduction == "none" else loss


def _cross_entropy_probs(input, target, weight, reduction, smoothing):
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    log_p = log_softmax(input, class_dim)
    if smoothing > 0:
        target = target * (1 - smoothing) + smoothing / n_classes
    if weight is not None:
        shape = [1] * input.ndim
        shape[class_dim] = n_classes
        log_p = log_p * weight.reshape(shape)
    loss = -(log_p * target)
    if reduction == "none":
        return loss.sum(class_dim)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (input.numel() // n_classes if n_classes else 0)


# ---- binary cross entropy ----------------------------------------------------------------------

_EPS_BCE = 1e-12


class BinaryCrossEntropy(Function):
    """``-w (t log(x) + (1 - t) log(1 - x))`` with each log clamped at -100 (so 0 and 1 give
    finite losses); its gradient ``w (x - t) / max(x (1 - x), 1e-12)`` is finite there too."""
    _raw = True
    op_name = "binary_cross_entropy"

    @staticmethod
    def forward(ctx, x, t, w):
        xp = ctx.xp
        with np.errstate(divide="ignore"):
            log_x = xp.maximum(xp.log(x), -100)
            log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, t, w)
        return loss.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        x, t, w = ctx.saved_tensors
        e_x, e_t = ctx._edges[:2]
        g = grad if w is None else grad * w
        gx = gt = None
        if e_x:
            gx = g * (x - t) / (x * (1 - x)).clamp_min(_EPS_BCE)
        if e_t:  # -logit(x), unclamped as in PyTorch (infinite at 0 and 1)
            gt = g * ((-x).log1p() - x.log())
        return gx, gt, None


def _check_unit_interval(op, what, t):
    d = t._data
    if d.size and not bool(((d >= 0) & (d <= 1)).all()):
        raise mark(RuntimeError(f"{op}: all elements of {what} should be between 0 and 1 "
                                f"({what} {describe(t)})"))


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,
                         reduction="mean"):
    """Binary cross entropy of probabilities ``input`` in [0, 1] and targets in [0, 1]."""
    _check_tensors("binary_cross_entropy", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise mark(ValueError(f"Using a target size ({target.shape}) that is different to the "
                              f"input size ({input.shape}) is deprecated. Please ensure they "
                              f"have the same size."))
    _check_unit_interval("binary_cross_entropy", "input", input)
    _check_unit_interval("binary_cross_entropy", "target", target)
    if weight is not None:
        weight = weight.expand(input.shape)
    loss = BinaryCrossEntropy.apply(input, target.to(input.dtype), weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    """Sigmoid and binary cross entropy in one stable expression:
    ``(1 - t) x + (1 + (pos_weight - 1) t) * log(1 + exp(-x))``."""
    _check_tensors("binary_cross_entropy_with_logits", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape:
        raise mark(ValueError(f"Target size ({target.shape}) must be the same as input size "
                              f"({input.shape})"))
    softplus_neg = -logsigmoid(input)  # log(1 + exp(-x)), stable
    if pos_weight is not None:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    else:
        loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# ---- margin and embedding losses ----------------------------------------------------------------

def margin_ranking_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                        reduction="mean"):
    """``max(0, -target * (input1 - input2) + margin)``."""
    _check_tensors("margin_ranking_loss", input1=input1, input2=input2, target=target)
    _check_broadcast("margin_ranking_loss", input1, input2, target)
    reduction = _reduction(size_average, reduce, reduction)
    if not input1.ndim == input2.ndim == target.ndim:
        raise mark(RuntimeError(f"margin_ranking_loss : All input tensors should have same "
                                f"dimension but got sizes: input1: {input1.shape}, input2: "
                                f"{input2.shape}, target: {target.shape} "))
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """``input`` where target is 1, ``max(0, margin - input)`` where it is -1."""
    _check_tensors("hinge_embedding_loss", input=input, target=target)
    _check_broadcast("hinge_embedding_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    zero = input.new_zeros(())
    loss = (where(target != 1, (margin - input).clamp_min(0), zero)
            + where(target != -1, input, zero))
    return _reduce(loss, reduction)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``log(1 + exp(-target * input))``."""
    _check_tensors("soft_margin_loss", input=input, target=target)
    _check_broadcast("soft_margin_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(-logsigmoid(target * input), reduction)


def cosine_embedding_loss(input1, input2, target, margin=0, size_average=None, reduce=None,
                          reduction="mean"):
    """``1 - cos(x1, x2)`` where target is 1, ``max(0, cos(x1, x2) - margin)`` where it is
    -1."""
    _check_tensors("cosine_embedding_loss", input1=input1, input2=input2, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if target.ndim > 1 or input1.ndim != target.ndim + 1 or input1.shape != input2.shape:
        raise mark(RuntimeError(f"cosine_embedding_loss: {target.ndim}D target tensor expects "
                                f"{target.ndim + 1}D input tensors of the same shape, but found "
                                f"inputs with sizes {list(input1.shape)} and "
                                f"{list(input2.shape)}."))
    dim = input1.ndim - 1
    eps = 1e-12
    prod = (input1 * input2).sum(dim)
    mag = ((input1 * input1).sum(dim) + eps) * ((input2 * input2).sum(dim) + eps)
    cos = prod / mag.sqrt()
    zero = cos.new_zeros(())
    loss = where(target == 1, 1 - cos, zero) + where(target == -1, (cos - margin).clamp_min(0),
                                                      zero)
    return _reduce(loss, reduction)


def _check_triplet_dims(anchor, positive, negative):
    a, p, n = anchor.ndim, positive.ndim, negative.ndim
    if not a == p == n:
        raise mark(RuntimeError(f"The anchor, positive, and negative tensors are expected to "
                                f"have the same number of dimensions, but got: anchor {a}D, "
                                f"positive {p}D, and negative {n}D inputs"))


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """``max(0, margin + d(a, p) - d(a, n))`` with the p-norm pairwise distance d."""
    _check_tensors("triplet_margin_loss", anchor=anchor, positive=positive, negative=negative)
    reduction = _reduction(size_average, reduce, reduction)
    _check_margin(margin)
    _check_triplet_dims(anchor, positive, negative)
    return _triplet(anchor, positive, negative,
                    lambda x, y: pairwise_distance(x, y, p, eps), margin, swap, reduction)


def _check_margin(margin):
    if margin <= 0:
        raise mark(ValueError(f"margin must be greater than 0, got {margin}"))


def _triplet(anchor, positive, negative, distance, margin, swap, reduction):
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = d_neg.minimum(distance(positive, negative))
    return _reduce((margin + d_pos - d_neg).clamp_min(0), reduction)


def triplet_margin_with_distance_loss(anchor, positive, negative, *, distance_function=None,
                                      margin=1.0, swap=False, reduction="mean"):
    """``triplet_margin_loss`` with any distance function (default: pairwise_distance)."""
    if reduction not in ("mean", "sum", "none"):
        raise mark(ValueError(f"{reduction} is not a valid value for reduction"))
    _check_margin(margin)
    _check_triplet_dims(anchor, positive, negative)
    return _triplet(anchor, positive, negative, distance_function or pairwise_distance,
                    margin, swap, reduction)


def _check_margin_target(op, input, target):
    if input.ndim > 2 or (input.ndim == 2 and target.shape != input.shape[:1]) or \
            (input.ndim < 2 and target.numel() != 1):
        raise mark(RuntimeError(f"{op}: inconsistent target size: {list(target.shape)} for "
                                f"input of size: {list(input.shape)} (expected input (N, C) "
                                f"with target (N,), or input (C) with one target)"))
    if target._data.dtype != np.int64:
        raise mark(RuntimeError(f"{op}: expected target of dtype int64 (class indices), got "
                                f"{describe(target)}"))


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """Multi-class hinge loss: ``sum_{i != y} max(0, margin - x[y] + x[i])^p * w[y] / C``."""
    _check_tensors("multi_margin_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if p not in (1, 2):
        raise mark(ValueError("only p == 1 and p == 2 supported"))
    if isinstance(weight, Tensor) and weight.ndim != 1:  # checked before the target, as torch
        raise mark(ValueError(f"multi_margin_loss: weight must be one-dimensional, got "
                              f"{describe(weight)}"))
    _check_margin_target("multi_margin_loss", input, target)
    x = input.reshape(-1, input.shape[-1] if input.ndim else 1)
    n_classes = x.shape[1]
    t = target.reshape(-1)
    safe, _ = _class_targets("multi_margin_loss", x._xp(), t._data, n_classes, None)
    t_idx = _new_tensor(safe).unsqueeze(1)
    margins = (margin - x.gather(1, t_idx) + x).clamp_min(0)
    if p == 2:
        margins = margins.square()
    if weight is not None:
        _check_weight("multi_margin_loss", weight, input, n_classes)
        margins = margins * weight[_new_tensor(safe)].unsqueeze(1)
    not_target = _new_tensor(x._xp().arange(n_classes)[None, :] != safe[:, None])
    loss = (margins * not_target.to(margins.dtype)).sum(1) / n_classes
    if reduction == "none":
        return loss.reshape(target.shape) if input.ndim == 2 else loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """``sum_{j in targets, i not in targets} max(0, 1 - (x[y_j] - x[i])) / C``; each row of
    ``target`` lists class indices, ended by the first -1."""
    _check_tensors("multilabel_margin_loss", input=input, target=target)
    reduction = _reduction(size_average, reduce, reduction)
    if target.shape != input.shape or input.ndim > 2:
        raise mark(RuntimeError(f"multilabel_margin_loss: inconsistent target size: "
                                f"{list(target.shape)} for input of size: "
                                f"{list(input.shape)} (they must be equal, (C) or (N, C))"))
    x = input.reshape(-1, input.shape[-1] if input.ndim else 1)
    xp = x._xp()
    t = target._data.reshape(x.shape).astype(np.int64)
    n_classes = x.shape[1]
    # The labels of a row are its entries before the first -1.
    before_end = xp.cumprod(t != -1, axis=1).astype(bool)
    labels = xp.where(before_end, t, 0)
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise mark(IndexError(f"multilabel_margin_loss: target indices must be in [0, "
                              f"{n_classes}) or -1, got {describe(target)}"))
    is_target = xp.zeros(x.shape, bool)
    rows = xp.broadcast_to(xp.arange(x.shape[0])[:, None], labels.shape)
    is_target[rows[before_end], labels[before_end]] = True
    picked = x.gather(1, _new_tensor(labels))  # x[y_j], (N, C) with unused slots
    # (N, j, i): hinge of target j against non-target i
    hinge = (1 - (picked.unsqueeze(2) - x.unsqueeze(1))).clamp_min(0)
    mask = before_end[:, :, None] & ~is_target[:, None, :]
    loss = (hinge * _new_tensor(mask.astype(x._data.dtype))).sum((1, 2)) / n_classes
    if reduction == "none":
        return loss if input.ndim == 2 else loss.reshape(())
    return _reduce(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """Per-class binary cross entropy of logits, averaged over classes."""
    _check_tensors("multilabel_soft_margin_loss", input=input, target=target)
    _check_broadcast("multilabel_soft_margin_loss", input, target)
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.ndim - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    return _reduce(loss, reduction)
