"""ember.utils: data loading, DLPack exchange and tools around training."""
from . import data, dlpack, hooks  # noqa: F401
