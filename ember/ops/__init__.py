"""The op library, one module per family. Importing this package binds every op as
``ember.<name>`` and ``Tensor.<name>`` (see ``_registry``)."""
from . import (convert, elementwise, activation, compare, reduce, sort, shape, index,  # noqa: F401
               linalg, conv, pool, resample, norm, attention, rnn)
from ._registry import PUBLIC
from ._promote import result_type
from .._dtype import promote_types, can_cast

PUBLIC.update(result_type=result_type, promote_types=promote_types, can_cast=can_cast)
