"""TensorBoard images of a training run at a fixed grid of loss weights.

Every `image_every` steps (and at the end) `ImageSummaries` writes, under `images/`,
the images of the task's `summaries` module (`zoo/<task>/summaries.py`):

* beta-VAE: reconstructions of eight test digits and samples from the prior, one row
  per beta of a log-spaced grid over the trained range;
* compression: the model's quantized reconstruction of a held-out crop at each lambda
  of the grid, with the rate estimate and PSNR as scalars under `rd/` and the RD curve
  as a plot;
* style transfer: a held-out crop stylized with each style alone and the even blend,
  one row per content weight.

The grid is fixed for the whole run, so the images of successive steps compare.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

import zoo
from zoo import figures

keras = tf.keras
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


class ImageSummaries(keras.callbacks.Callback):
    """Writes the task's images every `every` steps and after the last chunk."""

    def __init__(self, task_name: str, config, writer, every: int, steps: int):
        super().__init__()
        self.write_images = zoo.find_task(task_name).write_images
        self.config, self.writer, self.every, self.steps = config, writer, every, steps

    def on_train_begin(self, logs=None):
        """Counts `every` from the step the run starts (or resumes) at."""
        self.last_written = int(self.model.optimizer.iterations.numpy())

    def on_epoch_end(self, epoch, logs=None):
        """Writes when `every` steps have passed since the last images, or at the end."""
        step = int(self.model.optimizer.iterations.numpy())
        if step - self.last_written >= self.every or step >= self.steps:
            with self.writer.as_default(step=step):
                self.write_images(self.model, self.config)
            self.writer.flush()
            self.last_written = step
