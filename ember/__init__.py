"""ember: PyTorch's programming model and API, in Python, on NumPy and CuPy."""
import os as _os
import sys as _sys

# One BLAS thread unless the environment says otherwise (see ember/_threads.py: OpenBLAS's
# spinning threads make small and mid-sized products many times slower as soon as another
# process competes for the cores). Set before NumPy loads its BLAS; ember.set_num_threads(n)
# changes it later.
_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_THREADS_FROM_ENV = any(v in _os.environ for v in _BLAS_THREAD_VARS)
if not _THREADS_FROM_ENV and "numpy" not in _sys.modules:
    _os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as _np  # noqa: E402

# PyTorch does not warn on overflow, division by zero or invalid values (it returns inf / nan);
# NumPy's warnings for them would be noise in every ember program.
_np.seterr(all="ignore")

from ._dtype import (dtype, bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32,  # noqa: E402,F401
                     float64, complex64, complex128, half, float, double, short, int, long,
                     cfloat, cdouble, chalf, finfo, iinfo, get_default_dtype, set_default_dtype)
from ._device import device  # noqa: E402
from ._size import Size  # noqa: E402
from ._tensor import Tensor  # noqa: E402
from ._errors import LinAlgError  # noqa: E402,F401
from . import autograd  # noqa: E402
from .autograd import (no_grad, enable_grad, set_grad_enabled, inference_mode,  # noqa: E402
                       is_grad_enabled, is_inference_mode_enabled, set_detect_anomaly)
from . import ops as _ops  # noqa: E402,F401
from . import _creation, _tensor_str, _threads, random, _dlpack, linalg, cuda, serialization  # noqa: E402,F401
from .ops._registry import PUBLIC as _PUBLIC  # noqa: E402


class _Layout:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"ember.{self.name}"


strided = _Layout("strided")
# Memory formats are accepted wherever PyTorch takes memory_format=; ember's tensors are always
# laid out row-major (contiguous_format), so the others only name PyTorch's options.
contiguous_format = _Layout("contiguous_format")
preserve_format = _Layout("preserve_format")
channels_last = _Layout("channels_last")
channels_last_3d = _Layout("channels_last_3d")

globals().update(_PUBLIC)

from . import nn, optim, utils  # noqa: E402,F401

if not _THREADS_FROM_ENV and _threads.blas_threads_adjustable():
    set_num_threads(1)  # noqa: F821  (NumPy was imported before ember: limit it at run time)

__version__ = "0.1.0"


def __getattr__(name):
    raise AttributeError(
        f"module 'ember' has no attribute '{name}': torch.{name} is not covered by ember "
        f"(see the README for what ember covers)")
