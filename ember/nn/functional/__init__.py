"""``ember.nn.functional``: the functional forms of the layers, one module per family; each
family module's ``__all__`` is exported here."""
from . import (activation, linear, dropout, sparse, loss, distance, misc, conv, pooling,  # noqa: F401
               vision, normalization, attention)
from ..modules._exports import exported as _exported

globals().update(_exported(__name__))
