"""Pooling (max, average, adaptive, power-average, max unpooling) against torch: values,
indices and gradients over a table of geometries, float64 gradcheck and gradgradcheck, modules
and their reprs, PyTorch's choice of index for ties, NaN and -inf, and errors."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, randn, raises, to_numpy
from nn_mirror import compare, module_pair


def _F(lib):
    return lib.nn.functional


# (d, input shape, kwargs)
MAX_CASES = [
    (1, (2, 3, 9), dict(kernel_size=3)),
    (1, (3, 10), dict(kernel_size=4, stride=2, padding=2, dilation=1, ceil_mode=True)),
    (1, (2, 2, 11), dict(kernel_size=3, stride=1, padding=1, dilation=3)),
    (2, (2, 3, 8, 8), dict(kernel_size=2)),
    (2, (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1)),
    (2, (2, 2, 7, 8), dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), ceil_mode=True)),
    (2, (3, 9, 9), dict(kernel_size=3, dilation=2, padding=1)),
    (2, (1, 2, 6, 6), dict(kernel_size=5, stride=1, padding=2)),  # 25 offsets: argmax path
    (2, (0, 2, 4, 4), dict(kernel_size=2)),
    (3, (1, 2, 5, 6, 5), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0),
                              ceil_mode=True)),
    (3, (2, 4, 4, 4), dict(kernel_size=2, dilation=(1, 2, 1))),
]


def _ids(cases):
    return [f"{c[0]}d-{c[1]}-{c[2]}" for c in cases]


@pytest.mark.parametrize("d,shape,kw", MAX_CASES, ids=_ids(MAX_CASES))
def test_max_pool(d, shape, kw):
    x = randn(*shape)
    check(lambda lib, x: getattr(_F(lib), f"max_pool{d}d")(x, **kw), x)
    check(lambda lib, x: getattr(_F(lib), f"max_pool{d}d")(x, return_indices=True, **kw), x)
    check(lambda lib, x: getattr(_F(lib), f"max_pool{d}d_with_indices")(x, **kw), x)


def test_max_pool_picks_indices_as_torch():
    """Ties go to the first maximum, NaN beats everything and the last NaN wins, padding
    is never picked (even when everything is -inf), integers work."""
    nan, inf = float("nan"), float("inf")
    x = np.array([[[[1, nan, 3, nan, 2, 2], [nan, 2, 5, 1, 2, 2]]]], np.float32)
    for kw in (dict(kernel_size=2), dict(kernel_size=(2, 3), stride=1, padding=(1, 1))):
        check(lambda lib, x: _F(lib).max_pool2d(x, return_indices=True, **kw), x, grad=False)
    ties = np.ones((1, 1, 4, 6), np.float32)
    check(lambda lib, x: _F(lib).max_pool2d(x, 3, 1, 1, return_indices=True), ties)
    lows = np.full((1, 2, 3, 4), -inf, np.float32)
    check(lambda lib, x: _F(lib).max_pool2d(x, 2, padding=1, return_indices=True), lows,
          grad=False)
    ints = np.arange(2 * 25).reshape(1, 2, 5, 5) % 7 - 9
    check(lambda lib, x: _F(lib).max_pool2d(x, 3, 2, 1, return_indices=True, ceil_mode=True),
          ints)
    check(lambda lib, x: _F(lib).max_pool2d(x, 5, 1, 2, return_indices=True), ints)
    check(lambda lib, x: _F(lib).adaptive_max_pool2d(x, (2, 3), return_indices=True),
          np.concatenate([x, ties[:, :, :2, :6]], 1), grad=False)


# (d, input shape, kwargs)
AVG_CASES = [
    (1, (2, 3, 9), dict(kernel_size=3)),
    (1, (3, 10), dict(kernel_size=4, stride=3, padding=2, ceil_mode=True,
                      count_include_pad=False)),
    (2, (2, 3, 8, 8), dict(kernel_size=2)),
    (2, (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (2, (2, 2, 7, 8), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 1),
                           count_include_pad=False, ceil_mode=True)),
    (2, (3, 6, 6), dict(kernel_size=3, stride=1, padding=1, divisor_override=4)),
    (2, (1, 2, 5, 5), dict(kernel_size=5)),  # one window: a global average
    (3, (1, 2, 5, 6, 5), dict(kernel_size=(2, 3, 2), stride=(1, 2, 2), padding=(1, 1, 0),
                              ceil_mode=True, count_include_pad=False)),
    (3, (2, 4, 4, 4), dict(kernel_size=2, divisor_override=3)),
]


@pytest.mark.parametrize("d,shape,kw", AVG_CASES, ids=_ids(AVG_CASES))
def test_avg_pool(d, shape, kw):
    check(lambda lib, x: getattr(_F(lib), f"avg_pool{d}d")(x, **kw), randn(*shape))


def test_avg_pool_dtypes():
    ints = np.arange(2 * 49).reshape(1, 2, 7, 7) % 11 - 5
    check(lambda lib, x: _F(lib).avg_pool2d(x, 3, 2, 1, ceil_mode=True), ints)
    check(lambda lib, x: _F(lib).avg_pool2d(x, 2), randn(2, 3, 4, 4, dtype=np.float64))
    check(lambda lib, x: _F(lib).avg_pool2d(x, 3, 1, 1), randn(1, 2, 5, 5, dtype=np.float16),
          atol=1e-3, rtol=1e-3)
    check(lambda lib, x: _F(lib).max_pool2d(x, 3, 1, 1), randn(1, 2, 5, 5, dtype=np.float16))


ADAPTIVE_CASES = [
    (1, (2, 3, 9), 4),
    (1, (3, 7), 7),
    (2, (2, 3, 7, 9), (3, 4)),
    (2, (2, 3, 6, 9), (3, None)),
    (2, (2, 3, 8, 8), 1),
    (2, (3, 5, 5), (7, 2)),  # more outputs than inputs
    (3, (1, 2, 5, 4, 3), (2, 3, None)),
    (3, (2, 4, 4, 4), 2),
]


@pytest.mark.parametrize("d,shape,size", ADAPTIVE_CASES,
                         ids=[f"{c[0]}d-{c[1]}-{c[2]}" for c in ADAPTIVE_CASES])
def test_adaptive_pool(d, shape, size):
    x = randn(*shape)
    check(lambda lib, x: getattr(_F(lib), f"adaptive_avg_pool{d}d")(x, size), x)
    check(lambda lib, x: getattr(_F(lib), f"adaptive_max_pool{d}d")(x, size), x)
    check(lambda lib, x: getattr(_F(lib), f"adaptive_max_pool{d}d")(x, size,
                                                                  return_indices=True), x)


@pytest.mark.parametrize("kind", ["avg", "max"])
@pytest.mark.parametrize("d", [2, 3])
def test_adaptive_pool_sequence_output_size_needs_more_dims(kind, d):
    """A sequence output_size needs an input with more dims (ValueError, as torch's Python
    check); an int output_size gets the RuntimeError about the dims expected."""
    for lib in (ember, torch):
        fn = getattr(_F(lib), f"adaptive_{kind}_pool{d}d")
        for ndim in range(d + 1):
            with pytest.raises(ValueError, match=f"Input dimension should be at least {d + 1}"):
                fn(lib.ones((2,) * ndim), (2,) * d)
        with pytest.raises(RuntimeError, match=f"Expected {d + 1}D or {d + 2}D tensor"):
            fn(lib.ones((2,) * d), 2)


def test_adaptive_avg_pool_refuses_integers():
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError, match="not implemented for"):
            _F(lib).adaptive_avg_pool2d(lib.ones(1, 2, 4, 4, dtype=lib.int64), 3)


def test_adaptive_pool_empty_output():
    check(lambda lib, x: _F(lib).adaptive_avg_pool2d(x, 0), randn(1, 2, 5, 5), grad=False)
    check(lambda lib, x: _F(lib).adaptive_avg_pool2d(x, 3), randn(0, 2, 5, 5))


@pytest.mark.parametrize("d,norm,kw", [
    (1, 2, dict(kernel_size=3)),
    (1, 1.5, dict(kernel_size=2, stride=1, ceil_mode=True)),
    (2, 2, dict(kernel_size=2)),
    (2, 3, dict(kernel_size=(3, 2), stride=(2, 1), ceil_mode=True)),
    (2, float("inf"), dict(kernel_size=2)),
    (3, 2, dict(kernel_size=2, stride=1)),
])
def test_lp_pool(d, norm, kw):
    shape = {1: (2, 3, 9), 2: (2, 3, 7, 6), 3: (1, 2, 4, 5, 4)}[d]
    x = np.abs(randn(*shape)) + 0.1
    check(lambda lib, x: getattr(_F(lib), f"lp_pool{d}d")(x, norm, **kw), x,
          atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("d,shape,kw,output_size", [
    (1, (2, 3, 8), dict(kernel_size=2), None),
    (2, (2, 3, 7, 7), dict(kernel_size=3, stride=2, padding=1), None),
    (2, (2, 3, 6, 6), dict(kernel_size=2), (7, 7)),
    (2, (3, 6, 6), dict(kernel_size=2), (1, 3, 6, 6)),
    (3, (1, 2, 4, 4, 4), dict(kernel_size=2), None),
])
def test_max_unpool(d, shape, kw, output_size):
    pooled, indices = getattr(_F(torch), f"max_pool{d}d")(torch.from_numpy(randn(*shape)),
                                                          return_indices=True, **kw)
    check(lambda lib, x, i: getattr(_F(lib), f"max_unpool{d}d")(x, i, output_size=output_size,
                                                                **kw),
          to_numpy(pooled), to_numpy(indices))


def test_pool_gradcheck():
    gradcheck_fn(lambda lib, x: _F(lib).max_pool2d(x, 3, 2, 1, ceil_mode=True), randn(1, 2, 5, 6))
    gradcheck_fn(lambda lib, x: _F(lib).max_pool1d(x, 2, 1, dilation=2), randn(2, 1, 6))
    gradcheck_fn(lambda lib, x: _F(lib).avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                  count_include_pad=False), randn(1, 2, 5, 6))
    gradcheck_fn(lambda lib, x: _F(lib).avg_pool3d(x, 2, 1, divisor_override=3),
                 randn(1, 1, 3, 3, 2))
    gradcheck_fn(lambda lib, x: _F(lib).adaptive_avg_pool2d(x, (3, 4)), randn(1, 2, 5, 6))
    gradcheck_fn(lambda lib, x: _F(lib).adaptive_avg_pool1d(x, 1), randn(2, 2, 5))
    gradcheck_fn(lambda lib, x: _F(lib).adaptive_max_pool2d(x, (3, 4)), randn(1, 2, 5, 6))
    gradcheck_fn(lambda lib, x: _F(lib).lp_pool2d(x, 2, 2), randn(1, 2, 4, 4))
    x, i = _F(torch).max_pool2d(torch.from_numpy(randn(1, 2, 4, 4)), 2, return_indices=True)
    gradcheck_fn(lambda lib, x, i: _F(lib).max_unpool2d(x, i, 2), to_numpy(x), to_numpy(i))


# ---- modules -----------------------------------------------------------------------------------

MODULE_CASES = [
    ("MaxPool1d", (3,), dict(stride=2, padding=1, ceil_mode=True), (2, 3, 8)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 6)),
    ("MaxPool2d", ((3, 2),), dict(stride=1, padding=(1, 0), dilation=2), (3, 7, 6)),
    ("MaxPool3d", (2,), dict(stride=1), (1, 2, 3, 4, 3)),
    ("AvgPool1d", (3,), dict(stride=2, padding=1, count_include_pad=False), (2, 3, 8)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1, ceil_mode=True, divisor_override=5),
     (2, 3, 7, 7)),
    ("AvgPool3d", ((2, 1, 2),), {}, (1, 2, 4, 3, 4)),
    ("AdaptiveAvgPool1d", (3,), {}, (2, 3, 7)),
    ("AdaptiveAvgPool2d", ((2, None),), {}, (2, 3, 5, 4)),
    ("AdaptiveAvgPool3d", (2,), {}, (1, 2, 5, 4, 3)),
    ("AdaptiveMaxPool1d", (3,), {}, (2, 3, 7)),
    ("AdaptiveMaxPool2d", ((2, 3),), {}, (3, 5, 7)),
    ("AdaptiveMaxPool3d", (2,), {}, (1, 2, 5, 4, 3)),
    ("LPPool1d", (2, 3), dict(stride=2), (2, 3, 8)),
    ("LPPool2d", (1.5, 2), dict(ceil_mode=True), (2, 3, 5, 5)),
    ("LPPool3d", (2, 2), {}, (1, 2, 4, 4, 4)),
]


@pytest.mark.parametrize("name,args,kw,shape", MODULE_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in MODULE_CASES])
def test_pool_modules(name, args, kw, shape):
    e, t = module_pair(name, *args, **kw)
    assert repr(e) == repr(t)
    x = randn(*shape)
    if name.startswith("LP"):
        x = np.abs(x) + 0.1
    compare(e, t, x, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name,d", [("MaxPool1d", 1), ("MaxPool2d", 2), ("MaxPool3d", 3),
                                    ("AdaptiveMaxPool2d", 2)])
def test_pool_modules_return_indices(name, d):
    arg = 2 if name.startswith("Max") else 3
    e, t = module_pair(name, arg, return_indices=True)
    compare(e, t, randn(*(2, 2) + (6,) * d))


@pytest.mark.parametrize("d", [1, 2, 3])
def test_max_unpool_modules(d):
    shape = (1, 2) + (4,) * d
    pool_e, pool_t = module_pair(f"MaxPool{d}d", 2, return_indices=True)
    unpool_e, unpool_t = module_pair(f"MaxUnpool{d}d", 2)
    assert repr(unpool_e) == repr(unpool_t)
    modules = {ember: (pool_e, unpool_e), torch: (pool_t, unpool_t)}

    def pool_unpool(lib, x):
        pool, unpool = modules[lib]
        return unpool(*pool(x))
    check(pool_unpool, randn(*shape))


def test_pool_errors():
    F = _F(ember)
    x = ember.zeros(1, 2, 5, 5)
    raises(RuntimeError, r"max_pool2d: pad should be at most half of kernel size, but got pad=2 "
                         r"and kernel_size=3", F.max_pool2d, x, 3, padding=2, dilation=2)
    raises(RuntimeError, r"avg_pool2d: pad should be at most half", F.avg_pool2d, x, 2,
           padding=2)
    raises(RuntimeError, r"max_pool2d: stride should be greater than zero", F.max_pool2d, x, 2,
           stride=0)
    raises(RuntimeError, r"max_pool2d: kernel_size should be greater than zero", F.max_pool2d,
           x, 0)
    raises(RuntimeError, r"max_pool2d: dilation should be greater than zero", F.max_pool2d, x,
           2, dilation=0)
    raises(RuntimeError, r"max_pool2d: Given input size: \(2x5x5\). Calculated output size: "
                         r"\(2x0x0\). Output size is too small", F.max_pool2d, x, 6)
    raises(RuntimeError, r"max_pool2d: Expected 3D or 4D \(batch mode\) tensor",
           F.max_pool2d, ember.zeros(2, 5), 2)
    raises(RuntimeError, r"max_pool2d: Expected 3D or 4D .* but got: float32\[2, 0, 3, 3\]",
           F.max_pool2d, ember.zeros(2, 0, 3, 3), 2)
    raises(RuntimeError, r"max_pool2d: expected kernel_size to be a single integer value or a "
                         r"list of 2 values", F.max_pool2d, x, (2, 2, 2))
    raises(RuntimeError, r"avg_pool2d: divisor must be not zero", F.avg_pool2d, x, 2,
           divisor_override=0)
    raises(RuntimeError, r"max_pool2d: not implemented for complex64",
           F.max_pool2d, ember.zeros(1, 1, 2, 2, dtype=ember.complex64), 2)
    raises(RuntimeError, r"adaptive_avg_pool2d: elements of output_size must be greater than or "
                         r"equal to 0", F.adaptive_avg_pool2d, x, -1)
    raises(RuntimeError, r"adaptive_max_pool2d: Expected 3D or 4D tensor", F.adaptive_max_pool2d,
           ember.zeros(5), 2)
    y, i = F.max_pool2d(ember.zeros(1, 2, 5, 5), 2, return_indices=True)
    raises(RuntimeError, r"max_unpool2d: Found an invalid max index: 100 \(output volumes are of "
                         r"size 4x4\)", F.max_unpool2d, y, ember.full((1, 2, 2, 2), 100), 2)
    raises(RuntimeError, r"max_unpool2d: Expected shape of indices to be same as that of the "
                         r"input", F.max_unpool2d, y, i[:, :1], 2)
    with pytest.raises(ValueError, match=r'invalid output_size "\[7, 7\]" \(dim 0 must be '
                                         r'between 2 and 6\)'):
        F.max_unpool2d(y, i, 2, output_size=(7, 7))


@pytest.mark.gpu
@pytest.mark.parametrize("fn,shape,kw", [
    ("max_pool2d", (2, 3, 8, 8), dict(kernel_size=2)),
    ("max_pool2d", (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ("max_pool3d", (1, 2, 4, 5, 4), dict(kernel_size=2, stride=1, padding=1)),
    ("avg_pool2d", (2, 3, 9, 7), dict(kernel_size=3, stride=2, padding=1,
                                      count_include_pad=False)),
    ("adaptive_avg_pool2d", (2, 3, 7, 9), dict(output_size=(3, 4))),
    ("adaptive_max_pool2d", (2, 3, 7, 9), dict(output_size=(3, 4))),
    ("lp_pool2d", (2, 3, 6, 6), dict(norm_type=2, kernel_size=2)),
])
def test_pool_cuda_matches_cpu(fn, shape, kw):
    x = np.abs(randn(*shape)) + 0.1
    results = []
    for device in ("cpu", "cuda"):
        t = ember.tensor(x, device=device, requires_grad=True)
        out = getattr(_F(ember), fn)(t, **kw)
        (g,) = ember.autograd.grad((out * out).sum(), t)
        results.append((to_numpy(out), to_numpy(g)))
    for c, g in zip(*results):
        np.testing.assert_allclose(g, c, atol=1e-5, rtol=1e-5)
    y_c, i_c = _F(ember).max_pool2d(ember.tensor(x), 3, 1, 1, return_indices=True)
    y_g, i_g = _F(ember).max_pool2d(ember.tensor(x, device="cuda"), 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(to_numpy(i_c), to_numpy(i_g))
    u_c = _F(ember).max_unpool2d(y_c, i_c, 3, 1, 1)
    u_g = _F(ember).max_unpool2d(y_g, i_g, 3, 1, 1)
    np.testing.assert_array_equal(to_numpy(u_c), to_numpy(u_g))


def test_integer_avg_pool_with_negative_divisor_truncates_toward_zero():
    x = np.arange(-8, 8).reshape(1, 1, 4, 4)
    check(lambda lib, x: lib.nn.functional.avg_pool2d(x, 2, divisor_override=-3), x)
