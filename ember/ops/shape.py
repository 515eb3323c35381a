"""Shape and movement ops. View ops (``_view = True``) return arrays that share the input's
memory; ``apply`` links their version counters."""
from .._errors import mark
from .._tensor import Tensor
from ..autograd.function import Function
from ._broadcast import BroadcastTo
from ._dims import normalize_dim, as_shape
from ._registry import public, public_method


def infer_shape(op, shape, numel):
    """``shape`` with its one ``-1`` resolved, or the error PyTorch gives."""
    shape = list(shape)
    unknown = [i for i, s in enumerate(shape) if s == -1]
    if len(unknown) > 1:
        raise mark(RuntimeError(f"{op}: only one dimension can be inferred"))
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise mark(RuntimeError(f"{op}: invalid shape dimension {s}"))
            known *= s
    if unknown:
        if known == 0 or numel % known:
            raise mark(RuntimeError(f"{op}: shape '{shape}' is invalid for input of size "
                                    f"{numel}"))
        shape[unknown[0]] = numel // known
    elif known != numel:
        raise mark(RuntimeError(f"{op}: shape '{shape}' is invalid for input of size {numel}"))
    return tuple(shape)


class View(Function):
    _raw = True
    _view = True
    op_name = "view"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        v = x.view()
        try:
            v.shape = shape
        except AttributeError:
            raise mark(RuntimeError(
                f"view: view size is not compatible with input tensor's size and stride (at "
                f"least one dimension spans across two contiguous subspaces); shape "
                f"{list(x.shape)} -> {list(shape)}. Use .reshape(...) instead.")) from None
        return v

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


class Reshape(Function):
    """A reshape that copies (the input's memory layout does not allow a view)."""
    _raw = True
    op_name = "reshape"

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.in_shape), None


def _viewable(arr, shape):
    v = arr.view()
    try:
        v.shape = shape
        return True
    except AttributeError:
        return False


@public_method("view")
def view(self, *shape, dtype=None):
    if dtype is not None or (len(shape) == 1 and not isinstance(shape[0], (int, tuple, list))
                             and type(shape[0]).__name__ == "dtype"):
        raise mark(NotImplementedError("view(dtype): reinterpreting memory as another dtype is "
                                       "not supported; use .to(dtype)"))
    shape = infer_shape("view", as_shape("view", shape), self._data.size)
    if shape == self._data.shape:
        return View.apply(self, shape)
    return View.apply(self, shape)


@public
def reshape(input, *shape):
    shape = infer_shape("reshape", as_shape("reshape", shape), input._data.size)
    if _viewable(input._data, shape):
        return View.apply(input, shape)
    return Reshape.apply(input, shape)


@public_method("view_as")
def view_as(self, other):
    return view(self, other.shape)


@public_method("reshape_as")
def reshape_as(self, other):
    return reshape(self, other.shape)


@public_method("expand")
def expand(self, *sizes):
    sizes = as_shape("expand", sizes)
    ndim = self._data.ndim
    if len(sizes) < ndim:
        raise mark(RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({ndim})"))
    lead = len(sizes) - ndim
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise mark(RuntimeError(f"expand: the expanded size of the tensor ({s}) isn't "
                                        f"allowed in a leading, non-existing dimension {i}"))
            target.append(s)
            continue
        have = self._data.shape[i - lead]
        if s == -1:
            s = have
        elif have != 1 and s != have:
            raise mark(RuntimeError(
                f"expand: The expanded size of the tensor ({s}) must match the existing size "
                f"({have}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(self._data.shape)}"))
        target.append(s)
    target = tuple(target)
    if target == self._data.shape:
        return View.apply(self, target)
    return BroadcastTo.apply(self, target)


@public_method("expand_as")
def expand_as(self, other):
    return expand(self, other.shape)


class Permute(Function):
    _raw = True
    _view = True
    op_name = "permute"

    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return x.transpose(perm)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.perm)
        for i, p in enumerate(ctx.perm):
            inverse[p] = i
        return Permute.apply(grad, tuple(inverse)), None


@public
def permute(input, *dims):
    dims = as_shape("permute", dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise mark(RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                                f"does not match the length of the desired ordering of "
                                f"dimensions i.e. input.dim() = {ndim} is not equal to "
                                f"len(dims) = {len(dims)}".replace("(sparse_coo)", "")))
    perm = tuple(normalize_dim("permute", d, ndim) for d in dims)
    if len(set(perm)) != ndim:
        raise mark(RuntimeError(f"permute: repeated dim in {list(dims)}"))
    return Permute.apply(input, perm)


@public(aliases=("swapaxes", "swapdims"))
def transpose(input, dim0, dim1):
    ndim = input._data.ndim
    d0 = normalize_dim("transpose", dim0, ndim)
    d1 = normalize_dim("transpose", dim1, ndim)
    perm = list(range(ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return Permute.apply(input, tuple(perm))


@public
def t(input):
    ndim = input._data.ndim
    if ndim > 2:
        raise mark(RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                                f"{ndim}D; use .transpose(dim0, dim1) or .mT"))
    return Permute.apply(input, tuple(range(ndim))[::-1])


def _T(self):
    return Permute.apply(self, tuple(range(self._data.ndim))[::-1])


def _mT(self):
    if self._data.ndim < 2:
        raise mark(RuntimeError(f"tensor.mT is only supported on matrices or batches of "
                                f"matrices. Got {self._data.ndim}-D tensor."))
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)


class Clone(Function):
    _raw = True
    op_name = "clone"

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, grad):
        return grad


@public
def clone(input, *, memory_format=None):
    return Clone.apply(input)


@public_method("contiguous")
def contiguous(self, memory_format=None):
    if self._data.flags.c_contiguous:
        return self
    return Clone.apply(self)


@public
def unsqueeze(input, dim):
    ndim = input._data.ndim
    d = normalize_dim("unsqueeze", dim, ndim + 1)
    shape = input._data.shape[:d] + (1,) + input._data.shape[d:]
    return View.apply(input, shape)


@public
def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        axes = {normalize_dim("squeeze", d, len(shape)) for d in dims}
        new = tuple(s for i, s in enumerate(shape) if not (i in axes and s == 1))
    return View.apply(input, new)


@public
def flatten(input, start_dim=0, end_dim=-1):
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s = normalize_dim("flatten", start_dim, len(shape))
    e = normalize_dim("flatten", end_dim, len(shape))
    if s > e:
        raise mark(RuntimeError("flatten() has invalid args: start_dim cannot come after "
                                "end_dim"))
    n = 1
    for k in shape[s:e + 1]:
        n *= k
    return reshape(input, shape[:s] + (n,) + shape[e + 1:])
