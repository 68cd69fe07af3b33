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

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

FLAGS = flags.FLAGS
flags.DEFINE_string("task", "beta_vae", "Zoo task the models belong to.")
flags.DEFINE_list("model_dirs", None, "Training dirs or SavedModel dirs to evaluate.")
flags.DEFINE_list("labels", None, "A label per model dir (default: the dir names).")
flags.DEFINE_string("grid", None, "Comma-separated weights (default: the task's grid).")
flags.DEFINE_integer("examples", None, "Evaluate on the first N held-out examples (default all).")
flags.DEFINE_string("output_dir", None, "Where to write terms.csv and terms.png.")
flags.mark_flag_as_required("model_dirs")


def main(argv):
    """Evaluates every model on the grid, prints tables, writes CSV and PNG."""
    del argv
    import zoo
    from zoo import atomic, flags_util, tables
    from zoo.evaluation import evaluate_lib

    try:
        task = zoo.get_task(FLAGS.task)
        grid = flags_util.parse_grid(FLAGS.grid) if FLAGS.grid else list(task.EVALUATION_GRID)
        labels = FLAGS.labels or [pathlib.Path(d).name for d in FLAGS.model_dirs]
        if len(labels) != len(FLAGS.model_dirs):
            raise ValueError(
                f"--labels has {len(labels)} entries for {len(FLAGS.model_dirs)} dirs."
            )
        images = task.loss_term_images(FLAGS.examples)
        results = {}
        for label, model_dir in zip(labels, FLAGS.model_dirs, strict=True):
            terms_fn = evaluate_lib.terms_fn_for(model_dir, task)
            results[label] = evaluate_lib.evaluate_grid(terms_fn, images, grid, task)
            print(tables.format_table(results[label], label=label), flush=True)
    except (ValueError, FileNotFoundError) as error:
        print(f"yoto-evaluate: error: {error}", file=sys.stderr)
        return 2
    if FLAGS.output_dir:
        output_dir = pathlib.Path(FLAGS.output_dir)
        atomic.write_text(output_dir / "terms.csv", tables.rows_to_csv(results))
        evaluate_lib.plot_terms(results, task.SWEEP_WEIGHT_NAME, output_dir / "terms.png")
        print(f"wrote {output_dir / 'terms.csv'} and {output_dir / 'terms.png'}")
    return 0


def run():
    """Console-script entry point."""
    app.run(main)


if __name__ == "__main__":
    run()
