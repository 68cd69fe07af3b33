"""Trains a zoo task: `yoto-train --task=beta_vae --model_dir=DIR [--steps=N]`.

Resumable: run the same command again and it continues from the last checkpoint
in --model_dir. Fixed-weight baselines use the same binary, for example
`--config=fixed_beta=4` for the beta-VAE.
"""

from __future__ import annotations

import sys

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

FLAGS = flags.FLAGS
flags.DEFINE_string("task", "beta_vae", "Zoo task to train.")
flags.DEFINE_string("model_dir", None, "Directory for config, checkpoints and TensorBoard.")
flags.DEFINE_integer("steps", None, "Total training steps (default: the task config's).")
flags.DEFINE_integer("batch_size", None, "Batch size (default: the task config's).")
flags.DEFINE_integer("seed", 0, "Seed of the weight sampler, initialisation and data order.")
flags.DEFINE_multi_string(
    "config", [], "Task config override field=value, repeatable (e.g. fixed_beta=4, beta_low=0.5)."
)
flags.DEFINE_bool("per_batch", False, "Sample one weight vector per batch, not per example.")
flags.DEFINE_string("eval_grid", None, "Comma-separated weights to evaluate at after training.")
flags.DEFINE_integer("eval_examples", 1000, "Evaluation examples for --eval_grid.")
flags.DEFINE_integer("log_every", 100, "Steps between TensorBoard scalars.")
flags.DEFINE_integer("checkpoint_every", 500, "Steps between checkpoints.")
flags.DEFINE_integer(
    "image_every", 1000, "Steps between TensorBoard images at a fixed weight grid (0: none)."
)
flags.DEFINE_float("max_seconds", None, "Stop (after a checkpoint) when this much time is spent.")
flags.DEFINE_bool(
    "timed_learning_rate_drop",
    False,
    "With --max_seconds: divide the learning rate by 10 for the last fifth of the time "
    "budget (the config's learning_rate_drops does it at given steps).",
)
flags.DEFINE_bool("runlocal", False, "Tiny config: the same code path, fast.")
flags.DEFINE_string(
    "init_from",
    None,
    "A weights snapshot (python -m zoo.training.snapshot) to start from when --model_dir holds no "
    "newer checkpoint: its own run continues at its step, another config fine-tunes from "
    "step 0; the optimizer state restarts.",
)
flags.DEFINE_enum(
    "strategy",
    "default",
    ["default", "mirrored", "multi_worker", "tpu"],
    "tf.distribute strategy: mirrored over local GPUs (or --logical_cpus), multi_worker "
    "from TF_CONFIG, or a TPU (--tpu).",
)
flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --strategy=tpu.")
flags.DEFINE_integer(
    "logical_cpus", None, "Split the host CPU into this many devices (MirroredStrategy on a CPU)."
)
flags.DEFINE_enum(
    "precision",
    "float32",
    ["float32", "mixed_float16", "mixed_bfloat16"],
    "Keras dtype policy; conditioning, FiLM modulation, entropy models and losses stay float32.",
)
flags.mark_flag_as_required("model_dir")


def main(argv):
    """Reads flags, trains, and optionally evaluates on the grid."""
    del argv
    import zoo
    from zoo import flags_util, tables
    from zoo.evaluation import evaluate_lib
    from zoo.training import distribute, train_lib

    try:
        if FLAGS.logical_cpus:
            distribute.split_host_cpu(FLAGS.logical_cpus)
        strategy = distribute.make_strategy(FLAGS.strategy, tpu=FLAGS.tpu)
        task = zoo.get_task(FLAGS.task)
        overrides = flags_util.parse_overrides(FLAGS.config, task.Config)
        if FLAGS.batch_size is not None:
            overrides["batch_size"] = FLAGS.batch_size
        if FLAGS.per_batch:
            overrides["per_example"] = False
        grid = flags_util.parse_grid(FLAGS.eval_grid) if FLAGS.eval_grid else None
        model = train_lib.train(
            FLAGS.task,
            FLAGS.model_dir,
            steps=FLAGS.steps,
            config_overrides=overrides,
            seed=FLAGS.seed,
            log_every=FLAGS.log_every,
            checkpoint_every=FLAGS.checkpoint_every,
            max_seconds=FLAGS.max_seconds,
            runlocal=FLAGS.runlocal,
            strategy=strategy,
            precision=FLAGS.precision,
            image_every=FLAGS.image_every,
            timed_learning_rate_drop=FLAGS.timed_learning_rate_drop,
            init_from=FLAGS.init_from,
        )
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        print(f"yoto-train: error: {error}", file=sys.stderr)
        return 2
    if grid and distribute.is_chief(strategy):
        images = task.loss_term_images(FLAGS.eval_examples)
        terms_fn = evaluate_lib.keras_terms_fn(model, task.SWEEP_TERM)
        rows = evaluate_lib.evaluate_grid(terms_fn, images, grid, task)
        print(tables.format_table(rows))
    return 0


def run():
    """Console-script entry point."""
    app.run(main)


if __name__ == "__main__":
    run()
