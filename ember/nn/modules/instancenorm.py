"""``torch.nn.modules.instancenorm``'s names; the layers are defined in ``normalization``."""
from .normalization import (_InstanceNorm, InstanceNorm1d, InstanceNorm2d,  # noqa: F401
                            InstanceNorm3d)

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
