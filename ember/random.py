"""Random numbers: ``Generator``, the global seeding functions, and the sampling ops (``rand``,
``randn``, ``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial``, ``poisson``
and the in-place ``uniform_``, ``normal_``, ... ``cauchy_``).

Every generator is bound to one device and draws there. On the CPU it wraps NumPy's PCG64;
on a CUDA device, cuRAND's Philox generator through CuPy (``ember/cuda/_curand.py``). A seed
gives the same numbers on every run and platform (not the numbers PyTorch would give).

Samplers are written once on top of a few primitives each device source provides (uniform
floats, standard normals, bounded integers, Poisson counts, permutations)."""
import contextlib
import math
import numbers
import os
import struct

import numpy as np

from . import _dtype
from ._creation import make_tensor, to_out
from ._device import as_device
from ._errors import mark
from ._tensor import Tensor, _new_tensor
from .autograd.function import Function
from .autograd.grad_mode import GradMode
from .backend import resolve, xp_for
from .ops._broadcast import broadcast_shape
from .ops._dims import as_shape
from .ops._registry import PUBLIC, public, public_method

# PyTorch's seed for generators that were never seeded (CUDA defaults, new Generators).
DEFAULT_SEED = 67280421310721


def _check_seed(seed, op="manual_seed"):
    """A user seed as an unsigned 64-bit integer (negative seeds wrap, as in PyTorch)."""
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, np.integer):
        seed = int(seed)
    if not isinstance(seed, numbers.Integral) or isinstance(seed, float):
        raise mark(RuntimeError(f"{op} expected a long, but got {type(seed).__name__}"))
    seed = int(seed)
    if not -2**63 <= seed < 2**64:
        raise mark(ValueError(f"{op}: seed {seed} is out of range; seeds must fit in 64 bits "
                              f"([-2**63, 2**64))"))
    return seed % 2**64


def _fresh_seed():
    return int.from_bytes(os.urandom(8), "little")


# ---- per-device sources of random bits -------------------------------------------------------
class _CPUSource:
    """NumPy's PCG64. State: 16-byte state, 16-byte increment, buffered 32 bits."""
    STATE_BYTES = 37

    def __init__(self):
        self.rng = None

    def seed(self, seed):
        self.rng = np.random.Generator(np.random.PCG64(seed))

    def uniform(self, shape, np_dtype):  # [0, 1), np_dtype float32 or float64
        return self.rng.random(shape, dtype=np_dtype)

    def normal(self, shape, np_dtype):
        return self.rng.standard_normal(shape, dtype=np_dtype)

    def integers(self, low, high, shape):  # int64 in [low, high)
        return self.rng.integers(low, high, size=shape, dtype=np.int64)

    def poisson(self, lam):
        return self.rng.poisson(lam).astype(np.float64)

    def permutation(self, n):
        return self.rng.permutation(n)

    def get_state(self):
        s = self.rng.bit_generator.state
        return (s["state"]["state"].to_bytes(16, "little") + s["state"]["inc"].to_bytes(16, "little")
                + struct.pack("<BI", s["has_uint32"], s["uinteger"]))

    def set_state(self, raw):
        has_uint32, uinteger = struct.unpack("<BI", raw[32:37])
        bit_gen = np.random.PCG64()
        bit_gen.state = {"bit_generator": "PCG64",
                         "state": {"state": int.from_bytes(raw[:16], "little"),
                                   "inc": int.from_bytes(raw[16:32], "little")},
                         "has_uint32": has_uint32, "uinteger": uinteger}
        self.rng = np.random.Generator(bit_gen)


class Generator:
    """A random number generator bound to ``device`` (``Generator()``, ``Generator('cuda')``).

    ``manual_seed`` returns the generator, so ``Generator().manual_seed(0)`` works inline; the
    state (``get_state``: a uint8 tensor) can be saved and restored with ``set_state``, and
    generators pickle with their state (for data-loading workers and checkpoints)."""

    def __init__(self, device="cpu"):
        dev = as_device(device)
        if dev.type == "cuda":
            from .cuda._curand import CUDASource
            dev = resolve(dev)
            self._source = CUDASource(dev.index)
        else:
            self._source = _CPUSource()
        self.device = dev
        self.manual_seed(DEFAULT_SEED)

    def manual_seed(self, seed):
        seed = _check_seed(seed)
        self._seed = seed
        self._source.seed(seed)
        return self

    def seed(self):
        """Seed with a non-deterministic number, and return it."""
        s = _fresh_seed()
        self.manual_seed(s)
        return s

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The state as a uint8 tensor (the seed followed by the source's state)."""
        raw = struct.pack("<Q", self._seed) + self._source.get_state()
        return _new_tensor(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, new_state):
        n = 8 + self._source.STATE_BYTES
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dtype.uint8 or \
                new_state.numel() != n:
            got = (f"{new_state.dtype} tensor of {new_state.numel()} elements"
                   if isinstance(new_state, Tensor) else type(new_state).__name__)
            raise mark(RuntimeError(f"set_state: expected a uint8 tensor of {n} elements as "
                                    f"returned by get_state() of a {self.device.type} "
                                    f"Generator, got {got}"))
        raw = bytes(new_state.cpu()._data.tobytes())
        (self._seed,) = struct.unpack("<Q", raw[:8])
        self._source.seed(self._seed)
        self._source.set_state(raw[8:])
        return self

    def __getstate__(self):
        return {"device": str(self.device), "state": self.get_state()._data.tobytes()}

    def __setstate__(self, state):
        self.__init__(state["device"])
        self.set_state(_new_tensor(np.frombuffer(state["state"], dtype=np.uint8).copy()))

    def __repr__(self):
        return f"<ember.Generator(device='{self.device}') at {id(self):#x}>"


default_generator = Generator("cpu").manual_seed(_fresh_seed())
_cuda_generators = {}     # device index -> that device's default Generator, made on first use
_cuda_seed = [None]       # the seed manual_seed gave before a CUDA generator existed


def cuda_default_generator(index):
    """The default Generator of CUDA device ``index``."""
    gen = _cuda_generators.get(index)
    if gen is None:
        gen = _cuda_generators[index] = Generator(f"cuda:{index}")
        if _cuda_seed[0] is not None:
            gen.manual_seed(_cuda_seed[0])
    return gen


def seed_cuda_all(seed):
    """Seed every CUDA device's default generator (also those not made yet)."""
    seed = _check_seed(seed)
    _cuda_seed[0] = seed
    for gen in _cuda_generators.values():
        gen.manual_seed(seed)


def manual_seed(seed):
    """Seed the CPU generator and every CUDA device's; returns the CPU generator."""
    seed = _check_seed(seed)
    seed_cuda_all(seed)
    return default_generator.manual_seed(seed)


def seed():
    """Seed all generators with a non-deterministic number, and return it."""
    s = default_generator.seed()
    seed_cuda_all(s)
    return s


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Run a block whose random draws do not change the CPU and CUDA generators' states
    afterwards (``devices``: the CUDA device indices to protect; default: those in use)."""
    if not enabled:
        yield
        return
    indices = sorted(_cuda_generators) if devices is None else \
        [d if isinstance(d, int) else (as_device(d).index or 0) for d in devices]
    cpu_state = default_generator.get_state()
    cuda_states = [(i, cuda_default_generator(i).get_state()) for i in indices]
    try:
        yield
    finally:
        default_generator.set_state(cpu_state)
        for i, state in cuda_states:
            cuda_default_generator(i).set_state(state)


for _name in ("Generator", "default_generator", "manual_seed", "seed", "initial_seed",
              "get_rng_state", "set_rng_state"):
    PUBLIC[_name] = globals()[_name]


# ---- helpers shared by the samplers ------------------------------------------------------------
def _source(generator, device, op):
    """The source to draw from: ``generator``'s (checked against ``device``) or the device's
    default generator's."""
    if generator is None:
        if device.type == "cpu":
            return default_generator._source
        return cuda_default_generator(device.index)._source
    if not isinstance(generator, Generator):
        raise mark(TypeError(f"{op}: generator must be an ember.Generator, got "
                             f"{type(generator).__name__}"))
    if generator.device.type != device.type or (
            device.type == "cuda" and generator.device.index != device.index):
        raise mark(RuntimeError(f"{op}: Expected a '{device.type}' device type for generator "
                                f"but found '{generator.device}'; create the Generator on "
                                f"{device} (ember.Generator(device='{device}'))"))
    return generator._source


def _compute(d):
    """The NumPy type a float sample of dtype ``d`` is drawn in (float64 for the 64-bit types,
    float32 for the others)."""
    return np.dtype(np.float64 if d in (_dtype.float64, _dtype.complex128) else np.float32)


def _unit_uniform(src, shape, d):
    """Uniform [0, 1) values in dtype ``d`` (float): the half types get values on their own
    grid, so rounding can never produce 1."""
    if d is _dtype.float16 or d is _dtype.bfloat16:
        bits = 11 if d is _dtype.float16 else 8
        return (src.integers(0, 2**bits, shape).astype(np.float32) * 2.0**-bits).astype(d.np)
    return src.uniform(shape, d.np)


def _uniform(src, shape, d, low=0.0, high=1.0):
    if d.is_complex:
        real = d.to_real()
        return _complex(_uniform(src, shape, real, low, high), _uniform(src, shape, real, low, high))
    u = _unit_uniform(src, shape, d)
    if low == 0.0 and high == 1.0:
        return u
    c = _compute(d)
    return (c.type(low) + c.type(high - low) * u.astype(c, copy=False)).astype(d.np, copy=False)


def _normal(src, shape, d, mean=0.0, std=1.0):
    """Normal values in dtype ``d``; complex dtypes get independent parts of variance 1/2."""
    if d.is_complex:
        real, s = d.to_real(), std / math.sqrt(2)
        return _complex(_normal(src, shape, real, 0.0, s), _normal(src, shape, real, 0.0, s)) + mean
    x = src.normal(shape, _compute(d))
    if not (mean == 0.0 and std == 1.0):
        c = x.dtype.type
        x = c(mean) + c(std) * x
    return x.astype(d.np, copy=False)


def _complex(real, imag):
    return real + 1j * imag.astype(real.dtype)


def _check_float(op, d, what="dtype"):
    if not (d.is_floating_point or d.is_complex):
        raise mark(NotImplementedError(
            f"{op}: expected a floating point or complex {what}, got {d}; e.g. use .float() or "
            f"ember.randint for integers"))


def _generated(op, size, generator, dtype, device, requires_grad, out, fill):
    shape = as_shape(op, size)
    if any(s < 0 for s in shape):
        raise mark(RuntimeError(f"{op}: Trying to create tensor with negative dimension "
                                f"{min(shape)}: {list(shape)}"))
    return make_tensor(op, fill, shape, dtype, device, requires_grad, out, _source, generator)


# ---- creation samplers -------------------------------------------------------------------------
def _float_fill(op, sample):
    def fill(src, shape, d):
        _check_float(op, d)
        return sample(src, shape, d)
    return fill


_rand_fill = _float_fill("rand", _uniform)
_randn_fill = _float_fill("randn", _normal)


@public(method=False)
def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False):
    """Uniform samples from [0, 1)."""
    return _generated("rand", size, generator, dtype, device, requires_grad, out, _rand_fill)


@public(method=False)
def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False):
    """Standard normal samples."""
    return _generated("randn", size, generator, dtype, device, requires_grad, out, _randn_fill)


def _like_args(op, input, dtype, device):
    if not isinstance(input, Tensor):
        raise mark(TypeError(f"{op}: argument 'input' must be a Tensor, not "
                             f"{type(input).__name__}"))
    return (input._data.shape, dtype if dtype is not None else input.dtype,
            device if device is not None else input.device)


@public(method=False)
def rand_like(input, *, generator=None, dtype=None, layout=None, device=None,
              requires_grad=False, memory_format=None):
    shape, dtype, device = _like_args("rand_like", input, dtype, device)
    return _generated("rand_like", shape, generator, dtype, device, requires_grad, None,
                      _float_fill("rand_like", _uniform))


@public(method=False)
def randn_like(input, *, generator=None, dtype=None, layout=None, device=None,
               requires_grad=False, memory_format=None):
    shape, dtype, device = _like_args("randn_like", input, dtype, device)
    return _generated("randn_like", shape, generator, dtype, device, requires_grad, None,
                      _float_fill("randn_like", _normal))


def _int_bounds(d):
    """The values ``random_()`` draws for dtype ``d``: [0, 2**mantissa] for floats, [0, max]
    for integers."""
    if d is _dtype.bool:
        return 0, 2
    if d.is_floating_point:
        return 0, 2 ** {2: 11 if d is _dtype.float16 else 8, 4: 24, 8: 53}[d.itemsize] + 1
    return 0, int(np.iinfo(d.np).max) + 1


def _check_range(op, low, high, d):
    if low >= high:
        raise mark(RuntimeError(f"{op}: random_ expects 'from' to be less than 'to', but got "
                                f"from={low} >= to={high}"))
    if d._category == _dtype._INT or d is _dtype.bool:
        info = np.iinfo(np.uint8 if d is _dtype.bool else d.np)
        for name, v in (("from", low), ("to - 1", high - 1)):
            if not info.min <= v <= info.max:
                raise mark(RuntimeError(f"{op}: {name} = {v} is out of bounds for {d}"))
    if d.is_complex:
        raise mark(NotImplementedError(f"{op}: not implemented for {d}"))


def _integers(src, shape, d, low, high):
    return src.integers(low, high, shape).astype(d.np)


def _parse_randint(args, low, high, size):
    args = list(args)
    if size is None:
        if not args:
            raise mark(TypeError("randint: missing the size argument, e.g. "
                                 "ember.randint(0, 10, (3,))"))
        size = args.pop()
    if len(args) == 2:
        low, high = args
    elif len(args) == 1:
        if high is None:
            high = args[0]
        else:
            low = args[0]
    elif args:
        raise mark(TypeError(f"randint: expected (high, size) or (low, high, size), got "
                             f"{len(args) + 1} positional arguments"))
    if high is None:
        raise mark(TypeError("randint: missing the 'high' argument"))
    return _as_int("randint", low or 0, "low"), _as_int("randint", high, "high"), size


def _as_int(op, v, name):
    if isinstance(v, Tensor):
        v = v.item()
    try:
        return int(v) if not isinstance(v, float) or v.is_integer() else math.floor(v)
    except (TypeError, ValueError):
        raise mark(TypeError(f"{op}: {name} must be an integer, got {type(v).__name__}")) \
            from None


@public(method=False)
def randint(*args, size=None, low=None, high=None, generator=None, out=None, dtype=None,
            layout=None, device=None, requires_grad=False, pin_memory=False):
    """Integers drawn uniformly from [low, high): ``randint(high, size)`` or
    ``randint(low, high, size)`` (int64 unless ``dtype`` is given)."""
    low, high, size = _parse_randint(args, low, high, size)
    if dtype is None and out is None:
        dtype = _dtype.int64

    def fill(src, shape, d):
        _check_range("randint", low, high, d)
        return _integers(src, shape, d, low, high)
    return _generated("randint", size, generator, dtype, device, requires_grad, out, fill)


@public(method=False)
def randint_like(input, low=0, high=None, *, generator=None, dtype=None, layout=None,
                 device=None, requires_grad=False, memory_format=None):
    """``randint`` with ``input``'s shape, dtype and device: ``randint_like(x, high)`` or
    ``randint_like(x, low, high)``."""
    if high is None:
        low, high = 0, low
    low, high = _as_int("randint_like", low, "low"), _as_int("randint_like", high, "high")
    shape, dtype, device = _like_args("randint_like", input, dtype, device)

    def fill(src, shape, d):
        _check_range("randint_like", low, high, d)
        return _integers(src, shape, d, low, high)
    return _generated("randint_like", shape, generator, dtype, device, requires_grad, None, fill)


@public(method=False)
def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    """A random permutation of 0 .. n-1 (int64 unless ``dtype`` is given)."""
    n = _as_int("randperm", n, "n")
    if dtype is None and out is None:
        dtype = _dtype.int64

    def fill(src, shape, d):
        if d._category == _dtype._INT and n - 1 > np.iinfo(d.np).max:
            raise mark(RuntimeError(f"randperm: n = {n} is too large for dtype {d}"))
        return src.permutation(n).astype(d.np)
    return _generated("randperm", (n,), generator, dtype, device, requires_grad, out, fill)


# ---- samplers with tensor parameters ---------------------------------------------------------
class _Sampled(Function):
    """The output of a sampler whose parameters are tensors requiring grad: like PyTorch, it
    records a node whose gradient for every parameter is zero (samples are not
    reparameterized). Subclasses name the node (NormalBackward0 ...)."""
    _raw = True

    @staticmethod
    def forward(ctx, values, *params):
        ctx.metas = [(p.shape, p.dtype) for p in params]
        return values

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        return (None,) + tuple(_new_tensor(xp.zeros(s, d)) for s, d in ctx.metas)


_SAMPLED = {}


def _sampled(name, values, params):
    """Wrap ``values``; recorded in the graph when a tensor parameter requires grad."""
    tensors = [p for p in params if isinstance(p, Tensor)]
    if not (GradMode.enabled and any(p._rg for p in tensors)):
        return _new_tensor(values)
    cls = _SAMPLED.get(name)
    if cls is None:
        cls = _SAMPLED[name] = type(name, (_Sampled,), {"op_name": name.lower()})
    return cls.apply(values, *tensors)


def _param_device(op, tensors):
    devs = {t.device for t in tensors if isinstance(t, Tensor)}
    if len(devs) > 1:
        raise mark(RuntimeError(f"{op}: Expected all tensors to be on the same device, but "
                                f"found {' and '.join(sorted(map(str, devs)))}"))
    return devs.pop()


def _check_std(op, std):
    bad = (std._data < 0).any() if isinstance(std, Tensor) else std < 0
    if bad:
        what = "all elements of std >= 0.0" if isinstance(std, Tensor) else \
            f"std >= 0.0, but found std {std}"
        raise mark(RuntimeError(f"{op}: normal expects {what}"))


@public(method=False)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """Normal samples: ``normal(mean_tensor, std_tensor)``, ``normal(mean_tensor, std=1.)``,
    ``normal(mean, std_tensor)`` (broadcast), or ``normal(mean, std, size)`` for numbers."""
    mt, st = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not (mt or st):
        if size is None:
            raise mark(TypeError("normal: with numbers for mean and std, give size (e.g. "
                                 "ember.normal(0., 1., (3,)))"))
        _check_std("normal", std)
        fill = _float_fill("normal", lambda src, shape, d: _normal(src, shape, d, mean, std))
        return _generated("normal", size, generator, dtype, device, requires_grad, out, fill)
    from ._dtype import result_type_of
    dims = [t.dtype for t in (mean, std) if isinstance(t, Tensor)]
    d = result_type_of(dims, [], [])
    _check_float("normal", d, "input")
    _check_std("normal", std)
    dev = _param_device("normal", (mean, std))
    src = _source(generator, dev, "normal")
    xp = xp_for(dev)
    m = mean._data if mt else mean
    s = std._data if st else std
    shape = broadcast_shape(*(x.shape for x in (m, s) if hasattr(x, "shape")))
    values = (xp.asarray(m) + xp.asarray(s) * _normal(src, shape, d)).astype(d.np)
    t = _sampled("Normal", values, (mean, std))
    return to_out(out, t)


def _tensor_arg(op, input):
    if not isinstance(input, Tensor):
        raise mark(TypeError(f"{op}: argument 'input' must be a Tensor, not "
                             f"{type(input).__name__}"))
    return input


@public
def bernoulli(input, p=None, *, generator=None, out=None):
    """1 with probability ``input`` (elementwise), or ``p`` when given; 0 otherwise. The result
    has ``input``'s dtype."""
    _tensor_arg("bernoulli", input)
    src = _source(generator, input.device, "bernoulli")
    if p is None:
        _check_float("bernoulli", input.dtype, "input (the probabilities)")
        _check_probability("bernoulli", input)
        probs = input._data
    else:
        _check_probability("bernoulli", p)
        probs = p
    values = _bernoulli(src, input._data.shape, input.dtype, probs)
    t = _sampled("Bernoulli", values, (input,))
    return to_out(out, t)


def _check_probability(op, p):
    if isinstance(p, Tensor):
        ok = bool(((p._data >= 0) & (p._data <= 1)).all())
    else:
        ok = 0 <= p <= 1
    if not ok:
        raise mark(RuntimeError(f"{op}: probabilities must be in [0, 1] (Expected p_in >= 0 && "
                                f"p_in <= 1)"))


def _bernoulli(src, shape, d, probs):
    c = np.float64 if d is _dtype.float64 else np.float32
    return (src.uniform(shape, c) < probs).astype(d.np)


@public
def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Category indices sampled from the (unnormalized) probabilities in the last dimension of
    ``input`` (1-D, or 2-D for a batch of distributions)."""
    _tensor_arg("multinomial", input)
    _check_multinomial(input, num_samples, replacement)
    if out is not None and out.dtype is not _dtype.int64:
        raise mark(RuntimeError(f"multinomial expects Long tensor out, got: {out.dtype.name}"))
    src = _source(generator, input.device, "multinomial")
    xp = input._xp()
    p = input._data.astype(np.float64).reshape(-1, input._data.shape[-1])
    rows, n = p.shape
    if replacement:
        cdf = xp.cumsum(p, axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        u = src.uniform((rows, num_samples), np.float64)
        offsets = xp.arange(rows, dtype=np.float64)[:, None]
        idx = xp.searchsorted((cdf + offsets).ravel(), (u + offsets).ravel(), side="right")
        idx = idx.reshape(rows, num_samples) - (xp.arange(rows) * n)[:, None]
        idx = xp.minimum(idx, n - 1)
    else:  # Efraimidis-Spirakis: the k largest log(u) / p are a weighted sample without replacement
        u = 1.0 - src.uniform((rows, n), np.float64)  # (0, 1]
        keys = xp.where(p > 0, xp.log(u) / xp.where(p > 0, p, 1.0), -xp.inf)
        idx = xp.argsort(-keys, axis=1)[:, :num_samples]
    t = _new_tensor(idx.astype(np.int64).reshape(input._data.shape[:-1] + (num_samples,)))
    return to_out(out, t)


def _check_multinomial(input, k, replacement):
    d = input.dtype
    if not d.is_floating_point:
        raise mark(RuntimeError(f"multinomial: only supports floating-point dtypes for input, "
                                f"got {d}"))
    if input._data.ndim not in (1, 2):
        raise mark(RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape "
                                f"{list(input.shape)}"))
    if k <= 0:
        raise mark(RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got "
                                f"{k})"))
    n = input._data.shape[-1]
    if not replacement and k > n:
        raise mark(RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) "
                                f"samples without replacement ({k} > {n})"))
    arr = input._data
    if not (input._xp().isfinite(arr).all() and (arr >= 0).all()):
        raise mark(RuntimeError("multinomial: probability tensor contains either `inf`, `nan` "
                                "or element < 0"))
    if (arr.sum(axis=-1) <= 0).any():
        raise mark(RuntimeError("multinomial: invalid multinomial distribution (sum of "
                                "probabilities <= 0)"))


@public
def poisson(input, generator=None):
    """Poisson counts with the rates in ``input`` (same dtype)."""
    _tensor_arg("poisson", input)
    d = input.dtype
    if not d.is_floating_point:
        raise mark(NotImplementedError(f"poisson: expected a floating point input (the rates), "
                                       f"got {d}"))
    arr = input._data
    if not (arr >= 0).all():
        raise mark(RuntimeError("poisson: invalid Poisson rate, expected rate to be "
                                "non-negative"))
    src = _source(generator, input.device, "poisson")
    values = src.poisson(arr.astype(np.float64)).astype(d.np)
    return _sampled("Poisson", values, (input,))


# ---- in-place samplers -------------------------------------------------------------------------
def _fill_inplace(self, op, generator, sample):
    """Replace ``self``'s values by ``sample(source, shape, dtype)``."""
    from ._creation import overwrite
    src = _source(generator, self.device, op)
    return overwrite(self, sample(src, self._data.shape, self.dtype), op)


def _from_kwarg(op, from_, kwargs):
    """PyTorch names the lower bound ``from`` (a Python keyword: passed as ``**{"from": x}``)."""
    if set(kwargs) - {"from"}:
        raise mark(TypeError(f"{op}() got unexpected keyword arguments "
                             f"{sorted(set(kwargs) - {'from'})}"))
    return kwargs.get("from", from_)


@public_method("uniform_")
def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
    from_ = _from_kwarg("uniform_", from_, kwargs)
    _check_float("uniform_", self.dtype, "tensor")
    if from_ > to:
        raise mark(RuntimeError(f"uniform_: expects to return a [from, to) range, but found "
                                f"from={from_} > to={to}"))
    if not (math.isfinite(from_) and math.isfinite(to)):
        raise mark(RuntimeError(f"uniform_: from and to must be finite, got [{from_}, {to})"))
    return _fill_inplace(self, "uniform_", generator,
                         lambda src, shape, d: _uniform(src, shape, d, from_, to))


@public_method("normal_")
def normal_(self, mean=0.0, std=1.0, *, generator=None):
    _check_float("normal_", self.dtype, "tensor")
    _check_std("normal_", std)
    return _fill_inplace(self, "normal_", generator,
                         lambda src, shape, d: _normal(src, shape, d, mean, std))


@public_method("bernoulli_")
def bernoulli_(self, p=0.5, *, generator=None):
    _check_probability("bernoulli_", p)
    if isinstance(p, Tensor):
        if p.device != self.device:
            p = p.to(self.device)
        p = p._data
    return _fill_inplace(self, "bernoulli_", generator,
                         lambda src, shape, d: _bernoulli(src, shape, d, p))


@public_method("random_")
def random_(self, *args, generator=None, **kwargs):
    """Integers from [from, to): ``random_(from, to)``, ``random_(to)`` (from 0), or
    ``random_()``: every integer of the dtype (for floats: those its mantissa holds exactly)."""
    if "to" in kwargs or "from" in kwargs or len(args) == 2:
        low = _from_kwarg("random_", args[0] if args else 0, {k: v for k, v in kwargs.items()
                                                               if k != "to"})
        high = kwargs.get("to", args[1] if len(args) > 1 else None)
    elif len(args) == 1:
        low, high = 0, args[0]
    elif not args and not kwargs:
        low, high = 0, None
    else:
        raise mark(TypeError(f"random_: expected (from, to), (to) or no bounds, got {args} "
                             f"{kwargs}"))
    low = _as_int("random_", low, "from")
    high = _int_bounds(self.dtype)[1] if high is None else _as_int("random_", high, "to")
    _check_range("random_", low, high, self.dtype)
    return _fill_inplace(self, "random_", generator,
                         lambda src, shape, d: _integers(src, shape, d, low, high))


def _positive(op, name, value, strict_upper=None):
    if not value > 0 or (strict_upper is not None and not value < strict_upper):
        bound = f"in (0, {strict_upper})" if strict_upper is not None else "> 0.0"
        raise mark(RuntimeError(f"{op}: expects {name} {bound}, but found {name}={value}"))


@public_method("exponential_")
def exponential_(self, lambd=1.0, *, generator=None):
    if not self.dtype.is_floating_point:
        raise mark(RuntimeError(f"exponential_: Exponential distribution is a continuous "
                                f"probability distribution. dtype must be a floating point but "
                                f"you specified {self.dtype}"))
    _positive("exponential_", "lambda", lambd)
    xp = self._xp()

    def sample(src, shape, d):
        u = src.uniform(shape, _compute(d))  # [0, 1): log1p(-u) stays finite
        return (-xp.log1p(-u) / u.dtype.type(lambd)).astype(d.np)
    return _fill_inplace(self, "exponential_", generator, sample)


@public_method("geometric_")
def geometric_(self, p, *, generator=None):
    _positive("geometric_", "p", p, strict_upper=1)
    xp = self._xp()

    def sample(src, shape, d):
        u = 1.0 - src.uniform(shape, np.float64)  # (0, 1]
        return xp.maximum(xp.ceil(xp.log(u) / math.log1p(-p)), 1).astype(d.np)
    return _fill_inplace(self, "geometric_", generator, sample)


@public_method("log_normal_")
def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    if not self.dtype.is_floating_point:
        raise mark(RuntimeError(f"log_normal_: expects a floating point tensor, got "
                                f"{self.dtype}"))
    _positive("log_normal_", "std", std)
    xp = self._xp()
    return _fill_inplace(self, "log_normal_", generator, lambda src, shape, d: xp.exp(
        _normal(src, shape, _dtype.NP_TO_DTYPE[_compute(d)], mean, std)).astype(d.np))


@public_method("cauchy_")
def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    if not self.dtype.is_floating_point:
        raise mark(RuntimeError(f"cauchy_: expects a floating point tensor, got {self.dtype}"))
    _positive("cauchy_", "sigma", sigma)
    xp = self._xp()

    def sample(src, shape, d):
        u = src.uniform(shape, np.float64)
        return (median + sigma * xp.tan(math.pi * (u - 0.5))).astype(d.np)
    return _fill_inplace(self, "cauchy_", generator, sample)
