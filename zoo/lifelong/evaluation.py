"""Evaluation of a lifelong run: the accuracy matrix, its summaries and parameters per task.

The accuracy matrix has one row per task learned: row t holds the test accuracy on every
task 0..t after learning task t (Lopez-Paz and Ranzato, 2017). Its last row's mean is the
final average accuracy; forgetting is how far each old task fell from when it was learned.
"""

from __future__ import annotations

import numpy as np

import yoto_tf
from zoo.lifelong import data
from zoo.lifelong.config import Config


def accuracy(model, images, labels, task: int, batch_size: int = 500) -> float:
    """The fraction of `images` whose task-`task` prediction is their label."""
    correct = 0
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size]
        logits = model({"images": batch, "task_id": np.full(len(batch), task)}, training=False)
        correct += int(np.sum(np.argmax(logits, axis=-1) == labels[start : start + batch_size]))
    return correct / len(images)


def accuracy_row(model, config: Config, learned: int) -> list[float]:
    """Accuracy on each of the first `learned` tasks' evaluation data."""
    return [accuracy(model, *data.evaluation_arrays(config, task), task) for task in range(learned)]


def average_accuracy(matrix: list[list[float]]) -> float:
    """The mean accuracy over every task after the last one (the last row's mean)."""
    return float(np.mean(matrix[-1]))


def forgetting(matrix: list[list[float]]) -> float:
    """Mean over the tasks before the last of (accuracy when learned - final accuracy)."""
    if len(matrix) < 2:
        return 0.0
    final = matrix[-1]
    return float(np.mean([matrix[t][t] - final[t] for t in range(len(matrix) - 1)]))


def parameter_counts(model: yoto_tf.CalibratedModel) -> dict:
    """The base's parameters and what each task adds (modules and head), also in % of the base."""
    base = yoto_tf.count_parameters(model.base_layers())
    per_task = [yoto_tf.task_parameters(model, task) for task in range(model.num_tasks)]
    return {
        "base": base,
        "per_task": per_task,
        "per_task_percent_of_base": [100.0 * n / base for n in per_task],
    }


def format_matrix(matrix: list[list[float]], names: list[str]) -> str:
    """The accuracy matrix as a Markdown table, in percent: one row per task learned."""
    header = "| after \\ on | " + " | ".join(names[: len(matrix)]) + " |"
    lines = [header, "|---" * (len(matrix) + 1) + "|"]
    for t, row in enumerate(matrix):
        cells = [f"{100 * a:.1f}" for a in row] + [""] * (len(matrix) - len(row))
        lines.append(f"| {names[t]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
