"""RNN, LSTM, GRU, their cells and nn.utils.rnn against torch: outputs and gradients of inputs,
initial states and every parameter across layers / directions / batch_first / projections /
packed inputs, float64 gradcheck and gradgradcheck of the fused recurrence, parameter names and
initialization, reprs, and errors."""
import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as T_rnn

import ember
from ember.nn.utils import rnn as E_rnn
from ember.ops.rnn import Recurrence
from helpers import assert_same, check, gradcheck_fn, randn, raises
from nn_mirror import compare, copy_state, module_pair

# torch's multi-threaded kernels (oneDNN RNNs above all) crawl when the test machine's cores
# are busy; one thread keeps the oracle fast.
torch.set_num_threads(1)

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")

TOL = dict(rtol=1e-4, atol=1e-5)


def repr_of(module):
    return repr(module).replace("torch.", "ember.")


def states(name, layers, batch, hidden, proj=0):
    """Initial states (NumPy) of shape (layers, batch, hidden): a tuple for LSTM."""
    h = randn(layers, batch, proj or hidden)
    return (h, randn(layers, batch, hidden)) if name == "LSTM" else h


# ---- modules on padded input ---------------------------------------------------------------------

CONFIGS = [dict(), dict(num_layers=2), dict(bidirectional=True), dict(batch_first=True),
           dict(num_layers=2, bidirectional=True, batch_first=True), dict(bias=False)]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs", CONFIGS)
def test_modules(name, kwargs):
    e, t = module_pair(name, 3, 4, **kwargs)
    x = randn(2, 5, 3) if kwargs.get("batch_first") else randn(5, 2, 3)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    compare(e, t, x, **TOL)
    compare(e, t, x, states(name, layers, 2, 4), **TOL)
    e.eval()
    t.eval()
    compare(e, t, x, **TOL)


@pytest.mark.parametrize("kwargs", [dict(proj_size=2), dict(proj_size=2, num_layers=2,
                                                            bidirectional=True)])
def test_lstm_projections(kwargs):
    e, t = module_pair("LSTM", 3, 4, **kwargs)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    compare(e, t, randn(4, 2, 3), **TOL)
    compare(e, t, randn(4, 2, 3), states("LSTM", layers, 2, 4, proj=2), **TOL)
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]


def test_rnn_relu():
    e, t = module_pair("RNN", 3, 4, num_layers=2, nonlinearity="relu", bidirectional=True)
    compare(e, t, randn(5, 2, 3), randn(4, 2, 4), **TOL)
    e, t = module_pair("RNN", 3, 4, 1, "relu")  # nonlinearity as the 4th positional argument
    assert e.nonlinearity == t.nonlinearity == "relu"
    compare(e, t, randn(5, 2, 3), **TOL)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched(name, batch_first):
    e, t = module_pair(name, 3, 4, num_layers=2, batch_first=batch_first)
    compare(e, t, randn(5, 3), **TOL)
    compare(e, t, randn(5, 3), (randn(2, 4), randn(2, 4)) if name == "LSTM" else randn(2, 4),
            **TOL)


def test_dropout_between_layers():
    # p=1 drops everything between the layers, deterministically, in both libraries.
    e, t = module_pair("LSTM", 3, 4, num_layers=3, dropout=1.0)
    compare(e, t, randn(4, 2, 3), **TOL)
    # p=0.5 is random (ember draws its own numbers): only eval mode must match torch.
    e, t = module_pair("GRU", 3, 4, num_layers=2, dropout=0.5)
    copy_state(e, t)
    x = ember.tensor(randn(4, 2, 3))
    ember.manual_seed(0)
    a = e(x)[0]
    ember.manual_seed(0)
    b = e(x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    e.eval()
    t.eval()
    compare(e, t, randn(4, 2, 3), **TOL)
    assert not np.allclose(a.detach().numpy(), e(x)[0].detach().numpy())


def test_float64_float16_and_conversions():
    e, t = module_pair("LSTM", 3, 4, num_layers=2)
    e.double()
    t.double()
    assert all(w.dtype == ember.float64 for w in e._flat_weights)
    compare(e, t, randn(4, 2, 3).astype(np.float64))
    e, t = module_pair("GRU", 3, 4, num_layers=2)
    e.half()
    t.half()
    compare(e, t, randn(5, 2, 3).astype(np.float16), atol=5e-3, rtol=5e-3, grad_atol=1e-2)


# ---- packed sequences ---------------------------------------------------------------------------

def packed_model(lib, rnn, lengths, enforce_sorted, batch_first):
    """``rnn`` run on a packed batch of the given lengths; returns the packed output data, the
    re-padded output, the lengths and the final states."""
    utils = T_rnn if lib is torch else E_rnn

    class Packed(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn

        def forward(self, x, hx=None):
            packed = utils.pack_padded_sequence(x, lengths, batch_first=batch_first,
                                                enforce_sorted=enforce_sorted)
            out, hn = self.rnn(packed) if hx is None else self.rnn(packed, hx)
            padded, lens = utils.pad_packed_sequence(out, batch_first=batch_first)
            return (out.data, padded, lens) + (tuple(hn) if isinstance(hn, tuple) else (hn,))
    return Packed()


@pytest.mark.parametrize("name,kwargs", [("LSTM", dict(num_layers=2, bidirectional=True)),
                                         ("GRU", dict(bidirectional=True, batch_first=True)),
                                         ("RNN", dict(num_layers=2)),
                                         ("LSTM", dict(proj_size=2, bidirectional=True))])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
def test_packed(name, kwargs, enforce_sorted, with_state):
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    bf = kwargs.get("batch_first", False)
    e, t = (packed_model(lib, module, lengths, enforce_sorted, bf)
            for lib, module in zip((ember, torch), module_pair(name, 3, 4, **kwargs)))
    x = randn(4, 5, 3) if bf else randn(5, 4, 3)
    layers = kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)
    hx = states(name, layers, 4, 4, kwargs.get("proj_size", 0)) if with_state else None
    compare(e, t, x, hx, **TOL)


# ---- cells ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,kwargs", [("RNNCell", {}), ("RNNCell", dict(nonlinearity="relu")),
                                         ("LSTMCell", {}), ("GRUCell", {}),
                                         ("GRUCell", dict(bias=False))])
def test_cells(name, kwargs):
    e, t = module_pair(name, 3, 4, **kwargs)
    lstm = name == "LSTMCell"
    compare(e, t, randn(2, 3), **TOL)
    compare(e, t, randn(2, 3), (randn(2, 4), randn(2, 4)) if lstm else randn(2, 4), **TOL)
    compare(e, t, randn(3), (randn(4), randn(4)) if lstm else randn(4), **TOL)
    compare(e, t, randn(3), **TOL)
    assert repr_of(t) == repr(e)


def test_cell_loop_matches_layer():
    """An LSTMCell unrolled by hand computes what the LSTM layer computes."""
    layer = ember.nn.LSTM(3, 4)
    cell = ember.nn.LSTMCell(3, 4)
    cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
    x = ember.randn(5, 2, 3)
    h = c = ember.zeros(2, 4)
    for step in x:
        h, c = cell(step, (h, c))
    out, (hn, cn) = layer(x)
    np.testing.assert_allclose(h.detach().numpy(), hn[0].detach().numpy(), **TOL)
    np.testing.assert_allclose(c.detach().numpy(), cn[0].detach().numpy(), **TOL)


# ---- the fused recurrence: float64 gradcheck / gradgradcheck ------------------------------------------

@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN_TANH", "RNN_RELU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_recurrence(mode, reverse):
    gates = {"LSTM": 4, "GRU": 3}.get(mode, 1)
    hidden, sizes = 2, (3, 2, 2, 1)
    n, batch = sum(sizes), sizes[0]
    c0 = randn(batch, hidden) if mode == "LSTM" else None

    def fn(lib, xproj, h0, c0, w_hh, b_hh):
        return Recurrence.apply(xproj, h0, c0, w_hh, b_hh, None, mode, sizes, reverse)
    args = (randn(n, gates * hidden), randn(batch, hidden), c0, randn(gates * hidden, hidden),
            randn(gates * hidden))
    if mode == "RNN_RELU":  # keep the pre-activations away from relu's kink
        args = (np.abs(args[0]) + 0.5, np.abs(args[1]), None, np.abs(args[3]) * 0.1,
                np.abs(args[4]))
    gradcheck_fn(fn, *args)


def test_gradcheck_lstm_projection():
    sizes = (2, 2, 1)

    def fn(lib, xproj, h0, c0, w_hh, w_hr):
        return Recurrence.apply(xproj, h0, c0, w_hh, None, w_hr, "LSTM", sizes, True)
    gradcheck_fn(fn, randn(5, 12), randn(2, 2), randn(2, 3), randn(12, 2), randn(2, 3))


def test_double_backward_module():
    """Gradient of a gradient through a whole LSTM equals torch's."""
    e, t = module_pair("LSTM", 2, 3, num_layers=2, bidirectional=True)
    e.double()
    t.double()
    copy_state(e, t)
    x = randn(3, 2, 2).astype(np.float64)

    def second(lib, module):
        xt = lib.tensor(x, requires_grad=True)
        out = module(xt)[0]
        g, = lib.autograd.grad(out.square().sum(), xt, create_graph=True)
        return lib.autograd.grad(g.square().sum(), [xt, module.weight_hh_l0_reverse])
    assert_same(list(second(ember, e)), list(second(torch, t)), atol=1e-8, rtol=1e-6)


# ---- parameters, initialization, repr, flat weights -------------------------------------------------

@pytest.mark.parametrize("name,args,kwargs", [
    ("LSTM", (3, 4), dict(num_layers=2, bidirectional=True, proj_size=2)),
    ("GRU", (3, 4), dict(bias=False, batch_first=True)),
    ("RNN", (3, 4, 2), dict(dropout=0.5)),
    ("LSTMCell", (3, 4), {}), ("GRUCell", (3, 4), dict(bias=False)),
    ("RNNCell", (3, 4), dict(nonlinearity="relu"))])
def test_parameters_and_repr(name, args, kwargs):
    e, t = module_pair(name, *args, **kwargs)
    assert repr_of(t) == repr(e)
    t_params = list(t.named_parameters())
    e_params = list(e.named_parameters())
    assert [(n, tuple(p.shape)) for n, p in e_params] == [(n, tuple(p.shape)) for n, p in t_params]
    bound = 1 / np.sqrt(4)  # U(-1/sqrt(hidden), 1/sqrt(hidden)), std bound / sqrt(3)
    values = np.concatenate([p.detach().numpy().ravel() for _, p in e_params])
    assert np.abs(values).max() <= bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.2 * bound
    if hasattr(t, "_flat_weights_names"):
        assert e._flat_weights_names == t._flat_weights_names
        assert e._all_weights == t._all_weights
        assert [[tuple(w.shape) for w in ws] for ws in e.all_weights] == \
               [[tuple(w.shape) for w in ws] for ws in t.all_weights]


def test_flat_weights_follow_parameters():
    e = ember.nn.LSTM(3, 4)
    assert e._flat_weights[1] is e.weight_hh_l0
    e.flatten_parameters()
    new = ember.nn.Parameter(ember.zeros(16, 4))
    e.weight_hh_l0 = new
    assert e._flat_weights[1] is new
    e.double()
    assert e._flat_weights[1].dtype == ember.float64
    out, _ = e(ember.randn(2, 1, 3, dtype=ember.float64))
    assert out.dtype == ember.float64


# ---- errors ---------------------------------------------------------------------------------------

def test_errors():
    lstm = ember.nn.LSTM(4, 3, 2)
    raises(RuntimeError, "input.size\\(-1\\) must be equal to input_size. Expected 4, got 3",
           lstm, ember.randn(5, 2, 3))
    raises(RuntimeError, r"Expected hidden\[0\] size \(2, 2, 3\), got \[1, 2, 3\]",
           lstm, ember.randn(5, 2, 4), (ember.randn(1, 2, 3), ember.randn(2, 2, 3)))
    raises(RuntimeError, r"Expected hidden\[1\] size \(2, 2, 3\), got \[2, 3, 3\]",
           lstm, ember.randn(5, 2, 4), (ember.randn(2, 2, 3), ember.randn(2, 3, 3)))
    raises(ValueError, "LSTM: Expected input to be 2D or 3D, got 4D instead",
           lstm, ember.randn(5, 4, 2, 4))
    raises(RuntimeError, "Expected sequence length to be larger than 0", lstm,
           ember.randn(0, 2, 4))
    raises(ValueError, r"RNN input dtype \(ember.float64\) does not match weight dtype",
           lstm, ember.randn(5, 2, 4, dtype=ember.float64))
    gru = ember.nn.GRU(4, 3)
    raises(RuntimeError, r"Expected hidden size \(1, 2, 3\), got \[1, 3, 3\]",
           gru, ember.randn(5, 2, 4), ember.randn(1, 3, 3))
    raises(RuntimeError, "For batched 3-D input, hx should also be 3-D but got 2-D",
           gru, ember.randn(5, 2, 4), ember.randn(2, 3))
    raises(ValueError, "Unknown nonlinearity 'x'", ember.nn.RNN, 4, 3, nonlinearity="x")
    raises(ValueError, "proj_size has to be smaller than hidden_size", ember.nn.LSTM, 4, 3,
           proj_size=3)
    raises(ValueError, "proj_size argument is only supported for LSTM", ember.nn.GRU, 4, 3,
           proj_size=2)
    raises(ValueError, "dropout should be a number in range", ember.nn.LSTM, 4, 3, dropout=1.5)
    raises(ValueError, "hidden_size must be greater than zero", ember.nn.LSTM, 4, 0)
    raises(TypeError, "input_size should be of type int", ember.nn.LSTM, 4.0, 3)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        ember.nn.LSTM(4, 3, dropout=0.5)
    cell = ember.nn.LSTMCell(4, 3)
    raises(RuntimeError, "LSTMCell: input has inconsistent input_size: got 5 expected 4",
           cell, ember.randn(2, 5))
    raises(RuntimeError, "hidden0 has inconsistent hidden_size: got 4, expected 3",
           cell, ember.randn(2, 4), (ember.randn(2, 4), ember.randn(2, 3)))
    raises(RuntimeError, "Input batch size 2 doesn't match hidden0 batch size 3",
           cell, ember.randn(2, 4), (ember.randn(3, 3), ember.randn(3, 3)))
    raises(ValueError, "LSTMCell: Expected input to be 1D or 2D, got 3D instead",
           cell, ember.randn(2, 3, 4))
    raises(RuntimeError, "Unknown nonlinearity: sigmoid",
           ember.nn.RNNCell(4, 3, nonlinearity="sigmoid"), ember.randn(2, 4))


# ---- nn.utils.rnn -------------------------------------------------------------------------------------

def U(lib):
    return T_rnn if lib is torch else E_rnn


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([4, 3, 1], True), ([2, 4, 3], False),
                                                    ([4, 4, 4], True)])
def test_pack_and_pad(batch_first, lengths, enforce_sorted):
    x = randn(3, 4, 2) if batch_first else randn(4, 3, 2)

    def fn(lib, x):
        p = U(lib).pack_padded_sequence(x, lengths, batch_first=batch_first,
                                        enforce_sorted=enforce_sorted)
        padded, lens = U(lib).pad_packed_sequence(p, batch_first=batch_first, padding_value=-2.0,
                                                  total_length=6)
        return p.data, p.batch_sizes, p.sorted_indices, p.unsorted_indices, padded, lens
    outs = fn(torch, torch.tensor(x))
    check(lambda lib, x: [o for o in fn(lib, x) if o is not None], x)
    assert (outs[2] is None) == enforce_sorted


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    seqs = [randn(2, 3), randn(4, 3), randn(1, 3)]
    check(lambda lib, s: U(lib).pad_sequence(s, batch_first, 1.5, side), seqs)
    check(lambda lib, s: U(lib).pad_sequence(s, batch_first), [randn(3), randn(1)])


def test_pack_sequence_and_unpack():
    seqs = [randn(2, 3), randn(4, 3), randn(1, 3)]
    check(lambda lib, s: U(lib).pack_sequence(s, enforce_sorted=False).data, seqs)
    check(lambda lib, s: U(lib).unpack_sequence(U(lib).pack_sequence(s, enforce_sorted=False)),
          seqs)
    # (torch transposes a batch_first=False input in place: give it a non-leaf)
    check(lambda lib, x: U(lib).unpad_sequence(x * 1, lib.tensor([3, 1])), randn(3, 2, 4))
    check(lambda lib, x: U(lib).unpad_sequence(x, lib.tensor([3, 1]), batch_first=True),
          randn(2, 3, 4))
    perm = ember.tensor([2, 0, 1])
    assert E_rnn.invert_permutation(perm).tolist() == [1, 2, 0]
    assert E_rnn.invert_permutation(None) is None


def test_packed_sequence_object():
    p = E_rnn.pack_sequence([ember.randn(3, 2), ember.randn(2, 2)])
    assert isinstance(p, tuple) and p._fields == ("data", "batch_sizes", "sorted_indices",
                                                 "unsorted_indices")
    assert p.batch_sizes.dtype == ember.int64 and p.batch_sizes.tolist() == [2, 2, 1]
    d = p.to(ember.float64)
    assert d.data.dtype == ember.float64 and d.batch_sizes is p.batch_sizes
    assert p.to(ember.float32) is p
    assert p.double().float().data.dtype == ember.float32 and not p.is_cuda
    q = E_rnn.PackedSequence(p.data, p.batch_sizes, ember.tensor([1, 0]))
    assert q.unsorted_indices.tolist() == [1, 0]
    raises(AssertionError, "Expected data to be a list or tuple of length 2",
           E_rnn.PackedSequence, ember.randn(3, 2))


def test_utils_errors():
    x = ember.randn(4, 3, 2)
    raises(RuntimeError, "`lengths` array must be sorted in decreasing order",
           E_rnn.pack_padded_sequence, x, [4, 2, 3])
    raises(RuntimeError, r"Expected `len\(lengths\)` to be equal to batch_size, but got 2 "
           r"\(batch_size=3\)", E_rnn.pack_padded_sequence, x, [4, 2])
    raises(RuntimeError, "Length of all samples has to be greater than 0",
           E_rnn.pack_padded_sequence, x, [4, 0, 0])
    raises(RuntimeError, "a length of 5 is larger than the 4 time steps",
           E_rnn.pack_padded_sequence, x, [5, 2, 1])
    raises(RuntimeError, "'lengths' argument should be a 1D CPU int64 tensor",
           E_rnn.pack_padded_sequence, x, ember.tensor([[4, 2, 1]]))
    p = E_rnn.pack_padded_sequence(x, [4, 2, 1])
    raises(ValueError, "Expected total_length to be at least the length of the longest",
           E_rnn.pad_packed_sequence, p, total_length=3)
    raises(RuntimeError, "received an empty list of sequences", E_rnn.pad_sequence, [])
    raises(RuntimeError, "Expected padding_side to be one of left or right, but got middle",
           E_rnn.pad_sequence, [ember.randn(2)], padding_side="middle")


# ---- GPU ------------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_gpu_matches_cpu(name):
    import copy
    cpu = getattr(ember.nn, name)(3, 4, num_layers=2, bidirectional=True)
    gpu = copy.deepcopy(cpu).cuda()
    x, lengths = randn(5, 3, 3), [5, 4, 2]
    outs = []
    for module, device in ((cpu, "cpu"), (gpu, "cuda")):
        xt = ember.tensor(x, device=device, requires_grad=True)
        out, hn = module(E_rnn.pack_padded_sequence(xt, lengths))
        hn = hn[0] if name == "LSTM" else hn
        (out.data.square().sum() + hn.sum()).backward()
        outs.append([out.data, hn, xt.grad] + [p.grad for p in module.parameters()])
    for c, g in zip(*outs):
        np.testing.assert_allclose(c.detach().numpy(), g.detach().cpu().numpy(), rtol=1e-4,
                                   atol=1e-5)
