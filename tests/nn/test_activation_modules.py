"""Activation modules against torch: values, input gradients, in-place operation, reprs."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import randn, to_numpy
from nn_mirror import compare, module_pair

# (class name, constructor args): every activation module of torch.nn but MultiheadAttention.
CASES = [
    ("ReLU", ()), ("ReLU6", ()), ("GELU", ()), ("GELU", ("tanh",)), ("SiLU", ()), ("Mish", ()),
    ("ELU", ()), ("ELU", (0.5,)), ("SELU", ()), ("CELU", (1.5,)), ("LeakyReLU", ()),
    ("LeakyReLU", (0.2,)), ("PReLU", ()), ("PReLU", (4, 0.1)), ("Softplus", ()),
    ("Softplus", (2.0, 1.0)), ("Softsign", ()), ("Softshrink", ()), ("Softshrink", (0.3,)),
    ("Hardshrink", ()), ("Hardshrink", (1.0,)), ("Tanhshrink", ()), ("Hardtanh", ()),
    ("Hardtanh", (-2.0, 0.5)), ("Hardswish", ()), ("Hardsigmoid", ()), ("Sigmoid", ()),
    ("LogSigmoid", ()), ("Tanh", ()), ("Softmax", (1,)), ("LogSoftmax", (-1,)),
    ("Softmin", (0,)), ("Softmax2d", ()), ("GLU", ()), ("GLU", (1,)), ("Threshold", (0.1, 20.0)),
]


def _ids(case):
    name, args = case
    return name + ("" if not args else str(args))


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_activation_module_matches_torch(case):
    name, args = case
    e, t = module_pair(name, *args)
    assert repr(e) == repr(t)
    x = randn(3, 4, 2, 2) * 3
    compare(e, t, x)
    compare(e, t, randn(2, 4, 6) * 3)


INPLACE = [("ReLU", ()), ("ReLU6", ()), ("SiLU", ()), ("Mish", ()), ("ELU", (0.5,)),
           ("SELU", ()), ("CELU", (1.5,)), ("LeakyReLU", (0.2,)), ("Hardtanh", (-2.0, 0.5)),
           ("Hardswish", ()), ("Hardsigmoid", ()), ("Threshold", (0.1, 20.0))]


@pytest.mark.parametrize("case", INPLACE, ids=[_ids(c) for c in INPLACE])
def test_inplace_activation(case):
    name, args = case
    kwargs = {"inplace": True}
    e, t = module_pair(name, *args, **kwargs)
    assert repr(e) == repr(t)
    x = randn(4, 3) * 3
    results = {}
    for lib, m in ((ember, e), (torch, t)):
        leaf = lib.tensor(x.copy(), requires_grad=True)
        y = leaf * 1  # a non-leaf, so in-place is allowed
        out = m(y)
        assert out is y, name
        out.backward(lib.tensor(np.linspace(-1, 1, 12).reshape(4, 3).astype(np.float32)))
        results[lib.__name__] = (to_numpy(out), to_numpy(leaf.grad))
    for a, b in zip(results["ember"], results["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_reprs_with_options():
    pairs = [("ReLU", (True,)), ("Hardtanh", (-2, 3, True)), ("ReLU6", (True,)),
             ("ELU", (0.5, True)), ("CELU", (2.0, True)), ("Hardswish", (True,)),
             ("Hardsigmoid", (True,)), ("Threshold", (0.1, 2.0, True)), ("Softmax", ()),
             ("SiLU", (True,)), ("Mish", (True,)), ("SELU", (True,)),
             ("LeakyReLU", (0.1, True)), ("RReLU", (0.1, 0.3, True)), ("RReLU", ()),
             ("PReLU", (3,)), ("GELU", ("tanh",)), ("Softplus", (2, 5))]
    for name, args in pairs:
        e, t = module_pair(name, *args)
        assert repr(e) == repr(t), name


def test_prelu_parameters():
    e, t = module_pair("PReLU", 3, 0.1)
    assert list(e.state_dict()) == ["weight"] and e.weight.shape == (3,)
    np.testing.assert_allclose(to_numpy(e.weight), [0.1] * 3)
    e.weight.data.copy_(ember.tensor([0.1, 0.2, 0.3]))
    t.weight.data.copy_(torch.tensor([0.1, 0.2, 0.3]))
    compare(e, t, randn(2, 3, 4))
    m = ember.nn.PReLU(dtype=ember.float64)
    assert m.weight.dtype == ember.float64


def test_rrelu_train_and_eval():
    e, t = module_pair("RReLU", 0.1, 0.3)
    e.eval()
    t.eval()
    compare(e, t, randn(3, 5))  # eval: the fixed slope (lower + upper) / 2
    e.train()
    x = -ember.ones(20000)
    slopes = to_numpy(e(x)) * -1
    assert slopes.min() >= 0.1 and slopes.max() <= 0.3
    np.testing.assert_allclose(slopes.mean(), 0.2, atol=0.005)
    assert np.unique(slopes).size > 100  # a slope per element
    pos = ember.ones(10)
    assert (to_numpy(e(pos)) == 1).all()


def test_softmax_dim_none_warns_like_torch():
    for lib in (ember, torch):
        m = lib.nn.Softmax()
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            out = m(lib.ones(2, 3))
        np.testing.assert_allclose(to_numpy(out), np.full((2, 3), 1 / 3), rtol=1e-6)


def test_softmax2d_errors_and_unbatched():
    e, t = module_pair("Softmax2d")
    compare(e, t, randn(3, 2, 2))
    for lib in (ember, torch):
        with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D "
                                             "instead"):
            lib.nn.Softmax2d()(lib.ones(2, 2))


def test_hardtanh_arguments():
    for lib in (ember, torch):
        with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
            m = lib.nn.Hardtanh(min_value=-3.0)
        assert m.min_val == -3.0
        with pytest.raises(AssertionError):
            lib.nn.Hardtanh(1.0, -1.0)


def test_stateless_modules_refuse_arguments():
    for name in ("Sigmoid", "Tanh", "LogSigmoid", "Softsign", "Tanhshrink", "Softmax2d"):
        for lib in (ember, torch):
            with pytest.raises(TypeError, match=f"{name}.__init__.. takes 1 positional "
                                                f"argument but 2 were given"):
                getattr(lib.nn, name)(1)
            with pytest.raises(TypeError, match="got an unexpected keyword argument 'x'"):
                getattr(lib.nn, name)(x=2)


def test_gumbel_softmax():
    ember.manual_seed(0)
    logits = ember.tensor(np.log(np.array([[0.1, 0.2, 0.7]], dtype=np.float32)).repeat(4000, 0))
    soft = ember.nn.functional.gumbel_softmax(logits, tau=0.5)
    np.testing.assert_allclose(to_numpy(soft.sum(1)), 1, rtol=1e-5)
    hard = ember.nn.functional.gumbel_softmax(logits.requires_grad_(), hard=True)
    counts = to_numpy(hard).sum(0) / 4000
    np.testing.assert_allclose(counts, [0.1, 0.2, 0.7], atol=0.03)
    assert set(np.unique(to_numpy(hard))) == {0.0, 1.0}
    hard.sum(1).mean().backward()  # straight through: the soft sample's gradient
    assert logits.grad is not None and logits.grad.shape == (4000, 3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.nn.functional.gumbel_softmax(logits, eps=0.1)
    assert any("`eps` parameter is deprecated" in str(w.message) for w in caught)


@pytest.mark.parametrize("training", [False, True])
def test_rrelu_refuses_lower_above_upper(training):
    """As torch: in eval mode too, and the in-place form leaves its input unchanged."""
    for lib in (ember, torch):
        x = lib.tensor([-1.0, 2.0])
        for fn in (lib.nn.functional.rrelu, lib.rrelu, lib.rrelu_):
            with pytest.raises(RuntimeError, match="Lower bound should be less than or equal "
                                                   "to the upper bound"):
                fn(x, 0.3, 0.1, training)
        assert x.tolist() == [-1.0, 2.0]
    y = ember.nn.functional.rrelu(-ember.ones(100), 0.2, 0.2, training)  # lower == upper: fine
    np.testing.assert_allclose(to_numpy(y), -0.2, rtol=1e-6)
