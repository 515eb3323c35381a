"""The step loop shared by optimizers whose update is elementwise per parameter, and the in-place
array kernels their updates are written with.

Updates run on raw arrays (NumPy or CuPy: ``xp``) with in-place ufuncs, in the order of
operations of PyTorch's single-tensor implementations, so that results agree with PyTorch to
rounding. (PyTorch's CPU kernels fuse ``a + s * b`` into one FMA; NumPy rounds the product
first, so float32 results can differ from PyTorch's in the last bit.) Scalar coefficients are
passed as Python floats, so that they are rounded to the parameter's dtype as PyTorch rounds a
Scalar."""
import numpy as np

from .._dtype import float64, get_default_dtype
from .._tensor import Tensor, _new_tensor
from ..autograd.grad_mode import no_grad
from ..backend import xp_of
from .optimizer import Optimizer, _call_closure


def hyper(x):
    """A hyperparameter for arithmetic: a number as given; a one-element tensor (e.g. a tensor
    ``lr``) as a NumPy scalar of its dtype, so that expressions with it round like PyTorch's
    0-d tensor arithmetic."""
    if isinstance(x, Tensor):
        data = x._data if type(x._data) is np.ndarray else x._data.get()
        return data.reshape(-1)[0]
    return x


def check_hyper(what, value, low=0.0, high=None, high_open=False):
    """PyTorch's ValueError for an out-of-range option: ``Invalid {what}: {value}``."""
    v = hyper(value)
    bad = not low <= v if high is None else not (low <= v < high if high_open else low <= v <= high)
    if bad:
        raise ValueError(f"Invalid {what}: {value}")


def check_lr(lr):
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    check_hyper("learning rate", lr)


def check_betas(betas):
    for i in (0, 1):
        check_hyper(f"beta parameter at index {i}", betas[i], 0.0, 1.0, high_open=True)


# how PyTorch's "Invalid ..." message names an option, and the options bounded above
_OPTION_LABELS = {"eps": "epsilon"}
_OPTION_HIGH = {"rho": 1.0}


def check_options(**options):
    """PyTorch's constructor checks, in the order given: ``lr`` (a number or a one-element
    tensor) and every other option ``>= 0``; ``betas`` each in [0, 1); ``rho`` at most 1."""
    for name, value in options.items():
        if name == "lr":
            check_lr(value)
        elif name == "betas":
            check_betas(value)
        else:
            check_hyper(f"{_OPTION_LABELS.get(name, name)} value", value,
                        high=_OPTION_HIGH.get(name))


def check_fused(fused, foreach):
    if fused and foreach:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def scalar_dtype(fused=False):
    """The dtype of ``state["step"]``: float32, or float64 when that is the default dtype."""
    if fused:
        return np.float32
    return np.float64 if get_default_dtype() is float64 else np.float32


def new_step(p, on_device=False, fused=False):
    """A 0-d ``step`` counter: on the CPU, or on the parameter's device for capturable / fused
    groups (as PyTorch does)."""
    xp = xp_of(p._data) if on_device else np
    return _new_tensor(xp.zeros((), dtype=scalar_dtype(fused)))


def count_step(state):
    """Increment ``state["step"]`` in place and return its new value as a float."""
    step = state["step"]._data
    step += 1
    return float(step)


def zeros_state(p):
    return _new_tensor(xp_of(p._data).zeros(p._data.shape, dtype=p._data.dtype))


def _same(a):
    return a


def at_least_1d(a):
    """A 0-d array as a one-element view (NumPy ufuncs return scalars for 0-d arrays, which
    cannot be updated in place)."""
    return a.reshape(1) if a.ndim == 0 else a


def as_real(a):
    """A real view of a complex array: shape ``(..., 2)`` (real, imaginary), any strides."""
    xp = xp_of(a)
    re = a.real
    return xp.lib.stride_tricks.as_strided(re, a.shape + (2,), a.strides + (re.itemsize,))


# the view an update works on, by (complex viewed as real, 0-d)
_views = {(False, False): _same, (False, True): at_least_1d, (True, False): as_real,
          (True, True): as_real}


def opmath(dtype):
    """The scalar type PyTorch does elementwise arithmetic in for ``dtype``."""
    return np.float64 if dtype == np.float64 else np.float32


# ---- in-place kernels (``a`` is updated; ``t1``, ``t2`` are read) ------------------------------
def axpy_(xp, a, alpha, x):
    """``a += alpha * x`` (``a.add_(x, alpha=alpha)``)."""
    if alpha == 1:
        a += x
    elif alpha == -1:
        a -= x
    else:
        t = xp.multiply(x, alpha)
        a += t


def lerp_(xp, a, end, weight):
    """``a.lerp_(end, weight)`` with a scalar weight: PyTorch's two-sided formula."""
    t = xp.subtract(end, a)
    w = opmath(a.dtype)(weight)
    if abs(w) < 0.5:
        t *= float(w)
        a += t
    else:
        t *= float(w - 1)
        xp.add(end, t, out=a)


def addcmul_(xp, a, value, t1, t2):
    """``a += value * t1 * t2``."""
    if value == 1:
        t = xp.multiply(t1, t2)
    else:
        t = xp.multiply(t1, value)
        t *= t2
    a += t


def addcdiv_(xp, a, value, t1, t2):
    """``a += value * t1 / t2``."""
    if value == 1:
        t = xp.divide(t1, t2)
    else:
        t = xp.multiply(t1, value)
        t /= t2
    a += t


def effective_grad(xp, p, g, maximize, weight_decay):
    """The gradient an update uses: negated to maximize, plus ``weight_decay * p`` (L2)."""
    if weight_decay != 0:
        t = xp.multiply(p, float(weight_decay))
        if maximize:
            t -= g
        else:
            t += g
        return t
    return xp.negative(g) if maximize else g


def decayed_grad(xp, p, g, maximize, weight_decay, decoupled, lr):
    """``effective_grad``, or with ``decoupled`` weight decay (AdamW's) ``p *= 1 - lr *
    weight_decay`` first and the gradient left undecayed."""
    if not decoupled:
        return effective_grad(xp, p, g, maximize, weight_decay)
    if weight_decay != 0:
        p *= float(1 - lr * weight_decay)
    return effective_grad(xp, p, g, maximize, 0)


class ElementwiseOptimizer(Optimizer):
    """An optimizer whose update of each parameter depends only on that parameter, its
    gradient and its state. Subclasses define:

    - ``_hyper(group)``: the group's options in the form ``_update`` wants (once per step);
    - ``_init_state(group, p, state)``: fill a parameter's empty state;
    - ``_update(h, xp, p, g, state, real)``: update the arrays ``p`` (in place) and the state
      tensors' arrays from gradient ``g``; ``real(array)`` gives the view of a state array the
      update works on (a real view for complex parameters when ``_complex_as_real``; a 1-d
      view for 0-d parameters)."""

    _complex_as_real = True

    def step(self, closure=None):
        """Perform one optimization step; ``closure`` (optional) re-evaluates the model and
        returns the loss."""
        loss = _call_closure(closure)
        with no_grad():
            for group in self.param_groups:
                h = None
                for p in group["params"]:
                    grad = p._grad
                    if grad is None:
                        continue
                    if h is None:
                        h = self._hyper(group)
                    state = self.state[p]
                    if not state:
                        if group.get("fused"):
                            check_fused_param(p)
                        self._init_state(group, p, state)
                    pa = p._data
                    real = _views[(self._complex_as_real and pa.dtype.kind == "c",
                                   pa.ndim == 0)]
                    pa = real(pa)
                    self._update(h, xp_of(pa), pa, real(grad._data), state, real)
                    p._bump()
        return loss


def check_fused_param(p):
    if not p.dtype.is_floating_point:
        raise RuntimeError(f"`fused=True` requires all the params to be floating point Tensors "
                           f"of supported devices: ['cpu', 'cuda'] but {p.dtype} and "
                           f"{p.device.type}")
