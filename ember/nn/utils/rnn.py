"""Packed and padded sequences for recurrent layers: PackedSequence, pack_padded_sequence,
pad_packed_sequence, pad_sequence, unpad_sequence, pack_sequence, unpack_sequence,
invert_permutation.

A packed batch stores the sequences time step by time step: the rows of step ``t`` are the
``batch_sizes[t]`` sequences (sorted by decreasing length) that are at least ``t + 1`` long.
Packing and padding are each one differentiable ``index_select`` with an index computed in
NumPy from the lengths."""
from collections import namedtuple

import numpy as np

from ... import _dtype
from ..._creation import arange, full, tensor, zeros_like
from ..._errors import describe, mark
from ..._tensor import Tensor
from ...ops.shape import cat

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices",
                                                    "unsorted_indices"])):
    """A batch of variable-length sequences in packed layout (see the module docstring):
    ``data`` (rows, *), ``batch_sizes`` (an int64 CPU tensor, one entry per time step) and the
    permutation that sorted the batch by length (``sorted_indices``) with its inverse. Made by
    ``pack_padded_sequence`` / ``pack_sequence``, consumed by RNN, LSTM and GRU."""
    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        elif batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence "
                             "should never be created manually. They should be instantiated by "
                             "functions like pack_sequence and pack_padded_sequences in "
                             "nn.utils.rnn.")
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """``data`` converted as ``Tensor.to`` does; the permutations follow its device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = lambda t: t.to(data.device)  # noqa: E731
        return type(self)(data, self.batch_sizes, _bind(self.sorted_indices, move),
                          _bind(self.unsorted_indices, move))

    def cuda(self, *args, **kwargs):
        return self.to(*args, **kwargs) if args or "device" in kwargs else self.to("cuda",
                                                                                    **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to("cpu", *args, **kwargs)

    def pin_memory(self):
        return self

    def double(self):
        return self.to(dtype=_dtype.float64)

    def float(self):
        return self.to(dtype=_dtype.float32)

    def half(self):
        return self.to(dtype=_dtype.float16)

    def long(self):
        return self.to(dtype=_dtype.int64)

    def int(self):
        return self.to(dtype=_dtype.int32)

    def short(self):
        return self.to(dtype=_dtype.int16)

    def char(self):
        return self.to(dtype=_dtype.int8)

    def byte(self):
        return self.to(dtype=_dtype.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The inverse of a permutation tensor (None for None)."""
    if permutation is None:
        return None
    n = permutation.numel()
    return zeros_like(permutation).scatter_(0, permutation, arange(n, device=permutation.device))


def _lengths_array(lengths):
    """The lengths as a 1-D int64 NumPy array (from a list or a CPU tensor)."""
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1 or lengths.device.type != "cpu":
            raise mark(RuntimeError(f"pack_padded_sequence: 'lengths' argument should be a 1D "
                                    f"CPU int64 tensor, but got {describe(lengths)}"))
        return lengths._data.astype(np.int64)
    return np.asarray(lengths, dtype=np.int64).reshape(-1)


def _active(lengths, steps):
    """(steps, batch) bool array: sequence b has a step t."""
    return np.arange(steps)[:, None] < lengths[None, :]


def _index(arr, like):
    return tensor(arr, dtype=_dtype.int64, device=like.device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) (or (B, T, *) with ``batch_first``) of sequences with the
    given lengths. With ``enforce_sorted`` the lengths must be in decreasing order; otherwise
    the batch is sorted here and the permutation recorded."""
    lens = _lengths_array(lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2:
        raise mark(RuntimeError(f"pack_padded_sequence: expected an input with at least 2 dims "
                                f"(time and batch), got {describe(input)}"))
    steps, batch = input.shape[1 - batch_dim], input.shape[batch_dim]
    if lens.size != batch:
        raise mark(RuntimeError(f"pack_padded_sequence: Expected `len(lengths)` to be equal to "
                                f"batch_size, but got {lens.size} (batch_size={batch})"))
    if lens.size and lens.min() <= 0:
        raise mark(RuntimeError("pack_padded_sequence: Length of all samples has to be greater "
                                "than 0, but found an element in 'lengths' that is <= 0"))
    if lens.size and lens.max() > steps:
        raise mark(RuntimeError(f"pack_padded_sequence: a length of {lens.max()} is larger than "
                                f"the {steps} time steps of the input {describe(input)}"))
    sorted_indices = None
    order = np.arange(batch)
    if enforce_sorted:
        if np.any(lens[1:] > lens[:-1]):
            raise mark(RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."))
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _index(order, input)
    max_len = int(lens[0]) if lens.size else 0
    t, b = np.nonzero(_active(lens, max_len))  # time-major: the packed order
    src = order[b]
    rows = src * steps + t if batch_first else t * batch + src
    data = input.reshape((steps * batch,) + tuple(input.shape[2:])).index_select(
        0, _index(rows, input))
    batch_sizes = tensor(_active(lens, max_len).sum(1), dtype=_dtype.int64)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch (T, B, *) (or (B, T, *)) of a packed sequence and the lengths (an
    int64 tensor), in the original batch order; ``total_length`` pads to that many steps."""
    sizes = sequence.batch_sizes._data.astype(np.int64)
    steps = sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    data = sequence.data
    batch = int(sizes[0]) if sizes.size else 0
    lens = (np.arange(batch)[None, :] < sizes[:, None]).sum(0)  # per sorted sequence
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rows = np.full((steps, batch), data.shape[0], np.int64)  # the padding row by default
    active = _active(lens, steps)
    t, b = np.nonzero(active)
    rows[t, b] = offsets[t] + b
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices.cpu()._data
        rows, lens = rows[:, unsorted], lens[unsorted]
    if batch_first:
        rows = rows.T
    pad = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, pad]).index_select(0, _index(rows.reshape(-1), data))
    return (padded.reshape(rows.shape + tuple(data.shape[1:])),
            tensor(lens, dtype=_dtype.int64))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padded with
    ``padding_value`` on the ``padding_side``."""
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    try:
        sequences = list(sequences)
    except TypeError:
        raise mark(RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got "
                                f"arg of type: {type(sequences)}")) from None
    if not sequences:
        raise mark(RuntimeError("pad_sequence: received an empty list of sequences"))
    if padding_side not in ("left", "right"):
        raise mark(RuntimeError(f"pad_sequence: Expected padding_side to be one of left or "
                                f"right, but got {padding_side}."))
    if any(s.ndim == 0 for s in sequences):
        raise mark(RuntimeError("pad_sequence: the sequences must have at least one dim (the "
                                "time dim), got a 0-d tensor"))
    lens = np.array([s.shape[0] for s in sequences], np.int64)
    steps = int(lens.max())
    flat = cat(sequences)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    t = np.arange(steps)[:, None]
    pos = t if padding_side == "right" else t - (steps - lens)[None, :]  # step within sequence
    rows = np.where((pos >= 0) & (pos < lens[None, :]), starts[None, :] + pos, flat.shape[0])
    if batch_first:
        rows = rows.T
    pad = full((1,) + tuple(flat.shape[1:]), padding_value, dtype=flat.dtype, device=flat.device)
    out = cat([flat, pad]).index_select(0, _index(rows.reshape(-1), flat))
    return out.reshape(rows.shape + tuple(flat.shape[1:]))


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences (L_i, *) of a padded batch (the inverse of ``pad_sequence``). Unlike
    PyTorch, the input is not transposed in place."""
    seqs = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lens = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    return [seq[:int(n)] for seq, n in zip(seqs.unbind(0), lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (in decreasing length unless ``enforce_sorted`` is
    False)."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences of a packed batch, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
