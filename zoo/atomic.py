"""Atomic file writes: a temporary file in the target's directory, then a rename.

A reader (or a crash) never sees a half-written file: the rename either has
happened, leaving the complete new file, or has not, leaving the old one. The data
is flushed to disk before the rename and the directory after it, so a power loss
cannot leave the new name pointing at an empty file (ext4 and XFS may otherwise
write the rename before the data).
"""

from __future__ import annotations

import os
import pathlib
import stat
import tempfile


def _umask() -> int:
    """The process's umask, read without changing it where Linux's /proc allows."""
    try:
        for line in pathlib.Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_bytes(path, data: bytes) -> pathlib.Path:
    """Writes `data` to `path` atomically, creating parent directories; returns the path.

    The file gets the permissions a plain `open(path, "wb")` would give it (the old file's,
    or 0o666 less the umask), not the temporary file's private 0o600.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_umask()
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
        try:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            os.chmod(f.name, mode)
        except BaseException:
            os.unlink(f.name)
            raise
    os.replace(f.name, path)
    sync_directory(path.parent)
    return path


def sync_directory(directory) -> None:
    """Flushes `directory`'s entries (renames into it) to disk, where the system allows."""
    try:
        descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # Windows cannot open a directory; its renames are journaled.
        return
    try:
        os.fsync(descriptor)
    except OSError:  # Some file systems (and platforms) refuse fsync on a directory.
        pass
    finally:
        os.close(descriptor)


def staging_directory(parent, prefix: str) -> pathlib.Path:
    """A new, empty directory in `parent` to build something in before renaming it into place.

    It gets the permissions `mkdir` would give (0o777 less the umask), not
    `tempfile.mkdtemp`'s private 0o700, so that what is renamed into place (an export a
    model server running as another user reads, a release, a snapshot) is readable as
    any other folder.
    """
    directory = pathlib.Path(tempfile.mkdtemp(dir=parent, prefix=prefix))
    os.chmod(directory, 0o777 & ~_umask())
    return directory


def write_text(path, text: str) -> pathlib.Path:
    """Writes UTF-8 `text` to `path` atomically; returns the path."""
    return write_bytes(path, text.encode("utf-8"))


def write_png(path, image) -> pathlib.Path:
    """Writes `image` (uint8 `[H, W, 3]` pixels, array-like or PIL) as a PNG atomically.

    PIL is imported here, not above, so text and byte writers stay free of it.
    """
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(image, np.uint8)).save(buffer, format="PNG")
    return write_bytes(path, buffer.getvalue())
