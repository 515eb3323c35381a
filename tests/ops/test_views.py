"""View semantics as in PyTorch: the ops PyTorch documents as views share memory and the version
counter with their base, writes through them reach the base (and autograd), and the ops that
copy do not alias."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import check, raises, randn

BASE = randn(4, 6)

# (id, view op): every one returns views of its input in PyTorch.
VIEWS = [
    ("view", lambda x: x.view(6, 4)),
    ("view_as", lambda x: x.view_as(x.view(24))),
    ("reshape", lambda x: x.reshape(2, 12)),
    ("flatten", lambda x: x.flatten()),
    ("ravel", lambda x: x.ravel()),
    ("unflatten", lambda x: x.unflatten(1, (2, 3))),
    ("squeeze", lambda x: x[None].squeeze(0)),
    ("unsqueeze", lambda x: x.unsqueeze(1)),
    ("permute", lambda x: x.permute(1, 0)),
    ("transpose", lambda x: x.transpose(0, 1)),
    ("t", lambda x: x.t()),
    ("T", lambda x: x.T),
    ("mT", lambda x: x.mT),
    ("movedim", lambda x: x.movedim(0, 1)),
    ("swapaxes", lambda x: x.swapaxes(0, 1)),
    ("narrow", lambda x: x.narrow(1, 1, 3)),
    ("select", lambda x: x.select(1, 2)),
    ("getitem-int", lambda x: x[1]),
    ("getitem-slices", lambda x: x[1:3, ::2]),
    ("getitem-none-ellipsis", lambda x: x[None, ..., 1]),
    ("getitem-empty-tuple", lambda x: x[()]),
    ("diagonal", lambda x: x.diagonal(1)),
    ("unfold", lambda x: x.unfold(1, 2, 3)),
    ("getitem-0d-tensor", lambda x: x[x.new_ones((), dtype=x.dtype).long()]),
    ("split", lambda x: x.split(2, 1)[1]),
    ("split-list", lambda x: x.split([1, 3], 0)[1]),
    ("chunk", lambda x: x.chunk(3, 1)[2]),
    ("unbind", lambda x: x.unbind(1)[3]),
    ("tensor_split", lambda x: x.tensor_split([1, 4], 1)[1]),
    ("hsplit", lambda x: x.hsplit(2)[0]),
    ("as_strided", lambda x: x.as_strided((2, 3), (6, 2), 1)),
    ("detach", lambda x: x.detach()),
    ("alias-of-alias", lambda x: x.t()[1:].unsqueeze(0)[0, :, 2]),
]


def _lib_view(lib, name, x):
    return dict(VIEWS)[name](x)


@pytest.mark.parametrize("name", [v[0] for v in VIEWS])
def test_view_shares_memory_and_version(name):
    x = ember.tensor(BASE)
    v = _lib_view(ember, name, x)
    assert np.shares_memory(v.numpy(), x.numpy())
    if name != "detach":
        assert v._base is x
    v0 = x._version
    v.mul_(-2)
    assert x._version == v._version == v0 + 1
    t = torch.tensor(BASE)
    _lib_view(torch, name, t).mul_(-2)
    np.testing.assert_allclose(x.numpy(), t.numpy())  # the write reached the base


# PyTorch refuses in-place ops on the outputs of split/chunk/unbind when they require grad
# (ember allows them), so those cannot be compared.
MULTI = {"split", "split-list", "chunk", "unbind", "tensor_split", "hsplit"}


@pytest.mark.parametrize("name", [v[0] for v in VIEWS if v[0] not in MULTI | {"detach"}])
def test_inplace_through_view_of_nonleaf_gradients(name):
    """In-place ops on a view of a tensor in a graph rebase the base's history (CopySlices):
    gradients equal PyTorch's, for the base's inputs and for the written values."""
    def fn(lib, a, w):
        x = a * 1.5
        v = _lib_view(lib, name, x)
        v.mul_(w.reshape(()))
        v.add_(1.0)
        return x * x
    check(fn, BASE, np.array([2.0], np.float32))


@pytest.mark.parametrize("name", ["select", "getitem-slices", "diagonal", "t", "unfold",
                                  "as_strided"])
def test_copy_into_view_of_nonleaf(name):
    def fn(lib, a, w):
        x = a * 1.0
        v = _lib_view(lib, name, x)
        v.copy_(w.expand_as(v) * 3)
        return x.sin()
    check(fn, BASE, np.array([0.5], np.float32))


def test_setitem_through_views():
    def fn(lib, a, w):
        x = a * 1.0
        x.t()[1, 2:4] = w
        x[0][1:3] = w * 2
        x[2:][:, [0, 5]] = 7.0
        x.diagonal()[...] = w[0]
        return x
    check(fn, BASE, randn(2))


def test_fill_and_zero_through_views_change_base():
    """The brief's example: x[0].fill_(1) changes x."""
    results = []
    for lib in (ember, torch):
        x = lib.zeros(3, 4)
        x[0].fill_(1)
        x[:, 2].zero_()
        x.diagonal(1).add_(5)
        x.unfold(1, 2, 2)[1, 1].fill_(3)
        results.append(x.numpy())
    np.testing.assert_array_equal(*results)
    assert results[0].sum() == 19
    a = ember.randn(3, 4, requires_grad=True)
    y = a * 2
    y[1].fill_(0.5)
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[2] * 4, [0] * 4, [2] * 4])


def test_view_as_real_complex_share_memory():
    z = ember.tensor((randn(3, 2) + 1j * randn(3, 2)).astype(np.complex64))
    r = ember.view_as_real(z)
    assert r._base is z and np.shares_memory(r.numpy(), z.numpy())
    r[..., 1].zero_()
    assert not z.numpy().imag.any() and z._version == r._version == 1
    c = ember.view_as_complex(r)
    c.mul_(2)
    np.testing.assert_allclose(r.numpy()[..., 0], z.numpy().real)
    assert c._base is z


@pytest.mark.parametrize("name,fn", [
    ("reshape-noncontig", lambda x: x.t().reshape(24)),
    ("flatten-noncontig", lambda x: x.t().flatten()),
    ("advanced-index", lambda x: x[[0, 2]]),
    ("mask", lambda x: x[x > 0]),
    ("flip", lambda x: x.flip(0)), ("roll", lambda x: x.roll(1)),
    ("repeat", lambda x: x.repeat(1, 1)),
    ("narrow_copy", lambda x: x.narrow_copy(0, 0, 2)), ("diag", lambda x: x.diag()),
    ("clone", lambda x: x.clone()), ("rot90", lambda x: x.rot90(2)), ("tril", lambda x: x.tril()),
    ("gather", lambda x: x.gather(0, (ember if isinstance(x, ember.Tensor) else torch)
                                  .zeros(1, 6, dtype=torch.int64 if isinstance(x, torch.Tensor)
                                         else ember.int64))),
])
def test_copies_do_not_alias(name, fn):
    e, t = ember.tensor(BASE), torch.tensor(BASE)
    ev, tv = fn(e), fn(t)
    assert tv._base is None  # the oracle agrees that this op copies
    assert ev._base is None and not np.shares_memory(ev.numpy(), e.numpy())
    ev.mul_(0)
    np.testing.assert_array_equal(e.numpy(), BASE)
    assert e._version == 0


def test_expanded_views_are_read_only():
    x = ember.ones(3)
    for v in (x.expand(2, 3), ember.broadcast_to(x, (4, 3)),
              ember.meshgrid(x, x, indexing="ij")[0]):
        assert np.shares_memory(v.numpy(), x.numpy()) and v._base is x
        raises(RuntimeError, "more than one element|memory location", v.__setitem__, 0, 2.0)
    raises(RuntimeError, "more than one element", x.expand(2, 3).index_fill_, 0,
           ember.tensor([0]), 1.0)


def test_detach_shares_version_but_data_does_not():
    x = ember.ones(3)
    d, raw = x.detach(), x.data
    d.add_(1)
    assert x._version == 1 and x[0].item() == 2.0
    raw.add_(1)
    assert x._version == 1 and x[0].item() == 3.0


def test_inplace_on_view_of_leaf_requiring_grad_raises():
    a = ember.ones(3, 2, requires_grad=True)
    for op in (lambda: a[0].mul_(2), lambda: a.t().add_(1), lambda: a.view(6).zero_(),
               lambda: a[0].__setitem__(0, 1.0),
               lambda: a.diagonal().index_fill_(0, ember.tensor([0]), 1.0)):
        raises(RuntimeError, "view of a leaf Variable that requires grad", op)
    assert (a.detach().numpy() == 1).all() and a._version == 0
    with ember.no_grad():
        a[0].mul_(2)
    assert a[0, 0].item() == 2.0


def test_saved_tensor_modified_through_view_is_detected():
    for lib in (ember, torch):
        a = lib.ones(3, requires_grad=True)
        y = a.exp()  # saves its output
        y[1:].mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_split_and_unbind_outputs_share_the_base():
    x = ember.zeros(4, 3)
    parts = x.unbind(0)
    assert all(p._base is x for p in parts)
    parts[2].add_(1)
    pieces = x.split(2)
    pieces[0][1].add_(2)
    np.testing.assert_array_equal(x.numpy().sum(1), [0, 6, 3, 0])
    assert all(p._version == x._version == 2 for p in parts + pieces)


def test_inplace_on_multi_view_outputs_requiring_grad_raises_like_torch():
    for lib in (ember, torch):
        x = lib.ones(4, 3, requires_grad=True) * 1
        for part in (x.split(2)[0], x.unbind(1)[2], x.chunk(2)[1]):
            with pytest.raises(RuntimeError, match="returns multiple views"):
                part.mul_(2)


def test_views_of_views_keep_the_root_as_base():
    x = ember.tensor(BASE)
    v = x.t()[1:][::2].unsqueeze(0)
    assert v._base is x
    v.zero_()
    t = torch.tensor(BASE)
    t.t()[1:][::2].unsqueeze(0).zero_()
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_storage_offset_and_strides_like_torch():
    e, t = ember.tensor(BASE), torch.tensor(BASE)
    for fn in (lambda x: x[1:, 2:], lambda x: x.t()[2], lambda x: x.narrow(1, 2, 3),
               lambda x: x.diagonal(1), lambda x: x.unfold(1, 3, 2)):
        assert fn(e).stride() == fn(t).stride()
    for fn in (lambda x: x[1:, 2:], lambda x: x[1:].unfold(1, 2, 1),
               lambda x: x.as_strided((2, 2), (1, 2), 3), lambda x: x[2:].diagonal()):
        assert fn(e).storage_offset() == fn(t).storage_offset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert e.T.stride() == t.T.stride()
