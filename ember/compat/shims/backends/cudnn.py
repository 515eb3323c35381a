"""``torch.backends.cudnn``: ember does not use cuDNN (its GPU kernels are CuPy's and cuBLAS),
so these switches have no effect."""
import sys

from ._flags import scoped

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None


def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
          allow_tf32=True):
    return scoped(sys.modules[__name__], enabled=enabled, benchmark=benchmark,
                  benchmark_limit=benchmark_limit, deterministic=deterministic,
                  allow_tf32=allow_tf32)
