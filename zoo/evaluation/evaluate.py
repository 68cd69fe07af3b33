"""Evaluates loss terms over a weight grid and writes a CSV and a PNG plot.

    yoto-evaluate --task=beta_vae --model_dirs=runs/yoto,runs/fixed_4 \
        --output_dir=runs/eval

Each entry of --model_dirs is a training directory (yoto-train) or an exported
SavedModel version directory (yoto-export). The default grid is the task's
(beta = 2^-3 .. 2^9 for the beta-VAE); the data is the task's held-out split.
"""

from __future__ import annotations

import pathlib
import sys

from absl import flags

from zoo import flags_util


def _define(flag_values):
    flags.DEFINE_string(
        "task", "beta_vae", "Zoo task the models belong to.", flag_values=flag_values
    )
    flags.DEFINE_list(
        "model_dirs",
        None,
        "Training dirs or SavedModel dirs to evaluate.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_list(
        "labels", None, "A label per model dir (default: the dir names).", flag_values=flag_values
    )
    flags.DEFINE_string(
        "grid",
        None,
        "Comma-separated weights (default: the task's grid).",
        flag_values=flag_values,
    )
    flags.DEFINE_integer(
        "examples",
        None,
        "Evaluate on the first N held-out examples (default all).",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "output_dir", None, "Where to write terms.csv and terms.png.", flag_values=flag_values
    )


COMMAND = flags_util.Command("Evaluate loss terms over a weight grid.", _define)


def run(argv=None) -> int:
    """Evaluates every model on the grid, prints tables, writes CSV and PNG.

    The `yoto-evaluate` console script; returns the exit status: 0, or 2 with a message on
    stderr for a bad command line, grid or model dir.
    """
    args, _ = flags_util.parse_command_line("yoto-evaluate", __doc__.strip(), COMMAND, argv)
    flags_util.import_tensorflow_quietly()
    import zoo
    from zoo import atomic, tables
    from zoo.evaluation import evaluate_lib

    try:
        task = zoo.get_task(args.task)
        grid = flags_util.parse_grid(args.grid) if args.grid else list(task.EVALUATION_GRID)
        labels = args.labels or [pathlib.Path(d).name for d in args.model_dirs]
        if len(labels) != len(args.model_dirs):
            raise ValueError(f"--labels has {len(labels)} entries for {len(args.model_dirs)} dirs.")
        images = task.loss_term_images(args.examples)
        results = {}
        for label, model_dir in zip(labels, args.model_dirs, strict=True):
            terms_fn = evaluate_lib.terms_fn_for(model_dir, task)
            results[label] = evaluate_lib.evaluate_grid(terms_fn, images, grid, task)
            print(tables.format_table(results[label], label=label), flush=True)
    except (ValueError, FileNotFoundError) as error:
        print(f"yoto-evaluate: error: {error}", file=sys.stderr)
        return 2
    if args.output_dir:
        output_dir = pathlib.Path(args.output_dir)
        atomic.write_text(output_dir / "terms.csv", tables.rows_to_csv(results))
        evaluate_lib.plot_terms(results, task.SWEEP_WEIGHT_NAME, output_dir / "terms.png")
        print(f"wrote {output_dir / 'terms.csv'} and {output_dir / 'terms.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(run())
