"""Learns a task sequence into a run directory, one task after another, resumably.

`zoo/lifelong/lifelong_train.py` (`yoto-lifelong`) is a thin absl binary over
`train_sequence`; tests call it directly. A run directory holds:

    config.json     the task ("lifelong"), its Config and seed (a resumed run must match)
    checkpoints/    ckpt-K: the model after K tasks (each checkpoint records its task list)
    results.json    the accuracy matrix, final average accuracy, forgetting, parameters
                    per task and seconds per task
    train/          TensorBoard: accuracy on every task after each task, each task's digits

yoto-train's loop trains one model on one data stream for a number of steps; a sequence
is one `fit` per task with `add_task` in between, each on its own data, with an
evaluation of every earlier task after it, so it has a loop of its own here. Running
with a larger `num_tasks` on a run directory continues it: the model learns the next
tasks and the earlier ones stay exactly as they were.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
import time

import tensorflow as tf

from zoo import atomic
from zoo.config_dicts import config_from_dict
from zoo.lifelong import data, evaluation, summaries
from zoo.lifelong import model as lifelong_model
from zoo.lifelong.config import Config

keras = tf.keras

TASK_NAME = "lifelong"
CONFIG_FILE = "config.json"
RESULTS_FILE = "results.json"
CHECKPOINT_DIR = "checkpoints"


def _record(config: Config, seed: int) -> dict:
    # Through JSON, so that tuples compare equal to the lists a reloaded record holds.
    return json.loads(
        json.dumps({"task": TASK_NAME, "seed": seed, "config": dataclasses.asdict(config)})
    )


def _config_from_record(record: dict) -> Config:
    return config_from_dict(Config, record["config"])


def load_run(model_dir) -> tuple[str, Config, int]:
    """Returns `(task_name, config, seed)` of the lifelong run in `model_dir`."""
    path = pathlib.Path(model_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {model_dir} is not a yoto-lifelong run.")
    record = json.loads(path.read_text())
    if record.get("task") != TASK_NAME:
        raise ValueError(f"{model_dir} holds a {record.get('task')!r} run, not a lifelong one.")
    return TASK_NAME, _config_from_record(record), int(record["seed"])


def restore_run(model_dir):
    """Rebuilds the model of `model_dir`'s latest checkpoint; returns `(model, config, task)`.

    The checkpoint's task list must be the first tasks of the run's sequence: a checkpoint
    of another sequence or run fails with a ValueError that names both task lists.
    """
    _, config, seed = load_run(model_dir)
    latest = tf.train.latest_checkpoint(str(pathlib.Path(model_dir) / CHECKPOINT_DIR))
    if latest is None:
        raise FileNotFoundError(f"No checkpoint in {model_dir}/{CHECKPOINT_DIR}; train it first.")
    learned = lifelong_model.LifelongClassifier.checkpoint_task_list(latest)
    specs = data.task_specs(config.sequence)[: len(learned)]
    model = lifelong_model.build_model(config, specs, seed=seed)
    try:
        model.restore_checkpoint(latest)
    except ValueError as error:
        raise ValueError(
            f"{model_dir}/{CONFIG_FILE} describes the {config.sequence} sequence, whose first "
            f"{len(learned)} tasks are {[s.name for s in specs]}; {error}"
        ) from error
    return model, config, TASK_NAME


def _check_or_write_record(model_dir: pathlib.Path, record: dict) -> None:
    path = model_dir / CONFIG_FILE
    if path.exists():
        existing = json.loads(path.read_text())
        if existing != record:
            raise ValueError(
                f"{model_dir} holds a run with another config or seed ({existing}); continue "
                "it with the same flags or use a new model_dir."
            )
    else:
        atomic.write_text(path, json.dumps(record, indent=2, sort_keys=True) + "\n")


def _empty_results(config: Config) -> dict:
    names = [spec.name for spec in data.task_specs(config.sequence)]
    return {"sequence": config.sequence, "method": config.method, "tasks": names, "accuracy": []}


def train_sequence(
    model_dir,
    config: Config,
    seed: int = 0,
    num_tasks: int | None = None,
    verbose: int = 1,
) -> dict:
    """Learns the first `num_tasks` tasks (default all) of `config.sequence`; returns results.

    Continues a run directory that holds fewer tasks. The results (also in
    `results.json`) hold the accuracy matrix, `average_accuracy`, `forgetting`, the
    parameters per task and the seconds each task took.
    """
    model_dir = pathlib.Path(model_dir)
    specs = data.task_specs(config.sequence)
    total = len(specs) if num_tasks is None else int(num_tasks)
    if not 1 <= total <= len(specs):
        raise ValueError(
            f"num_tasks must be 1 .. {len(specs)} for {config.sequence}, got {num_tasks}."
        )
    _check_or_write_record(model_dir, _record(config, seed))
    results_path = model_dir / RESULTS_FILE
    manager = None
    if tf.train.latest_checkpoint(str(model_dir / CHECKPOINT_DIR)):
        model, _, _ = restore_run(model_dir)
        results = json.loads(results_path.read_text())
        results["accuracy"] = results["accuracy"][: model.num_tasks]
    else:
        model, results = None, _empty_results(config)
    learned = 0 if model is None else model.num_tasks
    if verbose and learned:
        print(f"{model_dir} holds {learned} tasks; learning tasks {learned} .. {total - 1}.")
    writer = tf.summary.create_file_writer(str(model_dir / "train"))
    for task in range(learned, total):
        spec, started = specs[task], time.monotonic()
        # Seeded per task, so that a run continued later initialises the new head alike.
        keras.utils.set_random_seed(seed + task)
        if model is None:
            model = lifelong_model.build_model(config, specs[:1], seed=seed)
        else:
            model.add_task(spec.num_classes, spec.name, input_shape=data.IMAGE_SHAPE)
        model.compile(lifelong_model.optimizer(config, task))
        if config.method == "joint":
            dataset = data.joint_dataset(config, task + 1, seed)
        else:
            dataset = data.train_dataset(config, task, seed)
        history = model.fit(dataset, steps_per_epoch=config.steps_per_task, epochs=1, verbose=0)
        if config.method == "ewc":
            images, labels = data.task_arrays(spec, "train", config.train_examples_per_task, seed)
            model.consolidate(images[: config.ewc_examples], labels[: config.ewc_examples], task)
        row = evaluation.accuracy_row(model, config, task + 1)
        results["accuracy"].append(row)
        results["average_accuracy"] = evaluation.average_accuracy(results["accuracy"])
        results["forgetting"] = evaluation.forgetting(results["accuracy"])
        results["parameters"] = evaluation.parameter_counts(model)
        results.setdefault("seconds", [])
        results["seconds"] = results["seconds"][:task] + [round(time.monotonic() - started, 1)]
        if manager is None:
            checkpoint = tf.train.Checkpoint(model=model)
            manager = tf.train.CheckpointManager(
                checkpoint, str(model_dir / CHECKPOINT_DIR), max_to_keep=None
            )
        manager.save(checkpoint_number=task + 1)
        atomic.write_text(results_path, json.dumps(results, indent=2) + "\n")
        with writer.as_default():
            summaries.write_accuracy(task + 1, row, results["tasks"])
            summaries.write_images(model, config)
        if verbose:
            accuracies = " ".join(f"{100 * a:.1f}" for a in row)
            print(
                f"task {task} ({spec.name}): train loss {history.history['loss'][-1]:.3f}; "
                f"accuracy on tasks 0..{task}: {accuracies}; "
                f"average {100 * results['average_accuracy']:.2f}"
            )
    writer.flush()
    return results
