"""``Module``: the base class of layers and models, with PyTorch's full contract —
registration of parameters, buffers and submodules by attribute, traversal, state_dict,
device/dtype conversion, train/eval, and forward/backward hooks."""
import itertools
from collections import OrderedDict, namedtuple

from .._errors import mark
from .._tensor import Tensor, _new_tensor
from ..autograd.grad_mode import no_grad
from ..autograd.function import RemovableHandle
from .parameter import Parameter, Buffer
from . import _backward_hooks

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class _IncompatibleKeysResult(_IncompatibleKeys):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


# Hooks on every module (``nn.modules.module.register_module_forward_hook`` ...).
_global_forward_pre_hooks = OrderedDict()
_global_forward_hooks = OrderedDict()


def _add_hook(container, hook, prepend=False):
    key = object()
    container[key] = hook
    if prepend:
        container.move_to_end(key, last=False)
    return RemovableHandle(container, key)


def register_module_forward_pre_hook(hook):
    return _add_hook(_global_forward_pre_hooks, hook)


def register_module_forward_hook(hook):
    return _add_hook(_global_forward_hooks, hook)


class Module:
    """Base class for all neural network modules."""

    training = True
    dump_patches = False
    call_super_init = False
    _version = 1

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise mark(TypeError(f"{type(self).__name__}.__init__() got unexpected arguments "
                                 f"{args or ''}{kwargs or ''}"))
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = {}
        d["_buffers"] = {}
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = set()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_hooks_always_called"] = set()
        d["_backward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_state_dict_hooks"] = OrderedDict()
        d["_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_pre_hooks"] = OrderedDict()
        d["_load_state_dict_post_hooks"] = OrderedDict()

    def forward(self, *input):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    # ---- calling -----------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_pre_hooks"] or d["_forward_hooks"] or d["_backward_hooks"]
                or d["_backward_pre_hooks"] or _global_forward_hooks
                or _global_forward_pre_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    _call_impl = __call__

    def _call_with_hooks(self, args, kwargs):
        for key, hook in itertools.chain(_global_forward_pre_hooks.items(),
                                         self._forward_pre_hooks.items()):
            if key in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise mark(RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {result}."))
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        backward = None
        if self._backward_hooks or self._backward_pre_hooks:
            backward = _backward_hooks.BackwardHook(self, self._backward_hooks,
                                                    self._backward_pre_hooks)
            args = backward.setup_input_hook(args)
        try:
            result = self.forward(*args, **kwargs)
        except Exception:
            for key, hook in self._forward_hooks.items():
                if key in self._forward_hooks_always_called:
                    try:
                        hook(self, args, kwargs, None) if key in \
                            self._forward_hooks_with_kwargs else hook(self, args, None)
                    except Exception:
                        pass
            raise
        for key, hook in itertools.chain(_global_forward_hooks.items(),
                                         self._forward_hooks.items()):
            if key in self._forward_hooks_with_kwargs:
                new = hook(self, args, kwargs, result)
            else:
                new = hook(self, args, result)
            if new is not None:
                result = new
        if backward is not None:
            result = backward.setup_output_hook(result)
        return result

    # ---- registration ------------------------------------------------------------------------
    def register_parameter(self, name, param):
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(self, name, "parameter", self._parameters)
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise mark(TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                f"(ember.nn.Parameter or None required)"))
        if param.grad_fn is not None:
            raise mark(ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must "
                f"be created explicitly. To express '{name}' as a function of another Tensor, "
                f"compute the value in the forward() method."))
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(self, name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise mark(TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                                 f"'{name}' (ember Tensor or None required)"))
        if isinstance(tensor, Buffer):
            persistent = tensor.persistent
            tensor = _plain(tensor)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        if not isinstance(module, Module) and module is not None:
            raise mark(TypeError(f"{type(module).__name__} is not a Module subclass"))
        if not isinstance(name, str):
            raise mark(TypeError(f"module name should be a string. Got {type(name).__name__}"))
        if hasattr(self, name) and name not in self._modules:
            raise mark(KeyError(f"attribute '{name}' already exists"))
        if "." in name or name == "":
            raise mark(KeyError(f'module name can\'t contain ".", got: {name}' if name
                                else 'module name can\'t be empty string ""'))
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _remove_from(self, name, d, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise mark(TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                     f"'{name}' (ember.nn.Parameter or None expected)"))
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _remove_from(self, name, d, keep="_modules")
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise mark(TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                     f"'{name}' (ember.nn.Module or None expected)"))
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if isinstance(value, Buffer) or (buffers is not None and name in buffers):
            if value is not None and not isinstance(value, Tensor):
                raise mark(TypeError(f"cannot assign '{type(value).__name__}' as buffer "
                                     f"'{name}' (ember.Tensor or None expected)"))
            if isinstance(value, Buffer):
                persistent = value.persistent
            else:
                persistent = name not in self._non_persistent_buffers_set
            _remove_from(self, name, d, keep="_buffers")
            self.register_buffer(name, value, persistent)
            return
        object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            found = d.get(store)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in ("_parameters", "_buffers", "_modules"):
            found = self.__dict__.get(store)
            if found is not None and name in found:
                del found[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(object.__dir__(self)) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    # ---- traversal ---------------------------------------------------------------------------
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self):
        memo = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in memo:
                memo.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def get_submodule(self, target):
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise mark(AttributeError(f"{module._get_name()} has no attribute `{item}`"))
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise mark(AttributeError(f"`{item}` is not an nn.Module"))
        return module

    def set_submodule(self, target, module):
        *path, last = target.split(".")
        parent = self.get_submodule(".".join(path))
        setattr(parent, last, module)

    def _get_owner(self, target, kind):
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise mark(AttributeError(f"{module._get_name()} has no attribute `{name}`"))
        return module, name

    def get_parameter(self, target):
        module, name = self._get_owner(target, "parameter")
        if name not in module._parameters:
            raise mark(AttributeError(f"`{name}` is not an nn.Parameter"))
        return module._parameters[name]

    def get_buffer(self, target):
        module, name = self._get_owner(target, "buffer")
        if name not in module._buffers:
            raise mark(AttributeError(f"`{name}` is not a buffer"))
        return module._buffers[name]

    # ---- state_dict --------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        if args:  # the legacy positional form state_dict(destination, prefix, keep_vars)
            destination = args[0] if len(args) > 0 else destination
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:
            metadata[prefix[:-1]] = {"version": self._version}
        for hook in self._state_dict_pre_hooks.values():
            hook(self, prefix, keep_vars)
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        for hook in self._state_dict_hooks.values():
            result = hook(self, destination, prefix, {})
            if result is not None:
                destination = result
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs, assign=False):
        for hook in self._load_state_dict_pre_hooks.values():
            hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                 error_msgs)
        persistent = {k: v for k, v in self._buffers.items()
                      if k not in self._non_persistent_buffers_set}
        local = {k: v for k, v in itertools.chain(self._parameters.items(), persistent.items())
                 if v is not None}
        for name, param in local.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(f'While copying the parameter named "{key}", expected '
                                  f'ember.Tensor or Tensor-like object from checkpoint but '
                                  f'received {type(value)}')
                continue
            if tuple(value.shape) != tuple(param.shape):
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {value.shape} from "
                    f"checkpoint, the shape in current model is {param.shape}.")
                continue
            try:
                with no_grad():
                    if assign:
                        if isinstance(param, Parameter):
                            new = Parameter(value, requires_grad=param.requires_grad)
                        else:
                            new = value
                        setattr(self, name, new)
                    else:
                        _copy_into(param, value)
            except Exception as e:
                error_msgs.append(f'While copying the parameter named "{key}", whose dimensions '
                                  f'in the model are {param.shape} and whose dimensions in the '
                                  f'checkpoint are {value.shape}, an exception occurred : '
                                  f'{e.args}.')
        if strict:
            for key in state_dict:
                if key.startswith(prefix):
                    rest = key[len(prefix):]
                    name = rest.split(".", 1)[0]
                    if name not in self._modules and name not in local:
                        unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        if not isinstance(state_dict, dict):
            raise mark(TypeError(f"Expected state_dict to be dict-like, got "
                                 f"{type(state_dict).__name__}."))
        missing, unexpected, errors = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)

        def load(module, prefix=""):
            local_metadata = {} if metadata is None else metadata.get(prefix[:-1], {})
            module._load_from_state_dict(state_dict, prefix, local_metadata, True, missing,
                                         unexpected, errors, assign)
            for name, child in module._modules.items():
                if child is not None:
                    load(child, prefix + name + ".")
            result = _IncompatibleKeysResult(missing, unexpected)
            for hook in module._load_state_dict_post_hooks.values():
                hook(module, result)

        load(self)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise mark(RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors))))
        return _IncompatibleKeysResult(missing, unexpected)

    def register_state_dict_pre_hook(self, hook):
        return _add_hook(self._state_dict_pre_hooks, hook)

    def register_state_dict_post_hook(self, hook):
        return _add_hook(self._state_dict_hooks, hook)

    _register_state_dict_hook = register_state_dict_post_hook

    def register_load_state_dict_pre_hook(self, hook):
        def adapted(state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            hook(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors)
        return _add_hook(self._load_state_dict_pre_hooks, adapted)

    _register_load_state_dict_pre_hook = register_load_state_dict_pre_hook

    def register_load_state_dict_post_hook(self, hook):
        return _add_hook(self._load_state_dict_post_hooks, hook)

    # ---- hooks -------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        handle = _add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle._item)
        return handle

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False,
                              always_call=False):
        handle = _add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle._item)
        if always_call:
            self._forward_hooks_always_called.add(handle._item)
        return handle

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect to
        the module's inputs are computed; it may return a new grad_input."""
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs before the module's gradients are computed; it
        may return a new grad_output."""
        return _add_hook(self._backward_pre_hooks, hook, prepend)

    def register_backward_hook(self, hook):
        return self.register_full_backward_hook(hook)

    # ---- modes and conversion ----------------------------------------------------------------
    def train(self, mode=True):
        if not isinstance(mode, bool):
            raise mark(ValueError("training mode is expected to be boolean"))
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                g = p.grad
                if g.grad_fn is not None:
                    g.detach_()
                else:
                    g.requires_grad_(False)
                g._data[...] = 0
                g._bump()

    def apply(self, fn):
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _apply(self, fn, recurse=True):
        """Convert every parameter and buffer with ``fn`` (a tensor -> tensor function). As in
        PyTorch, parameters keep their identity (their data is replaced), so optimizers built
        before ``model.to(...)`` still hold them."""
        if recurse:
            for module in self.children():
                module._apply(fn)
        for key, param in self._parameters.items():
            if param is None:
                continue
            with no_grad():
                new = fn(param)
            param._data = new._data
            if param.grad is not None:
                with no_grad():
                    g = fn(param.grad)
                param.grad._data = g._data
        for key, buf in self._buffers.items():
            if buf is not None:
                self._buffers[key] = fn(buf)
        return self

    def to(self, *args, **kwargs):
        from ..ops.convert import _parse_to_args
        dev, dtype, _ = _parse_to_args(None, args, dict(kwargs))
        if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
            raise mark(TypeError(f"nn.Module.to only accepts floating point or complex dtypes, "
                                 f"but got desired dtype={dtype}"))

        def convert(t):
            out = t
            if dev is not None:
                out = out.to(dev)
            if dtype is not None and (t.is_floating_point() or t.is_complex()):
                out = out.to(dtype)
            return out
        return self._apply(convert)

    def cuda(self, device=None):
        return self._apply(lambda t: t.cuda(device))

    def cpu(self):
        return self._apply(lambda t: t.cpu())

    def type(self, dst_type):
        return self._apply(lambda t: t.type(dst_type))

    def _cast_floating(self, dtype):
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        from .. import _dtype
        return self._cast_floating(_dtype.float32)

    def double(self):
        from .. import _dtype
        return self._cast_floating(_dtype.float64)

    def half(self):
        from .. import _dtype
        return self._cast_floating(_dtype.float16)

    def bfloat16(self):
        from .. import _dtype
        return self._cast_floating(_dtype.bfloat16)

    def share_memory(self):
        return self

    # ---- repr --------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        children = []
        for name, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            children.append(f"({name}): {text}")
        lines = lines + children
        main = self._get_name() + "("
        if lines:
            if len(lines) == 1 and not children:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    # ---- pickling ----------------------------------------------------------------------------
    def __setstate__(self, state):
        self.__dict__.update(state)
        defaults = Module.__new__(Module)
        Module.__init__(defaults)
        for key, value in defaults.__dict__.items():
            self.__dict__.setdefault(key, value)


def _check_name(module, name, kind, store):
    if not isinstance(name, str):
        raise mark(TypeError(f"{kind} name should be a string. Got {type(name).__name__}"))
    if "." in name:
        raise mark(KeyError(f'{kind} name can\'t contain "."'))
    if name == "":
        raise mark(KeyError(f'{kind} name can\'t be empty string ""'))
    if hasattr(module, name) and name not in store:
        raise mark(KeyError(f"attribute '{name}' already exists"))


def _remove_from(module, name, d, keep):
    for store in ("_parameters", "_buffers", "_modules"):
        if store != keep and name in d.get(store, ()):
            del d[store][name]
    d.get("_non_persistent_buffers_set", set()).discard(name) if keep != "_buffers" else None
    d.pop(name, None)


def _plain(t):
    out = _new_tensor(t._data)
    if t._rg:
        out._rg = True
    return out


def _copy_into(param, value):
    """``param.copy_(value)`` under no_grad: cast to the parameter's dtype and device."""
    from ..backend import move
    data = value._data
    if data.dtype != param._data.dtype:
        data = data.astype(param._data.dtype)
    param._data[...] = move(data, param.device)
    param._bump()
