"""DataLoader with worker processes: results, ordering, worker setup and seeding, persistent
workers, errors in and deaths of workers, timeouts, shutdown, and the 'spawn' start method.

Every loader here has a ``timeout``: a broken worker protocol fails the test instead of
hanging the suite."""
import gc
import multiprocessing
import os
import pickle
import random
import time

import numpy as np
import pytest
import torch.utils.data as tdata
from torch.utils.data._utils.worker import _generate_state

import ember
import ember.utils.data as edata
from data_compare import same
from data_worker_helpers import (SIGKILL, DiesAt, EmberShardedRange, FailsAt, RandomDraws,
                                 ShardedRange, Slow, Squares, TwoArgError, Unpicklable, WhoLoads,
                                 count_init, no_worker_info)

WAIT = 20  # seconds any single batch may take before the loader gives up


def loader(dataset, **kwargs):
    kwargs.setdefault("timeout", WAIT)
    return edata.DataLoader(dataset, **kwargs)


def as_lists(batches):
    return [[t.tolist() if isinstance(t, ember.Tensor) else t for t in b] for b in batches]


def assert_reaped(workers, polite=True):
    """Every worker process has exited and been joined (no zombie left); ``polite``: on
    request (exit code 0), not terminated by a signal after the join timeout."""
    for w in workers:
        assert not w.is_alive() and w.exitcode is not None
        assert w.exitcode == 0 or not polite, w.exitcode
        assert not os.path.exists(f"/proc/{w.pid}/stat") or \
            open(f"/proc/{w.pid}/stat").read().split()[2] != "Z"


class TorchShardedRange(ShardedRange, tdata.IterableDataset):
    pass


@pytest.mark.parametrize("kwargs,prefetch_factor", [
    (dict(batch_size=4), None), (dict(batch_size=4), 1),
    (dict(batch_size=3, drop_last=True), 5), (dict(batch_size=None), None)])
def test_same_batches_as_main_process(kwargs, prefetch_factor):
    ds = Squares(23)
    expected = list(edata.DataLoader(ds, **kwargs))
    same(expected, list(tdata.DataLoader(ds, **kwargs)))  # ember without workers is torch's
    with_workers = list(loader(ds, num_workers=2, prefetch_factor=prefetch_factor, **kwargs))
    assert as_lists(with_workers) == as_lists(expected)
    assert [b[1].dtype for b in with_workers] == [b[1].dtype for b in expected]


def test_out_of_order_delivery_gives_every_batch():
    ds = Squares(20)
    got = list(loader(ds, batch_size=3, num_workers=2, in_order=False))
    assert sorted(as_lists(got)) == sorted(as_lists(edata.DataLoader(ds, batch_size=3)))


def test_worker_info_init_fn_and_round_robin():
    batches = list(loader(WhoLoads(), batch_size=3, num_workers=2, worker_init_fn=count_init,
                          generator=ember.Generator().manual_seed(0)))
    indices, worker_ids, num_workers, pids, init_calls, seeds = \
        [[x for b in batches for x in b[k].tolist()] for k in range(6)]
    assert indices == list(range(12))
    # batches are dealt to the workers round-robin: batch k comes from worker k % 2
    assert worker_ids == [k % 2 for k in range(4) for _ in range(3)]
    assert set(num_workers) == {2}
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert set(init_calls) == {1}  # worker_init_fn ran exactly once in each worker
    base = ember.empty((), dtype=ember.int64).random_(
        generator=ember.Generator().manual_seed(0)).item()
    assert {w: s for w, s in zip(worker_ids, seeds)} == {0: base, 1: base + 1}


def test_worker_seeding_like_torch():
    draws = [list(loader(RandomDraws(), batch_size=None, num_workers=2,
                         generator=ember.Generator().manual_seed(3))) for _ in range(2)]
    assert draws[0] == draws[1]  # reproducible with generator=
    by_worker = {}
    for seed, e_draw, np_draw, py_draw in draws[0]:
        by_worker.setdefault(seed, (e_draw, np_draw, py_draw))
    assert len(by_worker) == 2
    base = min(by_worker)
    for worker_id in range(2):
        seed = base + worker_id
        e_draw, np_draw, py_draw = by_worker[seed]
        ember.manual_seed(seed)
        assert e_draw == ember.rand(1).item()
        assert py_draw == random.Random(seed).random()
        # NumPy is seeded from (base_seed, worker_id) exactly as torch's workers seed it
        state = np.random.RandomState(np.array(_generate_state(base, worker_id), np.uint32))
        assert np_draw == state.random_sample()


@pytest.mark.parametrize("sharded", [True, False])
@pytest.mark.parametrize("batch_size", [2, None])
def test_iterable_dataset_in_workers_like_torch(sharded, batch_size):
    e_info = edata.get_worker_info if sharded else no_worker_info
    t_info = tdata.get_worker_info if sharded else no_worker_info
    e = list(loader(EmberShardedRange(0, 11, e_info), batch_size=batch_size, num_workers=2))
    t = list(tdata.DataLoader(TorchShardedRange(0, 11, t_info), batch_size=batch_size,
                              num_workers=2, timeout=WAIT))
    same(e, t)


def test_persistent_workers_iterable_dataset_like_torch():
    def epochs(data, dataset):
        ld = data.DataLoader(dataset, batch_size=2, num_workers=2, persistent_workers=True,
                             timeout=WAIT)
        return [list(ld) for _ in range(2)]
    same(epochs(edata, EmberShardedRange(0, 7)),
         epochs(tdata, TorchShardedRange(0, 7, tdata.get_worker_info)))


def test_persistent_workers_reuse_processes():
    ld = loader(WhoLoads(), batch_size=4, num_workers=2, persistent_workers=True,
                worker_init_fn=count_init)
    first = list(ld)
    it = iter(ld)
    next(it)  # leave the second epoch early: its batches in flight must not leak
    third = list(ld)
    assert iter(ld) is it and ld._iterator is it
    for epoch in (first, third):
        assert [i for b in epoch for i in b[0].tolist()] == list(range(12))
        assert {i for b in epoch for i in b[4].tolist()} == {1}  # no second init
    pids = {p for b in first for p in b[3].tolist()}
    assert len(pids) == 2 and pids == {p for b in third for p in b[3].tolist()}
    workers = it._workers
    del ld, it
    gc.collect()
    assert_reaped(workers)


@pytest.mark.parametrize("exc_type", [ValueError, KeyError])
def test_worker_exception_is_reraised_with_traceback(exc_type):
    it = iter(loader(FailsAt(5, exc_type), batch_size=2, num_workers=2))
    assert next(it).tolist() == [0, 1]
    assert next(it).tolist() == [2, 3]
    with pytest.raises(exc_type) as info:
        next(it)  # batch [4, 5]: the third batch, loaded by worker 0
    text = str(info.value)
    assert f"Caught {exc_type.__name__} in DataLoader worker process 0" in text
    assert "Traceback" in text and "raise_from_dataset" in text
    assert "sample 5 is broken" in text
    assert "\\n" not in text  # KeyError messages are readable, not repr'd
    assert next(it).tolist() == [6, 7]  # the loader goes on after an error, like torch's
    workers = it._workers
    del it, info
    gc.collect()
    assert_reaped(workers)


def test_worker_exceptions_that_cannot_travel_become_runtime_errors():
    class LocalError(Exception):  # can't be pickled by reference
        pass

    for exc_type in (LocalError, TwoArgError):
        with pytest.raises(RuntimeError) as info:
            list(loader(FailsAt(1, exc_type), num_workers=1))
        text = str(info.value)
        assert "in DataLoader worker process 0" in text and "sample 1 is broken" in text
        assert f"{exc_type.__name__}: " in text  # the original traceback names it


def test_worker_init_fn_error_is_reraised():
    with pytest.raises(ZeroDivisionError, match="in DataLoader worker process 0"):
        list(loader(Squares(4), num_workers=1, worker_init_fn=divide_by_zero))


def divide_by_zero(worker_id):
    return 1 / 0


@pytest.mark.parametrize("sig,code", [(None, "exit code 3"),
                                      (SIGKILL, "exit code -9 (killed by SIGKILL)")])
def test_dead_worker_is_detected(sig, code):
    it = iter(loader(DiesAt(3, sig), batch_size=2, num_workers=2))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader worker 1 \\(pid \\d+\\) exited "
                                           "unexpectedly with " + code.replace("(", "\\(")
                                           .replace(")", "\\)")):
        list(it)
    assert time.monotonic() - start < 5
    assert_reaped(it._workers, polite=False)  # the failure shut every worker down


def test_timeout():
    it = iter(loader(Slow(5.0), num_workers=1, timeout=0.3))
    start = time.monotonic()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.3 seconds"):
        next(it)
    assert time.monotonic() - start < 3
    workers = it._workers
    del it
    gc.collect()
    assert_reaped(workers, polite=False)  # still loading: terminated after the join timeout


def test_iterator_in_reference_cycle_still_shuts_down_politely():
    it = iter(loader(Squares(10), batch_size=2, num_workers=2))
    next(it)
    it.self_reference = it
    workers = it._workers
    del it
    gc.collect()
    assert_reaped(workers)


def test_early_break_shuts_workers_down():
    before = set(multiprocessing.active_children())
    for _ in loader(Squares(200), batch_size=2, num_workers=2):
        workers = set(multiprocessing.active_children()) - before
        break
    assert len(workers) == 2
    assert_reaped(workers)  # the loop's iterator was freed at `break`: no gc needed
    assert not set(multiprocessing.active_children()) & workers


def test_unpicklable_batch_is_reported_not_hung():
    with pytest.raises(Exception, match="while pickling a batch"):
        list(loader(Unpicklable(), batch_size=2, num_workers=1, collate_fn=list))


def test_spawn_context():
    # the dataset (NumPy arrays and ember tensors) is pickled to the spawned workers
    ds = edata.StackDataset(Squares(10), edata.TensorDataset(ember.arange(10.0)))
    got = list(loader(ds, batch_size=3, num_workers=2, multiprocessing_context="spawn"))
    expected = list(edata.DataLoader(ds, batch_size=3))
    assert [[as_lists(b[0]), as_lists(b[1])] for b in got] == \
        [[as_lists(b[0]), as_lists(b[1])] for b in expected]


def test_spawn_needs_picklable_dataset():
    class Local(edata.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return i

    with pytest.raises((AttributeError, pickle.PicklingError, TypeError)) as info:
        list(loader(Local(), num_workers=1, multiprocessing_context="spawn"))
    assert any("define them at module level" in note for note in info.value.__notes__)


def test_context_object_accepted():
    ctx = multiprocessing.get_context("fork")
    ld = loader(Squares(3), num_workers=1, multiprocessing_context=ctx, batch_size=None)
    assert ld.multiprocessing_context is ctx
    assert [b[0] for b in ld] == [0, 1, 2]

