"""Training loop for zoo tasks: resumable checkpoints, TensorBoard scalars, a time budget.

`zoo/train.py` is a thin absl binary over `train()`; tests call `train()` directly.
A model directory holds:

    config.json        the task and its Config (a resumed run must match it)
    checkpoints/       tf.train.CheckpointManager checkpoints (model, optimizer, RNG state)
    train/             TensorBoard scalars: every loss term and the total
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import pathlib
import time
from collections.abc import Mapping

import tensorflow as tf

import zoo
from zoo import atomic

keras = tf.keras

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"


def make_config(task_name: str, overrides: Mapping | None = None, runlocal: bool = False):
    """The task's default (or `runlocal`) Config with `overrides` applied by field name."""
    task = zoo.get_task(task_name)
    config = task.Config.runlocal() if runlocal else task.Config()
    fields = {field.name for field in dataclasses.fields(config)}
    unknown = set(overrides or {}) - fields
    if unknown:
        raise ValueError(
            f"Unknown {task_name} config fields {sorted(unknown)}; known fields: {sorted(fields)}."
        )
    config = dataclasses.replace(config, **(overrides or {}))
    config.weight_sampler()  # Fails early, with the distribution's message, on bad ranges.
    return config


def _config_record(task_name: str, config, seed: int) -> dict:
    record = dataclasses.asdict(config)
    record.pop("steps")  # Resuming with more steps is allowed.
    record = json.loads(json.dumps(record))  # Tuples become lists, as after a reload.
    return {"task": task_name, "seed": seed, "config": record}


def load_run(model_dir) -> tuple[str, object, int]:
    """Returns `(task_name, config, seed)` of the run in `model_dir`."""
    path = pathlib.Path(model_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: {model_dir} is not a model directory written by yoto-train."
        )
    record = json.loads(path.read_text())
    task = zoo.get_task(record["task"])
    fields = dict(record["config"])
    config = task.Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
    return record["task"], config, record["seed"]


def restore_model(model_dir, expect_partial: bool = True):
    """Rebuilds the model of `model_dir` and restores its latest checkpoint."""
    task_name, config, seed = load_run(model_dir)
    task = zoo.get_task(task_name)
    model = task.build_model(config, seed=seed)
    latest = tf.train.latest_checkpoint(os.path.join(model_dir, CHECKPOINT_DIR))
    if latest is None:
        raise FileNotFoundError(f"No checkpoint in {model_dir}/{CHECKPOINT_DIR}; train it first.")
    status = tf.train.Checkpoint(model=model).restore(latest)
    if expect_partial:
        status.expect_partial()
    return model, config, task_name


class _Progress:
    """A progress bar over the whole run (Keras's Progbar), updated once per chunk."""

    def __init__(self, target: int, initial: int, verbose: int):
        self.bar = keras.utils.Progbar(target, stateful_metrics=None) if verbose else None
        if self.bar is not None and initial:
            self.bar.update(initial)

    def update(self, step: int, logs: Mapping[str, float]):
        if self.bar is not None:
            # Progbar averages non-stateful metrics itself; pass the chunk means as stateful.
            self.bar.stateful_metrics = set(logs)
            self.bar.update(step, values=list(logs.items()))


def train(
    task_name: str,
    model_dir,
    steps: int | None = None,
    config_overrides: Mapping | None = None,
    seed: int = 0,
    log_every: int = 100,
    checkpoint_every: int = 500,
    max_seconds: float | None = None,
    runlocal: bool = False,
    verbose: int = 1,
):
    """Trains `task_name` into `model_dir` up to `steps` (resuming if it holds a checkpoint).

    Returns the trained model. Stops early, after a checkpoint, when
    `max_seconds` of training time have passed.
    """
    model_dir = pathlib.Path(model_dir)
    task = zoo.get_task(task_name)
    config = make_config(task_name, config_overrides, runlocal=runlocal)
    if steps is not None:
        config = dataclasses.replace(config, steps=int(steps))
    steps = config.steps
    if steps < 1 or log_every < 1 or checkpoint_every < 1:
        raise ValueError(
            f"steps, log_every and checkpoint_every must be >= 1, got {steps}, {log_every}, "
            f"{checkpoint_every}."
        )
    record = _config_record(task_name, config, seed)
    config_path = model_dir / CONFIG_FILE
    if config_path.exists():
        existing = json.loads(config_path.read_text())
        if existing != record:
            raise ValueError(
                f"{model_dir} holds a run with a different task, config or seed "
                f"({existing}); resume with the same flags or use a new --model_dir."
            )
    else:
        atomic.write_text(config_path, json.dumps(record, indent=2, sort_keys=True) + "\n")

    tf.keras.utils.set_random_seed(seed)
    model = task.build_model(config, seed=seed)
    model.compile(optimizer=task.optimizer(config))
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    manager = tf.train.CheckpointManager(checkpoint, model_dir / CHECKPOINT_DIR, max_to_keep=3)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()

    step = int(model.optimizer.iterations.numpy())
    if manager.latest_checkpoint and verbose:
        print(f"Resuming from step {step} ({manager.latest_checkpoint}).")
    dataset = task.train_dataset(config, seed=seed)
    writer = tf.summary.create_file_writer(str(model_dir / "train"))
    progress = _Progress(steps, step, verbose)
    start = time.monotonic()
    last_saved = step
    while step < steps:
        chunk = min(log_every, steps - step)
        history = model.fit(dataset, steps_per_epoch=chunk, epochs=1, verbose=0)
        step = int(model.optimizer.iterations.numpy())
        logs = {name: values[-1] for name, values in history.history.items()}
        if not all(math.isfinite(v) for v in logs.values()):
            raise FloatingPointError(f"Training diverged at step {step}: {logs}.")
        with writer.as_default(step=step):
            for name, value in logs.items():
                tf.summary.scalar(f"loss/{name}", value)
        progress.update(step, logs)
        out_of_time = max_seconds is not None and time.monotonic() - start >= max_seconds
        if step - last_saved >= checkpoint_every or step >= steps or out_of_time:
            manager.save(checkpoint_number=step)
            last_saved = step
        if out_of_time:
            if verbose:
                print(f"\nStopped at step {step}/{steps}: the {max_seconds:g} s budget is spent.")
            break
    writer.flush()
    return model
