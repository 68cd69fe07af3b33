"""TensorBoard images of a beta-VAE run: reconstructions and prior samples per beta."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo import summary_images as summaries
from zoo.beta_vae import data as vae_data


def write_images(model, config) -> None:
    """Reconstructions and prior samples, one row per beta of the grid."""
    del config
    images = vae_data.evaluation_images(8).astype(np.float32)
    betas = summaries.term_grid(model, "kl")
    reconstructions, samples = [images], []
    for beta in betas:
        weights = model.evaluation_weight_matrix(len(images), kl=beta)
        reconstructions.append(model(images, weights).numpy())
        samples.append(model.sample_images(weights, seed=[0, 0]).numpy())
    grid = ", ".join(f"{b:.3g}" for b in betas)
    tf.summary.image(
        "images/reconstructions",
        summaries.tile(reconstructions),
        description=f"Top row: test digits; then beta = {grid}.",
    )
    tf.summary.image(
        "images/prior_samples", summaries.tile(samples), description=f"One row per beta = {grid}."
    )
