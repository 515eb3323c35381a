"""``Optimizer``: parameter groups, per-parameter state, state dicts and step hooks.

Optimizers update parameters in place on their arrays (``p._data``), outside autograd, and
bump each parameter's version counter so that autograd notices the change. ``state`` maps each
parameter to a dict of its state; ``state_dict()`` has PyTorch's layout (state keyed by the
parameter's position, groups listing positions), so checkpoints look alike and round-trip
through ``ember.save`` / ``ember.load``.

``foreach`` and ``fused`` are accepted and validated like PyTorch's but select nothing: there is
one implementation, PyTorch's single-tensor ("for-loop") algorithm, vectorized per parameter.
``differentiable=True`` (autograd through the update) is not supported."""
import functools
import itertools
import warnings
from collections import OrderedDict, defaultdict
from copy import deepcopy

import numpy as np

from .._tensor import Tensor, _new_tensor
from .._hooks import add_hook as _add_hook
from ..autograd.grad_mode import enable_grad
from ..backend import move

__all__ = ["Optimizer", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]

_global_pre_hooks = OrderedDict()
_global_post_hooks = OrderedDict()


class _RequiredParameter:
    """Marks an option that every parameter group must give (``ember.optim.optimizer.required``)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()




def register_optimizer_step_pre_hook(hook):
    """``hook(optimizer, args, kwargs)`` runs before every optimizer's ``step``; it may return
    ``(new_args, new_kwargs)``."""
    return _add_hook(_global_pre_hooks, hook)


def register_optimizer_step_post_hook(hook):
    """``hook(optimizer, args, kwargs)`` runs after every optimizer's ``step``."""
    return _add_hook(_global_post_hooks, hook)


def _with_step_hooks(step):
    """Wrap a ``step`` method so that the global and per-instance step hooks run around it
    (once, even when a subclass's ``step`` calls its parent's). As in PyTorch, hooks get
    ``args`` with the optimizer first, and a pre-hook may return ``(new_args, new_kwargs)``."""
    @functools.wraps(step)
    def hooked_step(*args, **kwargs):
        self = args[0]
        if self.__dict__.get("_in_step"):
            return step(*args, **kwargs)
        for hook in itertools.chain(list(_global_pre_hooks.values()),
                                    list(self._optimizer_step_pre_hooks.values())):
            result = hook(self, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(f"{step.__qualname__}: a step pre-hook must return None "
                                       f"or a tuple (new_args, new_kwargs), but got {result!r}")
                args, kwargs = result
        self._in_step = True
        try:
            out = step(*args, **kwargs)
        finally:
            self._in_step = False
        for hook in itertools.chain(list(self._optimizer_step_post_hooks.values()),
                                    list(_global_post_hooks.values())):
            hook(self, args, kwargs)
        return out

    hooked_step._with_hooks = True
    return hooked_step


def _typename(x):
    if isinstance(x, Tensor):
        return f"ember.Tensor ({x.dtype.name}{list(x.shape)})"
    kind = type(x)
    return kind.__qualname__ if kind.__module__ == "builtins" else \
        f"{kind.__module__}.{kind.__qualname__}"


class Optimizer:
    """Base class of all optimizers.

    ``params``: an iterable of tensors, of ``(name, tensor)`` pairs (``named_parameters()``), or
    of dicts defining parameter groups (``{"params": [...], "lr": 0.1, ...}``); ``defaults``:
    the options a group takes when it does not give them. Give parameters in a deterministic
    order (not a set): state dicts refer to parameters by position."""

    # options a group loaded from an older checkpoint or pickle may lack, and the value each
    # then takes (what PyTorch's optimizers' ``__setstate__`` fill in)
    _option_fallbacks = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_with_hooks", False):
            cls.step = _with_step_hooks(step)

    def __init__(self, params, defaults):
        self.defaults = defaults
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        self._optimizer_state_dict_pre_hooks = OrderedDict()
        self._optimizer_state_dict_post_hooks = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks = OrderedDict()
        self._optimizer_load_state_dict_post_hooks = OrderedDict()
        if defaults.get("differentiable"):
            raise NotImplementedError(
                f"{type(self).__name__}: differentiable=True is not supported: ember's "
                f"optimizers update parameters in place outside autograd. Write the update "
                f"with tensor ops yourself to differentiate through it.")
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got " + _typename(params))
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)
        for name in ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks",
                     "_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                     "_optimizer_load_state_dict_pre_hooks",
                     "_optimizer_load_state_dict_post_hooks"):
            self.__dict__.setdefault(name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for name, value in self._option_fallbacks.items():
                group.setdefault(name, value)

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join(lines) + "\n)"

    # ---- parameter groups --------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group of parameters (a dict with ``"params"`` and optional per-group options),
        e.g. layers unfrozen during fine-tuning."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(tensors):
            raise ValueError("all optimizer params should be with/without names. Some param "
                             "names are missing")
        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                + _typename(p))
            if not self.defaults.get("differentiable") and not (p.grad_fn is None
                                                                 or p._retains_grad):
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (parameter {i} of the group was computed "
                    f"by {type(p.grad_fn).__name__}); optimize the leaf it came from, or make "
                    f"one with .detach().requires_grad_()")
        param_group["params"] = tensors
        if names:
            param_group["param_names"] = names
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(f"parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = {id(p) for p in tensors}
        if len(ids) != len(tensors):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in "
                          "future, this will cause an error; see "
                          "github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(f"all optimizer param groups should be with/without names. "
                                 f"cannot add param group {which} to the optimizer")
            if not ids.isdisjoint(id(p) for p in group["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ---- gradients ---------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients: set them to None (the default), or fill them with zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                if set_to_none:
                    p._grad = None
                    continue
                if grad.grad_fn is not None:
                    grad.detach_()
                else:
                    grad._rg = False
                grad._data.fill(0)
                grad._bump()

    def step(self, closure=None):
        """Perform one optimization step. ``closure`` re-evaluates the model and returns the
        loss (optional for most optimizers)."""
        raise NotImplementedError

    # ---- hooks -------------------------------------------------------------------------------
    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before ``step``; it may return
        ``(new_args, new_kwargs)``."""
        return _add_hook(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after ``step``."""
        return _add_hook(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs before ``state_dict`` builds the dict."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs on the built dict; it may return a new one."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook, prepend=False):
        """``hook(optimizer, state_dict)`` runs before loading; it may return a new dict."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook, prepend=False):
        """``hook(optimizer)`` runs after loading."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    # ---- state dicts -------------------------------------------------------------------------
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``, with
        parameters numbered in group order. Tensors in it are the optimizer's own (not
        copies)."""
        for hook in self._optimizer_state_dict_pre_hooks.values():
            hook(self)
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {(index[id(k)] if isinstance(k, Tensor) else k): v
                 for k, v in self.state.items()}
        state_dict = {"state": state, "param_groups": groups}
        for hook in self._optimizer_state_dict_post_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict):
        """Load a dict made by ``state_dict()`` of an optimizer with the same group sizes.
        State tensors move to their parameter's device and, for floating-point parameters,
        take its dtype (except ``"step"``)."""
        state_dict = state_dict.copy()
        for hook in self._optimizer_load_state_dict_pre_hooks.values():
            result = hook(self, state_dict)
            if result is not None:
                state_dict = result
        groups = self.param_groups
        saved_groups = deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(groups)})")
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group (group {i}: {len(s['params'])} saved parameters, "
                    f"{len(g['params'])} in the optimizer)")
        id_map = dict(zip(itertools.chain.from_iterable(s["params"] for s in saved_groups),
                          itertools.chain.from_iterable(g["params"] for g in groups)))
        owner = {}  # saved index -> saved group, for the step-dtype rule
        for s in state_dict["param_groups"]:
            for i in s["params"]:
                owner.setdefault(i, s)
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                group = owner.get(key, {})
                keep_step = not (group.get("capturable") or group.get("fused"))
                state[param] = _cast_state(param, value, keep_step)
            else:
                state[key] = value
        for g, s in zip(groups, saved_groups):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
        self.__setstate__({"state": state, "param_groups": saved_groups})
        for hook in self._optimizer_load_state_dict_post_hooks.values():
            hook(self)


def _cast_state(param, value, keep_step, key=None):
    """A parameter's loaded state with tensors on the parameter's device, and in its dtype when
    it is floating point; ``"step"`` keeps its dtype unless the group is fused / capturable
    (then float32 on the parameter's device)."""
    if isinstance(value, Tensor):
        if key == "step":
            if keep_step:
                return value
            return _to(value, np.dtype(np.float32), param)
        dtype = param._data.dtype if param.dtype.is_floating_point else value._data.dtype
        return _to(value, dtype, param)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, keep_step, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v, keep_step) for v in value)
    return value


def _to(t, np_dtype, like):
    """``t`` with dtype ``np_dtype`` on ``like``'s device: ``t`` itself when nothing changes."""
    data = t._data
    if data.dtype == np_dtype and type(data) is type(like._data) and (
            type(data) is np.ndarray or data.device == like._data.device):
        return t
    return _new_tensor(move(data, like.device).astype(np_dtype, copy=False))


def _call_closure(closure):
    """Evaluate ``closure`` with gradients enabled (the loss it returns, or None)."""
    if closure is None:
        return None
    with enable_grad():
        return closure()
