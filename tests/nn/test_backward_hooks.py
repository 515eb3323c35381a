"""Module backward hooks (full, pre, deprecated non-full, global) against torch: what the hooks
see, in which order, and what their return values do to the gradients."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import to_numpy


def _summary(grads):
    return tuple(None if g is None else np.round(to_numpy(g), 5).tolist() for g in grads)


def _two_out(lib):
    class TwoOut(lib.nn.Module):
        def forward(self, a, b, c=None, k=2):
            return a * b * k, a + 1
    return TwoOut()


def _run(lib, build, call, register, reduce=lambda out: out.sum()):
    """Build a module, register hooks that log (and maybe rewrite) gradients, run
    forward/backward; returns the log and the leaves' gradients."""
    log = []
    module = build(lib)
    register(module, log)
    leaves, out = call(lib, module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reduce(out).backward()
    return log, [None if leaf.grad is None else to_numpy(leaf.grad) for leaf in leaves]


def _logging(module, log):
    module.register_full_backward_pre_hook(
        lambda m, go: log.append(("pre", _summary(go))))
    module.register_full_backward_hook(
        lambda m, gi, go: log.append(("hook", _summary(gi), _summary(go))))


def _same_in_both(build, call, register=_logging, reduce=None):
    kw = {} if reduce is None else {"reduce": reduce}
    e_log, e_grads = _run(ember, build, call, register, **kw)
    t_log, t_grads = _run(torch, build, call, register, **kw)
    assert e_log == t_log
    assert len(e_grads) == len(t_grads)
    for eg, tg in zip(e_grads, t_grads):
        if tg is None:
            assert eg is None
        else:
            np.testing.assert_allclose(eg, tg, rtol=1e-6)
    return e_log


def _leaf(lib, *shape, grad=True):
    return lib.ones(*shape, requires_grad=grad)


def test_grad_input_has_an_entry_per_positional_argument():
    def call(lib, m):
        a, b = _leaf(lib, 2), lib.full((2,), 3.0)
        return [a], m(a, b, 3.0)[0]
    log = _same_in_both(_two_out, call)
    assert log[1][1][1] == [0.0, 0.0] and log[1][1][2] is None  # b needs no grad; 3.0 no tensor


def test_unused_output_gradient_is_none_and_both_outputs_used():
    def call_one(lib, m):
        a = _leaf(lib, 2)
        return [a], m(a, _leaf(lib, 2))[0]

    def call_both(lib, m):
        a, b = _leaf(lib, 2), _leaf(lib, 2)
        x, y = m(a, b)
        return [a, b], x * 2 + y
    _same_in_both(_two_out, call_one)
    _same_in_both(_two_out, call_both)


def test_keyword_inputs_are_not_in_grad_input():
    def call(lib, m):
        a, b = _leaf(lib, 2), _leaf(lib, 2)
        return [a, b], m(a, b=b)[0]
    _same_in_both(_two_out, call)


def test_no_input_requires_grad_fires_at_output():
    def build(lib):
        class Scale(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = lib.nn.Parameter(lib.full((2,), 2.0))

            def forward(self, x):
                return x * self.w
        return Scale()

    def call(lib, m):
        return [m.w], m(lib.ones(2))
    m = build(ember)
    _logging(m, [])
    out = m(ember.ones(2)).sum()
    with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are "
                                         "computed with respect to module outputs"):
        out.backward()
    _same_in_both(build, call)

    def returns_grads(m, log):
        m.register_full_backward_hook(lambda mod, gi, go: (lib_tensor(mod),))

    def lib_tensor(mod):
        return mod.w * 0
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="should always return None"):
            _run(lib, build, call, returns_grads)


def test_hooks_can_replace_gradients():
    def register(m, log):
        m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 10, go[1]))
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0] + 1, None, None))

    def call(lib, m):
        a, b = _leaf(lib, 2), _leaf(lib, 2)
        x, y = m(a, b, 3.0)
        return [a, b], x + y
    _same_in_both(_two_out, call, register, reduce=lambda out: out.sum())


def test_hook_return_length_is_checked():
    def register_bad_hook(m, log):
        m.register_full_backward_hook(lambda mod, gi, go: (gi[0],))

    def register_bad_pre(m, log):
        m.register_full_backward_pre_hook(lambda mod, go: (go[0],))

    for register, match in [(register_bad_hook, "invalid number of grad_input, got 1, but "
                                                 "expected 2"),
                            (register_bad_pre, "invalid number of grad_output, got 1, but "
                                               "expected 2")]:
        for lib in (ember, torch):
            with pytest.raises(RuntimeError, match=match):
                _run(lib, _two_out, lambda lib, m: ([], m(_leaf(lib, 2), _leaf(lib, 2))[0]),
                     register)


def test_module_returning_its_input_and_called_twice():
    def build(lib):
        class Same(lib.nn.Module):
            def forward(self, x):
                return x
        return Same()

    def call(lib, m):
        a = _leaf(lib, 3)
        return [a], m(a) * 2 + m(a * 3)
    _same_in_both(build, call)


def test_prepend_and_order_with_global_hooks():
    from ember.nn.modules import module as emodule

    def register(m, log):
        m.register_full_backward_hook(lambda *a: log.append("second"))
        m.register_full_backward_hook(lambda *a: log.append("first"), prepend=True)
        m.register_full_backward_pre_hook(lambda *a: log.append("pre2"))
        m.register_full_backward_pre_hook(lambda *a: log.append("pre1"), prepend=True)

    def call(lib, m):
        a = _leaf(lib, 2)
        return [a], m(a, a)[0]
    assert _same_in_both(_two_out, call, register) == ["pre1", "pre2", "first", "second"]
    log = []
    h1 = emodule.register_module_full_backward_hook(lambda m, gi, go: log.append(type(m)))
    h2 = emodule.register_module_full_backward_pre_hook(lambda m, go: log.append("pre"))
    try:
        a = _leaf(ember, 2)
        ember.nn.Sequential(ember.nn.Tanh())(a).sum().backward()
    finally:
        h1.remove()
        h2.remove()
    assert log == ["pre", "pre", ember.nn.Tanh, ember.nn.Sequential]


def test_no_hooks_without_grad_mode_or_tensor_output():
    log = []
    m = _two_out(ember)
    _logging(m, log)
    with ember.no_grad():
        out = m(_leaf(ember, 2), _leaf(ember, 2))
    assert not out[0].requires_grad

    class ListOut(ember.nn.Module):
        def forward(self, x):
            return [x * 2]
    lo = ListOut()
    _logging(lo, log)
    with pytest.warns(UserWarning, match="module output should be a Tensor or a tuple"):
        result = lo(_leaf(ember, 2))
    result[0].sum().backward()
    assert log == []


def test_deprecated_non_full_backward_hook():
    def register(m, log):
        m.register_backward_hook(lambda mod, gi, go: log.append(
            ("old", len(gi), _summary(go))))

    def build(lib):
        return lib.nn.Linear(2, 3)

    def call(lib, m):
        m.weight.data.fill_(0.5)
        m.bias.data.fill_(0.25)
        a = _leaf(lib, 4, 2)
        return [a], m(a)
    e_log, _ = _run(ember, build, call, register)
    assert len(e_log) == 1 and e_log[0][0] == "old"
    m = ember.nn.Linear(2, 2)
    m.register_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
        m.register_full_backward_hook(lambda *a: None)
    m2 = ember.nn.Linear(2, 2)
    m2.register_full_backward_hook(lambda *a: None)
    with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full"):
        m2.register_backward_hook(lambda *a: None)


def test_removed_backward_hook_stops_firing():
    log = []
    m = ember.nn.Tanh()
    h = m.register_full_backward_hook(lambda *a: log.append(1))
    m(_leaf(ember, 2)).sum().backward()
    h.remove()
    m(_leaf(ember, 2)).sum().backward()
    assert log == [1]
    assert m(_leaf(ember, 2)).grad_fn.name() == "TanhBackward0"  # the fast path again
