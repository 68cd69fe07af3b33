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

import tensorflow as tf

import zoo

keras = tf.keras


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
