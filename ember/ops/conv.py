"""Convolution: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, and ``unfold`` / ``fold``.

Three bilinear primitives carry all convolutions: ``Conv`` (cross-correlation plus bias),
``ConvInputGrad`` (its gradient with respect to the input, which is also the transposed
convolution) and ``ConvWeightGrad``. Each one's backward is written with the other two, so
gradients of any order exist (as in PyTorch, the backward of a convolution is a convolution).
Their geometry travels as keyword arguments: ``stride``, ``padding`` (one (before, after) pair
per spatial dim), ``dilation`` and ``groups``. ``Unfold`` and ``Fold`` (im2col / col2im in
PyTorch's layout) are adjoint linear maps. The array kernels live in ``ember/backend``."""
import math

from .._errors import mark, describe
from ..autograd.function import Function
from ..backend.cpu import kernels
from ._promote import BOOL_NP
from ._registry import public
from ._window import int_tuple, require_tensor, require_ndim

from ._promote import conj_if_complex as _conj  # noqa: E402

def _spatial(t):
    return tuple(t._data.shape[2:])


class Conv(Function):
    """``y = conv(x, w) + b``: x (N, C, *S), w (O, C/groups, *k), b (O) or None."""
    _raw = True
    op_name = "convolution"

    @staticmethod
    def forward(ctx, x, w, b, **geom):
        ctx.geom = geom
        ctx.save_for_backward(x, w)
        return kernels(ctx.xp).conv(ctx.xp, x, w, b, **geom)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        ex, ew, eb = ctx._edges
        gx = ConvInputGrad.apply(grad, _conj(w), size=_spatial(x), **ctx.geom) if ex else None
        gw = ConvWeightGrad.apply(_conj(x), grad, ksize=_spatial(w), **ctx.geom) if ew else None
        gb = grad.sum((0,) + tuple(range(2, grad.ndim))) if eb else None
        return gx, gw, gb


class ConvInputGrad(Function):
    """The gradient of ``conv(x, w)`` with respect to ``x`` (of spatial ``size``) for output
    gradient ``g``; with ``g`` an input, the transposed convolution."""
    _raw = True
    op_name = "conv_input_grad"

    @staticmethod
    def forward(ctx, g, w, size, **geom):
        ctx.geom = geom
        ctx.save_for_backward(g, w)
        return kernels(ctx.xp).conv_input_grad(ctx.xp, g, w, size=size, **geom)

    @staticmethod
    def backward(ctx, grad):
        g, w = ctx.saved_tensors
        eg, ew = ctx._edges[:2]
        dg = _crop(Conv.apply(grad, _conj(w), None, **ctx.geom), g) if eg else None
        dw = ConvWeightGrad.apply(grad, _conj(g), ksize=_spatial(w), **ctx.geom) if ew else None
        return dg, dw, None


class ConvWeightGrad(Function):
    """The gradient of ``conv(x, w)`` with respect to ``w`` (of kernel size ``ksize``) for output
    gradient ``g``."""
    _raw = True
    op_name = "conv_weight_grad"

    @staticmethod
    def forward(ctx, x, g, ksize, **geom):
        ctx.geom = geom
        ctx.save_for_backward(x, g)
        return kernels(ctx.xp).conv_weight_grad(ctx.xp, x, g, ksize=ksize, **geom)

    @staticmethod
    def backward(ctx, grad):
        x, g = ctx.saved_tensors
        ex, eg = ctx._edges[:2]
        dx = ConvInputGrad.apply(_conj(g), grad, size=_spatial(x), **ctx.geom) if ex else None
        dg = _crop(Conv.apply(_conj(x), grad, None, **ctx.geom), g) if eg else None
        return dx, dg, None


def _crop(t, like):
    """``t`` cut to the spatial size of ``like``: with output_padding >= stride, convolving
    back yields positions that the transposed convolution's input never had."""
    size = _spatial(like)
    if _spatial(t) == size:
        return t
    return t[(Ellipsis,) + tuple(slice(0, n) for n in size)]


# ---- checks ------------------------------------------------------------------------------------

def _sizes(shape):
    return " x ".join(str(n) for n in shape)


def _check_operands(op, input, weight, bias, d):
    """Types, dims and dtypes of a convolution's tensors; returns whether input is batched."""
    require_tensor(op, input)
    require_tensor(op, weight, "weight", 2)
    if bias is not None:
        require_tensor(op, bias, "bias", 3)
    batched = require_ndim(op, input, d)
    if weight._data.ndim != d + 2:
        raise mark(RuntimeError(
            f"{op}: weight must be {d + 2}-D (out_channels, in_channels / groups, "
            f"{', '.join('k' + 'dhw'[3 - d + i] for i in range(d))}), but got weight of size "
            f"{list(weight.shape)}"))
    dtype = input._data.dtype
    if weight._data.dtype != dtype or (bias is not None and bias._data.dtype != dtype):
        parts = f"input {describe(input)}, weight {describe(weight)}" + (
            f", bias {describe(bias)}" if bias is not None else "")
        raise mark(RuntimeError(
            f"{op}: input, weight and bias must have the same dtype, but got {parts}; convert "
            f"the input (e.g. x.float()) or the module (e.g. model.double())"))
    if dtype is BOOL_NP:
        raise mark(RuntimeError(f"{op}: not implemented for bool tensors ({describe(input)}); "
                                f"convert them with .float() first"))
    return batched


def _check_geometry(op, stride, padding, dilation, groups, output_padding=None):
    if any(s <= 0 for s in stride):
        raise mark(RuntimeError(f"{op}: non-positive stride is not supported (stride={stride})"))
    if any(p < 0 for p in padding):
        raise mark(RuntimeError(f"{op}: negative padding is not supported "
                                f"(padding={padding})"))
    if any(d <= 0 for d in dilation):
        raise mark(RuntimeError(f"{op}: non-positive dilation is not supported "
                                f"(dilation={dilation})"))
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise mark(TypeError(f"{op}(): argument 'groups' must be int, not "
                             f"{type(groups).__name__}"))
    if groups <= 0:
        raise mark(RuntimeError(f"{op}: non-positive groups is not supported "
                                f"(groups={groups})"))
    if output_padding is not None:
        if any(p < 0 for p in output_padding):
            raise mark(RuntimeError(f"{op}: negative output_padding is not supported "
                                    f"(output_padding={output_padding})"))
        if any(p >= s and p >= d for p, s, d in zip(output_padding, stride, dilation)):
            raise mark(RuntimeError(
                f"{op}: output padding must be smaller than either stride or dilation, but got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"))


def _check_channels(op, input, weight, bias, groups, transposed):
    x, w = input._data.shape, weight._data.shape
    if w[0] == 0 and not transposed:
        raise mark(RuntimeError(f"{op}: Given groups={groups}, expected weight to be at least 1 "
                                f"at dimension 0, but got weight of size {list(w)} instead"))
    if w[0] % groups:
        raise mark(RuntimeError(f"{op}: Given groups={groups}, expected weight to be divisible "
                                f"by {groups} at dimension 0, but got weight of size {list(w)} "
                                f"instead"))
    expected = w[0] if transposed else w[1] * groups
    if x[1] != expected:
        given = "transposed=1" if transposed else f"groups={groups}"
        raise mark(RuntimeError(
            f"{op}: Given {given}, weight of size {list(w)}, expected input{list(x)} to have "
            f"{expected} channels, but got {x[1]} channels instead"))
    out_channels = w[1] * groups if transposed else w[0]
    if bias is not None and tuple(bias._data.shape) != (out_channels,):
        given = "transposed=1, weight" if transposed else "weight"
        raise mark(RuntimeError(
            f"{op}: Given {given} of size {list(w)}, expected bias to be 1-dimensional with "
            f"{out_channels} elements, but got bias of size {list(bias.shape)} instead"))


def _same_padding(kernel, dilation):
    """'same' padding: total ``dilation * (k - 1)``, the odd one out after (as PyTorch)."""
    pairs = []
    for k, dl in zip(kernel, dilation):
        total = dl * (k - 1)
        pairs.append((total // 2, total - total // 2))
    return tuple(pairs)


def _conv_padding(op, padding, d, stride, kernel, dilation):
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding == "same":
            if any(s != 1 for s in stride):
                raise mark(RuntimeError(f"{op}: padding='same' is not supported for strided "
                                        f"convolutions (stride={stride})"))
            return _same_padding(kernel, dilation)
        raise mark(RuntimeError(f"{op}: Invalid padding string: {padding!r} (use 'valid', "
                                f"'same' or ints)"))
    return tuple((p, p) for p in int_tuple(op, "padding", padding, d))


# ---- convolution -------------------------------------------------------------------------------

def _convnd(op, d, input, weight, bias, stride, padding, dilation, groups):
    batched = _check_operands(op, input, weight, bias, d)
    kernel = tuple(weight._data.shape[2:])
    stride = int_tuple(op, "stride", stride, d)
    dilation = int_tuple(op, "dilation", dilation, d)
    pads = _conv_padding(op, padding, d, stride, kernel, dilation)
    _check_geometry(op, stride, [lo for lo, _ in pads], dilation, groups)
    if not batched:
        input = input.unsqueeze(0)
    _check_channels(op, input, weight, bias, groups, False)
    size = _spatial(input)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, pads))
    reach = tuple(dl * (k - 1) + 1 for k, dl in zip(kernel, dilation))
    if any(p < r for p, r in zip(padded, reach)):
        raise mark(RuntimeError(
            f"{op}: Calculated padded input size per channel: ({_sizes(padded)}). Kernel size: "
            f"({_sizes(reach)}). Kernel size can't be greater than actual input size (input "
            f"{describe(input)}, weight {describe(weight)}); use a smaller kernel or more "
            f"padding"))
    out = Conv.apply(input, weight, bias, stride=stride, padding=pads, dilation=dilation,
                     groups=groups)
    return out if batched else out.squeeze(0)


@public(method=False)
def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation: input (N, C, L) or (C, L), weight (O, C / groups, k)."""
    return _convnd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


@public(method=False)
def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation: input (N, C, H, W) or (C, H, W), weight (O, C / groups, kH, kW)."""
    return _convnd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


@public(method=False)
def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D cross-correlation: input (N, C, D, H, W) or (C, D, H, W), weight
    (O, C / groups, kD, kH, kW)."""
    return _convnd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


def _conv_transposend(op, d, input, weight, bias, stride, padding, output_padding, groups,
                      dilation):
    batched = _check_operands(op, input, weight, bias, d)
    if isinstance(padding, str):
        raise mark(TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str "
                             f"({padding!r})"))
    stride = int_tuple(op, "stride", stride, d)
    padding = int_tuple(op, "padding", padding, d)
    output_padding = int_tuple(op, "output_padding", output_padding, d)
    dilation = int_tuple(op, "dilation", dilation, d)
    _check_geometry(op, stride, padding, dilation, groups, output_padding)
    if not batched:
        input = input.unsqueeze(0)
    _check_channels(op, input, weight, bias, groups, True)
    kernel = tuple(weight._data.shape[2:])
    size = tuple((n - 1) * s - 2 * p + dl * (k - 1) + op_ + 1 for n, s, p, dl, k, op_ in
                 zip(_spatial(input), stride, padding, dilation, kernel, output_padding))
    if any(n < 0 for n in size):
        raise mark(RuntimeError(f"{op}: the output size {list(size)} would be negative for "
                                f"input {describe(input)}, weight {describe(weight)} and "
                                f"padding={padding}; use less padding"))
    out = ConvInputGrad.apply(input, weight, size=size, stride=stride,
                              padding=tuple((p, p) for p in padding), dilation=dilation,
                              groups=groups)
    if bias is not None:
        out = out + bias.reshape((-1,) + (1,) * d)
    return out if batched else out.squeeze(0)


@public(method=False)
def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution: input (N, C, L) or (C, L), weight (C, O / groups, k)."""
    return _conv_transposend("conv_transpose1d", 1, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


@public(method=False)
def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution: input (N, C, H, W) or (C, H, W), weight
    (C, O / groups, kH, kW)."""
    return _conv_transposend("conv_transpose2d", 2, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


@public(method=False)
def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """3-D transposed convolution: input (N, C, D, H, W) or (C, D, H, W), weight
    (C, O / groups, kD, kH, kW)."""
    return _conv_transposend("conv_transpose3d", 3, input, weight, bias, stride, padding,
                             output_padding, groups, dilation)


# ---- unfold / fold (im2col / col2im) -----------------------------------------------------------

class Unfold(Function):
    """(N, C, H, W) -> (N, C * kH * kW, L): the zero-padded windows, channel-major."""
    _raw = True
    op_name = "im2col"

    @staticmethod
    def forward(ctx, x, kernel_size, dilation, padding, stride):
        ctx.args = (kernel_size, dilation, padding, stride)
        ctx.size = x.shape[2:]
        return kernels(ctx.xp).unfold(ctx.xp, x, kernel_size, dilation, padding, stride)

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.size, *ctx.args), None, None, None, None


class Fold(Function):
    """(N, C * kH * kW, L) -> (N, C, H, W): each column added back into its window."""
    _raw = True
    op_name = "col2im"

    @staticmethod
    def forward(ctx, cols, output_size, kernel_size, dilation, padding, stride):
        ctx.args = (kernel_size, dilation, padding, stride)
        return kernels(ctx.xp).fold(ctx.xp, cols, output_size, kernel_size, dilation, padding,
                                    stride)

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, *ctx.args), None, None, None, None, None


def _fold_args(op, kernel_size, dilation, padding, stride):
    kernel_size = int_tuple(op, "kernel_size", kernel_size, 2)
    dilation = int_tuple(op, "dilation", dilation, 2)
    padding = int_tuple(op, "padding", padding, 2)
    stride = int_tuple(op, "stride", stride, 2)
    for name, values, low in (("kernel_size", kernel_size, 1), ("dilation", dilation, 1),
                              ("padding", padding, 0), ("stride", stride, 1)):
        if any(v < low for v in values):
            raise mark(RuntimeError(
                f"{op}: {name} should be {'greater than zero' if low else 'non-negative'}, but "
                f"got {name}={values}"))
    return kernel_size, dilation, padding, stride


def _window_counts(op, size, kernel_size, dilation, padding, stride):
    counts = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                   for n, k, d, p, s in zip(size, kernel_size, dilation, padding, stride))
    if any(c < 1 for c in counts):
        raise mark(RuntimeError(
            f"{op}: Given input with spatial size {tuple(size)}, kernel_size={kernel_size}, "
            f"dilation={dilation}, padding={padding}, calculated shape of the array of sliding "
            f"blocks as {counts}, but its components must be at least one."))
    return counts


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a batched (N, C, H, W) or unbatched (C, H, W) input as columns
    (N, C * prod(kernel_size), L)."""
    op = "unfold"
    require_tensor(op, input)
    if input._data.ndim not in (3, 4):
        raise mark(NotImplementedError(
            f"{op}: Input Error: Only 3D or 4D input Tensors are supported (got "
            f"{input._data.ndim}D, {describe(input)})"))
    args = _fold_args(op, kernel_size, dilation, padding, stride)
    batched = input._data.ndim == 4
    if not batched:
        input = input.unsqueeze(0)
    if 0 in input._data.shape[1:]:
        raise mark(RuntimeError(f"{op}: Expected non-empty channel and spatial dims, but got "
                                f"input of size {list(input.shape)}"))
    _window_counts(op, _spatial(input), *args)
    out = Unfold.apply(input, *args)
    return out if batched else out.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The sum of columns (N, C * prod(kernel_size), L) (or unbatched) back into an image
    (N, C, *output_size): the adjoint of ``unfold``."""
    op = "fold"
    require_tensor(op, input)
    if input._data.ndim not in (2, 3):
        raise mark(NotImplementedError(
            f"{op}: Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
            f"(got {input._data.ndim}D, {describe(input)})"))
    output_size = int_tuple(op, "output_size", output_size, 2)
    args = _fold_args(op, kernel_size, dilation, padding, stride)
    batched = input._data.ndim == 3
    if not batched:
        input = input.unsqueeze(0)
    rows, blocks = input._data.shape[1:]
    k = math.prod(args[0])
    if rows % k or rows == 0:
        raise mark(RuntimeError(
            f"{op}: Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={rows} and kernel_size={args[0]}"))
    counts = _window_counts(op, output_size, *args)
    if blocks != math.prod(counts):
        raise mark(RuntimeError(
            f"{op}: Given output_size={output_size}, kernel_size={args[0]}, dilation={args[1]}, "
            f"padding={args[2]}, stride={args[3]}, expected size of input's dimension 2 to "
            f"match the calculated number of sliding blocks {' * '.join(map(str, counts))} = "
            f"{math.prod(counts)}, but got input.size(2)={blocks}."))
    out = Fold.apply(input, output_size, *args)
    return out if batched else out.squeeze(0)
