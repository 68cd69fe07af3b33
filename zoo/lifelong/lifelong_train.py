"""Learns a lifelong task sequence: `yoto-lifelong --model_dir=DIR [--num_tasks=N]`.

    yoto-lifelong --model_dir=runs/split --config=sequence=split_mnist --config=method=calibration
    yoto-export --model_dir=runs/split --base_dir=runs/serving     # version 1: every task so far

Run it again with a larger --num_tasks to add tasks to the same model (its earlier tasks
stay exactly as they were), then export again for the next version. Prints the accuracy
matrix (accuracy on every task learned so far, after each task), the final average
accuracy and the parameters each task adds. Baselines: --config=method=finetune (or
ewc, joint, sc, sf); see zoo/lifelong/config.py.
"""

from __future__ import annotations

import sys

from absl import flags

from zoo import flags_util


def _define(flag_values):
    flags.DEFINE_string(
        "model_dir",
        None,
        "Run directory: config, checkpoints, results, TensorBoard.",
        flag_values=flag_values,
        required=True,
    )
    flags.DEFINE_integer(
        "num_tasks",
        None,
        "Learn the sequence's first N tasks (default: all).",
        flag_values=flag_values,
    )
    flags.DEFINE_integer(
        "seed", 0, "Seed of initialisation and data order.", flag_values=flag_values
    )
    flags.DEFINE_multi_string(
        "config",
        [],
        "Config override field=value, repeatable (e.g. method=ewc, steps_per_task=500).",
        flag_values=flag_values,
    )
    flags.DEFINE_bool(
        "runlocal", False, "Tiny config: the same code path, fast.", flag_values=flag_values
    )


COMMAND = flags_util.Command("Learn a lifelong task sequence.", _define)


def run(argv=None) -> int:
    """Reads the command line, learns the tasks, prints the accuracy matrix.

    The `yoto-lifelong` console script; returns the exit status: 0, or 2 with a message on
    stderr for a bad command line, config or run directory.
    """
    args, _ = flags_util.parse_command_line("yoto-lifelong", __doc__.strip(), COMMAND, argv)
    flags_util.import_tensorflow_quietly()
    import dataclasses

    from zoo.lifelong import config as lifelong_config
    from zoo.lifelong import evaluation, sequence

    try:
        overrides = flags_util.parse_overrides(args.config, lifelong_config.Config)
        base = lifelong_config.Config.runlocal() if args.runlocal else lifelong_config.Config()
        config = dataclasses.replace(base, **overrides)
        results = sequence.train_sequence(
            args.model_dir, config, seed=args.seed, num_tasks=args.num_tasks
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"yoto-lifelong: error: {error}", file=sys.stderr)
        return 2
    print(evaluation.format_matrix(results["accuracy"], results["tasks"]))
    parameters = results["parameters"]
    added = ", ".join(f"{p:.2f}%" for p in parameters["per_task_percent_of_base"])
    print(
        f"average accuracy {100 * results['average_accuracy']:.2f}%, forgetting "
        f"{100 * results['forgetting']:.2f} points; base {parameters['base']} parameters, "
        f"each task adds (modules + head) {added} of it"
    )
    return 0


if __name__ == "__main__":
    sys.exit(run())
