"""``torch.version``: the version is ember's; ``cuda`` and ``hip`` are None as in a CPU build of
PyTorch (ember reaches the GPU through CuPy, not through a CUDA build of itself)."""
from ... import __version__  # noqa: F401

debug = False
cuda = None
hip = None
git_version = "unknown"
