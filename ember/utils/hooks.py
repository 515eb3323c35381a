"""``ember.utils.hooks``: ``RemovableHandle``, as torch.utils.hooks."""
from .._hooks import RemovableHandle  # noqa: F401

__all__ = ["RemovableHandle"]
