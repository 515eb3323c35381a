"""``torch.accelerator``: ember's accelerator is CUDA (through CuPy), when a GPU is present."""
from ... import cuda as _cuda
from ..._device import device as _device


def is_available():
    return _cuda.is_available()


def device_count():
    return _cuda.device_count() if _cuda.is_available() else 0


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when CUDA is usable, else None."""
    return _device("cuda") if _cuda.is_available() else None


def current_device_index():
    return _cuda.current_device() if _cuda.is_available() else -1


def set_device_index(device):
    _cuda.set_device(device)


def synchronize(device=None):
    if _cuda.is_available():
        _cuda.synchronize(device)
