"""nn.utils (gradient clipping, parameter vectors) and the distance functions (pairwise_distance,
cosine_similarity, pdist, normalize) against torch."""
import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, check, gradcheck_fn, randn, raises, to_numpy
from nn_mirror import compare, copy_state, module_pair


def _models_with_grads(scale=1.0):
    t = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))
    e = copy_state(ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.Tanh(),
                                       ember.nn.Linear(3, 2)), t)
    x = randn(5, 4) * scale
    (t(torch.tensor(x)) * scale).sum().backward()
    (e(ember.tensor(x)) * scale).sum().backward()
    return e, t


def _assert_grads_equal(e, t):
    for (name, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert_same(ep.grad, tp.grad, what=name)


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.1, 1000.0])
def test_clip_grad_norm(norm_type, max_norm):
    e, t = _models_with_grads()
    for foreach in (None, False):
        total_e = ember.nn.utils.clip_grad_norm_(e.parameters(), max_norm, norm_type,
                                                 foreach=foreach)
        total_t = torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type,
                                                 foreach=foreach)
        assert_same(total_e, total_t)
        _assert_grads_equal(e, t)


def test_clip_grad_norm_single_tensor_empty_and_nonfinite():
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.full((3,), 4.0)
    total = ember.nn.utils.clip_grad_norm_(p, 1.0)
    np.testing.assert_allclose(float(total), np.sqrt(48), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(p.grad), np.full(3, 4 / (np.sqrt(48) + 1e-6)),
                               rtol=1e-6)
    no_grad = ember.nn.Parameter(ember.ones(2))
    assert float(ember.nn.utils.clip_grad_norm_([no_grad], 1.0)) == 0.0
    with pytest.warns(UserWarning, match="`parameters` is an empty generator"):
        ember.nn.utils.clip_grad_norm_((q for q in []), 1.0)
    p.grad = ember.tensor([1.0, float("nan"), 2.0])
    raises(RuntimeError, "The total norm of order 2.0 for gradients from `parameters` is "
           "non-finite", ember.nn.utils.clip_grad_norm_, p, 1.0, error_if_nonfinite=True)
    assert np.isnan(float(ember.nn.utils.clip_grad_norm_(p, 1.0)))  # scaled by nan, as torch
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        ember.nn.utils.clip_grad_norm([p], 1.0)


def test_total_norm_and_clip_with_norm():
    e, t = _models_with_grads()
    e_grads = [p.grad for p in e.parameters()]
    t_grads = [p.grad for p in t.parameters()]
    for norm_type in (2.0, 1.0, float("inf")):
        assert_same(ember.nn.utils.get_total_norm(e_grads, norm_type),
                    torch.nn.utils.get_total_norm(t_grads, norm_type))
    total_e = ember.nn.utils.get_total_norm(e_grads)
    total_t = torch.nn.utils.get_total_norm(t_grads)
    ember.nn.utils.clip_grads_with_norm_(e.parameters(), 0.5, total_e)
    torch.nn.utils.clip_grads_with_norm_(t.parameters(), 0.5, total_t)
    _assert_grads_equal(e, t)
    assert float(ember.nn.utils.get_total_norm([])) == 0.0


def test_clip_grad_value():
    e, t = _models_with_grads(scale=3.0)
    assert ember.nn.utils.clip_grad_value_(e.parameters(), 0.3) is None
    torch.nn.utils.clip_grad_value_(t.parameters(), 0.3)
    _assert_grads_equal(e, t)
    assert max(float(p.grad.abs().max()) for p in e.parameters()) <= np.float32(0.3)


def test_clipping_does_not_record_a_graph():
    p = ember.nn.Parameter(ember.ones(3))
    p.grad = ember.ones(3)
    ember.nn.utils.clip_grad_norm_([p], 0.5)
    ember.nn.utils.clip_grad_value_([p], 0.1)
    assert p.grad.grad_fn is None and not p.grad.requires_grad


def test_parameters_to_vector_and_back():
    e, t = _models_with_grads()
    ve = ember.nn.utils.parameters_to_vector(e.parameters())
    vt = torch.nn.utils.parameters_to_vector(t.parameters())
    assert_same(ve, vt)
    ve.sum().backward()  # differentiable
    new = ember.arange(ve.numel(), dtype=ember.float32)
    ember.nn.utils.vector_to_parameters(new, e.parameters())
    torch.nn.utils.vector_to_parameters(torch.arange(vt.numel(), dtype=torch.float32),
                                        t.parameters())
    for (name, ep), (_, tp) in zip(e.named_parameters(), t.named_parameters()):
        assert_same(ep.detach(), tp.detach(), what=name)
    new[0] = -1.0  # parameters share the vector's memory, as torch's .data assignment
    assert float(e[0].weight[0, 0]) == -1.0
    raises(TypeError, "expected ember.Tensor, but got: list",
           ember.nn.utils.vector_to_parameters, [1.0], e.parameters())


# ---- distances --------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [2.0, 1.0, 3.0, float("inf"), 0.5])
@pytest.mark.parametrize("shapes", [((4, 5), (4, 5)), ((4, 5), (5,)), ((5,), (5,)),
                                    ((2, 3, 4), (3, 4))])
def test_pairwise_distance(p, shapes):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    check(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, p), a, b)
    check(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, p, 0.1, True), a, b)
    e, t = module_pair("PairwiseDistance", p, 1e-3, True)
    compare(e, t, a, b)


def test_pairwise_distance_gradcheck_and_zero_distance():
    gradcheck_fn(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, 3.0), randn(3, 4),
                 randn(3, 4))
    a = randn(3, 4)
    check(lambda lib, a, b: lib.nn.functional.pairwise_distance(a, b, eps=0.0), a, a.copy())


@pytest.mark.parametrize("dim", [1, 0, -1])
def test_cosine_similarity(dim):
    a, b = randn(4, 5), randn(4, 5)
    a[1] = 0  # a zero vector: the norm is clamped to eps
    check(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim), a, b)
    check(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim, eps=0.5), a, b)
    e, t = module_pair("CosineSimilarity", dim)
    compare(e, t, a, b)
    gradcheck_fn(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b, dim), randn(3, 4),
                 randn(3, 4))


def test_cosine_similarity_broadcast_and_integers():
    check(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b), randn(4, 5, 1),
          randn(5, 3))
    check(lambda lib, a, b: lib.nn.functional.cosine_similarity(a, b),
          np.arange(12).reshape(3, 4), randn(3, 4))  # promoted to float
    raises(RuntimeError, "cosine_similarity: expected common dtype to be floating point, yet "
           "common dtype is int64", ember.nn.functional.cosine_similarity,
           ember.ones(2, 2, dtype=ember.int64), ember.ones(2, 2, dtype=ember.int64))
    raises(RuntimeError, "cosine_similarity: x1 .* and x2 .* cannot be broadcast together",
           ember.nn.functional.cosine_similarity, ember.ones(3, 4), ember.ones(2, 4))


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, float("inf"), 0.0])
def test_pdist(p):
    x = randn(6, 3)
    x[4] = x[1]  # a zero distance: its gradient is 0, as torch
    check(lambda lib, x: lib.nn.functional.pdist(x, p), x)
    check(lambda lib, x: lib.nn.functional.pdist(x, p), randn(1, 3))
    # torch's pdist backward crashes (segfault) on 0 rows: forward only there
    check(lambda lib, x: lib.nn.functional.pdist(x, p), randn(0, 3), grad=False)
    if p in (2.0, 3.0):
        gradcheck_fn(lambda lib, x: lib.nn.functional.pdist(x, p), randn(4, 3))
    raises(RuntimeError, "pdist only supports 2D tensors, got: 3D", ember.nn.functional.pdist,
           ember.ones(2, 2, 2))


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1)])
def test_normalize(p, dim):
    x = randn(4, 5)
    x[0] = 0
    check(lambda lib, x: lib.nn.functional.normalize(x, p, dim), x)
    gradcheck_fn(lambda lib, x: lib.nn.functional.normalize(x, p, dim), randn(3, 4))
    out = ember.empty(4, 5)
    res = ember.nn.functional.normalize(ember.tensor(x), p, dim, out=out)
    assert res is out
    np.testing.assert_allclose(to_numpy(out), to_numpy(torch.nn.functional.normalize(
        torch.tensor(x), p, dim)), rtol=1e-6)
