"""Every optimizer and the option combinations that change its update, step for step against
PyTorch: parameters after every step and the whole state dict at the end."""
import numpy as np
import pytest
import torch

import ember
from optim_mirror import assert_close, assert_same, leaves, make_optimizer

TENSOR_LR = np.array(0.01, dtype=np.float32)

CONFIGS = {
    "SGD": [dict(lr=0.1), dict(lr=0.1, momentum=0.9), dict(lr=0.1, momentum=0.9, dampening=0.3),
            dict(lr=0.1, momentum=0.9, nesterov=True), dict(lr=0.1, weight_decay=0.1),
            dict(lr=0.1, maximize=True),
            dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.05, maximize=True),
            dict(lr=TENSOR_LR, momentum=0.5)],
    "Adam": [dict(), dict(lr=0.01, amsgrad=True), dict(lr=0.01, weight_decay=0.1),
             dict(lr=0.01, maximize=True), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6),
             dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True),
             dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
             dict(lr=TENSOR_LR), dict(lr=0.01, foreach=False, fused=None)],
    "AdamW": [dict(lr=0.01), dict(lr=0.01, amsgrad=True), dict(lr=0.01, weight_decay=0.3),
              dict(lr=0.01, maximize=True), dict(lr=TENSOR_LR, weight_decay=0.1)],
    "RMSprop": [dict(), dict(centered=True), dict(momentum=0.5), dict(weight_decay=0.1),
                dict(alpha=0.9, eps=1e-4, maximize=True),
                dict(lr=0.02, centered=True, momentum=0.7, weight_decay=0.05)],
    "Adagrad": [dict(), dict(lr_decay=0.05), dict(initial_accumulator_value=0.3),
                dict(weight_decay=0.1, maximize=True), dict(lr=0.05, eps=1e-6),
                dict(lr=TENSOR_LR, lr_decay=0.01, initial_accumulator_value=0.1)],
    "Adadelta": [dict(), dict(lr=0.5, rho=0.8), dict(weight_decay=0.1),
                 dict(maximize=True, eps=1e-4)],
    "Adamax": [dict(), dict(betas=(0.8, 0.9)), dict(weight_decay=0.1, maximize=True),
               dict(lr=0.01, eps=1e-4)],
    "NAdam": [dict(), dict(momentum_decay=0.01), dict(weight_decay=0.1),
              dict(weight_decay=0.1, decoupled_weight_decay=True), dict(maximize=True),
              dict(lr=TENSOR_LR, betas=(0.8, 0.99))],
    "RAdam": [dict(), dict(weight_decay=0.1), dict(weight_decay=0.1, decoupled_weight_decay=True),
              dict(maximize=True), dict(lr=0.01, betas=(0.5, 0.9))],
    "Rprop": [dict(), dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2)),
              dict(maximize=True), dict(lr=TENSOR_LR)],
    "ASGD": [dict(), dict(lr=0.05, lambd=1e-2, alpha=0.5, t0=5), dict(weight_decay=0.1, t0=3),
             dict(maximize=True, t0=0), dict(lr=TENSOR_LR, t0=2)],
}
CASES = [(name, options) for name, configs in CONFIGS.items() for options in configs]
IDS = [f"{name}-{i}" for name, configs in CONFIGS.items() for i in range(len(configs))]
SHAPES = [(40, 25), (5,), ()]  # the large one runs PyTorch's vectorized kernels
STEPS = 20


def gradient_script(shapes, dtype, steps, seed=0):
    """Gradients for each step; the last parameter gets none for the first three steps (its
    state must then start late, as PyTorch's does)."""
    rng = np.random.default_rng(seed)
    script = []
    for step in range(steps):
        grads = [rng.standard_normal(s).astype(dtype) for s in shapes]
        if step < 3:
            grads[-1] = None
        script.append(grads)
    return script


def run_with_gradients(lib, name, options, arrays, script):
    params = leaves(lib, arrays)
    opt = make_optimizer(lib, name, params, options)
    history = []
    for grads in script:
        for p, g in zip(params, grads):
            p.grad = None if g is None else lib.tensor(g.copy())
        opt.step()
        history.append([p.detach().clone() for p in params])
    return opt, history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,options", CASES, ids=IDS)
def test_update_rule_matches_torch(name, options, dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    script = gradient_script(SHAPES, dtype, STEPS)
    ours, our_history = run_with_gradients(ember, name, options, arrays, script)
    theirs, their_history = run_with_gradients(torch, name, options, arrays, script)
    for step, (mine, ref) in enumerate(zip(our_history, their_history)):
        for i, (m, r) in enumerate(zip(mine, ref)):
            assert_close(m, r, dtype, f"{name} {options}: parameter {i} after step {step + 1}")
    assert_same(ours.state_dict(), theirs.state_dict(), dtype)


def loss_of(lib, x, W, b, s):
    """A small network-like objective made of ops with gradients."""
    h = lib.tanh(lib.matmul(x, W) + b)
    return (h * s).sum() + lib.exp(W * 0.1).sum() + (b * b).sum() + s * s


@pytest.mark.parametrize("name", list(CONFIGS))
def test_training_loop_matches_torch(name):
    """Gradients from backward(), zero_grad() between steps, per-group options."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 4))
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal(3), np.array(0.5)]
    results = []
    for lib in (ember, torch):
        W, b, s = leaves(lib, arrays)
        xt = lib.tensor(x)
        lr = CONFIGS[name][0].get("lr", 1e-3)
        lr = 0.01 if isinstance(lr, np.ndarray) else lr
        opt = make_optimizer(lib, name, [{"params": [W, b]}, {"params": [s], "lr": lr / 2}],
                             {"lr": lr})
        losses = []
        for _ in range(15):
            opt.zero_grad()
            loss = loss_of(lib, xt, W, b, s)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        results.append((losses, [W, b, s], opt.state_dict()))
    (our_losses, ours, our_state), (their_losses, theirs, their_state) = results
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-10)
    for m, r in zip(ours, theirs):
        assert_close(m, r, "float64")
    assert_same(our_state, their_state, "float64")


COMPLEX_CASES = [("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
                 ("Adam", dict(lr=0.01, amsgrad=True)), ("AdamW", dict(lr=0.01)),
                 ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", dict(lr_decay=0.1)),
                 ("Adadelta", dict()), ("Adamax", dict()), ("NAdam", dict(weight_decay=0.1)),
                 ("RAdam", dict()), ("Rprop", dict()), ("ASGD", dict(t0=3))]


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("name,options", COMPLEX_CASES, ids=[c[0] for c in COMPLEX_CASES])
def test_complex_parameters_match_torch(name, options, dtype):
    """Complex parameters are updated as pairs of reals (PyTorch's view_as_real)."""
    rng = np.random.default_rng(3)
    shapes = [(3, 2), ()]

    def cplx(shape):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)

    arrays = [cplx(s) for s in shapes]
    script = [[cplx(s) for s in shapes] for _ in range(10)]
    ours, our_history = run_with_gradients(ember, name, options, arrays, script)
    theirs, their_history = run_with_gradients(torch, name, options, arrays, script)
    for mine, ref in zip(our_history[-1], their_history[-1]):
        assert_close(mine, ref, dtype)
    assert_same(ours.state_dict(), theirs.state_dict(), dtype)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_non_contiguous_parameter_is_updated_in_place(name):
    options = dict(CONFIGS[name][1])
    base = np.random.default_rng(4).standard_normal((3, 5))
    grads = np.random.default_rng(5).standard_normal((4, 5, 3))
    p = ember.from_numpy(base.copy().T).requires_grad_()
    assert not p.is_contiguous()
    data = p._data
    ref = torch.from_numpy(base.copy().T).requires_grad_()
    ours, theirs = make_optimizer(ember, name, [p], options), \
        make_optimizer(torch, name, [ref], options)
    for g in grads:
        p.grad, ref.grad = ember.tensor(g), torch.tensor(g)
        ours.step()
        theirs.step()
    assert p._data is data  # updated in place: views of the parameter see the new values
    assert_close(p, ref, "float64")


@pytest.mark.parametrize("name", list(CONFIGS))
def test_step_bumps_the_parameter_version(name):
    p = ember.tensor(np.ones(3)).requires_grad_()
    q = ember.tensor(np.ones(3)).requires_grad_()
    opt = make_optimizer(ember, name, [p, q], {"lr": 0.1})
    p.grad = ember.tensor(np.full(3, 0.5))
    before_p, before_q = p._version, q._version
    opt.step()
    assert p._version > before_p
    assert q._version == before_q  # no gradient: neither updated nor bumped


def test_saved_parameter_changed_by_step_is_detected_by_backward():
    """Autograd relies on the version bump: a parameter saved for backward and then stepped
    makes backward raise, as in PyTorch."""
    p = ember.tensor(np.ones(3)).requires_grad_()
    opt = ember.optim.SGD([p], lr=0.1)
    y = (p * p).sum()
    p.grad = ember.tensor(np.ones(3))
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_tensor_betas_match_torch():
    rng = np.random.default_rng(6)
    arrays = [rng.standard_normal((3, 3)).astype(np.float32)]
    script = gradient_script([(3, 3)], np.float32, 10)
    options = dict(lr=0.01, betas=(np.array(0.8, dtype=np.float32),
                                   np.array(0.95, dtype=np.float32)))
    ours, our_history = run_with_gradients(ember, "Adam", options, arrays, script)
    theirs, their_history = run_with_gradients(torch, "Adam", options, arrays, script)
    assert_close(our_history[-1][0], their_history[-1][0], "float32")
    assert_same(ours.state_dict()["state"], theirs.state_dict()["state"], "float32")


@pytest.mark.parametrize("name,options", [("Adam", dict(fused=True)), ("AdamW", dict(fused=True)),
                                          ("SGD", dict(lr=0.1, momentum=0.9, fused=True)),
                                          ("Adagrad", dict(fused=True)),
                                          ("Adam", dict(capturable=True)),
                                          ("NAdam", dict(capturable=True))])
def test_fused_and_capturable_are_accepted(name, options):
    """They select PyTorch's kernels there; here they give the same results as the default
    path, with ``step`` kept as PyTorch keeps it for them (float32 on the parameter's
    device)."""
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(4)]
    script = gradient_script([(4,)], np.float64, 5)
    plain = {k: v for k, v in options.items() if k not in ("fused", "capturable")}
    ours, history = run_with_gradients(ember, name, options, arrays, script)
    _, plain_history = run_with_gradients(ember, name, plain, arrays, script)
    np.testing.assert_array_equal(history[-1][0].numpy(), plain_history[-1][0].numpy())
    step = ours.state[ours.param_groups[0]["params"][0]].get("step")
    if step is not None and name != "NAdam":
        assert step.dtype == ember.float32 and step.device == ember.device("cpu")


def test_step_dtype_follows_default_dtype():
    ember.set_default_dtype(ember.float64)
    p = ember.zeros(2, dtype=ember.float32).requires_grad_()
    opt = ember.optim.Adam([p])
    p.grad = ember.ones(2, dtype=ember.float32)
    opt.step()
    assert opt.state[p]["step"].dtype == ember.float64
    assert opt.state[p]["exp_avg"].dtype == ember.float32


def test_closure_is_called_with_grad_enabled_and_loss_returned():
    p = ember.tensor(np.ones(3)).requires_grad_()
    opt = ember.optim.Adam([p], lr=0.1)

    def closure():
        opt.zero_grad()
        assert ember.is_grad_enabled()
        loss = (p * p).sum()
        loss.backward()
        return loss

    with ember.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 3.0
    assert not np.allclose(p.detach().numpy(), 1.0)


def test_step_without_gradients_changes_nothing():
    for name in CONFIGS:
        p = ember.tensor(np.ones(3)).requires_grad_()
        opt = make_optimizer(ember, name, [p], {})
        opt.step()
        np.testing.assert_array_equal(p.detach().numpy(), 1.0)
        assert len(opt.state) == (1 if name == "Adagrad" else 0)  # Adagrad's state is eager



HALF_CASES = [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.01, eps=1e-4)),
              ("RMSprop", dict()), ("Adagrad", dict()), ("Adadelta", dict()), ("Adamax", dict()),
              ("NAdam", dict(eps=1e-4)), ("RAdam", dict()), ("Rprop", dict()), ("ASGD", dict())]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name,options", HALF_CASES, ids=[c[0] for c in HALF_CASES])
def test_half_precision_parameters_follow_torch(name, options, dtype):
    """PyTorch rounds once per fused kernel, NumPy once per ufunc: results agree to a few
    units in the last place of the half-precision dtype."""
    rng = np.random.default_rng(8)
    start, grads = rng.standard_normal(50), [rng.standard_normal(50) for _ in range(10)]
    results = []
    for lib in (ember, torch):
        half = getattr(lib, dtype)
        p = lib.tensor(start).to(half).requires_grad_()
        opt = make_optimizer(lib, name, [p], options)
        for g in grads:
            p.grad = lib.tensor(g).to(half)
            opt.step()
        assert p.dtype == half
        results.append(p.detach().float().numpy())
    ulp = float(torch.finfo(getattr(torch, dtype)).eps)
    np.testing.assert_allclose(results[0], results[1], rtol=4 * ulp, atol=4 * ulp)


def test_module_training_with_scheduler_matches_torch():
    """nn.Module parameters, named parameter groups, gradient from backward, and a scheduler
    changing lr and betas every step."""
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((16, 5)), rng.standard_normal((16, 2))
    weights = [rng.standard_normal((8, 5)) * 0.3, rng.standard_normal(8) * 0.1,
               rng.standard_normal((2, 8)) * 0.3, rng.standard_normal(2) * 0.1]
    runs = []
    for lib in (ember, torch):
        model = lib.nn.Sequential(lib.nn.Linear(5, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2))
        model = model.double()
        for p, w in zip(model.parameters(), weights):
            p.data = lib.tensor(w)
        named = list(model.named_parameters())
        decay = [(n, p) for n, p in named if n.endswith("weight")]
        no_decay = [(n, p) for n, p in named if n.endswith("bias")]
        opt = lib.optim.AdamW([{"params": decay}, {"params": no_decay, "weight_decay": 0.0}],
                              lr=0.01)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=25)
        xt, yt = lib.tensor(x), lib.tensor(y)
        losses = []
        for _ in range(25):
            opt.zero_grad()
            diff = model(xt) - yt
            loss = (diff * diff).mean()
            loss.backward()
            opt.step()
            sched.step()
            losses.append(loss.item())
        runs.append((losses, [p.detach().clone() for p in model.parameters()],
                     opt.state_dict()))
    (our_losses, ours, our_state), (their_losses, theirs, their_state) = runs
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-10)
    for m, r in zip(ours, theirs):
        assert_close(m, r, "float64")
    assert_same(our_state, their_state, "float64")
