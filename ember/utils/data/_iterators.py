"""The iterators ``iter(DataLoader)`` returns: one that loads in the main process
(``num_workers=0``) and one that drives worker processes.

Multi-process loading (the worker side is ``_utils/worker.py``):

- Every worker has its own index queue; all answer on one result queue. Batches are numbered
  in sampler order (task indices) and dealt to the workers round-robin, keeping
  ``prefetch_factor`` tasks per worker in flight: each batch handed out lets one more task
  go.
- Answers arrive in any order; with ``in_order=True`` early ones wait in a reordering buffer
  so batches come out in sampler order, exactly as with ``num_workers=0``.
- While waiting for an answer the main process checks every ``WORKER_POLL_INTERVAL`` that the
  workers are alive, so a worker that crashed or was killed is reported (with its id and exit
  code) instead of hanging the loop; ``timeout > 0`` bounds each wait.
- Workers stop when the epoch ends (unless ``persistent_workers``), when the iterator is
  garbage-collected (e.g. after ``break``), or on an error that kills one of them. They are
  daemon processes, so they also end with the interpreter; stopping always joins them, so no
  zombie is left behind."""
import itertools
import multiprocessing
import queue
import signal
import time
import warnings
import weakref

from ._utils import WORKER_JOIN_TIMEOUT, WORKER_POLL_INTERVAL
from ._utils.fetch import _DatasetKind
from ._utils.worker import (ExceptionWrapper, _IterableDatasetStopIteration,
                            _ResumeIteration, _WorkerConfig, _decode, _worker_loop)
from .sampler import _draw_seed


class _BaseDataLoaderIter:
    def __init__(self, loader):
        self._dataset = loader.dataset
        self._dataset_kind = loader._dataset_kind
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        _warn_pin_memory(loader)
        # The sampler's iterator is made before the workers' base seed is drawn, and the
        # seed is drawn even without workers, as in PyTorch: a seeded loader then consumes
        # its generator the same way whatever num_workers is.
        self._sampler_iter = iter(self._index_sampler)
        self._base_seed = _draw_seed(loader.generator)
        self._num_yielded = 0
        self._reported_len = loader._reported_len

    def __iter__(self):
        return self

    def _reset(self, loader, first_iter=False):
        self._sampler_iter = iter(self._index_sampler)
        self._num_yielded = 0
        self._reported_len = loader._reported_len

    def _next_index(self):
        return next(self._sampler_iter)

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        self._num_yielded += 1
        if (self._dataset_kind == _DatasetKind.Iterable and self._reported_len is not None
                and self._num_yielded > self._reported_len):
            msg = (f"Length of IterableDataset {self._dataset} was reported to be "
                   f"{self._reported_len} (when accessing len(dataloader)), but "
                   f"{self._num_yielded} samples have been fetched. ")
            if self._num_workers > 0:
                msg += ("For multiprocessing data-loading, this could be caused by not "
                        "properly configuring the IterableDataset replica at each worker "
                        "(see get_worker_info()).")
            warnings.warn(msg, stacklevel=2)
        return data

    def __len__(self):
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


def _warn_pin_memory(loader):
    """``pin_memory`` is a no-op in ember for now; warn where PyTorch warns."""
    if not loader.pin_memory:
        return
    if loader.pin_memory_device:
        warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be used "
                      f"as the device,ignore pin_memory_device='{loader.pin_memory_device}'.",
                      stacklevel=4)
    import ember
    if not ember.cuda.is_available():
        warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                      "device pinned memory won't be used.", stacklevel=4)


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        if self._timeout != 0:
            raise AssertionError(f"DataLoader: timeout={self._timeout} only applies to worker "
                                 f"processes; use timeout=0 with num_workers=0")
        self._fetcher = _DatasetKind.create_fetcher(self._dataset_kind, self._dataset,
                                                    self._auto_collation, self._collate_fn,
                                                    self._drop_last)

    def _next_data(self):
        index = self._next_index()  # StopIteration ends the epoch
        return self._fetcher.fetch(index)  # so does an exhausted iterable dataset


class _WorkerPool:
    """The worker processes of one iterator, their index queues, the result queue and the
    event that tells workers the end has come.

    The iterator shuts its pool down through a ``weakref.finalize`` (not ``__del__``): the
    finalizer holds the pool, so the pool's queues are still working when it runs, even if
    the iterator died in a reference cycle (where multiprocessing's own finalizers would
    otherwise close the queues' feeder threads first and the workers would never hear the
    stop request)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.index_queues = []
        self.result_queue = ctx.Queue()
        self.done_event = ctx.Event()
        self.workers = []

    def start(self, config):
        for worker_id in range(config.num_workers):
            index_queue = self.ctx.Queue()
            index_queue.cancel_join_thread()  # exiting never waits on undelivered indices
            self.index_queues.append(index_queue)
            worker = self.ctx.Process(target=_worker_loop, daemon=True,
                                      args=(worker_id, index_queue, self.result_queue,
                                            self.done_event, config))
            worker.start()
            self.workers.append(worker)

    def shutdown(self):
        """Stop and join every worker: politely first (a ``None`` request), then with SIGTERM
        and SIGKILL for those that have not exited within ``WORKER_JOIN_TIMEOUT``."""
        try:
            self.done_event.set()
            for q in self.index_queues:
                q.put(None)
            deadline = time.monotonic() + WORKER_JOIN_TIMEOUT
            for w in self.workers:
                w.join(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            for w in self.workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=WORKER_JOIN_TIMEOUT)
                if w.is_alive():
                    w.kill()
                    w.join()
            for q in (*self.index_queues, self.result_queue):
                q.cancel_join_thread()
                q.close()


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        ctx = loader.multiprocessing_context or multiprocessing.get_context()
        pool = _WorkerPool(ctx)
        self._finalizer = weakref.finalize(self, pool.shutdown)
        try:
            pool.start(_WorkerConfig(
                self._dataset_kind, self._dataset, self._auto_collation, self._collate_fn,
                self._drop_last, self._base_seed, loader.worker_init_fn, self._num_workers))
        except Exception as e:
            self._finalizer()
            if ctx.get_start_method() != "fork":
                e.add_note(f"DataLoader: with the {ctx.get_start_method()!r} start method "
                           f"the dataset, collate_fn and worker_init_fn are pickled to reach "
                           f"the worker processes: define them at module level (no lambdas or "
                           f"local classes), or use multiprocessing_context='fork'.")
            raise
        self._workers = pool.workers
        self._index_queues = pool.index_queues
        self._result_queue = pool.result_queue
        self._reset(loader, first_iter=True)

    @property
    def _shutdown(self):
        return not self._finalizer.alive

    def _shutdown_workers(self):
        self._finalizer()  # runs the pool's shutdown once; later calls do nothing

    # ---- epochs ---------------------------------------------------------------------------
    def _reset(self, loader, first_iter=False):
        super()._reset(loader, first_iter)
        n = self._num_workers
        self._send_idx = 0          # task index of the next batch to hand out
        self._rcvd_idx = 0          # task index of the next batch to return
        self._task_worker = {}      # task index -> worker, for tasks not answered yet
        self._reorder = {}          # task index -> (worker, data) answered ahead of its turn
        self._tasks_outstanding = 0
        self._workers_status = [True] * n  # False once a worker's stream ended or it stopped
        self._workers_num_tasks = [0] * n
        self._worker_cycle = itertools.cycle(range(n))
        if not first_iter:
            # Persistent workers: every worker restarts its fetcher and echoes the request;
            # answers still in flight from an epoch left early are dropped on the way.
            for q in self._index_queues:
                q.put(_ResumeIteration())
            pending = n
            while pending:
                idx, _ = self._get_data()
                pending -= isinstance(idx, _ResumeIteration)
        for _ in range(self._prefetch_factor * n):
            self._try_put_index()

    def _try_put_index(self):
        max_tasks = self._prefetch_factor * self._num_workers
        assert self._tasks_outstanding < max_tasks
        try:
            index = self._next_index()
        except StopIteration:
            return
        active = sum(self._workers_status)
        for _ in range(self._num_workers):  # the next active worker (with room, out of order)
            worker_id = next(self._worker_cycle)
            if self._workers_status[worker_id] and (
                    self._in_order or self._workers_num_tasks[worker_id] < max_tasks // active):
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_worker[self._send_idx] = worker_id
        self._workers_num_tasks[worker_id] += 1
        self._tasks_outstanding += 1
        self._send_idx += 1

    # ---- batches --------------------------------------------------------------------------
    def _next_data(self):
        while True:
            # Skip tasks that will never be answered: those of a worker whose iterable
            # stream ended, and (out of order) those already returned.
            while self._rcvd_idx < self._send_idx:
                idx = self._rcvd_idx
                if idx in self._reorder:
                    break
                worker_id = self._task_worker.get(idx)
                if worker_id is not None and self._workers_status[worker_id]:
                    break
                self._task_worker.pop(idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if self._rcvd_idx in self._reorder:
                worker_id, data = self._reorder.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

            idx, data = self._get_data()
            self._tasks_outstanding -= 1
            if isinstance(data, _IterableDatasetStopIteration):
                self._stop_worker(data.worker_id)
                self._try_put_index()
                continue
            worker_id = self._task_worker.pop(idx)
            if idx == self._rcvd_idx:
                self._rcvd_idx += 1
            elif self._in_order:
                self._reorder[idx] = (worker_id, data)
                continue
            return self._process_data(data, worker_id)

    def _process_data(self, data, worker_id):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        if isinstance(data, ExceptionWrapper):
            data.reraise()
        return data

    def _stop_worker(self, worker_id):
        """A worker's iterable stream ended: a persistent worker idles until the next epoch,
        another one is told to exit."""
        self._workers_status[worker_id] = False
        if not self._persistent_workers:
            self._index_queues[worker_id].put(None)

    def _get_data(self):
        """The next answer from any worker, checking on the workers while waiting."""
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = WORKER_POLL_INTERVAL
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            try:
                return _decode(self._result_queue.get(timeout=wait))
            except queue.Empty:
                pass
            self._check_workers_alive()
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds (no "
                                   f"batch arrived from the {self._num_workers} worker "
                                   f"processes; raise timeout= if loading a batch can take "
                                   f"longer)")

    def _check_workers_alive(self):
        dead = [(worker_id, w) for worker_id, w in enumerate(self._workers)
                if self._workers_status[worker_id] and not w.is_alive()]
        if not dead:
            return
        self._shutdown_workers()
        reports = "; ".join(f"DataLoader worker {worker_id} (pid {w.pid}) exited "
                            f"unexpectedly {_describe_exit(w.exitcode)}" for worker_id, w in dead)
        raise RuntimeError(f"{reports}. A worker dies like this when it runs out of memory "
                           f"(the kernel's OOM killer sends SIGKILL), crashes in native code, "
                           f"or when dataset code calls os._exit(); run with num_workers=0 to "
                           f"see the failure in the main process.")

def _describe_exit(code):
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"with exit code {code} (killed by {name})"
    return f"with exit code {code}"
