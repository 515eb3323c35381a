"""The backward pass: ``backward`` and ``grad``.

The graph is walked once to count, for every node and leaf, how many edges lead into it; nodes
then run as soon as all their incoming gradients have arrived. A leaf (a tensor that requires
grad and was made by no op) is its own edge target: its gradient is accumulated into ``.grad``
once the total has arrived."""
from .._tensor import Tensor, _new_tensor
from .. import _errors
from .grad_mode import GradMode
from .anomaly import AnomalyMode, user_line
from .inplace import refresh_view


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves (or of
    ``inputs``)."""
    tensors = _as_tuple(tensors)
    grad_tensors = _root_grads(tensors, grad_tensors, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    only = None
    if inputs is not None:
        inputs = _as_tuple(inputs)
        if not inputs:
            raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
        only = inputs
    roots = [_edge_of(t, i, "backward") for i, t in enumerate(tensors)]
    _execute(roots, grad_tensors, retain_graph, create_graph, capture=None, accumulate_only=only)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         only_inputs=True, allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, returned rather than
    accumulated into ``.grad``."""
    if is_grads_batched:
        raise NotImplementedError("grad: is_grads_batched=True is not supported by ember; "
                                  "loop over the batch of grad_outputs instead")
    outputs = _as_tuple(outputs)
    inputs_tuple = _as_tuple(inputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("grad: expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got allow_unused=False.")
    for i, t in enumerate(inputs_tuple):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is a {type(t).__name__}, expected a Tensor")
        if not t._rg:
            raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) does not "
                               f"require grad")
    grad_outputs = _root_grads(outputs, grad_outputs, "grad")
    if retain_graph is None:
        retain_graph = create_graph
    roots = [_edge_of(t, i, "grad") for i, t in enumerate(outputs)]
    capture = {}
    for i, t in enumerate(inputs_tuple):
        capture.setdefault(_edge_of(t, i, "grad"), []).append(i)
    results = [None] * len(inputs_tuple)
    _execute(roots, grad_outputs, retain_graph, create_graph, capture=(capture, results))
    for i, r in enumerate(results):
        if r is None:
            if materialize_grads:
                t = inputs_tuple[i]
                results[i] = _new_tensor(t._xp().zeros(t.shape, t._data.dtype))
            elif not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (inputs[{i}], shape "
                    f"{tuple(inputs_tuple[i].shape)}) appears to not have been used in the "
                    f"graph. Set allow_unused=True if this is the desired behavior.")
    return tuple(results)


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _edge_of(t, index, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: element {index} is a {type(t).__name__}, expected a Tensor")
    if t._base is not None and t._vc[0] != t._view_version:
        refresh_view(t)
    if not t._rg:
        raise RuntimeError(f"element {index} of tensors does not require grad and does not "
                           f"have a grad_fn")
    fn = t.grad_fn
    return (t, 0) if fn is None else (fn, t._output_nr)


def _root_grads(tensors, grads, op):
    if grads is None:
        grads = [None] * len(tensors)
    elif isinstance(grads, Tensor):
        grads = [grads]
    else:
        grads = list(grads)
    if len(grads) != len(tensors):
        raise RuntimeError(f"{op}: got {len(grads)} gradients for {len(tensors)} tensors")
    out = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs (got a tensor of "
                    f"shape {tuple(t.shape)}); pass gradient= with the same shape, e.g. "
                    f"y.backward(ember.ones_like(y)), or reduce it first, e.g. y.sum().backward()")
            g = _new_tensor(t._xp().ones(t._data.shape, t._data.dtype))
        elif not isinstance(g, Tensor):
            g = _new_tensor(t._xp().asarray(g, dtype=t._data.dtype))
        elif g.shape != t.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and output[{i}] "
                f"has a shape of {t.shape}.")
        elif g._data.dtype != t._data.dtype:
            raise RuntimeError(f"{op}: grad_output[{i}] has dtype {g.dtype} but output[{i}] has "
                               f"dtype {t.dtype}; cast the gradient with .to({t.dtype})")
        out.append(g)
    return out


def _count_dependencies(roots):
    """For every node and leaf reachable from ``roots``, the number of edges into it."""
    deps = {}
    # Several roots can be outputs of one node: count that node's edges once.
    stack = list(dict.fromkeys(t for t, _ in roots if not isinstance(t, Tensor)))
    seen = set(stack)
    while stack:
        for e in stack.pop()._edges:
            if e:
                child = e[0]
                if child in deps:
                    deps[child] += 1
                else:
                    deps[child] = 1
                    if child not in seen and not isinstance(child, Tensor):
                        seen.add(child)
                        stack.append(child)
    return deps


def _post_order(roots):
    """The nodes reachable from ``roots``, each after every node below it."""
    order = []
    seen = set()
    for target, _ in roots:
        if target in seen or isinstance(target, Tensor):
            continue
        seen.add(target)
        stack = [(target, iter(target._edges))]
        while stack:
            node, it = stack[-1]
            for e in it:
                if e and e[0] not in seen:
                    seen.add(e[0])
                    if not isinstance(e[0], Tensor):
                        stack.append((e[0], iter(e[0]._edges)))
                        break
            else:
                stack.pop()
                order.append(node)
    return order


def _needed_nodes(roots, capture_targets):
    """Nodes whose backward leads to some captured target (autograd.grad runs no others)."""
    needed = set()
    for node in _post_order(roots):  # children first
        for e in node._edges:
            if e and (e[0] in needed or e[0] in capture_targets):
                needed.add(node)
                break
    return needed


def _execute(roots, root_grads, retain_graph, create_graph, capture=None, accumulate_only=None):
    deps = _count_dependencies(roots)
    needed = None
    capture_map = results = None
    if capture is not None:
        capture_map, results = capture
        needed = _needed_nodes(roots, {t for t, _ in capture_map})
    only_leaves = None
    if accumulate_only is not None:
        only_leaves = {}
        for t in accumulate_only:
            only_leaves[_edge_of(t, 0, "backward")] = t
        needed = _needed_nodes(roots, {t for t, _ in only_leaves})

    buffers = {}
    # Leaf -> its gradient tensor when that tensor was made by this backward pass and reached
    # nothing else: .grad can then take it without a copy.
    owned = {}
    for (target, nr), g in zip(roots, root_grads):
        buf = buffers.get(target)
        if buf is None:
            buf = buffers[target] = [None] * target._n_out
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    ready = [t for t in buffers if not deps.get(t)]

    prev_mode = GradMode.enabled
    GradMode.enabled = create_graph
    try:
        while ready:
            target = ready.pop()
            buf = buffers.pop(target, None)
            if isinstance(target, Tensor):
                if buf is not None and buf[0] is not None:
                    _deliver_leaf(target, buf[0], create_graph, capture_map, results, only_leaves,
                                  owned.get(target) is buf[0])
                continue
            node = target
            # A node runs if some gradient reached it (a buffer exists only then) and, for
            # autograd.grad / backward(inputs=), if it leads to a requested input.
            if buf is not None:
                if node._pre_hooks is not None or node._retained is not None:
                    buf = _run_pre_hooks(node, buf)
                if capture_map is not None:
                    _capture_node_grads(node, buf, capture_map, results)
                if only_leaves is not None:
                    _accumulate_into_nonleaf_inputs(node, buf, only_leaves)
                if needed is not None and node not in needed:
                    buf = None
            if buf is not None:
                if len(buf) == 1 and node._raw:  # the common case, without _run_backward's checks
                    grads = type(node).backward(node, buf[0])
                    if type(grads) is not tuple:
                        grads = (grads,)
                else:
                    grads = node._run_backward(buf)
                if AnomalyMode.enabled:
                    _check_anomaly(node, grads)
                if node._post_hooks:
                    grads = _run_post_hooks(node, grads, buf)
                if not retain_graph and node._saved is not None:
                    node._saved = False
            else:
                grads = ()
            n_grads = len(grads)
            for i, e in enumerate(node._edges):
                if not e:
                    continue
                child, nr = e
                left = deps[child] - 1
                deps[child] = left
                g = grads[i] if i < n_grads else None
                if g is not None:
                    cbuf = buffers.get(child)
                    if cbuf is None:
                        cbuf = buffers[child] = [None] * child._n_out
                        cbuf[nr] = g
                        if child._n_out == 1 and isinstance(child, Tensor) and \
                                _fresh(node, g, grads, buf):
                            owned[child] = g
                    elif cbuf[nr] is None:
                        cbuf[nr] = g
                    else:
                        cbuf[nr] = total = cbuf[nr] + g
                        if isinstance(child, Tensor):
                            owned[child] = total
                if left == 0:
                    ready.append(child)
    finally:
        GradMode.enabled = prev_mode


def _fresh(node, g, grads, buf):
    """Whether ``g``, returned by a built-in node's backward, is a new tensor owning new memory
    that goes nowhere else (not an incoming gradient passed through, not returned twice)."""
    if not node._raw or g._data.base is not None or any(g is b for b in buf):
        return False
    return sum(1 for x in grads if x is g) == 1


def _run_pre_hooks(node, buf):
    hooks = node._pre_hooks
    if hooks:
        for nr, fns in hooks.items():
            for fn in list(fns.values()):
                if nr is None:  # node pre-hooks see all output gradients
                    r = fn(tuple(buf))
                    if r is not None:
                        buf = list(r)
                    continue
                if buf[nr] is None:
                    continue
                r = fn(buf[nr])
                if r is not None:
                    buf[nr] = r
    retained = node._retained
    if retained:
        for nr, ref in retained.items():
            t = ref()
            if t is not None and buf[nr] is not None:
                g = buf[nr]
                t._grad = g if t._grad is None else t._grad + g
                if not GradMode.enabled:
                    t._grad = t._grad.detach()
    return buf


def _run_post_hooks(node, grads, buf):
    for fn in list(node._post_hooks.values()):
        r = fn(tuple(grads), tuple(buf))
        if r is not None:
            grads = tuple(r)
    return grads


def _capture_node_grads(node, buf, capture_map, results):
    for nr, g in enumerate(buf):
        slots = capture_map.get((node, nr))
        if slots is not None and g is not None:
            for i in slots:
                results[i] = g


def _accumulate_into_nonleaf_inputs(node, buf, only_leaves):
    """``backward(inputs=[t])`` with a non-leaf ``t`` accumulates into ``t.grad``."""
    for nr, g in enumerate(buf):
        t = only_leaves.get((node, nr))
        if t is not None and g is not None:
            _accumulate(t, g, GradMode.enabled)


def _deliver_leaf(leaf, g, create_graph, capture_map, results, only_leaves, owned=False):
    if capture_map is not None:
        slots = capture_map.get((leaf, 0))
        if slots is not None:
            g = _run_leaf_hooks(leaf, g)
            for i in slots:
                results[i] = g
        return
    if only_leaves is not None and (leaf, 0) not in only_leaves:
        return
    if leaf._backward_hooks:
        g, owned = _run_leaf_hooks(leaf, g), False  # a hook may keep the tensor it sees
    _accumulate(leaf, g, create_graph, owned)


def _run_leaf_hooks(leaf, g):
    hooks = leaf._backward_hooks
    if hooks:
        for fn in list(hooks.values()):
            r = fn(g)
            if r is not None:
                g = r
    return g


def _accumulate(t, g, create_graph, owned=False):
    """Add ``g`` into ``t.grad`` as PyTorch's AccumulateGrad does: the first gradient is stored
    (taken as is if ``owned``, else copied, so no later in-place accumulation can reach another
    tensor), later ones are added in place unless a graph of the gradient is being built."""
    if g._data.dtype != t._data.dtype:
        g = g.to(t.dtype)
    if g.shape != t.shape:
        g = _errors.grad_shape_for_leaf(t, g)
    old = t._grad
    if old is None:
        if create_graph:
            t._grad = g
        elif owned and g._data.flags.writeable:
            t._grad = g
        else:
            t._grad = _new_tensor(g._data.copy())
    elif create_graph or old._rg:
        t._grad = old + g
    else:
        old._data += g._data
        old._bump()
    hooks = t._post_accumulate_hooks
    if hooks:
        for fn in list(hooks.values()):
            fn(t)


def _check_anomaly(node, grads):
    for i, g in enumerate(grads):
        if g is not None and g._data.dtype.kind in "fc" and bool(node.xp.isnan(g._data).any()):
            where = user_line(node._stack) if node._stack else "<op ran outside detect_anomaly>"
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output. "
                f"The forward op '{node.op_name}' was called at {where}")


__all__ = ["backward", "grad"]
