"""LBFGS against PyTorch: iterates, losses and state after each step(closure)."""
import copy

import numpy as np
import pytest
import torch

import ember
from optim_mirror import assert_close, assert_same, leaves


def quadratic(arrays, data):
    """A convex quadratic ||A x - b||^2 + 0.1 ||x||^2: its value and gradient."""
    (x,) = arrays
    A, b = data
    r = A @ x - b
    return r @ r + 0.1 * x @ x, [2 * A.T @ r + 0.2 * x]


def rosenbrock(arrays, data):
    """Independent 2-d Rosenbrock valleys, one per element of x and y."""
    x, y = arrays
    valley = y - x * x
    value = ((1 - x) ** 2 + 100 * valley ** 2).sum()
    return value, [-2 * (1 - x) - 400 * x * valley, 200 * valley]


def problem(name, dtype):
    rng = np.random.default_rng(0)
    if name == "quadratic":
        data = (rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal(6).astype(dtype))
        return quadratic, [rng.standard_normal(4).astype(dtype)], data
    return rosenbrock, [np.array([-1.2, 0.5, 2.0], dtype), np.array([1.0, -0.3, 1.5], dtype)], ()


def make_closure(lib, opt, params, objective, data):
    """A closure whose loss and gradients are computed in NumPy, so that both libraries'
    LBFGS see exactly the same numbers for the same parameters."""
    def closure():
        opt.zero_grad()
        value, grads = objective([p.detach().numpy() for p in params], data)
        for p, g in zip(params, grads):
            p.grad = lib.tensor(np.asarray(g, dtype=p.detach().numpy().dtype))
        return lib.tensor(value)
    return closure


def run(lib, name, dtype, options, steps):
    objective, arrays, data = problem(name, dtype)
    params = leaves(lib, arrays)
    opt = lib.optim.LBFGS(params, **options)
    closure = make_closure(lib, opt, params, objective, data)
    out = []
    for _ in range(steps):
        loss = opt.step(closure)
        out.append((loss.item(), [p.detach().clone() for p in params]))
    return opt, out


OPTIONS = [dict(), dict(line_search_fn="strong_wolfe"), dict(history_size=3, max_iter=30),
           dict(line_search_fn="strong_wolfe", history_size=2, lr=0.5),
           dict(max_iter=5, max_eval=7, tolerance_change=1e-5),
           dict(lr=0.1, max_iter=50, tolerance_grad=1e-4)]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
@pytest.mark.parametrize("name", ["quadratic", "rosenbrock"])
def test_lbfgs_matches_torch(name, options):
    # Dot products (BLAS) sum in another order than PyTorch's. Rosenbrock's valley amplifies
    # those last-bit differences over many iterations, and near convergence the curvature pairs
    # in the state (differences of tiny gradients) keep only a few digits: compare those more
    # loosely.
    tol, steps = ("float64", 3) if name == "quadratic" else ("float32", 1)
    ours, our_steps = run(ember, name, "float64", options, steps)
    theirs, their_steps = run(torch, name, "float64", options, steps)
    for (our_loss, our_params), (their_loss, their_params) in zip(our_steps, their_steps):
        assert our_loss == pytest.approx(their_loss, rel=1e-9, abs=1e-12)
        for m, r in zip(our_params, their_params):
            assert_close(m, r, tol)
    assert_same(ours.state_dict(), theirs.state_dict(), "float32")


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_float32_matches_torch(line_search_fn):
    # Few iterations: near the optimum float32 noise decides the line search's branches.
    options = dict(line_search_fn=line_search_fn, max_iter=8)
    ours, our_steps = run(ember, "quadratic", "float32", options, 1)
    theirs, their_steps = run(torch, "quadratic", "float32", options, 1)
    for m, r in zip(our_steps[-1][1], their_steps[-1][1]):
        np.testing.assert_allclose(m.numpy(), r.numpy(), rtol=1e-5, atol=1e-6)
    assert_same(ours.state_dict()["param_groups"], theirs.state_dict()["param_groups"],
                "float32")
    state = ours.state_dict()["state"][0]
    assert state["d"].dtype == ember.float32 and state["ro"][0].dtype == ember.float32


def test_lbfgs_reaches_the_minimum():
    _, steps = run(ember, "rosenbrock", "float64", dict(line_search_fn="strong_wolfe"), 5)
    for p in steps[-1][1]:
        np.testing.assert_allclose(p.numpy(), 1.0, atol=1e-4)
    options = dict(max_iter=50, tolerance_grad=1e-12, tolerance_change=1e-14)
    _, steps = run(ember, "quadratic", "float64", options, 2)
    _, (x,), (A, b) = problem("quadratic", "float64")
    expected = np.linalg.solve(A.T @ A + 0.1 * np.eye(4), A.T @ b)
    np.testing.assert_allclose(steps[-1][1][0].numpy(), expected, rtol=1e-6)


def test_lbfgs_stops_at_once_when_the_gradient_is_zero():
    p = ember.zeros(3, dtype=ember.float64).requires_grad_()
    opt = ember.optim.LBFGS([p])
    calls = []

    def closure():
        calls.append(1)
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    opt.step(closure)
    assert len(calls) == 1
    assert opt.state[p] == {"func_evals": 1, "n_iter": 0}


def test_lbfgs_state_dict_round_trip_continues_identically():
    ours, _ = run(ember, "rosenbrock", "float64", dict(history_size=4), 2)
    state = copy.deepcopy(ours.state_dict())  # a loaded state shares tensors, as in PyTorch
    objective, _, data = problem("rosenbrock", "float64")
    params = [p.detach().clone().requires_grad_() for p in ours.param_groups[0]["params"]]
    fresh = ember.optim.LBFGS(params, history_size=4)
    fresh.load_state_dict(state)

    ours.step(make_closure(ember, ours, ours.param_groups[0]["params"], objective, data))
    fresh.step(make_closure(ember, fresh, params, objective, data))
    for a, b in zip(ours.param_groups[0]["params"], params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_lbfgs_errors():
    a, b = ember.zeros(2).requires_grad_(), ember.zeros(2).requires_grad_()
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        ember.optim.LBFGS([{"params": [a]}, {"params": [b]}])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        ember.optim.LBFGS([a], lr=-1)
    opt = ember.optim.LBFGS([a], line_search_fn="backtracking")

    def closure():
        opt.zero_grad()
        loss = ((a - 1) * (a - 1)).sum()
        loss.backward()
        return loss

    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(closure)


def test_lbfgs_with_an_autograd_closure_matches_torch():
    rng = np.random.default_rng(1)
    A, b, x0 = rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal(3)
    results = []
    for lib in (ember, torch):
        (x,) = leaves(lib, [x0])
        At, bt = lib.tensor(A), lib.tensor(b)
        opt = lib.optim.LBFGS([x], line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            r = lib.matmul(At, x) - bt
            loss = (r * r).sum() + lib.exp(x * 0.1).sum()
            loss.backward()
            return loss

        results.append((opt.step(closure).item(), x.detach().clone()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-12)
    assert_close(results[0][1], results[1][1], "float64")
