"""Samplers: iterables of dataset indices (or, for ``BatchSampler``, of lists of indices) that
decide the order in which ``DataLoader`` reads a map-style dataset.

The random samplers draw from ember's random API exactly as PyTorch's draw from torch's
(``randperm`` for shuffles, ``randint`` in chunks of 32 for sampling with replacement,
``multinomial`` for weights), so a seeded ``Generator`` reproduces the same order run after
run."""
import itertools
from typing import Generic, TypeVar

__all__ = ["BatchSampler", "RandomSampler", "Sampler", "SequentialSampler",
           "SubsetRandomSampler", "WeightedRandomSampler"]

T_co = TypeVar("T_co", covariant=True)

_REPLACEMENT_CHUNK = 32  # indices drawn per randint call when sampling with replacement


def _draw_seed(generator=None):
    """A random int64 in [0, 2**63) from ``generator`` (the default generator if None)."""
    import ember
    return int(ember.empty((), dtype=ember.int64).random_(generator=generator).item())


def _positive_int(value, name):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} should be a positive integer value, but got {name}={value!r}")


def _bool(value, name, error=ValueError):
    if not isinstance(value, bool):
        raise error(f"{name} should be a boolean value, but got {name}={value!r}")


class Sampler(Generic[T_co]):
    """Base class of samplers: subclasses implement ``__iter__`` (indices) and, where it is
    known, ``__len__`` (``len(DataLoader)`` needs it)."""

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """A random permutation of the indices (repeated and truncated to ``num_samples``), or with
    ``replacement=True`` ``num_samples`` independent uniform draws.

    Without a ``generator`` every ``iter()`` seeds a fresh generator from the default one."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        _bool(replacement, "replacement", TypeError)
        num = self.num_samples
        if not isinstance(num, int) or isinstance(num, bool) or num <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        import ember
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = ember.Generator()
            generator.manual_seed(_draw_seed())
        count = self.num_samples
        if self.replacement:
            for size in _chunks(count, _REPLACEMENT_CHUNK):
                yield from ember.randint(0, n, (size,), dtype=ember.int64,
                                         generator=generator).tolist()
        else:
            for size in _chunks(count, n):
                yield from ember.randperm(n, generator=generator).tolist()[:size]

    def __len__(self):
        return self.num_samples


def _chunks(total, size):
    """``total // size`` full chunk sizes, then the remainder (possibly 0), as PyTorch draws."""
    return itertools.chain(itertools.repeat(size, total // size), (total % size,))


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        import ember
        for i in ember.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices in ``[0, len(weights))`` drawn with probabilities proportional
    to ``weights`` (with or without ``replacement``)."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        import ember
        _positive_int(num_samples, "num_samples")
        _bool(replacement, "replacement")
        weights = ember.as_tensor(weights, dtype=ember.float64)
        if weights.dim() != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        self.weights = weights
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        import ember
        drawn = ember.multinomial(self.weights, self.num_samples, self.replacement,
                                  generator=self.generator)
        yield from drawn.tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter,
    or dropped with ``drop_last=True``)."""

    def __init__(self, sampler, batch_size, drop_last):
        _positive_int(batch_size, "batch_size")
        _bool(drop_last, "drop_last")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        size = self.batch_size
        batch = list(itertools.islice(it, size))
        while len(batch) == size:
            yield batch
            batch = list(itertools.islice(it, size))
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
