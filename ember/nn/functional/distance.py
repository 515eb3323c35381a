"""nn.functional distances: pairwise_distance, cosine_similarity, pdist."""
from ..._errors import mark, describe
from ..._tensor import Tensor
from ...autograd.grad_mode import no_grad
from ...linalg import vector_norm
from ...ops._promote import result_type

__all__ = ["pairwise_distance", "cosine_similarity", "pdist"]


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """The p-norm of ``x1 - x2 + eps`` over the last dim (of the broadcast shape)."""
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise mark(TypeError(f"pairwise_distance(): argument '{name}' must be Tensor, not "
                                 f"{type(t).__name__}"))
    return vector_norm(x1 - x2 + eps, p, dim=-1, keepdim=keepdim)


def _clamped(norm, eps):
    """``norm`` with values below ``eps`` raised to ``eps``; the gradient flows as through
    ``norm`` (PyTorch clamps in place under no_grad)."""
    with no_grad():
        lift = norm.clamp_min(eps) - norm
    return norm + lift


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``sum(x1 / |x1| * x2 / |x2|)`` along ``dim`` (inputs broadcast; norms at least eps)."""
    for name, t in (("x1", x1), ("x2", x2)):
        if not isinstance(t, Tensor):
            raise mark(TypeError(f"cosine_similarity(): argument '{name}' must be Tensor, not "
                                 f"{type(t).__name__}"))
    common = result_type(x1, x2)
    if not (common.is_floating_point or common.is_complex):
        raise mark(RuntimeError(f"cosine_similarity: expected common dtype to be floating "
                                f"point, yet common dtype is {common.name} (x1 {describe(x1)}, "
                                f"x2 {describe(x2)}); convert them with .float()"))
    x1, x2 = x1.to(common), x2.to(common)
    shape = _broadcast(x1, x2)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)
    n1 = _clamped(vector_norm(x1, 2, dim=dim, keepdim=True), eps)
    n2 = _clamped(vector_norm(x2, 2, dim=dim, keepdim=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def _broadcast(a, b):
    from ...ops._broadcast import broadcast_shape
    try:
        return broadcast_shape(a.shape, b.shape)
    except RuntimeError:
        raise mark(RuntimeError(f"cosine_similarity: x1 {describe(a)} and x2 {describe(b)} "
                                f"cannot be broadcast together")) from None


def pdist(input, p=2):
    """The p-norm distances between all pairs of rows (i < j) of a 2-D input, as a vector of
    N(N-1)/2 entries."""
    if not isinstance(input, Tensor):
        raise mark(TypeError(f"pdist(): argument 'input' must be Tensor, not "
                             f"{type(input).__name__}"))
    if input.ndim != 2:
        raise mark(RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D "
                                f"({describe(input)})"))
    if p < 0:
        raise mark(RuntimeError(f"pdist only supports non-negative p values, got {p}"))
    from ...ops.shape import triu_indices
    n = input.shape[0]
    i, j = triu_indices(n, n, 1, device=input.device)
    return vector_norm(input[i] - input[j], p, dim=1)
