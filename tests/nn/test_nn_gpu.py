"""nn layers, losses, init and hooks on CUDA tensors (CuPy arrays): the same results as on the
CPU. Run on a machine with an NVIDIA GPU; skipped elsewhere."""
import numpy as np
import pytest

import ember
from helpers import randint, randn, to_numpy

pytestmark = pytest.mark.gpu
F = ember.nn.functional


def _both_devices(fn, *arrays, rtol=1e-5, atol=1e-6):
    """``fn(*tensors)`` on the CPU and on CUDA: equal values and input gradients."""
    results = []
    for device in ("cpu", "cuda"):
        leaves = [ember.tensor(a, device=device, requires_grad=a.dtype.kind == "f")
                  if isinstance(a, np.ndarray) else a for a in arrays]
        out = fn(device, *leaves)
        if out.device.type != device:
            raise AssertionError(f"output on {out.device}, expected {device}")
        grads = []
        if out.requires_grad:
            weight = ember.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape)
                                  .astype(to_numpy(out).dtype), device=device)
            (out * weight).sum().backward()
            grads = [leaf.grad for leaf in leaves if isinstance(leaf, ember.Tensor)
                     and leaf.requires_grad]
        results.append((to_numpy(out), [to_numpy(g) for g in grads]))
    (cpu_out, cpu_grads), (gpu_out, gpu_grads) = results
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=rtol, atol=atol)
    for g, c in zip(gpu_grads, cpu_grads):
        np.testing.assert_allclose(g, c, rtol=rtol, atol=atol)


def test_module_to_cuda_keeps_parameters():
    m = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU(), ember.nn.Linear(4, 2))
    m.register_buffer("steps", ember.tensor(0))
    params = list(m.parameters())
    assert m.cuda() is m and list(m.parameters()) == params
    assert all(p.is_cuda for p in m.parameters()) and m.steps.is_cuda
    m(ember.randn(5, 3, device="cuda")).sum().backward()
    assert all(p.grad.is_cuda for p in m.parameters())
    m.to("cpu", ember.float64)
    assert all(not p.is_cuda and p.grad.dtype == ember.float64 for p in m.parameters())
    state = m.state_dict()
    m.cuda()
    m.load_state_dict(state)  # CPU tensors copied onto the module's device
    assert m[0].weight.is_cuda


def test_linear_and_cross_entropy():
    w, b = randn(5, 3), randn(5)
    t = randint(0, 5, (4,))
    t[0] = -100
    _both_devices(lambda d, x, w, b: F.linear(x, w, b), randn(4, 2, 3), w, b)
    for smoothing in (0.0, 0.2):
        _both_devices(lambda d, x: F.cross_entropy(x, ember.tensor(t, device=d),
                                                   label_smoothing=smoothing), randn(4, 5))
        _both_devices(lambda d, x: F.cross_entropy(
            x, ember.tensor(randint(0, 5, (4, 2), rng=np.random.default_rng(0)), device=d),
            weight=ember.tensor(np.arange(1, 6, dtype=np.float32), device=d),
            reduction="none", label_smoothing=smoothing), randn(4, 5, 2))
    _both_devices(lambda d, x: F.nll_loss(x, ember.tensor(t, device=d)), randn(4, 5))


def test_embedding_and_bag():
    idx = np.array([[0, 2, 0, 5], [3, 3, 3, 1]])
    _both_devices(lambda d, w: F.embedding(ember.tensor(idx, device=d), w, padding_idx=3,
                                           scale_grad_by_freq=True), randn(6, 3))
    for mode in ("sum", "mean", "max"):
        _both_devices(lambda d, w: F.embedding_bag(ember.tensor([1, 2, 4, 5, 4], device=d), w,
                                                   ember.tensor([0, 2, 2], device=d), mode=mode),
                      randn(6, 3))
    m = ember.nn.Embedding(6, 4, max_norm=1.0).cuda()
    m(ember.tensor(idx, device="cuda"))
    norms = np.linalg.norm(to_numpy(m.weight), axis=1)
    assert (norms[np.unique(idx)] <= 1 + 1e-5).all()


def test_losses():
    x, y = randn(4, 3), np.abs(randn(4, 3)) % 1
    for fname in ("mse_loss", "l1_loss", "smooth_l1_loss", "binary_cross_entropy_with_logits",
                  "soft_margin_loss", "kl_div"):
        _both_devices(lambda d, x, y: getattr(F, fname)(x, y), x, y)
    _both_devices(lambda d, x, y: F.binary_cross_entropy(x.sigmoid(), y), x, y)
    _both_devices(lambda d, x: F.multilabel_margin_loss(
        x, ember.tensor([[1, 0, -1], [2, -1, 0], [0, 1, 2], [-1, 0, 0]], device=d)), x)
    _both_devices(lambda d, x: F.multi_margin_loss(x, ember.tensor([0, 2, 1, 1], device=d)), x)


def test_ctc_loss():
    logits = randn(10, 3, 5)
    targets = np.array([[1, 2, 2], [3, 1, 0], [4, 4, 4]])
    _both_devices(lambda d, x: F.ctc_loss(x.log_softmax(2), ember.tensor(targets, device=d),
                                          [10, 8, 9], [3, 2, 3], reduction="sum"), logits,
                  rtol=1e-4, atol=1e-5)


def test_dropout_and_init_on_cuda():
    ember.manual_seed(0)
    y = to_numpy(F.dropout(ember.ones(200, 200, device="cuda"), 0.3))
    np.testing.assert_allclose((y == 0).mean(), 0.3, atol=0.02)
    y = to_numpy(F.dropout2d(ember.ones(50, 40, 3, 3, device="cuda"), 0.5))
    assert (y.reshape(50, 40, -1) == y.reshape(50, 40, -1)[:, :, :1]).all()
    w = ember.empty(6, 4, 3, 3, device="cuda")
    for fn in (ember.nn.init.kaiming_uniform_, ember.nn.init.xavier_normal_,
               ember.nn.init.orthogonal_, ember.nn.init.trunc_normal_, ember.nn.init.dirac_):
        assert fn(w) is w and w.is_cuda
    assert ember.nn.init.sparse_(ember.empty(10, 5, device="cuda"), 0.5).is_cuda
    g = ember.Generator(device="cuda").manual_seed(1)
    a = to_numpy(ember.nn.init.normal_(ember.empty(10, device="cuda"), generator=g))
    assert a.std() > 0


def test_backward_hooks_and_clip_on_cuda():
    m = ember.nn.Linear(3, 2).cuda()
    seen = []
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(gi[0].device.type))
    x = ember.randn(4, 3, device="cuda", requires_grad=True)
    m(x).sum().backward()
    assert seen == ["cuda"]
    total = ember.nn.utils.clip_grad_norm_(m.parameters(), 0.1)
    assert total.is_cuda
    vec = ember.nn.utils.parameters_to_vector(m.parameters())
    assert vec.is_cuda and vec.shape == (8,)
