"""Reading files out of Qt binary resource files (`.rcc`), without Qt.

Some Debian packages (gcompris-qt-data) keep their images inside `.rcc` files, the binary
format that Qt's `rcc -binary` writes and `QResource::registerResource` maps. Installing Qt
to read them would drag in a desktop stack, and the format is small:

    header   "qres", version (1..3), tree offset, data offset, names offset
             (4-byte big-endian each), and from version 3 a 4-byte overall-flags word
    tree     fixed-size nodes (14 bytes; 22 from version 2, which adds a last-modified
             time): name offset (4), flags (2: 1 zlib, 2 directory, 4 zstd), then
             for a directory its child count (4) and first child's node index (4), and
             for a file its territory (2), language (2) and data offset (4)
    names    length in UTF-16 units (2), hash (4), the name in UTF-16BE
    data     length (4) then the bytes; a zlib-compressed file's bytes are Qt's
             `qCompress` layout (the uncompressed length, 4 bytes big-endian, then a
             zlib stream), a zstd-compressed file's bytes are one zstd frame

Node 0 is the root directory. Zstd needs a decoder this project does not ship (the standard
library has none before Python 3.14), so a zstd entry is refused by name with that reason;
the rcc files this project reads (gcompris-qt-data 3.1, Qt 5) use zlib only.

A file that is not an rcc, or is truncated or corrupt, is a ValueError that names it.
"""

from __future__ import annotations

import functools
import os
import pathlib
import struct
import zlib

_MAGIC = b"qres"
_COMPRESSED_ZLIB = 0x01
_DIRECTORY = 0x02
_COMPRESSED_ZSTD = 0x04
# A well-formed tree is shallow; a deeper one means a cycle in a corrupt file.
_MAX_DEPTH = 64


class _Entry:
    """One file of an rcc: its flags and where its bytes start in the data section."""

    __slots__ = ("flags", "data_offset")

    def __init__(self, flags: int, data_offset: int):
        self.flags = flags
        self.data_offset = data_offset


def _corrupt(path, why: str) -> ValueError:
    return ValueError(
        f"{path} is not a readable Qt resource (.rcc) file: {why}. If it came from a "
        "Debian package, extract the package again (a partial download leaves such files)."
    )


class _Reader:
    """The parsed tree of one rcc file (its bytes are kept: the files are a few MB)."""

    def __init__(self, path: pathlib.Path, blob: bytes):
        self.path = path
        self.blob = blob
        if len(blob) < 20 or blob[:4] != _MAGIC:
            raise _corrupt(path, "it does not start with the 'qres' header")
        self.version, self.tree, self.data, self.names = struct.unpack_from(">4I", blob, 4)
        if not 1 <= self.version <= 3:
            raise _corrupt(path, f"format version {self.version} is not 1, 2 or 3")
        header = 24 if self.version >= 3 else 20
        for label, offset in (("tree", self.tree), ("data", self.data), ("names", self.names)):
            if not header <= offset <= len(blob):
                raise _corrupt(
                    path, f"its {label} offset {offset} lies outside its {len(blob)} bytes"
                )
        self.node_size = 22 if self.version >= 2 else 14
        self.files: dict[str, _Entry] = {}
        self._walk(0, "", 0)

    def _unpack(self, fmt: str, offset: int, what: str):
        try:
            return struct.unpack_from(fmt, self.blob, offset)
        except struct.error:
            raise _corrupt(
                self.path, f"{what} at byte {offset} runs past its {len(self.blob)} bytes"
            ) from None

    def _name(self, offset: int) -> str:
        (length,) = self._unpack(">H", self.names + offset, "a name's length")
        start = self.names + offset + 6
        raw = self.blob[start : start + 2 * length]
        if len(raw) != 2 * length:
            raise _corrupt(self.path, f"the name at byte {start} runs past the end")
        try:
            return raw.decode("utf-16-be")
        except UnicodeDecodeError:
            raise _corrupt(self.path, f"the name at byte {start} is not UTF-16") from None

    def _walk(self, node: int, prefix: str, depth: int) -> None:
        if depth > _MAX_DEPTH:
            raise _corrupt(self.path, f"its directory tree is deeper than {_MAX_DEPTH}")
        at = self.tree + node * self.node_size
        _, flags, count, first = self._unpack(">IHII", at, f"tree node {node}")
        if not flags & _DIRECTORY:
            raise _corrupt(self.path, f"tree node {node} should be a directory")
        for child in range(first, first + count):
            child_at = self.tree + child * self.node_size
            name_offset, child_flags, _, _, data_offset = self._unpack(
                ">IHHHI", child_at, f"tree node {child}"
            )
            path = f"{prefix}/{self._name(name_offset)}"
            if child_flags & _DIRECTORY:
                if child <= node:
                    raise _corrupt(self.path, f"tree node {child} points back up the tree")
                self._walk(child, path, depth + 1)
            else:
                self.files[path] = _Entry(child_flags, data_offset)

    def read(self, resource_path: str) -> bytes:
        entry = self.files.get(_normalise(resource_path))
        if entry is None:
            shown = sorted(self.files)
            more = f" (and {len(shown) - 8} more)" if len(shown) > 8 else ""
            raise FileNotFoundError(
                f"{resource_path!r} is not in {self.path}; it holds {shown[:8]}{more}."
            )
        at = self.data + entry.data_offset
        (size,) = self._unpack(">I", at, f"the length of {resource_path!r}")
        payload = self.blob[at + 4 : at + 4 + size]
        if len(payload) != size:
            raise _corrupt(
                self.path, f"{resource_path!r} ({size} bytes at byte {at + 4}) runs past the end"
            )
        if entry.flags & _COMPRESSED_ZSTD:
            raise ValueError(
                f"{resource_path!r} in {self.path} is zstd-compressed (a Qt 6 rcc written "
                "without --no-zstd); this reader decodes zlib only, as Python's standard "
                "library has no zstd before 3.14."
            )
        if not entry.flags & _COMPRESSED_ZLIB:
            return payload
        if size < 4:
            raise _corrupt(self.path, f"{resource_path!r} is too short to be compressed")
        (expected,) = struct.unpack_from(">I", payload, 0)
        try:
            data = zlib.decompress(payload[4:])
        except zlib.error as error:
            raise _corrupt(self.path, f"{resource_path!r} does not decompress ({error})") from None
        if len(data) != expected:
            raise _corrupt(
                self.path,
                f"{resource_path!r} decompresses to {len(data)} bytes, not {expected}",
            )
        return data


def _normalise(resource_path: str) -> str:
    """`:/a/b`, `qrc:/a/b`, `a/b` and `/a/b` all name the resource `/a/b`."""
    path = resource_path
    for scheme in ("qrc:", ":"):
        if path.startswith(scheme):
            path = path[len(scheme) :]
    return "/" + path.lstrip("/")


@functools.lru_cache(maxsize=4)
def _reader(path: pathlib.Path, size: int, mtime_ns: int) -> _Reader:
    # Keyed on size and time as well, so a file rewritten in place is read again.
    del size, mtime_ns
    return _Reader(path, path.read_bytes())


def _open(rcc_path) -> _Reader:
    path = pathlib.Path(rcc_path)
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"No Qt resource file at {path}.") from None
    return _reader(path.resolve(), stat.st_size, stat.st_mtime_ns)


def list_files(rcc_path) -> list[str]:
    """The paths of every file inside the rcc at `rcc_path`, sorted (`/dir/name.ext`)."""
    return sorted(_open(rcc_path).files)


def read_file(rcc_path, resource_path: str) -> bytes:
    """The bytes of `resource_path` (as `list_files` gives it; `:/` and `qrc:/` are accepted)
    inside the rcc at `rcc_path`, decompressed. A missing path is a FileNotFoundError listing
    some that exist; a corrupt file or a zstd-compressed entry a ValueError naming it."""
    return _open(rcc_path).read(resource_path)
