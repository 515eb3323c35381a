"""The layers of ``ember.nn``, one module per family (as in torch.nn.modules)."""
from . import (container, linear, flatten, activation, dropout, sparse, loss, conv, pooling,  # noqa: F401
               padding, pixelshuffle, upsampling, fold, normalization, rnn, attention,
               transformer)
from ..module import Module
from ._exports import exported

globals().update(exported())
