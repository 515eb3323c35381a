"""``ember.utils.dlpack``: DLPack exchange, as torch.utils.dlpack."""
from .._dlpack import from_dlpack, to_dlpack  # noqa: F401

__all__ = ["from_dlpack", "to_dlpack"]
