"""TensorBoard summaries of a lifelong run: accuracy on every task, and each task's test digits."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo import summary_images
from zoo.lifelong import data


def write_accuracy(learned: int, row: list[float], names: list[str]) -> None:
    """Scalars `accuracy/<task>` after `learned` tasks (the step), and their mean."""
    for name, value in zip(names, row, strict=False):
        tf.summary.scalar(f"accuracy/{name}", value, step=learned)
    tf.summary.scalar("accuracy/average", float(np.mean(row)), step=learned)


def write_images(model, config) -> None:
    """Eight test images of each task learned, one row per task, with the predicted digits."""
    rows, lines = [], []
    specs = data.task_specs(config.sequence)
    for task in range(model.num_tasks):
        images, _ = data.evaluation_arrays(config, task)
        images = np.asarray(images[:8])
        logits = model({"images": images, "task_id": np.full(len(images), task)})
        digits = [specs[task].digits[i] for i in np.argmax(logits, axis=-1)]
        rows.append(images)
        lines.append(f"{specs[task].name}: predicted {digits}")
    tf.summary.image(
        "images/tasks",
        summary_images.tile(rows),
        step=model.num_tasks,
        description="One row per task learned. " + "; ".join(lines),
    )
