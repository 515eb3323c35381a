"""nn.functional: ``linear`` (one fused Function: a single matrix product plus bias, and a
fused backward computing all three gradients in one pass) and ``bilinear``."""
import numpy as np

from ..._errors import mark, describe
from ..._tensor import Tensor
from ...autograd.function import Function
from ...ops._broadcast import broadcast_to
from ...ops._promote import COMPLEX_NP, BOOL_NP

__all__ = ["linear", "bilinear"]

# NumPy has no fast float16/bfloat16 matrix product: those compute in float32 (as PyTorch's CPU
# kernels accumulate in float32) and are rounded back.
from ...ops._promote import HALF_NP as _LOW_PRECISION  # noqa: E402


def _conj(xp, a):
    return xp.conj(a) if a.dtype in COMPLEX_NP else a


from ...ops._promote import conj_if_complex as _conj_t  # noqa: E402


def _sum_to_shape(a, shape):
    """Array ``a`` summed over the dims broadcasting added or stretched to reach ``shape``."""
    if a.ndim == 2 and len(shape) == 1 and shape[0] == a.shape[1]:  # the usual bias
        return a.sum(axis=0)
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and a.shape[lead + i] != 1)
    return a.sum(axis=axes).reshape(shape) if axes else a.reshape(shape)


class Linear(Function):
    """``y = x @ weight.T + bias`` for ``x`` of shape (..., in): one GEMM for all leading dims."""
    _raw = True
    op_name = "linear"

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        ctx.b_shape = None if b is None else b.shape
        dtype = x.dtype
        x2 = x if x.ndim == 2 else x.reshape(-1, x.shape[-1])
        if dtype in _LOW_PRECISION:
            y = x2.astype(np.float32) @ w.T.astype(np.float32)
        else:
            y = x2 @ w.T
        if b is not None:
            if b.ndim <= 1:
                y += b
            else:  # a bias broadcasting to the output in more than its last dim
                y = y.reshape(x.shape[:-1] + (w.shape[0],)) + b
        if y.dtype != dtype:
            y = y.astype(dtype)
        return y if x.ndim == 2 else y.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        e_x, e_w, e_b = ctx._edges
        return LinearBackward.apply(grad, x, w, bool(e_x), bool(e_w),
                                    ctx.b_shape if e_b else None)


class LinearBackward(Function):
    """The three gradients of ``linear`` from one pass over ``grad`` (None where not needed):
    ``grad @ conj(W)``, ``grad.T @ conj(x)`` and ``grad`` summed to the bias shape."""
    _raw = True
    op_name = "linear_backward"

    @staticmethod
    def forward(ctx, grad, x, w, need_x, need_w, b_shape):
        ctx.save_for_backward(grad, x, w)
        ctx.set_materialize_grads(False)
        xp = ctx.xp
        dtype = x.dtype
        g2 = grad.reshape(-1, grad.shape[-1])
        if dtype in _LOW_PRECISION:
            g2 = g2.astype(np.float32)
        gx = gw = gb = None
        if need_x:
            wc = _conj(xp, w)
            gx = (g2 @ (wc.astype(np.float32) if dtype in _LOW_PRECISION else wc))
            gx = gx.reshape(x.shape).astype(dtype, copy=False)
        if need_w:
            x2 = _conj(xp, x.reshape(-1, x.shape[-1]))
            gw = (g2.T @ (x2.astype(np.float32) if dtype in _LOW_PRECISION else x2))
            gw = gw.astype(dtype, copy=False)
        if b_shape is not None:
            gb = _sum_to_shape(grad, b_shape)
        return gx, gw, gb

    @staticmethod
    def backward(ctx, ggx, ggw, ggb):
        grad, x, w = ctx.saved_tensors
        e_grad, e_x, e_w = ctx._edges[:3]
        d_grad = d_x = d_w = None
        if e_grad:
            parts = []
            if ggx is not None:
                parts.append(linear(ggx, w))
            if ggw is not None:
                parts.append(linear(x, ggw))
            if ggb is not None:
                parts.append(broadcast_to(ggb, grad.shape))
            for p in parts:
                d_grad = p if d_grad is None else d_grad + p
        if e_x and ggw is not None:
            d_x = grad.matmul(_conj_t(ggw))
        if e_w and ggx is not None:
            out, k = grad.shape[-1], x.shape[-1]
            d_w = grad.reshape(-1, out).mT.matmul(_conj_t(ggx).reshape(-1, k))
        return d_grad, d_x, d_w, None, None, None


def _check_linear(input, weight, bias):
    if not isinstance(input, Tensor):
        raise mark(TypeError(f"linear(): argument 'input' (position 1) must be Tensor, not "
                             f"{type(input).__name__}"))
    if not isinstance(weight, Tensor):
        raise mark(TypeError(f"linear(): argument 'weight' (position 2) must be Tensor, not "
                             f"{type(weight).__name__}"))
    if bias is not None and not isinstance(bias, Tensor):
        raise mark(TypeError(f"linear(): argument 'bias' (position 3) must be Tensor, not "
                             f"{type(bias).__name__}"))
    x, w = input._data, weight._data
    if x.ndim == 0 or w.ndim == 0 or w.ndim > 2:
        raise mark(RuntimeError(f"linear: input must be at least 1-D and weight 1-D or 2-D "
                                f"(out_features, in_features), got input {describe(input)} and "
                                f"weight {describe(weight)}"))
    if w.ndim == 1 and x.ndim != 1:
        raise mark(RuntimeError(f"linear: a 1-D weight needs a 1-D input, got input "
                                f"{describe(input)} and weight {describe(weight)}; make the "
                                f"weight 2-D (out_features, in_features)"))
    if x.dtype != w.dtype or (bias is not None and bias._data.dtype != x.dtype):
        dtypes = f"input {input.dtype.name}, weight {weight.dtype.name}" + (
            f", bias {bias.dtype.name}" if bias is not None else "")
        raise mark(RuntimeError(f"linear: expected input, weight and bias to have the same "
                                f"dtype, but got {dtypes}; convert the input (e.g. x.float()) "
                                f"or the module (e.g. model.double())"))
    if x.dtype is BOOL_NP:
        raise mark(RuntimeError("linear: not implemented for bool tensors; convert them with "
                                ".float() first"))
    if x.shape[-1] != w.shape[-1]:
        raise mark(RuntimeError(
            f"linear: input has {x.shape[-1]} features (last dim of input shape "
            f"{tuple(x.shape)}) but weight expects {w.shape[-1]} (weight shape "
            f"{tuple(w.shape)}); did you forget a Flatten, or pick the wrong in_features?"))


def linear(input, weight, bias=None):
    """``input @ weight.T + bias``: input (..., in_features), weight (out_features,
    in_features), bias (out_features) or None."""
    if not (isinstance(input, Tensor) and isinstance(weight, Tensor)
            and input._data.ndim >= 1 and weight._data.ndim == 2
            and input._data.shape[-1] == weight._data.shape[1]
            and input._data.dtype is weight._data.dtype
            and input._data.dtype is not BOOL_NP
            and (bias is None or (isinstance(bias, Tensor)
                                  and bias._data.dtype is input._data.dtype))):
        _check_linear(input, weight, bias)
    if weight._data.ndim == 1:  # a single output feature, returned without its own dim
        return Linear.apply(input, weight.unsqueeze(0), bias).squeeze(-1)
    if input._data.ndim == 1:
        return Linear.apply(input.unsqueeze(0), weight, bias).squeeze(0)
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y[..., o] = input1[..., i] * weight[o, i, j] * input2[..., j] + bias[o]``."""
    from ...ops.linalg import einsum
    for name, t in (("input1", input1), ("input2", input2), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise mark(TypeError(f"bilinear(): argument '{name}' must be Tensor, not "
                                 f"{type(t).__name__}"))
    if weight.ndim != 3:
        raise mark(RuntimeError(f"bilinear: weight must be 3-D (out_features, in1_features, "
                                f"in2_features), got {describe(weight)}"))
    if input1.ndim == 0 or input1.shape[:-1] != input2.shape[:-1]:
        raise mark(RuntimeError(f"bilinear: input1 and input2 must have the same size except in "
                                f"their last dim, got {describe(input1)} and "
                                f"{describe(input2)}"))
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise mark(RuntimeError(
            f"bilinear: input1 has {input1.shape[-1]} features and input2 {input2.shape[-1]}, "
            f"but weight {describe(weight)} expects {weight.shape[1]} and {weight.shape[2]}"))
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise mark(RuntimeError(f"bilinear: bias must have shape ({weight.shape[0]},), got "
                                f"{describe(bias)}"))
    y = einsum("...i,oij,...j->...o", input1, weight, input2)
    return y if bias is None else y + bias
