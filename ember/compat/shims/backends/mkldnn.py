"""``torch.backends.mkldnn``: ember does not use MKL-DNN (oneDNN); the switch has no effect."""
import sys

from ._flags import scoped

enabled = True


def is_available():
    return False


def flags(enabled=False):
    return scoped(sys.modules[__name__], enabled=enabled)
