"""The backward engine: accumulation, retain_graph, autograd.grad, double backward, graph
shapes, and the errors PyTorch gives — each run in ember and torch on the same code."""
import gc
import weakref

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, randn

LIBS = pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])


def leaf(lib, arr):
    return lib.tensor(arr, requires_grad=True)


def run_both(fn):
    """fn(lib) in both libraries; results compared."""
    assert_same(fn(ember), fn(torch))


def test_accumulates_over_backward_calls():
    a = randn(3, 4)

    def fn(lib):
        x = leaf(lib, a)
        (x * x).sum().backward()
        (x.exp()).sum().backward()
        return x.grad
    run_both(fn)


def test_diamond_and_reuse():
    a, b = randn(2, 3), randn(3)

    def fn(lib):
        x, w = leaf(lib, a), leaf(lib, b)
        h = x * w
        y = (h.tanh() + h * h - h.exp() / (1 + h * h)).sum() + (x - w).sum()
        y.backward()
        return x.grad, w.grad
    run_both(fn)


def test_leaf_as_root_and_gradient_argument():
    a, g = randn(3), randn(3)

    def fn(lib):
        x = leaf(lib, a)
        x.backward(lib.tensor(g))
        y = leaf(lib, a)
        (y * 2).backward(gradient=lib.tensor(g))
        return x.grad, y.grad
    run_both(fn)


def test_multiple_roots():
    a = randn(4)

    def fn(lib):
        x = leaf(lib, a)
        y1, y2 = (x * 2).sum(), (x * x).sum()
        lib.autograd.backward([y1, y2])
        first = x.grad.clone()
        x.grad = None
        lib.autograd.backward([x * 3], [lib.ones(4)])
        return first, x.grad
    run_both(fn)


@LIBS
def test_second_backward_through_freed_graph_raises(lib):
    x = leaf(lib, randn(3))
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


@LIBS
def test_retain_graph_allows_second_backward(lib):
    x = leaf(lib, randn(3))
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.clone()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy(), rtol=1e-6)


@LIBS
def test_nodes_without_saved_tensors_run_twice(lib):
    x = leaf(lib, randn(3))
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.ones(3))


@LIBS
def test_non_scalar_backward_needs_gradient(lib):
    x = leaf(lib, randn(3))
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        (x * 2).backward()


@LIBS
def test_backward_without_grad_raises(lib):
    x = lib.tensor(randn(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.sum().backward()


@LIBS
def test_gradient_shape_mismatch(lib):
    x = leaf(lib, randn(3))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(lib.ones(4))


def test_autograd_grad_matches():
    a, b = randn(3, 2), randn(2)

    def fn(lib):
        x, w = leaf(lib, a), leaf(lib, b)
        y = (x * w).tanh().sum()
        gx, gw = lib.autograd.grad(y, (x, w))
        assert x.grad is None and w.grad is None  # grad() does not accumulate
        return gx, gw
    run_both(fn)


def test_autograd_grad_wrt_intermediate():
    a = randn(3)

    def fn(lib):
        x = leaf(lib, a)
        h = x * 2
        y = (h.exp() * h).sum()
        (gh,) = lib.autograd.grad(y, h)
        return gh
    run_both(fn)


@LIBS
def test_autograd_grad_allow_unused(lib):
    x, z = leaf(lib, randn(3)), leaf(lib, randn(3))
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        lib.autograd.grad(y, (x, z), retain_graph=True)
    gx, gz = lib.autograd.grad(y, (x, z), allow_unused=True, retain_graph=True)
    assert gz is None
    gx, gz = lib.autograd.grad(y, (x, z), materialize_grads=True)
    np.testing.assert_array_equal(gz.numpy(), np.zeros(3))


@LIBS
def test_autograd_grad_input_not_requiring_grad(lib):
    x, c = leaf(lib, randn(3)), lib.tensor(randn(3))
    with pytest.raises(RuntimeError, match="does not require grad"):
        lib.autograd.grad((x * c).sum(), c)


def test_double_backward():
    a = randn(4)

    def fn(lib):
        x = leaf(lib, a)
        y = (x * x * x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        assert g.requires_grad
        (gg,) = lib.autograd.grad((g * g).sum(), x, create_graph=True)
        (ggg,) = lib.autograd.grad(gg.sum(), x)
        return g.detach(), gg.detach(), ggg
    run_both(fn)


def test_double_backward_through_tanh_and_matmul():
    a, b = randn(3, 4), randn(4, 2)

    def fn(lib):
        x, w = leaf(lib, a), leaf(lib, b)
        y = (x @ w).tanh().sum()
        gx, gw = lib.autograd.grad(y, (x, w), create_graph=True)
        penalty = (gx * gx).sum() + (gw * gw).sum()
        penalty.backward()
        return x.grad, w.grad
    run_both(fn)


def test_backward_create_graph_accumulates_graph():
    a = randn(3)

    def fn(lib):
        x = leaf(lib, a)
        (x * x * x).sum().backward(create_graph=True)
        g = x.grad
        assert g.requires_grad
        (h,) = lib.autograd.grad(g.sum(), x)
        return h
    run_both(fn)


def test_backward_inputs_argument():
    a, b = randn(3), randn(3)

    def fn(lib):
        x, w = leaf(lib, a), leaf(lib, b)
        h = x * w
        (h * h).sum().backward(inputs=[w])
        assert x.grad is None
        return w.grad
    run_both(fn)


def test_deep_chain_has_no_recursion_limit():
    x = ember.tensor(np.ones(2, np.float32), requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(2))


def test_graph_is_freed_with_its_output():
    x = ember.tensor(randn(1000), requires_grad=True)
    y = (x.exp() * x).sum()
    ref = weakref.ref(y.grad_fn)
    del y
    gc.collect()
    assert ref() is None


def test_saved_tensors_are_released_after_backward():
    x = ember.tensor(randn(10), requires_grad=True)
    h = x.exp()
    y = (h * x).sum()
    node = y.grad_fn.next_functions[0][0]  # the Mul node, which saved h and x
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        node.saved_tensors


def test_grad_fn_names_and_next_functions():
    x = ember.tensor(randn(3), requires_grad=True)
    t = torch.tensor(randn(3), requires_grad=True)
    for lib, v in ((ember, x), (torch, t)):
        y = (v * 2).exp().sum()
        assert y.grad_fn.name() == "SumBackward0"
        (nxt, nr), = y.grad_fn.next_functions
        assert nxt.name() == "ExpBackward0" and nr == 0
        mul = nxt.next_functions[0][0]
        assert mul.name() == "MulBackward0"
        acc = mul.next_functions[0][0]
        assert acc.variable is v


def test_leaf_and_requires_grad_flags():
    x = ember.tensor(randn(3), requires_grad=True)
    y = x * 2
    assert x.is_leaf and not y.is_leaf and y.requires_grad
    assert ember.tensor([1, 2]).is_leaf
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        ember.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf variables"):
        y.requires_grad = False
    # integer results of differentiable inputs never require grad
    assert not x.to(ember.int64).requires_grad


def test_detach_shares_memory_and_version():
    x = ember.tensor(randn(3), requires_grad=True)
    y = x * 2
    d = y.detach()
    assert not d.requires_grad and d.grad_fn is None
    assert np.shares_memory(d.numpy(), y._data)
    d.add_(1)
    assert y._version == 1
    y.detach_()
    assert y.is_leaf and not y.requires_grad


def test_leaf_gradients_never_alias():
    """.grad takes a gradient without a copy only when nothing else holds it: pass-through
    gradients (add), user-given gradients and hooked gradients are copied."""
    a, b = ember.tensor(randn(3), requires_grad=True), ember.tensor(randn(3), requires_grad=True)
    v = ember.tensor(randn(3))
    (a + b).backward(v)
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    assert not np.shares_memory(a.grad.numpy(), v.numpy())
    w = ember.tensor(randn(3), requires_grad=True)
    w.backward(v)
    assert not np.shares_memory(w.grad.numpy(), v.numpy())
    kept = []
    x = ember.tensor(randn(3), requires_grad=True)
    x.register_hook(lambda g: kept.append(g))
    (x * 2).sum().backward()
    (x * 2).sum().backward()
    np.testing.assert_array_equal(kept[0].numpy(), np.full(3, 2.0))
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 4.0))
    before = v.numpy().copy()
    (a + b).backward(v)
    np.testing.assert_array_equal(v.numpy(), before)
    np.testing.assert_array_equal(a.grad.numpy(), 2 * before)
