"""Datasets and hooks for the DataLoader worker tests.

They live at module level in a module that imports neither torch nor pytest, so that
'spawn' workers can unpickle them (by importing this module) quickly, and torch's DataLoader
can run the very same datasets as an oracle."""
import math
import os
import signal
import time

import numpy as np

import ember

_init_calls = 0  # worker_init_fn calls seen in this process


def count_init(worker_id):
    global _init_calls
    _init_calls += 1


class Squares(ember.utils.data.Dataset):
    """``i -> (i, i * i as float32 array)``; works with ember and torch loaders alike."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i, np.full(3, i * i, dtype=np.float32)


class WhoLoads(ember.utils.data.Dataset):
    """``i -> (i, worker id, num_workers, pid, worker_init_fn calls, seed)``."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = ember.utils.data.get_worker_info()
        if info is None:
            return i, -1, 0, os.getpid(), _init_calls, -1
        return i, info.id, info.num_workers, os.getpid(), _init_calls, info.seed


class RandomDraws(ember.utils.data.Dataset):
    """``i -> (worker seed, an ember draw, a NumPy draw, a Python draw)``."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        import random
        info = ember.utils.data.get_worker_info()
        return (info.seed, float(ember.rand(1).item()), float(np.random.rand()),
                random.random())


class ShardedRange:
    """``range(start, end)`` split into contiguous shards, one per worker; ``info`` is the
    library's ``get_worker_info`` (mix in that library's ``IterableDataset``)."""

    def __init__(self, start, end, info=ember.utils.data.get_worker_info):
        self.start, self.end, self.info = start, end, info

    def __len__(self):
        return self.end - self.start

    def __iter__(self):
        info = self.info()
        lo, hi = self.start, self.end
        if info is not None:
            per = math.ceil((hi - lo) / info.num_workers)
            lo = self.start + info.id * per
            hi = min(lo + per, self.end)
        return iter(range(lo, hi))


class EmberShardedRange(ShardedRange, ember.utils.data.IterableDataset):
    pass


def no_worker_info():
    """A ``get_worker_info`` stand-in that makes ``ShardedRange`` unsharded."""
    return None


class FailsAt(ember.utils.data.Dataset):
    """Raises ``exc_type`` when loading ``bad``."""

    def __init__(self, bad, exc_type=ValueError):
        self.bad, self.exc_type = bad, exc_type

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad:
            if self.exc_type is TwoArgError:
                raise TwoArgError(f"sample {i} is broken", 7)
            raise_from_dataset(self.exc_type, i)
        return i


def raise_from_dataset(exc_type, i):
    raise exc_type(f"sample {i} is broken")


class TwoArgError(Exception):
    """An exception that can't be rebuilt from a message alone."""

    def __init__(self, message, code=None):
        if code is None:
            raise TypeError("TwoArgError needs a code")
        super().__init__(message, code)


class DiesAt(ember.utils.data.Dataset):
    """The worker process that loads ``bad`` dies: ``os._exit(3)``, or by ``sig``."""

    def __init__(self, bad, sig=None):
        self.bad, self.sig = bad, sig

    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == self.bad:
            if self.sig is None:
                os._exit(3)
            os.kill(os.getpid(), self.sig)
            time.sleep(10)
        return i


SIGKILL = signal.SIGKILL


class Slow(ember.utils.data.Dataset):
    """Sleeps ``delay`` seconds per sample."""

    def __init__(self, delay, n=4):
        self.delay, self.n = delay, n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        time.sleep(self.delay)
        return i


class Unpicklable(ember.utils.data.Dataset):
    """Samples hold a lambda, which cannot be sent back from a worker."""

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return {"i": i, "fn": lambda: i}
