"""parameters_to_vector and vector_to_parameters."""
from ..._errors import mark
from ..._tensor import Tensor
from ...ops.shape import cat

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _check_device(param, first):
    """The device of the first parameter; a TypeError for a parameter on another device."""
    if first is None:
        return param.device
    if param.device != first:
        raise mark(TypeError("Found two parameters on different devices, this is currently not "
                             "supported."))
    return first


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated into one vector (differentiable)."""
    device = None
    flat = []
    for param in parameters:
        device = _check_device(param, device)
        flat.append(param.reshape(-1))
    return cat(flat)


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the next slice of ``vec`` (shared memory, as PyTorch's
    ``param.data = ...``)."""
    if not isinstance(vec, Tensor):
        raise mark(TypeError(f"expected ember.Tensor, but got: {type(vec).__name__}"))
    device = None
    pointer = 0
    for param in parameters:
        device = _check_device(param, device)
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param).data
        pointer += n
