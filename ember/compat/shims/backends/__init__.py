"""``torch.backends``: switches for libraries ember does not use (cuDNN, MPS, MKL-DNN).

Settings are accepted, kept (so that reading them back gives what was set) and have no effect;
``is_available()`` is False for each, which is what PyTorch reports without that library."""
from . import cuda, cudnn, mkldnn, mps  # noqa: F401
