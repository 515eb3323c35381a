"""The array modules behind devices: NumPy for "cpu", CuPy for "cuda" (imported on first use).

Device-specific kernels (convolution, pooling, fused kernels) live in ``cpu.py`` and ``cuda.py``;
everything else is written once against ``xp`` (``numpy`` or ``cupy``)."""
import numpy as np

from .._device import CPU, device

_cupy = None


def cupy():
    """The cupy module, or an ImportError that names the extra to install."""
    global _cupy
    if _cupy is None:
        try:
            import cupy as cp
        except ImportError as e:
            raise ImportError(
                "CUDA tensors need CuPy, which is not installed: pip install 'ember[cuda]' "
                f"(or cupy-cuda12x / cupy-cuda13x matching your CUDA driver). ({e})") from None
        _cupy = cp
    return _cupy


def xp_for(dev):
    """numpy for the CPU, cupy for a CUDA device."""
    return np if dev.type == "cpu" else cupy()


def xp_of(arr):
    """The array module of an array."""
    return np if type(arr) is np.ndarray else cupy()


def move(arr, dev):
    """Copy ``arr`` to device ``dev`` (returns ``arr`` itself if it is already there)."""
    if dev.type == "cpu":
        return arr if type(arr) is np.ndarray else arr.get()
    cp = cupy()
    index = 0 if dev.index is None else dev.index
    if type(arr) is not np.ndarray and arr.device.id == index:
        return arr
    with cp.cuda.Device(index):
        return cp.asarray(arr)


def current_cuda_index():
    return cupy().cuda.runtime.getDevice()


def resolve(dev):
    """A concrete device: 'cuda' without an index becomes the current CUDA device."""
    if dev.type == "cuda" and dev.index is None:
        return device("cuda", current_cuda_index())
    return dev


__all__ = ["CPU", "cupy", "xp_for", "xp_of", "move", "resolve"]
