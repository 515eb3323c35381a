"""ember.utils.data against torch.utils.data: datasets, samplers, collation and DataLoader
in the main process. Worker processes are tested in test_data_workers.py."""
import collections
import os
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import ember
import ember.utils.data as edata
from data_compare import same

Point = collections.namedtuple("Point", ["x", "y"])


def both(fn):
    """``fn(data, lib)`` for ember (``ember.utils.data``, ``ember``) and for torch."""
    return fn(edata, ember), fn(tdata, torch)


def same_error(fn, match=None, exc=None):
    """``fn(data, lib)`` raises the same exception type for ember and torch (``exc`` if
    given), and both messages contain ``match``; returns ember's exception."""
    with pytest.raises(exc or Exception, match=match) as t_info:
        fn(tdata, torch)
    with pytest.raises(t_info.type, match=match) as e_info:
        fn(edata, ember)
    return e_info.value


# ---- datasets ------------------------------------------------------------------------------
def test_tensor_dataset():
    x, y = np.arange(12.0, dtype=np.float32).reshape(6, 2), np.arange(6)

    def run(data, lib):
        ds = data.TensorDataset(lib.tensor(x), lib.tensor(y))
        return len(ds), ds[2], ds[-1], [s for s in ds][4]
    e, t = both(run)
    same(e, t)


def test_tensor_dataset_size_mismatch():
    err = same_error(lambda data, lib: data.TensorDataset(lib.zeros(3, 2), lib.zeros(4)),
                     "Size mismatch between tensors")
    assert "(3, 4)" in str(err)


def test_concat_dataset():
    parts = [list(range(3)), list(range(10, 12)), [], list(range(20, 24))]

    def run(data, lib):
        ds = data.ConcatDataset(parts)
        return (ds.cumulative_sizes, len(ds), [ds[i] for i in range(-len(ds), len(ds))],
                list(ds), (ds + [99])[len(ds)])
    e, t = both(run)
    same(e, t)
    same_error(lambda data, lib: data.ConcatDataset(parts)[-10],
               "should not exceed dataset length")
    same_error(lambda data, lib: data.ConcatDataset(parts)[9], "out of range", IndexError)
    same_error(lambda data, lib: data.ConcatDataset([]), "should not be an empty iterable")
    same_error(lambda data, lib: data.ConcatDataset([data.ChainDataset([])]),
               "does not support IterableDataset")


class _Stream(edata.IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


class _TorchStream(tdata.IterableDataset):
    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)


def stream(data, items):
    return (_Stream if data is edata else _TorchStream)(items)


def test_chain_dataset():
    def run(data, lib):
        a, b = stream(data, [1, 2]), stream(data, [3, 4, 5])
        chained = a + b
        return type(chained).__name__, list(chained), len(chained), list(data.ChainDataset([b]))
    e, t = both(run)
    same(e, t)
    only = "ChainDataset only supports IterableDataset"
    same_error(lambda data, lib: list(data.ChainDataset([stream(data, [1]), [2, 3]])), only)
    same_error(lambda data, lib: len(data.ChainDataset([[2, 3]])), only)


def test_stack_dataset():
    x, y = np.arange(6.0).reshape(3, 2), np.array([7, 8, 9])

    def run(data, lib):
        tx = data.TensorDataset(lib.tensor(x))
        tuples = data.StackDataset(tx, list(y))
        named = data.StackDataset(a=tx, b=list(y))
        return (len(tuples), tuples[1], named[2], tuples.__getitems__([2, 0]),
                named.__getitems__([1]))
    e, t = both(run)
    same(e, t)
    same_error(lambda data, lib: data.StackDataset([1], b=[2]), "both types are given")
    same_error(lambda data, lib: data.StackDataset(), "At least one dataset should be passed")
    same_error(lambda data, lib: data.StackDataset([1, 2], [3]), "Size mismatch between datasets")


def test_subset():
    base = list(range(100, 110))

    def run(data, lib):
        sub = data.Subset(base, [9, 0, 4])
        nested = data.Subset(data.Subset(base, [1, 3, 5, 7]), [3, 0])
        return len(sub), sub[0], sub[-1], sub.__getitems__([2, 1]), list(nested)
    e, t = both(run)
    same(e, t)

    def bad_subclass(data, lib):
        class Doubled(data.Subset):
            def __getitem__(self, i):
                return 2 * super().__getitem__(i)
        return Doubled(base, [1])
    same_error(bad_subclass, "overrides __getitem__ but not __getitems__")


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.5], [1 / 3] * 3, [0.1] * 10,
                                     [0.25, 0.25, 0.5], [1.0], [0.9, 0.1, 0.0]])
def test_random_split_lengths(lengths):
    ds = list(range(10))
    with warnings.catch_warnings(record=True) as e_warns:
        warnings.simplefilter("always")
        e = edata.random_split(ds, lengths, generator=ember.Generator().manual_seed(1))
    with warnings.catch_warnings(record=True) as t_warns:
        warnings.simplefilter("always")
        t = tdata.random_split(ds, lengths, generator=torch.Generator().manual_seed(1))
    assert [len(s) for s in e] == [len(s) for s in t]
    assert [str(w.message) for w in e_warns] == [str(w.message) for w in t_warns]
    assert sorted(i for s in e for i in s) == ds  # disjoint and complete
    assert all(isinstance(s, edata.Subset) and s.dataset is ds for s in e)


def test_random_split_generator():
    def split(seed):
        return [s.indices for s in edata.random_split(range(20), [5, 15],
                                                      generator=ember.Generator().manual_seed(seed))]
    assert split(3) == split(3)
    assert split(3) != split(4)
    ember.manual_seed(5)
    a = [s.indices for s in edata.random_split(range(20), [0.5, 0.5])]
    ember.manual_seed(5)
    assert a == [s.indices for s in edata.random_split(range(20), [0.5, 0.5])]


def test_random_split_errors():
    bad_sum = "Sum of input lengths does not equal"
    same_error(lambda data, lib: data.random_split(range(10), [3, 3]), bad_sum)
    same_error(lambda data, lib: data.random_split(range(10), [0.5, 0.6]), bad_sum)
    same_error(lambda data, lib: data.random_split(range(10), [1.5, -0.5]),
               "Fraction at index 0 is not between 0 and 1")


def test_dataset_base_classes():
    same_error(lambda data, lib: data.Dataset()[0], "should implement __getitem__",
               NotImplementedError)
    same_error(lambda data, lib: data.Sampler().__iter__(), exc=NotImplementedError)
    assert edata.Dataset[int] is not None and edata.Sampler[int] is not None  # typing-generic
    assert isinstance(_Stream([]) + _Stream([]), edata.ChainDataset)
    assert isinstance(edata.TensorDataset(ember.zeros(2)) + [1], edata.ConcatDataset)


# ---- samplers ------------------------------------------------------------------------------
@pytest.mark.parametrize("n,batch_size", [(10, 3), (9, 3), (2, 5), (0, 2), (7, 1)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_and_batch_sampler(n, batch_size, drop_last):
    def run(data, lib):
        seq = data.SequentialSampler(range(n))
        batches = data.BatchSampler(seq, batch_size, drop_last)
        return list(seq), len(seq), list(batches), len(batches), \
            list(data.BatchSampler(iter(range(n)), batch_size, drop_last))
    e, t = both(run)
    same(e, t)


@pytest.mark.parametrize("args", [(0, False), (-1, False), (True, False), (2.0, False),
                                  (2, 0), (2, None)])
def test_batch_sampler_errors(args):
    name = "batch_size" if isinstance(args[1], bool) else "drop_last"
    same_error(lambda data, lib: data.BatchSampler(range(4), *args), f"{name} should be a")


def _is_perm_of(values, n, times=1):
    return sorted(values) == sorted(list(range(n)) * times)


def test_random_sampler_permutations():
    ds = range(7)
    order = list(edata.RandomSampler(ds))
    assert _is_perm_of(order, 7)
    # num_samples beyond len: whole permutations, then part of one
    s = list(edata.RandomSampler(ds, num_samples=17, generator=ember.Generator().manual_seed(0)))
    assert len(s) == 17 and _is_perm_of(s[:7], 7) and _is_perm_of(s[7:14], 7)
    assert len(set(s[14:])) == 3
    r = list(edata.RandomSampler(ds, replacement=True, num_samples=70))
    assert len(r) == 70 and set(r) <= set(ds) and len(set(r)) > 1
    assert len(edata.RandomSampler(ds, replacement=True, num_samples=70)) == 70
    assert len(edata.RandomSampler(ds)) == 7


@pytest.mark.parametrize("replacement", [False, True])
def test_random_sampler_generator(replacement):
    def draw(seed, epochs=2):
        g = ember.Generator().manual_seed(seed)
        sampler = edata.RandomSampler(range(50), replacement, 40, generator=g)
        return [list(sampler) for _ in range(epochs)]
    first, second = draw(0)
    assert first != second  # the generator advances between epochs
    assert draw(0) == [first, second]
    assert draw(1) != [first, second]
    ember.manual_seed(7)
    a = list(edata.RandomSampler(range(50), replacement))
    ember.manual_seed(7)
    assert a == list(edata.RandomSampler(range(50), replacement))


def test_random_sampler_errors():
    same_error(lambda data, lib: data.RandomSampler(range(3), replacement=1),
               "replacement should be a boolean value", TypeError)
    positive = "num_samples should be a positive integer value, but got num_samples="
    same_error(lambda data, lib: data.RandomSampler(range(3), num_samples=0), positive + "0")
    same_error(lambda data, lib: data.RandomSampler([]), positive + "0")
    same_error(lambda data, lib: data.RandomSampler(range(3), num_samples=2.0), positive)


def test_subset_random_sampler():
    indices = [10, 11, 15, 3, 8]
    s = edata.SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(2))
    first = list(s)
    assert sorted(first) == sorted(indices) and len(s) == 5
    again = edata.SubsetRandomSampler(indices, generator=ember.Generator().manual_seed(2))
    assert list(again) == first


def test_weighted_random_sampler():
    weights = [0.0, 1.0, 3.0, 0.0, 2.0]
    g = ember.Generator().manual_seed(0)
    drawn = list(edata.WeightedRandomSampler(weights, 200, generator=g))
    assert len(drawn) == 200 and set(drawn) == {1, 2, 4}
    assert drawn.count(2) > drawn.count(1)  # ~100 vs ~33
    unique = list(edata.WeightedRandomSampler(weights, 3, replacement=False))
    assert sorted(unique) == [1, 2, 4]
    s = edata.WeightedRandomSampler(ember.tensor([1, 2]), 4)
    assert s.weights.dtype == ember.float64 and len(s) == 4
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    assert list(edata.WeightedRandomSampler(weights, 9, generator=g1)) == \
        list(edata.WeightedRandomSampler(weights, 9, generator=g2))


@pytest.mark.parametrize("kwargs,match", [
    (dict(weights=[1.0], num_samples=0), "num_samples should be a positive integer"),
    (dict(weights=[1.0], num_samples=True), "num_samples should be a positive integer"),
    (dict(weights=[1.0], num_samples=2, replacement=1), "replacement should be a boolean"),
    (dict(weights=[[1.0, 2.0]], num_samples=2), "weights should be a 1d sequence")])
def test_weighted_random_sampler_errors(kwargs, match):
    same_error(lambda data, lib: data.WeightedRandomSampler(**kwargs), match, ValueError)


# ---- collation -----------------------------------------------------------------------------
def _batches():
    """Batches of many element types, as (name, function of the library -> list of samples)."""
    rng = np.random.default_rng(0)
    f32, i64 = rng.standard_normal((4, 2, 3)).astype(np.float32), np.arange(4) * 7
    return {
        "tensor_f32": lambda lib: [lib.tensor(a) for a in f32],
        "tensor_i64": lambda lib: [lib.tensor(v) for v in i64],
        "tensor_bool": lambda lib: [lib.tensor([True, False]), lib.tensor([False, False])],
        "tensor_f64_0d": lambda lib: [lib.tensor(1.5, dtype=lib.float64)] * 3,
        "tensor_empty": lambda lib: [lib.zeros(0, 3)] * 2,
        "numpy_f32": lambda lib: list(f32),
        "numpy_u8": lambda lib: [np.arange(3, dtype=np.uint8), np.ones(3, np.uint8)],
        "numpy_i32_0d": lambda lib: [np.array(3, np.int32), np.array(4, np.int32)],
        "numpy_scalar_f32": lambda lib: [np.float32(1.5), np.float32(2)],
        "numpy_scalar_i16": lambda lib: [np.int16(1), np.int16(-2)],
        "numpy_scalar_f64": lambda lib: [np.float64(1.5), np.float64(2)],
        "numpy_scalar_bool": lambda lib: [np.bool_(True), np.bool_(False)],
        "python_float": lambda lib: [0.5, 1.25, -3.0],
        "python_int": lambda lib: [1, 2, -7],
        "python_bool": lambda lib: [True, False],
        "int_then_float": lambda lib: [1, 2.5],
        "str": lambda lib: ["a", "bc"],
        "bytes": lambda lib: [b"a", b"bc"],
        "tuple": lambda lib: [(lib.tensor(a), int(i), "s") for a, i in zip(f32, i64)],
        "list": lambda lib: [[1.0, np.float32(2)], [3.0, np.float32(4)]],
        "namedtuple": lambda lib: [Point(lib.tensor(a), i) for a, i in zip(f32, [1, 2, 3, 4])],
        "dict": lambda lib: [{"x": lib.tensor(a), "y": float(i), "name": "n"}
                             for a, i in zip(f32, i64)],
        "ordered_dict": lambda lib: [collections.OrderedDict(b=1, a=np.ones(2))] * 2,
        "nested": lambda lib: [{"pair": (i, [a, "t"]), "d": {"k": np.int64(i)}}
                               for a, i in zip(f32, [1, 2, 3, 4])],
        "dict_of_namedtuples": lambda lib: [{"p": Point(1.0, [2, 3])}, {"p": Point(4.0, [5, 6])}],
        "ranges": lambda lib: [range(2), range(3, 5)],  # a Sequence that can't be rebuilt
        "parameters": lambda lib: [lib.nn.Parameter(lib.ones(2), requires_grad=False)] * 2,
    }


BATCHES = _batches()


@pytest.mark.parametrize("name", list(BATCHES))
def test_default_collate(name):
    e = edata.default_collate(BATCHES[name](ember))
    t = tdata.default_collate(BATCHES[name](torch))
    same(e, t)


@pytest.mark.parametrize("name", list(BATCHES))
def test_default_convert(name):
    e = [edata.default_convert(s) for s in BATCHES[name](ember)]
    t = [tdata.default_convert(s) for s in BATCHES[name](torch)]
    same(e, t)


def test_default_convert_keeps_unconvertible():
    for value in [np.array(["a", "b"]), np.array([{}], dtype=object), np.str_("s"), 3, "x", None]:
        e, t = edata.default_convert(value), tdata.default_convert(value)
        assert type(e) is type(t)


def test_collate_stacks_without_grad_and_delegates_with_grad():
    a = ember.ones(2, requires_grad=True)
    out = edata.default_collate([a, ember.zeros(2)])
    assert out.requires_grad and out.grad_fn is not None  # through ember.stack, as torch.stack
    same(edata.default_collate([ember.ones(2), ember.zeros(2, dtype=ember.int64)]),
         tdata.default_collate([torch.ones(2), torch.zeros(2, dtype=torch.int64)]))
    same(edata.default_collate([np.ones(2, np.float32), np.zeros(2, np.int64)]),
         tdata.default_collate([np.ones(2, np.float32), np.zeros(2, np.int64)]))


@pytest.mark.parametrize("batch,fragment", [
    (lambda lib: [lib.zeros(3), lib.zeros(4)], "stack expects each tensor to be equal size"),
    (lambda lib: [np.zeros(3), np.zeros(4)], "stack expects each tensor to be equal size"),
    (lambda lib: [(1, 2), (3,)], "each element in list of batch should be of equal size"),
    (lambda lib: [[1, 2], [3]], "each element in list of batch should be of equal size"),
    (lambda lib: [object(), object()], "batch must contain tensors, numpy arrays, numbers"),
    (lambda lib: [None, None], "batch must contain tensors, numpy arrays, numbers"),
    (lambda lib: [np.array(["a"]), np.array(["b"])], "batch must contain tensors"),
])
def test_default_collate_errors(batch, fragment):
    with pytest.raises(Exception) as t_info:
        tdata.default_collate(batch(torch))
    with pytest.raises(t_info.type, match=fragment):
        edata.default_collate(batch(ember))


def test_collate_fn_map_extension():
    from ember.utils.data._utils.collate import collate, default_collate_fn_map

    def tensors_as_lists(batch, *, collate_fn_map):
        return [t.tolist() for t in batch]

    fn_map = {**default_collate_fn_map, ember.Tensor: tensors_as_lists}
    out = collate([{"a": ember.ones(2), "b": 1}, {"a": ember.zeros(2), "b": 2}],
                  collate_fn_map=fn_map)
    assert out["a"] == [[1.0, 1.0], [0.0, 0.0]]
    assert out["b"].tolist() == [1, 2]
    # NumPy arrays go through the (overridden) tensor entry too, as in PyTorch
    assert collate([np.ones(1), np.ones(1)], collate_fn_map=fn_map) == [[1.0], [1.0]]


# ---- DataLoader (main process) -------------------------------------------------------------
def loader_batches(data, dataset, **kwargs):
    return list(data.DataLoader(dataset, **kwargs))


DICT_DS = [{"x": np.full(2, i, np.float32), "label": i, "name": f"s{i}"} for i in range(7)]


@pytest.mark.parametrize("kwargs", [
    dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=7),
    dict(batch_size=10), dict(batch_size=10, drop_last=True), dict(batch_size=None),
    dict(batch_size=2, collate_fn=lambda b: b),
])
def test_loader_batches_like_torch(kwargs):
    e, t = both(lambda data, lib: loader_batches(data, DICT_DS, **kwargs))
    same(e, t)
    assert len(edata.DataLoader(DICT_DS, **kwargs)) == len(tdata.DataLoader(DICT_DS, **kwargs))


def test_loader_with_samplers_like_torch():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)

    def run(data, lib):
        ds = data.TensorDataset(lib.tensor(x), lib.arange(10))
        out = [loader_batches(data, ds, batch_size=4, sampler=[9, 3, 3, 0, 5]),
               loader_batches(data, ds, batch_sampler=[[1, 2], [0], [9, 8, 7]]),
               loader_batches(data, ds, batch_size=None, sampler=[4, 2]),
               loader_batches(data, ds, batch_size=3, sampler=[-1, -10])]
        lens = [len(data.DataLoader(ds, batch_sampler=[[1, 2], [0]])),
                len(data.DataLoader(ds, batch_size=4, sampler=range(5)))]
        return out, lens
    e, t = both(run)
    same(e, t)


def test_tensor_dataset_batches_like_torch():
    # TensorDataset + default_collate gathers whole batches at once: same result as the
    # per-sample path (forced here by a collate_fn that is not default_collate itself)
    x = np.arange(24, dtype=np.float64).reshape(6, 2, 2)
    y = np.array([True, False, True, True, False, False])

    def run(data, lib, **kwargs):
        ds = data.TensorDataset(lib.tensor(x), lib.tensor(y), lib.arange(6))
        return list(data.DataLoader(ds, **{"batch_size": 4, **kwargs}))
    t = run(tdata, torch)
    same(run(edata, ember), t)
    same(run(edata, ember, collate_fn=lambda b: edata.default_collate(b)), t)
    # out-of-range indices take the per-sample path, which raises as torch does
    for bad in ([0, 6], [0, -7]):
        same_error(lambda data, lib: run(data, lib, batch_size=1, batch_sampler=[bad]),
                   "out of bounds for dimension 0 with size 6", IndexError)


def test_loader_iterable_dataset_like_torch():
    items = list(range(11))

    def run(data, lib):
        out = [loader_batches(data, stream(data, items), batch_size=4),
               loader_batches(data, stream(data, items), batch_size=4, drop_last=True),
               loader_batches(data, stream(data, items), batch_size=None),
               loader_batches(data, stream(data, []), batch_size=2)]
        lens = [len(data.DataLoader(stream(data, items), batch_size=4)),
                len(data.DataLoader(stream(data, items), batch_size=4, drop_last=True)),
                len(data.DataLoader(stream(data, items), batch_size=None))]
        return out, lens
    e, t = both(run)
    same(e, t)


@pytest.mark.parametrize("batch_size", [None, 2])
def test_loader_iterable_len_warning_like_torch(batch_size):
    def run(data, lib):
        loader = data.DataLoader(stream(data, list(range(5))), batch_size=batch_size)
        n = len(loader)
        loader.dataset.items.extend(range(5, 13))  # the stream now yields more than len() said
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            batches = len(list(loader))
        return n, batches, [str(w.message).split("reported to be ")[1][:1] for w in record]
    e, t = both(run)
    assert e == t and e[2]


def test_loader_shuffle_generator_reproducible():
    ds = list(range(23))

    def epochs(seed, num_epochs=2):
        loader = edata.DataLoader(ds, batch_size=5, shuffle=True,
                                  generator=ember.Generator().manual_seed(seed))
        return [[b.tolist() for b in loader] for _ in range(num_epochs)]
    a = epochs(0)
    assert a == epochs(0) and a != epochs(1)
    assert a[0] != a[1]
    flat = [i for b in a[0] for i in b]
    assert sorted(flat) == ds and [len(b) for b in a[0]] == [5, 5, 5, 5, 3]


def test_loader_draws_base_seed_like_torch():
    # Each iter() draws one int64 from the loader's generator before the sampler draws (as in
    # torch): a shuffled epoch therefore equals RandomSampler after one skipped draw.
    g = ember.Generator().manual_seed(11)
    loader_order = [i for b in edata.DataLoader(range(9), batch_size=4, shuffle=True,
                                                generator=g) for i in b.tolist()]
    g2 = ember.Generator().manual_seed(11)
    ember.empty((), dtype=ember.int64).random_(generator=g2)
    assert loader_order == list(edata.RandomSampler(range(9), generator=g2))


VALIDATION_CASES = {
    "negative_workers": dict(num_workers=-1),
    "negative_timeout": dict(timeout=-1),
    "prefetch_without_workers": dict(prefetch_factor=2),
    "negative_prefetch": dict(num_workers=1, prefetch_factor=-1),
    "persistent_without_workers": dict(persistent_workers=True),
    "sampler_and_shuffle": dict(sampler=[0, 1], shuffle=True),
    "batch_sampler_and_batch_size": dict(batch_sampler=[[0]], batch_size=2),
    "batch_sampler_and_shuffle": dict(batch_sampler=[[0]], shuffle=True),
    "batch_sampler_and_sampler": dict(batch_sampler=[[0]], sampler=[0]),
    "batch_sampler_and_drop_last": dict(batch_sampler=[[0]], drop_last=True),
    "no_batching_and_drop_last": dict(batch_size=None, drop_last=True),
    "context_without_workers": dict(multiprocessing_context="fork"),
    "bad_context_name": dict(num_workers=1, multiprocessing_context="nope"),
    "bad_context_type": dict(num_workers=1, multiprocessing_context=3),
    "bad_batch_size": dict(batch_size=0),
}


@pytest.mark.parametrize("name", list(VALIDATION_CASES))
def test_loader_validation_errors_like_torch(name):
    kwargs = VALIDATION_CASES[name]
    with pytest.raises(Exception) as t_info:
        tdata.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(t_info.type) as e_info:
        edata.DataLoader(list(range(4)), **kwargs)
    assert str(e_info.value) == str(t_info.value)


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]),
                                    dict(batch_sampler=[[0]])])
def test_loader_iterable_dataset_rejects_samplers(kwargs):
    same_error(lambda data, lib: data.DataLoader(stream(data, [1]), **kwargs),
               "DataLoader with IterableDataset: expected unspecified", ValueError)


def test_loader_attributes_frozen_after_init():
    loader = edata.DataLoader(list(range(4)), batch_size=2)
    for name in ["batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                 "persistent_workers"]:
        with pytest.raises(ValueError, match=f"{name} attribute should not be set"):
            setattr(loader, name, None)
    loader.num_workers = 0  # others stay settable
    assert (loader.batch_size, loader.drop_last) == (2, False)
    assert isinstance(loader.sampler, edata.SequentialSampler)
    assert isinstance(loader.batch_sampler, edata.BatchSampler)
    assert loader.collate_fn is edata.default_collate
    assert edata.DataLoader([1], batch_size=None).collate_fn is edata.default_convert
    shuffled = edata.DataLoader([1, 2], shuffle=True)
    assert isinstance(shuffled.sampler, edata.RandomSampler)


def test_loader_warns_about_too_many_workers_like_torch():
    def run(data, lib):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            data.DataLoader([1], num_workers=len(os.sched_getaffinity(0)) + 1)
        return [str(w.message) for w in record]
    e, t = both(run)
    assert e == t and len(e) == 1


def test_loader_timeout_needs_workers():
    with pytest.raises(AssertionError, match="timeout"):
        iter(edata.DataLoader([1, 2], timeout=1))


def test_loader_pin_memory_is_accepted():
    ds = [np.ones(2, np.float32)] * 3
    kwargs = dict(batch_size=2, pin_memory=True)
    with warnings.catch_warnings(record=True) as e_warns:
        warnings.simplefilter("always")
        e = list(edata.DataLoader(ds, **kwargs))
    with warnings.catch_warnings(record=True) as t_warns:
        warnings.simplefilter("always")
        t = list(tdata.DataLoader(ds, **kwargs))
    same(e, t)
    if not ember.cuda.is_available():
        assert [str(w.message) for w in e_warns] == [str(w.message) for w in t_warns]


def test_loader_len_of_iterator():
    loader = edata.DataLoader(list(range(10)), batch_size=4)
    it = iter(loader)
    assert len(it) == 3 == len(loader)
    next(it)
    assert len(it) == 3  # like torch: the sampler's length, not what is left
    with pytest.raises(NotImplementedError):
        import pickle
        pickle.dumps(it)


def test_worker_info_is_none_in_main_process():
    assert edata.get_worker_info() is None


@pytest.mark.gpu
def test_cuda_tensors_collate_on_their_device():
    x = ember.arange(12.0).reshape(6, 2).to("cuda")
    y = ember.arange(6).to("cuda")
    batches = list(edata.DataLoader(edata.TensorDataset(x, y), batch_size=4))
    assert [tuple(b[0].shape) for b in batches] == [(4, 2), (2, 2)]
    assert all(t.is_cuda for b in batches for t in b)
    assert batches[1][0].cpu().tolist() == [[8.0, 9.0], [10.0, 11.0]]
    stacked = edata.default_collate([x[0], x[1]])
    assert stacked.is_cuda and stacked.cpu().tolist() == [[0.0, 1.0], [2.0, 3.0]]
