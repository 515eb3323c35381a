"""no_grad, enable_grad, set_grad_enabled and inference_mode as context managers and
decorators, against torch."""
import pytest
import torch

import ember
from helpers import randn

LIBS = pytest.mark.parametrize("lib", [ember, torch], ids=["ember", "torch"])


@LIBS
def test_no_grad_context(lib):
    x = lib.tensor(randn(3), requires_grad=True)
    with lib.no_grad():
        y = x * 2
        assert not lib.is_grad_enabled()
        with lib.enable_grad():
            z = x * 2
    assert lib.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad


@LIBS
def test_decorators(lib):
    x = lib.tensor(randn(3), requires_grad=True)

    @lib.no_grad()
    def f(v):
        return v * 2

    @lib.no_grad
    def g(v):
        return v * 2

    @lib.inference_mode()
    def h(v):
        return v * 2

    @lib.enable_grad()
    def k(v):
        return v * 2

    assert not f(x).requires_grad and not g(x).requires_grad and not h(x).requires_grad
    with lib.no_grad():
        assert k(x).requires_grad


@LIBS
def test_no_grad_generator(lib):
    x = lib.tensor(randn(3), requires_grad=True)

    @lib.no_grad()
    def gen():
        for _ in range(2):
            yield x * 2

    assert [t.requires_grad for t in gen()] == [False, False]
    assert (x * 2).requires_grad


@LIBS
def test_set_grad_enabled(lib):
    x = lib.tensor(randn(3), requires_grad=True)
    with lib.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    lib.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        lib.set_grad_enabled(True)
    assert lib.is_grad_enabled()


@LIBS
def test_inference_mode(lib):
    x = lib.tensor(randn(3), requires_grad=True)
    with lib.inference_mode():
        assert lib.is_inference_mode_enabled()
        assert not (x * 2).requires_grad
    with lib.inference_mode(False):
        assert (x * 2).requires_grad
    assert not lib.is_inference_mode_enabled()


@LIBS
def test_mode_restored_after_exception(lib):
    with pytest.raises(ValueError):
        with lib.no_grad():
            raise ValueError
    assert lib.is_grad_enabled()


@LIBS
def test_in_place_update_of_parameter_under_no_grad(lib):
    w = lib.tensor(randn(3), requires_grad=True)
    (w * w).sum().backward()
    with lib.no_grad():
        w.sub_(w.grad * 0.1)
    assert w.is_leaf and w.requires_grad
