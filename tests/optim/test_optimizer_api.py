"""The Optimizer base class: parameter groups, errors, state dicts, zero_grad, hooks."""
import copy
import inspect
import pickle
import warnings

import numpy as np
import pytest
import torch

import ember
from optim_mirror import assert_same, leaves, make_optimizer


def three_leaves(lib):
    rng = np.random.default_rng(0)
    return leaves(lib, [rng.standard_normal((2, 3)), rng.standard_normal(3), np.array(1.5)])


def give_grads(lib, params, seed):
    rng = np.random.default_rng(seed)
    for p in params:
        p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)))


# ---- construction --------------------------------------------------------------------------
def parameters_of(fn):
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", [n for n in ember.optim.__all__ if n != "lr_scheduler"])
def test_signature_matches_torch(name):
    assert parameters_of(getattr(ember.optim, name)) == parameters_of(getattr(torch.optim, name))


def test_defaults_and_param_groups_match_torch():
    for name in ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam",
                 "RAdam", "Rprop", "ASGD", "LBFGS"):
        ours = getattr(ember.optim, name)(three_leaves(ember))
        theirs = getattr(torch.optim, name)(three_leaves(torch))
        assert_same(ours.defaults, theirs.defaults, "float64", f"{name}.defaults")
        assert_same(ours.state_dict(), theirs.state_dict(), "float64", name)


def test_groups_take_per_group_options_and_defaults():
    a, b, c = three_leaves(ember)
    opt = ember.optim.SGD([{"params": [a, b]}, {"params": c, "lr": 0.5, "momentum": 0.9}],
                          lr=0.1)
    assert [len(g["params"]) for g in opt.param_groups] == [2, 1]
    assert opt.param_groups[0]["lr"] == 0.1 and opt.param_groups[0]["momentum"] == 0
    assert opt.param_groups[1]["lr"] == 0.5 and opt.param_groups[1]["momentum"] == 0.9
    assert opt.param_groups[1]["params"][0] is c


def test_params_may_be_a_generator_or_nn_parameters():
    module_params = [ember.nn.Parameter(ember.zeros(3)), ember.nn.Parameter(ember.ones(2))]
    opt = ember.optim.Adam(p for p in module_params)
    assert all(a is b for a, b in zip(opt.param_groups[0]["params"], module_params))
    for p in module_params:
        p.grad = ember.ones_like(p)
    opt.step()
    assert not np.allclose(module_params[0].detach().numpy(), 0)


def test_named_parameters():
    results = []
    for lib in (ember, torch):
        a, b, c = three_leaves(lib)
        opt = lib.optim.Adam([{"params": [("w", a), ("b", b)]}, {"params": [("s", c)],
                                                                  "lr": 0.1}])
        give_grads(lib, [a, b, c], 1)
        opt.step()
        results.append(opt.state_dict())
    assert results[0]["param_groups"][0]["param_names"] == ["w", "b"]
    assert_same(results[0], results[1], "float64")


@pytest.mark.parametrize("make,error,match", [
    (lambda lib, p: lib.optim.SGD([]), ValueError, "optimizer got an empty parameter list"),
    (lambda lib, p: lib.optim.SGD(p[0]), TypeError, "should be an iterable of Tensors or dicts"),
    (lambda lib, p: lib.optim.SGD([p[0], np.ones(2)]), TypeError, "can only optimize Tensors"),
    (lambda lib, p: lib.optim.SGD([p[0] * 2]), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda lib, p: lib.optim.SGD([{"params": [p[0]]}, {"params": [p[0], p[1]]}]), ValueError,
     "some parameters appear in more than one parameter group"),
    (lambda lib, p: lib.optim.SGD([{"params": {p[0]}}]), TypeError, "ordered collections"),
    (lambda lib, p: lib.optim.SGD([("a", p[0]), p[1]]), ValueError, "Some param names are missing"),
    (lambda lib, p: lib.optim.SGD([{"params": [("a", p[0])]}, {"params": [p[1]]}]), ValueError,
     "cannot add param group without names"),
    (lambda lib, p: lib.optim.SGD(p, lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (lambda lib, p: lib.optim.SGD(p, momentum=-1), ValueError, "Invalid momentum value"),
    (lambda lib, p: lib.optim.SGD(p, momentum=0.9, nesterov=True, dampening=0.1), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda lib, p: lib.optim.SGD(p, nesterov=True), ValueError, "Nesterov momentum requires"),
    (lambda lib, p: lib.optim.SGD(p, lr=lib.ones(2)), ValueError, "Tensor lr must be 1-element"),
    (lambda lib, p: lib.optim.Adam(p, betas=(1.0, 0.9)), ValueError,
     "Invalid beta parameter at index 0"),
    (lambda lib, p: lib.optim.Adam(p, betas=(0.9, -0.1)), ValueError,
     "Invalid beta parameter at index 1"),
    (lambda lib, p: lib.optim.Adam(p, eps=-1), ValueError, "Invalid epsilon value"),
    (lambda lib, p: lib.optim.Adam(p, betas=(0.9, lib.tensor(0.99))), ValueError,
     "betas must be either both floats or both Tensors"),
    (lambda lib, p: lib.optim.Adam(p, lr=lib.tensor(0.1), foreach=True), ValueError,
     "lr as a Tensor is not supported for capturable=False and foreach=True"),
    (lambda lib, p: lib.optim.Adam(p, fused=True, foreach=True), RuntimeError,
     "`fused` and `foreach` cannot be `True` together"),
    (lambda lib, p: lib.optim.AdamW(p, weight_decay=-1), ValueError, "Invalid weight_decay"),
    (lambda lib, p: lib.optim.Adadelta(p, rho=1.5), ValueError, "Invalid rho value"),
    (lambda lib, p: lib.optim.RMSprop(p, alpha=-1), ValueError, "Invalid alpha value"),
    (lambda lib, p: lib.optim.Adagrad(p, lr_decay=-1), ValueError, "Invalid lr_decay value"),
    (lambda lib, p: lib.optim.Adagrad(p, initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value"),
    (lambda lib, p: lib.optim.NAdam(p, momentum_decay=-1), ValueError,
     "Invalid momentum_decay value"),
    (lambda lib, p: lib.optim.Rprop(p, etas=(1.2, 0.5)), ValueError, "Invalid eta values"),
    (lambda lib, p: lib.optim.ASGD(p, weight_decay=-1), ValueError, "Invalid weight_decay"),
    (lambda lib, p: lib.optim.Adam(p, differentiable=True), NotImplementedError,
     "differentiable=True is not supported"),
])
def test_construction_errors_match_torch(make, error, match):
    with pytest.raises(error, match=match):
        make(ember, three_leaves(ember))
    if error is not NotImplementedError:  # PyTorch supports differentiable=True
        with pytest.raises(error):
            make(torch, three_leaves(torch))


def test_duplicate_parameter_in_a_group_warns():
    p = three_leaves(ember)[0]
    with pytest.warns(UserWarning, match="duplicate parameters"):
        ember.optim.SGD([p, p])


def test_fused_requires_floating_point_parameters():
    p = ember.zeros(2, dtype=ember.complex64).requires_grad_()
    opt = ember.optim.Adam([p], fused=True)
    p.grad = ember.ones(2, dtype=ember.complex64)
    with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be "
                                           "floating point"):
        opt.step()


def test_add_param_group():
    a, b, c = three_leaves(ember)
    opt = ember.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b, c], "lr": 0.01})
    assert len(opt.param_groups) == 2
    assert opt.param_groups[1]["betas"] == (0.9, 0.999) and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([c])
    assert len(opt.param_groups) == 2


def test_repr_lists_group_options():
    opt = ember.optim.SGD(three_leaves(ember), lr=0.1)
    ref = torch.optim.SGD(three_leaves(torch), lr=0.1)
    assert repr(opt) == repr(ref)


# ---- zero_grad ---------------------------------------------------------------------------
def test_zero_grad_sets_to_none_by_default():
    params = three_leaves(ember)
    give_grads(ember, params, 0)
    ember.optim.SGD(params).zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_to_zeros_keeps_the_gradient_tensors():
    params = three_leaves(ember)
    give_grads(ember, params, 0)
    grads = [p.grad for p in params]
    ember.optim.SGD(params).zero_grad(set_to_none=False)
    for p, g in zip(params, grads):
        assert p.grad is g and not g.requires_grad
        np.testing.assert_array_equal(g.numpy(), 0)


def test_zero_grad_detaches_a_gradient_with_history():
    x = ember.ones(3).requires_grad_()
    y = ember.ones(3).requires_grad_()
    (x * y).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None
    ember.optim.SGD([x]).zero_grad(set_to_none=False)
    assert x.grad.grad_fn is None
    np.testing.assert_array_equal(x.grad.numpy(), 0)


# ---- state dicts -----------------------------------------------------------------------------
def stepped(lib, name, options, steps=5):
    params = three_leaves(lib)
    opt = make_optimizer(lib, name, [{"params": params[:2]}, {"params": params[2:], "lr": 0.05}],
                         options)
    for i in range(steps):
        give_grads(lib, params, i)
        opt.step()
    return params, opt


OPTIMIZERS = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(amsgrad=True)),
              ("AdamW", dict()), ("RMSprop", dict(centered=True, momentum=0.5)),
              ("Adagrad", dict(lr_decay=0.1)), ("Adadelta", dict()), ("Adamax", dict()),
              ("NAdam", dict()), ("RAdam", dict()), ("Rprop", dict()), ("ASGD", dict(t0=2))]


@pytest.mark.parametrize("name,options", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_state_dict_layout_matches_torch(name, options):
    _, ours = stepped(ember, name, options)
    _, theirs = stepped(torch, name, options)
    assert_same(ours.state_dict(), theirs.state_dict(), "float64")


@pytest.mark.parametrize("name,options", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_loaded_state_continues_like_uninterrupted(name, options, tmp_path):
    params, opt = stepped(ember, name, options, steps=3)
    saved = save_and_load(opt.state_dict(), tmp_path)
    copies = [p.detach().clone().requires_grad_() for p in params]
    fresh = make_optimizer(ember, name, [{"params": copies[:2]}, {"params": copies[2:]}],
                           options)
    fresh.load_state_dict(saved)
    assert fresh.param_groups[1]["lr"] == 0.05
    for i in range(3, 6):
        give_grads(ember, params, i)
        give_grads(ember, copies, i)
        opt.step()
        fresh.step()
    # Loading casts the float32 scalars NAdam (mu_product) and ASGD (eta, mu) keep to the
    # parameters' float64, as PyTorch does, so their continuation differs in the last bits.
    scalar = {"NAdam": "mu_product", "ASGD": "eta"}.get(name)
    rtol = 1e-7 if scalar else 0
    for a, b in zip(params, copies):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol)
    if scalar:
        assert fresh.state[copies[0]][scalar].dtype == ember.float64


# options added to PyTorch's optimizers over time, which older checkpoints lack
NEWER_OPTIONS = ("amsgrad", "nesterov", "momentum", "centered", "maximize", "foreach",
                 "capturable", "differentiable", "fused", "decoupled_weight_decay")


@pytest.mark.parametrize("name,options", OPTIMIZERS, ids=[o[0] for o in OPTIMIZERS])
def test_old_checkpoint_fills_missing_options_like_torch(name, options):
    loaded = []
    for lib in (ember, torch):
        _, opt = stepped(lib, name, options, steps=1)
        state = copy.deepcopy(opt.state_dict())
        for group in state["param_groups"]:
            for key in NEWER_OPTIONS:
                group.pop(key, None)
        opt.load_state_dict(state)
        loaded.append(opt.state_dict())
    assert_same(loaded[0], loaded[1], "float64")


def test_torch_checkpoint_loads_into_ember(tmp_path):
    """A PyTorch optimizer's checkpoint (torch.save) continues in ember (ember.load)."""
    params_t, theirs = stepped(torch, "Adam", dict(amsgrad=True), steps=3)
    torch.save(theirs.state_dict(), tmp_path / "optim.pt")
    state = ember.load(tmp_path / "optim.pt")
    params = [ember.tensor(p.detach().numpy()).requires_grad_() for p in params_t]
    ours = ember.optim.Adam([{"params": params[:2]}, {"params": params[2:]}], amsgrad=True)
    ours.load_state_dict(state)
    for i in range(3, 6):
        give_grads(torch, params_t, i)
        give_grads(ember, params, i)
        theirs.step()
        ours.step()
    for a, b in zip(params, params_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
    assert_same(ours.state_dict(), theirs.state_dict(), "float64")


def save_and_load(obj, tmp_path):
    """``obj`` after a round trip through a checkpoint file."""
    ember.save(obj, tmp_path / "checkpoint.pt")
    return ember.load(tmp_path / "checkpoint.pt")


def test_load_state_dict_casts_state_to_the_parameter_dtype_except_step():
    p = ember.zeros(3, dtype=ember.float64).requires_grad_()
    opt = ember.optim.Adam([p])
    p.grad = ember.ones(3, dtype=ember.float64)
    opt.step()
    state = copy.deepcopy(opt.state_dict())
    q = ember.zeros(3, dtype=ember.float32).requires_grad_()
    fresh = ember.optim.Adam([q])
    fresh.load_state_dict(state)
    assert fresh.state[q]["exp_avg"].dtype == ember.float32
    assert fresh.state[q]["step"].dtype == ember.float32  # the saved step, unchanged
    assert fresh.state[q]["step"] is state["state"][0]["step"]


def test_load_state_dict_shares_tensors_that_need_no_cast_like_torch():
    _, opt = stepped(ember, "Adam", {}, steps=1)
    fresh = make_optimizer(ember, "Adam", [{"params": three_leaves(ember)[:2]},
                                           {"params": three_leaves(ember)[2:]}], {})
    state = opt.state_dict()
    fresh.load_state_dict(state)
    first = fresh.param_groups[0]["params"][0]
    assert fresh.state[first]["exp_avg"] is state["state"][0]["exp_avg"]


def test_load_state_dict_validates_groups():
    _, opt = stepped(ember, "SGD", dict(lr=0.1, momentum=0.9), steps=1)
    state = opt.state_dict()
    a, b, c = three_leaves(ember)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        ember.optim.SGD([a, b, c]).load_state_dict(state)
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        ember.optim.SGD([{"params": [a]}, {"params": [b, c]}]).load_state_dict(state)


def test_load_state_dict_keeps_unknown_state_and_names():
    a, b, c = three_leaves(ember)
    opt = ember.optim.SGD([("w", a), ("b", b)], momentum=0.9)
    give_grads(ember, [a, b], 0)
    opt.step()
    state = opt.state_dict()
    state["state"]["extra"] = {"note": 1}
    fresh = ember.optim.SGD([("x", b.detach().clone()), ("y", c)], momentum=0.9)
    fresh.load_state_dict(state)
    assert fresh.state["extra"] == {"note": 1}
    assert fresh.param_groups[0]["param_names"] == ["w", "b"]


def test_optimizer_pickles():
    params, opt = stepped(ember, "RMSprop", dict(momentum=0.5), steps=2)
    clone = pickle.loads(pickle.dumps(opt))
    assert type(clone) is ember.optim.RMSprop
    assert len(clone.state) == 3
    assert clone.param_groups[0]["momentum"] == 0.5


# ---- hooks ---------------------------------------------------------------------------------
def test_step_hooks_run_in_order_and_can_be_removed():
    params = three_leaves(ember)
    opt = ember.optim.SGD(params, lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    g1 = ember.optim.optimizer.register_optimizer_step_pre_hook(
        lambda o, a, k: calls.append("global pre"))
    g2 = ember.optim.optimizer.register_optimizer_step_post_hook(
        lambda o, a, k: calls.append("global post"))
    try:
        opt.step()
    finally:
        g1.remove()
        g2.remove()
    assert calls == ["global pre", ("pre", True), ("post", True), "global post"]
    h1.remove()
    h2.remove()
    calls.clear()
    opt.step()
    assert calls == []


def test_pre_hook_can_replace_the_arguments():
    p = ember.ones(2).requires_grad_()
    opt = ember.optim.SGD([p], lr=0.1)
    replaced = []

    def closure():
        replaced.append(True)
        return ember.tensor(0.0)

    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append((args, kwargs)))
    opt.register_step_pre_hook(lambda o, args, kwargs: ((o, closure), {}))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append((args, kwargs)))
    assert opt.step(closure=None).item() == 0.0 and replaced == [True]
    assert seen == [((opt,), {"closure": None}), ((opt, closure), {})]  # as PyTorch passes them
    opt.register_step_pre_hook(lambda o, args, kwargs: "bad")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_hooks_run_once_when_a_subclass_step_calls_its_parent():
    class Logged(ember.optim.SGD):
        def step(self, closure=None):
            return super().step(closure)

    opt = Logged(three_leaves(ember), lr=0.1)
    calls = []
    opt.register_step_post_hook(lambda *a: calls.append(1))
    opt.step()
    assert calls == [1]


def test_custom_optimizer_subclass_gets_hooks():
    class Halve(ember.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"factor": 0.5})

        def step(self, closure=None):
            with ember.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.mul_(group["factor"])

    p = ember.ones(2).requires_grad_()
    opt = Halve([p])
    calls = []
    opt.register_step_pre_hook(lambda *a: calls.append("pre"))
    opt.step()
    assert calls == ["pre"]
    np.testing.assert_array_equal(p.detach().numpy(), 0.5)


def test_state_dict_hooks():
    _, opt = stepped(ember, "SGD", dict(momentum=0.9), steps=1)
    seen = []
    opt.register_state_dict_pre_hook(lambda o: seen.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "tag": 1})
    assert opt.state_dict()["tag"] == 1 and seen == ["pre"]

    def drop_tag(o, sd):
        sd = dict(sd)
        sd.pop("tag")
        seen.append("load pre")
        return sd

    opt.register_load_state_dict_pre_hook(drop_tag)
    opt.register_load_state_dict_post_hook(lambda o: seen.append("load post"), prepend=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.load_state_dict(opt.state_dict())
    assert seen == ["pre", "pre", "load pre", "load post"]
