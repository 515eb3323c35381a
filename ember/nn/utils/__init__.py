"""``ember.nn.utils``: gradient clipping, parameter vectors, packed sequences."""
from . import clip_grad, convert_parameters, rnn  # noqa: F401
from ..modules._exports import exported as _exported

globals().update(_exported(__name__))
