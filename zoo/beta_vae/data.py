"""The beta-VAE task's data: MNIST for training, its test split for evaluation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.beta_vae.config import Config
from zoo.data import mnist


def train_dataset(config: Config, seed: int) -> tf.data.Dataset:
    """Shuffled, repeated batches of the MNIST training split."""
    return mnist.image_dataset(mnist.load_mnist("train"), config.batch_size, seed=seed)


def evaluation_images(limit: int | None = None) -> np.ndarray:
    """The MNIST test split (the first `limit` images if given)."""
    images = mnist.load_mnist("test")
    return images if limit is None else images[:limit]


def loss_term_images(limit: int | None = None) -> np.ndarray:
    """The batch the loss terms are evaluated on along a weight grid: the test split."""
    return evaluation_images(limit)
