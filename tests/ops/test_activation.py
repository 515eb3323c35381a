"""Activation functions (``ember.ops.activation``, nn.functional's signatures) against
``torch.nn.functional``: values, gradients at kinks, float64 gradcheck / gradgradcheck,
inplace=True, dtypes, the softmax family's dims / dtype / stability, and errors."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.ops.activation as EF
from helpers import check, gradcheck_fn, randn, raises

NAN, INF = float("nan"), float("inf")
# Values at and around every kink (0, ±0.5, ±1, ±3, 6, the thresholds below) and NaN.
KINKS = np.array([-4.0, -3.0, -2.5, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.5, 3.0, 6.0, 7.0])


def lib_f(lib):
    return TF if lib is torch else EF


# name -> keyword arguments
ACTIVATIONS = {
    "relu": {}, "relu6": {}, "leaky_relu": {"negative_slope": 0.2}, "elu": {"alpha": 0.5},
    "selu": {}, "celu": {"alpha": 0.7}, "gelu": {}, "silu": {}, "mish": {},
    "softplus": {"beta": 2.0, "threshold": 1.0}, "softsign": {},
    "hardtanh": {"min_val": -0.5, "max_val": 1.0}, "hardswish": {}, "hardsigmoid": {},
    "hardshrink": {"lambd": 0.5}, "softshrink": {"lambd": 0.5}, "tanhshrink": {},
    "threshold": {"threshold": 0.5, "value": 2.0}, "logsigmoid": {}, "rrelu": {},
    "sigmoid": {}, "tanh": {},
}
GELU_TANH = ("gelu_tanh", {"approximate": "tanh"})
# PyTorch has no double backward for these (ember's is checked by gradgradcheck below)
NO_TORCH_GRADGRAD = {"hardsigmoid"}


def call(name, kwargs):
    op = "gelu" if name == "gelu_tanh" else name
    return lambda lib, x: getattr(lib_f(lib), op)(x, **kwargs)


CASES = list(ACTIVATIONS.items()) + [GELU_TANH]


@pytest.mark.parametrize("name,kwargs", CASES)
def test_values_and_grads(name, kwargs):
    fn = call(name, kwargs)
    check(fn, KINKS)
    check(fn, np.append(KINKS, NAN).astype(np.float32), grad=False)
    for shape in ((3, 4), (), (0, 3)):
        check(fn, np.asarray(randn(*shape)))
    check(fn, randn(4, 3).T)
    check(fn, randn(2, 3).astype(np.float16), grad=False, atol=2e-3, rtol=2e-3)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_gradcheck(name, kwargs):
    x = randn(2, 3)
    x[np.abs(np.abs(x) - 0.5) < 0.05] += 0.2  # keep away from the kinks
    gradcheck_fn(call(name, kwargs), x)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_double_backward_at_kinks(name, kwargs):
    """Second derivatives, including at the kinks, as PyTorch computes them."""
    if name in NO_TORCH_GRADGRAD:
        return
    fn = call(name, kwargs)

    def first_grad(lib, x):
        y = fn(lib, x)
        w = lib.linspace(-1, 1, y.numel(), dtype=y.dtype).reshape(y.shape)
        (g,) = lib.autograd.grad((y * w).sum(), x, create_graph=True)
        return g * g
    check(first_grad, KINKS)


INPLACE = ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "silu", "mish", "hardtanh",
           "hardswish", "hardsigmoid", "threshold", "rrelu"]


@pytest.mark.parametrize("name", INPLACE)
def test_inplace(name):
    kwargs = ACTIVATIONS[name]

    def fn(lib, x):
        y = x * 1
        out = getattr(lib_f(lib), name)(y, inplace=True, **kwargs)
        assert out is y
        return y
    check(fn, KINKS)
    gradcheck_fn(fn, randn(2, 3))
    for lib in (torch, ember):  # a leaf that requires grad cannot be changed in place
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            getattr(lib_f(lib), name)(lib.ones(2, requires_grad=True), inplace=True, **kwargs)


@pytest.mark.parametrize("name", ["relu_", "leaky_relu_", "elu_", "selu_", "celu_", "hardtanh_",
                                  "threshold_", "rrelu_"])
def test_underscore_functions(name):
    base = ACTIVATIONS[name[:-1]]

    def fn(lib, x):
        y = x * 1
        assert getattr(lib_f(lib), name)(y, **base) is y
        return y
    check(fn, KINKS)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_dtypes(name, kwargs):
    fn = call(name, kwargs)
    for arr in (np.array([-2, 0, 3]), np.array([True, False]),
                np.array([1 + 1j, -1j], np.complex64)):
        try:
            fn(torch, torch.from_numpy(arr))
        except Exception as e:
            with pytest.raises(type(e)):
                fn(ember, ember.tensor(arr))
            continue
        check(fn, arr, grad=False)


def test_torch_level_functions_and_methods():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    for fn in (lambda lib, t: lib.relu(t), lambda lib, t: t.relu(), lambda lib, t: lib.selu(t),
               lambda lib, t: lib.celu(t, 0.5), lambda lib, t: lib.threshold(t, 0.1, 5.0),
               lambda lib, t: lib.hardshrink(t, 0.3), lambda lib, t: t.hardshrink(0.3),
               lambda lib, t: lib.rrelu(t), lambda lib, t: lib.sigmoid(t), lambda lib, t: t.sigmoid(),
               lambda lib, t: lib.softmax(t, 0), lambda lib, t: t.softmax(-1),
               lambda lib, t: lib.log_softmax(t, dim=0), lambda lib, t: t.log_softmax(0),
               lambda lib, t: lib.softmax(t, 0, dtype=lib.float64),
               lambda lib, t: lib.prelu(t, lib.tensor([0.25], dtype=t.dtype)),
               lambda lib, t: t.prelu(lib.tensor([0.25], dtype=t.dtype))):
        check(fn, x)
    for fn in (lambda lib, t: lib.relu_(t * 1), lambda lib, t: (t * 1).relu_(),
               lambda lib, t: (t * 1).sigmoid_(), lambda lib, t: lib.selu_(t * 1),
               lambda lib, t: lib.celu_(t * 1), lambda lib, t: lib.threshold_(t * 1, 0.0, 1.0),
               lambda lib, t: lib.rrelu_(t * 1)):
        check(fn, x)
    for name in ("relu", "relu_", "selu", "celu", "threshold", "softmax", "log_softmax",
                 "prelu", "rrelu", "hardshrink", "sigmoid"):
        assert hasattr(ember, name), name
    for name in ("gelu", "leaky_relu", "elu", "softplus", "mish"):  # nn.functional only
        assert not hasattr(ember, name), name


def test_functional_exports():
    for name in EF.__all__:
        assert hasattr(TF, name), name
        assert callable(getattr(EF, name))


# ---- softmax family ---------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
def test_softmax_family(op):
    for shape, dims in (((3, 4, 5), (0, 1, 2, -1)), ((), (0, -1)), ((0, 3), (0, 1)),
                        ((3, 0), (1,)), ((1, 4), (0, 1))):
        x = np.asarray(randn(*shape))
        for dim in dims:
            check(lambda lib, t: getattr(lib_f(lib), op)(t, dim), x)
    check(lambda lib, t: getattr(lib_f(lib), op)(t, 1), randn(5, 3).T)
    check(lambda lib, t: getattr(lib_f(lib), op)(t, 1, dtype=lib.float64), randn(2, 3))
    check(lambda lib, t: getattr(lib_f(lib), op)(t, 0, dtype=lib.float32), np.array([1, 2, 3]))
    check(lambda lib, t: getattr(lib_f(lib), op)(t, 1), randn(2, 3).astype(np.float16),
          atol=1e-3, rtol=1e-3)
    gradcheck_fn(lambda lib, t: getattr(lib_f(lib), op)(t, 1), randn(2, 3))
    gradcheck_fn(lambda lib, t: getattr(lib_f(lib), op)(t, 0), randn(3, 2))


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_stability(op):
    x = np.array([[1e4, 1e4 - 1, -1e4], [-1e4, -1e4 + 2, -1e4], [0.0, -INF, 1.0],
                  [-INF, -INF, -INF], [INF, 0.0, 1.0]], dtype=np.float32)
    check(lambda lib, t: getattr(lib_f(lib), op)(t, 1), x, grad=False)
    check(lambda lib, t: getattr(lib_f(lib), op)(t, 1), x[:3])


def test_softmax_double_backward():
    for op in ("softmax", "log_softmax"):
        def fn(lib, x, w):
            y = getattr(lib_f(lib), op)(x, 1)
            (g,) = lib.autograd.grad((y * w).sum(), x, create_graph=True)
            return (g * g).sum()
        check(fn, randn(2, 3), randn(2, 3))


def test_softmax_implicit_dim():
    for shape in ((4,), (2, 3), (2, 3, 4), (2, 3, 4, 5)):
        x = randn(*shape)
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been "
                                             "deprecated"):
            e = EF.softmax(ember.tensor(x))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = TF.softmax(torch.from_numpy(x))
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning, match="softmin"):
        EF.softmin(ember.ones(2, 3))
    with pytest.raises(TypeError):
        ember.softmax(ember.ones(3))  # torch.softmax requires dim


def test_softmax_errors():
    raises(IndexError, r"softmax: Dimension out of range \(expected to be in range of \[-2, 1\], "
           r"but got 2\)", EF.softmax, ember.ones(2, 3), 2)
    raises(NotImplementedError, r"softmax: not implemented for int64 tensors \(int64\[3\] on cpu\)"
           r"; convert with .float\(\) first", EF.softmax, ember.tensor([1, 2, 3]), 0)
    raises(NotImplementedError, "log_softmax: not implemented for complex64", EF.log_softmax,
           ember.ones(2, dtype=ember.complex64), 0)


# ---- prelu, glu, rrelu --------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [((2, 3, 4), (3,)), ((2, 3), (1,)), ((2, 3, 4, 5), (3,)),
                                    ((4,), (1,)), ((), (1,)), ((2, 3), (3,)), ((0, 3), (3,))])
def test_prelu(shapes):
    x, w = np.asarray(randn(*shapes[0])), randn(*shapes[1])
    check(lambda lib, a, b: lib_f(lib).prelu(a, b), x, w)
    if x.size:
        gradcheck_fn(lambda lib, a, b: lib_f(lib).prelu(a, b), x, w)
    check(lambda lib, a, b: lib_f(lib).prelu(a, b), np.array([[-1.0, 0.0, 2.0]]),
          np.array([0.3]))


def test_prelu_errors():
    raises(RuntimeError, r"prelu: Mismatch of parameter numbers and input channel size. Found "
           r"parameter numbers = 3 and channel size = 4", EF.prelu, ember.ones(2, 4),
           ember.ones(3))
    raises(RuntimeError, "prelu: Expected `weight` to be a scalar or 1D tensor", EF.prelu,
           ember.ones(2, 4), ember.ones(4, 1))
    raises(RuntimeError, "prelu: Mismatch of parameter numbers and input channel size",
           EF.prelu, ember.ones(4), ember.ones(4))
    raises(RuntimeError, "prelu: Type promoting not supported: input is float32", EF.prelu,
           ember.ones(4), ember.ones(1, dtype=ember.float64))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu(dim):
    x = randn(4, 6)
    check(lambda lib, t: lib_f(lib).glu(t, dim), x)
    gradcheck_fn(lambda lib, t: lib_f(lib).glu(t, dim), randn(2, 4))


def test_glu_errors():
    raises(RuntimeError, r"glu: Halving dimension must be even, but dimension 0 is size 3",
           EF.glu, ember.ones(3), 0)
    raises(RuntimeError, "glu: glu does not support scalars", EF.glu, ember.tensor(1.0))
    raises(IndexError, "glu: Dimension out of range", EF.glu, ember.ones(2, 2), 2)


@pytest.mark.parametrize("inplace", [False, True])
def test_rrelu_training(inplace):
    """Negative inputs are scaled by slopes in [lower, upper], fresh on every call; the gradient
    is the slope used."""
    ember.manual_seed(0)
    x = ember.tensor(np.linspace(-3, 3, 2001), requires_grad=True)
    y = EF.rrelu(x * 1, 0.1, 0.3, training=True, inplace=inplace)
    (g,) = ember.autograd.grad(y.sum(), x)
    xs, ys, gs = x.detach().numpy(), y.detach().numpy(), g.numpy()
    neg = xs <= 0
    assert np.array_equal(ys[~neg], xs[~neg]) and np.all(gs[~neg] == 1)
    slopes = ys[neg & (xs < 0)] / xs[neg & (xs < 0)]
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3 and slopes.std() > 0.03
    np.testing.assert_allclose(gs[neg & (xs < 0)], slopes)
    y2 = EF.rrelu(x.detach(), 0.1, 0.3, training=True)
    assert not np.array_equal(y2.numpy(), ys)


def test_activation_argument_errors():
    raises(RuntimeError, "gelu: approximate argument must be either none or tanh", EF.gelu,
           ember.ones(2), approximate="fast")
    raises(RuntimeError, "softshrink: lambda must be greater or equal to 0", EF.softshrink,
           ember.ones(2), -1.0)
    raises(RuntimeError, r"relu: Boolean inputs not supported for relu \(bool\[1\] on cpu\)",
           EF.relu, ember.tensor([True]))
    raises(NotImplementedError, r"gelu: not implemented for int64 tensors", EF.gelu,
           ember.tensor([1, 2]))
    raises(TypeError, r"relu\(\): argument 'input' \(position 1\) must be Tensor, not list",
           EF.relu, [1.0])
    raises(ValueError, "hardtanh: min_val cannot be greater than max_val", EF.hardtanh,
           ember.ones(2), 1.0, -1.0)


def test_exact_gelu_float32_is_as_accurate_as_torch_across_its_range():
    """Exact float32 gelu on the CPU computes Φ with ember's own rational erf (ops/_special.py),
    in blocks: over [-12, 12] (many blocks), against the float64 result, its largest error and
    its largest relative error where gelu is not vanishingly small are no worse than PyTorch's,
    and the gradient agrees with PyTorch's."""
    x = np.linspace(-12, 12, 200_001, dtype=np.float32)
    exact = TF.gelu(torch.from_numpy(x).double()).numpy()
    t = torch.from_numpy(x).requires_grad_()
    theirs = TF.gelu(t)
    theirs.sum().backward()
    e = ember.tensor(x, requires_grad=True)
    ours = EF.gelu(e)
    ours.sum().backward()
    err_ours = np.abs(ours.detach().numpy() - exact)
    err_theirs = np.abs(theirs.detach().numpy() - exact)
    assert err_ours.max() <= err_theirs.max()
    shown = x >= -5  # (below, gelu is under 1.5e-6 and float32 PyTorch has no digits left)
    rel = lambda err: (err[shown] / np.abs(exact[shown]).clip(1e-30)).max()  # noqa: E731
    assert rel(err_ours) <= rel(err_theirs)
    np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-6)
    assert EF.gelu(ember.tensor([-np.inf, -20.0, 20.0, np.inf])).tolist()[1:] == [-0.0, 20.0,
                                                                                   np.inf]


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [-1, 0])
def test_softmax_rows_with_nan_and_infinities_match_torch(name, dim):
    """The shift before exp ignores NaN (ops/_kept.py): a NaN still makes its whole row NaN,
    and rows of -inf or with +inf come out as PyTorch's."""
    x = np.array([[1.0, NAN, 2.0], [-INF, -INF, -INF], [0.0, INF, 1.0], [3.0, -INF, -1.0]],
                 np.float32)
    x = x if dim == -1 else x.T.copy()
    expected = getattr(TF, name)(torch.from_numpy(x), dim).numpy()
    got = getattr(EF, name)(ember.tensor(x), dim).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7, equal_nan=True)


def test_grad_fn_names():
    x = ember.ones(2, requires_grad=True)
    for name, expected in (("relu", "ReluBackward0"), ("gelu", "GeluBackward0"),
                           ("silu", "SiluBackward0"), ("elu", "EluBackward0"),
                           ("sigmoid", "SigmoidBackward0"), ("logsigmoid", "LogSigmoidBackward0")):
        assert getattr(EF, name)(x).grad_fn.name() == expected
    assert EF.softmax(x, 0).grad_fn.name() == "SoftmaxBackward0"


# ---- CUDA (run on the device machine) ---------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("name,kwargs", CASES)
def test_activation_cuda(name, kwargs):
    check(call(name, kwargs), KINKS.astype(np.float32), device="cuda", atol=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "softmin"])
def test_softmax_cuda(op):
    for shape, dim in (((3, 4, 5), 1), ((), 0), ((0, 3), 1)):
        check(lambda lib, t: getattr(lib_f(lib), op)(t, dim), np.asarray(randn(*shape)),
              device="cuda")
    check(lambda lib, t: getattr(lib_f(lib), op)(t, 1), randn(2, 3).astype(np.float16),
          device="cuda", atol=1e-3, rtol=1e-3)


@pytest.mark.parametrize("name", ["relu", "hardtanh", "threshold", "hardshrink", "softshrink",
                                  "hardsigmoid"])
def test_masked_backward_on_large_arrays(name):
    """Backward masks take a fast path on large CPU arrays: upstream NaN / inf gradients where
    the mask drops them still give 0, as in PyTorch."""
    x, w = randn(80, 64), randn(80, 64)
    x[0, :3], w[0, :3] = -2.0, [NAN, INF, -INF]  # dropped by every mask here
    x[1, :2], w[1, :2] = 2.5, [NAN, INF]  # kept by relu, threshold, hardshrink ...
    fn = call(name, ACTIVATIONS[name])

    def grad_of(lib, a, g):
        a = a.detach().requires_grad_()
        return lib.autograd.grad(fn(lib, a), a, g)[0]
    check(grad_of, x, w, grad=False)
    check(fn, x)
