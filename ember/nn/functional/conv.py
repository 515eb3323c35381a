"""nn.functional: convolutions and im2col (``unfold``) / col2im (``fold``)."""
from ...ops.conv import (conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d,  # noqa: F401
                         conv_transpose3d, unfold, fold)

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold"]
