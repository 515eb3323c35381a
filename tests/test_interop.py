"""Interop: NumPy (numpy(), __array__, np.asarray sharing), tolist/item, and DLPack both ways
with NumPy and PyTorch."""
import numpy as np
import pytest
import torch

import ember
from helpers import raises

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32",
          "float64", "complex64", "complex128"]


def pair(values, dtype):
    t = torch.tensor(values, dtype=getattr(torch, dtype))
    return ember.tensor(values, dtype=getattr(ember, dtype)), t


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("values", [[[1, 0], [2, 3]], [1, 0, 1], 1, []])
def test_tolist_and_item(dtype, values):
    e, t = pair(values, dtype)
    got, expected = e.tolist(), t.tolist()
    assert got == expected
    assert type(got) is type(expected)
    flat_e, flat_t = e.reshape(-1).tolist(), t.reshape(-1).tolist()
    assert [type(v) for v in flat_e] == [type(v) for v in flat_t]
    if t.numel() == 1:
        assert e.item() == t.item() and type(e.item()) is type(t.item())


def test_item_errors():
    e = raises(RuntimeError, "2 elements cannot be converted to Scalar", ember.ones(2).item)
    assert "Scalar" in str(e)
    assert ember.ones(1, 1, 1).item() == 1.0


def test_numpy_shares_memory():
    t = ember.zeros(2, 3)
    a = t.numpy()
    a[0, 0] = 5
    assert t[0, 0].item() == 5
    t.add_(1)
    assert a[0, 0] == 6
    b = np.asarray(t)
    b[1, 1] = 9
    assert t[1, 1].item() == 9
    assert np.shares_memory(np.array(t, copy=False), a)
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(t, copy=True), a)
    v = t[:, 1]
    assert np.shares_memory(v.numpy(), a)


def test_numpy_errors():
    x = ember.ones(2, requires_grad=True)
    raises(RuntimeError, "Can't call numpy\\(\\) on Tensor that requires grad", x.numpy)
    assert x.numpy(force=True).tolist() == [1.0, 1.0]
    assert x.detach().numpy().tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError):
        torch.ones(2, requires_grad=True).numpy()


def test_numpy_ufuncs_and_array_protocol():
    t = ember.arange(4.0)
    assert np.asarray(t).sum() == 6.0
    assert np.array([t, t]).shape == (2, 4)
    assert (np.ones(4) + t).tolist() == [1.0, 2.0, 3.0, 4.0]  # ndarray + tensor defers to ember


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "bfloat16"])
def test_dlpack_to_numpy_and_torch(dtype):
    e = ember.tensor([[1, 0], [1, 1]], dtype=getattr(ember, dtype))
    assert e.__dlpack_device__() == (1, 0)
    n = np.from_dlpack(e)
    assert n.dtype == e.numpy().dtype and np.shares_memory(n, e.numpy())
    t = torch.from_dlpack(e)
    assert str(t.dtype)[6:] == dtype and t.tolist() == e.tolist()
    assert t.data_ptr() == e.data_ptr()
    back = ember.from_dlpack(t)
    assert back.data_ptr() == e.data_ptr() and back.dtype is e.dtype


def test_dlpack_shares_writes():
    e = ember.arange(6.0).reshape(2, 3)[:, 1:]
    t = torch.from_dlpack(e)
    assert t.stride() == e.stride()
    t[0, 0] = 100
    assert e[0, 0].item() == 100
    src = torch.arange(4.0)
    m = ember.from_dlpack(src)
    m.mul_(2)
    assert src.tolist() == [0.0, 2.0, 4.0, 6.0]
    a = np.arange(3)
    f = ember.from_dlpack(a)
    f.add_(1)
    assert a.tolist() == [1, 2, 3]


def test_capsules():
    src = torch.ones(3)
    e = ember.from_dlpack(torch.utils.dlpack.to_dlpack(src))
    e.add_(1)  # legacy capsules carry no read-only flag: writable, as in PyTorch
    assert src.tolist() == [2.0, 2.0, 2.0]
    cap = ember.to_dlpack(e)
    t = torch.utils.dlpack.from_dlpack(cap)
    assert t.data_ptr() == e.data_ptr()
    raises(RuntimeError, "from_dlpack: the capsule is not an unused DLPack capsule",
           ember.from_dlpack, cap)


def test_dlpack_errors():
    x = ember.ones(2, requires_grad=True)
    raises(RuntimeError, "__dlpack__: Can't export tensors that require gradient", x.__dlpack__)
    raises(RuntimeError, "to_dlpack: Can't export", ember.to_dlpack, x)
    raises(BufferError, "bfloat16", ember.ones(2, dtype=ember.bfloat16).__dlpack__)
    raises(TypeError, "from_dlpack: expected an object with __dlpack__", ember.from_dlpack,
           [1, 2])
    raises(RuntimeError, "from_dlpack: can't import", ember.from_dlpack,
           torch.ones(2, dtype=torch.bfloat16))
    raises(BufferError, "__dlpack__: stream must be None", ember.ones(2).__dlpack__, stream=1)
    t = ember.ones(2)
    assert ember.from_dlpack(t) is t
    assert ember.asarray(torch.arange(3)).tolist() == [0, 1, 2]


@pytest.mark.gpu
def test_dlpack_cuda():
    import cupy
    e = ember.arange(4.0, device="cuda")
    assert e.__dlpack_device__() == (2, 0)
    c = cupy.from_dlpack(e)
    c[0] = 7
    assert e[0].item() == 7
    back = ember.from_dlpack(cupy.arange(3))
    assert back.is_cuda and back.tolist() == [0, 1, 2]
    assert ember.asarray(cupy.ones(2)).is_cuda
