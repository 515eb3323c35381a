"""Checking ember against PyTorch, the test oracle.

``check(fn, *args)`` runs ``fn`` twice: once with ``ember`` and once with ``torch`` as its
first argument, on the same inputs (NumPy arrays in ``args`` become tensors of each library;
everything else passes through). It compares the outputs (shape, dtype, values) and, for
floating inputs, the gradients of a random projection of the outputs with respect to every
input. ``gradcheck_fn(fn, *args)`` runs ember's float64 numerical gradcheck and
gradgradcheck.

    def test_addcmul():
        a, b, c = randn(3, 4), randn(4), randn(3, 1)
        check(lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5), a, b, c)
        gradcheck_fn(lambda lib, a, b, c: lib.addcmul(a, b, c, value=0.5), a, b, c)
"""
import numpy as np
import torch

import ember

RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float32, rng=None):
    rng = rng or RNG
    return rng.standard_normal(shape).astype(dtype)


def rand(*shape, low=0.0, high=1.0, dtype=np.float32, rng=None):
    rng = rng or RNG
    return (low + (high - low) * rng.random(shape)).astype(dtype)


def randint(low, high, shape, dtype=np.int64, rng=None):
    rng = rng or RNG
    return rng.integers(low, high, size=shape).astype(dtype)


def to_numpy(t):
    """A NumPy copy of an ember or torch tensor (bfloat16 through float32)."""
    if isinstance(t, torch.Tensor):
        t = t.detach().cpu()
        if t._is_zerotensor():  # torch's symbolic zero gradients (angle, copysign ...)
            t = torch.zeros(t.shape, dtype=t.dtype)
        t = t.resolve_conj().resolve_neg()  # torch's lazy conj() views
        if t.dtype == torch.bfloat16:
            return t.float().numpy()
        return t.numpy().copy()
    if isinstance(t, ember.Tensor):
        arr = t.detach().cpu().numpy()
        if t.dtype == ember.bfloat16:
            return arr.astype(np.float32)
        return arr.copy()
    return np.asarray(t)


def _is_float(arr):
    return isinstance(arr, np.ndarray) and arr.dtype.kind in "fc"


class _Inputs:
    """Converts NumPy arrays (at any depth of lists/tuples/dicts) into tensors of one library,
    remembering the ones that require grad."""

    def __init__(self, lib, requires_grad, device=None):
        self.lib, self.requires_grad, self.device = lib, requires_grad, device
        self.leaves = []

    def __call__(self, x):
        if isinstance(x, np.ndarray):
            grad = self.requires_grad and _is_float(x)
            if self.lib is torch:
                t = torch.from_numpy(x.copy())
            else:
                t = ember.tensor(x)
                if self.device:
                    t = t.to(self.device)
            if grad:
                t.requires_grad_(True)
                self.leaves.append(t)
            else:
                self.leaves.append(None)
            return t
        if isinstance(x, list):
            return [self(v) for v in x]
        if isinstance(x, tuple):
            return tuple(self(v) for v in x)
        if isinstance(x, dict):
            return {k: self(v) for k, v in x.items()}
        return x


def _flatten(out):
    if isinstance(out, (torch.Tensor, ember.Tensor)):
        return [out]
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _flatten(o)]
    if hasattr(out, "_fields") or (hasattr(out, "values") and hasattr(out, "indices")):
        return _flatten(tuple(out))
    return [out]


def _tolerance(dtype_name, atol, rtol):
    default = {"float16": (1e-3, 1e-2), "bfloat16": (1e-2, 2e-2), "float32": (1e-5, 1.3e-5),
               "complex64": (1e-5, 1.3e-5)}.get(dtype_name, (1e-7, 1e-7))
    return (default[0] if atol is None else atol), (default[1] if rtol is None else rtol)


def assert_same(e, t, atol=None, rtol=None, check_dtype=True, what="output"):
    """An ember result equals a torch result: same type, shape, dtype and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), f"{what}: expected a Tensor, got {type(e).__name__}"
        assert tuple(e.shape) == tuple(t.shape), \
            f"{what}: shape {tuple(e.shape)} != torch {tuple(t.shape)}"
        tname = str(t.dtype).replace("torch.", "")
        if check_dtype:
            assert e.dtype.name == tname, f"{what}: dtype {e.dtype.name} != torch {tname}"
        a, b = to_numpy(e), to_numpy(t)
        if a.dtype.kind in "biu" and b.dtype.kind in "biu":
            np.testing.assert_array_equal(a, b, err_msg=what)
        else:
            at, rt = _tolerance(tname, atol, rtol)
            np.testing.assert_allclose(a, b, atol=at, rtol=rt, equal_nan=True, err_msg=what)
    elif isinstance(t, (bool, int, float, complex)) and not isinstance(e, ember.Tensor):
        if isinstance(t, float) and np.isnan(t):
            assert np.isnan(e), f"{what}: {e} != nan"
        else:
            assert e == t or abs(e - t) <= 1e-6 * max(1.0, abs(t)), f"{what}: {e} != torch {t}"
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t), f"{what}: {len(e)} items != torch {len(t)}"
        for i, (ei, ti) in enumerate(zip(e, t)):
            assert_same(ei, ti, atol, rtol, check_dtype, f"{what}[{i}]")
    elif isinstance(t, torch.Size):
        assert tuple(e) == tuple(t), f"{what}: {tuple(e)} != torch {tuple(t)}"
    else:
        assert e == t, f"{what}: {e!r} != torch {t!r}"


def check(fn, *args, grad=True, atol=None, rtol=None, grad_atol=None, grad_rtol=None,
          check_dtype=True, device=None, seed=0):
    """Compare ``fn(ember, *args)`` with ``fn(torch, *args)``: values, then gradients."""
    ein, tin = _Inputs(ember, grad, device), _Inputs(torch, grad)
    e_args, t_args = ein(args), tin(args)
    t_out = fn(torch, *t_args)
    e_out = fn(ember, *e_args)
    if isinstance(t_out, torch.Tensor) or isinstance(t_out, (list, tuple)):
        t_flat, e_flat = _flatten(t_out), _flatten(e_out)
        assert len(t_flat) == len(e_flat), f"{len(e_flat)} outputs != torch {len(t_flat)}"
        assert_same(e_flat, t_flat, atol, rtol, check_dtype)
    else:
        assert_same(e_out, t_out, atol, rtol, check_dtype)
        return
    if not grad:
        return
    pairs = [(e, t) for e, t in zip(e_flat, t_flat)
             if isinstance(t, torch.Tensor) and t.requires_grad]
    if not pairs:
        return
    for e, t in pairs:
        assert e.requires_grad, "ember output does not require grad but torch's does"
    rng = np.random.default_rng(seed)
    t_loss, e_loss = 0, 0
    for e, t in pairs:
        w = rng.standard_normal(tuple(t.shape))
        if t.is_complex():
            w = w + 1j * rng.standard_normal(tuple(t.shape))
        tw = torch.from_numpy(np.asarray(w)).to(t.dtype)
        ew = ember.tensor(np.asarray(w)).to(e.dtype)
        if device:
            ew = ew.to(device)
        t_loss = t_loss + (t * tw).real.sum() if t.is_complex() else t_loss + (t * tw).sum()
        e_loss = e_loss + (e * ew).real.sum() if e.is_complex() else e_loss + (e * ew).sum()
    t_leaves = [x for x in tin.leaves if x is not None]
    e_leaves = [x for x in ein.leaves if x is not None]
    t_grads = torch.autograd.grad(t_loss, t_leaves, allow_unused=True)
    e_grads = ember.autograd.grad(e_loss, e_leaves, allow_unused=True)
    for i, (eg, tg) in enumerate(zip(e_grads, t_grads)):
        if tg is None:
            assert eg is None or not to_numpy(eg).any(), f"grad of input {i}: torch has none"
            continue
        assert eg is not None, f"grad of input {i}: ember has none, torch has one"
        assert_same(eg, tg, grad_atol if grad_atol is not None else atol,
                    grad_rtol if grad_rtol is not None else rtol, check_dtype,
                    f"grad of input {i}")


def gradcheck_fn(fn, *args, gradgrad=True, atol=1e-5, rtol=1e-3, eps=1e-6):
    """ember's float64 gradcheck (and gradgradcheck) of ``fn(ember, *args)``; floating NumPy
    inputs are converted to float64 (complex128) tensors that require grad."""
    def convert(x):
        if isinstance(x, np.ndarray):
            if x.dtype.kind == "f":
                return ember.tensor(x.astype(np.float64), requires_grad=True)
            if x.dtype.kind == "c":
                return ember.tensor(x.astype(np.complex128), requires_grad=True)
            return ember.tensor(x)
        if isinstance(x, list):
            return [convert(v) for v in x]
        if isinstance(x, tuple):
            return tuple(convert(v) for v in x)
        return x
    inputs = [convert(a) for a in args]
    positions = [i for i, x in enumerate(inputs) if isinstance(x, ember.Tensor) and x.requires_grad]

    def f(*tensors):
        full = list(inputs)
        for p, t in zip(positions, tensors):
            full[p] = t
        out = fn(ember, *full)
        return tuple(_flatten(out)) if isinstance(out, (list, tuple)) else out

    diff = tuple(inputs[p] for p in positions)
    assert ember.autograd.gradcheck(f, diff, eps=eps, atol=atol, rtol=rtol)
    if gradgrad:
        assert ember.autograd.gradgradcheck(f, diff, eps=eps, atol=atol, rtol=rtol)


def raises(exc_type, match, fn, *args, **kwargs):
    """``fn(*args)`` raises ``exc_type`` with ``match`` (a regex) in its message; the message
    must not come from NumPy or CuPy internals."""
    import pytest
    with pytest.raises(exc_type, match=match) as info:
        fn(*args, **kwargs)
    return info.value
