"""TensorBoard images of a training run at a fixed grid of loss weights, one writer per task.

Every `image_every` steps (and at the end) `ImageSummaries` writes, under `images/`:

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

import io
import math

import numpy as np
import tensorflow as tf

keras = tf.keras
GRID_POINTS = 5


def log_grid(low: float, high: float, points: int = GRID_POINTS) -> list[float]:
    """`points` log-spaced values from `low` to `high` (one value when they are equal)."""
    if math.isclose(low, high):
        return [float(low)]
    return [float(v) for v in np.geomspace(low, high, points)]


def _term_grid(model, term: str) -> list[float]:
    index = model.term_names.index(term)
    lows, highs = model.weight_sampler.bounds()
    return log_grid(max(lows[index], 1e-6), highs[index])


def _weights(model, batch: int, **values) -> tf.Tensor:
    """`[batch, k]`: the evaluation weights with `values` replacing some terms."""
    vector = dict(model.evaluation_weights, **values)
    row = [vector[name] for name in model.term_names]
    return tf.constant([row] * batch, tf.float32)


def _tile(rows: list[np.ndarray]) -> np.ndarray:
    """One image `[1, H*rows, W*cols, C]` from rows of images `[cols, H, W, C]`."""
    return np.concatenate([np.concatenate(list(row), axis=1) for row in rows], axis=0)[None]


def _plot_png(xs, ys, labels, xlabel, ylabel) -> tf.Tensor:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3.5))
    axis.plot(xs, ys, "o-")
    for x, y, label in zip(xs, ys, labels, strict=True):
        axis.annotate(label, (x, y), textcoords="offset points", xytext=(4, -10), fontsize=8)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    axis.grid(alpha=0.3)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    plt.close(figure)
    return tf.image.decode_png(buffer.getvalue(), channels=3)[tf.newaxis]


def beta_vae_summaries(model, config) -> None:
    """Reconstructions and prior samples, one row per beta of the grid."""
    from zoo import beta_vae

    del config
    images = beta_vae.evaluation_images(8).astype(np.float32)
    betas = _term_grid(model, "kl")
    reconstructions, samples = [images], []
    for beta in betas:
        weights = _weights(model, len(images), kl=beta)
        reconstructions.append(model(images, weights).numpy())
        samples.append(model.sample_images(weights, seed=[0, 0]).numpy())
    grid = ", ".join(f"{b:.3g}" for b in betas)
    tf.summary.image(
        "images/reconstructions",
        _tile(reconstructions),
        description=f"Top row: test digits; then beta = {grid}.",
    )
    tf.summary.image(
        "images/prior_samples", _tile(samples), description=f"One row per beta = {grid}."
    )


def compression_summaries(model, config) -> None:
    """Quantized reconstructions of a held-out crop per lambda, and the estimated RD curve."""
    from zoo import compression

    del config
    image = compression.evaluation_images(1)[0]
    size = min(256, *(d // compression.STRIDE * compression.STRIDE for d in image.shape[:2]))
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    crop = tf.constant(image[None, top : top + size, left : left + size], tf.float32)
    lmbdas = _term_grid(model, "distortion")
    pictures, bpps, psnrs = [crop.numpy()[0]], [], []
    for lmbda in lmbdas:
        weights = _weights(model, 1, distortion=lmbda)
        terms = model.compute_loss_terms(crop, None, weights, training=False)
        decoded = model(crop, weights, training=False)
        pictures.append(np.clip(np.round(decoded.numpy()[0]), 0, 255))
        bpp = float(terms["rate"][0])
        psnr = 10 * math.log10(255.0**2 / max(float(terms["distortion"][0]), 1e-10))
        bpps.append(bpp)
        psnrs.append(psnr)
        tf.summary.scalar(f"rd/bpp_at_lambda_{lmbda:.3g}", bpp)
        tf.summary.scalar(f"rd/psnr_at_lambda_{lmbda:.3g}", psnr)
    grid = ", ".join(f"{v:.3g}" for v in lmbdas)
    tf.summary.image(
        "images/decoded",
        (_tile([pictures]) / 255.0).astype(np.float32),
        description=f"The held-out crop, then its quantized reconstruction at lambda = {grid}.",
    )
    tf.summary.image(
        "images/rd_curve",
        _plot_png(
            bpps, psnrs, [f"{v:.3g}" for v in lmbdas], "bits per pixel (estimate)", "PSNR (dB)"
        ),
        description="Rate estimate and PSNR of the crop at each lambda of the grid.",
    )


def style_transfer_summaries(model, config) -> None:
    """A held-out crop with each style alone and the blend, one row per content weight."""
    from zoo import style_transfer

    crop = style_transfer.evaluation_images(1, size=config.patch_size).astype(np.float32)
    strength = math.sqrt(config.style_low * config.style_high)
    columns = [[strength if i == s else 0.0 for i in range(4)] for s in range(4)]
    columns.append([strength / 4] * 4)
    rows = []
    for content in _term_grid(model, "content")[:: GRID_POINTS // 2]:
        row = [crop[0]]
        for styles in columns:
            values = dict(zip(style_transfer.STYLE_TERMS, styles, strict=True), content=content)
            row.append(model(crop, _weights(model, 1, **values)).numpy()[0])
        rows.append(row)
    tf.summary.image(
        "images/stylized",
        (_tile(rows) / 255.0).astype(np.float32),
        description=(
            f"Columns: input, styles 1-4 alone at strength {strength:.3g}, the even blend; "
            "rows: content weight low, middle, high."
        ),
    )


WRITERS = {
    "beta_vae": beta_vae_summaries,
    "compression": compression_summaries,
    "style_transfer": style_transfer_summaries,
}


class ImageSummaries(keras.callbacks.Callback):
    """Writes the task's images every `every` steps and after the last chunk."""

    def __init__(self, task_name: str, config, writer, every: int, steps: int):
        super().__init__()
        self.write_images = WRITERS[task_name]
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
