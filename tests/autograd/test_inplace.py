"""In-place ops under autograd: version counters, the refusals PyTorch makes, rebasing history,
and in-place changes through views (CopySlices) — against torch."""
import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, randn

LIBS = pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])


def both(fn):
    assert_same(fn(ember), fn(torch))


@LIBS
def test_inplace_on_leaf_requiring_grad_raises(lib):
    x = lib.tensor(randn(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        x += 1
    assert x._version == 0


@LIBS
def test_inplace_on_view_of_leaf_raises(lib):
    x = lib.tensor(randn(3, 2), requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.transpose(0, 1).mul_(2)


@LIBS
def test_modified_saved_input_is_detected(lib):
    x = lib.tensor(randn(3), requires_grad=True)
    h = x * 1
    y = h * h
    h.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@LIBS
def test_modified_saved_output_is_detected(lib):
    x = lib.tensor(randn(3), requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_on_non_leaf_gradient():
    a, b = randn(3), randn(3)

    def fn(lib):
        x, w = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        h = x * 2
        h.mul_(w)
        h += x
        h.tanh_()
        h.sum().backward()
        return h, x.grad, w.grad
    both(fn)


def test_inplace_into_tensor_without_grad_takes_history():
    a = randn(3)

    def fn(lib):
        w = lib.tensor(a, requires_grad=True)
        buf = lib.zeros(3)
        buf.add_(w * 3)
        assert buf.requires_grad and not buf.is_leaf
        buf.exp().sum().backward()
        return w.grad
    both(fn)


def test_inplace_through_view_of_non_leaf():
    a, b = randn(2, 3), randn(3, 2)

    def fn(lib):
        x, w = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        h = x * 1
        v = h.transpose(0, 1)
        v.mul_(w)
        (h * h).sum().backward()
        return h, x.grad, w.grad
    both(fn)


def test_version_counter_is_shared_by_views():
    x = ember.tensor(randn(2, 3))
    v = x.view(3, 2)
    assert x._version == v._version == 0
    v.add_(1)
    assert x._version == 1 and v._version == 1
    x.mul_(2)
    assert v._version == 2
    np.testing.assert_allclose(v.numpy(), x.numpy().reshape(3, 2))


@LIBS
def test_inplace_dtype_rule(lib):
    x = lib.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.add_(1.5)
    assert x.tolist() == [1, 2, 3]


@LIBS
def test_inplace_shape_rule(lib):
    x = lib.tensor(randn(3))
    with pytest.raises(RuntimeError, match="doesn't match the broadcast shape"):
        x.add_(lib.tensor(randn(2, 3)))


@LIBS
def test_writing_into_expanded_tensor_raises(lib):
    x = lib.tensor(randn(1, 3)).expand(4, 3)
    with pytest.raises(RuntimeError):
        x.add_(1)


@pytest.mark.parametrize("write", ["base", "sibling"])
def test_views_see_later_inplace_changes_of_their_base(write):
    a0 = randn(3)

    def fn(lib):
        a = lib.tensor(a0, requires_grad=True)
        x = a * 1
        v = x[:2]
        if write == "base":
            x.mul_(2)
        else:
            x[0].mul_(3)
        (v * v).sum().backward()
        return v, a.grad
    both(fn)


def test_view_of_tensor_that_later_requires_grad():
    a0, w0 = randn(3), randn(3)

    def fn(lib):
        w = lib.tensor(w0, requires_grad=True)
        x = lib.zeros(3)
        v = x[1:]
        x.add_(w)
        assert v.requires_grad
        v.sum().backward()
        return w.grad
    both(fn)
