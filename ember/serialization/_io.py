"""File plumbing shared by the checkpoint formats: what the user passed as ``f`` (a path or a
binary file object), atomic saves to paths, and zip entries written aligned and read straight
into arrays (checksummed, or memory-mapped)."""
import contextlib
import io
import os
import secrets
import stat
import struct
import zipfile
import zlib

import numpy as np

ALIGNMENT = 64  # storage data starts at multiples of this in the archive (mmap, SIMD loads)
_PADDING_ID = 0x6D65  # id of the zip "extra field" that pads headers to ALIGNMENT ('em')
_CHUNK = 1 << 20  # bytes read (and checksummed) at a time
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra length


def source_name(f):
    """How messages name ``f``: its path, or the file object's name, or its type."""
    if isinstance(f, (str, os.PathLike)):
        return repr(os.fspath(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, (str, bytes)) else f"the {type(f).__name__} object"


class Source:
    """An opened checkpoint: a seekable binary file, its name for messages, and its path when
    it has one (memory-mapping needs a path)."""

    def __init__(self, file, name, path):
        self.file, self.name, self.path = file, name, path

    def error(self, what):
        return RuntimeError(f"ember.load: {self.name} {what}")


@contextlib.contextmanager
def open_source(f, op):
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        try:
            file = open(path, "rb")
        except FileNotFoundError:
            raise FileNotFoundError(f"{op}: no such file: {path!r}") from None
        except IsADirectoryError:
            raise IsADirectoryError(f"{op}: {path!r} is a directory, not a checkpoint "
                                    f"file") from None
        with file:
            yield Source(file, repr(path), path)
        return
    if not hasattr(f, "read"):
        raise TypeError(f"{op}: expected a path (str or os.PathLike) or a binary file object "
                        f"with read(), got {type(f).__name__}")
    if not (hasattr(f, "seekable") and f.seekable() and hasattr(f, "readinto")):
        f = io.BytesIO(f.read())  # pipes, sockets, minimal readers: the formats need to seek
    yield Source(f, source_name(f), None)


def read_all(source):
    """The rest of the source's file, as a fresh uint8 array."""
    file = source.file
    here = file.tell()
    out = np.empty(file.seek(0, io.SEEK_END) - here, np.uint8)
    file.seek(here)
    if file.readinto(memoryview(out)) != out.size:
        raise source.error("changed size while being read")
    return out


@contextlib.contextmanager
def open_target(f, op):
    """A binary file to write a checkpoint into. For a path the data goes to a temporary file
    next to it that replaces the destination only once complete and on disk, so a crash
    mid-save never leaves a truncated file behind."""
    if not isinstance(f, (str, os.PathLike)):
        if not hasattr(f, "write"):
            raise TypeError(f"{op}: expected a path (str or os.PathLike) or a binary file "
                            f"object with write(), got {type(f).__name__}")
        yield f
        if hasattr(f, "flush"):
            f.flush()
        return
    path = os.fspath(f)
    if os.path.islink(path):
        path = os.path.realpath(path)  # write through the link, as open() would
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{op}: cannot save to {path!r}: the directory {directory!r} "
                                f"does not exist; create it first (os.makedirs(dir, "
                                f"exist_ok=True))")
    if os.path.isdir(path):
        raise IsADirectoryError(f"{op}: cannot save to {path!r}: it is a directory; give a "
                                f"file name inside it")
    tmp = os.path.join(directory,
                       f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if os.path.exists(path):  # keep the permissions of the file being replaced
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ZipWriter:
    """Writes uncompressed zip entries whose data starts at a multiple of ALIGNMENT bytes from
    the start of the file (padding goes into an extra field of the entry's local header)."""

    def __init__(self, file):
        self._zip = zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True)

    def write(self, name, data):
        """``data``: bytes or a C-contiguous uint8 array."""
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # reproducible bytes
        info.file_size = len(data)
        info.external_attr = 0o644 << 16
        info.CRC = info.compress_size = 0  # placeholders, so that the header can be measured
        start = self._zip.fp.tell() + len(info.FileHeader(zip64=True))
        pad = -start % ALIGNMENT
        if pad:
            pad += ALIGNMENT if pad < 4 else 0  # an extra field takes at least 4 bytes
            info.extra = struct.pack("<HH", _PADDING_ID, pad - 4) + bytes(pad - 4)
        with self._zip.open(info, "w", force_zip64=True) as out:
            out.write(data)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self._zip.close()  # writes the central directory
        except Exception:
            if exc_type is None:
                raise


class ZipReader:
    """Reads the entries of a zip archive; large entries go straight into arrays."""

    def __init__(self, source):
        self.source = source
        try:
            self._zip = zipfile.ZipFile(source.file)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise source.error(
                f"is not a readable zip archive ({e}); the file is truncated or corrupt, "
                f"probably cut off while being written or copied") from None
        self._mmap = None

    def names(self):
        return self._zip.namelist()

    def _info(self, name):
        try:
            return self._zip.getinfo(name)
        except KeyError:
            raise self.source.error(f"is missing the archive entry {name!r}; the file is "
                                    f"corrupt or was not written by ember.save / torch.save"
                                    ) from None

    def read(self, name):
        """A small entry as bytes (CRC-checked)."""
        try:
            return self._zip.read(self._info(name))
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
            raise self.source.error(f"has a corrupt archive entry {name!r} ({e})") from None

    def array(self, name, mmap=False):
        """Entry ``name`` as a 1-D uint8 array: read into fresh memory and CRC-checked, or with
        ``mmap`` a copy-on-write map of the file (changes stay in memory)."""
        info = self._info(name)
        if info.compress_type != zipfile.ZIP_STORED:  # written by another tool: decompress
            return np.frombuffer(bytearray(self.read(name)), np.uint8)
        offset = self._data_offset(info)
        if mmap:
            return self._mapped()[offset:offset + info.file_size]
        out = np.empty(info.file_size, np.uint8)
        view, file, crc, got = memoryview(out), self.source.file, 0, 0
        file.seek(offset)
        while got < out.size:  # checksum each chunk while it is still in the CPU cache
            n = file.readinto(view[got:got + _CHUNK])
            if not n:
                raise self.source.error(f"is truncated: entry {name!r} should hold "
                                        f"{info.file_size} bytes but only {got} are there")
            crc = zlib.crc32(view[got:got + n], crc)
            got += n
        if crc != info.CRC:
            raise self.source.error(f"is corrupt: the checksum of entry {name!r} does not "
                                    f"match its data")
        return out

    def _data_offset(self, info):
        file = self.source.file
        file.seek(info.header_offset)
        header = file.read(_LOCAL_HEADER.size)
        if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            raise self.source.error(f"is corrupt: the header of entry {info.filename!r} is "
                                    f"damaged")
        _, name_len, extra_len = _LOCAL_HEADER.unpack(header)
        return info.header_offset + _LOCAL_HEADER.size + name_len + extra_len

    def _mapped(self):
        if self._mmap is None:
            # mode "c": pages are shared with the file until written, writes stay private
            self._mmap = np.memmap(self.source.path, np.uint8, mode="c").view(np.ndarray)
        return self._mmap
