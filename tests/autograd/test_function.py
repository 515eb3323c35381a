"""User-defined autograd Functions, written once and run in ember and torch."""
import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, randn


def make_functions(lib):
    class ScaledExp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, scale):
            y = (x * scale).exp()
            ctx.save_for_backward(y)
            ctx.scale = scale
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y * ctx.scale, None

    class TwoOutputs(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            ctx.flags = ctx.needs_input_grad
            return x * w, x + w

        @staticmethod
        def backward(ctx, g1, g2):
            x, w = ctx.saved_tensors
            return g1 * w + g2, g1 * x + g2

    class WithIndex(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            idx = (x * 0).to(lib.int64)
            ctx.mark_non_differentiable(idx)
            return x * 2, idx

        @staticmethod
        def backward(ctx, g, gidx):
            return g * 2

    class SetupStyle(lib.autograd.Function):
        @staticmethod
        def forward(x, w):
            return x * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            return grad * w, grad * x

    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 3

    return ScaledExp, TwoOutputs, WithIndex, SetupStyle, Identity


def both(fn):
    assert_same(fn(ember), fn(torch))


def test_custom_function_values_and_grads():
    a = randn(4)

    def fn(lib):
        ScaledExp = make_functions(lib)[0]
        x = lib.tensor(a, requires_grad=True)
        y = ScaledExp.apply(x, 0.5)
        assert y.grad_fn is not None and "ScaledExp" in y.grad_fn.name()
        y.sum().backward()
        return y, x.grad
    both(fn)


def test_two_outputs_and_needs_input_grad():
    a, b = randn(3), randn(3)

    def fn(lib):
        TwoOutputs = make_functions(lib)[1]
        x = lib.tensor(a, requires_grad=True)
        w = lib.tensor(b)
        p, s = TwoOutputs.apply(x, w)
        (p.sum() * 2).backward()  # s unused: its gradient is materialized as zeros
        return p, s, x.grad
    both(fn)
    TwoOutputs = make_functions(ember)[1]
    p, _ = TwoOutputs.apply(ember.tensor(randn(2), requires_grad=True), ember.tensor(randn(2)))
    assert p.grad_fn.flags == (True, False)


def test_non_differentiable_output():
    a = randn(3)

    def fn(lib):
        WithIndex = make_functions(lib)[2]
        x = lib.tensor(a, requires_grad=True)
        y, idx = WithIndex.apply(x)
        assert not idx.requires_grad
        y.sum().backward()
        return x.grad
    both(fn)


def test_setup_context_style():
    a, b = randn(3), randn(3)

    def fn(lib):
        SetupStyle = make_functions(lib)[3]
        x, w = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        SetupStyle.apply(x, w).sum().backward()
        return x.grad, w.grad
    both(fn)


def test_returning_input_gives_new_tensor():
    a = randn(3)

    def fn(lib):
        Identity = make_functions(lib)[4]
        x = lib.tensor(a, requires_grad=True)
        y = Identity.apply(x)
        assert y is not x
        y.sum().backward()
        return x.grad
    both(fn)


def test_double_backward_through_custom_function():
    a = randn(3)

    def fn(lib):
        ScaledExp = make_functions(lib)[0]
        x = lib.tensor(a, requires_grad=True)
        (g,) = lib.autograd.grad(ScaledExp.apply(x, 2.0).sum(), x, create_graph=True)
        g.sum().backward()
        return x.grad
    both(fn)


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_wrong_number_of_gradients(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    x = lib.tensor(randn(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Bad.apply(x, x).sum().backward()


@pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])
def test_wrong_gradient_shape(lib):
    class Bad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return lib.ones(5)

    x = lib.tensor(randn(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="invalid gradient"):
        Bad.apply(x).sum().backward()


def test_gradcheck_catches_wrong_backward():
    class WrongExp(ember.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y * 1.01

    x = ember.tensor(np.array([0.1, 0.5]), requires_grad=True)
    with pytest.raises(ember.autograd.GradcheckError, match="Jacobian mismatch"):
        ember.autograd.gradcheck(WrongExp.apply, (x,))
    assert not ember.autograd.gradcheck(WrongExp.apply, (x,), raise_exception=False)


def test_gradcheck_complex():
    x = ember.tensor(np.array([0.3 + 0.2j, -0.4 + 0.7j]), requires_grad=True)
    y = ember.tensor(np.array([1.1 - 0.5j, 0.2 + 0.3j]), requires_grad=True)
    assert ember.autograd.gradcheck(lambda a, b: a * b, (x, y))
    assert ember.autograd.gradcheck(lambda a, b: (a / b).exp(), (x, y))
