"""ember.utils: data loading and tools around training."""
from . import data  # noqa: F401
