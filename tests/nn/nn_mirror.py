"""Running one layer in ember and in PyTorch with the same weights and comparing outputs and the
gradients of inputs and of every parameter.

    compare(ember.nn.Linear(3, 4), torch.nn.Linear(3, 4), randn(2, 3))

copies the torch module's state_dict into the ember module, feeds both the same inputs (NumPy
arrays become tensors; floating ones require grad unless wrapped in ``Const``), compares the
outputs, then backpropagates a
random projection of the outputs through both and compares the input and parameter
gradients."""
import numpy as np
import torch

import ember
from helpers import assert_same, to_numpy, _Inputs, _flatten


def copy_state(e_mod, t_mod):
    """Load the torch module's state (parameters and buffers) into the ember module."""
    state = {k: ember.tensor(to_numpy(v)) if isinstance(v, torch.Tensor) else v
             for k, v in t_mod.state_dict().items()}
    e_mod.load_state_dict(state)
    return e_mod


class Const:
    """An input array passed as a tensor that does not require grad (e.g. a target)."""

    def __init__(self, array):
        self.array = array


def _consts(lib, args):
    return tuple(lib.tensor(a.array) if isinstance(a, Const) else a for a in args)


def compare(e_mod, t_mod, *args, grad=True, atol=None, rtol=None, grad_atol=None,
            grad_rtol=None, copy=True, seed=0):
    if copy:
        copy_state(e_mod, t_mod)
    ein, tin = _Inputs(ember, grad), _Inputs(torch, grad)
    e_args, t_args = _consts(ember, ein(args)), _consts(torch, tin(args))
    t_out = t_mod(*t_args)
    e_out = e_mod(*e_args)
    t_flat, e_flat = _flatten(t_out), _flatten(e_out)
    assert_same(e_flat, t_flat, atol, rtol)
    if not grad:
        return e_out, t_out
    pairs = [(e, t) for e, t in zip(e_flat, t_flat)
             if isinstance(t, torch.Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed)
    t_loss = e_loss = 0
    for e, t in pairs:
        w = rng.standard_normal(tuple(t.shape))
        t_loss = t_loss + (t * torch.from_numpy(w).to(t.dtype)).sum()
        e_loss = e_loss + (e * ember.tensor(w).to(e.dtype)).sum()
    if not pairs:
        return e_out, t_out
    t_loss.backward()
    e_loss.backward()
    ga = grad_atol if grad_atol is not None else atol
    gr = grad_rtol if grad_rtol is not None else rtol
    for i, (e, t) in enumerate(zip(ein.leaves, tin.leaves)):
        if t is not None:
            assert_same(e.grad, t.grad, ga, gr, what=f"grad of input {i}")
    t_params = dict(t_mod.named_parameters())
    for name, p in e_mod.named_parameters():
        tp = t_params[name]
        if tp.grad is None:
            assert p.grad is None or not to_numpy(p.grad).any(), f"grad of {name}: torch has none"
        else:
            assert_same(p.grad, tp.grad, ga, gr, what=f"grad of {name}")
    return e_out, t_out


def module_pair(name, *args, **kwargs):
    """The ember and torch modules ``nn.<name>(*args, **kwargs)``."""
    return getattr(ember.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
