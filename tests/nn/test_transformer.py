"""Transformer layers, stacks and the full model against torch: outputs and gradients of inputs
and every parameter with norm_first True/False, batch_first, activations, masks (attention,
key padding, causal hints) in train mode (dropout 0) and eval mode, PyTorch's nested-tensor
inference results, reprs and state dicts, and errors."""
import warnings

import numpy as np
import pytest
import torch

import ember
from helpers import assert_same, randn, raises
from nn_mirror import compare, copy_state

# torch's multi-threaded kernels (oneDNN RNNs above all) crawl when the test machine's cores
# are busy; one thread keeps the oracle fast.
torch.set_num_threads(1)

pytestmark = [pytest.mark.filterwarnings("ignore:Support for mismatched"),
              pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")]

TOL = dict(rtol=1e-4, atol=2e-5)
D, HEADS, FF = 8, 2, 16


def pair(name, *args, **kwargs):
    """The module in both libraries; an ``activation`` given as a name of nn.functional is
    resolved in each."""
    act = kwargs.pop("activation_fn", None)
    mods = []
    for lib in (ember, torch):
        kw = dict(kwargs)
        if act is not None:
            kw["activation"] = getattr(lib.nn.functional, act)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mods.append(getattr(lib.nn, name)(*args, **kw))
    return mods


def causal(n):
    return np.triu(np.full((n, n), -np.inf, np.float32), 1)


def seq(batch_first, n=5, batch=3):
    return randn(batch, n, D) if batch_first else randn(n, batch, D)


def padding(batch=3, n=5):
    m = np.zeros((batch, n), bool)
    m[1, -2:] = m[2, -1] = True
    return m


class Masked:
    """Calls a module with fixed keyword arguments (NumPy masks become tensors)."""

    def __init__(self, module, lib, **kwargs):
        self.module = module
        self.kwargs = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v
                       for k, v in kwargs.items()}

    def __call__(self, *args):
        return self.module(*args, **self.kwargs)

    def __getattr__(self, name):
        return getattr(self.module, name)


def compare_masked(e, t, args, **masks):
    copy_state(e, t)
    return compare(Masked(e, ember, **masks), Masked(t, torch, **masks), *args, copy=False, **TOL)


# ---- layers ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer(norm_first, batch_first, activation):
    e, t = pair("TransformerEncoderLayer", D, HEADS, FF, dropout=0.0, activation=activation,
                norm_first=norm_first, batch_first=batch_first)
    x = seq(batch_first)
    compare(e, t, x, **TOL)
    compare_masked(e, t, (x,), src_mask=causal(5), src_key_padding_mask=padding())
    compare_masked(e, t, (x,), src_mask=causal(5), is_causal=True)
    e.eval()
    t.eval()
    compare_masked(e, t, (x,), src_key_padding_mask=padding())


@pytest.mark.parametrize("kwargs", [dict(bias=False), dict(layer_norm_eps=1e-3),
                                    dict(activation_fn="silu")])
def test_encoder_layer_options(kwargs):
    e, t = pair("TransformerEncoderLayer", D, HEADS, FF, dropout=0.0, **kwargs)
    compare(e, t, seq(False), **TOL)
    assert e.activation_relu_or_gelu == t.activation_relu_or_gelu
    assert repr(e) == repr(t).replace("torch.", "ember.")


def test_encoder_layer_activation_module_and_unbatched():
    e = ember.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation=ember.nn.GELU())
    t = torch.nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation=torch.nn.GELU())
    assert e.activation_relu_or_gelu == t.activation_relu_or_gelu == 2
    assert repr(e) == repr(t).replace("torch.", "ember.")
    compare(e, t, randn(5, D), **TOL)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_decoder_layer(norm_first, batch_first):
    e, t = pair("TransformerDecoderLayer", D, HEADS, FF, dropout=0.0, norm_first=norm_first,
                batch_first=batch_first, activation="gelu")
    tgt, mem = seq(batch_first, 5), seq(batch_first, 4)
    compare(e, t, tgt, mem, **TOL)
    mem_pad = np.zeros((3, 4), bool)
    mem_pad[0, -1] = True
    compare_masked(e, t, (tgt, mem), tgt_mask=causal(5), tgt_is_causal=True,
                   tgt_key_padding_mask=padding(), memory_key_padding_mask=mem_pad,
                   memory_mask=np.zeros((5, 4), np.float32))
    e.eval()
    t.eval()
    compare(e, t, tgt, mem, **TOL)


# ---- stacks and the full model -------------------------------------------------------------------

@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack(norm_first):
    layer_e, layer_t = pair("TransformerEncoderLayer", D, HEADS, FF, dropout=0.0,
                            norm_first=norm_first)
    e = ember.nn.TransformerEncoder(layer_e, 2, ember.nn.LayerNorm(D))
    t = torch.nn.TransformerEncoder(layer_t, 2, torch.nn.LayerNorm(D))
    assert list(e.state_dict()) == list(t.state_dict())
    x = seq(False)
    compare(e, t, x, **TOL)
    compare_masked(e, t, (x,), mask=causal(5), src_key_padding_mask=padding())
    compare_masked(e, t, (x,), mask=causal(5))  # causality detected from the mask


def test_encoder_nested_tensor_inference():
    """In inference with a left-aligned padding mask PyTorch runs on nested tensors and leaves
    zeros at the padded positions (before the final norm): ember gives the same numbers."""
    layer_e, layer_t = pair("TransformerEncoderLayer", D, HEADS, FF, dropout=0.0,
                            batch_first=True)
    e = ember.nn.TransformerEncoder(layer_e, 2)
    t = torch.nn.TransformerEncoder(layer_t, 2)
    assert e.use_nested_tensor and t.use_nested_tensor
    copy_state(e, t)
    e.eval()
    t.eval()
    x = seq(True)
    for pad, zeroed in ((padding(), True), (padding()[:, ::-1].copy(), False)):
        with torch.no_grad(), ember.no_grad():  # (the second mask is not left aligned)
            out_t = t(torch.tensor(x), src_key_padding_mask=torch.tensor(pad))
            out_e = e(ember.tensor(x), src_key_padding_mask=ember.tensor(pad))
        assert_same(out_e, out_t, **TOL)
        assert (not out_e.numpy()[pad].any()) == zeroed


def test_nested_tensor_warning():
    for lib in (ember, torch):
        layer = lib.nn.TransformerEncoderLayer(D, HEADS, FF, norm_first=True)
        with pytest.warns(UserWarning, match="enable_nested_tensor is True, but "
                          "self.use_nested_tensor is False because encoder_layer.norm_first "
                          "was True"):
            stack = lib.nn.TransformerEncoder(layer, 2)
        assert not stack.use_nested_tensor


def test_decoder_stack():
    layer_e, layer_t = pair("TransformerDecoderLayer", D, HEADS, FF, dropout=0.0)
    e = ember.nn.TransformerDecoder(layer_e, 2, ember.nn.LayerNorm(D))
    t = torch.nn.TransformerDecoder(layer_t, 2, torch.nn.LayerNorm(D))
    tgt, mem = seq(False, 5), seq(False, 4)
    compare(e, t, tgt, mem, **TOL)
    compare_masked(e, t, (tgt, mem), tgt_mask=causal(5), memory_key_padding_mask=padding(3, 4))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(batch_first, norm_first):
    e, t = pair("Transformer", D, HEADS, 2, 2, FF, dropout=0.0, batch_first=batch_first,
                norm_first=norm_first)
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert list(e.state_dict()) == list(t.state_dict())
    src, tgt = seq(batch_first, 5), seq(batch_first, 4)
    compare_masked(e, t, (src, tgt), tgt_mask=causal(4), src_key_padding_mask=padding(),
                   memory_key_padding_mask=padding(), tgt_is_causal=True)
    e.eval()
    t.eval()
    compare(e, t, src, tgt, **TOL)


def test_generate_square_subsequent_mask():
    assert_same(ember.nn.Transformer.generate_square_subsequent_mask(4),
                torch.nn.Transformer.generate_square_subsequent_mask(4))
    assert_same(ember.nn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64),
                torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64))


def test_default_init():
    model = ember.nn.Transformer(D, HEADS, 1, 1, FF)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= np.sqrt(6 / (D + FF)) and w.std() > 0.1  # xavier_uniform_
    layer = ember.nn.TransformerEncoderLayer(D, HEADS)
    assert layer.linear1.out_features == 2048 and layer.dropout.p == 0.1


def test_errors():
    model = ember.nn.Transformer(D, HEADS, 1, 1, FF)
    raises(RuntimeError, "the batch number of src and tgt must be equal", model,
           ember.randn(5, 3, D), ember.randn(4, 2, D))
    raises(RuntimeError, "the feature number of src and tgt must be equal to d_model", model,
           ember.randn(5, 3, D + 1), ember.randn(4, 3, D + 1))
    raises(RuntimeError, "activation should be relu/gelu, not tanh",
           ember.nn.TransformerEncoderLayer, D, HEADS, activation="tanh")


# ---- GPU ------------------------------------------------------------------------------------------

@pytest.mark.gpu
def test_gpu_matches_cpu():
    import copy
    cpu = ember.nn.Transformer(D, HEADS, 1, 1, FF, dropout=0.0, batch_first=True)
    gpu = copy.deepcopy(cpu).cuda()
    src, tgt = randn(2, 5, D), randn(2, 4, D)
    outs = []
    for module, device in ((cpu, "cpu"), (gpu, "cuda")):
        mask = ember.nn.Transformer.generate_square_subsequent_mask(4, device=device)
        pad = ember.tensor(padding(2, 5), device=device)
        y = module(ember.tensor(src, device=device), ember.tensor(tgt, device=device),
                   tgt_mask=mask, src_key_padding_mask=pad)
        y.square().sum().backward()
        outs.append([y] + [p.grad for p in module.parameters()])
    for c, g in zip(*outs):
        np.testing.assert_allclose(c.detach().numpy(), g.detach().cpu().numpy(), rtol=1e-4,
                                   atol=1e-5)
