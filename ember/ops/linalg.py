"""Products of vectors, matrices and tensors: matmul and its relatives (mm, bmm, mv, dot, inner,
outer, the ``add*`` family), tensordot, kron, trace, einsum.

Two primitives carry the gradients: ``Matmul`` (operands of at least 2 dims; batch dims
broadcast) and ``Einsum``; the rest are written with them and with shape ops. ``ember.linalg``
(decompositions, solvers, norms) builds on these."""
import math
import string
import warnings

import numpy as np

from .. import _dtype
from .._errors import mark, describe
from .._tensor import Tensor, _new_tensor
from ..autograd.function import Function
from ._broadcast import sum_to, broadcast_shape
from ._promote import COMPLEX_NP, INEXACT_NP, INT_NP, BOOL_NP
from ._registry import public, public_method

# Types that BLAS cannot multiply: NumPy has no fast kernel for them (bfloat16 not even an
# einsum), so they are multiplied in float32 and rounded back, as PyTorch's CPU kernels
# accumulate them in float32.
from ._promote import HALF_NP as _LOW_PRECISION  # noqa: E402


def _mH(t):
    """The conjugate transpose of the last two dims (the transpose for real tensors)."""
    return t.mT.conj() if t._data.dtype in COMPLEX_NP else t.mT


from ._promote import conj_if_complex as _conj  # noqa: E402
from .._out import honor_out as _finish  # noqa: E402


_WARNED = set()


def warn_deprecated(name, advice):
    """PyTorch's once-per-process warning for its deprecated linear-algebra functions."""
    if name not in _WARNED:
        _WARNED.add(name)
        warnings.warn(f"{name} is deprecated {advice} and will be removed in a future PyTorch "
                      f"release.", UserWarning, stacklevel=3)


def _shape_str(shape):
    return "x".join(map(str, shape)) if shape else "scalar"


# ---- matmul -------------------------------------------------------------------------------------

class Matmul(Function):
    """Matrix product of operands with at least 2 dims (batch dims broadcast)."""
    _raw = True
    op_name = "matmul"

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        if x.dtype in _LOW_PRECISION:
            return ctx.xp.matmul(x.astype(np.float32), y.astype(np.float32)).astype(x.dtype)
        if x.ndim > 2 and y.ndim == 2:  # one GEMM for the whole batch, as PyTorch does
            return (_rows(x) @ y).reshape(x.shape[:-1] + (y.shape[1],))
        return ctx.xp.matmul(x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        gx, gy = ctx._edges
        grad_x = grad_y = None
        if gx:
            grad_x = sum_to(Matmul.apply(grad, _mH(y)), x.shape)
        if gy:
            if y._data.ndim == 2 and x._data.ndim > 2:  # fold the batch into one product
                grad_y = Matmul.apply(_mH(_rows(x)), _rows(grad))
            else:
                grad_y = sum_to(Matmul.apply(_mH(x), grad), y.shape)
        return grad_x, grad_y


def _rows(t):
    """``t`` (array or tensor) as one matrix of all its rows: (prod(shape[:-1]), shape[-1])
    (explicit sizes, since -1 cannot be inferred when a dim is 0)."""
    shape = t.shape
    return t.reshape(math.prod(shape[:-1]), shape[-1])


def _check_dtypes(op, *tensors):
    """Matrix products compute in one dtype: PyTorch does not promote their operands."""
    first = tensors[0]._data.dtype
    for t in tensors[1:]:
        if t._data.dtype is not first:
            names = ", ".join(x.dtype.name for x in tensors)
            raise mark(RuntimeError(f"{op}: expected all operands to have the same dtype, but "
                                    f"got {names}; cast them to one dtype with .to()"))
    if first is BOOL_NP:
        raise mark(NotImplementedError(f"{op}: not implemented for bool tensors; convert them "
                                       f"with .int() or .float() first"))


def _check_tensors(op, *args):
    for a in args:
        if not isinstance(a, Tensor):
            raise mark(TypeError(f"{op}: expected Tensors, got "
                                 f"{', '.join(describe(x) for x in args)}"))


def _check_matmul(op, a, b):
    _check_tensors(op, a, b)
    da, db = a._data, b._data
    if da.ndim == 0 or db.ndim == 0:
        raise mark(RuntimeError(f"{op}: both arguments to matmul need to be at least 1D, but "
                                f"they are {da.ndim}D and {db.ndim}D"))
    _check_dtypes(op, a, b)
    ka = da.shape[-1]
    kb = db.shape[-2] if db.ndim > 1 else db.shape[0]
    if ka != kb:
        raise mark(RuntimeError(f"{op}: mat1 and mat2 shapes cannot be multiplied "
                                f"({_shape_str(da.shape)} and {_shape_str(db.shape)}); the "
                                f"last dim of the first ({ka}) must equal the "
                                f"{'first' if db.ndim == 1 else 'second-to-last'} dim of the "
                                f"second ({kb})"))
    if da.ndim > 2 and db.ndim > 2:
        try:
            broadcast_shape(da.shape[:-2], db.shape[:-2])
        except RuntimeError:
            raise mark(RuntimeError(
                f"{op}: the batch dims of {list(da.shape)} and {list(db.shape)} cannot be "
                f"broadcast together ({list(da.shape[:-2])} vs {list(db.shape[:-2])}); "
                f"batch sizes must be equal or 1")) from None


def _matmul(a, b):
    """matmul without checks: 1-D operands are made matrices and the result squeezed back."""
    if a._data.ndim == 1:
        if b._data.ndim == 1:
            return Matmul.apply(a.unsqueeze(0), b.unsqueeze(-1)).reshape(())
        return Matmul.apply(a.unsqueeze(0), b).squeeze(-2)
    if b._data.ndim == 1:
        return Matmul.apply(a, b.unsqueeze(-1)).squeeze(-1)
    return Matmul.apply(a, b)


@public
def matmul(input, other, *, out=None):
    if type(input) is Tensor and type(other) is Tensor and out is None:  # the common case
        a, b = input._data, other._data
        if (a.ndim == 2 and b.ndim == 2 and a.dtype is b.dtype and a.shape[1] == b.shape[0]
                and a.dtype in INEXACT_NP):
            return Matmul.apply(input, other)
    _check_matmul("matmul", input, other)
    return _finish(_matmul(input, other), out)


public_method("__matmul__")(matmul)


@public_method("__rmatmul__")
def _rmatmul(self, other):
    return matmul(other, self)


def _check_ndims(op, what, *tensors_and_ndims):
    """Each (tensor, ndim) pair has that many dims; ``what`` names them for the message."""
    _check_tensors(op, *tensors_and_ndims[::2])
    it = iter(tensors_and_ndims)
    for (t, nd), name in zip(zip(it, it), what):
        if t._data.ndim != nd:
            kind = {1: "a vector (1-D)", 2: "a matrix (2-D)", 3: "a 3-D tensor"}[nd]
            raise mark(RuntimeError(f"{op}: {name} must be {kind}, but got {describe(t)}"))


@public
def mm(input, mat2, *, out=None):
    _check_ndims("mm", ("input", "mat2"), input, 2, mat2, 2)
    _check_matmul("mm", input, mat2)
    return _finish(Matmul.apply(input, mat2), out)


def _check_bmm(op, b1, b2):
    _check_ndims(op, ("batch1", "batch2"), b1, 3, b2, 3)
    if b1.shape[0] != b2.shape[0]:
        raise mark(RuntimeError(f"{op}: batch1 and batch2 must have same number of batches, "
                                f"got {b1.shape[0]} and {b2.shape[0]} (shapes {list(b1.shape)} "
                                f"and {list(b2.shape)})"))
    _check_matmul(op, b1, b2)


@public
def bmm(input, mat2, *, out=None):
    _check_bmm("bmm", input, mat2)
    return _finish(Matmul.apply(input, mat2), out)


@public
def mv(input, vec, *, out=None):
    _check_ndims("mv", ("input", "vec"), input, 2, vec, 1)
    _check_matmul("mv", input, vec)
    return _finish(_matmul(input, vec), out)


def _check_vectors(op, a, b):
    _check_tensors(op, a, b)
    if a._data.ndim != 1 or b._data.ndim != 1:
        raise mark(RuntimeError(f"{op}: 1D tensors expected, but got {a._data.ndim}D and "
                                f"{b._data.ndim}D tensors ({describe(a)} and {describe(b)})"))
    if a._data.shape != b._data.shape:
        raise mark(RuntimeError(f"{op}: inconsistent tensor size, expected tensor [{a.shape[0]}] "
                                f"and src [{b.shape[0]}] to have the same number of elements, "
                                f"but got {a.shape[0]} and {b.shape[0]} elements respectively"))
    _check_dtypes(op, a, b)


@public
def dot(input, tensor, *, out=None):
    _check_vectors("dot", input, tensor)
    return _finish(_matmul(input, tensor), out)


@public
def vdot(input, other, *, out=None):
    _check_vectors("vdot", input, other)
    return _finish(_matmul(_conj(input), other), out)


@public
def inner(input, other, *, out=None):
    _check_tensors("inner", input, other)
    if input._data.ndim == 0 or other._data.ndim == 0:
        return _finish(input * other, out)
    _check_dtypes("inner", input, other)
    k = input.shape[-1]
    if other.shape[-1] != k:
        raise mark(RuntimeError(f"inner: the last dimension must match on both input tensors "
                                f"but got shapes {list(input.shape)} and {list(other.shape)}"))
    result = Matmul.apply(_rows(input), _rows(other).mT)
    return _finish(result.reshape(input.shape[:-1] + other.shape[:-1]), out)


@public(aliases=("ger",))
def outer(input, vec2, *, out=None):
    _check_ndims("outer", ("input", "vec2"), input, 1, vec2, 1)
    return _finish(input.unsqueeze(1) * vec2, out)


# ---- beta * input + alpha * product ----------------------------------------------------------

class AddScaled(Function):
    """``beta * input + alpha * product``, ``input`` broadcast to the product's shape; with
    ``beta == 0`` the input is ignored (its NaNs do not propagate), as in PyTorch."""
    _raw = True
    op_name = "add_scaled"

    @staticmethod
    def forward(ctx, input, product, beta, alpha):
        ctx.in_shape, ctx.beta, ctx.alpha = input.shape, beta, alpha
        out = product * alpha if alpha != 1 else product
        if beta != 0:
            out = out + (input * beta if beta != 1 else input)
        elif out is product:
            out = product.copy()
        return out.astype(product.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        g_in, g_prod = ctx._edges[:2]
        beta, alpha = ctx.beta, ctx.alpha
        return (sum_to(grad * beta.conjugate(), ctx.in_shape) if g_in else None,
                (grad * alpha.conjugate() if alpha != 1 else grad) if g_prod else None,
                None, None)


def _add_scaled(op, input, product, beta, alpha, out):
    """The ``add*`` ops' last step: ``input`` must broadcast to the product's shape."""
    shape = product._data.shape
    have = input._data.shape
    if have != shape:
        lead = len(shape) - len(have)
        if lead < 0 or any(h != s and h != 1 for h, s in zip(have, shape[lead:])):
            raise mark(RuntimeError(f"{op}: input of shape {list(have)} cannot be broadcast to "
                                    f"the product's shape {list(shape)}"))
    if product._data.dtype in INT_NP:  # integer ops take integer factors, as in PyTorch
        beta, alpha = int(beta), int(alpha)
    return _finish(AddScaled.apply(input, product, beta, alpha), out)


@public(inplace=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    _check_ndims("addmm", ("mat1", "mat2"), mat1, 2, mat2, 2)
    _check_matmul("addmm", mat1, mat2)
    _check_dtypes("addmm", input, mat1)
    return _add_scaled("addmm", input, Matmul.apply(mat1, mat2), beta, alpha, out)


@public(inplace=True)
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    _check_ndims("addmv", ("mat", "vec"), mat, 2, vec, 1)
    _check_matmul("addmv", mat, vec)
    _check_dtypes("addmv", input, mat)
    return _add_scaled("addmv", input, _matmul(mat, vec), beta, alpha, out)


@public(inplace=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    _check_ndims("addr", ("vec1", "vec2"), vec1, 1, vec2, 1)
    product = outer(vec1, vec2)
    if input.dtype is not product.dtype:  # addr promotes, unlike the matrix products
        dtype = _dtype.promote_types(input.dtype, product.dtype)
        input, product = input.to(dtype), product.to(dtype)
    if product._data.dtype is BOOL_NP:  # logical: (beta and input) or (alpha and product)
        data = (input._data & bool(beta)) | (product._data & bool(alpha))
        shape = broadcast_shape(input.shape, product.shape)
        return _finish(_new_tensor(input._xp().broadcast_to(data, shape).copy()), out)
    return _add_scaled("addr", input, product, beta, alpha, out)


@public(inplace=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    _check_bmm("baddbmm", batch1, batch2)
    _check_dtypes("baddbmm", input, batch1)
    return _add_scaled("baddbmm", input, Matmul.apply(batch1, batch2), beta, alpha, out)


@public(inplace=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    _check_bmm("addbmm", batch1, batch2)
    _check_dtypes("addbmm", input, batch1)
    b, n, k = batch1.shape
    m = batch2.shape[2]
    # The sum over the batch of b1[i] @ b2[i] is one product of (n, b*k) by (b*k, m).
    product = Matmul.apply(batch1.permute(1, 0, 2).reshape(n, b * k), batch2.reshape(b * k, m))
    return _add_scaled("addbmm", input, product, beta, alpha, out)


# ---- products of several matrices, tensordot, kron, trace -------------------------------------

def chain_product(op, tensors):
    """The product of a chain of matrices (the first and last may be vectors), multiplied in
    the order that needs the fewest multiplications (dynamic programming over the split)."""
    n = len(tensors)
    first_vec, last_vec = tensors[0]._data.ndim == 1, tensors[-1]._data.ndim == 1
    mats = list(tensors)
    if first_vec:
        mats[0] = mats[0].unsqueeze(0)
    if last_vec:
        mats[-1] = mats[-1].unsqueeze(1)
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    for i in range(n - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise mark(RuntimeError(
                f"{op}: tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                f"{list(tensors[i + 1].shape)} cannot be multiplied"))
    # cost[i][j]: fewest scalar multiplications for mats[i..j]; split[i][j]: where to cut.
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min(
                (cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1], k)
                for k in range(i, j))

    def product(i, j):
        if i == j:
            return mats[i]
        k = split[i][j]
        return Matmul.apply(product(i, k), product(k + 1, j))

    result = product(0, n - 1)
    if first_vec:
        result = result.squeeze(0)
    if last_vec:
        result = result.squeeze(-1)
    return result


@public(method=False)
def chain_matmul(*matrices, out=None):
    if len(matrices) == 1 and isinstance(matrices[0], (list, tuple)):
        matrices = tuple(matrices[0])
    if not matrices:
        raise mark(RuntimeError("chain_matmul(): Expected one or more matrices"))
    for i, m in enumerate(matrices):
        _check_tensors("chain_matmul", m)
        if m._data.ndim != 2:
            raise mark(RuntimeError(f"chain_matmul(): Tensor dimension is {m._data.ndim}, "
                                    f"expected 2 instead (matrix {i}: {describe(m)})"))
    _check_dtypes("chain_matmul", *matrices)
    warn_deprecated("torch.chain_matmul", "in favor of torch.linalg.multi_dot, which accepts a "
                    "list of two or more tensors rather than multiple parameters,")
    if len(matrices) == 1:
        return _finish(matrices[0].clone(), out)
    return _finish(chain_product("chain_matmul", matrices), out)


def _tensordot_dims(a, b, dims):
    if isinstance(dims, Tensor):
        dims = dims.tolist()
    if isinstance(dims, int):
        if dims < 0:
            raise mark(RuntimeError(f"tensordot: expects dims >= 0, but got dims={dims}"))
        if dims > min(a.ndim, b.ndim):
            raise mark(RuntimeError(f"tensordot: expects dims < ndim_a or ndim_b, but got "
                                    f"dims={dims} for shapes {list(a.shape)} and "
                                    f"{list(b.shape)}"))
        return list(range(a.ndim - dims, a.ndim)), list(range(dims))
    if not isinstance(dims, (list, tuple)) or len(dims) != 2:
        raise mark(TypeError(f"tensordot: dims must be an int or a pair of lists of dims, got "
                             f"{dims!r}"))
    da, db = ([d] if isinstance(d, int) else list(d) for d in dims)
    if isinstance(dims[0], int) and isinstance(dims[1], int) and not isinstance(dims, list):
        raise mark(TypeError(f"tensordot: dims=({dims[0]}, {dims[1]}) is ambiguous; pass "
                             f"([{dims[0]}], [{dims[1]}]) to contract one pair of dims"))
    if len(da) != len(db):
        raise mark(RuntimeError(f"tensordot: both dimension lists should have same length, got "
                                f"{da} and {db}"))
    from ._dims import normalize_dim
    return ([normalize_dim("tensordot", d, a.ndim) for d in da],
            [normalize_dim("tensordot", d, b.ndim) for d in db])


@public(method=False)
def tensordot(a, b, dims=2, out=None):
    _check_tensors("tensordot", a, b)
    _check_dtypes("tensordot", a, b)
    da, db = _tensordot_dims(a, b, dims)
    for i, j in zip(da, db):  # a contracted dim of size 1 broadcasts, as in PyTorch
        if a.shape[i] == 1 and b.shape[j] != 1:
            a = a.expand(*(b.shape[j] if d == i else -1 for d in range(a.ndim)))
        elif b.shape[j] == 1 and a.shape[i] != 1:
            b = b.expand(*(a.shape[i] if d == j else -1 for d in range(b.ndim)))
        if a.shape[i] != b.shape[j]:
            raise mark(RuntimeError(
                f"tensordot: contracted dimensions need to match, but first has size "
                f"{a.shape[i]} in dim {i} and second has size {b.shape[j]} in dim {j} (shapes "
                f"{list(a.shape)} and {list(b.shape)})"))
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = int(np.prod([a.shape[d] for d in da]))
    shape_a = [a.shape[d] for d in free_a]
    shape_b = [b.shape[d] for d in free_b]
    # Contract as one matrix product: (free_a, contracted) @ (contracted, free_b).
    left = a.permute(*free_a, *da).reshape(int(np.prod(shape_a)), k)
    right = b.permute(*db, *free_b).reshape(k, int(np.prod(shape_b)))
    return _finish(Matmul.apply(left, right).reshape(shape_a + shape_b), out)


@public
def kron(input, other, *, out=None):
    _check_tensors("kron", input, other)
    nd = max(input._data.ndim, other._data.ndim)
    sa = (1,) * (nd - input._data.ndim) + input._data.shape
    sb = (1,) * (nd - other._data.ndim) + other._data.shape
    # a[i, None, j, None] * b[None, k, None, l] has the blocks of kron in its interleaved dims.
    a = input.reshape([s for n in sa for s in (n, 1)])
    b = other.reshape([s for n in sb for s in (1, n)])
    return _finish((a * b).reshape([x * y for x, y in zip(sa, sb)]), out)


class Trace(Function):
    _raw = True
    op_name = "trace"

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        dtype = np.int64 if x.dtype in INT_NP else x.dtype
        return ctx.xp.asarray(ctx.xp.trace(x, dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        eye = grad._xp().eye(*ctx.shape, dtype=grad._data.dtype)
        return grad * _new_tensor(eye)


@public
def trace(input):
    _check_tensors("trace", input)
    if input._data.ndim != 2:
        raise mark(RuntimeError(f"trace: expected a matrix, but got tensor with dim "
                                f"{input._data.ndim} ({describe(input)})"))
    if input._data.dtype is BOOL_NP:
        raise mark(NotImplementedError("trace: not implemented for bool tensors; convert with "
                                       ".int() first"))
    return Trace.apply(input)


# ---- einsum ----------------------------------------------------------------------------------
#
# The public function parses the equation into integer labels per operand dim (NumPy's
# "sublist" form), expanding ellipses and dropping size-1 dims that broadcast against a larger
# size of the same label (so every label has one size). ``Einsum`` then runs ``xp.einsum``;
# its backward is one more einsum per operand, of the output gradient and the other operands.

_SUBSCRIPTS = string.ascii_uppercase + string.ascii_lowercase  # sublist ints 0..51, in order
_PATHS = {}  # contraction paths NumPy chose, per (labels, shapes)


class Einsum(Function):
    _raw = True
    op_name = "einsum"

    @staticmethod
    def forward(ctx, *args):
        *arrays, (subs, out_sub) = args
        ctx.spec = (subs, out_sub)
        ctx.save_for_backward(*arrays)
        xp = ctx.xp
        dtype = arrays[0].dtype
        if dtype in _LOW_PRECISION:
            arrays = [a.astype(np.float32) for a in arrays]
        operands = [x for pair in zip(arrays, subs) for x in pair]
        if len(arrays) == 1:
            out = xp.einsum(*operands, out_sub)
            if xp.may_share_memory(out, arrays[0]):
                out = out.copy()
        else:
            out = xp.einsum(*operands, out_sub, optimize=_path(xp, operands, out_sub))
        return xp.asarray(out).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        ops = ctx.saved_tensors
        subs, out_sub = ctx.spec
        grads = [_einsum_operand_grad(i, grad, ops, subs, out_sub) if edge else None
                 for i, edge in enumerate(ctx._edges[:-1])]
        return (*grads, None)


def _path(xp, operands, out_sub):
    """NumPy's greedy contraction order (BLAS where it can), cached per labels and shapes."""
    if xp is not np:
        return True
    key = (tuple(x.shape if isinstance(x, np.ndarray) else tuple(x) for x in operands),
           tuple(out_sub))
    path = _PATHS.get(key)
    if path is None:
        if len(_PATHS) > 4096:
            _PATHS.clear()
        path = _PATHS[key] = np.einsum_path(*operands, out_sub, optimize="greedy")[0]
    return path


def _einsum_operand_grad(i, grad, ops, subs, out_sub):
    """The gradient of operand ``i``: einsum of the output gradient with the other operands
    (conjugated), onto operand ``i``'s labels. A label that appears only in operand ``i`` is
    broadcast with a vector of ones; a repeated label (a diagonal) is put back on the diagonal
    with an identity matrix."""
    xp = grad._xp()
    dtype = grad._data.dtype
    terms = [(grad, out_sub)] + [(_conj(op), s) for j, (op, s) in enumerate(zip(ops, subs))
                                  if j != i]
    present = set(out_sub).union(*(s for j, s in enumerate(subs) if j != i))
    fresh = max(set(out_sub).union(*subs), default=-1) + 1
    shape = ops[i].shape
    target, seen = [], set()
    for axis, label in enumerate(subs[i]):
        n = shape[axis]
        if label in seen:
            terms.append((_new_tensor(xp.eye(n, dtype=dtype)), (label, fresh)))
            target.append(fresh)
            fresh += 1
            continue
        seen.add(label)
        target.append(label)
        if label not in present:
            terms.append((_new_tensor(xp.ones(n, dtype=dtype)), (label,)))
    return Einsum.apply(*(t for t, _ in terms), (tuple(s for _, s in terms), tuple(target)))


def _einsum_error(text):
    return mark(RuntimeError(f"einsum(): {text}"))


def _parse_term(term, index):
    """A term of the equation as a list of letters and at most one Ellipsis."""
    items, pos = [], 0
    while pos < len(term):
        c = term[pos]
        if c == ".":
            if term[pos:pos + 3] != "...":
                raise _einsum_error(f"found '.' for operand {index} that is not part of any "
                                    f"ellipsis")
            if Ellipsis in items:
                raise _einsum_error(f"found '.' for operand {index} for which an ellipsis was "
                                    f"already found")
            items.append(Ellipsis)
            pos += 3
            continue
        if c not in _SUBSCRIPTS:
            raise _einsum_error(f"invalid subscript given at index {pos} in the equation "
                                f"string, subscripts must be in [a-zA-Z]")
        items.append(c)
        pos += 1
    return items


def _sublist(items):
    out = []
    for s in items:
        if s is Ellipsis:
            out.append(s)
        elif isinstance(s, int) and 0 <= s < 52:
            out.append(_SUBSCRIPTS[s])
        else:
            raise mark(ValueError(f"einsum(): subscript in subscript list is not within the "
                                  f"valid range [0, 52), got {s!r}"))
    return out


def _einsum_args(args):
    """(terms, output term or None, operands) from ``einsum(eq, *ops)``,
    ``einsum(eq, [ops])`` or the sublist form ``einsum(op0, sub0, op1, sub1, ..., [out])``."""
    if not args:
        raise mark(TypeError("einsum(): expected an equation and operands"))
    if isinstance(args[0], str):
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        lhs, arrow, rhs = args[0].replace(" ", "").partition("->")
        terms = [_parse_term(t, i) for i, t in enumerate(lhs.split(","))]
        output = _parse_term(rhs, "output") if arrow else None
    else:
        operands, terms = args[0::2], [_sublist(s) for s in args[1::2]]
        output = None
        if len(args) % 2:  # a trailing output sublist
            operands, output = operands[:-1], _sublist(args[-1])
    for op in operands:
        _check_tensors("einsum", op)
    if len(terms) > len(operands):
        raise _einsum_error("fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise _einsum_error("more operands were provided than specified in the equation")
    return terms, output, list(operands)


def _expand_terms(terms, operands):
    """Each term as one symbol per operand dim (ellipsis dims become ("...", k), aligned from
    the right), and the size of every symbol after broadcasting."""
    ell_ndim = 0
    expanded = []
    for i, (term, op) in enumerate(zip(terms, operands)):
        ndim = op._data.ndim
        letters = len(term) - (Ellipsis in term)
        if Ellipsis in term:
            if letters > ndim:
                raise _einsum_error(f"the number of subscripts in the equation ({letters}) is "
                                    f"more than the number of dimensions ({ndim}) for operand "
                                    f"{i}")
            k = term.index(Ellipsis)
            n_ell = ndim - letters
            ell_ndim = max(ell_ndim, n_ell)
            expanded.append((term[:k], n_ell, term[k + 1:]))
        else:
            if letters != ndim:
                raise _einsum_error(f"the number of subscripts in the equation ({letters}) does "
                                    f"not match the number of dimensions ({ndim}) for operand "
                                    f"{i} and no ellipsis was given")
            expanded.append((term, 0, []))
    symbols, sizes = [], {}
    for i, ((head, n_ell, tail), op) in enumerate(zip(expanded, operands)):
        syms = list(head) + [("...", k) for k in range(ell_ndim - n_ell, ell_ndim)] + list(tail)
        own = {}
        for sym, n in zip(syms, op._data.shape):
            if sym in own and own[sym] != n:
                raise _einsum_error(f"subscript {sym} is repeated for operand {i} but the sizes "
                                    f"don't match, {own[sym]} != {n}")
            own[sym] = n
            seen = sizes.get(sym, 1)
            if n != seen and n != 1 and seen != 1:
                what = (f"dimension {sym[1]} covered by ellipsis in operand {i} has size {n}"
                        if isinstance(sym, tuple) else
                        f"subscript {sym} has size {n} for operand {i}")
                raise _einsum_error(f"{what} which does not broadcast with previously seen size "
                                    f"{seen}")
            sizes[sym] = n if seen == 1 else seen
        symbols.append(syms)
    return symbols, sizes, ell_ndim


def _output_symbols(output, symbols, ell_ndim):
    ellipsis = [("...", k) for k in range(ell_ndim)]
    if output is None:  # implicit: broadcast dims, then the labels seen once, in order
        counts = {}
        for syms in symbols:
            for s in syms:
                if not isinstance(s, tuple):
                    counts[s] = counts.get(s, 0) + 1
        return ellipsis + sorted((s for s, c in counts.items() if c == 1), key=_SUBSCRIPTS.index)
    seen_in = set().union(*symbols)
    out = []
    for s in output:
        if s is Ellipsis:
            out.extend(ellipsis)
            continue
        if s not in seen_in:
            raise _einsum_error(f"output subscript {s} does not appear in the equation for any "
                                f"input operand")
        if s in out:
            raise _einsum_error(f"output subscript {s} appears more than once in the output")
        out.append(s)
    return out


@public(method=False)
def einsum(*args):
    """``einsum(equation, *operands)``: Einstein summation, with ``...`` for broadcast dims,
    repeated labels for diagonals, and an implicit output (the labels seen once, sorted) when
    the equation has no ``->``."""
    terms, output, operands = _einsum_args(args)
    if operands:
        _check_dtypes("einsum", *operands)
    symbols, sizes, ell_ndim = _expand_terms(terms, operands)
    out_symbols = _output_symbols(output, symbols, ell_ndim)
    labels = {}
    subs = []
    for i, (syms, op) in enumerate(zip(symbols, operands)):
        shape = op._data.shape
        # A size-1 dim broadcast against a larger size is dropped: it is constant along it.
        keep = [d for d, s in enumerate(syms) if shape[d] == sizes[s] or shape[d] != 1]
        if len(keep) != len(syms):
            operands[i] = op.reshape([shape[d] for d in keep])
        subs.append(tuple(labels.setdefault(syms[d], len(labels)) for d in keep))
    out_sub = tuple(labels[s] for s in out_symbols)
    return Einsum.apply(*operands, (tuple(subs), out_sub))
