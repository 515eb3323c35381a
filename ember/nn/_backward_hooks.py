"""Hook plumbing for modules: ``BackwardHook``, which implements full module backward hooks
(``RemovableHandle`` lives in ember/_hooks.py).

A module call with full backward hooks routes its tensor inputs and its tensor outputs through
identity nodes. The output node sees the gradients flowing into the module (grad_output) and
runs the backward pre-hooks; the input node sees the gradients flowing out of it (grad_input)
and runs the backward hooks. As in PyTorch, grad_input has one entry per positional argument
(None for non-tensors), and when no input requires grad the hooks run at the output node with
grad_input all None."""
import warnings

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import GradMode


class BackwardHook:
    """One module call's full backward hooks (``hooks``) and backward pre-hooks
    (``pre_hooks``): lists of callables."""

    def __init__(self, module, hooks, pre_hooks):
        self.module, self.hooks, self.pre_hooks = module, hooks, pre_hooks
        self.grad_outputs = None
        self.n_inputs = self.n_outputs = -1
        self.input_index = self.output_index = None

    def setup_input_hook(self, args):
        args, self.input_index = _route(self.on_grad_inputs, args, True)
        self.n_inputs = len(args)
        return args

    def setup_output_hook(self, result):
        single = not isinstance(result, tuple)
        items = (result,) if single else result
        # grad_output holds None for outputs that got no gradient
        items, self.output_index = _route(self.on_grad_outputs, items, False)
        self.n_outputs = len(items)
        return items[0] if single else items

    def on_grad_outputs(self, grads):
        """At the output node: record grad_output (after the pre-hooks); if no input needs a
        gradient, the backward hooks run now, with grad_input all None."""
        self.grad_outputs = _pack(self.output_index, grads, self.n_outputs)
        for hook in self.pre_hooks:
            new = hook(self.module, self.grad_outputs)
            if new is None:
                continue
            if len(new) != len(self.grad_outputs):
                raise RuntimeError(f"Backward pre hook returned an invalid number of "
                                   f"grad_output, got {len(new)}, but expected "
                                   f"{len(self.grad_outputs)}")
            self.grad_outputs = tuple(new)
        local = self.grad_outputs
        if self.input_index is None:
            warnings.warn("Full backward hook is firing when gradients are computed with respect "
                          "to module outputs since no inputs require gradients. See "
                          "https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch"
                          ".nn.Module.register_full_backward_hook for more details.",
                          stacklevel=5)
            grad_inputs = (None,) * self.n_inputs
            for hook in self.hooks:
                res = hook(self.module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple)
                                            and all(r is None for r in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires "
                                       "gradient should always return None or None for all "
                                       "gradients.")
            self.grad_outputs = None
        return tuple(local[i] for i in self.output_index)

    def on_grad_inputs(self, grads):
        """At the input node: run the backward hooks on grad_input (one entry per positional
        argument); they may replace it."""
        if self.grad_outputs is None:  # the outputs' gradients never came through this call
            return grads
        res = _pack(self.input_index, grads, self.n_inputs)
        for hook in self.hooks:
            out = hook(self.module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got "
                                   f"{len(out)}, but expected {len(res)}")
            res = tuple(out)
        self.grad_outputs = None
        return tuple(res[i] for i in self.input_index)


def _pack(index, values, size):
    out = [None] * size
    for i, v in zip(index, values):
        out[i] = v
    return tuple(out)


def _route(on_grads, args, materialize):
    """``args`` with its tensors replaced by the outputs of one ``BackwardHookFunction`` node
    (if some tensor requires grad and grad mode is on), and the positions of the tensors."""
    index = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    if not (GradMode.enabled and any(args[i]._rg for i in index)):
        return args, None
    routed = BackwardHookFunction.apply(on_grads, materialize, *(args[i] for i in index))
    out = list(args)
    for i, t in zip(index, routed):
        out[i] = t
    return (tuple(out) if type(args) is tuple else type(args)(*out)), index


class BackwardHookFunction(Function):
    """Identity on tensors whose backward hands the gradients to ``on_grads``; outputs of
    inputs that need no gradient stay out of the graph."""

    @staticmethod
    def forward(ctx, on_grads, materialize, *tensors):
        ctx.on_grads = on_grads
        ctx.set_materialize_grads(materialize)
        out = tuple(t.detach() for t in tensors)  # new tensors on the same memory
        ctx.mark_non_differentiable(*(o for o, t in zip(out, tensors) if not t._rg))
        return out

    @staticmethod
    def backward(ctx, *grads):
        return (None, None) + tuple(ctx.on_grads(grads))
