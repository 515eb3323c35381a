"""scaled_dot_product_attention, multi_head_attention_forward and MultiheadAttention against
torch: values and gradients across masks (bool / float, broadcast, causal, key padding, fully
masked rows), head counts, grouped-query heads, projections, bias_kv / zero attention, batch_first
and unbatched inputs; float64 gradcheck / gradgradcheck of the fused attention; errors."""
import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import ember
import ember.nn.functional as EF
from helpers import assert_same, check, gradcheck_fn, randn, raises
from nn_mirror import compare, copy_state, module_pair

# torch's multi-threaded kernels (oneDNN RNNs above all) crawl when the test machine's cores
# are busy; one thread keeps the oracle fast.
torch.set_num_threads(1)

TOL = dict(rtol=1e-4, atol=1e-5)
RNG = np.random.default_rng(1)


def F(lib):
    return TF if lib is torch else EF


def sdpa(**kwargs):
    return lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v, **kwargs)


def bool_mask(*shape, fully_masked_row=False):
    m = RNG.random(shape) > 0.3
    if fully_masked_row:
        m[..., 1, :] = False
    return m


def float_mask(*shape):
    return np.where(bool_mask(*shape), 0.0, -np.inf).astype(np.float32) + randn(*shape) * 0.1


# ---- scaled_dot_product_attention ------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
                                    ((3, 4, 5), (3, 6, 5), (3, 6, 5)),
                                    ((4, 5), (6, 5), (6, 2)),
                                    ((2, 3, 4, 5), (1, 3, 6, 5), (1, 3, 6, 7))])
@pytest.mark.parametrize("kwargs", [{}, dict(is_causal=True), dict(scale=0.3)])
def test_sdpa(shapes, kwargs):
    check(sdpa(**kwargs), *(randn(*s) for s in shapes), **TOL)


@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (1, 6)])
def test_sdpa_masks(mask_shape):
    q, k, v = randn(2, 3, 4, 5), randn(2, 3, 6, 5), randn(2, 3, 6, 7)
    m = bool_mask(*mask_shape)
    check(lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v, lib.tensor(m)),
          q, k, v, **TOL)
    check(lambda lib, q, k, v, m: F(lib).scaled_dot_product_attention(q, k, v, m),
          q, k, v, float_mask(*mask_shape), **TOL)  # the float mask gets a gradient too


def test_sdpa_fully_masked_rows_are_zero():
    m = bool_mask(4, 6, fully_masked_row=True)
    check(lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v, lib.tensor(m)),
          randn(2, 4, 5), randn(2, 6, 5), randn(2, 6, 3), **TOL)
    fm = np.where(m, 0.0, -np.inf).astype(np.float32)
    check(lambda lib, q, k, v: F(lib).scaled_dot_product_attention(q, k, v, lib.tensor(fm)),
          randn(2, 4, 5), randn(2, 6, 5), randn(2, 6, 3), **TOL)


def test_sdpa_causal_rectangular_and_gqa():
    check(sdpa(is_causal=True), randn(1, 2, 3, 4), randn(1, 2, 5, 4), randn(1, 2, 5, 4), **TOL)
    check(sdpa(is_causal=True), randn(1, 2, 5, 4), randn(1, 2, 3, 4), randn(1, 2, 3, 4), **TOL)
    check(sdpa(enable_gqa=True), randn(2, 6, 4, 5), randn(2, 2, 3, 5), randn(2, 2, 3, 5), **TOL)
    check(sdpa(enable_gqa=True, is_causal=True), randn(2, 4, 4, 5), randn(2, 1, 4, 5),
          randn(2, 1, 4, 5), **TOL)


def test_sdpa_dtypes_and_empty():
    q, k, v = randn(2, 4, 5), randn(2, 6, 5), randn(2, 6, 3)
    check(sdpa(), q.astype(np.float64), k.astype(np.float64), v.astype(np.float64))
    check(sdpa(), q.astype(np.float16), k.astype(np.float16), v.astype(np.float16),
          atol=3e-3, rtol=3e-3, grad_atol=1e-2)
    check(sdpa(), randn(2, 0, 5), k, v)
    check(sdpa(), q, randn(2, 0, 5), randn(2, 0, 3))


def test_sdpa_dropout():
    ember.manual_seed(0)
    q, k = ember.randn(8, 16, 4), ember.randn(8, 16, 4)
    v = ember.ones(8, 16, 3)
    zero = EF.scaled_dot_product_attention(q, k, v, dropout_p=1.0)
    assert not zero.any()
    ember.manual_seed(3)
    a = EF.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    ember.manual_seed(3)
    b = EF.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # each output row is (kept weights) / (1 - p): about 1 on average, not always 1
    assert abs(a.mean().item() - 1) < 0.1 and a.std().item() > 0.1
    x = q.clone().requires_grad_()
    EF.scaled_dot_product_attention(x, k, v, dropout_p=0.3).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


def test_sdpa_gradcheck():
    q, k, v = randn(2, 3, 2), randn(2, 4, 2), randn(2, 4, 3)
    gradcheck_fn(sdpa(), q, k, v)
    gradcheck_fn(sdpa(is_causal=True, scale=0.7), q, k, v)
    gradcheck_fn(lambda lib, q, k, v, m: F(lib).scaled_dot_product_attention(q, k, v, m),
                 q, k, v, randn(3, 4))
    m = bool_mask(3, 4, fully_masked_row=True)
    gradcheck_fn(lambda lib, q, k, v: F(lib).scaled_dot_product_attention(
        q, k, v, lib.tensor(m)), q, k, v)


def test_sdpa_double_backward_matches_torch():
    q, k, v = (randn(2, 3, 4).astype(np.float64) for _ in range(3))
    m = bool_mask(3, 3, fully_masked_row=True)

    def second(lib):
        qt, kt, vt = (lib.tensor(a, requires_grad=True) for a in (q, k, v))
        out = F(lib).scaled_dot_product_attention(qt, kt, vt, lib.tensor(m))
        g = lib.autograd.grad(out.square().sum(), (qt, kt), create_graph=True)
        return lib.autograd.grad((g[0] * g[1]).sum(), (qt, kt, vt))
    assert_same(list(second(ember)), list(second(torch)), atol=1e-9, rtol=1e-6)


def test_sdpa_errors():
    q, k, v = ember.randn(2, 4, 5), ember.randn(2, 6, 5), ember.randn(2, 6, 3)
    raises(RuntimeError, "Explicit attn_mask should not be set when is_causal=True",
           EF.scaled_dot_product_attention, q, k, v, ember.ones(4, 6, dtype=ember.bool), 0.0,
           True)
    raises(RuntimeError, "scaled_dot_product_attention: Expected query, key, and value to have "
           "the same dtype", EF.scaled_dot_product_attention, q.double(), k, v)
    raises(RuntimeError, "Expected attn_mask dtype to be bool or float or to match query dtype",
           EF.scaled_dot_product_attention, q, k, v, ember.ones(4, 6, dtype=ember.int64))
    raises(RuntimeError, "same embedding size", EF.scaled_dot_product_attention, q,
           ember.randn(2, 6, 4), v)
    raises(RuntimeError, "same sequence length", EF.scaled_dot_product_attention, q, k,
           ember.randn(2, 5, 3))
    raises(RuntimeError, "at least 2 dimensional", EF.scaled_dot_product_attention,
           ember.randn(5), ember.randn(5), ember.randn(5))
    raises(RuntimeError, "Number of heads in key and value must divide the number of heads",
           EF.scaled_dot_product_attention, ember.randn(1, 3, 4, 5), ember.randn(1, 2, 4, 5),
           ember.randn(1, 2, 4, 5), enable_gqa=True)


# ---- MultiheadAttention ---------------------------------------------------------------------------

def mha_inputs(kind, batch_first, embed=8, kdim=8, vdim=8):
    """(query, key, value) as NumPy arrays; self-attention passes one array three times."""
    def seq(n, e):
        return randn(2, n, e) if batch_first else randn(n, 2, e)
    if kind == "self":
        x = seq(4, embed)
        return x, x, x
    if kind == "kv":
        kv = seq(5, kdim)
        return seq(4, embed), kv, kv
    return seq(4, embed), seq(5, kdim), seq(5, vdim)


@pytest.mark.parametrize("kind", ["self", "kv", "cross"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha(kind, batch_first, need_weights):
    e, t = module_pair("MultiheadAttention", 8, 2, batch_first=batch_first)
    q, k, v = mha_inputs(kind, batch_first)
    args = (q,) if kind == "self" else (q, k, v)

    class Wrap:  # NumPy arrays given once are passed three times (the self-attention path)
        def __init__(self, module):
            self.module = module

        def __call__(self, *xs):
            if len(xs) == 1:
                xs = xs * 3
            return self.module(*xs, need_weights=need_weights)
    copy_state(e, t)
    check(lambda lib, *xs: Wrap(e if lib is ember else t)(*xs), *args, **TOL)
    for p_e, (name, p_t) in zip(e.parameters(), t.named_parameters()):
        assert p_e.shape == p_t.shape, name


MASKS = ["attn_bool", "attn_float", "attn_3d", "kpm_bool", "kpm_float", "both", "causal"]


def make_masks(which, batch=2, heads=2, length=4):
    """Keyword arguments (NumPy masks, flags) for MultiheadAttention."""
    tgt = src = length
    kw = {}
    if which in ("attn_bool", "both", "causal"):
        kw["attn_mask"] = (np.triu(np.ones((tgt, src), bool), 1) if which == "causal"
                           else bool_mask(tgt, src))
    if which == "attn_float":
        kw["attn_mask"] = float_mask(tgt, src)
    if which == "attn_3d":
        kw["attn_mask"] = bool_mask(batch * heads, tgt, src)
    if which in ("kpm_bool", "both"):
        kp = np.zeros((batch, src), bool)
        kp[0, -1] = kp[1, -2:] = True
        kw["key_padding_mask"] = kp
    if which == "kpm_float":
        kw["key_padding_mask"] = randn(batch, src)
    if which == "causal":
        kw["is_causal"] = True
    return kw


@pytest.mark.parametrize("which", MASKS)
@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_masks(which, need_weights):
    e, t = module_pair("MultiheadAttention", 8, 2)
    copy_state(e, t)
    masks = make_masks(which)

    def fn(lib, x):
        kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in masks.items()}
        return (t if lib is torch else e)(x, x, x, need_weights=need_weights, **kw)
    check(fn, randn(4, 2, 8), **TOL)


@pytest.mark.parametrize("kwargs", [dict(kdim=3, vdim=5), dict(add_bias_kv=True),
                                    dict(add_zero_attn=True), dict(bias=False),
                                    dict(add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5)])
@pytest.mark.parametrize("average", [True, False])
def test_mha_options(kwargs, average):
    e, t = module_pair("MultiheadAttention", 8, 4, **kwargs)
    q, k, v = mha_inputs("cross", False, kdim=kwargs.get("kdim", 8), vdim=kwargs.get("vdim", 8))
    kp = np.zeros((2, 5), bool)
    kp[1, -1] = True
    compare(e, t, q, k, v, **TOL)  # default: need_weights=True, weights averaged

    def fn(lib, q, k, v):
        module = t if lib is torch else e
        return module(q, k, v, key_padding_mask=lib.tensor(kp), average_attn_weights=average)
    check(fn, q, k, v, **TOL)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]


def test_mha_unbatched_and_eval():
    e, t = module_pair("MultiheadAttention", 8, 2)
    x = randn(4, 8)
    compare(e, t, x, x, x, **TOL)
    e.eval()
    t.eval()
    x3 = randn(4, 2, 8)
    with torch.no_grad(), ember.no_grad():  # torch's inference fast path
        assert_same(list(e(ember.tensor(x3), ember.tensor(x3), ember.tensor(x3))),
                    list(t(torch.tensor(x3), torch.tensor(x3), torch.tensor(x3))), **TOL)


def test_mha_dropout_only_in_training():
    e = ember.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = ember.randn(4, 2, 8)
    e.eval()
    a = e(x, x, x)[0]
    b = e(x, x, x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    e.train()
    c = e(x, x, x, need_weights=False)[0]
    assert not np.allclose(a.detach().numpy(), c.detach().numpy())


def test_mha_init_and_repr():
    e, t = module_pair("MultiheadAttention", 16, 4, add_bias_kv=True, kdim=6)
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert type(e.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert e.in_proj_weight is None and e.q_proj_weight.shape == (16, 16)
    assert e.k_proj_weight.shape == (16, 6) and e.bias_k.shape == (1, 1, 16)
    bound = np.sqrt(6 / (16 + 16))  # xavier_uniform_
    assert np.abs(e.q_proj_weight.detach().numpy()).max() <= bound
    assert not e.in_proj_bias.any() and not e.out_proj.bias.any()
    e2 = ember.nn.MultiheadAttention(16, 4)
    assert e2.in_proj_weight.shape == (48, 16) and e2._qkv_same_embed_dim


def test_multi_head_attention_forward_functional():
    t = torch.nn.MultiheadAttention(8, 2)
    params = {k: v.detach().numpy() for k, v in t.named_parameters()}

    def fn(lib, q, k, v):
        p = {k: lib.tensor(v) for k, v in params.items()}
        return F(lib).multi_head_attention_forward(
            q, k, v, 8, 2, p["in_proj_weight"], p["in_proj_bias"], None, None, False, 0.0,
            p["out_proj.weight"], p["out_proj.bias"], average_attn_weights=False)
    check(fn, randn(4, 2, 8), randn(5, 2, 8), randn(5, 2, 8), **TOL)


def test_mha_errors():
    raises(AssertionError, "embed_dim must be divisible by num_heads",
           ember.nn.MultiheadAttention, 5, 2)
    raises(ValueError, "embed_dim and num_heads must be greater than 0",
           ember.nn.MultiheadAttention, 0, 2)
    m = ember.nn.MultiheadAttention(4, 2)
    x = ember.randn(3, 2, 4)
    raises(RuntimeError, r"The shape of the 2D attn_mask is ember.Size\(\[3, 4\]\), but should "
           r"be \(3, 3\)", m, x, x, x, attn_mask=ember.ones(3, 4, dtype=ember.bool))
    raises(AssertionError, r"Expected key_padded_mask.shape\[1\] to be 3, but got 4",
           m, x, x, x, key_padding_mask=ember.ones(2, 4, dtype=ember.bool))
    raises(RuntimeError, "Need attn_mask if specifying the is_causal hint", m, x, x, x,
           is_causal=True)
    raises(AssertionError, "expected `key` and `value` to be 2-D", m, x[0], x, x)
    raises(AssertionError, "only bool and floating types of attn_mask are supported",
           m, x, x, x, attn_mask=ember.ones(3, 3, dtype=ember.int32))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask"):
        m(x, x, x, attn_mask=ember.zeros(3, 3, dtype=ember.bool),
          key_padding_mask=ember.zeros(2, 3))


# ---- GPU ------------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("mask", [None, "bool", "float", "causal"])
def test_gpu_sdpa_matches_cpu(mask):
    q, k, v = randn(2, 3, 4, 5), randn(2, 3, 6, 5), randn(2, 3, 6, 7)
    m = bool_mask(4, 6, fully_masked_row=True)
    outs = []
    for device in ("cpu", "cuda"):
        qt, kt, vt = (ember.tensor(a, device=device, requires_grad=True) for a in (q, k, v))
        kw = {"bool": dict(attn_mask=ember.tensor(m, device=device)),
              "float": dict(attn_mask=ember.tensor(np.where(m, 0.0, -np.inf).astype(np.float32),
                                                   device=device)),
              "causal": dict(is_causal=True)}.get(mask, {})
        out = EF.scaled_dot_product_attention(qt, kt, vt, **kw)
        out.square().sum().backward()
        outs.append([out, qt.grad, kt.grad, vt.grad])
    for c, g in zip(*outs):
        np.testing.assert_allclose(c.detach().numpy(), g.detach().cpu().numpy(), rtol=1e-4,
                                   atol=1e-5)
    out = EF.scaled_dot_product_attention(*(ember.tensor(a, device="cuda") for a in (q, k, v)),
                                          dropout_p=0.5)
    assert out.is_cuda
