"""Tensor hooks, retain_grad, post-accumulate hooks and node hooks, against torch."""
import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, randn

LIBS = pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])


def both(fn):
    assert_same(fn(ember), fn(torch))


def test_leaf_hook_changes_gradient_and_is_removable():
    a = randn(3)

    def fn(lib):
        x = lib.tensor(a, requires_grad=True)
        seen = []
        h = x.register_hook(lambda g: seen.append(g.clone()) or g * 2)
        (x * x).sum().backward()
        first = x.grad.clone()
        h.remove()
        x.grad = None
        (x * x).sum().backward()
        assert len(seen) == 1
        return first, x.grad, seen[0]
    both(fn)


def test_leaf_hook_sees_summed_gradient_once():
    a = randn(3)

    def fn(lib):
        x = lib.tensor(a, requires_grad=True)
        calls = []
        x.register_hook(lambda g: calls.append(g.clone()))
        (x * 2 + x * 3 + x.exp()).sum().backward()
        assert len(calls) == 1
        return calls[0]
    both(fn)


def test_nonleaf_hook_and_retain_grad():
    a = randn(2, 3)

    def fn(lib):
        x = lib.tensor(a, requires_grad=True)
        h = x * 3
        h.retain_grad()
        h.register_hook(lambda g: g + 1)
        y = (h.tanh() * h).sum()
        y.backward()
        assert h.retains_grad and h.grad is not None
        return h.grad, x.grad
    both(fn)


def test_retain_grad_accumulates():
    a = randn(3)

    def fn(lib):
        x = lib.tensor(a, requires_grad=True)
        h = x * 2
        h.retain_grad()
        y = (h * h).sum()
        y.backward(retain_graph=True)
        y.backward()
        return h.grad
    both(fn)


@LIBS
def test_hook_on_tensor_without_grad_raises(lib):
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        lib.tensor(randn(3)).register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="requires_grad=False"):
        lib.tensor(randn(3)).retain_grad()


def test_post_accumulate_grad_hook():
    a = randn(3)

    def fn(lib):
        x = lib.tensor(a, requires_grad=True)
        seen = []
        x.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
        (x * x).sum().backward()
        (x * x).sum().backward()
        assert len(seen) == 2
        return seen[0], seen[1]
    both(fn)


def test_node_hooks():
    a = randn(3)

    def fn(lib):
        x = lib.tensor(a, requires_grad=True)
        y = x.exp()
        pre, post = [], []
        y.grad_fn.register_prehook(lambda gouts: pre.append(gouts[0].clone()))
        y.grad_fn.register_hook(lambda gins, gouts: post.append(gins[0].clone()))
        y.sum().backward()
        return pre[0], post[0], x.grad
    both(fn)


def test_node_hook_can_replace_gradient():
    a = randn(3)

    def fn(lib):
        x = lib.tensor(a, requires_grad=True)
        y = x.exp()
        y.grad_fn.register_hook(lambda gins, gouts: (gins[0] * 0,))
        y.sum().backward()
        return x.grad
    both(fn)


def test_hook_removed_via_context_manager():
    x = ember.tensor(randn(3), requires_grad=True)
    with x.register_hook(lambda g: g * 10):
        pass
    (x * 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(3))
