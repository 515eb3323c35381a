"""Embedding, EmbeddingBag and one_hot against torch."""
import numpy as np
import pytest
import torch

import ember
from helpers import check, gradcheck_fn, randint, randn, raises, to_numpy
from nn_mirror import compare, module_pair

IDX = np.array([[0, 2, 0, 5], [3, 3, 3, 1]])


@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 3}, {"padding_idx": -1},
                                    {"scale_grad_by_freq": True},
                                    {"padding_idx": 0, "scale_grad_by_freq": True}])
def test_embedding_module(kwargs):
    e, t = module_pair("Embedding", 6, 3, **kwargs)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == ["weight"]
    for idx in (IDX, IDX[0], np.array(4), np.zeros((0, 2), np.int64)):
        e.zero_grad()
        t.zero_grad()
        compare(e, t, idx)
    if kwargs.get("padding_idx") is not None:
        pad = e.padding_idx
        fresh = ember.nn.Embedding(6, 3, **kwargs)
        assert not fresh.weight[pad].any()  # the padding row starts at zero


def test_embedding_init_and_options():
    ember.manual_seed(0)
    w = to_numpy(ember.nn.Embedding(1000, 50).weight)
    np.testing.assert_allclose([w.mean(), w.std()], [0, 1], atol=0.01)
    e, t = module_pair("Embedding", 10, 3, max_norm=2.0, norm_type=3.0, scale_grad_by_freq=True)
    assert repr(e) == repr(t)
    m = ember.nn.Embedding(4, 2, dtype=ember.float64)
    assert m.weight.dtype == ember.float64
    x = ember.tensor([1, 2], dtype=ember.int32)  # int32 indices work too
    assert m(x).shape == (2, 2)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5])
def test_embedding_max_norm_renormalizes_rows_in_place(norm_type):
    e, t = module_pair("Embedding", 6, 4, max_norm=1.0, norm_type=norm_type)
    with torch.no_grad():
        t.weight.mul_(3)
    compare(e, t, IDX)
    np.testing.assert_allclose(to_numpy(e.weight), to_numpy(t.weight), rtol=1e-5, atol=1e-6)
    norms = np.linalg.norm(to_numpy(e.weight), ord=norm_type, axis=1)
    used = np.unique(IDX)
    assert (norms[used] <= 1.0 + 1e-5).all()
    assert (norms[4] > 1.0)  # untouched row


def test_embedding_function_and_gradcheck():
    w = randn(6, 3)
    check(lambda lib, w: lib.nn.functional.embedding(lib.tensor(IDX), w, padding_idx=2), w)
    check(lambda lib, w: lib.nn.functional.embedding(lib.tensor(IDX), w,
                                                     scale_grad_by_freq=True), w)
    # padding_idx and scale_grad_by_freq change the gradient on purpose: gradcheck without
    gradcheck_fn(lambda lib, w: lib.nn.functional.embedding(lib.tensor(IDX), w), w)


def test_embedding_from_pretrained():
    table = randn(5, 3)
    for freeze in (True, False):
        e = ember.nn.Embedding.from_pretrained(ember.tensor(table), freeze=freeze,
                                               padding_idx=1)
        t = torch.nn.Embedding.from_pretrained(torch.tensor(table), freeze=freeze,
                                               padding_idx=1)
        assert repr(e) == repr(t)
        assert e.weight.requires_grad == t.weight.requires_grad == (not freeze)
        np.testing.assert_array_equal(to_numpy(e.weight), table)  # not zeroed at padding_idx
        compare(e, t, IDX[:, :2] % 5, copy=False)
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be "
                                             "2-dimensional"):
        ember.nn.Embedding.from_pretrained(ember.ones(3))


def test_embedding_errors():
    F = ember.nn.functional
    w = ember.ones(5, 3)
    raises(IndexError, r"embedding: index out of range in self \(indices must be in \[0, 5\)",
           F.embedding, ember.tensor([5]), w)
    raises(IndexError, "index out of range in self", F.embedding, ember.tensor([-1]), w)
    raises(RuntimeError, "Expected tensor for argument #1 'indices' to have one of the "
           "following scalar types: Long, Int", F.embedding, ember.tensor([1.0]), w)
    raises(NotImplementedError, "sparse=True .* is not supported", ember.nn.Embedding, 3, 2,
           sparse=True)
    raises(NotImplementedError, "sparse=True", F.embedding, ember.tensor([1]), w, sparse=True)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        ember.nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        ember.nn.Embedding(3, 2, padding_idx=-4)
    with pytest.raises(AssertionError, match="Shape of weight does not match"):
        ember.nn.Embedding(3, 2, _weight=ember.ones(2, 2))


# ---- EmbeddingBag ----------------------------------------------------------------------------

FLAT = np.array([1, 2, 4, 5, 4, 3, 2, 9])
OFFSETS = np.array([0, 4, 4, 6])  # bag 1 is empty


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_offsets(mode, padding_idx):
    e, t = module_pair("EmbeddingBag", 10, 3, mode=mode, padding_idx=padding_idx)
    assert repr(e) == repr(t)
    compare(e, t, FLAT, OFFSETS)
    e.zero_grad()
    t.zero_grad()
    compare(e, t, IDX, None)  # 2-D input: each row a bag


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_include_last_offset(mode):
    offsets = np.array([0, 3, 3, 8])
    check(lambda lib, w: lib.nn.functional.embedding_bag(
        lib.tensor(FLAT), w, lib.tensor(offsets), mode=mode, include_last_offset=True),
        randn(10, 3))


def _bag_reference(w, mode):
    """embedding_bag in torch, built from F.embedding (torch 2.13's CPU embedding_bag scales by
    the wrong frequencies with scale_grad_by_freq: pytorch/pytorch#190063)."""
    rows = torch.nn.functional.embedding(torch.tensor(FLAT), w, scale_grad_by_freq=True)
    bags = torch.tensor(np.repeat(np.arange(4), np.diff(np.append(OFFSETS, 8))))
    out = torch.zeros(4, 3, dtype=w.dtype).index_add(0, bags, rows)
    if mode == "mean":
        out = out / torch.bincount(bags, minlength=4).clamp_min(1).unsqueeze(1)
    return out


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_scale_grad_by_freq(mode):
    def fn(lib, w):
        if lib is torch:
            return _bag_reference(w, mode)
        return lib.nn.functional.embedding_bag(lib.tensor(FLAT), w, lib.tensor(OFFSETS),
                                               mode=mode, scale_grad_by_freq=True)
    check(fn, randn(10, 3))


def test_embedding_bag_per_sample_weights():
    e, t = module_pair("EmbeddingBag", 10, 3, mode="sum", padding_idx=2)
    compare(e, t, FLAT, OFFSETS, randn(8))
    check(lambda lib, w, psw: lib.nn.functional.embedding_bag(
        lib.tensor(IDX), w, mode="sum", per_sample_weights=psw), randn(6, 3), randn(2, 4))
    gradcheck_fn(lambda lib, w, psw: lib.nn.functional.embedding_bag(
        lib.tensor(FLAT), w, lib.tensor(OFFSETS), mode="sum", per_sample_weights=psw),
        randn(10, 3), randn(8))


def test_embedding_bag_max_norm_and_from_pretrained():
    e, t = module_pair("EmbeddingBag", 10, 3, max_norm=0.5)
    assert repr(e) == repr(t)
    compare(e, t, FLAT, OFFSETS)
    np.testing.assert_allclose(to_numpy(e.weight), to_numpy(t.weight), rtol=1e-5, atol=1e-6)
    table = randn(10, 3)
    e = ember.nn.EmbeddingBag.from_pretrained(ember.tensor(table), mode="max")
    t = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(table), mode="max")
    assert repr(e) == repr(t) and not e.weight.requires_grad
    compare(e, t, FLAT, OFFSETS, copy=False)


def test_embedding_bag_errors():
    F = ember.nn.functional
    w = ember.ones(10, 3)
    flat, off = ember.tensor(FLAT), ember.tensor(OFFSETS)
    raises(ValueError, "if input is 2D, then offsets has to be None", F.embedding_bag,
           ember.tensor(IDX), w, off)
    raises(ValueError, "offsets has to be a 1D Tensor but got None", F.embedding_bag, flat, w)
    raises(ValueError, "input has to be 1D or 2D Tensor, but got Tensor of dimension 3",
           F.embedding_bag, ember.zeros(1, 1, 1, dtype=ember.int64), w)
    raises(RuntimeError, "offsets\\[0\\] has to be 0", F.embedding_bag, flat, w,
           ember.tensor([1, 3]))
    raises(RuntimeError, "offsets\\[-1\\] can not be greater than input's length \\(8\\)",
           F.embedding_bag, flat, w, ember.tensor([0, 9]))
    raises(NotImplementedError, "per_sample_weights is only supported for mode='sum'",
           F.embedding_bag, flat, w, off, mode="mean", per_sample_weights=ember.ones(8))
    raises(ValueError, "mode has to be one of sum, mean or max", F.embedding_bag, flat, w, off,
           mode="min")
    raises(NotImplementedError, "sparse=True", ember.nn.EmbeddingBag, 3, 2, sparse=True)


# ---- one_hot -----------------------------------------------------------------------------------

def test_one_hot():
    for idx in (randint(0, 5, (3, 4)), np.array(2), np.zeros((0,), np.int64)):
        for n in (-1, 5, 7):
            if idx.size == 0 and n == -1:
                continue
            check(lambda lib: lib.nn.functional.one_hot(lib.tensor(idx), n))
    F = ember.nn.functional
    raises(RuntimeError, "one_hot is only applicable to index tensor of type LongTensor",
           F.one_hot, ember.tensor([1.0]))
    raises(RuntimeError, "Class values must be non-negative", F.one_hot, ember.tensor([-1]))
    raises(RuntimeError, "Class values must be smaller than num_classes", F.one_hot,
           ember.tensor([3]), 2)
    raises(RuntimeError, "Can not infer total number of classes from empty tensor",
           F.one_hot, ember.tensor([], dtype=ember.int64))
