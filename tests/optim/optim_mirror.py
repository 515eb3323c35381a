"""Running the same optimization in ember and in PyTorch, and comparing what comes out.

Options and inputs are given once, as NumPy values; ``materialize(lib, value)`` turns arrays
into tensors of either library (tuples and dicts recursively), so that e.g. a tensor ``lr``
is written ``np.array(0.01)``."""
import numpy as np
import torch

import ember

# (rtol, atol) per dtype: float32 updates can differ from PyTorch's in the last bit per step
# (PyTorch's CPU kernels use FMA), float64 ones only by reassociation.
TOLERANCES = {"float32": (2e-6, 1e-6), "float64": (1e-10, 1e-12),
              "complex64": (2e-6, 1e-6), "complex128": (1e-10, 1e-12)}


def materialize(lib, value):
    if isinstance(value, np.ndarray):
        return lib.tensor(value.copy())
    if isinstance(value, tuple):
        return tuple(materialize(lib, v) for v in value)
    if isinstance(value, list):
        return [materialize(lib, v) for v in value]
    if isinstance(value, dict):
        return {k: materialize(lib, v) for k, v in value.items()}
    return value


def leaves(lib, arrays):
    """Leaf tensors requiring grad, with copies of ``arrays`` as values."""
    return [lib.tensor(a.copy()).requires_grad_(True) for a in arrays]


def to_numpy(t):
    return t.detach().numpy().copy()


def dtype_name(t):
    return str(t.dtype).split(".")[-1]


def assert_close(actual, expected, name, what=""):
    """``actual`` (ember) equals ``expected`` (torch) to the tolerance of ``name``'s dtype."""
    rtol, atol = TOLERANCES[name]
    np.testing.assert_allclose(to_numpy(actual), to_numpy(expected), rtol=rtol, atol=atol,
                               err_msg=what)


def assert_same(mine, theirs, tol_dtype, path="state_dict"):
    """An ember object (state dict, list, tensor, number) has the same structure, types,
    dtypes and (to tolerance) values as PyTorch's."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(mine, ember.Tensor), f"{path}: {type(mine).__name__}, not a tensor"
        assert tuple(mine.shape) == tuple(theirs.shape), f"{path}: shape"
        assert dtype_name(mine) == dtype_name(theirs), \
            f"{path}: dtype {mine.dtype} vs {theirs.dtype}"
        assert_close(mine, theirs, tol_dtype, path)
    elif isinstance(theirs, dict):
        assert isinstance(mine, dict), path
        assert set(mine) == set(theirs), f"{path}: keys {sorted(mine)} vs {sorted(theirs)}"
        for key in theirs:
            assert_same(mine[key], theirs[key], tol_dtype, f"{path}[{key!r}]")
    elif isinstance(theirs, (list, tuple)):
        assert type(mine) is type(theirs) and len(mine) == len(theirs), path
        for i, (m, t) in enumerate(zip(mine, theirs)):
            assert_same(m, t, tol_dtype, f"{path}[{i}]")
    elif isinstance(theirs, float) and not isinstance(mine, ember.Tensor):
        rtol, atol = TOLERANCES[tol_dtype]
        assert type(mine) is float, f"{path}: {type(mine).__name__}, not float"
        assert abs(mine - theirs) <= atol + rtol * abs(theirs), f"{path}: {mine} vs {theirs}"
    else:
        assert type(mine) is type(theirs) and mine == theirs, f"{path}: {mine!r} vs {theirs!r}"


def make_optimizer(lib, name, params, options):
    return getattr(lib.optim, name)(params, **materialize(lib, options))
