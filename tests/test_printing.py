"""Printed tensors: str(ember tensor) == str(torch tensor) with 'torch.' -> 'ember.'."""
import numpy as np
import pytest
import torch

import ember

RNG = np.random.default_rng(1)


@pytest.fixture(autouse=True)
def _default_printoptions():
    yield
    ember.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def same_str(arr, **kwargs):
    """str() of a tensor made from ``arr`` prints alike in both libraries."""
    t = torch.from_numpy(np.array(arr)) if not isinstance(arr, torch.Tensor) else arr
    e = ember.tensor(t.numpy() if t.dtype != torch.bfloat16 else t.float().numpy())
    if t.dtype == torch.bfloat16:
        e = e.bfloat16()
    expected = str(t).replace("torch.", "ember.")
    assert str(e) == expected, f"\nember:\n{e}\ntorch:\n{expected}"
    assert repr(e) == expected


def _magnitudes(shape, scale):
    return RNG.standard_normal(shape) * scale


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 0.1, 1.0, 37.0, 1e4, 1e9])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (1,), (5,), (3, 4), (2, 3, 4), (25,)])
def test_float_magnitudes(scale, dtype, shape):
    same_str(_magnitudes(shape, scale).astype(dtype))


@pytest.mark.parametrize("values", [
    [1.0, 2.0, 3.0], [-1.0, 100.0, 2.0], [0.0, -0.0], [-0.0], [1e-5, 1.0], [1e8, 1.0],
    [1e9, 3.0], [123456789.0, 1.0], [0.5, 1000.5], [1.0, 1001.0], [2.5, 0.001],
    [np.nan, 1.0], [np.inf, -np.inf, 2.0], [np.nan], [np.inf, 1.5], [0.0], [1e-300, 1.0],
    [1e20, -1e-20, 0.0], [1.0, np.nan, -np.inf, 1e-7], [-1.0, -2.0], [3.14159265, -2.71828],
])
def test_float_special_values(values):
    same_str(np.array(values, np.float32))
    same_str(np.array(values, np.float64))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int16, np.int8, np.uint8])
def test_integers(dtype):
    info = np.iinfo(dtype)
    same_str(RNG.integers(info.min, info.max, (3, 5), endpoint=True).astype(dtype))
    same_str(np.array([0, -1, 7], dtype=dtype) if info.min < 0 else np.array([0, 7], dtype))
    same_str(np.array(5, dtype=dtype))


def test_bool_and_half_types():
    same_str(np.array([True, False, True]))
    same_str(np.array(True))
    same_str(RNG.random((4, 4)) > 0.5)
    same_str(np.array([1.5, -2.25, 1000.0], np.float16))
    same_str(torch.tensor([1.5, -2.25, 3.0, 1e-3], dtype=torch.bfloat16))


@pytest.mark.parametrize("values", [
    [1 + 2j, -0.0 - 1j], [1.5 - 2.25j, 3e-5 + 1e5j], [0j], [complex(np.nan, 1), 2j],
    [1e-7 + 1j, 3 + 0j], [-1 - 1j, 2 + 2j, -3 + 3j],
])
def test_complex(values):
    same_str(np.array(values, np.complex64))
    same_str(np.array(values, np.complex128))
    same_str(np.array(values[0], np.complex64))


@pytest.mark.parametrize("shape", [(1001,), (40, 40), (2000, 3), (3, 2000), (5, 6, 40),
                                   (11, 10, 11), (1, 1, 1001)])
def test_summarized(shape):
    same_str(_magnitudes(shape, 3.0).astype(np.float32))
    same_str(RNG.integers(-50, 50, shape))


def test_wrapping():
    same_str(_magnitudes((50,), 1.0).astype(np.float32))
    same_str(_magnitudes((4, 30), 1e5).astype(np.float32))
    same_str(RNG.integers(-10**12, 10**12, (30,)))
    same_str(np.array([1 + 1j] * 20, np.complex64))


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_empty(shape, dtype):
    same_str(np.zeros(shape, dtype))


def test_printoptions():
    arr = _magnitudes((5, 300), 1.0).astype(np.float32)
    for opts in [dict(precision=2), dict(threshold=5), dict(edgeitems=1, threshold=10),
                 dict(linewidth=40), dict(sci_mode=True), dict(sci_mode=False),
                 dict(profile="short"), dict(profile="full"), dict(edgeitems=0, threshold=5)]:
        ember.set_printoptions(**opts)
        torch.set_printoptions(**opts)
        same_str(arr[:2, :8])
        same_str(arr)
        same_str(np.arange(12).reshape(3, 4))
        ember.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")
    ember.set_printoptions(precision=6)
    assert ember.get_printoptions()["precision"] == 6
    with pytest.raises(ValueError, match="profile"):
        ember.set_printoptions(profile="nope")


def test_printoptions_context():
    from ember._tensor_str import printoptions
    with printoptions(precision=1):
        assert str(ember.tensor([1.2345])) == "tensor([1.2])"
    assert str(ember.tensor([1.2345])) == "tensor([1.2345])"


def test_dtype_suffix_follows_default_dtype():
    ember.set_default_dtype(ember.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for arr in (np.array([1.5, 2.0]), np.array([1.5], np.float32), np.array([1j]),
                    np.array([1j], np.complex64), np.zeros((0,))):
            same_str(arr)
    finally:
        torch.set_default_dtype(torch.float32)


def test_autograd_suffixes():
    e = ember.tensor([[1.0, 2.0]], requires_grad=True)
    t = torch.tensor([[1.0, 2.0]], requires_grad=True)
    assert str(e) == str(t)
    assert str(e * 2) == str(t * 2)
    assert str(e.sum()) == str(t.sum())
    assert str((e * 2).detach()) == str((t * 2).detach())


def test_suffix_line_wrapping():
    arr = np.linspace(-1, 1, 9, dtype=np.float64).reshape(1, 9)
    e, t = ember.tensor(arr, requires_grad=True), torch.tensor(arr, requires_grad=True)
    assert str(e * 3) == str(t * 3).replace("torch.", "ember.")


def test_subclass_prefix():
    class MyTensor(ember.Tensor):
        pass
    t = ember.tensor([1.0, 2.0])
    sub = ember.Tensor.__new__(MyTensor, [1.0, 2.0])
    assert str(sub) == "MyTensor([1., 2.])"
    assert str(t) == "tensor([1., 2.])"


def test_format():
    for value in (3.14159, -2.5, 7):
        e, t = ember.tensor(value), torch.tensor(value)
        for spec in ("", ".3f", ">10", "e"):
            if isinstance(value, int) and spec in (".3f", "e"):
                continue
            assert f"{e:{spec}}" == f"{t:{spec}}"
    assert f"{ember.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
