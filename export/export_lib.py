"""Exports a trained zoo model as a SavedModel in TF Serving's layout."""

from __future__ import annotations

import pathlib

import tensorflow as tf

from export import layout
from export.beta_vae import BetaVAEServing
from export.compression import CompressionServing
from zoo import train_lib

# Task name -> the tf.Module class holding that task's serving signatures.
SERVING_MODULES = {"beta_vae": BetaVAEServing, "compression": CompressionServing}


def serving_module(task_name: str, model) -> tf.Module:
    """Wraps `model` in its task's serving module."""
    if task_name not in SERVING_MODULES:
        raise ValueError(f"No exporter for task {task_name!r}; known: {sorted(SERVING_MODULES)}.")
    return SERVING_MODULES[task_name](model)


def export_model(
    task_name: str,
    model,
    base_dir,
    model_name: str,
    version: int | None = None,
) -> pathlib.Path:
    """Writes `model` to `<base_dir>/<model_name>/<version>` atomically, with warmup and metadata.

    Also (re)writes `<base_dir>/models.config`. Returns the version directory.
    """
    module = serving_module(task_name, model)
    signatures = module.signatures()
    lows, highs = model.weight_sampler.bounds()
    metadata = {
        "task": task_name,
        "term_names": list(model.term_names),
        "weight_ranges": {
            name: [low, high] for name, low, high in zip(model.term_names, lows, highs, strict=True)
        },
        "weight_sampler": model.weight_sampler.get_config(),
        "signatures": sorted(signatures),
    }

    def write(directory: pathlib.Path):
        # No device placement is recorded, so the same SavedModel runs on CPU or GPU servers.
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
        tf.saved_model.save(module, str(directory), signatures=signatures, options=options)
        layout.write_warmup_requests(directory, model_name, module.warmup_inputs())
        layout.write_metadata(directory, metadata)

    final = layout.write_version(base_dir, model_name, version, write)
    layout.write_models_config(base_dir)
    return final


def export_model_dir(model_dir, base_dir, model_name: str, version: int | None = None):
    """Restores the latest checkpoint of a training dir and exports it."""
    model, _, task_name = train_lib.restore_model(model_dir)
    return export_model(task_name, model, base_dir, model_name, version)
