"""One way to get a trained model from any source it may come from.

    model, config, task_name = loading.restore_model(source)

`source` is a training directory written by `yoto-train` (its `config.json` and latest
checkpoint), a weights snapshot folder (`zoo/loading/snapshots.py`; the release work
area's are such), or a release `pretrained:NAME` (`zoo/loading/releases.py`), verified
against its checksum. An exported SavedModel is not a Keras model: `is_saved_model`
tells one apart, so that tools can load it through `tf.saved_model.load` instead.

Everything that only needs a model (the tasks' binaries, evaluation, export, releases,
benchmarks) imports this module, not the training loop. It sits below the tasks and
reaches them only through the registry (`zoo.tasks`), by name.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pathlib
import shlex

import tensorflow as tf

import zoo
from zoo.config_dicts import config_from_dict
from zoo.loading import releases, snapshots

CONFIG_FILE = "config.json"
CHECKPOINT_DIR = "checkpoints"
SAVED_MODEL_FILE = "saved_model.pb"


def is_saved_model(path) -> bool:
    """Whether `path` is an exported SavedModel folder (not a training dir or snapshot)."""
    return not releases.is_release(path) and (pathlib.Path(path) / SAVED_MODEL_FILE).is_file()


def with_new_fields(record: dict) -> dict:
    """`record` with Config fields added since it was written, at their old behaviour.

    A missing field takes the value in the Config class's `LEGACY_DEFAULTS` when it has
    one (the behaviour before the field existed, when the default now differs), else
    its default. So a run written before a field existed resumes, rebuilds and exports
    with the objective it was trained on, whatever the defaults are now.
    """
    try:
        config_class = zoo.get_task(record["task"]).Config
    except (KeyError, ValueError):
        return record  # Not a known task: the comparison will report the difference.
    legacy = getattr(config_class, "LEGACY_DEFAULTS", {})
    defaults = {
        field.name: legacy.get(field.name, field.default)
        for field in dataclasses.fields(config_class)
        if field.default is not dataclasses.MISSING
    }
    defaults = json.loads(json.dumps(defaults))  # Tuples become lists, as in the record.
    config = {**defaults, **record.get("config", {})}
    config.pop("steps", None)
    return {**record, "config": config}


def _sequence_module(model_dir):
    """The module of a task-sequence run in `model_dir` (the registry's `sequence`), else None.

    A lifelong run holds a model per number of tasks learned, which the task's own module
    rebuilds (`zoo.tasks.Task.sequence`); it is reached by name, like every task.
    """
    path = pathlib.Path(model_dir) / CONFIG_FILE
    if not path.is_file():
        return None
    task = zoo.TASKS.get(json.loads(path.read_text()).get("task"))
    return None if task is None or task.sequence is None else importlib.import_module(task.sequence)


def load_run(model_dir) -> tuple[str, object, int]:
    """Returns `(task_name, config, seed)` of the run in `model_dir` (or of a release)."""
    if releases.is_release(model_dir):
        return run_from_record(snapshots.read_metadata(releases.directory(model_dir)))
    if snapshots.is_snapshot(model_dir):
        return run_from_record(snapshots.read_metadata(model_dir))
    sequence = _sequence_module(model_dir)
    if sequence is not None:
        return sequence.load_run(model_dir)
    path = pathlib.Path(model_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: {model_dir} is not a model directory written by yoto-train."
        )
    return run_from_record(json.loads(path.read_text()))


def run_from_record(record: dict) -> tuple[str, object, int]:
    """`(task_name, config, seed)` of a run record (config.json or a snapshot's metadata)."""
    record = with_new_fields(record)
    task = zoo.get_task(record["task"])
    fields = dict(record["config"])
    config = config_from_dict(task.Config, fields)
    return record["task"], config, record["seed"]


def restore_model(model_dir, expect_partial: bool = True):
    """Rebuilds the model of `model_dir` and restores its latest checkpoint.

    `model_dir` may also name a release, `pretrained:NAME` (`zoo/releases`), or be a
    weights snapshot folder (`zoo/training/snapshots.py`): its weights are verified against
    their checksum and loaded. Raises ValueError when the checkpoint does not hold every
    variable of the model its config describes.
    """
    if releases.is_release(model_dir):
        return restore_snapshot(releases.directory(model_dir))
    if snapshots.is_snapshot(model_dir):
        return restore_snapshot(model_dir)
    sequence = _sequence_module(model_dir)
    if sequence is not None:
        return sequence.restore_run(model_dir)
    task_name, config, seed = load_run(model_dir)
    task = zoo.get_task(task_name)
    model = task.build_model(config, seed=seed)
    latest = tf.train.latest_checkpoint(os.path.join(model_dir, CHECKPOINT_DIR))
    if latest is None:
        raise FileNotFoundError(f"No checkpoint in {model_dir}/{CHECKPOINT_DIR}; train it first.")
    status = tf.train.Checkpoint(model=model).restore(latest)
    if expect_partial:
        status.expect_partial()
    try:
        # A variable the checkpoint does not hold would keep its initial value and the
        # model would run on silently with it (a renamed layer, another config).
        status.assert_existing_objects_matched()
    except AssertionError as error:
        raise ValueError(
            f"The checkpoint {latest} does not fit the {task_name} model that "
            f"{model_dir}/{CONFIG_FILE} describes ({str(error).splitlines()[0][:300]}); "
            "it was written by another model or config: train it again, or restore it "
            "with the code that wrote it."
        ) from error
    return model, config, task_name


def restore_snapshot(directory):
    """Rebuilds the model of a weights snapshot (or release) and loads its weights.

    Returns `(model, config, task_name)`, like `restore_model`.
    """
    task_name, config, seed = run_from_record(snapshots.read_metadata(directory))
    model = zoo.get_task(task_name).build_model(config, seed=seed)
    snapshots.restore(model, directory)
    return model, config, task_name


def checkpoint_step(path) -> int:
    """The optimizer step a training checkpoint was saved at."""
    reader = tf.train.load_checkpoint(path)
    # Keras optimizers keep it as `_iterations` (inside `inner_optimizer` under loss scaling).
    keys = [
        key
        for key in reader.get_variable_to_dtype_map()
        if key.startswith("optimizer/") and key.endswith("_iterations/.ATTRIBUTES/VARIABLE_VALUE")
    ]
    if len(keys) != 1:
        raise ValueError(f"{path} is not a training checkpoint with one optimizer step counter.")
    return int(reader.get_tensor(keys[0]))


def continue_command(metadata: dict, snapshot, model_dir="NEW_RUN_DIR") -> str:
    """The `yoto-train` command that continues the run of a snapshot's `metadata` at its step.

    Every config field that differs from the task's default is spelled out, with the seed
    and precision: `--init_from` continues a run only when all of them match (any other
    config fine-tunes from step 0), so a command with fewer flags starts a different run.
    """
    record = with_new_fields(metadata)
    task = record["task"]
    defaults = json.loads(json.dumps(dataclasses.asdict(zoo.get_task(task).Config())))
    arguments = ["yoto-train", f"--task={task}", f"--model_dir={model_dir}"]
    arguments.append(f"--init_from={snapshot}")
    if record.get("seed", 0) != 0:
        arguments.append(f"--seed={record['seed']}")
    if record.get("precision", "float32") != "float32":
        arguments.append(f"--precision={record['precision']}")
    for name, value in sorted(record["config"].items()):
        if value != defaults.get(name):
            # Written as Python literals, as `--config` reads them (lists as tuples).
            literal = repr(tuple(value)) if isinstance(value, list) else repr(value)
            arguments.append(f"--config={name}={literal}")
    return shlex.join(arguments)
