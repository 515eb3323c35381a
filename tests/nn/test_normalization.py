"""Normalization layers and their functional forms against torch: values and gradients of
inputs and parameters in train and eval mode, running statistics over several steps, float64
gradcheck / gradgradcheck of the fused kernels, reprs, state dicts and errors."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from helpers import assert_same, check, gradcheck_fn, randint, randn, raises
from nn_mirror import compare, copy_state, module_pair

# torch's multi-threaded kernels (oneDNN RNNs above all) crawl when the test machine's cores
# are busy; one thread keeps the oracle fast.
torch.set_num_threads(1)


def F(lib):
    return TF if lib is torch else EF


def repr_of(module):
    return repr(module).replace("torch.", "ember.")


# ---- functional forms ---------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(4, 3), (4, 3, 5), (2, 3, 4, 5), (2, 3, 2, 2, 3)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_training(shape, affine):
    c = shape[1]
    w, b = (randn(c), randn(c)) if affine else (None, None)

    def fn(lib, x, w, b):
        rm, rv = lib.zeros(c), lib.ones(c)
        y = F(lib).batch_norm(x, rm, rv, w, b, training=True, momentum=0.3)
        return y, rm, rv
    check(fn, randn(*shape), w, b, atol=1e-5, rtol=1e-4)
    check(lambda lib, x: F(lib).batch_norm(x, None, None, training=True), randn(*shape),
          atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("shape", [(5, 3, 4, 4), (6, 4)])
def test_batch_norm_in_chunks(monkeypatch, shape):
    """The CPU kernel's passes over the batch one sample at a time, on an input whose mean is
    far from zero (the variance and the gradients stay accurate)."""
    from ember.ops import norm
    monkeypatch.setattr(norm, "BATCH_CHUNK_BYTES", 1)
    c = shape[1]
    check(lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
          randn(*shape) * 0.5 + 30, randn(c), randn(c), atol=1e-4, rtol=1e-4)
    check(lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
          randn(*shape, dtype=np.float64) - 7, randn(c, dtype=np.float64),
          randn(c, dtype=np.float64))


def test_batch_norm_eval():
    rm, rv = randn(3), np.abs(randn(3)) + 0.5
    check(lambda lib, x, w, b: F(lib).batch_norm(x, lib.tensor(rm), lib.tensor(rv), w, b),
          randn(4, 3, 5), randn(3), randn(3))
    check(lambda lib, x: F(lib).batch_norm(x, lib.tensor(rm), lib.tensor(rv)), randn(4, 3))


def test_batch_norm_noncontiguous_and_empty():
    x = randn(5, 3, 4).transpose(2, 1, 0)  # (4, 3, 5), not contiguous
    check(lambda lib, x: F(lib).batch_norm(x, None, None, training=True), x, rtol=1e-4)
    check(lambda lib, x: F(lib).batch_norm(x, None, None, training=True), randn(0, 3))

    def with_stats(lib, x):  # an empty batch leaves the running statistics alone
        rm, rv = lib.zeros(3), lib.ones(3)
        return F(lib).batch_norm(x, rm, rv, training=True), rm, rv
    check(with_stats, randn(0, 3, 2))


@pytest.mark.parametrize("shape,normalized", [((4, 5), [5]), ((2, 3, 4), [3, 4]),
                                              ((2, 3, 4), (4,)), ((5,), [5]), ((0, 3), [3])])
def test_layer_norm(shape, normalized):
    wshape = tuple(normalized)
    check(lambda lib, x, w, b: F(lib).layer_norm(x, normalized, w, b, 1e-4),
          randn(*shape), randn(*wshape), randn(*wshape), rtol=1e-4)
    check(lambda lib, x: F(lib).layer_norm(x, normalized), randn(*shape), rtol=1e-4)
    check(lambda lib, x, w: F(lib).layer_norm(x, normalized, w), randn(*shape), randn(*wshape),
          rtol=1e-4)


def test_half_precision():
    x = randn(3, 8).astype(np.float16)
    half = dict(atol=3e-3, rtol=3e-3, grad_atol=1e-2)  # gradients near 4..8: a float16 ulp
    check(lambda lib, x, w, b: F(lib).layer_norm(x, [8], w, b), x, randn(8).astype(np.float16),
          randn(8).astype(np.float16), **half)
    check(lambda lib, x: F(lib).rms_norm(x, [8]), x, **half)
    check(lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, True),
          randn(4, 3, 2).astype(np.float16), randn(3).astype(np.float16),
          randn(3).astype(np.float16), atol=5e-3, rtol=5e-3, grad_atol=1e-2)


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((2, 4, 3, 3), 2), ((3, 4), 2),
                                          ((2, 6, 5), 1)])
def test_group_norm(shape, groups):
    c = shape[1]
    # in groups of two values the input gradient is a difference of nearly equal terms
    tol = dict(rtol=1e-4, grad_rtol=1e-3)
    check(lambda lib, x, w, b: F(lib).group_norm(x, groups, w, b, 1e-3), randn(*shape),
          randn(c), randn(c), **tol)
    check(lambda lib, x: F(lib).group_norm(x, groups), randn(*shape), **tol)


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 4)])
def test_instance_norm(shape):
    c = shape[1]

    def fn(lib, x, w, b):
        rm, rv = lib.zeros(c), lib.ones(c)
        y = F(lib).instance_norm(x, rm, rv, w, b, use_input_stats=True, momentum=0.2)
        return y, rm, rv
    check(fn, randn(*shape), randn(c), randn(c), rtol=1e-4)
    check(lambda lib, x: F(lib).instance_norm(x), randn(*shape), rtol=1e-4)
    rm, rv = randn(c), np.abs(randn(c)) + 0.5
    check(lambda lib, x: F(lib).instance_norm(x, lib.tensor(rm), lib.tensor(rv),
                                              use_input_stats=False), randn(*shape))


@pytest.mark.parametrize("training", [False, True])
def test_batch_norm_of_1d_input(training):
    """torch passes an empty 1-d input through (whatever the running statistics) and refuses a
    non-empty one (no channel dim)."""
    check(lambda lib, x: F(lib).batch_norm(x, lib.zeros(3), lib.ones(3), training=training),
          np.zeros(0, np.float32))
    for lib in (ember, torch):
        with pytest.raises(IndexError, match="Dimension out of range"):
            F(lib).batch_norm(lib.ones(3), lib.zeros(0), lib.ones(0), training=training)


@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm(eps):
    check(lambda lib, x, w: F(lib).rms_norm(x, [4], w, eps), randn(3, 4), randn(4))
    check(lambda lib, x: F(lib).rms_norm(x, (2, 4), eps=eps), randn(3, 2, 4))


@pytest.mark.parametrize("shape", [(2, 6, 5), (2, 5, 3, 3), (1, 4, 2, 2, 2)])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_local_response_norm(shape, size):
    check(lambda lib, x: F(lib).local_response_norm(x, size, 0.1, 0.6, 2.0), randn(*shape),
          rtol=1e-4)
    check(lambda lib, x: F(lib).local_response_norm(x, 2), randn(0, 3, 2), grad=False)


@pytest.mark.parametrize("shape", [(2, 6, 5), (1, 4, 2, 3)])
def test_local_response_norm_int64(shape):
    """torch averages the squares of int64 inputs with an integer average pool (truncating);
    the result is float32. Other integer types torch refuses."""
    x = randint(-30, 30, shape)
    for size, alpha in ((3, 0.5), (4, 1e-4), (2, 2.0)):
        check(lambda lib, x: F(lib).local_response_norm(x, size, alpha, 0.75, 1.0), x)
    for lib in (ember, torch):
        with pytest.raises(NotImplementedError):
            F(lib).local_response_norm(lib.ones(2, 3, 4, dtype=lib.int32), 2)


# ---- float64 gradcheck and gradgradcheck of the fused kernels --------------------------------------

def test_gradcheck_batch_norm():
    gradcheck_fn(lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
                 randn(3, 2, 2), randn(2), randn(2))
    gradcheck_fn(lambda lib, x: F(lib).batch_norm(x, None, None, training=True), randn(4, 2))


def test_gradcheck_layer_norm():
    gradcheck_fn(lambda lib, x, w, b: F(lib).layer_norm(x, [3], w, b), randn(2, 3), randn(3),
                 randn(3))
    gradcheck_fn(lambda lib, x: F(lib).layer_norm(x, [2, 2]), randn(2, 2, 2))


def test_gradcheck_group_and_instance_norm():
    gradcheck_fn(lambda lib, x, w, b: F(lib).group_norm(x, 2, w, b), randn(2, 4, 2), randn(4),
                 randn(4))
    gradcheck_fn(lambda lib, x, w: F(lib).instance_norm(x, weight=w), randn(2, 2, 3), randn(2))


def test_gradcheck_composites():
    gradcheck_fn(lambda lib, x, w: F(lib).rms_norm(x, [3], w), randn(2, 3), randn(3))
    gradcheck_fn(lambda lib, x: F(lib).local_response_norm(x, 2), randn(1, 3, 2))
    gradcheck_fn(lambda lib, x, m, v, w: F(lib).batch_norm(x, m, v, w), randn(3, 2), randn(2),
                 np.abs(randn(2)) + 0.5, randn(2))


def test_double_backward_matches_torch():
    """Second derivatives of the fused kernels equal torch's (not only finite differences)."""
    def second(lib, fn, x, w):
        x = lib.tensor(x, dtype=lib.float64, requires_grad=True)
        w = lib.tensor(w, dtype=lib.float64, requires_grad=True)
        y = fn(lib, x, w)
        g, = lib.autograd.grad((y * y.detach().sin()).sum(), x, create_graph=True)
        return lib.autograd.grad((g * g).sum(), (x, w))
    for fn in (lambda lib, x, w: F(lib).batch_norm(x, None, None, w, None, True),
               lambda lib, x, w: F(lib).layer_norm(x, [3], w)):
        x, w = randn(4, 3), randn(3)
        assert_same(list(second(ember, fn, x, w)), list(second(torch, fn, x, w)), atol=1e-8,
                    rtol=1e-6)


# ---- modules ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (2, 3, 4, 4)),
                                        ("BatchNorm3d", (2, 3, 2, 3, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_module_running_stats(name, shape, momentum):
    e, t = module_pair(name, 3, momentum=momentum)
    with torch.no_grad():
        t.weight.normal_()
        t.bias.normal_()
    copy_state(e, t)
    for step in range(3):
        compare(e, t, randn(*shape), copy=False, rtol=1e-4, atol=1e-5)
        for k in ("running_mean", "running_var", "num_batches_tracked"):
            assert_same(getattr(e, k), getattr(t, k), rtol=1e-5, what=f"{k} after step {step}")
    e.eval()
    t.eval()
    compare(e, t, randn(*shape), copy=False)


@pytest.mark.parametrize("kwargs", [dict(affine=False), dict(track_running_stats=False),
                                    dict(bias=False), dict(eps=1e-2, momentum=0.5)])
def test_batch_norm_module_options(kwargs):
    e, t = module_pair("BatchNorm2d", 3, **kwargs)
    for mode in ("train", "eval"):
        getattr(e, mode)()
        getattr(t, mode)()
        compare(e, t, randn(2, 3, 3, 3), rtol=1e-4, atol=1e-5)
    assert list(e.state_dict()) == list(t.state_dict())
    assert repr_of(t) == repr(e)


def test_sync_batch_norm_single_process():
    e, t = module_pair("SyncBatchNorm", 3)
    compare(e, t, randn(4, 3, 2), rtol=1e-4, atol=1e-5)
    net = ember.nn.Sequential(ember.nn.Linear(3, 3), ember.nn.BatchNorm1d(3))
    converted = ember.nn.SyncBatchNorm.convert_sync_batchnorm(net)
    assert isinstance(converted[1], ember.nn.SyncBatchNorm)
    assert converted[1].weight is net[1].weight


@pytest.mark.parametrize("name,shape", [("InstanceNorm1d", (2, 3, 5)),
                                        ("InstanceNorm1d", (3, 5)),
                                        ("InstanceNorm2d", (2, 3, 3, 4)),
                                        ("InstanceNorm2d", (3, 3, 4)),
                                        ("InstanceNorm3d", (2, 3, 2, 2, 3))])
@pytest.mark.parametrize("kwargs", [{}, dict(affine=True, track_running_stats=True)])
def test_instance_norm_module(name, shape, kwargs):
    e, t = module_pair(name, 3, **kwargs)
    if kwargs:
        with torch.no_grad():
            t.weight.normal_()
            t.bias.normal_()
    copy_state(e, t)
    for _ in range(2):
        compare(e, t, randn(*shape), copy=False, rtol=1e-4, atol=1e-5)
    if kwargs:
        assert_same(e.running_mean, t.running_mean, rtol=1e-5)
        assert_same(e.running_var, t.running_var, rtol=1e-5)
    e.eval()
    t.eval()
    compare(e, t, randn(*shape), copy=False, rtol=1e-4, atol=1e-5)


def test_instance_norm_feature_mismatch():
    e = ember.nn.InstanceNorm1d(3)
    with pytest.warns(UserWarning, match="does not match num_features"):
        e(ember.randn(2, 4, 5))
    raises(ValueError, "InstanceNorm1d: expected input's size at dim=1 to match num_features "
           r"\(3\), but got: 4", ember.nn.InstanceNorm1d(3, affine=True), ember.randn(2, 4, 5))


@pytest.mark.parametrize("args,kwargs", [((5,), {}), (([3, 5],), {}), ((5,), dict(bias=False)),
                                         ((5,), dict(elementwise_affine=False, eps=1e-3))])
def test_layer_norm_module(args, kwargs):
    e, t = module_pair("LayerNorm", *args, **kwargs)
    if t.weight is not None:
        with torch.no_grad():
            t.weight.normal_()
    compare(e, t, randn(2, 3, 5), rtol=1e-4, atol=1e-5)
    assert repr_of(t) == repr(e)
    assert e.normalized_shape == t.normalized_shape


@pytest.mark.parametrize("kwargs", [{}, dict(affine=False), dict(bias=False, eps=1e-3)])
def test_group_norm_module(kwargs):
    e, t = module_pair("GroupNorm", 2, 6, **kwargs)
    compare(e, t, randn(3, 6, 4), rtol=1e-4, atol=1e-5)
    assert repr_of(t) == repr(e)


@pytest.mark.parametrize("args,kwargs", [((4,), {}), (([2, 4],), dict(eps=1e-3)),
                                         ((4,), dict(elementwise_affine=False))])
def test_rms_norm_module(args, kwargs):
    e, t = module_pair("RMSNorm", *args, **kwargs)
    compare(e, t, randn(3, 2, 4), rtol=1e-4, atol=1e-5)
    assert repr_of(t) == repr(e)


def test_local_response_norm_module():
    e, t = module_pair("LocalResponseNorm", 3, alpha=0.1, beta=0.5, k=1.5)
    compare(e, t, randn(2, 5, 3, 3), rtol=1e-4, atol=1e-5)
    assert repr_of(t) == repr(e)


def test_reprs_and_parameters():
    for name, args, kwargs in [("BatchNorm1d", (3,), dict(momentum=None)),
                               ("BatchNorm3d", (4,), dict(affine=False)),
                               ("InstanceNorm2d", (3,), dict(affine=True)),
                               ("InstanceNorm3d", (3,), dict(track_running_stats=True))]:
        e, t = module_pair(name, *args, **kwargs)
        assert repr_of(t) == repr(e)
        e_state, t_state = e.state_dict(), t.state_dict()
        assert list(e_state) == list(t_state)
        for k in t_state:
            assert_same(e_state[k], t_state[k], what=k)
        assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]


def test_old_checkpoint_without_num_batches_tracked():
    e = ember.nn.BatchNorm1d(3)
    state = OrderedDict((k, v) for k, v in e.state_dict().items() if k != "num_batches_tracked")
    state._metadata = OrderedDict({"": {"version": 1}})
    e.num_batches_tracked.add_(5)
    e.load_state_dict(state)
    assert int(e.num_batches_tracked) == 5


def test_reset_running_stats():
    e = ember.nn.BatchNorm1d(3)
    e(ember.randn(4, 3))
    e.reset_running_stats()
    assert int(e.num_batches_tracked) == 0
    assert not e.running_mean.any() and bool((e.running_var == 1).all())


# ---- errors ---------------------------------------------------------------------------------------

def test_errors():
    raises(ValueError, r"Expected more than 1 value per channel when training, got input size "
           r"ember.Size\(\[1, 3\]\)", EF.batch_norm, ember.randn(1, 3), None, None, training=True)
    raises(ValueError, "Expected more than 1 value per channel when training",
           ember.nn.BatchNorm1d(3), ember.randn(1, 3))
    raises(ValueError, "BatchNorm2d: expected 4D input \\(got 3D input\\)",
           ember.nn.BatchNorm2d(3), ember.randn(2, 3, 4))
    raises(RuntimeError, "batch_norm: running_mean should contain 3 elements not 4",
           EF.batch_norm, ember.randn(4, 3), ember.zeros(4), ember.ones(4))
    raises(RuntimeError, "batch_norm: weight should contain 3 elements not 4",
           EF.batch_norm, ember.randn(4, 3), None, None, ember.ones(4), training=True)
    raises(RuntimeError, "running_mean must be defined in evaluation mode",
           EF.batch_norm, ember.randn(4, 3), None, None)
    raises(RuntimeError, "batch_norm: expected weight to have the input's dtype",
           EF.batch_norm, ember.randn(4, 3), None, None, ember.ones(3).double(), training=True)
    raises(RuntimeError, r"layer_norm: Given normalized_shape=\[5\], expected input with shape "
           r"\[\*, 5\], but got input of size\[2, 3, 4\]", EF.layer_norm, ember.randn(2, 3, 4), [5])
    raises(RuntimeError, "Expected weight to be of same shape as normalized_shape",
           EF.layer_norm, ember.randn(2, 4), [4], ember.ones(5))
    raises(TypeError, "must be tuple of ints, not int", EF.layer_norm, ember.randn(2, 4), 4)
    raises(RuntimeError, "layer_norm: expected a floating point input",
           EF.layer_norm, ember.ones(2, 4, dtype=ember.int64), [4])
    raises(RuntimeError, "group_norm: Expected number of channels in input to be divisible by "
           r"num_groups, but got input of shape \[2, 6, 4\] and num_groups=4",
           EF.group_norm, ember.randn(2, 6, 4), 4)
    raises(ValueError, r"num_channels \(6\) must be divisible by num_groups \(4\)",
           ember.nn.GroupNorm, 4, 6)
    raises(ValueError, "Expected more than 1 spatial element when training",
           EF.instance_norm, ember.randn(2, 3, 1))
    raises(ValueError, "local_response_norm: Expected 3D or higher dimensionality",
           EF.local_response_norm, ember.randn(2, 3), 2)
    # nothing changes when the op raises
    rm = ember.zeros(3)
    with pytest.raises(RuntimeError):
        EF.batch_norm(ember.randn(4, 3), rm, ember.ones(3), ember.ones(4), training=True)
    assert not rm.any()


def test_no_warnings_in_common_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.BatchNorm2d(3)(ember.randn(2, 3, 2, 2))
        ember.nn.LayerNorm(4)(ember.randn(2, 4))


# ---- GPU ------------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("name,args,shape", [("BatchNorm2d", (3,), (4, 3, 2, 2)),
                                             ("LayerNorm", ([5],), (4, 5)),
                                             ("GroupNorm", (2, 4), (3, 4, 5)),
                                             ("InstanceNorm1d", (3,), (2, 3, 4))])
def test_gpu_matches_cpu(name, args, shape):
    import copy
    cpu = getattr(ember.nn, name)(*args)
    gpu = copy.deepcopy(cpu).cuda()
    x = randn(*shape)
    outs = []
    for module, device in ((cpu, "cpu"), (gpu, "cuda")):
        xt = ember.tensor(x, device=device, requires_grad=True)
        y = module(xt)
        y.square().sum().backward()
        outs.append([y, xt.grad] + [p.grad for p in module.parameters()])
    for c, g in zip(*outs):
        np.testing.assert_allclose(c.detach().numpy(), g.detach().cpu().numpy(), rtol=1e-4,
                                   atol=1e-5)
