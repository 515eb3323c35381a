"""Comparing ember.utils.data results with torch.utils.data's."""
import collections.abc

import numpy as np
import torch

from helpers import assert_same


def same(e, t, what="batch"):
    """``e`` (ember) matches ``t`` (torch) exactly: container types, keys, lengths, and
    tensors with the same shape, dtype and values."""
    if isinstance(t, torch.Tensor):
        assert_same(e, t, what=what)
    elif isinstance(t, np.ndarray):
        assert isinstance(e, np.ndarray) and e.dtype == t.dtype, what
        np.testing.assert_array_equal(e, t)
    elif isinstance(t, collections.abc.Mapping):
        assert type(e) is type(t), f"{what}: {type(e).__name__} != torch {type(t).__name__}"
        assert list(e) == list(t), f"{what}: keys {list(e)} != torch {list(t)}"
        for k in t:
            same(e[k], t[k], f"{what}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert type(e) is type(t), f"{what}: {type(e).__name__} != torch {type(t).__name__}"
        assert len(e) == len(t), f"{what}: {len(e)} items != torch {len(t)}"
        for i, (a, b) in enumerate(zip(e, t)):
            same(a, b, f"{what}[{i}]")
    else:
        assert type(e) is type(t) and e == t, f"{what}: {e!r} != torch {t!r}"
