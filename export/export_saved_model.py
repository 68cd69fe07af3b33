"""Exports a trained model dir for TF Serving: `yoto-export --model_dir=DIR --base_dir=BASE`.

Writes `BASE/<model_name>/<version>/` atomically (the next free version by
default) and, for `tensorflow_model_server`, `BASE/models.config` (the models a
stock ModelServer can load), `BASE/models_custom_ops.config` (every model, for a
ModelServer built with tensorflow-compression's ops) and `BASE/batching.config`.
A compression model also gets `BASE/<model_name>_stock/<version>/`: the same codec
with stock TensorFlow ops only, for a stock ModelServer (serving/codec_client.py
range-codes on the client).
"""

from __future__ import annotations

import pathlib
import sys

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

FLAGS = flags.FLAGS
flags.DEFINE_string("model_dir", None, "Training directory written by yoto-train.")
flags.DEFINE_string("base_dir", None, "Model base directory served by TF Serving.")
flags.DEFINE_string("model_name", None, "Served model name (default: the task name).")
flags.DEFINE_integer("version", None, "Version number (default: one past the newest).")
flags.mark_flags_as_required(["model_dir", "base_dir"])


def main(argv):
    """Reads flags and exports."""
    del argv
    from export import export_lib, layout
    from zoo import loading

    try:
        task_name, _, _ = loading.load_run(FLAGS.model_dir)
        paths = export_lib.export_all(
            FLAGS.model_dir, FLAGS.base_dir, FLAGS.model_name or task_name, FLAGS.version
        )
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"yoto-export: error: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"exported {path}")
    base = pathlib.Path(FLAGS.base_dir)
    for name, what in (
        (layout.MODELS_CONFIG, "--model_config_file for a stock ModelServer (stock-op models)"),
        (
            layout.CUSTOM_OPS_MODELS_CONFIG,
            "--model_config_file for a ModelServer with tensorflow-compression's ops (every model)",
        ),
        (layout.BATCHING_CONFIG, "--batching_parameters_file, with per-model batching"),
    ):
        print(f"wrote {base / name}: {what}")
    return 0


def run():
    """Console-script entry point."""
    app.run(main)


if __name__ == "__main__":
    run()
