"""``torch.backends.mps``: ember has no Apple-GPU (MPS) backend."""


def is_available():
    return False


def is_built():
    return False
