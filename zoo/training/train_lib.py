"""Training loop for zoo tasks: resumable checkpoints, TensorBoard, a time budget, any strategy.

`zoo/training/train.py` is a thin absl binary over `train()`; tests call `train()` directly.
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
import shutil
from collections.abc import Mapping

import tensorflow as tf

import zoo
from zoo import atomic, loading
from zoo.loading import releases, snapshots
from zoo.training import callbacks as train_callbacks
from zoo.training import distribute, provenance, summaries

keras = tf.keras

# A fine-tuning run's origin: the snapshot it started from (written at its start).
INITIALISED_FROM_FILE = "initialised_from.json"


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


def _config_record(task_name: str, config, seed: int, precision: str = "float32") -> dict:
    record = dataclasses.asdict(config)
    record.pop("steps")  # Resuming with more steps is allowed.
    record = json.loads(json.dumps(record))  # Tuples become lists, as after a reload.
    run = {"task": task_name, "seed": seed, "config": record}
    if precision != "float32":
        # Mixed float16 checkpoints hold a loss-scale optimizer: a run resumes in its policy.
        run["precision"] = precision
    return run


def _check_or_write_record(model_dir: pathlib.Path, record: dict) -> None:
    config_path = model_dir / loading.CONFIG_FILE
    if config_path.exists():
        existing = loading.with_new_fields(json.loads(config_path.read_text()))
        if existing != record:
            raise ValueError(
                f"{model_dir} holds a run with a different task, config, seed or precision "
                f"({existing}); resume with the same flags or use a new --model_dir."
            )
    else:
        atomic.write_text(config_path, json.dumps(record, indent=2, sort_keys=True) + "\n")


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
    strategy: tf.distribute.Strategy | None = None,
    precision: str = "float32",
    image_every: int | None = None,
    timed_learning_rate_drop: bool = False,
    init_from=None,
):
    """Trains `task_name` into `model_dir` up to `steps` (resuming if it holds a checkpoint).

    Returns the trained model. Stops early, after a checkpoint, when
    `max_seconds` of training time have passed. `strategy` (default: the current
    one) replicates the model; `precision` is a Keras dtype policy name
    (`zoo.training.distribute.PRECISIONS`). Every `image_every` steps and at the end, the
    task's images at a fixed weight grid go to TensorBoard (`zoo/training/summaries.py`; None
    or 0: none). `timed_learning_rate_drop` divides the (constant) learning rate by
    10 once 80% of `max_seconds` has passed (`train_callbacks.TimedLearningRateDrop`).

    `init_from` is a weights snapshot (`zoo/loading/snapshots.py`): used when `model_dir` holds
    no checkpoint or an older one. A snapshot of this very run (same task, config, seed
    and precision) continues at its step; any other starts a fine-tuning run at step 0.
    Either way the optimizer's state restarts, which the log says.
    """
    model_dir = pathlib.Path(model_dir)
    if timed_learning_rate_drop and max_seconds is None:
        raise ValueError("timed_learning_rate_drop needs max_seconds, the budget it divides.")
    strategy = strategy or tf.distribute.get_strategy()
    chief = distribute.is_chief(strategy)
    task = zoo.get_task(task_name)
    config = make_config(task_name, config_overrides, runlocal=runlocal)
    if steps is not None:
        config = dataclasses.replace(config, steps=int(steps))
    steps = config.steps
    if timed_learning_rate_drop:
        # A schedule is refused before anything is written to model_dir.
        train_callbacks.set_learning_rate(task.optimizer(config), config.learning_rate)
    if steps < 1 or log_every < 1 or checkpoint_every < 1:
        raise ValueError(
            f"steps, log_every and checkpoint_every must be >= 1, got {steps}, {log_every}, "
            f"{checkpoint_every}."
        )
    with distribute.precision_policy(precision):
        if chief:
            _check_or_write_record(model_dir, _config_record(task_name, config, seed, precision))
        tf.keras.utils.set_random_seed(seed)
        record = _config_record(task_name, config, seed, precision)
        with strategy.scope():
            model = task.build_model(config, seed=seed)
            # Before compiling: a snapshot holds the model's variables, not the optimizer's.
            start = _start_from_snapshot(model, model_dir, init_from, record, verbose)
            model.compile(optimizer=task.optimizer(config))
            if start is not None:
                model.optimizer.iterations.assign(start)
        if chief:
            latest = tf.train.latest_checkpoint(str(model_dir / loading.CHECKPOINT_DIR))
            first_step = (
                start if start is not None else loading.checkpoint_step(latest) if latest else 0
            )
            provenance.record(model_dir, first_step)
        return _fit(
            task_name,
            model,
            config,
            model_dir,
            strategy,
            seed=seed,
            log_every=log_every,
            checkpoint_every=checkpoint_every,
            max_seconds=max_seconds,
            verbose=verbose if chief else 0,
            image_every=image_every,
            timed_learning_rate_drop=timed_learning_rate_drop,
            from_snapshot=start is not None,
        )


def write_snapshot(model_dir, directory, command: str | None = None, float16: bool = True) -> dict:
    """Writes the weights of `model_dir`'s latest checkpoint as a snapshot; returns its metadata.

    `float16=False` stores float32 weights unrounded (`snapshots.write`).
    """
    model, _, _ = loading.restore_model(model_dir)
    record = loading.with_new_fields(
        json.loads((pathlib.Path(model_dir) / loading.CONFIG_FILE).read_text())
    )
    step = loading.checkpoint_step(
        tf.train.latest_checkpoint(os.path.join(model_dir, loading.CHECKPOINT_DIR))
    )
    origin_path = pathlib.Path(model_dir) / INITIALISED_FROM_FILE
    origin = json.loads(origin_path.read_text()) if origin_path.is_file() else None
    snapshots.write(
        model,
        directory,
        record,
        step,
        command=command,
        float16=float16,
        initialised_from=origin,
        trained_at=provenance.segments(model_dir),
    )
    return snapshots.read_metadata(directory)


def _start_from_snapshot(model, model_dir, init_from, record, verbose) -> int | None:
    """Restores `init_from` into `model` unless `model_dir` holds a checkpoint as new.

    Returns the step to start at (the snapshot's for the same run, else 0), or None when
    the run resumes from its own checkpoint (or there is no snapshot).
    """
    if init_from is None:
        return None
    if releases.is_release(init_from):
        init_from = releases.directory(init_from)
    snapshot_step = int(snapshots.read_metadata(init_from)["step"])
    latest = tf.train.latest_checkpoint(str(pathlib.Path(model_dir) / loading.CHECKPOINT_DIR))
    if latest and loading.checkpoint_step(latest) >= snapshot_step:
        return None
    if latest and _fine_tuned_from(model_dir, init_from):
        # A fine-tuning run counts its steps from 0: its checkpoint continues it, however
        # few steps it holds next to the snapshot's.
        return None
    metadata = snapshots.restore(model, init_from)
    # A snapshot written before a config field existed still continues its own run.
    written = loading.with_new_fields(metadata)
    same_run = {key: written.get(key) for key in record} == record
    start = snapshot_step if same_run else 0
    if same_run and metadata.get("trained_at"):
        # The run goes on here: its earlier stretches of training come along.
        provenance.carry_over(model_dir, metadata["trained_at"])
    if same_run and metadata.get("initialised_from"):
        # And so does where it started, when it was itself a fine-tuning run.
        atomic.write_text(
            pathlib.Path(model_dir) / INITIALISED_FROM_FILE,
            json.dumps(metadata["initialised_from"], indent=2) + "\n",
        )
    if not same_run:
        # Provenance for this run's own snapshots and any release made from them.
        origin = {
            "snapshot": str(init_from),
            "task": metadata["task"],
            "step": snapshot_step,
            "weights_sha256": metadata["weights_sha256"],
            "command": metadata.get("command"),
            "trained_at": metadata.get("trained_at", []),
            "initialised_from": metadata.get("initialised_from"),
        }
        atomic.write_text(
            pathlib.Path(model_dir) / INITIALISED_FROM_FILE, json.dumps(origin, indent=2) + "\n"
        )
    if verbose:
        kind = "continuing this run" if same_run else "fine-tuning: a new run from step 0"
        print(
            f"Initialised from the weights snapshot {init_from} (step {snapshot_step}), {kind} "
            f"at step {start}; the optimizer state restarts (snapshots hold weights only)."
        )
    return start


def _fine_tuned_from(model_dir, init_from) -> bool:
    """Whether the run in `model_dir` is a fine-tuning that started from `init_from`'s weights."""
    origin_path = pathlib.Path(model_dir) / INITIALISED_FROM_FILE
    if not origin_path.is_file():
        return False
    origin = json.loads(origin_path.read_text())
    return origin.get("weights_sha256") == snapshots.read_metadata(init_from)["weights_sha256"]


def remove_interrupted_saves(checkpoint_dir) -> list[str]:
    """Deletes the staging folders of checkpoint saves that a kill interrupted.

    TensorFlow writes a checkpoint's shards into `ckpt-N_temp/` and merges them into
    `ckpt-N.index`/`.data-*` afterwards; a process killed in between leaves the folder
    behind, never referenced by the `checkpoint` state file. Returns the names removed.
    """
    checkpoint_dir = pathlib.Path(checkpoint_dir)
    if not checkpoint_dir.is_dir():
        return []
    removed = []
    for staging in sorted(checkpoint_dir.glob("ckpt-*_temp*")):
        if staging.is_dir():
            shutil.rmtree(staging, ignore_errors=True)
        else:
            staging.unlink(missing_ok=True)
        removed.append(staging.name)
    return removed


def _fit(
    task_name,
    model,
    config,
    model_dir,
    strategy,
    seed,
    log_every,
    checkpoint_every,
    max_seconds,
    verbose,
    image_every,
    timed_learning_rate_drop,
    from_snapshot,
):
    chief = distribute.is_chief(strategy)
    steps = config.steps
    checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
    # Saving is collective: every worker saves, but only the chief's copy is kept.
    save_dir = model_dir if chief else distribute.scratch_dir(model_dir, strategy)
    if chief:
        remove_interrupted_saves(model_dir / loading.CHECKPOINT_DIR)
    manager = tf.train.CheckpointManager(
        checkpoint, save_dir / loading.CHECKPOINT_DIR, max_to_keep=3
    )
    # A run started from a newer snapshot leaves its own older checkpoints unread.
    latest = (
        None
        if from_snapshot
        else tf.train.latest_checkpoint(str(model_dir / loading.CHECKPOINT_DIR))
    )
    if latest:
        restored = checkpoint.restore(latest)
        restored.assert_existing_objects_matched()

    step = int(model.optimizer.iterations.numpy())
    if step >= steps:
        if latest:
            # No step will run, so the optimizer never builds the slots that would take
            # their checkpointed values; without this TF warns about each of them.
            restored.expect_partial()
        if verbose:
            print(f"{model_dir} already holds {step} of {steps} steps: nothing to train.")
        return model
    if latest and verbose:
        print(f"Resuming from step {step} ({latest}).")
    dataset = zoo.get_task(task_name).train_dataset(config, seed=seed)
    if step:
        # Every task's stream is a function of the seed alone, so skipping the batches the
        # checkpointed steps consumed makes a resumed run see what an uninterrupted one would.
        dataset = dataset.skip(step)
    options = tf.data.Options()
    # Every worker builds the same seeded pipeline and keeps its share of each global
    # batch, so N workers see the batches one worker would (FILE sharding would not).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    dataset = dataset.with_options(options)
    writer = (
        tf.summary.create_file_writer(str(model_dir / "train"))
        if chief
        else tf.summary.create_noop_writer()
    )
    monitor = train_callbacks.RunMonitor(
        initial_step=step,
        steps=steps,
        checkpoint_every=checkpoint_every,
        max_seconds=max_seconds,
        manager=manager,
        scratch=None if chief else save_dir,
        writer=writer,
        strategy=strategy,
        verbose=verbose,
    )
    callbacks = [monitor]
    if timed_learning_rate_drop:
        callbacks.append(
            train_callbacks.TimedLearningRateDrop(
                config.learning_rate, max_seconds, strategy, verbose=verbose
            )
        )
    if chief and image_every:
        callbacks.append(
            summaries.ImageSummaries(task_name, config, writer, every=image_every, steps=steps)
        )
    epochs = math.ceil((steps - step) / log_every)
    model.fit(dataset, steps_per_epoch=log_every, epochs=epochs, callbacks=callbacks, verbose=0)
    return model
