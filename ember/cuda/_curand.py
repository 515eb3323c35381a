"""The source of random bits behind CUDA Generators: cuRAND's Philox4x32-10 through CuPy,
addressed by (seed, offset) as PyTorch's CUDA generator is, so that its state is two numbers
that can be saved and restored. It provides the primitives ``ember.random``'s samplers are
written on (see ``_CPUSource`` there for the CPU counterpart)."""
import math
import struct

import numpy as np


class CUDASource:
    """cuRAND's Philox4x32-10 on one GPU. Each draw starts at ``offset`` 32-bit values into the
    seed's stream and advances it past what the draw can consume, so (seed, offset) is the
    whole state."""
    STATE_BYTES = 8

    def __init__(self, index):
        from ..backend import cupy
        self.cp = cupy()
        self.index = index
        self.handle = None
        self.seed_value = 0
        self.offset = 0

    def seed(self, seed):
        self.seed_value, self.offset = seed, 0

    def __del__(self):
        if self.handle is not None:
            try:
                self.cp.cuda.curand.destroyGenerator(self.handle)
            except Exception:  # interpreter shutdown: the CUDA context may be gone already
                pass

    def _draw(self, n, count_per_value, fill):
        """Position cuRAND at the current offset, run ``fill(handle)``, advance the offset."""
        curand = self.cp.cuda.curand
        if self.handle is None:
            with self.cp.cuda.Device(self.index):
                self.handle = curand.createGenerator(curand.CURAND_RNG_PSEUDO_PHILOX4_32_10)
        curand.setPseudoRandomGeneratorSeed(self.handle, self.seed_value)
        curand.setGeneratorOffset(self.handle, self.offset)
        self.offset += -(-n * count_per_value // 4) * 4 + 4
        return fill(self.handle)

    def _generated(self, shape, np_dtype, generate, count_per_value, even=False):
        cp = self.cp
        n = math.prod(shape)
        size = n + (n % 2 if even else 0)
        with cp.cuda.Device(self.index):
            out = cp.empty(max(size, 1), dtype=np_dtype)
            if n:
                self._draw(size, count_per_value, lambda h: generate(h, out.data.ptr, size))
        return out[:n].reshape(shape)

    def uniform(self, shape, np_dtype):
        curand = self.cp.cuda.curand
        double = np.dtype(np_dtype) == np.float64
        gen = curand.generateUniformDouble if double else curand.generateUniform
        u = self._generated(shape, np_dtype, gen, 2 if double else 1)
        return 1 - u  # cuRAND gives (0, 1]; PyTorch's uniform is [0, 1)

    def normal(self, shape, np_dtype):
        curand = self.cp.cuda.curand
        double = np.dtype(np_dtype) == np.float64
        gen = curand.generateNormalDouble if double else curand.generateNormal
        return self._generated(shape, np_dtype, lambda h, p, n: gen(h, p, n, 0.0, 1.0),
                               2 if double else 1, even=True)

    def integers(self, low, high, shape):
        words = self._generated(tuple(shape) + (2,), np.uint32, self.cp.cuda.curand.generate, 1)
        bits = words[..., 0].astype(np.uint64) << np.uint64(32) | words[..., 1].astype(np.uint64)
        span = np.uint64(high - low)
        return (bits % span).astype(np.int64) + np.int64(low)

    def poisson(self, lam):
        # cuRAND's Poisson takes one rate per call; per-element rates are drawn on the host from
        # a stream keyed by (seed, offset), which keeps them reproducible.
        rng = np.random.Generator(np.random.PCG64([self.seed_value, self.offset]))
        self.offset += 4
        return self.cp.asarray(rng.poisson(lam.get()).astype(np.float64))

    def permutation(self, n):
        return self.cp.argsort(self.integers(0, 2**62, (n,)))

    def get_state(self):
        return struct.pack("<Q", self.offset)

    def set_state(self, raw):
        (self.offset,) = struct.unpack("<Q", raw)
