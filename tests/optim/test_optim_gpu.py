"""Optimizers and schedulers on CUDA tensors (CuPy arrays): the same results as on the CPU.
Run on a machine with an NVIDIA GPU; skipped elsewhere."""
import numpy as np
import pytest

import ember
from test_lbfgs import problem
from test_optimizers import CONFIGS, SHAPES, gradient_script

pytestmark = pytest.mark.gpu


def run(device, name, options, arrays, script):
    params = [ember.tensor(a, device=device).requires_grad_() for a in arrays]
    options = {k: ember.tensor(v, device=device) if isinstance(v, np.ndarray) else v
               for k, v in options.items()}
    opt = getattr(ember.optim, name)(params, **options)
    for grads in script:
        for p, g in zip(params, grads):
            p.grad = None if g is None else ember.tensor(g, device=device)
        opt.step()
    return opt, params


CASES = [(name, options) for name, configs in CONFIGS.items() for options in configs]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,options", CASES,
                         ids=[f"{n}-{i}" for n, c in CONFIGS.items() for i in range(len(c))])
def test_cuda_matches_cpu(name, options, dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    script = gradient_script(SHAPES, dtype, 10)
    cpu_opt, cpu_params = run("cpu", name, options, arrays, script)
    gpu_opt, gpu_params = run("cuda", name, options, arrays, script)
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for c, g in zip(cpu_params, gpu_params):
        assert g.is_cuda
        np.testing.assert_allclose(g.detach().cpu().numpy(), c.detach().numpy(), rtol=rtol,
                                   atol=rtol)
    for c_state, g_state in zip(cpu_opt.state.values(), gpu_opt.state.values()):
        for key, value in c_state.items():
            if key not in ("step", "mu_product"):  # those live on the CPU (as in PyTorch)
                assert g_state[key].is_cuda
            np.testing.assert_allclose(g_state[key].cpu().numpy(), value.numpy(), rtol=rtol,
                                       atol=rtol)


@pytest.mark.parametrize("name,options", [("Adam", dict(capturable=True)),
                                          ("AdamW", dict(fused=True)),
                                          ("NAdam", dict(capturable=True))])
def test_capturable_and_fused_keep_step_on_the_device(name, options):
    p = ember.zeros(4, device="cuda").requires_grad_()
    opt = getattr(ember.optim, name)([p], **options)
    p.grad = ember.ones(4, device="cuda")
    opt.step()
    assert opt.state[p]["step"].is_cuda and opt.state[p]["step"].item() == 1


def test_complex_parameter_on_cuda():
    rng = np.random.default_rng(2)
    a = (rng.standard_normal(5) + 1j * rng.standard_normal(5)).astype(np.complex64)
    script = [[(rng.standard_normal(5) + 1j * rng.standard_normal(5)).astype(np.complex64)]
              for _ in range(5)]
    _, (cpu,) = run("cpu", "Adam", dict(lr=0.1), [a], script)
    _, (gpu,) = run("cuda", "Adam", dict(lr=0.1), [a], script)
    np.testing.assert_allclose(gpu.detach().cpu().numpy(), cpu.detach().numpy(), rtol=1e-5)


def test_lbfgs_on_cuda_matches_cpu():
    results = []
    for device in ("cpu", "cuda"):
        objective, arrays, data = problem("rosenbrock", "float64")
        params = [ember.tensor(a, device=device).requires_grad_() for a in arrays]
        opt = ember.optim.LBFGS(params, line_search_fn="strong_wolfe")

        def closure(opt=opt, params=params, device=device):
            opt.zero_grad()
            value, grads = objective([p.detach().cpu().numpy() for p in params], data)
            for p, g in zip(params, grads):
                p.grad = ember.tensor(g, device=device)
            return ember.tensor(value)

        opt.step(closure)
        results.append([p.detach().cpu().numpy() for p in params])
        assert opt.state[params[0]]["d"].device == params[0].device
    for c, g in zip(*results):
        np.testing.assert_allclose(g, c, rtol=1e-10)


def test_scheduler_fills_a_cuda_tensor_lr():
    p = ember.zeros(2, device="cuda").requires_grad_()
    lr = ember.tensor(0.1, device="cuda")
    opt = ember.optim.SGD([p], lr=lr)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and lr.is_cuda
    assert lr.item() == pytest.approx(0.05)


def test_state_dict_loads_onto_the_parameters_device():
    cpu = ember.zeros(3).requires_grad_()
    opt = ember.optim.Adam([cpu])
    cpu.grad = ember.ones(3)
    opt.step()
    gpu = ember.zeros(3, device="cuda").requires_grad_()
    moved = ember.optim.Adam([gpu])
    moved.load_state_dict(opt.state_dict())
    assert moved.state[gpu]["exp_avg"].is_cuda
    assert not moved.state[gpu]["step"].is_cuda  # step stays where it was, as in PyTorch
