"""Numerical gradient checks: ``gradcheck`` compares the gradients autograd computes with
float64 central differences; ``gradgradcheck`` does the same for gradients of gradients."""
import numpy as np

from .._tensor import Tensor, _new_tensor
from .engine import grad as autograd_grad


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _flat_outputs(out):
    return [o for o in _as_tuple(out) if isinstance(o, Tensor)]


def _differentiable_outputs(outs):
    return [o for o in outs if o._rg]


def _numerical_columns(func, inputs, x, eps):
    """For each real coordinate of ``x`` (real and imaginary parts for complex), the central
    difference of every output, flattened: a list of (coordinate label, [d out]) pairs."""
    data = x._data
    flat = data.reshape(-1)
    if flat.base is None and data.size:  # reshape copied: perturb through a view instead
        raise GradcheckError("gradcheck: inputs must be contiguous")
    columns = []
    parts = (1.0, 1j) if data.dtype.kind == "c" else (1.0,)
    for i in range(flat.size):
        for part in parts:
            orig = flat[i]
            flat[i] = orig + eps * part
            # Not under no_grad: func may itself differentiate (gradgradcheck's does).
            plus = [o._data.astype(np.complex128).reshape(-1).copy()
                    for o in _flat_outputs(func(*inputs))]
            flat[i] = orig - eps * part
            minus = [o._data.astype(np.complex128).reshape(-1).copy()
                     for o in _flat_outputs(func(*inputs))]
            flat[i] = orig
            columns.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    return columns


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False,
              check_forward_ad=False, check_backward_ad=True, fast_mode=False, masked=None):
    """True if autograd's gradients of ``func`` at ``inputs`` match central differences.

    For every output element o and every real coordinate c of every input that requires grad,
    the analytical d o / d c comes from a backward pass with a one-hot ``grad_outputs`` (and,
    for complex outputs, an imaginary one-hot), the numerical one from ``func`` evaluated at
    c ± eps."""
    inputs = _as_tuple(inputs)
    diff_inputs = [x for x in inputs if isinstance(x, Tensor) and x._rg]
    if not diff_inputs:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for x in diff_inputs:
        if x._data.dtype not in (np.float64, np.complex128):
            import warnings
            warnings.warn(f"gradcheck: input of dtype {x.dtype} is not double precision; the "
                          f"check may fail for numerical reasons", UserWarning, stacklevel=2)
    flat = _flat_outputs(func(*inputs))
    positions = [k for k, o in enumerate(flat) if o._rg]
    if not positions:
        return _fail(raise_exception, "gradcheck: no output of func requires grad")
    numerical = [_numerical_columns(func, inputs, x, eps) for x in diff_inputs]
    for oi, position in enumerate(positions):
        out = flat[position]
        directions = (1.0, 1j) if out._data.dtype.kind == "c" else (1.0,)
        for j in range(out.numel()):
            for v in directions:
                go = out._xp().zeros(out.numel(), out._data.dtype)
                go[j] = v
                grads = autograd_grad(out, diff_inputs, _new_tensor(go.reshape(out.shape)),
                                      retain_graph=True, allow_unused=True)
                for xi, (x, g) in enumerate(zip(diff_inputs, grads)):
                    analytical = np.zeros(x.numel(), np.complex128) if g is None else \
                        np.asarray(g.detach().cpu()._data, np.complex128).reshape(-1)
                    # Numerical d Re(conj(v) * out_j) / d coordinate, for every coordinate.
                    numeric = np.array([np.real(np.conj(v) * col[position][j])
                                        for col in numerical[xi]])
                    if x._data.dtype.kind == "c":
                        numeric = numeric[0::2] + 1j * numeric[1::2]
                    if not np.allclose(analytical, numeric, rtol=rtol, atol=atol):
                        bad = int(np.argmax(np.abs(analytical - numeric)))
                        return _fail(raise_exception, (
                            f"Jacobian mismatch for output {oi} with respect to input {xi},\n"
                            f"numerical:{numeric}\nanalytical:{analytical}\n"
                            f"(output element {j}, direction {v}; worst input element {bad}: "
                            f"numerical {numeric[bad]} vs analytical {analytical[bad]})"))
    return True


def _fail(raise_exception, message):
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False,
                  masked=False):
    """gradcheck of the function (inputs, grad_outputs) -> gradients of ``func``: checks the
    second derivatives that ``create_graph=True`` backward passes compute."""
    inputs = _as_tuple(inputs)
    outputs = _differentiable_outputs(_flat_outputs(func(*inputs)))
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in outputs:
            arr = rng.standard_normal(o.shape)
            if o._data.dtype.kind == "c":
                arr = arr + 1j * rng.standard_normal(o.shape)
            g = _new_tensor(o._xp().asarray(arr.astype(o._data.dtype)))
            g.requires_grad_(True)
            grad_outputs.append(g)
    grad_outputs = list(_as_tuple(grad_outputs))
    n_in = len(inputs)
    diff_positions = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._rg]

    def first_grads(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _differentiable_outputs(_flat_outputs(func(*ins)))
        diff = [ins[i] for i in diff_positions]
        grads = autograd_grad(outs, diff, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol,
                     rtol=rtol, raise_exception=raise_exception)
