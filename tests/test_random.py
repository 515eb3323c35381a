"""Random numbers: Generator API and state, reproducibility, sample statistics, shapes/dtypes
and errors against PyTorch (PyTorch's streams cannot be reproduced: values are checked by
their statistics, not against torch's numbers)."""
import pickle
import re

import numpy as np
import pytest
import torch

import ember
from helpers import raises
from test_creation import both

N = 200_000  # samples for statistics: a mean is then known to about 0.002 standard deviations


def stats(t):
    a = t.double().numpy() if t.dtype is not ember.bfloat16 else t.float().double().numpy()
    return a.mean(), a.std(), a.min(), a.max()


def close(value, expected, tol):
    assert abs(value - expected) < tol, f"{value} not within {tol} of {expected}"


# ---- Generator --------------------------------------------------------------------------------
def test_generator_api():
    g = ember.Generator()
    assert g.device == ember.device("cpu")
    assert g.initial_seed() == torch.Generator().initial_seed()  # both never seeded
    assert g.manual_seed(5) is g and g.initial_seed() == 5
    assert g.manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    assert g.manual_seed(np.int64(7)).initial_seed() == 7
    s = g.seed()
    assert isinstance(s, int) and 0 <= s < 2**64 and g.initial_seed() == s
    assert ember.Generator(device="cpu").device.type == "cpu"
    assert ember.Generator(ember.device("cpu")).device.type == "cpu"


@pytest.mark.parametrize("seed,exc", [(2**64, ValueError), (-2**63 - 1, ValueError),
                                      (1.5, RuntimeError), ("1", RuntimeError)])
def test_seed_errors(seed, exc):
    with pytest.raises(exc):
        torch.Generator().manual_seed(seed)
    raises(exc, "manual_seed", ember.Generator().manual_seed, seed)
    raises(exc, "manual_seed", ember.manual_seed, seed)


def test_state_roundtrip_and_pickle():
    g = ember.Generator().manual_seed(123)
    ember.rand(7, generator=g)  # advance
    state = g.get_state()
    assert state.dtype is ember.uint8 and state.dim() == 1
    a = ember.randn(5, generator=g)
    g.set_state(state)
    b = ember.randn(5, generator=g)
    assert a.tolist() == b.tolist()
    g.set_state(state)
    clone = pickle.loads(pickle.dumps(g))
    assert clone.initial_seed() == 123
    assert ember.rand(4, generator=clone).tolist() == ember.rand(4, generator=g).tolist()
    other = ember.Generator().set_state(state)
    assert other.initial_seed() == 123
    raises(RuntimeError, "set_state: expected a uint8 tensor", g.set_state, ember.zeros(3))
    raises(RuntimeError, "set_state: expected a uint8 tensor", g.set_state,
           ember.zeros(3, dtype=ember.uint8))
    raises(RuntimeError, "set_state", g.set_state, state.numpy())


def test_same_seed_same_numbers_everywhere():
    """PCG64 streams do not depend on the platform: these are the numbers of seed 0."""
    g = ember.Generator().manual_seed(0)
    np.testing.assert_allclose(ember.rand(3, generator=g, dtype=ember.float64).numpy(),
                               [0.6369616873214543, 0.2697867137638703, 0.04097352393619469])
    np.testing.assert_allclose(ember.randn(2, generator=g, dtype=ember.float64).numpy(),
                               np.random.Generator(np.random.PCG64(0)).standard_normal(5)[3:])


SAMPLERS = [
    "lib.rand(3, 4, generator=g)", "lib.randn(5, generator=g, dtype=lib.float64)",
    "lib.randint(0, 10, (6,), generator=g)", "lib.randperm(9, generator=g)",
    "lib.normal(0., 2., (4,), generator=g)", "lib.normal(lib.zeros(3), 1., generator=g)",
    "lib.bernoulli(lib.full((8,), 0.5), generator=g)",
    "lib.multinomial(lib.ones(10), 4, generator=g)",
    "lib.multinomial(lib.ones(2, 3), 5, True, generator=g)",
    "lib.poisson(lib.full((6,), 3.), generator=g)",
    "lib.rand(2, dtype=lib.float16, generator=g)",
    "lib.zeros(5).uniform_(-2, 2, generator=g)", "lib.zeros(5).normal_(1, 3, generator=g)",
    "lib.zeros(5).bernoulli_(0.3, generator=g)", "lib.zeros(5).random_(0, 100, generator=g)",
    "lib.zeros(5).exponential_(2., generator=g)", "lib.zeros(5).geometric_(0.4, generator=g)",
    "lib.zeros(5).log_normal_(generator=g)", "lib.zeros(5).cauchy_(generator=g)",
    "lib.rand(3, dtype=lib.complex64, generator=g)", "lib.randn(3, dtype=lib.complex128, generator=g)",
]


@pytest.mark.parametrize("expr", SAMPLERS)
def test_reproducible_and_shapes_like_torch(expr):
    def run(seed):
        return eval(expr, {"lib": ember, "g": ember.Generator().manual_seed(seed)})
    a, b, c = run(1), run(1), run(2)
    assert a.tolist() == b.tolist()
    assert a.tolist() != c.tolist() or a.numel() < 3
    t = eval(expr, {"lib": torch, "g": torch.Generator().manual_seed(1)})
    assert a.shape == t.shape and a.dtype.name == str(t.dtype)[6:], expr


def test_global_seeding():
    ember.manual_seed(3)
    a = ember.rand(4)
    ember.manual_seed(3)
    assert ember.rand(4).tolist() == a.tolist()
    assert ember.initial_seed() == 3
    assert ember.manual_seed(3) is ember.default_generator
    state = ember.get_rng_state()
    x = ember.randn(3)
    ember.set_rng_state(state)
    assert ember.randn(3).tolist() == x.tolist()
    assert ember.random.get_rng_state().tolist() != state.tolist()
    with ember.random.fork_rng():
        ember.rand(100)
    assert ember.random.get_rng_state().tolist() == ember.get_rng_state().tolist()
    inside = None
    before = ember.get_rng_state()
    with ember.random.fork_rng(devices=[]):
        inside = ember.rand(2)
    assert ember.get_rng_state().tolist() == before.tolist()
    assert ember.rand(2).tolist() == inside.tolist()
    s = ember.seed()
    assert isinstance(s, int) and ember.initial_seed() == s
    with ember.random.fork_rng(enabled=False):
        ember.rand(1)
    assert ember.random.initial_seed() == s


# ---- statistics -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_rand_randn_statistics(dtype):
    d = getattr(ember, dtype)
    u = ember.rand(N, dtype=d)
    mean, std, lo, hi = stats(u)
    close(mean, 0.5, 0.01)
    close(std, (1 / 12) ** 0.5, 0.01)
    assert lo >= 0 and hi < 1 and u.dtype is d
    z = ember.randn(N, dtype=d)
    mean, std, _, _ = stats(z)
    close(mean, 0.0, 0.02)
    close(std, 1.0, 0.02)
    assert z.dtype is d


def test_complex_statistics():
    z = ember.randn(N, dtype=ember.complex64).numpy()
    close(z.real.var() + z.imag.var(), 1.0, 0.02)  # E|z|^2 = 1, as in torch
    u = ember.rand(N, dtype=ember.complex128).numpy()
    close(u.real.mean(), 0.5, 0.01)
    close(u.imag.mean(), 0.5, 0.01)


def test_like_samplers():
    x = ember.zeros(2, 3, dtype=ember.float64)
    for fn in ("rand_like", "randn_like"):
        e, t = getattr(ember, fn)(x), getattr(torch, fn)(torch.zeros(2, 3, dtype=torch.float64))
        assert e.shape == t.shape and e.dtype is ember.float64
        assert getattr(ember, fn)(x, dtype=ember.float16).dtype is ember.float16
        assert getattr(ember, fn)(x, requires_grad=True).requires_grad
    r = ember.randint_like(x, 5)
    assert r.dtype is ember.float64 and r.min().item() >= 0 and r.max().item() <= 4
    r = ember.randint_like(ember.zeros(N, dtype=ember.int32), 3, 7)
    assert r.dtype is ember.int32 and set(np.unique(r.numpy())) == {3, 4, 5, 6}


@pytest.mark.parametrize("args,values", [("10, (N,)", range(10)), ("-3, 4, (N,)", range(-3, 4)),
                                         ("0, 2, (N,), dtype=ember.bool", [False, True]),
                                         ("250, 256, (N,), dtype=ember.uint8", range(250, 256)),
                                         ("5, 8, (N,), dtype=ember.float32", [5.0, 6.0, 7.0])])
def test_randint(args, values):
    r = eval(f"ember.randint({args})", {"ember": ember, "N": N})
    counts = np.unique(r.numpy(), return_counts=True)
    assert list(counts[0]) == list(values)
    close(counts[1].min() / N, 1 / len(values), 0.01)


def test_randint_signatures():
    both("lib.randint(10, (3,)).dtype")
    both("lib.randint(3, 10, (2, 2)).shape")
    both("lib.randint(3, 10, size=(2,)).shape")
    both("lib.randint(high=4, size=(5,)).shape")
    both("lib.randint(0, 10, (3,), dtype=lib.float64).dtype")
    both("lib.randint(0, 10, (3,), dtype=lib.float64, requires_grad=True).requires_grad")
    assert ember.randint(2**62, 2**63 - 1, (100,)).min().item() >= 2**62
    assert ember.randint(0, 5, (4,), out=ember.zeros(4, dtype=ember.int32)).dtype is ember.int32


def test_randperm():
    for n in (0, 1, 7, 1000):
        p = ember.randperm(n)
        assert p.dtype is ember.int64 and sorted(p.tolist()) == list(range(n))
    both("lib.randperm(5, dtype=lib.float32).dtype")
    both("lib.randperm(5, dtype=lib.int16).dtype")
    both("lib.randperm(-1)")
    firsts = [ember.randperm(4)[0].item() for _ in range(400)]
    assert set(firsts) == {0, 1, 2, 3}


def test_normal_overloads():
    mean = ember.arange(4.0).reshape(4, 1)
    std = ember.tensor([0.5, 1.0, 2.0])
    for m, s in ((mean, std), (mean, 2.0), (1.0, std)):
        tm = torch.from_numpy(m.numpy()) if isinstance(m, ember.Tensor) else m
        ts = torch.from_numpy(s.numpy()) if isinstance(s, ember.Tensor) else s
        assert ember.normal(m, s).shape == torch.normal(tm, ts).shape
    big = ember.normal(ember.full((N,), 3.0), ember.full((N,), 0.5))
    mean_, std_, _, _ = stats(big)
    close(mean_, 3.0, 0.01)
    close(std_, 0.5, 0.01)
    assert ember.normal(0.0, 1.0, (2, 3), dtype=ember.float64).dtype is ember.float64
    assert ember.normal(0, ember.ones(3, dtype=ember.float64)).dtype is ember.float64
    out = ember.zeros(3)
    assert ember.normal(ember.zeros(3), 1.0, out=out) is out


def test_normal_autograd_gives_zero_gradient():
    tm = torch.zeros(3, requires_grad=True)
    em = ember.zeros(3, requires_grad=True)
    t, e = torch.normal(tm, tm.detach() + 1), ember.normal(em, em.detach() + 1)
    assert e.requires_grad and e.grad_fn.name().startswith("NormalBackward")
    e.sum().backward()
    t.sum().backward()
    assert em.grad.tolist() == tm.grad.tolist()
    p = ember.full((4,), 0.5, requires_grad=True)
    ember.bernoulli(p).sum().backward()
    assert p.grad.tolist() == [0.0] * 4


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_bernoulli(p):
    x = ember.bernoulli(ember.full((N,), p))
    close(stats(x)[0], p, 0.01)
    y = ember.bernoulli(ember.zeros(N, dtype=ember.float64), p)
    assert y.dtype is ember.float64
    close(stats(y)[0], p, 0.01)
    z = ember.zeros(N, dtype=ember.int64).bernoulli_(p)
    assert z.dtype is ember.int64
    close(stats(z)[0], p, 0.01)
    w = ember.zeros(N).bernoulli_(ember.full((N,), p))
    close(stats(w)[0], p, 0.01)


def test_multinomial():
    probs = ember.tensor([1.0, 2.0, 0.0, 5.0])
    with_r = ember.multinomial(probs, N, replacement=True)
    freq = np.bincount(with_r.numpy(), minlength=4) / N
    np.testing.assert_allclose(freq, [1 / 8, 2 / 8, 0, 5 / 8], atol=0.01)
    batch = ember.multinomial(ember.tensor([[0.0, 1.0], [1.0, 0.0]]), 6, True)
    assert batch.tolist() == [[1] * 6, [0] * 6]
    firsts = np.array([ember.multinomial(probs, 3).tolist() for _ in range(2000)])
    assert all(len(set(row)) == 3 for row in firsts) and 2 not in firsts
    np.testing.assert_allclose(np.bincount(firsts[:, 0], minlength=4) / 2000,
                               [1 / 8, 2 / 8, 0, 5 / 8], atol=0.04)
    assert ember.multinomial(ember.tensor([0.0, 1.0]), 2).tolist() == \
        torch.multinomial(torch.tensor([0.0, 1.0]), 2).tolist()
    both("lib.multinomial(lib.ones(3, 5), 2).shape")
    both("lib.multinomial(lib.ones(5, dtype=lib.float64), 5).dtype")


@pytest.mark.parametrize("expr", [
    "lib.multinomial(lib.tensor([1., 1.]), 3)", "lib.multinomial(lib.tensor([0., 0.]), 1)",
    "lib.multinomial(lib.tensor([-1., 1.]), 1)", "lib.multinomial(lib.ones(2, 3, 4), 1)",
    "lib.multinomial(lib.ones(3), 0)", "lib.multinomial(lib.ones(3, dtype=lib.int64), 1)",
    "lib.multinomial(lib.tensor(1.), 1)", "lib.multinomial(lib.tensor([float('nan'), 1.]), 1)",
])
def test_multinomial_errors(expr):
    assert str(both(expr)).startswith("multinomial: ")


def test_poisson():
    lam = ember.tensor(np.repeat([0.0, 1.0, 4.0, 50.0], N // 4))
    x = ember.poisson(lam).numpy().reshape(4, -1)
    np.testing.assert_allclose(x.mean(1), [0, 1, 4, 50], atol=0.15)
    np.testing.assert_allclose(x.var(1), [0, 1, 4, 50], rtol=0.05, atol=0.05)
    assert ember.poisson(ember.ones(2, dtype=ember.float16)).dtype is ember.float16


def test_inplace_sampler_statistics():
    x = ember.zeros(N)
    mean, std, lo, hi = stats(x.uniform_(-2, 6))
    close(mean, 2.0, 0.05)
    assert lo >= -2 and hi < 6
    mean, std, _, _ = stats(x.normal_(5, 3))
    close(mean, 5.0, 0.05)
    close(std, 3.0, 0.05)
    mean, _, lo, hi = stats(x.random_(3, 9))
    assert lo == 3 and hi == 8
    close(mean, 5.5, 0.05)
    _, _, lo, hi = stats(x.random_(4))
    assert lo == 0 and hi == 3
    _, _, lo, hi = stats(x.random_())
    assert lo >= 0 and hi <= 2**24 and hi > 2**23
    mean, std, lo, _ = stats(x.exponential_(4.0))
    close(mean, 0.25, 0.01)
    assert lo >= 0
    mean, _, lo, _ = stats(x.geometric_(0.25))
    close(mean, 4.0, 0.1)
    assert lo == 1
    logs = np.log(x.log_normal_(1.0, 0.5).numpy())
    close(logs.mean(), 1.0, 0.01)
    close(logs.std(), 0.5, 0.01)
    c = x.cauchy_(2.0, 0.5).numpy()
    close(np.median(c), 2.0, 0.02)
    close(np.percentile(c, 75) - np.percentile(c, 25), 1.0, 0.03)  # IQR = 2 sigma


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64", "bool", "float16",
                                   "bfloat16", "float64"])
def test_random_full_range(dtype):
    e = getattr(ember, dtype)
    x = ember.zeros(20_000, dtype=e).random_()
    t = torch.zeros(20_000, dtype=getattr(torch, dtype)).random_()
    lo, hi = (x.double() if dtype != "bool" else x.long()).numpy().min(), \
        (x.double() if dtype != "bool" else x.long()).numpy().max()
    tlo, thi = t.double().min().item(), t.double().max().item()
    assert lo >= 0 and x.dtype is e
    assert hi <= max(thi, 1) * 1.02 + 1 and hi >= thi * 0.9  # the same range as torch's


@pytest.mark.parametrize("expr", [
    "lib.randint(5, 5, (3,))", "lib.randint(-5, 300, (3,), dtype=lib.uint8)",
    "lib.randn(2, dtype=lib.int64)", "lib.rand(2, dtype=lib.int64)",
    "lib.rand_like(lib.zeros(2, dtype=lib.int64))", "lib.randperm(-1)",
    "lib.zeros(3).uniform_(1, 0)", "lib.zeros(3).normal_(0, -1)",
    "lib.zeros(3).exponential_(-1)", "lib.zeros(3, dtype=lib.int64).exponential_()",
    "lib.zeros(3).geometric_(0)", "lib.zeros(3).geometric_(1.5)",
    "lib.zeros(3).random_(5, 2)", "lib.zeros(3, dtype=lib.uint8).random_(0, 300)",
    "lib.bernoulli(lib.full((3,), 2.))", "lib.bernoulli(lib.zeros(3, dtype=lib.int64))",
    "lib.zeros(3).bernoulli_(1.5)", "lib.poisson(lib.tensor([-1.]))",
    "lib.poisson(lib.tensor([1, 2]))", "lib.normal(lib.zeros(2), -1.)",
    "lib.normal(lib.zeros(2, dtype=lib.int64), 1.)", "lib.normal(lib.zeros(2), lib.ones(3))",
    "lib.zeros(2, requires_grad=True).uniform_()", "lib.zeros(2, requires_grad=True).normal_()",
    "lib.randn(2, dtype=lib.int64, requires_grad=True)",
    "lib.zeros(3).uniform_(0, float('inf'))",
])
def test_sampler_errors(expr):
    e = both(expr)
    names = re.findall(r"\.(\w+)\(", expr) + [
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"]
    assert str(e).split(":")[0] in names, e


def test_inplace_sampler_autograd():
    a = ember.ones(3, requires_grad=True)
    b = a * 2
    b.normal_()
    assert b.grad_fn.name() == "NormalBackward0"
    b.sum().backward()
    assert a.grad.tolist() == [0.0, 0.0, 0.0]
    with ember.no_grad():
        a.uniform_(-1, 1)
    assert a.is_leaf and -1 <= a.min().item() and a.max().item() < 1
    v = a.detach()
    before = v._version
    v.exponential_()
    assert v._version == before + 1


def test_generator_errors():
    raises(TypeError, "rand: generator must be an ember.Generator", ember.rand, 2,
           generator=np.random.default_rng())
    if not ember.cuda.is_available():
        raises(ImportError, "ember\\[cuda\\]", ember.Generator, "cuda")


# ---- GPU ----------------------------------------------------------------------------------------
@pytest.mark.gpu
def test_cuda_generator():
    g = ember.Generator("cuda").manual_seed(0)
    assert g.device == ember.device("cuda", 0)
    a = ember.rand(1000, generator=g, device="cuda")
    b = ember.randn(1001, generator=g, device="cuda", dtype=ember.float64)
    state = g.get_state()
    c = ember.randint(0, 7, (1000,), generator=g, device="cuda")
    g.set_state(state)
    assert ember.randint(0, 7, (1000,), generator=g, device="cuda").tolist() == c.tolist()
    g.manual_seed(0)
    assert ember.rand(1000, generator=g, device="cuda").tolist() == a.tolist()
    assert a.is_cuda and b.dtype is ember.float64 and b.shape == (1001,)
    clone = pickle.loads(pickle.dumps(g))
    assert ember.rand(5, generator=clone, device="cuda").tolist() == \
        ember.rand(5, generator=g, device="cuda").tolist()
    raises(RuntimeError, "Expected a 'cuda' device type for generator", ember.rand, 2,
           generator=ember.Generator(), device="cuda")


@pytest.mark.gpu
def test_cuda_statistics():
    ember.manual_seed(1)
    u = ember.rand(N, device="cuda")
    mean, std, lo, hi = stats(u.cpu())
    close(mean, 0.5, 0.01)
    assert lo >= 0 and hi < 1
    z = ember.randn(N, device="cuda", dtype=ember.float16)
    close(stats(z.cpu())[1], 1.0, 0.02)
    r = ember.randint(-3, 4, (N,), device="cuda")
    assert set(np.unique(r.cpu().numpy())) == set(range(-3, 4))
    p = ember.randperm(1000, device="cuda")
    assert sorted(p.tolist()) == list(range(1000))
    m = ember.multinomial(ember.tensor([1.0, 3.0], device="cuda"), N, True)
    close(m.cpu().double().mean().item(), 0.75, 0.01)
    x = ember.zeros(N, device="cuda")
    close(stats(x.exponential_(2.0).cpu())[0], 0.5, 0.01)
    close(stats(x.bernoulli_(0.2).cpu())[0], 0.2, 0.01)
    close(stats(ember.poisson(ember.full((N,), 3.0, device="cuda")).cpu())[0], 3.0, 0.05)


@pytest.mark.gpu
def test_cuda_seeding():
    ember.manual_seed(5)
    a = ember.rand(10, device="cuda")
    ember.cuda.manual_seed(5)
    assert ember.rand(10, device="cuda").tolist() == a.tolist()
    state = ember.cuda.get_rng_state()
    b = ember.randn(10, device="cuda")
    ember.cuda.set_rng_state(state)
    assert ember.randn(10, device="cuda").tolist() == b.tolist()
    before = ember.cuda.get_rng_state()
    with ember.random.fork_rng(devices=[0]):
        ember.rand(10, device="cuda")
    assert ember.cuda.get_rng_state().tolist() == before.tolist()
    assert len(ember.cuda.default_generators) == ember.cuda.device_count()


def test_op_db_regressions():
    """Cases PyTorch's OpInfo samples (tests/ops/test_op_db.py) found: multinomial writes only
    into an int64 out=."""
    probs = ember.tensor([[0.3, 0.7]], dtype=ember.float64)
    raises(RuntimeError, "multinomial expects Long tensor out, got: float64", ember.multinomial,
           probs, 2, out=ember.empty(1, 2, dtype=ember.float64))
