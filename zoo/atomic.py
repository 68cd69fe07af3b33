"""Atomic file writes: a temporary file in the target's directory, then a rename.

A reader (or a crash) never sees a half-written file: the rename either has
happened, leaving the complete new file, or has not, leaving the old one.
"""

from __future__ import annotations

import os
import pathlib
import tempfile


def write_bytes(path, data: bytes) -> pathlib.Path:
    """Writes `data` to `path` atomically, creating parent directories; returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".tmp") as f:
        try:
            f.write(data)
        except BaseException:
            os.unlink(f.name)
            raise
    os.replace(f.name, path)
    return path


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
