"""Tensor basics against PyTorch: metadata (shape, strides, sizes, contiguity, storage
offsets), Python conversions (bool/int/float/complex/index/len/iter/in), requires_grad rules,
.data / detach, pickling and deepcopy."""
import copy
import pickle

import numpy as np
import pytest
import torch

import ember
from test_creation import both

X = "lib.arange(24.).reshape(2, 3, 4)"
METADATA = [
    "x.shape", "x.size()", "x.size(1)", "x.size(-1)", "x.dim()", "x.ndim", "x.ndimension()",
    "x.numel()", "x.nelement()", "x.element_size()", "x.itemsize", "x.nbytes", "x.stride()",
    "x.stride(0)", "x.stride(-1)", "x.is_contiguous()", "x.storage_offset()",
    "x.is_floating_point()", "x.is_complex()", "x.is_signed()", "x.is_leaf",
    "x.requires_grad", "x.is_cuda", "x.is_cpu", "x.get_device()", "x.is_sparse",
    "x.is_quantized", "x.is_meta", "len(x)", "x.layout == lib.strided",
]
VIEWS = ["x", "x.transpose(0, 2)", "x[1]", "x[:, 1:, ::2]", "x.reshape(6, 4)[2:]",
         "x.permute(2, 0, 1)", "x[0, 0]", "x.reshape(-1)[5]", "x[:, :0]", "x.int()",
         "x.to(lib.uint8)", "x.bool()", "x.to(lib.complex64)"]


@pytest.mark.parametrize("view", VIEWS)
def test_metadata(view):
    for attr in METADATA:
        if attr == "len(x)" and view in ("x[0, 0]", "x.reshape(-1)[5]"):
            continue
        if attr in ("x.size(1)", "x.stride(0)") and view in ("x[0, 0]", "x.reshape(-1)[5]"):
            continue
        both(f"(lambda x: {attr})((lambda x: {view})({X}))")


@pytest.mark.parametrize("expr", [
    "lib.ones(2, 3).size(2)", "lib.ones(2, 3).stride(-3)", "len(lib.tensor(1.))",
    "[v for v in lib.tensor(1.)]",
    "lib.ones(2).size(1.5)",
])
def test_metadata_errors(expr):
    both(expr)


def test_data_ptr_and_views():
    x = ember.arange(12.0).reshape(3, 4)
    assert x[1:].data_ptr() == x.data_ptr() + 4 * x.element_size()
    assert x.t().data_ptr() == x.data_ptr()
    assert x[1:].storage_offset() == 4 and x[:, 2].storage_offset() == 2


SCALARS = ["lib.tensor(2.7)", "lib.tensor([-3])", "lib.tensor([[True]])", "lib.tensor(1 + 2j)",
           "lib.tensor(5, dtype=lib.uint8)", "lib.tensor(0.)", "lib.tensor(float('nan'))",
           "lib.tensor(2.5, dtype=lib.bfloat16)", "lib.tensor([1.5, 2.])", "lib.tensor([])"]


@pytest.mark.parametrize("src", SCALARS)
@pytest.mark.parametrize("conv", ["bool(x)", "float(x)", "int(x)", "str(complex(x))",
                                  "[10, 20, 30, 40, 50, 60][x]", "x.item()", "x.tolist()",
                                  "f'{x}'", "f'{x:>12}'", "len(x)"])
def test_python_conversions(src, conv):
    both(f"(lambda x: {conv})({src})")


def test_iteration_and_contains():
    both("[v.tolist() for v in lib.arange(6).reshape(3, 2)]")
    both("[v.item() for v in lib.arange(3.)]")
    both("2 in lib.tensor([1, 2])")
    both("5 in lib.tensor([1, 2])")
    both("lib.tensor([1, 2]) in lib.tensor([[1, 2], [3, 4]])")
    both("'a' in lib.tensor([1, 2])")


def test_requires_grad_rules():
    both("lib.ones(2).requires_grad_().requires_grad")
    both("lib.ones(2, dtype=lib.int64).requires_grad_()")
    both("(lambda x: (x.requires_grad_(False), x.requires_grad)[1])"
         "(lib.ones(2, requires_grad=True))")
    both("(lambda x: setattr(x * 2, 'requires_grad', False))(lib.ones(2, requires_grad=True))")
    both("(lambda x: (x * 2).is_leaf)(lib.ones(2, requires_grad=True))")
    both("(lambda x: (x * 2).detach().requires_grad)(lib.ones(2, requires_grad=True))")
    both("(lambda x: (x * 2).data.requires_grad)(lib.ones(2, requires_grad=True))")
    both("(lambda x: (x * 2).requires_grad)(lib.ones(2, requires_grad=True))")


def test_data_and_detach_share_memory():
    x = ember.ones(3, requires_grad=True)
    d = x.detach()
    d[0] = 5
    assert x[0].item() == 5
    x.data[1] = 7
    assert x[1].item() == 7
    x.data = ember.zeros(3)
    assert x.tolist() == [0.0, 0.0, 0.0] and x.requires_grad


@pytest.mark.parametrize("src", ["lib.arange(6.).reshape(2, 3)", "lib.tensor([1, 2])",
                                 "lib.ones(2, 3).t()", "lib.tensor(3.5, dtype=lib.float64)",
                                 "lib.ones(2, requires_grad=True)",
                                 "lib.ones(4, dtype=lib.bfloat16)"])
def test_pickle_and_deepcopy(src):
    x = eval(src, {"lib": ember})
    for y in (pickle.loads(pickle.dumps(x)), copy.deepcopy(x)):
        assert y.tolist() == x.tolist() and y.dtype is x.dtype and y.shape == x.shape
        assert y.requires_grad == x.requires_grad and y.is_leaf
        assert y.data_ptr() != x.data_ptr()
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(ember.ones(2, requires_grad=True) * 2)


def test_deepcopy_keeps_grad_and_attributes():
    x = ember.ones(2, requires_grad=True)
    x.grad = ember.full((2,), 3.0)
    x.tag = "weights"
    y = copy.deepcopy(x)
    assert y.grad.tolist() == [3.0, 3.0] and y.tag == "weights"


def test_grad_assignment_errors():
    x = ember.ones(2, requires_grad=True)
    for bad, exc in ((ember.ones(3), RuntimeError), (ember.ones(2, dtype=ember.float64),
                                                     RuntimeError), ([1.0, 1.0], TypeError)):
        with pytest.raises(exc):
            x.grad = bad
        with pytest.raises(exc):
            torch.ones(2, requires_grad=True).grad = torch.from_numpy(np.asarray(bad)) \
                if isinstance(bad, ember.Tensor) else bad
    del x.grad
    assert x.grad is None
