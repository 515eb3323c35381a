"""L-BFGS, with an optional strong-Wolfe line search.

The algorithm runs on one flat array holding all gradients (complex parameters as real pairs).
Scalars that PyTorch keeps as 0-d tensors (dot products, the step ``t``, ``H_diag``, ``ro``) are
NumPy scalars of the parameters' dtype here, so that they round as PyTorch's do, and become
0-d tensors in ``state``."""
import numpy as np

from .._tensor import Tensor, _new_tensor
from ..autograd.grad_mode import no_grad
from ..backend import xp_of
from ._elementwise import as_real, axpy_, check_options, hyper
from .optimizer import Optimizer, _call_closure

__all__ = ["LBFGS"]

# state entries kept as arrays / scalars while a step runs, as tensors in between
_TENSOR_STATE = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "al")


class LBFGS(Optimizer):
    """L-BFGS (after minFunc). ``step(closure)`` runs up to ``max_iter`` iterations and
    evaluates ``closure`` (which re-computes the loss and gradients) at most ``max_eval`` times.
    One parameter group only; all parameters on one device."""

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        check_options(lr=lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # ---- the parameters as one flat vector ---------------------------------------------------
    @staticmethod
    def _real(a):
        return as_real(a) if a.dtype.kind == "c" else a

    def _gather_flat_grad(self):
        parts = []
        for p in self._params:
            if p._grad is None:
                real = self._real(p._data)
                parts.append(xp_of(real).zeros(real.size, dtype=real.dtype))
            else:
                parts.append(self._real(p._grad._data).reshape(-1))
        return xp_of(parts[0]).concatenate(parts)

    def _add_grad(self, step_size, update):
        """``params += step_size * update`` (``update`` flat)."""
        offset = 0
        for p in self._params:
            data = self._real(p._data)
            n = data.size
            axpy_(xp_of(data), data, float(step_size), update[offset:offset + n].reshape(
                data.shape))
            p._bump()
            offset += n

    def _clone_param(self):
        return [p._data.copy() for p in self._params]

    def _set_param(self, values):
        for p, v in zip(self._params, values):
            p._data[...] = v
            p._bump()

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(_call_closure(closure))
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # ---- the step ----------------------------------------------------------------------------
    def step(self, closure):
        """Run the optimization; ``closure`` re-evaluates the model (computing gradients) and
        returns the loss. Returns the loss of the first evaluation."""
        with no_grad():
            return self._run(closure)

    def _run(self, closure):
        group = self.param_groups[0]
        lr = hyper(group["lr"])
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        # LBFGS's state is global; it is kept as the first parameter's (so that loading a state
        # dict casts it like other optimizers' state).
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = _call_closure(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        xp = xp_of(flat_grad)
        scalar = _scalar_of(flat_grad.dtype)
        opt_cond = scalar(xp.abs(flat_grad).max()) <= tolerance_grad
        if opt_cond:
            return orig_loss

        cached = {k: _unwrap(state.get(k)) for k in _TENSOR_STATE}
        d, t, H_diag = cached["d"], cached["t"], cached["H_diag"]
        old_dirs, old_stps, ro = cached["old_dirs"], cached["old_stps"], cached["ro"]
        prev_flat_grad, al = cached["prev_flat_grad"], cached["al"]
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # descent direction
            if state["n_iter"] == 1:
                d = xp.negative(flat_grad)
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = xp.subtract(flat_grad, prev_flat_grad)
                s = xp.multiply(d, float(t))
                ys = scalar(xp.dot(y, s))
                if ys > 1e-10:
                    if len(old_dirs) == history_size:  # forget the oldest pair
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / scalar(xp.dot(y, y))
                if al is None:
                    al = [None] * history_size
                # two-loop recursion: d = -H g
                q = xp.negative(flat_grad)
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = scalar(xp.dot(old_stps[i], q)) * ro[i]
                    axpy_(xp, q, float(-al[i]), old_dirs[i])
                d = r = xp.multiply(q, float(H_diag))
                for i in range(len(old_dirs)):
                    be_i = scalar(xp.dot(old_dirs[i], r)) * ro[i]
                    axpy_(xp, r, float(al[i] - be_i), old_stps[i])

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # step length
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / scalar(xp.abs(flat_grad).sum())) * lr
            else:
                t = lr
            gtd = scalar(xp.dot(flat_grad, d))
            if gtd > -tolerance_change:  # not a descent direction any more
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, scalar,
                    max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = scalar(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                if n_iter != max_iter:  # the last iteration's re-evaluation would be unused
                    loss = float(_call_closure(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = scalar(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if scalar(xp.abs(xp.multiply(d, float(t))).max()) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        device_like = self._params[0]._data
        for key, value in (("d", d), ("t", t), ("old_dirs", old_dirs), ("old_stps", old_stps),
                           ("ro", ro), ("H_diag", H_diag), ("prev_flat_grad", prev_flat_grad)):
            state[key] = _wrap(value, device_like)
        if al is not None:
            state["al"] = _wrap(al, device_like)
        state["prev_loss"] = prev_loss
        return orig_loss


def _scalar_of(np_dtype):
    """Converts a reduction's result (NumPy scalar or 0-d CuPy array) to a host NumPy scalar of
    ``np_dtype``: the stand-in for PyTorch's 0-d tensors."""
    kind = np.dtype(np_dtype).type

    def scalar(x):
        return kind(x.item())
    return scalar


def _wrap(value, like):
    """State values as PyTorch keeps them: arrays and NumPy scalars become tensors (on the
    parameters' device), lists are wrapped elementwise, Python numbers stay."""
    if isinstance(value, list):
        return [_wrap(v, like) for v in value]
    if isinstance(value, np.generic):
        return _new_tensor(xp_of(like).asarray(value))
    if value is None or isinstance(value, (int, float)):
        return value
    return _new_tensor(value)


def _unwrap(value):
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    if isinstance(value, Tensor):
        data = value._data
        if data.ndim == 0:
            return np.dtype(data.dtype).type(data.item())
        return data
    return value


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to
    ``bounds`` (default: between x1 and x2); the middle of the bounds if the cubic has none."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, scalar, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Line search for a step ``t`` along ``d`` satisfying the strong Wolfe conditions: first
    bracket an acceptable step, then zoom into the bracket with cubic interpolation. Returns
    ``(f_new, g_new, t, evaluations)``."""
    xp = xp_of(d)
    d_norm = scalar(xp.abs(d).max())
    f_new, g_new = obj_func(x, t, d)
    evals = 1
    gtd_new = scalar(xp.dot(g_new, d))

    # bracketing phase
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate
        t_next = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                    bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = t, f_new, g_new, gtd_new
        t = t_next
        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = scalar(xp.dot(g_new, d))
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase
    insuf_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # bracket too small
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # Keep the trial point at least 10% of the bracket away from its ends when the
        # interpolation makes little progress.
        hi_t, lo_t = max(bracket), min(bracket)
        eps = 0.1 * (hi_t - lo_t)
        if min(hi_t - t, t - lo_t) < eps:
            if insuf_progress or t >= hi_t or t <= lo_t:
                t = hi_t - eps if abs(t - hi_t) < abs(t - lo_t) else lo_t + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        evals += 1
        gtd_new = scalar(xp.dot(g_new, d))
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low]:
            # not enough decrease: the new point becomes the high end
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new

    return bracket_f[low], bracket_g[low], bracket[low], evals
