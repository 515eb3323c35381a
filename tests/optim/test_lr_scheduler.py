"""Learning-rate schedulers: the rates (and cycled momenta) over many steps equal PyTorch's, and
state dicts round-trip."""
import copy
import inspect
import math
import warnings

import numpy as np
import pytest
import torch

import ember

# PyTorch warns when a scheduler inside SequentialLR steps before its optimizer did.
pytestmark = pytest.mark.filterwarnings("ignore:Detected call of")

STEPS = 60


def make_optimizer(lib, name="SGD", groups=2, **options):
    """An optimizer with ``groups`` groups of different learning rates."""
    params = [lib.zeros(2).requires_grad_() for _ in range(groups)]
    options = {"SGD": dict(momentum=0.9), "Adam": {}}[name] | options
    return getattr(lib.optim, name)(
        [{"params": [p], "lr": 0.1 * (i + 1)} for i, p in enumerate(params)], **options)


def hyper_trace(opt):
    """What a scheduler may change: each group's lr, momentum and betas."""
    return [(float(g["lr"]), g.get("momentum"), g.get("betas")) for g in opt.param_groups]


def run(lib, build, steps=STEPS, optimizer="SGD", stepper=None):
    opt = make_optimizer(lib, optimizer)
    sched = build(lib.optim.lr_scheduler, opt)
    trace = [(hyper_trace(opt), [float(v) for v in sched.get_last_lr()])]
    for i in range(steps):
        opt.step()
        if stepper is None:
            sched.step()
        else:
            stepper(sched, i)
        trace.append((hyper_trace(opt), [float(v) for v in sched.get_last_lr()]))
    return sched, trace


def halve(epoch):
    return 0.5 ** (epoch // 7)


def decay(epoch):
    return 0.97


SCHEDULERS = {
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 1 / (1 + e)),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(o, [halve, lambda e: 0.95 ** e]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, decay),
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.25, total_iters=8),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=17),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                              total_iters=10),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=25, power=2.0),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=13, eta_min=0.001),
    "CosineAnnealingLR-0": lambda m, o: m.CosineAnnealingLR(o, T_max=20),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7),
    "CosineAnnealingWarmRestarts-mult": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=3, T_mult=2, eta_min=0.01),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5),
    "CyclicLR-triangular2": lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.02], max_lr=0.3,
                                                    step_size_up=4, step_size_down=7,
                                                    mode="triangular2"),
    "CyclicLR-exp_range": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=6,
                                                  mode="exp_range", gamma=0.97,
                                                  base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-scale_fn": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                 scale_fn=lambda x: 1 / (1 + x),
                                                 scale_mode="iterations",
                                                 cycle_momentum=False),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS + 1),
    "OneCycleLR-linear-3phase": lambda m, o: m.OneCycleLR(
        o, max_lr=[0.4, 0.8], epochs=6, steps_per_epoch=11, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, div_factor=10.0, final_div_factor=100.0),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.ExponentialLR(o, gamma=0.9),
            m.CosineAnnealingLR(o, T_max=10)], milestones=[5, 20]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.95),
         m.MultiStepLR(o, [10, 25], gamma=0.5)]),
    "Sequential-of-chained": lambda m, o: m.SequentialLR(
        o, [m.ChainedScheduler([m.LinearLR(o, 0.5, total_iters=4),
                                m.StepLR(o, 2, gamma=0.9)]),
            m.PolynomialLR(o, total_iters=30)], milestones=[10]),
}


def same_values(a, b):
    """Equal structure and equal numbers: the same formulas in the same order give the same
    floats (a closed form instead of PyTorch's recursion would not)."""
    if isinstance(b, (list, tuple)):
        return isinstance(a, (list, tuple)) and len(a) == len(b) and all(
            same_values(x, y) for x, y in zip(a, b))
    if isinstance(b, float):
        return a == b
    return a == b


def assert_traces_equal(ours, theirs):
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert same_values(a, b), f"step {step}: {a} vs {b}"


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_schedule_matches_torch(name):
    build = SCHEDULERS[name]
    _, ours = run(ember, build)
    _, theirs = run(torch, build)
    assert_traces_equal(ours, theirs)


@pytest.mark.parametrize("name", ["CyclicLR", "OneCycleLR"])
def test_cycled_betas_of_adam_match_torch(name):
    _, ours = run(ember, SCHEDULERS[name], optimizer="Adam")
    _, theirs = run(torch, SCHEDULERS[name], optimizer="Adam")
    assert_traces_equal(ours, theirs)


def test_warm_restarts_with_fractional_epochs():
    def stepper(sched, i):
        sched.step(i / 5 + 0.1)

    def build(m, o):
        return m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=3, eta_min=0.005)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, ours = run(ember, build, stepper=stepper)
        _, theirs = run(torch, build, stepper=stepper)
    assert_traces_equal(ours, theirs)


CLOSED_FORM = ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
               "PolynomialLR", "CosineAnnealingLR", "LambdaLR"]


@pytest.mark.parametrize("name", CLOSED_FORM)
def test_step_with_epoch_uses_the_closed_form(name):
    def stepper(sched, i):
        sched.step((i * 7) % 23)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, ours = run(ember, SCHEDULERS[name], steps=20, stepper=stepper)
    assert any("epoch parameter" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, theirs = run(torch, SCHEDULERS[name], steps=20, stepper=stepper)
    assert_traces_equal(ours, theirs)


def test_reduce_lr_on_plateau_matches_torch():
    rng = np.random.default_rng(0)
    metrics = list(np.repeat(rng.random(12), 4)) + [0.0] * 20 + list(rng.random(20))
    configs = [dict(), dict(mode="max", factor=0.5, patience=2, threshold=0.1,
                            threshold_mode="abs", cooldown=3),
               dict(patience=1, min_lr=[0.05, 0.001], eps=1e-3),
               dict(mode="min", threshold_mode="rel", threshold=0.5, patience=0, cooldown=1,
                    min_lr=0.02)]
    for options in configs:
        traces = []
        for lib in (ember, torch):
            opt = make_optimizer(lib)
            sched = lib.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
            trace = []
            for metric in metrics:
                sched.step(metric if lib is torch else ember.tensor(metric))
                trace.append((hyper_trace(opt), sched.get_last_lr(), sched.num_bad_epochs,
                              sched.cooldown_counter, sched.best))
            traces.append(trace)
        assert traces[0] == traces[1], options


@pytest.mark.parametrize("name", ember.optim.lr_scheduler.__all__)
def test_signatures_match_torch(name):
    ours, theirs = getattr(ember.optim.lr_scheduler, name), getattr(torch.optim.lr_scheduler, name)
    for method in ("__init__", "step", "get_last_lr", "state_dict", "load_state_dict"):
        assert parameters_of(getattr(ours, method)) == parameters_of(getattr(theirs, method))


def parameters_of(fn):
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]


# ---- state dicts -------------------------------------------------------------------------
ROUND_TRIP = ["StepLR", "MultiStepLR", "LinearLR", "CosineAnnealingLR",
              "CosineAnnealingWarmRestarts-mult", "CyclicLR-exp_range",
              "OneCycleLR-linear-3phase", "SequentialLR", "ChainedScheduler",
              "LambdaLR-per-group", "MultiplicativeLR"]


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_state_dict_round_trip_continues_like_uninterrupted(name, tmp_path):
    build = SCHEDULERS[name]
    sched, full = run(ember, build, steps=30)
    opt = make_optimizer(ember)
    first = build(ember.optim.lr_scheduler, opt)
    for _ in range(12):
        opt.step()
        first.step()
    ember.save({"opt": opt.state_dict(), "sched": first.state_dict()}, tmp_path / "ckpt.pt")
    saved = ember.load(tmp_path / "ckpt.pt")
    opt2 = make_optimizer(ember)
    second = build(ember.optim.lr_scheduler, opt2)
    opt2.load_state_dict(saved["opt"])
    second.load_state_dict(saved["sched"])
    trace = full[:13]
    for _ in range(18):
        opt2.step()
        second.step()
        trace.append((hyper_trace(opt2), [float(v) for v in second.get_last_lr()]))
    assert_traces_equal(trace, full)


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_state_dict_has_torchs_keys(name):
    ours, _ = run(ember, SCHEDULERS[name], steps=3)
    theirs, _ = run(torch, SCHEDULERS[name], steps=3)
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert set(mine) == set(ref)
    for key in ("last_epoch", "_step_count", "base_lrs", "_last_lr", "T_cur", "T_i"):
        if key in ref:
            assert same_values(mine[key], ref[key]), key


def test_reduce_lr_on_plateau_state_dict():
    opt = make_optimizer(ember)
    sched = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", patience=1)
    for metric in (1.0, 0.5, 0.4):
        sched.step(metric)
    ref = torch.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(torch), mode="max",
                                                     patience=1)
    assert set(sched.state_dict()) == set(ref.state_dict())
    fresh = ember.optim.lr_scheduler.ReduceLROnPlateau(make_optimizer(ember))
    fresh.load_state_dict(copy.deepcopy(sched.state_dict()))
    assert (fresh.mode, fresh.best, fresh.mode_worse) == ("max", 1.0, -math.inf)


def test_lambda_state_dict_keeps_callable_objects_state():
    class Scale:
        def __init__(self, factor):
            self.factor = factor

        def __call__(self, epoch):
            return self.factor ** epoch

    sched = ember.optim.lr_scheduler.LambdaLR(make_optimizer(ember), [Scale(0.9), halve])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"factor": 0.9}, None]
    other = ember.optim.lr_scheduler.LambdaLR(make_optimizer(ember), [Scale(0.5), halve])
    other.load_state_dict(state)
    assert other.lr_lambdas[0].factor == 0.9


# ---- behaviour -------------------------------------------------------------------------------
def test_tensor_lr_is_updated_in_place():
    results = []
    for lib in (ember, torch):
        p = lib.zeros(2).requires_grad_()
        lr = lib.tensor(0.1)
        opt = lib.optim.SGD([p], lr=lr)
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
        values = []
        for _ in range(8):
            opt.step()
            sched.step()
            assert opt.param_groups[0]["lr"] is lr
            values.append(lr.item())
        results.append(values)
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


def test_initial_lr_is_required_when_resuming():
    opt = make_optimizer(ember)
    with pytest.raises(KeyError, match="initial_lr"):
        ember.optim.lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)


def test_resuming_with_last_epoch_matches_torch():
    traces = []
    for lib in (ember, torch):
        opt = make_optimizer(lib)
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=4)
        trace = [sched.get_last_lr()]
        for _ in range(10):
            opt.step()
            sched.step()
            trace.append(sched.get_last_lr())
        traces.append(trace)
    assert_traces_equal(traces[0], traces[1])


def test_get_lr_outside_step_warns():
    sched = ember.optim.lr_scheduler.StepLR(make_optimizer(ember), step_size=2)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


@pytest.mark.parametrize("build,error,match", [
    (lambda m, o: m.StepLR(object(), 2), TypeError, "is not an Optimizer"),
    (lambda m, o: m.LambdaLR(o, [halve]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda m, o: m.MultiplicativeLR(o, 0.5), TypeError, "lr_lambda should be a function"),
    (lambda m, o: m.ConstantLR(o, factor=1.5), ValueError, "between 0 and 1"),
    (lambda m, o: m.LinearLR(o, start_factor=0), ValueError, "greater than 0"),
    (lambda m, o: m.LinearLR(o, end_factor=2), ValueError, "Ending multiplicative factor"),
    (lambda m, o: m.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
    (lambda m, o: m.SequentialLR(o, [m.StepLR(o, 2)], [3]), ValueError,
     "number of milestones"),
    (lambda m, o: m.SequentialLR(o, [m.ReduceLROnPlateau(o)], []), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda m, o: m.ChainedScheduler([]), ValueError, "at least one scheduler"),
    (lambda m, o: m.ReduceLROnPlateau(o, factor=1.0), ValueError, "Factor should be < 1.0"),
    (lambda m, o: m.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown"),
    (lambda m, o: m.ReduceLROnPlateau(o, threshold_mode="x"), ValueError,
     "threshold mode x is unknown"),
    (lambda m, o: m.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs"),
    (lambda m, o: m.CyclicLR(o, 0.1, 1.0, mode="square"), ValueError, "mode is invalid"),
    (lambda m, o: m.CyclicLR(o, [0.1], 1.0), ValueError, "base_lr must have the same length"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=0), ValueError,
     "Expected positive integer T_0"),
    (lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError,
     "Expected integer T_mult >= 1"),
    (lambda m, o: m.OneCycleLR(o, 0.1), ValueError, "You must define either total_steps"),
    (lambda m, o: m.OneCycleLR(o, 0.1, total_steps=0), ValueError,
     "Expected positive integer total_steps"),
    (lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5), ValueError,
     "Expected float between 0 and 1 pct_start"),
    (lambda m, o: m.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of"),
])
def test_constructor_errors_match_torch(build, error, match):
    with pytest.raises(error, match=match):
        build(ember.optim.lr_scheduler, make_optimizer(ember))
    with pytest.raises(error):
        build(torch.optim.lr_scheduler, make_optimizer(torch))


def test_cycle_momentum_needs_momentum():
    opt = ember.optim.Adagrad([ember.zeros(2).requires_grad_()])
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        ember.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=10)


def test_one_cycle_raises_past_total_steps():
    opt = make_optimizer(ember)
    sched = ember.optim.lr_scheduler.OneCycleLR(opt, 0.1, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        sched.step()


def test_reduce_lr_on_plateau_after_a_group_is_added():
    opt = make_optimizer(ember)
    sched = ember.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, min_lr=[0.0, 0.0])
    opt.add_param_group({"params": [ember.zeros(1).requires_grad_()], "lr": 0.3})
    sched.step(1.0)
    with pytest.raises(RuntimeError, match="number of param groups"):
        sched.step(2.0)
