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

from absl import flags

from zoo import flags_util


def _define(flag_values):
    flags.DEFINE_string(
        "model_dir",
        None,
        "Training directory written by yoto-train.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_string(
        "base_dir",
        None,
        "Model base directory served by TF Serving.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_string(
        "model_name", None, "Served model name (default: the task name).", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "version", None, "Version number (default: one past the newest).", flag_values=flag_values
    )


COMMAND = flags_util.Command("Export a trained model dir for TF Serving.", _define)


def run(argv=None) -> int:
    """Reads the command line and exports; prints what was written.

    The `yoto-export` console script; returns the exit status: 0, or 2 with a message on
    stderr for a bad command line, model dir or an existing version.
    """
    args, _ = flags_util.parse_command_line("yoto-export", __doc__.strip(), COMMAND, argv)
    flags_util.import_tensorflow_quietly()
    from export import export_lib, layout
    from zoo import loading

    try:
        task_name, _, _ = loading.load_run(args.model_dir)
        paths = export_lib.export_all(
            args.model_dir, args.base_dir, args.model_name or task_name, args.version
        )
    except (ValueError, FileNotFoundError, FileExistsError) as error:
        print(f"yoto-export: error: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"exported {path}")
    base = pathlib.Path(args.base_dir)
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


if __name__ == "__main__":
    sys.exit(run())
