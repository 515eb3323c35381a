"""``torch.nn.modules.batchnorm``'s names (code imports ``_BatchNorm`` / ``_NormBase`` from here
for isinstance checks); the layers are defined in ``normalization``."""
from .normalization import (_BatchNorm, _NormBase, BatchNorm1d, BatchNorm2d,  # noqa: F401
                            BatchNorm3d, SyncBatchNorm)

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"]
