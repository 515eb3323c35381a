"""Convolutions (F.conv*d, F.conv_transpose*d, F.unfold / F.fold and the Conv / ConvTranspose
modules) against torch: values and gradients over a table of geometries, float64 gradcheck and
gradgradcheck, reprs, initialization and errors."""
import math

import numpy as np
import pytest
import torch

import ember
from ember.backend import cpu
from helpers import check, gradcheck_fn, randn, raises, to_numpy
from nn_mirror import compare, copy_state, module_pair

# torch warns that it copies the input for 'same' padding with even kernels; ember always pads.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def _F(lib):
    return lib.nn.functional


# (d, input shape, weight shape, kwargs)
CONV_CASES = [
    (1, (2, 3, 9), (4, 3, 3), {}),
    (1, (2, 4, 10), (6, 2, 4), dict(stride=2, padding=1, groups=2)),
    (1, (3, 11), (5, 3, 2), dict(dilation=3, padding="same")),  # unbatched, even kernel
    (1, (1, 2, 5), (2, 2, 5), dict(padding="valid")),
    (2, (2, 3, 7, 6), (5, 3, 3, 3), {}),
    (2, (2, 4, 9, 8), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2),
                                         groups=2)),
    (2, (3, 7, 7), (4, 3, 2, 4), dict(padding="same")),  # unbatched, asymmetric 'same'
    (2, (2, 4, 8, 8), (8, 1, 3, 3), dict(padding=1, groups=4)),  # depthwise, multiplier 2
    (2, (2, 3, 10, 9), (4, 3, 5, 5), dict(stride=3, padding=2)),
    (2, (2, 6, 5, 5), (4, 6, 1, 1), dict(stride=2)),  # 1x1
    (2, (2, 8, 12, 11), (4, 8, 3, 2), dict(stride=(1, 2), padding=1, dilation=(2, 1))),  # rows
    (2, (1, 9, 10, 9), (5, 9, 3, 3), dict(padding="same")),  # row-flat path
    (2, (0, 3, 6, 6), (4, 3, 3, 3), dict(padding=1)),  # empty batch
    (2, (1, 3, 5, 5), (2, 3, 5, 5), {}),  # kernel covers the input
    (3, (2, 2, 5, 6, 4), (3, 2, 3, 2, 2), dict(stride=(1, 2, 1), padding=(1, 0, 1))),
    (3, (3, 5, 5, 5), (4, 3, 2, 3, 3), dict(dilation=(2, 1, 1), padding="same")),
    (3, (1, 4, 4, 4, 4), (4, 2, 2, 2, 2), dict(groups=2, stride=2)),
]


def _conv(d):
    return f"conv{d}d"


def _ids(cases):
    return [f"{c[0]}d-{c[1]}-{c[2]}-{c[3]}" for c in cases]


@pytest.mark.parametrize("d,x_shape,w_shape,kw", CONV_CASES, ids=_ids(CONV_CASES))
def test_conv_function(d, x_shape, w_shape, kw):
    x, w, b = randn(*x_shape), randn(*w_shape), randn(w_shape[0])
    check(lambda lib, x, w, b: getattr(_F(lib), _conv(d))(x, w, b, **kw), x, w, b,
          atol=1e-4, rtol=1e-4)
    check(lambda lib, x, w: getattr(_F(lib), _conv(d))(x, w, None, **kw), x, w,
          atol=1e-4, rtol=1e-4)


def test_conv_dtypes_and_layouts():
    conv = lambda lib, x, w, b: _F(lib).conv2d(x, w, b, padding=1)  # noqa: E731
    args = randn(2, 3, 5, 5), randn(4, 3, 3, 3), randn(4)
    check(conv, *(a.astype(np.float64) for a in args))
    check(conv, *(a.astype(np.float16) for a in args), atol=1e-2, rtol=1e-2)
    check(conv, *((a + 1j * randn(*a.shape)).astype(np.complex64) for a in args),
          atol=1e-4, rtol=1e-4)
    ints = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5) % 7 - 3
    check(lambda lib, x, w: _F(lib).conv2d(x, w, stride=2), ints, ints[:2, :, :3, :3])
    # non-contiguous input and weight
    check(lambda lib, x, w, b: _F(lib).conv2d(x.transpose(2, 3), w.transpose(2, 3), b,
                                              stride=(2, 1)),
          randn(2, 3, 6, 7), randn(4, 3, 2, 3), randn(4), atol=1e-4, rtol=1e-4)


def test_conv_bfloat16():
    x, w = ember.tensor(randn(1, 2, 5, 5)).bfloat16(), ember.tensor(randn(3, 2, 3, 3)).bfloat16()
    tx, tw = torch.from_numpy(to_numpy(x)).bfloat16(), torch.from_numpy(to_numpy(w)).bfloat16()
    y = _F(ember).conv2d(x, w)
    assert y.dtype == ember.bfloat16
    np.testing.assert_allclose(to_numpy(y), to_numpy(_F(torch).conv2d(tx, tw)), atol=0.1,
                               rtol=0.02)


# (d, input shape, weight shape, kwargs)
TRANSPOSE_CASES = [
    (1, (2, 4, 6), (4, 3, 3), {}),
    (1, (4, 5), (4, 2, 4), dict(stride=3, padding=1, output_padding=2, groups=2, dilation=1)),
    (2, (2, 3, 4, 5), (3, 2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    (2, (2, 4, 3, 3), (4, 3, 2, 3), dict(stride=(1, 2), dilation=(2, 1), groups=2)),
    (2, (3, 4, 4), (3, 5, 1, 1), {}),
    (2, (1, 2, 3, 3), (2, 2, 3, 3), dict(stride=2, padding=2, output_padding=(0, 1))),
    (3, (1, 2, 3, 3, 2), (2, 3, 2, 3, 2), dict(stride=(2, 1, 2), padding=(0, 1, 0),
                                               output_padding=(1, 0, 0))),
]


@pytest.mark.parametrize("d,x_shape,w_shape,kw", TRANSPOSE_CASES, ids=_ids(TRANSPOSE_CASES))
def test_conv_transpose_function(d, x_shape, w_shape, kw):
    groups = kw.get("groups", 1)
    x, w, b = randn(*x_shape), randn(*w_shape), randn(w_shape[1] * groups)
    fn = f"conv_transpose{d}d"
    check(lambda lib, x, w, b: getattr(_F(lib), fn)(x, w, b, **kw), x, w, b,
          atol=1e-4, rtol=1e-4)
    check(lambda lib, x, w: getattr(_F(lib), fn)(x, w, **kw), x, w, atol=1e-4, rtol=1e-4)


def test_conv_gradcheck():
    """float64 gradcheck and gradgradcheck of every primitive (the backward of a convolution
    is itself made of convolutions)."""
    gradcheck_fn(lambda lib, x, w, b: _F(lib).conv1d(x, w, b, stride=2, padding=1, dilation=2),
                 randn(2, 2, 7), randn(3, 2, 2), randn(3))
    gradcheck_fn(lambda lib, x, w, b: _F(lib).conv2d(x, w, b, stride=(1, 2), padding="valid",
                                                    groups=2),
                 randn(1, 4, 4, 5), randn(4, 2, 2, 2), randn(4))
    gradcheck_fn(lambda lib, x, w: _F(lib).conv2d(x, w, padding="same"),
                 randn(1, 2, 3, 4), randn(2, 2, 2, 3))
    gradcheck_fn(lambda lib, x, w, b: _F(lib).conv3d(x, w, b, padding=(0, 1, 0)),
                 randn(1, 1, 3, 2, 3), randn(2, 1, 2, 2, 2), randn(2))
    gradcheck_fn(lambda lib, x, w, b: _F(lib).conv_transpose2d(x, w, b, stride=2, padding=1,
                                                              output_padding=1, groups=2),
                 randn(1, 4, 2, 3), randn(4, 1, 3, 2), randn(2))
    gradcheck_fn(lambda lib, x, w: _F(lib).conv_transpose1d(x, w, dilation=2),
                 randn(2, 2, 3), randn(2, 3, 2))
    gradcheck_fn(lambda lib, x, w: _F(lib).conv2d(x, w),
                 randn(1, 2, 3, 3) + 1j * randn(1, 2, 3, 3), randn(2, 2, 2, 2) + 1j * randn(2, 2, 2, 2))


def test_conv_double_backward_against_torch():
    """The gradient of a gradient (as in a gradient penalty) matches torch's."""
    def penalty(lib, x, w):
        y = _F(lib).conv2d(x, w, stride=2, padding=1, groups=2)
        (gx,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        return (gx * gx).sum()
    check(penalty, randn(2, 4, 5, 5), randn(6, 2, 3, 3), atol=1e-3, rtol=1e-4)


def test_conv_backward_twice_and_inplace_change():
    """The im2col matrices kept by the forward serve one backward; a second one (retain_graph)
    recomputes them and gets the same gradients. Changing the input in place afterwards makes
    backward raise, as in PyTorch."""
    for shape, kw in (((2, 8, 10, 9), dict(padding=1)), ((2, 3, 7, 6), dict(stride=2))):
        x = ember.tensor(randn(*shape), requires_grad=True)
        w = ember.tensor(randn(4, shape[1], 3, 3), requires_grad=True)
        y = _F(ember).conv2d(x, w, **kw)
        first = ember.autograd.grad((y * y).sum(), (x, w), retain_graph=True)
        second = ember.autograd.grad((y * y).sum(), (x, w))
        for a, b in zip(first, second):
            np.testing.assert_array_equal(to_numpy(a), to_numpy(b))
    x = ember.tensor(randn(1, 2, 5, 5), requires_grad=True)
    h = x * 1
    y = _F(ember).conv2d(h, ember.tensor(randn(3, 2, 3, 3), requires_grad=True))
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---- the CPU kernels' layouts -------------------------------------------------------------------

# (input shape, weight shape, kwargs): geometries each layout must handle
LAYOUT_CASES = [
    ((3, 5, 9, 8), (4, 5, 3, 3), dict(padding=1)),
    ((3, 4, 7, 9), (6, 4, 2, 3), dict(padding="same", dilation=(1, 2))),  # asymmetric padding
    ((3, 6, 8, 11), (5, 6, 3, 2), dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1))),
    ((3, 5, 8, 8), (4, 5, 3, 3), dict(stride=2, padding=1)),  # strided input gradient
    ((3, 4, 6, 7), (2, 4, 1, 1), {}),
    ((2, 4, 5, 6), (6, 2, 3, 2), dict(padding=1, groups=2)),
]


def _force_layout(monkeypatch, layout):
    """Run the convolutions in ``layout`` wherever it applies, one image per chunk."""
    choose = cpu._layout

    def forced(channels, ksize, counts, stride, groups):
        usual = choose(channels, ksize, counts, stride, groups)
        if layout == "rows":
            ok = len(ksize) == 2 and stride[0] == 1 and ksize[0] > 1 and groups == 1
        else:
            ok = layout == "images" or groups == 1
        return layout if ok else usual
    monkeypatch.setattr(cpu, "_layout", forced)
    monkeypatch.setattr(cpu, "CHUNK_BYTES", 1)


@pytest.mark.parametrize("layout", ["images", "rows", "last"])
@pytest.mark.parametrize("x_shape,w_shape,kw", LAYOUT_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in LAYOUT_CASES])
def test_conv_layouts(monkeypatch, layout, x_shape, w_shape, kw):
    """Values and gradients (the input gradient of a stride-1 convolution is itself a
    convolution in that layout) against torch, with the batch split into chunks."""
    _force_layout(monkeypatch, layout)
    check(lambda lib, x, w, b: _F(lib).conv2d(x, w, b, **kw), randn(*x_shape), randn(*w_shape),
          randn(w_shape[0]), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("layout", ["images", "rows", "last"])
def test_conv_layouts_gradcheck(monkeypatch, layout):
    _force_layout(monkeypatch, layout)
    gradcheck_fn(lambda lib, x, w, b: _F(lib).conv2d(x, w, b, stride=(1, 2), padding=1),
                 randn(2, 3, 5, 6), randn(2, 3, 3, 2), randn(2))


# ---- unfold / fold -----------------------------------------------------------------------------

FOLD_CASES = [
    ((2, 3, 5, 6), dict(kernel_size=(2, 3))),
    ((2, 2, 7, 5), dict(kernel_size=3, dilation=(2, 1), padding=1, stride=(2, 1))),
    ((3, 4, 4), dict(kernel_size=2, stride=2)),
]


@pytest.mark.parametrize("shape,kw", FOLD_CASES)
def test_unfold_fold(shape, kw):
    check(lambda lib, x: _F(lib).unfold(x, **kw), randn(*shape))
    cols = to_numpy(_F(torch).unfold(torch.from_numpy(randn(*shape)), **kw))
    check(lambda lib, c: _F(lib).fold(c, shape[-2:], **kw), cols)
    check(lambda lib, x: lib.nn.Unfold(**kw)(x), randn(*shape))
    check(lambda lib, c: lib.nn.Fold(shape[-2:], **kw)(c), cols)


def test_unfold_fold_gradcheck_and_repr():
    gradcheck_fn(lambda lib, x: _F(lib).unfold(x, 2, dilation=(1, 2), padding=1, stride=(2, 1)),
                 randn(1, 2, 3, 4))
    gradcheck_fn(lambda lib, c: _F(lib).fold(c, (3, 4), 2, padding=1), randn(1, 8, 20))
    for e, t in (module_pair("Unfold", (2, 3), dilation=2, padding=1, stride=(1, 2)),
                 module_pair("Fold", (4, 5), 2), module_pair("Unfold", 3)):
        assert repr(e) == repr(t)


def test_unfold_fold_errors():
    raises(NotImplementedError, r"unfold: .*Only 3D or 4D", _F(ember).unfold,
           ember.zeros(2, 3), 2)
    raises(RuntimeError, r"unfold: .*must be at least one", _F(ember).unfold,
           ember.zeros(1, 1, 2, 2), 3)
    raises(RuntimeError, r"fold: .*divisible by the product of kernel_size", _F(ember).fold,
           ember.zeros(1, 5, 4), (3, 3), 2)
    raises(RuntimeError, r"fold: .*sliding blocks 2 \* 2 = 4, but got input.size\(2\)=5",
           _F(ember).fold, ember.zeros(1, 4, 5), (3, 3), 2)
    raises(RuntimeError, r"unfold: stride should be greater than zero", _F(ember).unfold,
           ember.zeros(1, 1, 4, 4), 2, stride=0)


# ---- modules -----------------------------------------------------------------------------------

MODULE_CASES = [
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=2, padding_mode="reflect"), (2, 3, 9)),
    ("Conv1d", (4, 4, 2), dict(padding="same", groups=4, bias=False), (4, 7)),
    ("Conv2d", (3, 6, 3), {}, (2, 3, 8, 8)),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2,
                                    padding_mode="circular"), (2, 4, 7, 6)),
    ("Conv2d", (2, 4, 3), dict(padding=1, padding_mode="replicate"), (2, 6, 5)),
    ("Conv2d", (3, 2, 4), dict(padding="same", padding_mode="reflect"), (1, 3, 6, 6)),
    ("Conv3d", (2, 4, 2), dict(padding=1, padding_mode="zeros"), (1, 2, 3, 4, 3)),
    ("Conv3d", (2, 2, 3), dict(padding=1, padding_mode="circular", bias=False), (2, 3, 3, 3)),
    ("ConvTranspose1d", (4, 2, 3), dict(stride=2, output_padding=1, groups=2), (2, 4, 5)),
    ("ConvTranspose2d", (3, 4, (2, 3)), dict(stride=2, padding=1, dilation=(1, 2)),
     (2, 3, 4, 4)),
    ("ConvTranspose2d", (2, 3, 3), dict(bias=False), (2, 3, 3)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name,args,kw,x_shape", MODULE_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in MODULE_CASES])
def test_conv_modules(name, args, kw, x_shape):
    e, t = module_pair(name, *args, **kw)
    assert repr(e) == repr(t)
    assert [(k, tuple(v.shape)) for k, v in e.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
    compare(e, t, randn(*x_shape), atol=1e-4, rtol=1e-4)


def test_conv_transpose_output_size():
    e, t = module_pair("ConvTranspose2d", 2, 3, 3, stride=3, padding=1)
    copy_state(e, t)
    x = randn(1, 2, 4, 4)
    for size in ([10, 11], [1, 3, 12, 10], ember.Size([12, 12])):
        e_out = e(ember.tensor(x), output_size=size)
        t_out = t(torch.from_numpy(x), output_size=list(size))
        assert tuple(e_out.shape) == tuple(t_out.shape)
        np.testing.assert_allclose(to_numpy(e_out), to_numpy(t_out), atol=1e-5)
    with pytest.raises(ValueError, match="requested an output size of \\[13, 10\\], but valid "
                                         "sizes range from \\[10, 10\\] to \\[12, 12\\]"):
        e(ember.tensor(x), output_size=[13, 10])
    with pytest.raises(ValueError, match="output_size must have 2 or 4 elements"):
        e(ember.tensor(x), output_size=[10])


def test_conv_module_initialization():
    ember.manual_seed(0)
    m = ember.nn.Conv2d(6, 8, (3, 2), groups=2)
    bound = 1 / math.sqrt(3 * 3 * 2)  # kaiming_uniform_(a=sqrt(5)) and the bias: 1/sqrt(fan_in)
    for p in (m.weight, m.bias):
        v = to_numpy(p)
        assert np.abs(v).max() <= bound and np.abs(v).max() > 0.8 * bound
    t = ember.nn.ConvTranspose2d(4, 6, 3, groups=2)
    assert tuple(t.weight.shape) == (4, 3, 3, 3) and tuple(t.bias.shape) == (6,)
    assert ember.nn.Conv1d(2, 2, 2, dtype=ember.float64).weight.dtype == ember.float64


@pytest.mark.parametrize("name,args,kw", [
    ("Conv2d", (3, 8, 3), {}),
    ("Conv2d", (4, 8, (3, 5)), dict(stride=2, padding=(1, 2), dilation=3, groups=4, bias=False,
                                    padding_mode="reflect")),
    ("Conv1d", (2, 2, 4), dict(padding="same")),
    ("Conv3d", (2, 4, 3), dict(padding="valid", stride=(1, 2, 1))),
    ("ConvTranspose1d", (2, 4, 3), dict(output_padding=1, stride=2, dilation=2)),
    ("ConvTranspose2d", (4, 8, 3), dict(groups=2, padding=1, bias=False)),
    ("ConvTranspose3d", (2, 2, (1, 2, 3)), {}),
])
def test_conv_repr(name, args, kw):
    e, t = module_pair(name, *args, **kw)
    assert repr(e) == repr(t)


def test_conv_module_constructor_errors():
    for kw, match in ((dict(groups=0), "groups must be a positive integer"),
                      (dict(groups=2), "in_channels must be divisible by groups"),
                      (dict(padding="full"), "Invalid padding string 'full'"),
                      (dict(padding="same", stride=2), "padding='same' is not supported for "
                                                       "strided convolutions"),
                      (dict(padding_mode="wrap"), "padding_mode must be one of")):
        with pytest.raises(ValueError, match=match):
            ember.nn.Conv2d(3, 4, 3, **kw)
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for '
                                         'ConvTranspose2d'):
        ember.nn.ConvTranspose2d(2, 2, 2, padding_mode="reflect")


def test_conv_errors():
    F = _F(ember)
    x, w = ember.zeros(2, 4, 8, 8), ember.zeros(8, 3, 3, 3)
    raises(RuntimeError, r"conv2d: Given groups=1, weight of size \[8, 3, 3, 3\], expected "
                         r"input\[2, 4, 8, 8\] to have 3 channels, but got 4 channels instead",
           F.conv2d, x, w)
    raises(RuntimeError, r"conv2d: Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, "
                         r"but got input of size: \[2, 3\]", F.conv2d, ember.zeros(2, 3), w)
    raises(RuntimeError, r"conv2d: Calculated padded input size per channel: \(2 x 2\). Kernel "
                         r"size: \(3 x 3\). Kernel size can't be greater than actual input size",
           F.conv2d, ember.zeros(2, 3, 2, 2), w)
    x3 = ember.zeros(2, 3, 8, 8)
    raises(RuntimeError, r"conv2d: non-positive stride", F.conv2d, x3, w, stride=0)
    raises(RuntimeError, r"conv2d: negative padding", F.conv2d, x3, w, padding=-1)
    raises(RuntimeError, r"conv2d: non-positive dilation", F.conv2d, x3, w, dilation=0)
    raises(RuntimeError, r"conv2d: non-positive groups", F.conv2d, x3, w, groups=0)
    raises(RuntimeError, r"conv2d: expected stride to be a single integer value or a list of 2",
           F.conv2d, x3, w, stride=(1, 2, 3))
    raises(TypeError, r"conv2d\(\): argument 'stride' must be an int", F.conv2d, x3, w,
           stride=1.5)
    raises(RuntimeError, r"conv2d: Given groups=2, expected weight to be divisible by 2 at "
                         r"dimension 0", F.conv2d, ember.zeros(2, 4, 8, 8),
           ember.zeros(3, 2, 3, 3), groups=2)
    raises(RuntimeError, r"conv2d: Given weight of size \[8, 3, 3, 3\], expected bias to be "
                         r"1-dimensional with 8 elements, but got bias of size \[4\]",
           F.conv2d, x3, w, ember.zeros(4))
    raises(RuntimeError, r"conv2d: input, weight and bias must have the same dtype.*float64",
           F.conv2d, x3.double(), w)
    raises(RuntimeError, r"conv2d: weight must be 4-D", F.conv2d, x3, ember.zeros(8, 3, 3))
    raises(RuntimeError, r"conv2d: Invalid padding string: 'foo'", F.conv2d, x3, w,
           padding="foo")
    raises(RuntimeError, r"conv2d: padding='same' is not supported for strided", F.conv2d, x3,
           w, padding="same", stride=2)
    raises(RuntimeError, r"conv2d: not implemented for bool", F.conv2d, x3.bool(), w.bool())
    raises(TypeError, r"conv2d\(\): argument 'input' \(position 1\) must be Tensor, not list",
           F.conv2d, [1.0], w)
    raises(TypeError, r"conv2d\(\): argument 'groups' must be int", F.conv2d, x3, w,
           groups=1.0)
    wt = ember.zeros(3, 2, 3, 3)
    raises(RuntimeError, r"conv_transpose2d: output padding must be smaller than either stride "
                         r"or dilation", F.conv_transpose2d, x3, wt, output_padding=2)
    raises(RuntimeError, r"conv_transpose2d: Given transposed=1, weight of size \[3, 2, 3, 3\], "
                         r"expected input\[2, 4, 8, 8\] to have 3 channels, but got 4",
           F.conv_transpose2d, x, wt)
    raises(RuntimeError, r"conv_transpose2d: Given transposed=1, weight of size \[3, 2, 3, 3\], "
                         r"expected bias to be 1-dimensional with 2 elements",
           F.conv_transpose2d, x3, wt, ember.zeros(3))
    raises(RuntimeError, r"conv_transpose2d: the output size \[-2, -2\] would be negative",
           F.conv_transpose2d, ember.zeros(1, 3, 2, 2), wt, padding=3)
    raises(TypeError, r"conv_transpose2d\(\): argument 'padding' must be tuple of ints, not str",
           F.conv_transpose2d, x3, wt, padding="same")
    raises(RuntimeError, r"conv_transpose1d: negative output_padding", F.conv_transpose1d,
           ember.zeros(1, 3, 4), ember.zeros(3, 2, 3), output_padding=-1)


@pytest.mark.gpu
@pytest.mark.parametrize("d,x_shape,w_shape,kw", CONV_CASES[:10:2] + CONV_CASES[12:],
                         ids=_ids(CONV_CASES[:10:2] + CONV_CASES[12:]))
def test_conv_cuda_matches_cpu(d, x_shape, w_shape, kw):
    _cuda_matches_cpu(getattr(_F(ember), _conv(d)), (randn(*x_shape), randn(*w_shape),
                                                      randn(w_shape[0])), kw)


@pytest.mark.gpu
@pytest.mark.parametrize("d,x_shape,w_shape,kw", TRANSPOSE_CASES, ids=_ids(TRANSPOSE_CASES))
def test_conv_transpose_cuda_matches_cpu(d, x_shape, w_shape, kw):
    bias = randn(w_shape[1] * kw.get("groups", 1))
    _cuda_matches_cpu(getattr(_F(ember), f"conv_transpose{d}d"),
                      (randn(*x_shape), randn(*w_shape), bias), kw)


@pytest.mark.gpu
@pytest.mark.parametrize("layout", ["images", "rows", "last"])
def test_conv_layouts_cuda_match_cpu(monkeypatch, layout):
    """Each layout's kernels on CuPy arrays (the whole batch in one chunk)."""
    _force_layout(monkeypatch, layout)
    for x_shape, w_shape, kw in LAYOUT_CASES:
        _cuda_matches_cpu(_F(ember).conv2d, (randn(*x_shape), randn(*w_shape),
                                             randn(w_shape[0])), kw)


@pytest.mark.gpu
def test_fold_and_half_conv_cuda_matches_cpu():
    _cuda_matches_cpu(_F(ember).unfold, (randn(2, 3, 5, 6),), dict(kernel_size=2, padding=1))
    _cuda_matches_cpu(lambda c: _F(ember).fold(c, (5, 6), 2, padding=1), (randn(2, 12, 42),), {})
    _cuda_matches_cpu(_F(ember).conv2d, (randn(2, 3, 6, 6, dtype=np.float16),
                                         randn(4, 3, 3, 3, dtype=np.float16)), dict(padding=1),
                      atol=1e-2)


def _cuda_matches_cpu(fn, arrays, kw, atol=1e-4):
    """Values and gradients of ``fn`` on CUDA equal those on the CPU."""
    results = []
    for device in ("cpu", "cuda"):
        ts = [ember.tensor(a, device=device, requires_grad=True) for a in arrays]
        out = fn(*ts, **kw)
        proj = ember.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)),
                            device=device).to(out.dtype)
        grads = ember.autograd.grad((out * proj).sum(), ts)
        results.append([to_numpy(out)] + [to_numpy(g) for g in grads])
    for c, g in zip(*results):
        np.testing.assert_allclose(g.astype(np.float64), c.astype(np.float64), atol=atol,
                                   rtol=1e-3)


def test_conv_transpose_double_backward_with_output_padding_past_stride():
    """With output_padding >= stride (allowed below the dilation), the gradient of the
    gradient has the transposed convolution input's shape."""
    x, w = randn(1, 2, 3, 3), randn(2, 2, 3, 3)
    fn = lambda lib, x, w: lib.nn.functional.conv_transpose2d(  # noqa: E731
        x, w, stride=1, output_padding=1, dilation=2)
    check(fn, x, w)
    gradcheck_fn(fn, x, w)
