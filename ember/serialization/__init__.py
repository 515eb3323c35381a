"""Checkpoints: ``ember.save`` / ``ember.load``, reading PyTorch's files, and safetensors.

``ember.save`` writes ember's own format (see ``_ember_format.py``): a zip archive with a JSON
manifest and the raw bytes of each storage, so that loading never executes anything from the
file. Saving to a path is atomic.

``ember.load`` recognizes what it is given by its first bytes: an ember checkpoint, a PyTorch
checkpoint (the zip format of ``torch.save`` since PyTorch 1.6, or the legacy format), read
through an unpickler that only rebuilds tensors, containers and plain values (see
``_torch_format.py``), or a safetensors file (returns its dict of tensors). torch is never
imported.

safetensors has its own module, ``ember.serialization.safetensors``, with the API of
``safetensors.torch``; ``save_file`` and ``load_file`` are also here."""
from ..ops._registry import public
from . import _ember_format, _io, _torch_format
from . import safetensors
from ._storage import placement
from ._torch_format import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .safetensors import load_file, save_file

_TAR_MAGIC = b"ustar"


@public(method=False)
def save(obj, f, pickle_module=None, pickle_protocol=None):
    """Save ``obj`` to ``f`` (a path or a binary file object).

    ``obj`` may be a tensor, a NumPy array or scalar, a number, string, bytes, None, dtype,
    device or Size, and dicts / OrderedDicts / lists / tuples / namedtuples / sets of them
    (a module's ``state_dict()``, an optimizer's, a training-state dict). Tensors that share
    memory are saved once and share it again when loaded; ``nn.Parameter`` and
    ``requires_grad`` are kept. ``pickle_module`` and ``pickle_protocol`` are accepted for
    PyTorch compatibility and unused: ember's format does not pickle."""
    try:
        prepared = _ember_format.prepare(obj)
    except _ember_format.Unsupported as e:
        raise TypeError(_unsupported_message(e)) from None
    with _io.open_target(f, "ember.save") as file, _io.ZipWriter(file) as writer:
        _ember_format.write(prepared, writer)


def _unsupported_message(e):
    where = f"obj{e.path}"  # obj: the first argument of save
    what = e.reason or f"an object of type {type(e.obj).__name__}"
    if hasattr(e.obj, "state_dict") and callable(e.obj.state_dict):
        fix = (f"save {where}.state_dict() instead and restore it with load_state_dict("
               f"ember.load(f))")
    else:
        fix = ("convert it to one of those first (e.g. vars(args) for an argparse.Namespace, "
               "str(path) for a path, a dict for a dataclass)")
    return (f"ember.save: cannot save {where}: {what}. ember checkpoints hold tensors, NumPy "
            f"arrays, numbers, strings, bytes, None, dtypes, devices and dicts / lists / tuples "
            f"/ sets of them, never pickled Python objects, so that loading is always safe; "
            f"{fix}.")


@public(method=False)
def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Load what ``ember.save`` or ``torch.save`` wrote to ``f`` (a path or a binary file
    object); a safetensors file gives its dict of tensors.

    ``map_location``: None (each storage goes back to the device it was saved from), a device
    or string ('cpu', 'cuda:1'), a dict from saved to wanted location ({'cuda:1': 'cuda:0'}),
    or ``fn(storage, location)`` returning the storage (a uint8 tensor) moved, or None.
    ``mmap=True`` maps the file's storages into memory instead of reading them (zip formats;
    changes to the tensors stay in memory). ``weights_only=False`` lets PyTorch checkpoints
    name any importable global (``torch.X`` looked up as ``ember.X``): use it only for files
    you trust. ``pickle_load_args`` (``encoding``, ``errors``) go to the unpickler, e.g.
    ``encoding='latin1'`` for checkpoints written by Python 2."""
    if pickle_module is not None and getattr(pickle_module, "__name__", "") != "pickle":
        raise TypeError("ember.load: pickle_module is not supported: ember reads PyTorch "
                        "checkpoints with its own restricted unpickler")
    unknown = set(pickle_load_args) - {"encoding", "errors"}
    if unknown:
        raise TypeError(f"ember.load() got unexpected keyword arguments {sorted(unknown)}")
    pickle_load_args.setdefault("encoding", "utf-8")
    place = placement(map_location)
    with _io.open_source(f, "ember.load") as source:
        if mmap and source.path is None:
            raise ValueError(f"ember.load: mmap=True needs a file path, but got {source.name}; "
                             f"pass the path instead of an open file")
        kind = _detect(source)
        if kind == "zip":
            reader = _io.ZipReader(source)
            if _ember_format.MANIFEST in reader.names():
                return _ember_format.load_archive(reader, place, bool(mmap))
            return _torch_format.load_zip(reader, place, bool(mmap), weights_only is not False,
                                          pickle_load_args)
        if mmap:
            raise RuntimeError(f"ember.load: mmap=True needs a checkpoint in a zip format "
                               f"(ember.save, or torch.save since PyTorch 1.6), but "
                               f"{source.name} is a {kind} file; load it without mmap and "
                               f"save it again with ember.save")
        if kind == "safetensors":
            return safetensors.read(_io.read_all(source), source.name, place)
        return _torch_format.load_legacy(source, place, weights_only is not False,
                                         pickle_load_args)


def _detect(source):
    file = source.file
    here = file.tell()
    head = file.read(512)
    file.seek(here)
    if head[:2] == b"PK":
        return "zip"
    if len(head) > 8 and head[8:9] == b"{" and \
            int.from_bytes(head[:8], "little") <= safetensors.MAX_HEADER:
        return "safetensors"
    if head[:1] == b"\x80":  # a pickle (protocol 2+), as the legacy format starts with
        return "legacy PyTorch"
    if not head:
        raise source.error("is empty (0 bytes): the save that wrote it did not complete")
    if head[257:262] == _TAR_MAGIC:
        raise source.error("is a PyTorch checkpoint in the tar format of PyTorch < 0.4, "
                           "which ember does not read; load it in PyTorch and save it again")
    raise source.error(f"is not a checkpoint ember can read (it starts with {head[:16]!r}); "
                       f"ember.load reads files written by ember.save and torch.save, and "
                       f"safetensors files")


__all__ = ["save", "load", "save_file", "load_file", "safetensors", "add_safe_globals",
           "get_safe_globals", "clear_safe_globals", "safe_globals"]
