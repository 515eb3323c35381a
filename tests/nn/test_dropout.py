"""Dropout family: exact behaviour where it is deterministic (eval, p=0, p=1, empty), and
statistics where it is random (ember's random streams differ from torch's)."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import to_numpy
from nn_mirror import module_pair

F = ember.nn.functional
NAMES = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
         "FeatureAlphaDropout"]
FUNCTIONS = {"Dropout": F.dropout, "Dropout1d": F.dropout1d, "Dropout2d": F.dropout2d,
             "Dropout3d": F.dropout3d, "AlphaDropout": F.alpha_dropout,
             "FeatureAlphaDropout": F.feature_alpha_dropout}
SHAPES = {"Dropout": (4, 5), "Dropout1d": (4, 5, 6), "Dropout2d": (4, 5, 3, 3),
          "Dropout3d": (4, 5, 2, 2, 2), "AlphaDropout": (4, 5), "FeatureAlphaDropout": (4, 5, 3)}


@pytest.mark.parametrize("name", NAMES)
def test_reprs_and_eval_identity(name):
    e, t = module_pair(name, 0.3)
    assert repr(e) == repr(t)
    e, t = module_pair(name, 0.2, True)
    assert repr(e) == repr(t)
    x = ember.randn(*SHAPES[name])
    e.eval()
    assert e(x) is x
    fn = FUNCTIONS[name]
    assert fn(x, 0.5, training=False) is x
    assert fn(x, 0.0, training=True) is x


@pytest.mark.parametrize("name", NAMES)
def test_p_one_gives_signed_zeros_like_torch(name):
    shape = SHAPES[name]
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    for training_fn in (FUNCTIONS[name],):
        e = training_fn(ember.tensor(x), 1.0, True)
        t = getattr(torch.nn.functional, training_fn.__name__)(torch.tensor(x), 1.0, True)
        np.testing.assert_array_equal(np.signbit(to_numpy(e)), np.signbit(to_numpy(t)))
        assert not to_numpy(e).any()


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_statistics_and_gradient(p):
    ember.manual_seed(1)
    x = ember.ones(400, 250, requires_grad=True)
    y = F.dropout(x, p)
    out = to_numpy(y)
    kept = out != 0
    np.testing.assert_allclose(kept.mean(), 1 - p, atol=0.01)
    np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), out)  # the same mask, scaled


@pytest.mark.parametrize("name", ["Dropout1d", "Dropout2d", "Dropout3d", "FeatureAlphaDropout"])
def test_channel_dropout_drops_whole_channels(name):
    ember.manual_seed(2)
    shape = (50, 40) + SHAPES[name][2:]
    y = to_numpy(FUNCTIONS[name](ember.ones(*shape), 0.5, True))
    flat = y.reshape(50, 40, -1)
    assert (flat == flat[:, :, :1]).all()  # constant over each channel
    dropped = (flat[:, :, 0] != flat.max()).mean()
    np.testing.assert_allclose(dropped, 0.5, atol=0.05)


def test_unbatched_channel_dropout():
    ember.manual_seed(3)
    y = to_numpy(F.dropout1d(ember.ones(30, 8), 0.5))
    assert y.shape == (30, 8) and (y == y[:, :1]).all()
    y = to_numpy(F.dropout3d(ember.ones(30, 2, 2, 2), 0.5))
    assert y.shape == (30, 2, 2, 2)
    assert (y.reshape(30, -1) == y.reshape(30, -1)[:, :1]).all()
    x = ember.ones(30, 8)
    assert F.dropout1d(x, 0.5, inplace=True) is x
    assert set(np.unique(to_numpy(x))) <= {0.0, 2.0} and (to_numpy(x) == 0).any()


@pytest.mark.parametrize("feature", [False, True])
def test_alpha_dropout_keeps_selu_statistics(feature):
    ember.manual_seed(4)
    x = ember.randn(200, 300) if not feature else ember.randn(20000, 3)
    fn = F.feature_alpha_dropout if feature else F.alpha_dropout
    y = to_numpy(fn(x, 0.3, True))
    np.testing.assert_allclose(y.mean(), 0.0, atol=0.03)
    np.testing.assert_allclose(y.std(), 1.0, atol=0.03)
    a = (1.7580993408473766 ** 2 * 0.3 + 1) ** -0.5 / (1 - 0.3) ** 0.5
    dropped = np.isclose(y, -1.7580993408473766 * a * (1 - 0.3))  # where dropped units go
    np.testing.assert_allclose(dropped.mean(), 0.3, atol=0.02)


def test_seeded_dropout_is_reproducible():
    ember.manual_seed(7)
    a = to_numpy(F.dropout(ember.ones(100), 0.5))
    ember.manual_seed(7)
    b = to_numpy(F.dropout(ember.ones(100), 0.5))
    np.testing.assert_array_equal(a, b)


def test_inplace_dropout_modifies_input():
    ember.manual_seed(5)
    x = ember.ones(50, 50)
    m = ember.nn.Dropout(0.5, inplace=True)
    assert m(x) is x
    assert set(np.unique(to_numpy(x))) == {0.0, 2.0}
    leaf = ember.ones(10, requires_grad=True)
    y = leaf * 1
    out = F.alpha_dropout(y, 0.5, True, inplace=True)
    assert out is y
    out.sum().backward()
    assert leaf.grad is not None


def test_modes_and_empty_and_dtypes():
    m = ember.nn.Dropout(0.5)
    x = ember.ones(0, 3)
    assert m(x) is x
    for dt in (ember.float64, ember.float16, ember.bfloat16):
        y = F.dropout(ember.ones(100, dtype=dt), 0.5)
        assert y.dtype == dt and set(np.unique(to_numpy(y))) <= {0.0, 2.0}
    ints = ember.ones(3, dtype=ember.int64)
    assert F.dropout(ints, 0.5, training=False) is ints
    with pytest.raises(RuntimeError, match="dropout: expected a floating point input"):
        F.dropout(ints, 0.5)


def test_errors_and_warnings():
    for lib in (ember, torch):
        for fn in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                   "feature_alpha_dropout"):
            with pytest.raises(ValueError, match="dropout probability has to be between 0 and "
                                                 "1, but got 1.5"):
                getattr(lib.nn.functional, fn)(lib.ones(2, 2, 2, 2), 1.5)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            lib.nn.Dropout(-0.1)
        with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but "
                                               "received a 4D input"):
            lib.nn.functional.dropout1d(lib.ones(2, 2, 2, 2))
        with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
            lib.nn.functional.dropout2d(lib.ones(2, 2, 2))
        with pytest.warns(UserWarning, match="dropout3d: Received a 3-D input to dropout3d"):
            lib.nn.functional.dropout3d(lib.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
        F.feature_alpha_dropout(ember.ones(3), 0.5, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        F.dropout2d(ember.ones(2, 2, 2, 2))


@pytest.mark.parametrize("name", ["dropout", "alpha_dropout"])
def test_zero_dim_input(name):
    """A 0-d input gives a 0-d result taking the same two values as torch's (over 30 seeds,
    each value is missed with probability 2**-30), with a 0-d gradient."""
    def outcomes(lib):
        values = set()
        for seed in range(30):
            lib.manual_seed(seed)
            x = lib.tensor(1.5, dtype=lib.float64, requires_grad=True)
            y = getattr(lib.nn.functional, name)(x, 0.4, True)
            y.backward()
            assert y.shape == () and x.grad.shape == ()
            values.add((round(y.item(), 12), round(x.grad.item(), 12)))
        return values
    assert outcomes(ember) == outcomes(torch)
    x = ember.tensor(1.5)
    assert getattr(F, name)(x, 0.4, True, inplace=True) is x and x.shape == ()


@pytest.mark.gpu
def test_zero_dim_input_on_cuda():
    for fn in (F.dropout, F.alpha_dropout):
        y = fn(ember.tensor(1.5, device="cuda"), 0.4, True)
        assert y.shape == () and y.device.type == "cuda"
