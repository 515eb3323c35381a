"""The worker side of multi-process data loading.

A worker process runs ``_worker_loop``: it seeds its random number generators, publishes its
``WorkerInfo`` (``get_worker_info()``), runs ``worker_init_fn(worker_id)``, then answers
requests from its own index queue until the main process says stop (``None``) or goes away.

Requests and answers:
- ``(task_idx, index)`` -> ``(task_idx, batch)``, or ``(task_idx, ExceptionWrapper)`` if
  loading failed, or ``(task_idx, _IterableDatasetStopIteration)`` once an iterable dataset's
  stream is exhausted (later requests are then ignored until the next epoch);
- ``_ResumeIteration()`` (a new epoch with persistent workers) -> echoed back once the
  worker has reset its fetcher.

Answers are pickled here, in the worker's own thread, and sent as bytes: a batch that cannot
be pickled becomes an error in the main process instead of being dropped by the queue's
feeder thread (which would leave the main process waiting forever)."""
import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

from . import MP_STATUS_CHECK_INTERVAL
from .fetch import _DatasetKind

__all__ = ["WorkerInfo", "get_worker_info"]

_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What ``get_worker_info()`` returns inside a worker: ``id`` (0 .. num_workers - 1),
    ``num_workers``, ``seed`` (this worker's seed for ember, ``random`` and NumPy) and
    ``dataset`` (this process's copy of the dataset)."""
    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """The ``WorkerInfo`` of the current DataLoader worker process; None in the main
    process."""
    return _worker_info


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    pass


@dataclass(frozen=True)
class _WorkerConfig:
    """What every worker of one DataLoader iterator is started with."""
    kind: int
    dataset: object
    auto_collation: bool
    collate_fn: object
    drop_last: bool
    base_seed: int
    init_fn: object
    num_workers: int


class KeyErrorMessage(str):
    """A str whose repr is itself, so ``KeyError(msg)`` prints the traceback readably."""

    def __repr__(self):
        return self


class ExceptionWrapper:
    """An exception caught in a worker, carried to the main process as its type and formatted
    traceback, and raised there again by ``reraise()``."""

    def __init__(self, exc_info=None, where="in background"):
        exc_type, exc, tb = exc_info or sys.exc_info()
        self.exc_type = exc_type
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            # The exception's constructor takes something else than one message.
            raise RuntimeError(msg) from None
        try:
            raise exception
        finally:
            del exception  # no frame -> traceback -> exception cycle keeping the loader alive

    def _ensure_picklable(self):
        """Fall back to RuntimeError if the exception class can't be pickled by reference
        (e.g. it is defined inside a function); the traceback text still names it."""
        try:
            pickle.dumps(self.exc_type)
        except Exception:
            self.exc_type = RuntimeError


def _encode(task_idx, data, worker_id):
    try:
        return pickle.dumps((task_idx, data), pickle.HIGHEST_PROTOCOL)
    except Exception:
        if not isinstance(data, ExceptionWrapper):
            data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id} while "
                                          f"pickling a batch to send it to the main process "
                                          f"(everything a batch holds must be picklable)")
        data._ensure_picklable()
        return pickle.dumps((task_idx, data), pickle.HIGHEST_PROTOCOL)


def _decode(payload):
    return pickle.loads(payload)


def _seed_worker(base_seed, worker_id):
    """Seed this worker's generators as PyTorch does: ember's and Python's with
    ``base_seed + worker_id``, NumPy's global one with a SeedSequence of (worker_id,
    base_seed) so that workers never share NumPy streams."""
    import ember
    seed = base_seed + worker_id
    random.seed(seed)
    ember.manual_seed(seed)
    np.random.seed(np.random.SeedSequence(
        [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]).generate_state(4))
    return seed


def _make_fetcher(config, worker_id):
    """(fetcher, None), or (None, ExceptionWrapper) if creating it failed."""
    try:
        return _DatasetKind.create_fetcher(config.kind, config.dataset, config.auto_collation,
                                           config.collate_fn, config.drop_last), None
    except Exception:
        return None, ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")


def _worker_loop(worker_id, index_queue, result_queue, done_event, config):
    global _worker_info
    kind, dataset = config.kind, config.dataset
    try:
        seed = _seed_worker(config.base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=config.num_workers, seed=seed,
                                  dataset=dataset)
        init_error = None
        try:
            if config.init_fn is not None:
                config.init_fn(worker_id)
        except Exception:
            init_error = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")

        def setup():
            """(fetcher, None), or (None, the error every task is then answered with)."""
            if init_error is not None:
                return None, init_error
            return _make_fetcher(config, worker_id)

        fetcher, error = setup()
        iteration_end = False
        parent = os.getppid()
        while os.getppid() == parent:  # a worker outliving the main process stops
            try:
                request = index_queue.get(timeout=MP_STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if request is None:
                break
            if isinstance(request, _ResumeIteration):
                fetcher, error = setup()
                iteration_end = False
                result_queue.put(_encode(request, None, worker_id))
                continue
            if done_event.is_set() or iteration_end:
                continue
            task_idx, index = request
            if error is not None:
                data = error
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if kind != _DatasetKind.Iterable:
                        data = ExceptionWrapper(
                            where=f"in DataLoader worker process {worker_id}")
                    else:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                except Exception:
                    data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            result_queue.put(_encode(task_idx, data, worker_id))
            del data, request, index  # don't hold the last batch while waiting
    except KeyboardInterrupt:
        pass  # the main process gets the interrupt too and shuts the workers down
    if done_event.is_set():
        # Shutting down: don't block exiting on flushing answers nobody will read.
        result_queue.cancel_join_thread()
        result_queue.close()
