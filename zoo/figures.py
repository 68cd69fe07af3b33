"""Matplotlib figures without a display: the headless backend, PNG bytes, atomic PNG files."""

from __future__ import annotations

import io
import pathlib

from zoo import atomic


def pyplot():
    """`matplotlib.pyplot` on the headless Agg backend (training hosts have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def png_bytes(figure, dpi: int) -> bytes:
    """The `figure` rendered as PNG bytes at `dpi`; closes it (pyplot would keep it)."""
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", dpi=dpi)
    finally:
        pyplot().close(figure)
    return buffer.getvalue()


def write_png(path, figure, dpi: int) -> pathlib.Path:
    """Writes the `figure` as a PNG to `path` atomically and closes it; returns the path."""
    return atomic.write_bytes(path, png_bytes(figure, dpi))
