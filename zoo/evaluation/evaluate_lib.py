"""Evaluate loss terms over a grid of one loss weight, for Keras models and SavedModels."""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

import zoo
from zoo import figures, loading, saved_model_metadata
from zoo.weight_ranges import in_trained_range

# (images [N, ...], weight value) -> {term: per-example values [N]}
TermsFn = Callable[[np.ndarray, float], dict]


def keras_terms_fn(model, sweep_term: str) -> TermsFn:
    """Loss terms of an in-memory `LossConditionalModel`, the other weights at their defaults.

    A fixed-weight model is always run at its own weight: its terms do not
    change along the grid, and its total at weight `w` is what that one model
    scores on the objective with weight `w`. A model trained on a range refuses
    grid values outside it rather than extrapolate.
    """
    lows, highs = model.weight_sampler.bounds()
    index = model.term_names.index(sweep_term)
    low, high = lows[index], highs[index]

    @tf.function(reduce_retracing=True)
    def terms(images, weights):
        return model.compute_loss_terms(images, None, weights, training=False)

    def call(images, value):
        value = _weight_to_run(value, low, high)
        weights = model.evaluation_weight_matrix(len(images), **{sweep_term: value})
        return {k: v.numpy() for k, v in terms(tf.constant(images), weights).items()}

    return call


def saved_model_terms_fn(path, task) -> TermsFn:
    """Loss terms from an exported SavedModel's `loss_terms` signature.

    Weights are handled as in `keras_terms_fn`, with the trained range read from
    the SavedModel's metadata.
    """
    low, high = saved_model_metadata.read_metadata(path)["weight_ranges"][task.SWEEP_TERM]
    loaded = tf.saved_model.load(str(path))
    if "loss_terms" not in loaded.signatures:
        raise ValueError(f"SavedModel {path} has no 'loss_terms' signature.")
    signature = loaded.signatures["loss_terms"]

    def call(images, value):
        value = _weight_to_run(value, low, high)
        weight = tf.fill([len(images)], tf.constant(value, tf.float32))
        outputs = signature(images=tf.constant(images), **{task.SWEEP_WEIGHT_NAME: weight})
        return {k: v.numpy() for k, v in outputs.items()}

    call.loaded = loaded  # Keeps the restored objects alive while the function is used.
    return call


def _weight_to_run(value: float, low: float, high: float) -> float:
    """The constant of a fixed-weight model, or `value` if inside a trained range."""
    if low == high:
        return low
    if not in_trained_range(value, low, high):
        raise ValueError(f"Weight {value:g} is outside the trained range [{low:g}, {high:g}].")
    return value


def terms_fn_for(path, task) -> TermsFn:
    """A `TermsFn` for a training model dir or an exported SavedModel dir of `task`."""
    path = pathlib.Path(path)
    if loading.is_saved_model(path):
        return saved_model_terms_fn(path, task)
    model, _, task_name = loading.restore_model(path)
    if zoo.get_task(task_name) is not task:
        raise ValueError(f"{path} holds a {task_name} model, not {task.__name__}.")
    return keras_terms_fn(model, task.SWEEP_TERM)


def evaluate_grid(
    terms_fn: TermsFn,
    images: np.ndarray,
    grid: Sequence[float],
    task,
    batch_size: int = 500,
) -> list[dict]:
    """Mean of every term of `task`, and of the weighted total, at each weight of `grid`.

    Rows are `{weight name: value, term: mean, ..., "total": mean}`. The total is
    `sum_i lambda_i * L_i` with the swept weight at the grid value and every
    other weight 1 (the zoo's convention for the unswept terms).
    """
    sweep_term, term_names = task.SWEEP_TERM, task.TERM_NAMES
    rows = []
    for value in grid:
        sums = dict.fromkeys(term_names, 0.0)
        for start in range(0, len(images), batch_size):
            batch = terms_fn(images[start : start + batch_size], float(value))
            for name in term_names:
                sums[name] += float(np.sum(batch[name], dtype=np.float64))
        means = {name: sums[name] / len(images) for name in term_names}
        total = sum(means[n] * (float(value) if n == sweep_term else 1.0) for n in term_names)
        rows.append({task.SWEEP_WEIGHT_NAME: float(value), **means, "total": total})
    return rows


def plot_terms(rows_by_model: dict[str, list[dict]], weight_name: str, path) -> None:
    """Writes a PNG with one panel per term against the swept weight (log scale)."""
    plt = figures.pyplot()

    first = next(iter(rows_by_model.values()))
    names = [k for k in first[0] if k != weight_name]
    figure, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.6))
    for axis, name in zip(np.atleast_1d(axes), names, strict=True):
        for label, rows in rows_by_model.items():
            x = [r[weight_name] for r in rows]
            y = [r[name] for r in rows]
            style = "o-" if len(rows) > 1 else "s"
            axis.plot(x, y, style, label=label, markersize=4)
        axis.set_xscale("log", base=2)
        if name == "total":
            # Fixed-weight models' totals grow linearly in the weight away from their own.
            axis.set_yscale("log")
        axis.set_xlabel(weight_name)
        axis.set_title(name)
        axis.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=8)
    figure.tight_layout()
    figures.write_png(path, figure, dpi=110)
