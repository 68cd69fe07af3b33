"""Trains a zoo task: `yoto-train --task=beta_vae --model_dir=DIR [--steps=N]`.

Resumable: run the same command again and it continues from the last checkpoint
in --model_dir. Fixed-weight baselines use the same binary, for example
`--config=fixed_beta=4` for the beta-VAE.
"""

from __future__ import annotations

import sys

from absl import flags

from zoo import flags_util


def _define(flag_values):
    flags.DEFINE_string("task", "beta_vae", "Zoo task to train.", flag_values=flag_values)
    flags.DEFINE_string(
        "model_dir",
        None,
        "Directory for config, checkpoints and TensorBoard.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_integer(
        "steps",
        None,
        "Total training steps (default: the task config's).",
        flag_values=flag_values,
    )
    flags.DEFINE_integer(
        "batch_size", None, "Batch size (default: the task config's).", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "seed",
        0,
        "Seed of the weight sampler, initialisation and data order.",
        flag_values=flag_values,
    )
    flags.DEFINE_multi_string(
        "config",
        [],
        "Task config override field=value, repeatable (e.g. fixed_beta=4, beta_low=0.5).",
        flag_values=flag_values,
    )
    flags.DEFINE_bool(
        "per_batch",
        False,
        "Sample one weight vector per batch, not per example.",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "eval_grid",
        None,
        "Comma-separated weights to evaluate at after training.",
        flag_values=flag_values,
    )
    flags.DEFINE_integer(
        "eval_examples", 1000, "Evaluation examples for --eval_grid.", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "log_every", 100, "Steps between TensorBoard scalars.", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "checkpoint_every", 500, "Steps between checkpoints.", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "image_every",
        1000,
        "Steps between TensorBoard images at a fixed weight grid (0: none).",
        flag_values=flag_values,
    )
    flags.DEFINE_float(
        "max_seconds",
        None,
        "Stop (after a checkpoint) when this much time is spent.",
        flag_values=flag_values,
    )
    flags.DEFINE_bool(
        "timed_learning_rate_drop",
        False,
        "With --max_seconds: divide the learning rate by 10 for the last fifth of the time "
        "budget (the config's learning_rate_drops does it at given steps).",
        flag_values=flag_values,
    )
    flags.DEFINE_bool(
        "runlocal", False, "Tiny config: the same code path, fast.", flag_values=flag_values
    )
    flags.DEFINE_string(
        "init_from",
        None,
        "A weights snapshot (python -m zoo.training.snapshot) to start from when --model_dir "
        "holds no newer checkpoint: its own run continues at its step, another config "
        "fine-tunes from step 0; the optimizer state restarts.",
        flag_values=flag_values,
    )
    flags.DEFINE_enum(
        "strategy",
        "default",
        ["default", "mirrored", "multi_worker", "tpu"],
        "tf.distribute strategy: mirrored over local GPUs (or --logical_cpus), multi_worker "
        "from TF_CONFIG, or a TPU (--tpu).",
        flag_values=flag_values,
    )
    flags.DEFINE_string(
        "tpu", None, "TPU name or grpc:// address for --strategy=tpu.", flag_values=flag_values
    )
    flags.DEFINE_integer(
        "logical_cpus",
        None,
        "Split the host CPU into this many devices (MirroredStrategy on a CPU).",
        flag_values=flag_values,
    )
    flags.DEFINE_enum(
        "precision",
        "float32",
        ["float32", "mixed_float16", "mixed_bfloat16"],
        "Keras dtype policy; conditioning, FiLM modulation, entropy models and losses stay "
        "float32.",
        flag_values=flag_values,
    )


COMMAND = flags_util.Command("Train a zoo task.", _define)


def run(argv=None) -> int:
    """Parses `argv` (default: the command line), trains, and optionally evaluates on the grid.

    The `yoto-train` console script; returns the exit status: 0, or 2 with a message on
    stderr for a bad command line, config or run directory, or a loss that became NaN.
    """
    args, _ = flags_util.parse_command_line("yoto-train", __doc__.strip(), COMMAND, argv)
    flags_util.import_tensorflow_quietly()
    import zoo
    from zoo import tables
    from zoo.evaluation import evaluate_lib
    from zoo.training import distribute, train_lib

    try:
        if args.logical_cpus:
            distribute.split_host_cpu(args.logical_cpus)
        strategy = distribute.make_strategy(args.strategy, tpu=args.tpu)
        task = zoo.get_task(args.task)
        overrides = flags_util.parse_overrides(args.config, task.Config)
        if args.batch_size is not None:
            overrides["batch_size"] = args.batch_size
        if args.per_batch:
            overrides["per_example"] = False
        grid = flags_util.parse_grid(args.eval_grid) if args.eval_grid else None
        model = train_lib.train(
            args.task,
            args.model_dir,
            steps=args.steps,
            config_overrides=overrides,
            seed=args.seed,
            log_every=args.log_every,
            checkpoint_every=args.checkpoint_every,
            max_seconds=args.max_seconds,
            runlocal=args.runlocal,
            strategy=strategy,
            precision=args.precision,
            image_every=args.image_every,
            timed_learning_rate_drop=args.timed_learning_rate_drop,
            init_from=args.init_from,
        )
    except (ValueError, FileNotFoundError, FloatingPointError) as error:
        print(f"yoto-train: error: {error}", file=sys.stderr)
        return 2
    if grid and distribute.is_chief(strategy):
        images = task.loss_term_images(args.eval_examples)
        terms_fn = evaluate_lib.keras_terms_fn(model, task.SWEEP_TERM)
        rows = evaluate_lib.evaluate_grid(terms_fn, images, grid, task)
        print(tables.format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(run())
