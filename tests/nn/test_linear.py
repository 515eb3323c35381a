"""Linear, Bilinear, Identity, Flatten, Unflatten and F.linear / F.bilinear against torch."""
import math

import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, randn, raises, to_numpy
from nn_mirror import compare, module_pair

F_e, F_t = ember.nn.functional, torch.nn.functional


def _F(lib):
    return lib.nn.functional


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 5, 3), (3,), (0, 3), (2, 1, 2, 3)])
def test_linear_function(x_shape):
    x, w, b = randn(*x_shape), randn(6, 3), randn(6)
    check(lambda lib, x, w, b: _F(lib).linear(x, w, b), x, w, b)
    check(lambda lib, x, w: _F(lib).linear(x, w), x, w)


def test_linear_function_bias_shapes_dtypes_and_layouts():
    check(lambda lib, x, w, b: _F(lib).linear(x, w, b), randn(3), randn(3), randn())
    check(lambda lib, x, w, b: _F(lib).linear(x, w, b), randn(5, 2, 3), randn(4, 3),
          randn(2, 4))
    check(lambda lib, x, w, b: _F(lib).linear(x, w, b), randn(2, 3, dtype=np.float64),
          randn(4, 3, dtype=np.float64), randn(4, dtype=np.float64))
    check(lambda lib, x, w, b: _F(lib).linear(x, w, b), randn(2, 3, dtype=np.float16),
          randn(4, 3, dtype=np.float16), randn(4, dtype=np.float16), atol=1e-2, rtol=1e-2)
    check(lambda lib, x, w, b: _F(lib).linear(x, w, b), randn(2, 3) + 1j * randn(2, 3),
          randn(4, 3) + 1j * randn(4, 3), randn(4) + 1j * randn(4))
    ints = np.arange(6).reshape(2, 3)
    check(lambda lib, x, w: _F(lib).linear(x, w), ints, ints[:1] + 1)
    # non-contiguous input and weight
    check(lambda lib, x, w, b: _F(lib).linear(x.transpose(0, 1), w.transpose(0, 1), b),
          randn(3, 4), randn(3, 5), randn(5))


def test_linear_function_gradcheck():
    gradcheck_fn(lambda lib, x, w, b: _F(lib).linear(x, w, b), randn(2, 4, 3), randn(5, 3),
                 randn(5))
    gradcheck_fn(lambda lib, x, w: _F(lib).linear(x, w), randn(4, 3), randn(2, 3))
    gradcheck_fn(lambda lib, x, w, b: _F(lib).linear(x, w, b), randn(3), randn(3), randn())
    gradcheck_fn(lambda lib, x, w, b: _F(lib).linear(x, w, b), randn(2, 3) + 1j * randn(2, 3),
                 randn(4, 3) + 1j * randn(4, 3), randn(4) + 1j * randn(4))


def test_linear_function_partial_gradients():
    # only the weight needs a gradient (the input is data), and only the input
    x = ember.tensor(randn(4, 3))
    w = ember.tensor(randn(2, 3), requires_grad=True)
    F_e.linear(x, w).sum().backward()
    np.testing.assert_allclose(to_numpy(w.grad), np.tile(to_numpy(x).sum(0), (2, 1)), rtol=1e-5)
    x.requires_grad_(True)
    w.requires_grad_(False)
    F_e.linear(x, w).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), np.tile(to_numpy(w).sum(0), (4, 1)), rtol=1e-5)


def test_linear_function_errors():
    e = raises(RuntimeError, r"linear: input has 784 features .*weight expects 128 \(weight "
               r"shape \(10, 128\)\); did you forget a Flatten",
               F_e.linear, ember.ones(2, 784), ember.ones(10, 128))
    assert "Size" not in str(e)
    raises(RuntimeError, "linear: expected input, weight and bias to have the same dtype, but "
           "got input float64, weight float32", F_e.linear, ember.ones(2, 3, dtype=ember.float64),
           ember.ones(4, 3))
    raises(RuntimeError, "linear: a 1-D weight needs a 1-D input", F_e.linear,
           ember.ones(2, 3), ember.ones(3))
    raises(RuntimeError, "linear: input must be at least 1-D", F_e.linear, ember.tensor(1.0),
           ember.ones(2, 1))
    raises(TypeError, r"linear\(\): argument 'input' \(position 1\) must be Tensor, not list",
           F_e.linear, [1.0], ember.ones(2, 1))
    raises(TypeError, r"linear\(\): argument 'bias' \(position 3\) must be Tensor, not float",
           F_e.linear, ember.ones(1), ember.ones(2, 1), 1.0)
    raises(RuntimeError, "linear: not implemented for bool", F_e.linear,
           ember.ones(2, 2, dtype=ember.bool), ember.ones(2, 2, dtype=ember.bool))


def test_linear_module():
    e, t = module_pair("Linear", 3, 4)
    assert repr(e) == repr(t)
    assert [(n, tuple(p.shape)) for n, p in e.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    for shape in [(5, 3), (2, 4, 3), (3,)]:
        compare(e, t, randn(*shape))
    e, t = module_pair("Linear", 3, 4, bias=False)
    assert repr(e) == repr(t) and e.bias is None and list(e.state_dict()) == ["weight"]
    compare(e, t, randn(2, 3))
    m = ember.nn.Linear(2, 3, dtype=ember.float64, device="cpu")
    assert m.weight.dtype == ember.float64 and m.bias.dtype == ember.float64


def test_linear_default_init_distribution():
    ember.manual_seed(0)
    m = ember.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = to_numpy(m.weight), to_numpy(m.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    # U(-bound, bound): variance bound^2 / 3
    np.testing.assert_allclose(w.var(), bound ** 2 / 3, rtol=0.02)
    assert abs(w.mean()) < 0.01 * bound
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        empty = ember.nn.Linear(0, 3)  # fan_in 0: bias zero, no error
    assert not empty.bias.any()


def test_linear_weights_from_torch_model():
    torch.manual_seed(0)
    t = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    e = ember.nn.Sequential(ember.nn.Linear(6, 8), ember.nn.ReLU(), ember.nn.Linear(8, 3))
    compare(e, t, randn(10, 6))


def test_bilinear():
    check(lambda lib, a, b, w, c: _F(lib).bilinear(a, b, w, c), randn(4, 3), randn(4, 2),
          randn(5, 3, 2), randn(5))
    check(lambda lib, a, b, w: _F(lib).bilinear(a, b, w), randn(2, 4, 3), randn(2, 4, 2),
          randn(5, 3, 2))
    gradcheck_fn(lambda lib, a, b, w, c: _F(lib).bilinear(a, b, w, c), randn(2, 3),
                 randn(2, 2), randn(4, 3, 2), randn(4))
    e, t = module_pair("Bilinear", 3, 2, 4)
    assert repr(e) == repr(t)
    compare(e, t, randn(5, 3), randn(5, 2))
    e, t = module_pair("Bilinear", 3, 2, 4, bias=False)
    assert repr(e) == repr(t)
    compare(e, t, randn(5, 3), randn(5, 2))
    bound = 1 / math.sqrt(3)
    assert np.abs(to_numpy(e.weight)).max() <= bound
    raises(RuntimeError, "bilinear: input1 has 2 features and input2 2", F_e.bilinear,
           ember.ones(1, 2), ember.ones(1, 2), ember.ones(4, 3, 2))
    raises(RuntimeError, "bilinear: input1 and input2 must have the same size except in their "
           "last dim", F_e.bilinear, ember.ones(2, 3), ember.ones(1, 2), ember.ones(4, 3, 2))


def test_identity():
    e, t = module_pair("Identity", 3, unused=True)
    assert repr(e) == repr(t)
    x = ember.ones(2)
    assert e(x) is x


@pytest.mark.parametrize("args, shape", [((), (2, 3, 4, 5)), ((0,), (2, 3, 4)),
                                         ((1, 2), (2, 3, 4, 5)), ((-2, -1), (2, 3, 4)),
                                         ((0,), (2,))])
def test_flatten(args, shape):
    e, t = module_pair("Flatten", *args)
    assert repr(e) == repr(t)
    compare(e, t, randn(*shape))


@pytest.mark.parametrize("dim, sizes, shape", [(1, (2, 3), (4, 6)), (-1, [2, -1], (4, 6)),
                                               (0, (2, 2), (4, 3))])
def test_unflatten(dim, sizes, shape):
    e, t = module_pair("Unflatten", dim, sizes)
    assert repr(e) == repr(t)
    compare(e, t, randn(*shape))


def test_unflatten_errors():
    for lib in (ember, torch):
        with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found "
                                            "element of type float at pos 1"):
            lib.nn.Unflatten(1, (2, 3.0))
        with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found "
                                            "type int"):
            lib.nn.Unflatten(1, 6)
