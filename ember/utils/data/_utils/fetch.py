"""Fetchers: turn what the sampler yields into a (collated) batch, the same way in the main
process and in worker processes.

- map-style datasets: ``dataset[i]`` per index (or ``dataset.__getitems__(indices)``), then
  ``collate_fn``; without auto-batching the sampler's item goes to ``dataset[item]`` as is.
- iterable datasets: the next ``len(index)`` samples of ``iter(dataset)`` (the sampler's items
  only count them); ``StopIteration`` when the stream is exhausted (or, with ``drop_last``,
  when only a partial batch is left)."""
import numpy as np

from ...._tensor import _new_tensor
from .collate import default_collate


class _DatasetKind:
    Map = 0
    Iterable = 1

    @staticmethod
    def create_fetcher(kind, dataset, auto_collation, collate_fn, drop_last):
        cls = _MapDatasetFetcher if kind == _DatasetKind.Map else _IterableDatasetFetcher
        return cls(dataset, auto_collation, collate_fn, drop_last)


class _BaseDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last

    def fetch(self, possibly_batched_index):
        raise NotImplementedError


class _IterableDatasetFetcher(_BaseDatasetFetcher):
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        data = []
        for _ in possibly_batched_index:
            try:
                data.append(next(self.dataset_iter))
            except StopIteration:
                self.ended = True
                break
        if not data or (self.drop_last and len(data) < len(possibly_batched_index)):
            raise StopIteration
        return self.collate_fn(data)


class _MapDatasetFetcher(_BaseDatasetFetcher):
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
        from ..dataset import TensorDataset
        self._gather = (auto_collation and collate_fn is default_collate
                        and type(dataset) is TensorDataset)

    def fetch(self, possibly_batched_index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[possibly_batched_index])
        if self._gather:
            batch = _gather_tensor_batch(self.dataset.tensors, possibly_batched_index)
            if batch is not None:
                return batch
        getitems = getattr(self.dataset, "__getitems__", None)
        if getitems:
            data = getitems(possibly_batched_index)
        else:
            data = [self.dataset[i] for i in possibly_batched_index]
        return self.collate_fn(data)


def _gather_tensor_batch(tensors, indices):
    """``default_collate([dataset[i] for i in indices])`` for a ``TensorDataset``, computed
    with one fancy-indexing step per tensor: the same values and dtypes without a Python loop
    over the batch. None where that shortcut does not apply (non-integer or out-of-range
    indices, CUDA tensors, tensors that require grad); the caller then takes the general
    path, which also raises the right errors."""
    idx = np.asarray(indices)
    if idx.ndim != 1 or idx.dtype.kind not in "iu" or idx.size == 0:
        return None
    n = len(tensors[0])
    if idx.max() >= n or idx.min() < -n:
        return None
    if any(type(t._data) is not np.ndarray or t._rg for t in tensors):
        return None
    return [_new_tensor(t._data[idx]) for t in tensors]
