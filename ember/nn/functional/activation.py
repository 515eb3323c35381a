"""nn.functional activations: the primitives of ``ember.ops.activation`` (re-exported), and
``gumbel_softmax``."""
import warnings

from ...ops import activation as _ops
from ...ops.activation import *  # noqa: F401,F403
from ...ops.activation import softmax

__all__ = list(_ops.__all__) + ["gumbel_softmax"]


def gumbel_softmax(logits, tau=1, hard=False, eps=1e-10, dim=-1):
    """A sample from the Gumbel-softmax distribution of ``logits`` at temperature ``tau``;
    with ``hard``, a one-hot vector whose gradient is the soft sample's (straight through)."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    gumbels = -logits.new_empty(logits.shape).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.argmax(dim, keepdim=True)
    y_hard = logits.new_zeros(logits.shape).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft
