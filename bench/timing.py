"""Timing helpers shared by the benchmarks: medians of repeated, interleaved measurements."""

from __future__ import annotations

import statistics
import time


def median_seconds(function, repeats: int) -> float:
    """The median wall time of `repeats` calls of `function()`."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compiled_models(configs: dict, task_model) -> dict:
    """One Keras model per named config, built and compiled by the task's model module."""
    models = {}
    for name, config in configs.items():
        models[name] = task_model.build_model(config)
        models[name].compile(optimizer=task_model.optimizer(config))
    return models


def median_train_steps(models: dict, batch, rounds: int, steps_per_round: int, warmup: int = 3):
    """Median seconds per train step of each compiled Keras model, on the same `batch`.

    The models are timed in interleaved rounds, so machine noise hits them alike.
    """
    import tensorflow as tf

    steps = {}
    for name, model in models.items():
        step = tf.function(model.train_step)
        for _ in range(warmup):  # Trace and warm up.
            step(batch)["loss"].numpy()
        steps[name] = step
    times = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(steps_per_round):
                logs = step(batch)
            logs["loss"].numpy()
            times[name].append((time.perf_counter() - start) / steps_per_round)
    return {name: statistics.median(values) for name, values in times.items()}


def print_yoto_over_fixed(medians: dict, batch_size: int) -> None:
    """Prints the "yoto" and "fixed" median step times and their ratio."""
    for name, median in medians.items():
        print(f"train step {name:6s} median {1000 * median:8.1f} ms (batch {batch_size})")
    print(
        f"train-step ratio yoto / fixed (no conditioning): {medians['yoto'] / medians['fixed']:.3f}"
    )
