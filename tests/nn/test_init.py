"""nn.init against torch.nn.init: exact for deterministic schemes, distributions (bounds,
moments) for random ones; identity, no_grad, generators, errors."""
import math
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import to_numpy

init = ember.nn.init


@pytest.mark.parametrize("nonlinearity, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose1d", None), ("conv_transpose2d", None), ("conv_transpose3d", None),
    ("sigmoid", None), ("tanh", None), ("relu", None), ("leaky_relu", None),
    ("leaky_relu", 0.2), ("leaky_relu", 1), ("selu", None)])
def test_calculate_gain(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == \
        torch.nn.init.calculate_gain(nonlinearity, param)


def test_calculate_gain_errors():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
            lib.nn.init.calculate_gain("foo")
        with pytest.raises(ValueError, match="negative_slope True not a valid number"):
            lib.nn.init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3, 3), (6, 4, 2)])
def test_fan_in_and_fan_out(shape):
    assert init._calculate_fan_in_and_fan_out(ember.empty(*shape)) == \
        torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*shape))
    for mode in ("fan_in", "fan_out", "FAN_IN"):
        assert init._calculate_correct_fan(ember.empty(*shape), mode) == \
            torch.nn.init._calculate_correct_fan(torch.empty(*shape), mode)
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor "
                                             "with fewer than 2 dimensions"):
            lib.nn.init._calculate_fan_in_and_fan_out(lib.empty(3))
        with pytest.raises(ValueError, match="Mode fan_avg not supported"):
            lib.nn.init.kaiming_uniform_(lib.empty(3, 3), mode="fan_avg")


def _keeps_identity(fn, *args, **kwargs):
    p = ember.nn.Parameter(ember.empty(*args))
    out = fn(p, **kwargs)
    assert out is p and p.requires_grad and p.grad_fn is None and p.is_leaf
    return to_numpy(p)


def test_deterministic_schemes_match_torch():
    for name, shape, kwargs in [("constant_", (3, 4), {"val": 0.3}), ("ones_", (2, 5), {}),
                                ("zeros_", (2, 2, 2), {}), ("eye_", (3, 5), {}),
                                ("eye_", (4, 2), {}), ("dirac_", (4, 3, 3), {}),
                                ("dirac_", (6, 4, 3, 3), {"groups": 2}),
                                ("dirac_", (4, 2, 3, 3, 3), {}), ("dirac_", (2, 5, 4, 4), {})]:
        e = _keeps_identity(getattr(init, name), *shape, **kwargs)
        t = getattr(torch.nn.init, name)(torch.empty(*shape), **kwargs)
        np.testing.assert_array_equal(e, to_numpy(t), err_msg=name)


def test_deterministic_scheme_errors():
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            lib.nn.init.eye_(lib.empty(3))
        with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
            lib.nn.init.dirac_(lib.empty(3, 3))
        with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
            lib.nn.init.dirac_(lib.empty(3, 3, 3), groups=2)
        with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
            lib.nn.init.orthogonal_(lib.empty(3))
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
            lib.nn.init.sparse_(lib.empty(3, 3, 3), 0.5)


N = (300, 400)


def _sample(fn, *args, shape=N, **kwargs):
    ember.manual_seed(0)
    return _keeps_identity(fn, *shape, **kwargs) if not args else \
        _keeps_identity(lambda t, **kw: fn(t, *args, **kw), *shape, **kwargs)


def test_uniform_and_normal():
    u = _sample(init.uniform_, -2.0, 3.0)
    assert u.min() >= -2 and u.max() < 3
    np.testing.assert_allclose([u.mean(), u.var()], [0.5, 25 / 12], rtol=0.02)
    n = _sample(init.normal_, 1.0, 0.5)
    np.testing.assert_allclose([n.mean(), n.std()], [1.0, 0.5], rtol=0.01)


@pytest.mark.parametrize("mean, std, a, b", [(0, 1, -2, 2), (0, 1, -0.5, 0.5), (1, 2, 2, 3),
                                             (0, 1, 3, 4)])
def test_trunc_normal_matches_torch_distribution(mean, std, a, b):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        e = _sample(init.trunc_normal_, mean, std, a, b)
        torch.manual_seed(0)
        t = to_numpy(torch.nn.init.trunc_normal_(torch.empty(*N), mean, std, a, b))
    assert e.min() >= a and e.max() <= b
    np.testing.assert_allclose([e.mean(), e.std()], [t.mean(), t.std()], rtol=0.02, atol=0.005)


def test_trunc_normal_warns_when_mean_is_far():
    for lib in (ember, torch):
        with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\]"):
            lib.nn.init.trunc_normal_(lib.empty(10), mean=10.0)


@pytest.mark.parametrize("shape", [(300, 400), (64, 32, 3, 3)])
def test_xavier_and_kaiming(shape):
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ember.empty(*shape))
    std = 1.5 * math.sqrt(2.0 / (fan_in + fan_out))
    x = _sample(init.xavier_uniform_, shape=shape, gain=1.5)
    assert np.abs(x).max() <= math.sqrt(3) * std
    np.testing.assert_allclose(x.std(), std, rtol=0.02)
    np.testing.assert_allclose(_sample(init.xavier_normal_, shape=shape, gain=1.5).std(), std,
                               rtol=0.02)
    for mode, fan in (("fan_in", fan_in), ("fan_out", fan_out)):
        for a, nl in ((0, "relu"), (0.2, "leaky_relu"), (0, "tanh")):
            std = torch.nn.init.calculate_gain(nl, a) / math.sqrt(fan)
            k = _sample(init.kaiming_uniform_, shape=shape, a=a, mode=mode, nonlinearity=nl)
            assert np.abs(k).max() <= math.sqrt(3) * std
            np.testing.assert_allclose(k.std(), std, rtol=0.02)
            k = _sample(init.kaiming_normal_, shape=shape, a=a, mode=mode, nonlinearity=nl)
            np.testing.assert_allclose(k.std(), std, rtol=0.02)


def test_kaiming_on_empty_tensor_warns():
    for fn in (init.kaiming_uniform_, init.kaiming_normal_):
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            t = ember.empty(0, 3)
            assert fn(t) is t


@pytest.mark.parametrize("shape", [(5, 8), (8, 5), (4, 2, 3), (6, 6)])
def test_orthogonal(shape):
    q = _sample(init.orthogonal_, shape=shape, gain=2.0).reshape(shape[0], -1)
    rows, cols = q.shape
    gram = q @ q.T if rows <= cols else q.T @ q
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-5)
    assert init.orthogonal_(ember.empty(0, 3)).shape == (0, 3)


def test_sparse():
    s = _sample(init.sparse_, 0.3, shape=(20, 50), std=0.5)
    zeros = (s == 0).sum(0)
    assert (zeros == math.ceil(0.3 * 20)).all()
    np.testing.assert_allclose(s[s != 0].std(), 0.5, rtol=0.1)


def test_generator_argument_makes_initialization_reproducible():
    for fn, kwargs in [(init.uniform_, {}), (init.normal_, {}), (init.trunc_normal_, {}),
                       (init.xavier_uniform_, {}), (init.xavier_normal_, {}),
                       (init.kaiming_uniform_, {}), (init.kaiming_normal_, {}),
                       (init.orthogonal_, {}), (init.sparse_, {"sparsity": 0.5})]:
        a = fn(ember.empty(6, 5), generator=ember.Generator().manual_seed(3), **kwargs)
        ember.manual_seed(99)  # the global generator does not matter
        b = fn(ember.empty(6, 5), generator=ember.Generator().manual_seed(3), **kwargs)
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=fn.__name__)


def test_init_does_not_record_and_works_on_leaves_requiring_grad():
    w = ember.nn.Linear(3, 3).weight
    version = w._version
    for fn in (init.uniform_, init.normal_, init.ones_, init.zeros_, init.eye_,
               init.xavier_normal_, init.orthogonal_, init.trunc_normal_):
        assert fn(w) is w and w.grad_fn is None
    assert w._version > version
    w.sum().backward()
    assert w.grad is not None


def test_deprecated_names():
    for old, new in [("uniform", "uniform_"), ("normal", "normal_"), ("constant", "constant_"),
                     ("xavier_uniform", "xavier_uniform_"), ("kaiming_normal", "kaiming_normal_"),
                     ("eye", "eye_"), ("orthogonal", "orthogonal_")]:
        args = (0.5,) if old == "constant" else ()
        with pytest.warns(FutureWarning, match=f"`nn.init.{old}` is now deprecated in favor of "
                                               f"`nn.init.{new}`"):
            getattr(init, old)(ember.empty(3, 3), *args)
