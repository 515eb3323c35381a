"""Devices against PyTorch: ember.device parsing, equality and printing; Tensor.to / cpu /
cuda / type / float ...; the ember.cuda module without and (marked gpu) with a GPU."""
import pickle

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, raises

GPU = ember.cuda.is_available()


@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 1), ("cpu", 0),
                                  ("cuda:0",), ("cpu:0",)])
def test_device_parsing(args):
    e, t = ember.device(*args), torch.device(*args)
    assert (e.type, e.index) == (t.type, t.index)
    assert repr(e) == repr(t) and str(e) == str(t)
    assert ember.device(e) is e and ember.device(*args) is e  # interned
    assert pickle.loads(pickle.dumps(e)) is e
    assert hash(e) == hash(ember.device(str(e)))


@pytest.mark.parametrize("args,exc", [(("gpu",), RuntimeError), (("cuda:x",), RuntimeError),
                                      (("cuda:-1",), RuntimeError), (("cuda", -1), RuntimeError),
                                      (("cuda:1", 1), RuntimeError), ((1.5,), TypeError),
                                      (("CUDA",), RuntimeError), (("cuda:1:2",), RuntimeError)])
def test_device_errors(args, exc):
    with pytest.raises(exc):
        torch.device(*args)
    with pytest.raises(exc):
        ember.device(*args)


def test_device_equality():
    assert ember.device("cpu") == ember.device("cpu")
    assert ember.device("cuda", 0) == ember.device("cuda:0")
    assert ember.device("cuda") != ember.device("cuda:0")  # as in torch: no index != index 0
    assert torch.device("cuda") != torch.device("cuda:0")
    assert ember.device("cpu") != ember.device("cuda")
    assert ember.device("cuda", 1).index == 1 and ember.device("cuda", 1).type == "cuda"
    with pytest.raises(AttributeError):
        ember.device("cpu").index = 3
    assert ember.device(0) == ember.device("cuda:0")


def test_tensor_device_attributes():
    t = ember.ones(2)
    assert t.device == ember.device("cpu") and t.is_cpu and not t.is_cuda
    assert t.get_device() == torch.ones(2).get_device()
    assert t.to("cpu") is t and t.cpu() is t and t.to(ember.device("cpu")) is t
    c = t.to("cpu", copy=True)
    assert c is not t and c.data_ptr() != t.data_ptr()


TO_CALLS = ["x.to(lib.float64)", "x.to('cpu', lib.float16)", "x.to(dtype=lib.int32)",
            "x.to(device='cpu', dtype=lib.bfloat16)", "x.to(lib.zeros(1, dtype=lib.int8))",
            "x.to(lib.float64, True)", "x.to('cpu', non_blocking=True)", "x.float()", "x.double()",
            "x.half()", "x.bfloat16()", "x.long()", "x.int()", "x.short()", "x.char()",
            "x.byte()", "x.bool()", "x.cfloat()", "x.cdouble()", "x.type(lib.int64)",
            "x.type('torch.DoubleTensor')", "x.type_as(lib.zeros(1, dtype=lib.int16))",
            "x.to(lib.complex64)"]


@pytest.mark.parametrize("call", TO_CALLS)
@pytest.mark.parametrize("src", ["[1.5, -2.7, 0.0]", "[1, 2, 300]", "[True, False, True]",
                                 "[[1.5j, 2 - 1j]]"])
def test_conversions(call, src):
    e = eval(call, {"lib": ember, "x": ember.tensor(eval(src))})
    t = eval(call, {"lib": torch, "x": torch.tensor(eval(src))})
    assert_same(e, t)


def test_type_strings():
    for dtype in ("float32", "float64", "int64", "int32", "uint8", "bool", "float16"):
        assert ember.ones(1, dtype=getattr(ember, dtype)).type() == \
            torch.ones(1, dtype=getattr(torch, dtype)).type()


def test_to_keeps_autograd():
    x = ember.ones(3, requires_grad=True)
    y = x.to(ember.float64)
    assert y.grad_fn is not None
    y.sum().backward()
    assert x.grad.dtype is ember.float32 and x.grad.tolist() == [1.0, 1.0, 1.0]


# ---- ember.cuda without a GPU ------------------------------------------------------------------
def test_cuda_module_never_raises_when_probing():
    assert isinstance(ember.cuda.is_available(), bool)
    assert ember.cuda.device_count() >= 0
    assert ember.cuda.is_available() == (ember.cuda.device_count() > 0)
    assert isinstance(ember.cuda.is_bf16_supported(), bool)
    ember.cuda.manual_seed(1)
    ember.cuda.manual_seed_all(2)
    ember.cuda.seed_all()
    ember.cuda.empty_cache()
    assert len(ember.cuda.default_generators) == ember.cuda.device_count()
    with ember.cuda.device(None):
        pass
    with ember.cuda.stream(None):
        pass
    with ember.cuda.device_of(ember.ones(1)):
        pass


@pytest.mark.skipif(GPU, reason="checks the errors given where no GPU is available")
@pytest.mark.parametrize("call", [
    "ember.cuda.current_device()", "ember.cuda.synchronize()", "ember.cuda.get_device_name()",
    "ember.cuda.get_device_properties(0)", "ember.cuda.memory_allocated()",
    "ember.cuda.max_memory_allocated()", "ember.cuda.Stream()", "ember.cuda.Event()",
    "ember.cuda.set_device(0)", "ember.zeros(2, device='cuda')", "ember.ones(2).cuda()",
    "ember.ones(2).to('cuda:0')", "ember.tensor([1.0], device='cuda')",
    "ember.randn(2, device='cuda')", "ember.Generator('cuda')", "ember.arange(3, device='cuda')",
])
def test_cuda_errors_without_gpu(call):
    try:
        import cupy  # noqa: F401
        exc, match = RuntimeError, "no CUDA GPU"
    except ImportError:
        exc, match = ImportError, "pip install 'ember\\[cuda\\]'"
    with pytest.raises(exc, match=match):
        eval(call)


# ---- with a GPU -------------------------------------------------------------------------------
@pytest.mark.gpu
def test_cuda_creation_and_transfer():
    for fn in ("zeros", "ones", "empty", "rand", "randn"):
        t = getattr(ember, fn)(2, 3, device="cuda")
        assert t.is_cuda and t.device == ember.device("cuda", 0) and t.shape == (2, 3)
    x = ember.tensor([[1.5, 2.0]], device="cuda")
    assert x.device.type == "cuda" and x.get_device() == 0
    assert x.cpu().tolist() == [[1.5, 2.0]] and x.tolist() == [[1.5, 2.0]]
    assert ember.full((2,), 7, device="cuda").tolist() == [7, 7]
    assert ember.arange(5, device="cuda").tolist() == list(range(5))
    assert ember.linspace(0, 1, 3, device="cuda").tolist() == [0.0, 0.5, 1.0]
    assert ember.eye(2, device="cuda").tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert ember.zeros_like(x).is_cuda and ember.ones_like(x, device="cpu").is_cpu
    assert x.new_zeros(3).is_cuda and x.new_tensor([1, 2]).is_cuda
    y = ember.zeros(1, 2, device="cuda")
    y.copy_(ember.tensor([[3.0, 4.0]]))
    assert y.tolist() == [[3.0, 4.0]]
    z = ember.zeros(1, 2)
    z.copy_(y)
    assert z.tolist() == [[3.0, 4.0]]
    y.fill_(2)
    y.zero_()
    assert y.tolist() == [[0.0, 0.0]]
    a = ember.ones(3, requires_grad=True)
    b = a.cuda() * 2
    b.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0, 2.0] and a.grad.is_cpu
    assert "device='cuda:0'" in repr(x)
    raises(TypeError, "cpu", x.numpy)
    assert x.numpy(force=True).tolist() == [[1.5, 2.0]]
    assert ember.as_tensor(np.ones(2), device="cuda").is_cuda


@pytest.mark.gpu
def test_cuda_module_with_gpu():
    c = ember.cuda
    assert c.device_count() >= 1 and c.current_device() == 0
    props = c.get_device_properties(0)
    assert props.total_memory > 0 and c.get_device_name(0) == props.name
    assert c.get_device_capability() == (props.major, props.minor)
    c.synchronize()
    c.reset_peak_memory_stats()
    before = c.memory_allocated()
    x = ember.zeros(1024, 1024, device="cuda")
    assert c.memory_allocated() >= before + x.nbytes
    assert c.max_memory_allocated() >= c.memory_allocated()
    assert c.memory_reserved() >= c.memory_allocated()
    del x
    c.empty_cache()
    free, total = c.mem_get_info()
    assert 0 < free <= total
    start, end = c.Event(enable_timing=True), c.Event(enable_timing=True)
    s = c.Stream()
    with c.stream(s):
        start.record(s)
        y = ember.randn(256, 256, device="cuda") * 2
        end.record(s)
    end.synchronize()
    assert start.elapsed_time(end) >= 0 and end.query()
    s.synchronize()
    assert c.current_stream() == c.current_stream() and y.is_cuda
    with c.device(0):
        assert c.current_device() == 0
    raises(RuntimeError, "enable_timing", c.Event().elapsed_time, c.Event())
