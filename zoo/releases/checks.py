"""The checks a model must pass to be released, and publishing it with their results.

    python -m zoo.releases.checks --model=releases/work/compression \
        --output_dir=runs/release_checks/codec [--float32_model_dir=runs/long/compression] \
        [--publish=codec]

--model is a weights snapshot, a training dir or `pretrained:NAME`. The task's checks
run on held-out data only (the codec's evaluation set, MNIST's test split), print
one line per result, and write their figures to --output_dir:

Each task's checks live in its own package, named by the registry (`zoo/tasks.py`,
`release_checks`):

- compression (`zoo/compression/release_checks.py`): the evaluation set at eight lambdas,
  files decoding exactly, BD-rates against JPEG, WebP and AVIF; with
  --float32_model_dir, the PSNR change that float16 weights cause.
- style_transfer (`zoo/style_transfer/release_checks.py`): each conditioned term falling
  along its own weight, the photograph's colours kept at content weight 10, and for a
  network distilled from a teacher its objective within 5% of the teacher's (--teacher,
  default the teacher its config names).
- beta_vae (`zoo/beta_vae/release_checks.py`): with --fixed_models=BETA=DIR,... (fixed-beta
  runs of as many steps), the YOTO model's total loss against each fixed model's.

--publish=NAME makes the snapshot the release NAME (`zoo/releases`) with every result
and this command on its model card, whether or not the checks passed: the card says.
Exit status 0 when every check passed, 1 when one failed, 2 on bad input.
"""

from __future__ import annotations

import shlex
import sys

from absl import flags

import zoo
from zoo import flags_util, loading


def _define(flag_values):
    def define(name, help_text, required=False):
        flags.DEFINE_string(name, None, help_text, flag_values=flag_values, required=required)

    define("model", "Snapshot, training dir or pretrained:NAME", required=True)
    define("output_dir", "Where the figures go.", required=True)
    define("float32_model_dir", "compression: the run at the snapshot's step")
    define("fixed_models", "beta_vae: BETA=DIR,... fixed-beta runs")
    define("teacher", "style_transfer: the teacher a distilled network is held to")
    define("publish", "Publish the snapshot as release NAME.")
    define("notes", "What a person saw in the figures, for the model card.")


COMMAND = flags_util.Command("Check a model for release.", _define)


def run(argv=None) -> int:
    """Runs the checks of the model's task, prints them, publishes on request."""
    args, _ = flags_util.parse_command_line(
        "python -m zoo.releases.checks", __doc__.split("\n\n")[0], COMMAND, argv
    )
    # The notes are on the card already; the command is what reproduces the numbers.
    shown = [arg for arg in (argv or sys.argv[1:]) if not arg.startswith("--notes")]
    command = shlex.join(["python", "-m", "zoo.releases.checks", *shown])

    flags_util.import_tensorflow_quietly()
    from zoo import releases
    from zoo.loading import snapshots

    try:
        task, _, _ = loading.load_run(args.model)
        if args.publish and not snapshots.is_snapshot(args.model):
            raise ValueError(
                f"--publish needs a weights snapshot; {args.model} is not one "
                "(write one with python -m zoo.training.snapshot)."
            )
        measured_sha256 = (
            snapshots.read_metadata(args.model)["weights_sha256"] if args.publish else None
        )
        options = {
            "float32_model_dir": args.float32_model_dir,
            "fixed_models": args.fixed_models,
            "teacher": args.teacher,
        }
        results = zoo.find_task(task).run_release_checks(
            args.model, args.output_dir, command, options
        )
    except (ValueError, FileNotFoundError) as error:
        print(f"release_checks: error: {error}", file=sys.stderr)
        return 2
    for line in results:
        verdict = {True: "PASS", False: "FAIL", None: "    "}[line["passed"]]
        print(f"{verdict} {line['what']}: {line['value']}")
    passed = all(line["passed"] is not False for line in results)
    if args.publish:
        card = {
            "data": zoo.find_task(task).training_data,
            "results": results,
            "checks_passed": passed,
        }
        if args.notes:
            card["notes"] = args.notes
        try:
            files = zoo.find_task(task).release_files(args.model)
            folder = releases.publish(args.model, args.publish, card, measured_sha256, files)
        except (ValueError, FileNotFoundError) as error:
            print(f"release_checks: error: {error}", file=sys.stderr)
            return 2
        print(f"published {folder} ({'every check passed' if passed else 'a check failed'})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(run())
