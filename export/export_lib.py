"""Exports a trained zoo model as a SavedModel in TF Serving's layout."""

from __future__ import annotations

import contextlib
import pathlib

import tensorflow as tf

import zoo
from export import layout
from zoo import loading, releases
from zoo.loading import snapshots

# Tasks whose main servable needs custom ops get a second one with stock ops only, for a
# stock TF Serving ModelServer (the registry's `stock_serving`); it is exported next to
# the main one as `<name>_stock`.
STOCK_SUFFIX = "_stock"
# The signatures' names and outputs, as `yoto_metadata.json`'s `export_format` records it
# (CHANGELOG.md). Exports without the key are format 1. Format 2: every string output's
# name ends in `_bytes`, which TF Serving's REST API needs to base64-encode it.
EXPORT_FORMAT = 2


def has_stock_twin(task_name: str) -> bool:
    """Whether the task's main servable needs custom ops and so has a stock-op twin."""
    return zoo.find_task(task_name).stock_serving is not None


def serving_module(task_name: str, model, stock: bool = False, **options) -> tf.Module:
    """Wraps `model` in its task's serving module (the stock-op one if `stock`).

    The task registry (`zoo/tasks.py`) names the module. `options` go to the module,
    e.g. `max_pixels` for the codecs' image size limit.
    """
    return zoo.find_task(task_name).serving_class(stock=stock)(model, **options)


def export_model(
    task_name: str,
    model,
    base_dir,
    model_name: str,
    version: int | None = None,
    stock: bool = False,
    source: dict | None = None,
    **options,
) -> pathlib.Path:
    """Writes `model` to `<base_dir>/<model_name>/<version>` atomically, with warmup and metadata.

    `source` (the training dir and checkpoint it came from) goes into the metadata.
    Also (re)writes `<base_dir>/models.config`, `models_custom_ops.config` and
    `batching.config`. Returns the version directory.
    """
    module = serving_module(task_name, model, stock=stock, **options)
    # A module may trace and save under a context of its own (the codec computes its
    # transforms' kernels once for the export instead of on every call).
    export_context = getattr(module, "export_context", contextlib.nullcontext)
    with export_context():
        return _export_module(
            task_name, model, module, base_dir, model_name, version, stock, source
        )


def _export_module(task_name, model, module, base_dir, model_name, version, stock, source):
    signatures = module.signatures()
    metadata = {"task": task_name}
    # A lifelong classifier is conditioned on a task id, not on loss weights: its module's
    # extra metadata lists its tasks instead.
    if hasattr(model, "weight_sampler"):
        lows, highs = model.weight_sampler.bounds()
        ranges = zip(model.term_names, lows, highs, strict=True)
        metadata.update(
            term_names=list(model.term_names),
            weight_ranges={name: [low, high] for name, low, high in ranges},
            weight_sampler=model.weight_sampler.get_config(),
        )
    metadata.update(
        signatures=sorted(signatures),
        stock_ops_only=stock or not has_stock_twin(task_name),
        export_format=EXPORT_FORMAT,
    )
    if source is not None:
        metadata["source"] = source
    # Task-specific extras, e.g. the style names and images of style transfer.
    if hasattr(module, "extra_metadata"):
        metadata.update(module.extra_metadata())
    assets = module.asset_files() if hasattr(module, "asset_files") else {}
    # Only modules whose inputs have one fixed shape per example ask to be batched.
    batching = module.batching_parameters() if hasattr(module, "batching_parameters") else None

    def write(directory: pathlib.Path):
        # No device placement is recorded, so the same SavedModel runs on CPU or GPU servers.
        options = tf.saved_model.SaveOptions(experimental_custom_gradients=False)
        tf.saved_model.save(module, str(directory), signatures=signatures, options=options)
        warmup = module.warmup_inputs()
        if set(warmup) != set(signatures):
            # A signature left out would meet its first request cold (and, under batching,
            # with its batch queue not yet exercised).
            raise ValueError(
                f"{type(module).__name__}.warmup_inputs covers {sorted(warmup)}, "
                f"not every signature {sorted(signatures)}."
            )
        layout.write_warmup_requests(directory, model_name, warmup)
        layout.write_metadata(directory, metadata)
        for relative, content in assets.items():
            layout.write_extra_asset(directory, relative, content)
        if batching is not None:
            layout.write_batching_parameters(directory, batching)

    final = layout.write_version(base_dir, model_name, version, write)
    layout.write_models_config(base_dir)
    layout.write_batching_config(base_dir)
    return final


def _source(model_dir) -> dict:
    """Where an export comes from: the training dir and its latest checkpoint's name.

    For a release (`pretrained:NAME`), its name, steps and the sha256 of its weights.
    """
    if releases.is_release(model_dir):
        metadata = snapshots.read_metadata(releases.directory(model_dir))
        return {
            "release": str(model_dir)[len(releases.PREFIX) :],
            "release_version": releases.card(model_dir).get("version", 1),
            "step": metadata["step"],
            "weights_sha256": metadata["weights_sha256"],
        }
    checkpoints = pathlib.Path(model_dir).resolve() / loading.CHECKPOINT_DIR
    latest = tf.train.latest_checkpoint(str(checkpoints))
    return {"model_dir": str(checkpoints.parent), "checkpoint": pathlib.Path(latest).name}


def export_model_dir(model_dir, base_dir, model_name: str, version: int | None = None):
    """Restores the latest checkpoint of a training dir and exports it."""
    model, _, task_name = loading.restore_model(model_dir)
    return export_model(task_name, model, base_dir, model_name, version, source=_source(model_dir))


def export_all(model_dir, base_dir, model_name: str, version: int | None = None) -> list:
    """Exports a training dir's servable, and its stock-op twin where the task has one.

    Returns the version directories written: `<base>/<model_name>/<v>` and, for
    compression, `<base>/<model_name>_stock/<v>`.
    """
    model, _, task_name = loading.restore_model(model_dir)
    source = _source(model_dir)
    written = [export_model(task_name, model, base_dir, model_name, version, source=source)]
    if has_stock_twin(task_name):
        stock_name = model_name + STOCK_SUFFIX
        written.append(
            export_model(task_name, model, base_dir, stock_name, version, stock=True, source=source)
        )
    return written
