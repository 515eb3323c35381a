"""nn.Module's contract against torch.nn.Module: registration, traversal, state_dict, modes,
conversion, forward hooks, repr, copying; and Parameter / Buffer."""
import copy
import pickle
import re
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, randn, to_numpy
from nn_mirror import copy_state


def make_net(lib):
    """The same nested model in either library: parameters, persistent / non-persistent / None
    buffers, a None parameter, a shared submodule, containers."""
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)
            self.act = nn.ReLU()
            self.register_buffer("running", lib.zeros(3))
            self.register_buffer("scratch", lib.ones(2), persistent=False)
            self.scale = nn.Parameter(lib.ones(3))

        def forward(self, x):
            return self.act(self.fc(x)) * self.scale + self.running

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.layers = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 2))
            self.shared = self.layers[0]
            self.head = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.Identity()})
            self.register_parameter("unused", None)
            self.register_buffer("nothing", None)
            self.register_buffer("steps", lib.tensor(0))

        def forward(self, x):
            return self.head["b"](self.head["a"](self.layers(self.block(x))))

    return Net()


@pytest.fixture
def nets():
    t = make_net(torch)
    e = copy_state(make_net(ember), t)
    return e, t


def _names(pairs):
    return [name for name, _ in pairs]


def _shapes(pairs):
    return [(name, tuple(v.shape)) for name, v in pairs]


# ---- traversal -------------------------------------------------------------------------------

def test_traversal_matches_torch(nets):
    e, t = nets
    for kw in ({}, {"remove_duplicate": False}, {"prefix": "model", "recurse": False},
               {"prefix": "m"}):
        assert _shapes(e.named_parameters(**kw)) == _shapes(t.named_parameters(**kw))
        assert _shapes(e.named_buffers(**kw)) == _shapes(t.named_buffers(**kw))
    assert _names(e.named_children()) == _names(t.named_children())
    assert _names(e.named_modules()) == _names(t.named_modules())
    assert (_names(e.named_modules(remove_duplicate=False))
            == _names(t.named_modules(remove_duplicate=False)))
    assert _names(e.named_modules(prefix="p")) == _names(t.named_modules(prefix="p"))
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.parameters(recurse=False))) == 0
    assert [type(m).__name__ for m in e.modules()] == [type(m).__name__ for m in t.modules()]
    assert [type(m).__name__ for m in e.children()] == [type(m).__name__ for m in t.children()]
    assert all(isinstance(p, ember.nn.Parameter) for p in e.parameters())


def test_get_set_submodule_parameter_buffer(nets):
    e, t = nets
    assert e.get_submodule("") is e
    assert e.get_submodule("block.fc") is e.block.fc
    assert e.get_parameter("block.fc.weight") is e.block.fc.weight
    assert e.get_parameter("block.scale") is e.block.scale
    assert e.get_buffer("block.running") is e.block.running
    for method, target in [("get_submodule", "block.nope"), ("get_submodule", "block.scale"),
                           ("get_parameter", "block.nope"), ("get_parameter", "block.running"),
                           ("get_buffer", "block.scale"), ("get_buffer", "nope.x"),
                           ("get_parameter", "block.fc.in_features")]:
        with pytest.raises(AttributeError) as te:
            getattr(t, method)(target)
        with pytest.raises(AttributeError) as ee:
            getattr(e, method)(target)
        assert str(ee.value) == str(te.value), (method, target)
    new = ember.nn.Linear(4, 5)
    e.set_submodule("block.fc", new)
    assert e.block.fc is new
    e.set_submodule("block.extra", ember.nn.ReLU())
    assert "extra" in e.block._modules
    with pytest.raises(AttributeError, match="has no attribute `other`"):
        e.set_submodule("block.other", ember.nn.ReLU(), strict=True)
    with pytest.raises(AttributeError, match="`scale` is not an nn.Module"):
        e.set_submodule("block.scale", ember.nn.ReLU())
    with pytest.raises(ValueError, match="without a target name"):
        e.set_submodule("", ember.nn.ReLU())
    with pytest.raises(ValueError, match="is not an nn.Module"):
        e.set_submodule("block.fc", 3)


# ---- registration ----------------------------------------------------------------------------

def _errors_alike(fn, lib_objs):
    """fn(lib, obj) raises the same exception type with the same message (library names
    aside) in both libraries."""
    results = []
    for lib, obj in lib_objs:
        with pytest.raises(Exception) as info:
            fn(lib, obj)
        results.append(info.value)
    e_exc, t_exc = results
    assert type(e_exc).__name__ == type(t_exc).__name__, (e_exc, t_exc)
    norm = [re.sub(r"\b(torch|ember)\b", "LIB", str(x)) for x in (e_exc, t_exc)]
    assert norm[0].startswith(norm[1].rstrip(".")), norm


@pytest.mark.parametrize("action", [
    lambda lib, m: m.register_parameter("a.b", None),
    lambda lib, m: m.register_parameter("", None),
    lambda lib, m: m.register_parameter(3, None),
    lambda lib, m: m.register_parameter("x", lib.ones(2)),
    lambda lib, m: m.register_parameter("training", None),
    lambda lib, m: m.register_parameter("y", lib.nn.Parameter(lib.ones(2)) * 2),
    lambda lib, m: m.register_buffer("a.b", None),
    lambda lib, m: m.register_buffer("", None),
    lambda lib, m: m.register_buffer("x", 3),
    lambda lib, m: m.register_buffer("training", lib.ones(1)),
    lambda lib, m: m.add_module("a.b", None),
    lambda lib, m: m.add_module("", None),
    lambda lib, m: m.add_module("x", 3),
    lambda lib, m: m.add_module("training", lib.nn.ReLU()),
    lambda lib, m: setattr(m, "w", lib.ones(2)),   # w is a parameter
    lambda lib, m: setattr(m, "sub", 3),          # sub is a module
    lambda lib, m: setattr(m, "buf", 3),          # buf is a buffer
    lambda lib, m: setattr(m, "plain", lib.nn.Buffer(lib.ones(1))),
    lambda lib, m: m.missing,
    lambda lib, m: lib.nn.Module(3),
    lambda lib, m: lib.nn.Module(x=3),
    lambda lib, m: lib.nn.Module()(lib.ones(1)),
])
def test_registration_errors_match_torch(action):
    def make(lib):
        m = lib.nn.Module()
        m.w = lib.nn.Parameter(lib.ones(2))
        m.sub = lib.nn.ReLU()
        m.register_buffer("buf", lib.zeros(1))
        m.plain = 5
        return m
    _errors_alike(action, [(ember, make(ember)), (torch, make(torch))])


def test_attribute_assignment_moves_between_kinds():
    for lib in (ember, torch):
        m = lib.nn.Module()
        m.x = lib.nn.Parameter(lib.ones(1))
        m.x = None  # stays a (None) parameter
        assert "x" in m._parameters and m.x is None
        m.y = lib.nn.ReLU()
        m.y = lib.nn.Parameter(lib.ones(1))  # a module replaced by a parameter
        assert "y" not in m._modules and "y" in m._parameters
        m.y = None
        m.z = 3
        m.z = lib.nn.ReLU()
        assert "z" in m._modules and "z" not in m.__dict__
        m.b = lib.nn.Buffer(lib.ones(2), persistent=False)
        assert "b" in m._buffers and "b" in m._non_persistent_buffers_set
        m.b = lib.zeros(2)  # stays non-persistent
        assert "b" in m._non_persistent_buffers_set and "b" not in m.state_dict()
        m.b = lib.nn.Buffer(lib.zeros(2))
        assert "b" in m.state_dict()
        del m.b
        assert "b" not in m._buffers and "b" not in m._non_persistent_buffers_set
        m.q = 3
        m.q = lib.nn.Parameter(lib.ones(1))  # a plain attribute replaced by a parameter
        assert "q" in m._parameters and "q" not in m.__dict__
        m.register_module("gone", None)
        m.add_module("later", None)
        assert m.gone is None and "(gone): None" in repr(m)
        del m.z, m.x
        assert not hasattr(m, "z") and not hasattr(m, "x")
        with pytest.raises(AttributeError):
            del m.nothing_here


def test_assignment_before_init_raises():
    class Early(ember.nn.Module):
        def __init__(self, what):
            self.p = what
    for what, kind in [(ember.nn.Parameter(ember.ones(1)), "parameters"),
                       (ember.nn.ReLU(), "module")]:
        with pytest.raises(AttributeError, match=f"cannot assign {kind} before"):
            Early(what)
    with pytest.raises(AttributeError, match="cannot assign buffer before"):
        ember.nn.Module.register_buffer(object.__new__(ember.nn.Module), "b", None)


def test_registration_hooks_global():
    from ember.nn.modules import module as emodule
    seen = []
    handles = [emodule.register_module_parameter_registration_hook(
                   lambda m, n, p: seen.append(("param", n))),
               emodule.register_module_buffer_registration_hook(
                   lambda m, n, b: seen.append(("buffer", n))),
               emodule.register_module_module_registration_hook(
                   lambda m, n, s: seen.append(("module", n)))]
    try:
        ember.nn.Linear(2, 2)
        m = ember.nn.Module()
        m.register_buffer("b", ember.ones(1))
        m.sub = ember.nn.Identity()
    finally:
        for h in handles:
            h.remove()
    assert seen == [("param", "weight"), ("param", "bias"), ("buffer", "b"), ("module", "sub")]


def test_dir_lists_members_and_hides_indices():
    m = ember.nn.Sequential(ember.nn.Linear(2, 2))
    m.extra = ember.nn.Parameter(ember.ones(1))
    m.register_buffer("buf", ember.ones(1))
    names = dir(m)
    assert {"extra", "buf", "forward", "training"} <= set(names)
    assert "0" not in names
    assert {"weight", "bias"} <= set(dir(m[0]))


# ---- state_dict -------------------------------------------------------------------------------

def test_state_dict_matches_torch(nets):
    e, t = nets
    es, ts = e.state_dict(), t.state_dict()
    assert isinstance(es, OrderedDict)
    assert list(es) == list(ts)
    for k in ts:
        assert_same(es[k], ts[k], what=k)
        assert not es[k].requires_grad
    assert dict(es._metadata) == dict(ts._metadata)
    kept = e.state_dict(keep_vars=True)
    assert kept["block.scale"] is e.block.scale
    assert list(e.state_dict(prefix="model.")) == list(t.state_dict(prefix="model."))
    dest = OrderedDict()
    assert e.state_dict(destination=dest) is dest
    with pytest.warns(FutureWarning, match="Positional args"):
        positional = e.state_dict(None, "p.", True)
    assert positional["p.block.scale"] is e.block.scale
    # values alias the parameters
    es["block.scale"][0] = 7.0
    assert float(e.block.scale[0]) == 7.0


def test_load_state_dict_round_trip_keeps_identity(nets):
    e, t = nets
    params = {name: p for name, p in e.named_parameters()}
    result = e.load_state_dict(make_net(ember).state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert result.missing_keys == [] and result.unexpected_keys == []
    for name, p in e.named_parameters():
        assert p is params[name]
    # loading casts dtype and accepts 1-element tensors for 0-d entries, as torch
    state = e.state_dict()
    state["steps"] = ember.tensor([5])
    state["block.scale"] = ember.ones(3, dtype=ember.float64) * 2
    e.load_state_dict(state)
    assert int(e.steps) == 5 and e.block.scale.dtype == ember.float32
    assert float(e.block.scale[1]) == 2.0


def _load_error(module, state, **kw):
    with pytest.raises(RuntimeError) as info:
        module.load_state_dict(state, **kw)
    return str(info.value).replace("torch.Size", "Size").replace("ember.Size", "Size")


def test_load_state_dict_errors_match_torch(nets):
    e, t = nets
    for edit in [lambda s, lib: s.pop("block.fc.bias"),
                 lambda s, lib: s.__setitem__("block.fc.extra", lib.ones(1)),
                 lambda s, lib: s.__setitem__("stranger", lib.ones(1)),
                 lambda s, lib: s.__setitem__("block.fc.weight", lib.ones(2, 2)),
                 lambda s, lib: s.__setitem__("block.running", 3.0),
                 lambda s, lib: (s.pop("steps"), s.__setitem__("head.zzz.w", lib.ones(1)))]:
        es, ts = OrderedDict(e.state_dict()), OrderedDict(t.state_dict())
        edit(es, ember)
        edit(ts, torch)
        e_msg, t_msg = _load_error(e, es), _load_error(t, ts)
        assert e_msg == t_msg.replace("torch.Tensor", "ember.Tensor")


def test_load_state_dict_not_strict_and_assign(nets):
    e, t = nets
    state = e.state_dict()
    state.pop("block.fc.bias")
    state["bogus"] = ember.ones(1)
    result = e.load_state_dict(state, strict=False)
    assert result.missing_keys == ["block.fc.bias"] and result.unexpected_keys == ["bogus"]
    assert "missing_keys=['block.fc.bias']" in repr(result)
    t_result = t.load_state_dict({k: torch.from_numpy(to_numpy(v)) for k, v in state.items()},
                                 strict=False)
    assert list(t_result.missing_keys) == result.missing_keys
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        e.load_state_dict([1, 2])
    # assign: the module takes the given tensors (as Parameters keeping requires_grad)
    e.block.fc.weight.requires_grad_(False)
    w = ember.randn(3, 4)
    e.load_state_dict({"block.fc.weight": w}, strict=False, assign=True)
    assert isinstance(e.block.fc.weight, ember.nn.Parameter)
    assert not e.block.fc.weight.requires_grad
    w[0, 0] = 100.0
    assert float(e.block.fc.weight[0, 0]) == 100.0  # the assigned tensor's memory
    buf = ember.full((3,), 4.0)
    e.load_state_dict({"block.running": buf}, strict=False, assign=True)
    assert e.block.running is buf


def test_state_dict_hooks():
    calls = []
    m = ember.nn.Linear(2, 2)
    h1 = m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars:
                                        calls.append(("pre", prefix, keep_vars)))
    h2 = m.register_state_dict_post_hook(lambda mod, sd, prefix, meta:
                                         calls.append(("post", list(sd), meta)))
    outer = ember.nn.Sequential(m)
    outer.state_dict(keep_vars=True)
    assert calls == [("pre", "0.", True), ("post", ["0.weight", "0.bias"], {"version": 1})]
    h1.remove()
    h2.remove()
    outer.state_dict()
    assert len(calls) == 2
    m.register_state_dict_post_hook(lambda *a: {"replaced": True})
    with pytest.raises(RuntimeError, match="must return None"):
        m.state_dict()
    m2 = ember.nn.Linear(2, 2)
    m2._register_state_dict_hook(lambda mod, sd, prefix, meta: {"replaced": True})
    assert m2.state_dict() == {"replaced": True}


def test_load_state_dict_hooks():
    m = ember.nn.Linear(2, 2)
    seen = []

    def pre(module, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
        seen.append(("pre", module is m, prefix, dict(local_metadata), strict))
        state_dict[prefix + "bias"] = ember.zeros(2)  # fill in a missing entry

    def post(module, incompatible):
        seen.append(("post", list(incompatible.missing_keys)))
        incompatible.unexpected_keys.clear()

    m.register_load_state_dict_pre_hook(pre)
    m.register_load_state_dict_post_hook(post)
    state = m.state_dict()
    del state["bias"]
    state["junk"] = ember.ones(1)
    m.load_state_dict(state)
    assert seen == [("pre", True, "", {"version": 1}, True), ("post", [])]
    assert not m.bias.any()


def test_extra_state():
    class WithExtra(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.value = 1

        def get_extra_state(self):
            return {"value": self.value}

        def set_extra_state(self, state):
            self.value = state["value"]

    outer = ember.nn.Sequential(WithExtra())
    state = outer.state_dict()
    assert list(state) == ["0._extra_state"]
    state["0._extra_state"] = {"value": 5}
    outer.load_state_dict(state)
    assert outer[0].value == 5
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "0._extra_state"'):
        outer.load_state_dict({})
    with pytest.raises(RuntimeError, match="Unexpected key"):
        ember.nn.Sequential(ember.nn.ReLU()).load_state_dict({"0._extra_state": 1})


# ---- modes and conversion --------------------------------------------------------------------

def test_train_eval_requires_grad_apply(nets):
    e, _ = nets
    assert e.eval() is e
    assert not any(m.training for m in e.modules())
    e.train()
    assert all(m.training for m in e.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        e.train("yes")
    assert e.requires_grad_(False) is e
    assert not any(p.requires_grad for p in e.parameters())
    order = []
    assert e.apply(lambda m: order.append(type(m).__name__)) is e
    t_order = []
    make_net(torch).apply(lambda m: t_order.append(type(m).__name__))
    assert order == t_order


def test_zero_grad(nets):
    e, _ = nets
    e(ember.randn(2, 4)).sum().backward()
    grads = {n: p.grad for n, p in e.named_parameters() if p.grad is not None}
    assert grads
    e.zero_grad(set_to_none=False)
    for n, p in e.named_parameters():
        if n in grads:
            assert p.grad is grads[n] and not p.grad.any()
    e.zero_grad()
    assert all(p.grad is None for p in e.parameters())


def test_to_keeps_parameter_identity_and_converts_floats_only(nets):
    e, _ = nets
    e(ember.randn(2, 4)).sum().backward()
    params = list(e.parameters())
    grad = e.block.fc.weight.grad
    assert e.to(ember.float64) is e
    assert [p for p in e.parameters()] == params
    assert all(p.dtype == ember.float64 for p in e.parameters())
    assert e.block.fc.weight.grad is grad and grad.dtype == ember.float64
    assert e.block.running.dtype == ember.float64 and e.steps.dtype == ember.int64
    e.float()
    assert e.block.scale.dtype == ember.float32 and e.steps.dtype == ember.int64
    for method, dt in [("half", ember.float16), ("bfloat16", ember.bfloat16),
                       ("double", ember.float64)]:
        getattr(e, method)()
        assert e.block.fc.bias.dtype == dt and e.steps.dtype == ember.int64
    e.to("cpu", ember.float32)
    assert e.block.fc.weight.dtype == ember.float32
    e.to(ember.zeros(1, dtype=ember.float64))
    assert e.block.fc.weight.dtype == ember.float64
    e.to(device="cpu", dtype=ember.float32, non_blocking=True)
    assert e.cpu() is e and e.block.fc.weight.dtype == ember.float32
    e.type(ember.float64)
    assert e.steps.dtype == ember.float64  # type() converts every tensor, as torch
    with pytest.raises(TypeError, match="only accepts floating point or complex dtypes"):
        e.to(ember.int32)
    with pytest.warns(UserWarning, match="Complex modules"):
        ember.nn.Linear(2, 2).to(ember.complex64)


def test_to_empty():
    m = ember.nn.Linear(3, 2)
    w = m.weight
    m.to_empty(device="cpu")
    assert m.weight is w and m.weight.shape == (2, 3)


# ---- forward hooks ---------------------------------------------------------------------------

def _record_hooks(lib, log):
    m = lib.nn.Linear(2, 2)

    def pre(mod, args):
        log.append(("pre", len(args)))
        return (args[0] * 2,)

    def pre_kw(mod, args, kwargs):
        log.append(("pre_kw", sorted(kwargs)))

    def fwd(mod, args, out):
        log.append(("fwd", tuple(args[0].shape)))
        return out + 1

    def fwd_kw(mod, args, kwargs, out):
        log.append(("fwd_kw", sorted(kwargs)))

    def first(mod, args, out):
        log.append(("first",))

    handles = [m.register_forward_pre_hook(pre),
               m.register_forward_pre_hook(pre_kw, with_kwargs=True),
               m.register_forward_hook(fwd),
               m.register_forward_hook(fwd_kw, with_kwargs=True),
               m.register_forward_hook(first, prepend=True)]
    return m, handles


def test_forward_hooks_match_torch():
    logs = {}
    outs = {}
    x = randn(3, 2)
    t_mod = None
    for lib in (torch, ember):
        log = logs[lib.__name__] = []
        m, handles = _record_hooks(lib, log)
        if lib is ember:
            copy_state(m, t_mod)
        else:
            t_mod = m
        outs[lib.__name__] = m(lib.tensor(x))
        handles[0].remove()
        handles[2].remove()
        outs[lib.__name__ + "2"] = m(lib.tensor(x))
    assert logs["ember"] == logs["torch"]
    assert_same(outs["ember"], outs["torch"].detach())
    assert_same(outs["ember2"], outs["torch2"].detach())


def test_forward_pre_hook_kwargs_replacement_and_bad_return():
    class Scale(ember.nn.Module):
        def forward(self, x, factor=1):
            return x * factor
    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kw: (args, {"factor": 10}), with_kwargs=True)
    assert float(m(ember.ones(1))) == 10.0
    single = Scale()
    single.register_forward_pre_hook(lambda mod, args: args[0] + 1)  # a bare value is wrapped
    assert float(single(ember.ones(1))) == 2.0
    bad = Scale()
    bad.register_forward_pre_hook(lambda mod, args, kw: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match="forward pre-hook must return None or a tuple"):
        bad(ember.ones(1), ember.ones(1), ember.ones(1))


def test_always_call_forward_hook_runs_when_forward_raises():
    for lib in (ember, torch):
        class Boom(lib.nn.Module):
            def forward(self, x):
                raise ValueError("boom")
        seen = []
        m = Boom()
        m.register_forward_hook(lambda mod, args, out: seen.append(("always", out)),
                                always_call=True)
        m.register_forward_hook(lambda mod, args, out: seen.append("never"))
        with pytest.raises(ValueError, match="boom"):
            m(lib.ones(1))
        assert seen == [("always", None)], lib


def test_global_forward_hooks():
    from ember.nn.modules import module as emodule
    seen = []
    h1 = emodule.register_module_forward_pre_hook(lambda m, a: seen.append(("pre", type(m))))
    h2 = emodule.register_module_forward_hook(lambda m, a, o: seen.append(("post", type(m))))
    own = ember.nn.ReLU()
    own.register_forward_hook(lambda m, a, o: seen.append(("own", type(m))))
    try:
        ember.nn.Sequential(own)(ember.ones(1))
    finally:
        h1.remove()
        h2.remove()
    S, R = ember.nn.Sequential, ember.nn.ReLU
    assert seen == [("pre", S), ("pre", R), ("post", R), ("own", R), ("post", S)]
    seen.clear()
    own(ember.ones(1))
    assert seen == [("own", R)]


def test_hook_handles_as_context_managers():
    m = ember.nn.ReLU()
    seen = []
    with m.register_forward_hook(lambda *a: seen.append(1)):
        m(ember.ones(1))
    m(ember.ones(1))
    assert seen == [1] and not m._forward_hooks and not m._forward_hooks_with_kwargs


# ---- repr and copying ------------------------------------------------------------------------

def test_repr_matches_torch(nets):
    e, t = nets
    assert repr(e) == repr(t)

    class Multi(ember.nn.Module):
        def extra_repr(self):
            return "first line\nsecond line"
    m = Multi()
    m.child = Multi()
    assert repr(m) == ("Multi(\n  first line\n  second line\n  (child): Multi(\n    first line\n"
                       "    second line\n  )\n)")
    assert repr(ember.nn.Module()) == "Module()"


def _picklable_net():
    net = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU(),
                              ember.nn.ModuleDict({"out": ember.nn.Linear(3, 2)}))
    net.shared = net[0]
    net.register_buffer("running", ember.zeros(3))
    net.register_buffer("scratch", ember.ones(2), persistent=False)
    return net


def test_deepcopy_and_pickle():
    net = _picklable_net()
    x = ember.randn(2, 4)
    expected = net[2]["out"](net[:2](x)).detach()
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert type(clone) is ember.nn.Sequential
        assert list(clone.state_dict()) == list(net.state_dict())
        assert all(isinstance(p, ember.nn.Parameter) and p.requires_grad
                   for p in clone.parameters())
        np.testing.assert_allclose(to_numpy(clone[2]["out"](clone[:2](x))), to_numpy(expected))
        with ember.no_grad():
            clone[0].weight.fill_(0)
        assert net[0].weight.abs().sum() > 0
        assert clone.shared is clone[0]  # sharing survives
        assert "scratch" in clone._non_persistent_buffers_set


def test_setstate_fills_missing_attributes():
    m = ember.nn.Linear(2, 2)
    state = m.__getstate__()
    for key in ("_forward_hooks_always_called", "_backward_pre_hooks",
                "_non_persistent_buffers_set", "_is_full_backward_hook"):
        del state[key]
    fresh = ember.nn.Linear.__new__(ember.nn.Linear)
    fresh.__setstate__(state)
    assert fresh._forward_hooks_always_called == {} and fresh._is_full_backward_hook is None
    assert fresh(ember.ones(2)).shape == (2,)


# ---- Parameter and Buffer --------------------------------------------------------------------

def test_parameter_basics():
    src = ember.ones(3)
    p = ember.nn.Parameter(src)
    assert p.requires_grad and p.is_leaf and isinstance(p, ember.Tensor)
    src[0] = 5.0
    assert float(p[0]) == 5.0  # shares memory
    t = torch.nn.Parameter(torch.ones(3))
    assert repr(ember.nn.Parameter(ember.ones(3))) == repr(t)
    assert repr(ember.nn.Parameter(ember.ones(2), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.ones(2), requires_grad=False))
    assert repr(ember.nn.Parameter()) == repr(torch.nn.Parameter())
    assert type(p * 2) is ember.Tensor and type(p.detach()) is ember.Tensor
    frozen = ember.nn.Parameter(ember.tensor([1, 2]), requires_grad=False)
    assert frozen.dtype == ember.int64
    with pytest.raises(RuntimeError, match="floating point and complex"):
        ember.nn.Parameter(ember.tensor([1, 2]))
    with pytest.raises(TypeError):
        ember.nn.Parameter([1.0])


def test_parameter_deepcopy_and_pickle():
    p = ember.nn.Parameter(ember.ones(2))
    p.grad = ember.ones(2)
    q = copy.deepcopy(p)
    assert type(q) is ember.nn.Parameter and q.requires_grad and q.grad is None
    q[0].data.fill_(3) if False else None
    with ember.no_grad():
        q[0] = 3.0
    assert float(p[0]) == 1.0
    memo = {}
    assert copy.deepcopy([p, p], memo)[0] is memo[id(p)]
    r = pickle.loads(pickle.dumps(ember.nn.Parameter(ember.ones(2), requires_grad=False)))
    assert type(r) is ember.nn.Parameter and not r.requires_grad


def test_buffer():
    b = ember.nn.Buffer(ember.ones(2), persistent=False)
    assert type(b) is ember.Tensor and isinstance(b, ember.nn.Buffer) and not b.persistent
    assert not isinstance(ember.ones(1), ember.nn.Buffer)
    assert isinstance(ember.nn.Buffer(), ember.Tensor) and ember.nn.Buffer().shape == (0,)
    m = ember.nn.Module()
    m.register_buffer("b", ember.nn.Buffer(ember.ones(1), persistent=False))
    assert "b" in m.state_dict()  # register_buffer's own argument decides, as torch


def test_call_fast_path_and_call_impl():
    m = ember.nn.Linear(2, 3)
    x = ember.ones(4, 2)
    np.testing.assert_array_equal(to_numpy(m._call_impl(x)), to_numpy(m(x)))
    assert m.forward(x).shape == (4, 3)


def test_warnings_free_common_usage():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = make_net(ember)
        m(ember.randn(2, 4)).sum().backward()
        m.state_dict()
        m.load_state_dict(m.state_dict())
        np.testing.assert_equal(len(list(m.parameters())), 9)
