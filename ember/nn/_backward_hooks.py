"""Module full backward hooks: identity nodes around a module's inputs and outputs catch the
gradients flowing out of and into the module, and hand them to the hooks."""
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode


class BackwardHook:
    """Per call of a module with full backward hooks: wraps its inputs and outputs."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.has_inputs = False

    def setup_input_hook(self, args):
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        if not positions or not GradMode.enabled:
            return args
        self.has_inputs = True
        wrapped = _InputHook.apply(self, *(args[i] for i in positions))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        args = list(args)
        for i, w in zip(positions, wrapped):
            args[i] = w
        return tuple(args)

    def setup_output_hook(self, result):
        single = isinstance(result, Tensor)
        items = (result,) if single else result
        if not isinstance(items, tuple):
            return result
        positions = [i for i, a in enumerate(items) if isinstance(a, Tensor) and a.requires_grad]
        if not positions or not GradMode.enabled:
            return result
        wrapped = _OutputHook.apply(self, *(items[i] for i in positions))
        wrapped = wrapped if isinstance(wrapped, tuple) else (wrapped,)
        items = list(items)
        for i, w in zip(positions, wrapped):
            items[i] = w
        return items[0] if single else tuple(items)

    def on_grad_outputs(self, grads):
        for hook in self.pre_hooks.values():
            new = hook(self.module, grads)
            if new is not None:
                grads = tuple(new) if isinstance(new, (tuple, list)) else (new,)
        self.grad_outputs = grads
        if not self.has_inputs:  # no input needs a gradient: hooks run now, grad_input None
            for hook in self.hooks.values():
                hook(self.module, (None,), grads)
        return grads

    def on_grad_inputs(self, grads):
        for hook in self.hooks.values():
            new = hook(self.module, grads, self.grad_outputs)
            if new is not None:
                new = tuple(new) if isinstance(new, (tuple, list)) else (new,)
                if len(new) != len(grads):
                    raise RuntimeError(
                        f"Backward hook returned an invalid number of grad_input, got "
                        f"{len(new)}, but expected {len(grads)}")
                grads = new
        return grads


class _InputHook(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.state.on_grad_inputs(grads))


class _OutputHook(Function):
    @staticmethod
    def forward(ctx, state, *tensors):
        ctx.state = state
        return tensors if len(tensors) > 1 else tensors[0]

    @staticmethod
    def backward(ctx, *grads):
        return (None,) + tuple(ctx.state.on_grad_outputs(grads))
