"""Resampling and vision layers against torch: F.interpolate (every mode, size / scale_factor,
align_corners, recompute_scale_factor), Upsample modules, grid_sample (every mode and padding
mode, gradients of input and grid), affine_grid, pixel / channel shuffles, the padding modules;
float64 gradcheck and gradgradcheck, reprs and errors."""
import itertools
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, rand, randint, randn, raises, to_numpy
from nn_mirror import compare, module_pair


def _F(lib):
    return lib.nn.functional


# ---- interpolate -------------------------------------------------------------------------------

RESIZES = [  # (size, scale_factor, align_corners, recompute_scale_factor), per spatial dim count
    ((3,), None, False, None),
    ((11,), None, True, None),
    (None, 1.7, False, None),
    (None, 0.6, True, None),
    (None, 2.0, False, None),
    (None, 2.3, False, True),
    (None, (1.5, 3.1, 0.8), False, None),
    ((1,), None, True, None),
]
MODES = [("nearest", (2, 3, 5, 7)), ("nearest-exact", (2, 3, 5, 7)), ("nearest", (1, 2, 3, 4, 5)),
         ("bilinear", (2, 3, 5, 7)), ("bicubic", (2, 3, 5, 7)), ("linear", (2, 3, 7)),
         ("trilinear", (1, 2, 3, 4, 5)), ("area", (2, 3, 5, 7)), ("area", (2, 3, 7))]


@pytest.mark.parametrize("mode,shape", MODES, ids=[f"{m}-{len(s) - 2}d" for m, s in MODES])
def test_interpolate(mode, shape):
    d = len(shape) - 2
    x = randn(*shape)
    for size, factor, align, recompute in RESIZES:
        kw = dict(size=None if size is None else size * d,
                  scale_factor=factor[:d] if isinstance(factor, tuple) else factor, mode=mode,
                  recompute_scale_factor=recompute)
        if mode in ("linear", "bilinear", "bicubic", "trilinear"):
            kw["align_corners"] = align
        check(lambda lib, x: _F(lib).interpolate(x, **kw), x, atol=1e-5, rtol=1e-5)


def test_interpolate_dtypes_and_layouts():
    check(lambda lib, x: _F(lib).interpolate(x, scale_factor=1.5, mode="bilinear"),
          randn(1, 2, 4, 4, dtype=np.float64))
    check(lambda lib, x: _F(lib).interpolate(x, size=(5, 3), mode="bicubic", align_corners=True),
          randn(1, 2, 4, 4, dtype=np.float16), atol=1e-2, rtol=1e-2)
    check(lambda lib, x: _F(lib).interpolate(x.transpose(2, 3), scale_factor=2),
          randn(2, 2, 3, 4))
    check(lambda lib, x: _F(lib).interpolate(x, size=4, mode="linear"), randn(0, 2, 3))
    check(lambda lib, x: _F(lib).interpolate(x, size=(4, 5)), randn(1, 2, 4, 5))  # same size


# torch's gradients of a resampled kept size are those of a copy, not of its forward (they fail
# gradcheck): there values are compared with torch and ember's gradients are gradchecked
def _torch_grad_is_a_copy(mode, d):
    return mode == "bicubic" or mode == "nearest" and d != 2


@pytest.mark.parametrize("mode,shape", MODES, ids=[f"{m}-{len(s) - 2}d" for m, s in MODES])
def test_interpolate_kept_sizes(mode, shape):
    """scale_factor 1.1 keeps every size: the linear modes copy, bicubic and nearest-exact
    resample by 1 / 1.1, nearest copies in torch's 2-D kernel only."""
    kw = dict(scale_factor=1.1, mode=mode)
    if mode in ("linear", "bilinear", "bicubic", "trilinear"):
        kw["align_corners"] = False
    wrong_grad = _torch_grad_is_a_copy(mode, len(shape) - 2)
    check(lambda lib, x: _F(lib).interpolate(x, **kw), randn(*shape), grad=not wrong_grad,
          atol=1e-5, rtol=1e-5)
    if wrong_grad:
        gradcheck_fn(lambda lib, x: _F(lib).interpolate(x, **kw), randn(1, 1, *shape[2:]))


def test_nearest_kernels_as_torch():
    """torch's 2-D nearest kernel for outputs with height + width <= 128 copies a kept dim and
    halves the index of a doubled one; its other nearest kernels compute floor(i * scale)."""
    check(lambda lib, x: _F(lib).interpolate(x, scale_factor=2.01), randn(1, 2, 30, 30))
    doubled = ((1, 1, 1, 65), (1.0, 2.01))  # to (1, 130): computed, not halved
    for shape, factor in (((1, 1, 70, 70), 1.01), doubled, ((1, 2, 5), 2.1),
                          ((1, 1, 3, 5, 4), (1.1, 2.1, 1.0))):
        check(lambda lib, x: _F(lib).interpolate(x, scale_factor=factor), randn(*shape),
              grad=False)
    gradcheck_fn(lambda lib, x: _F(lib).interpolate(x, scale_factor=doubled[1]),
                 randn(*doubled[0]))


# torch's uint8 kernel for more than 4 channels resamples outputs one pixel wide wrongly when the
# height changes too (every row gets the first row's weights): those sizes are left out
UINT8_RESIZES = [(None, 1.7, False), (None, (0.6, 2.5), True), (None, 1.1, False),
                 ((7, 3), None, True), ((2, 9), None, False), ((1, 3), None, False)]


@pytest.mark.parametrize("channels", [3, 6])  # torch's vectorized uint8 kernel: up to 4
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
def test_interpolate_uint8(mode, channels):
    """Exactly torch's values: fixed-point weights, rounding and clamping to [0, 255] (the
    checkerboard overshoots in bicubic mode) after each dim."""
    x = randint(0, 256, (2, channels, 5, 4), dtype=np.uint8)
    x[1] = np.indices((5, 4)).sum(0) % 2 * 255
    for size, factor, align in UINT8_RESIZES:
        kw = dict(size=size, scale_factor=factor, mode=mode)
        if mode in ("bilinear", "bicubic"):
            kw["align_corners"] = align
        check(lambda lib, x: _F(lib).interpolate(x, **kw), x)
    if mode.startswith("nearest"):
        for shape in ((2, channels, 5), (1, channels, 3, 4, 5)):
            check(lambda lib, x: _F(lib).interpolate(x, scale_factor=1.6, mode=mode),
                  randint(0, 256, shape, dtype=np.uint8))


@pytest.mark.gpu
@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_interpolate_uint8_on_cuda(mode):
    kw = {} if mode == "nearest" else dict(align_corners=False)
    check(lambda lib, x: _F(lib).interpolate(x, scale_factor=(1.7, 0.6), mode=mode, **kw),
          randint(0, 256, (2, 3, 5, 4), dtype=np.uint8), device="cuda")


def test_interpolate_gradcheck():
    for mode, shape in (("nearest", (1, 2, 3, 4)), ("bilinear", (1, 2, 3, 4)),
                        ("bicubic", (1, 1, 3, 4)), ("trilinear", (1, 1, 2, 3, 2)),
                        ("area", (1, 2, 5, 4)), ("nearest-exact", (1, 2, 5))):
        kw = {} if mode in ("nearest", "area", "nearest-exact") else dict(align_corners=False)
        gradcheck_fn(lambda lib, x: _F(lib).interpolate(x, scale_factor=1.6, mode=mode, **kw),
                     randn(*shape))


@pytest.mark.parametrize("name,args,kw", [
    ("Upsample", (), dict(scale_factor=2)),
    ("Upsample", (), dict(size=(5, 3), mode="bilinear")),
    ("Upsample", (), dict(scale_factor=(1.5, 2.5), mode="bicubic", align_corners=True)),
    ("Upsample", (), dict(scale_factor=1.7, mode="nearest", recompute_scale_factor=True)),
    ("UpsamplingNearest2d", (), dict(scale_factor=3)),
    ("UpsamplingBilinear2d", ((7, 5),), {}),
])
def test_upsample_modules(name, args, kw):
    e, t = module_pair(name, *args, **kw)
    assert repr(e) == repr(t)
    compare(e, t, randn(2, 3, 4, 4), atol=1e-5, rtol=1e-5)


def test_deprecated_upsample_functions():
    x = randn(1, 2, 3, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check(lambda lib, x: _F(lib).upsample(x, scale_factor=2, mode="bilinear"), x)
        check(lambda lib, x: _F(lib).upsample_nearest(x, size=5), x)
        check(lambda lib, x: _F(lib).upsample_bilinear(x, scale_factor=2), x)


def test_interpolate_errors():
    F, x = _F(ember), ember.zeros(1, 2, 4, 4)
    with pytest.raises(ValueError, match="align_corners option can only be set with the "
                                         "interpolating modes"):
        F.interpolate(x, size=2, align_corners=True)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="Input and output must have the same number of spatial "
                                         "dimensions"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(ValueError, match="recompute_scale_factor is not meaningful"):
        F.interpolate(x, size=2, recompute_scale_factor=True)
    raises(NotImplementedError, r"Got 4D input, but linear mode needs 3D input", F.interpolate,
           x, size=2, mode="linear")
    raises(NotImplementedError, r"Only 3D, 4D and 5D input Tensors supported \(got 2D\)",
           F.interpolate, ember.zeros(2, 3), size=2)
    raises(RuntimeError, r"interpolate: Input and output sizes should be greater than 0",
           F.interpolate, x, scale_factor=0.1, mode="bilinear")
    raises(NotImplementedError, r"interpolate: mode 'bilinear' is not implemented for int64",
           F.interpolate, ember.zeros(1, 1, 2, 2, dtype=ember.int64), size=3, mode="bilinear")
    for mode, shape in (("linear", (1, 1, 2)), ("trilinear", (1, 1, 2, 2, 2))):
        with pytest.raises(NotImplementedError):  # as torch's uint8 kernels
            _F(torch).interpolate(torch.zeros(shape, dtype=torch.uint8), size=3, mode=mode)
        raises(NotImplementedError, rf"interpolate: mode '{mode}' is not implemented for uint8",
               F.interpolate, ember.zeros(*shape, dtype=ember.uint8), size=3, mode=mode)
    raises(NotImplementedError, r"interpolate: antialias=True is not supported",
           F.interpolate, x, size=3, mode="bilinear", antialias=True)


# ---- grid_sample / affine_grid -----------------------------------------------------------------

GRID_CASES = [(mode, padding, align) for mode, padding, align in itertools.product(
    ("bilinear", "nearest", "bicubic"), ("zeros", "border", "reflection"), (False, True))]


@pytest.mark.parametrize("mode,padding_mode,align_corners", GRID_CASES)
def test_grid_sample(mode, padding_mode, align_corners):
    kw = dict(mode=mode, padding_mode=padding_mode, align_corners=align_corners)
    shapes = [((2, 3, 5, 6), (2, 4, 3, 2))]
    if mode != "bicubic":
        shapes.append(((1, 2, 3, 4, 5), (1, 2, 3, 4, 3)))
    for x_shape, grid_shape in shapes:
        grid = rand(*grid_shape, low=-1.3, high=1.3)  # some points outside
        check(lambda lib, x, g: _F(lib).grid_sample(x, g, **kw), randn(*x_shape), grid,
              atol=1e-4, rtol=1e-4)


def test_grid_sample_gradcheck():
    for mode, padding, align in (("bilinear", "zeros", False), ("bilinear", "reflection", True),
                                 ("bicubic", "border", True), ("bilinear", "border", False)):
        gradcheck_fn(lambda lib, x, g: _F(lib).grid_sample(x, g, mode=mode, padding_mode=padding,
                                                          align_corners=align),
                     randn(1, 2, 3, 4), rand(1, 2, 3, 2, low=-1.2, high=1.2))
    gradcheck_fn(lambda lib, x, g: _F(lib).grid_sample(x, g, align_corners=False),
                 randn(1, 1, 2, 3, 2), rand(1, 2, 2, 1, 3, low=-1.1, high=1.1))


@pytest.mark.parametrize("size,align_corners", [((2, 3, 4, 5), False), ((2, 3, 4, 5), True),
                                                ((2, 1, 3, 4, 2), False), ((2, 1, 1, 3), True)])
def test_affine_grid(size, align_corners):
    theta = randn(2, 2, 3) if len(size) == 4 else randn(2, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # unit-size grids warn, in both libraries
        check(lambda lib, t: _F(lib).affine_grid(t, size, align_corners=align_corners), theta)
        gradcheck_fn(lambda lib, t: _F(lib).affine_grid(t, size, align_corners=align_corners),
                     theta)


def test_affine_grid_then_grid_sample():
    def warp(lib, x, theta):
        grid = _F(lib).affine_grid(theta, (2, 3, 6, 5), align_corners=False)
        return _F(lib).grid_sample(x, grid, align_corners=False)
    check(warp, randn(2, 3, 4, 4), np.array([[[0.9, -0.2, 0.1], [0.3, 1.1, -0.2]]] * 2,
                                             np.float32), atol=1e-4, rtol=1e-4)


def test_grid_sample_and_affine_grid_errors():
    F = _F(ember)
    x = ember.zeros(1, 2, 5, 5)
    raises(RuntimeError, r"grid_sampler\(\): expected grid and input to have same batch size",
           F.grid_sample, x, ember.zeros(2, 3, 3, 2), align_corners=False)
    raises(RuntimeError, r"grid_sampler\(\): expected grid to have size 2 in last dimension",
           F.grid_sample, x, ember.zeros(1, 3, 3, 3), align_corners=False)
    raises(RuntimeError, r"grid_sampler\(\): bicubic interpolation only supports 4D input",
           F.grid_sample, ember.zeros(1, 2, 3, 3, 3), ember.zeros(1, 2, 2, 2, 3),
           mode="bicubic", align_corners=False)
    raises(RuntimeError, r"grid_sampler\(\): expected input and grid to have the same dtype",
           F.grid_sample, x, ember.zeros(1, 3, 3, 2, dtype=ember.float64), align_corners=False)
    with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or "
                                         "'bicubic', but got: 'area'"):
        F.grid_sample(x, ember.zeros(1, 3, 3, 2), mode="area")
    with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or "
                                         "'reflection'"):
        F.grid_sample(x, ember.zeros(1, 3, 3, 2), padding_mode="wrap")
    with pytest.warns(UserWarning, match="Default grid_sample and affine_grid behavior"):
        F.grid_sample(x, ember.zeros(1, 3, 3, 2))
    with pytest.raises(ValueError, match=r"Expected a batch of 2D affine matrices of shape Nx2x3"):
        F.affine_grid(ember.zeros(2, 3, 3), (2, 3, 4, 5), align_corners=False)
    with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
        F.affine_grid(ember.zeros(2, 2, 3), (2, 3, 4), align_corners=False)
    with pytest.raises(ValueError, match=r"Expected non-zero, positive output size"):
        F.affine_grid(ember.zeros(2, 2, 3), (2, 3, 0, 5), align_corners=False)
    with pytest.raises(ValueError, match="Expected theta to have floating point type"):
        F.affine_grid(ember.zeros(2, 2, 3, dtype=ember.int64), (2, 3, 4, 5), align_corners=False)


# ---- shuffles ----------------------------------------------------------------------------------

def test_pixel_and_channel_shuffles():
    check(lambda lib, x: _F(lib).pixel_shuffle(x, 2), randn(2, 8, 3, 4))
    check(lambda lib, x: _F(lib).pixel_shuffle(x, 3), randn(3, 2, 9, 2, 2))
    check(lambda lib, x: _F(lib).pixel_unshuffle(x, 2), randn(2, 3, 4, 6))
    check(lambda lib, x: _F(lib).pixel_unshuffle(x, 2), randn(5, 4, 2))
    check(lambda lib, x: _F(lib).channel_shuffle(x, 3), randn(2, 6, 3, 2))
    check(lambda lib, x: _F(lib).channel_shuffle(x, 2), randn(2, 4, 5))
    for name, arg in (("PixelShuffle", 2), ("PixelUnshuffle", 2), ("ChannelShuffle", 2)):
        e, t = module_pair(name, arg)
        assert repr(e) == repr(t)
        compare(e, t, randn(2, 4, 4, 6))
    gradcheck_fn(lambda lib, x: _F(lib).pixel_shuffle(x, 2), randn(1, 4, 2, 3))


def test_shuffle_errors():
    F = _F(ember)
    raises(RuntimeError, r"pixel_shuffle: pixel_shuffle expects input to have at least 3 "
                         r"dimensions, but got input with 2 dimension\(s\)", F.pixel_shuffle,
           ember.zeros(2, 3), 2)
    raises(RuntimeError, r"pixel_shuffle: .*input.size\(-3\)=5 is not divisible by 4",
           F.pixel_shuffle, ember.zeros(5, 3, 3), 2)
    raises(RuntimeError, r"pixel_shuffle: pixel_shuffle expects a positive upscale_factor, but "
                         r"got 0", F.pixel_shuffle, ember.zeros(4, 3, 3), 0)
    raises(RuntimeError, r"pixel_unshuffle: pixel_unshuffle expects height to be divisible by "
                         r"downscale_factor, but input.size\(-2\)=3 is not divisible by 2",
           F.pixel_unshuffle, ember.zeros(4, 3, 4), 2)
    raises(RuntimeError, r"channel_shuffle: Number of channels must be divisible by groups. Got "
                         r"5 channels and 2 groups.", F.channel_shuffle, ember.zeros(2, 5, 3), 2)
    raises(RuntimeError, r"channel_shuffle: channel_shuffle expects input with > 2 dims",
           F.channel_shuffle, ember.zeros(5, 3), 5)


# ---- padding modules ---------------------------------------------------------------------------

PAD_CASES = [
    ("ZeroPad1d", (2,), (2, 3, 4)), ("ZeroPad2d", ((1, 0, 2, -1),), (2, 3, 4)),
    ("ZeroPad3d", (1,), (1, 2, 2, 3, 2)),
    ("ConstantPad1d", ((1, 2), 3.5), (3, 4)), ("ConstantPad2d", (1, -1.0), (1, 2, 3, 3)),
    ("ConstantPad3d", ((1, 0, 0, 1, 2, 0), 0.5), (2, 2, 2, 2)),
    ("ReflectionPad1d", ((2, 1),), (2, 3, 4)), ("ReflectionPad2d", (2,), (3, 4, 4)),
    ("ReflectionPad3d", (1,), (1, 2, 2, 3, 3)),
    ("ReplicationPad1d", (3,), (2, 3, 4)), ("ReplicationPad2d", ((1, 2, 0, 3),), (1, 2, 3, 3)),
    ("ReplicationPad3d", (1,), (2, 2, 3, 2)),
    ("CircularPad1d", ((1, 2),), (2, 3, 4)), ("CircularPad2d", (1,), (1, 2, 3, 3)),
    ("CircularPad3d", ((1, 0, 1, 0, 0, 1),), (1, 1, 2, 3, 2)),
]


@pytest.mark.parametrize("name,args,shape", PAD_CASES, ids=[c[0] for c in PAD_CASES])
def test_padding_modules(name, args, shape):
    e, t = module_pair(name, *args)
    assert repr(e) == repr(t)
    compare(e, t, randn(*shape))


def test_padding_functional_and_errors():
    check(lambda lib, x: _F(lib).pad(x, (1, 2, 0, 1), mode="reflect"), randn(2, 3, 4))
    gradcheck_fn(lambda lib, x: _F(lib).pad(x, (1, 1, 2, 0), mode="replicate"), randn(1, 2, 3))
    with pytest.raises(ValueError, match=r"expected 3D or 4D input \(got 2D input\)"):
        ember.nn.CircularPad2d(1)(ember.zeros(3, 3))


# ---- CUDA --------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("fn", [
    lambda F, x, g: F.interpolate(x, scale_factor=1.7, mode="bilinear"),
    lambda F, x, g: F.interpolate(x, size=(3, 9), mode="bicubic", align_corners=True),
    lambda F, x, g: F.interpolate(x, scale_factor=2.5, mode="nearest"),
    lambda F, x, g: F.interpolate(x, size=(3, 4), mode="area"),
    lambda F, x, g: F.grid_sample(x, g, align_corners=False),
    lambda F, x, g: F.grid_sample(x, g, mode="bicubic", padding_mode="reflection",
                                  align_corners=True),
    lambda F, x, g: F.grid_sample(x, g, mode="nearest", padding_mode="border",
                                  align_corners=False),
])
def test_resampling_cuda_matches_cpu(fn):
    x, g = randn(2, 3, 5, 6), rand(2, 4, 3, 2, low=-1.2, high=1.2)
    results = []
    for device in ("cpu", "cuda"):
        xt = ember.tensor(x, device=device, requires_grad=True)
        gt = ember.tensor(g, device=device, requires_grad=True)
        out = fn(ember.nn.functional, xt, gt)
        grads = ember.autograd.grad((out * out).sum(), (xt, gt), allow_unused=True)
        results.append([to_numpy(out)] + [None if v is None else to_numpy(v) for v in grads])
    for c, gpu in zip(*results):
        if c is None:
            assert gpu is None
        else:
            np.testing.assert_allclose(gpu, c, atol=1e-4, rtol=1e-4)
