"""What the tasks' TensorBoard images are made of: weight grids, tiled rows, line plots.

Each task's `summaries` module draws its images with these; the training loop's
`ImageSummaries` callback (`zoo/training/summaries.py`) calls the task's module. They sit
below the tasks so that a task never imports the training loop.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from zoo import figures

GRID_POINTS = 5


def log_grid(low: float, high: float, points: int = GRID_POINTS) -> list[float]:
    """`points` log-spaced values from `low` to `high` (one value when they are equal)."""
    if math.isclose(low, high):
        return [float(low)]
    return [float(v) for v in np.geomspace(low, high, points)]


def term_grid(model, term: str) -> list[float]:
    """The log-spaced grid of `term`'s weight over the model's trained range."""
    index = model.term_names.index(term)
    lows, highs = model.weight_sampler.bounds()
    return log_grid(max(lows[index], 1e-6), highs[index])


def tile(rows: list[np.ndarray]) -> np.ndarray:
    """One image `[1, H*rows, W*cols, C]` from rows of images `[cols, H, W, C]`."""
    return np.concatenate([np.concatenate(list(row), axis=1) for row in rows], axis=0)[None]


def plot_png(xs, ys, labels, xlabel, ylabel) -> tf.Tensor:
    """A labelled line plot of `ys` against `xs` as a PNG image tensor `[1, H, W, 3]`."""
    plt = figures.pyplot()

    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot(xs, ys, "o-")
    for x, y, label in zip(xs, ys, labels, strict=True):
        axis.annotate(label, (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return tf.image.decode_png(figures.png_bytes(figure, dpi=90), channels=3)[tf.newaxis]
