"""The checks a model must pass to be released, and publishing it with their results.

    python -m zoo.releases.checks --model=releases/work/compression \
        --output_dir=runs/release_checks/codec [--float32_model_dir=runs/long/compression] \
        [--publish=codec]

--model is a weights snapshot, a training dir or `pretrained:NAME`. The task's checks
run on held-out data only (the codec's evaluation set, MNIST's test split), print
one line per result, and write their figures to --output_dir:

- compression: on the evaluation set (`zoo.compression.data.evaluation_set`), eight
  lambdas over the trained range, bits from real files; bits and PSNR of the set's mean
  rising strictly with lambda; every file decoding exactly to the reconstruction the
  encoder predicts; BD-rate (PSNR and MS-SSIM) against Pillow's JPEG, WebP and AVIF and the
  top PSNR, over the whole set (with the aims of `CODEC_AIMS`) and per subset; with
  --float32_model_dir (the run's checkpoint at the snapshot's step), the largest PSNR
  change that float16 storage of the weights causes; `rd.png` (the set's mean) and
  `rd_SUBSET.png`.
- style_transfer: each of the five conditioned terms falling strictly along its own
  weight; `grid.png` to look at.
- beta_vae: with --fixed_models=BETA=DIR,... (fixed-beta runs of as many steps), the
  total loss of the one YOTO model against each fixed model at its beta.

--publish=NAME makes the snapshot the release NAME (`zoo/releases`) with every result
and this command on its model card, whether or not the checks passed: the card says.
Exit status 0 when every check passed, 1 when one failed, 2 on bad input.
"""

from __future__ import annotations

import pathlib
import shlex
import sys

from absl import flags

import zoo
from zoo import flags_util, loading

VAE_COMPARISON_TOLERANCE = 0.03
# What a codec release aims at on the whole evaluation set (issue 35): BD-rate (PSNR) in
# percent against each baseline, at most; and the top PSNR over the lambdas, at least.
CODEC_AIMS = {("psnr", "JPEG"): -25.0, ("psnr", "WebP"): -30.0, ("psnr", "AVIF"): 25.0}
CODEC_TOP_PSNR_AIM = 38.0


def result(what: str, value, passed: bool | None, command: str) -> dict:
    """One line of a model card: what was measured, the value, whether it passed, how."""
    return {"what": what, "value": value, "passed": passed, "command": command}


def codec_checks(spec, output_dir, command: str, float32_model_dir=None, images=None) -> list[dict]:
    """The released codec's checks on the evaluation set (module docstring).

    `images`: other images to measure on instead, a list (one subset) or a dict of
    subset name -> list of images.
    """
    import functools

    from zoo.compression import codec, codec_eval_lib
    from zoo.compression import config as compression_config
    from zoo.compression import data as compression_data

    model, _, task = loading.restore_model(spec)
    _require_task(spec, task, "compression")
    if float32_model_dir is not None:
        # Before minutes of evaluation, not after (and while the run still holds that step).
        float32_model = _float32_model_of_the_snapshots_step(spec, float32_model_dir)
    if images is None:
        subsets = {k: list(v.values()) for k, v in compression_data.evaluation_set().items()}
    else:
        subsets = images if isinstance(images, dict) else {"given": list(images)}
    grid = compression_config.EVALUATION_GRID
    evaluators = codec_eval_lib.baseline_evaluators()
    evaluators["YOTO"] = functools.partial(
        codec_eval_lib.codec_curve,
        codec.Codec(model),
        grid=grid,
        check_decoding=True,
        estimated=False,
    )
    by_subset = codec_eval_lib.evaluate_set(subsets, evaluators)
    counts = {name: len(subset) for name, subset in subsets.items()}
    counts[codec_eval_lib.ALL] = sum(counts.values())
    whole = codec_eval_lib.ALL if codec_eval_lib.ALL in by_subset else next(iter(by_subset))
    curves = by_subset[whole]
    output_dir = pathlib.Path(output_dir)
    codec_eval_lib.plot(curves, output_dir / "rd.png")
    for subset in subsets if len(subsets) > 1 else ():
        codec_eval_lib.plot(by_subset[subset], output_dir / f"rd_{subset}.png")
    rows = curves["YOTO"]
    points = "; ".join(f"{r['lmbda']:.4g}: {r['bpp']:.3f} bpp {r['psnr']:.2f} dB" for r in rows)
    described = f"the {counts[whole]} photographs of {', '.join(subsets)}"
    results = [
        result(f"lambda: bpp, PSNR (mean of {described})", points, None, command),
        result(
            "bpp and PSNR rise strictly with lambda over 8 lambdas",
            f"bpp {codec_eval_lib.rises_with_lambda(rows, 'bpp')}, "
            f"PSNR {codec_eval_lib.rises_with_lambda(rows, 'psnr')}",
            codec_eval_lib.rises_with_lambda(rows, "bpp")
            and codec_eval_lib.rises_with_lambda(rows, "psnr"),
            command,
        ),
    ]
    worst = max(r["decode_error"] for r in rows)
    results.append(
        result(
            "largest decoded-file difference from the encoder's reconstruction (8-bit levels)",
            worst,
            worst == 0,
            command,
        )
    )
    for quality in ("psnr", "ms_ssim"):
        reasons = {}
        rates = codec_eval_lib.bd_rates(curves, "YOTO", quality=quality, reasons=reasons)
        for anchor in codec_eval_lib.BASELINES:
            aim = CODEC_AIMS.get((quality, anchor))
            value = rates.get(anchor)
            what = f"BD-rate ({quality.upper().replace('_', '-')}) against {anchor}, percent"
            if aim is not None:
                what += f" (aim <= {aim:+g})"
            shown = round(value, 1) if value is not None else f"none: {reasons.get(anchor)}"
            passed = None if aim is None else (value is not None and value <= aim)
            results.append(result(what, shown, passed, command))
    top = max(row["psnr"] for row in rows)
    results.append(
        result(
            f"top PSNR over 8 lambdas, dB (aim >= {CODEC_TOP_PSNR_AIM:g})",
            round(top, 2),
            top >= CODEC_TOP_PSNR_AIM,
            command,
        )
    )
    if len(subsets) > 1:
        summary = codec_eval_lib.summary_rows(
            {name: by_subset[name] for name in subsets}, ["YOTO"], counts
        )
        for row in summary:
            results.append(
                result(
                    f"subset {row['subset']} ({row['photos']} photographs): BD-rate (PSNR; "
                    "MS-SSIM) against JPEG, WebP, AVIF, percent; top PSNR; bpp and PSNR rise",
                    _subset_summary(row),
                    None,
                    command,
                )
            )
    if float32_model_dir is not None:
        every_image = [image for subset in subsets.values() for image in subset]
        results.append(_float16_effect(model, float32_model, every_image, command))
    return results


def _subset_summary(row: dict) -> str:
    """One subset's `summary_row` as a model-card value."""
    from zoo.compression import codec_eval_lib

    def rates(quality):
        return ", ".join(
            "none" if row[f"{quality}_vs_{a}"] is None else f"{row[f'{quality}_vs_{a}']:+.1f}"
            for a in codec_eval_lib.BASELINES
        )

    return (
        f"{rates('psnr')}; {rates('ms_ssim')}; {row['top_psnr']:.2f} dB at "
        f"{row['top_bpp']:.3f} bpp; {row['bpp_rises']}, {row['psnr_rises']}"
    )


def _float32_model_of_the_snapshots_step(spec, float32_model_dir):
    """The model of `float32_model_dir`'s latest checkpoint, which must be the snapshot's step.

    Raises ValueError naming the flag otherwise.
    """
    import tensorflow as tf

    from zoo import releases
    from zoo.loading import snapshots

    if releases.is_release(spec):
        spec = releases.directory(spec)
    step = snapshots.read_metadata(spec)["step"]
    latest = tf.train.latest_checkpoint(
        str(pathlib.Path(float32_model_dir) / loading.CHECKPOINT_DIR)
    )
    if latest is None or loading.checkpoint_step(latest) != step:
        raise ValueError(
            f"--float32_model_dir={float32_model_dir} must hold the checkpoint of step {step} "
            "as its latest, the weights the snapshot stores in float16."
        )
    return loading.restore_model(float32_model_dir)[0]


def _float16_effect(model, float32_model, images, command) -> dict:
    """How far float16 storage moves PSNR, per photo and lambda.

    The released `model` against the run's float32 checkpoint of the same step; the
    largest change over every photo and lambda (a mean over the photos could hide changes
    of opposite sign).
    """
    from yoto_tf import metrics
    from zoo.compression import codec
    from zoo.compression import config as compression_config

    stored, full = codec.Codec(model), codec.Codec(float32_model)
    change = 0.0
    for image in images:
        for lmbda in compression_config.EVALUATION_GRID:
            # `reconstruct` is what a file decodes to (exactly so for the released model: the
            # decoding check above), without the entropy coding that would not change PSNR.
            ours = metrics.psnr(image, stored.reconstruct(image, lmbda))
            theirs = metrics.psnr(image, full.reconstruct(image, lmbda))
            if ours != theirs:  # Both infinite for a perfect reconstruction: no change.
                change = max(change, abs(ours - theirs))
    return result(
        "largest PSNR change from float16 weight storage over each photo and 8 lambdas, dB "
        "(aim < 0.01)",
        round(change, 4),
        change < 0.01,
        command,
    )


def style_checks(spec, output_dir, command: str) -> list[dict]:
    """The released style network's checks on held-out photographs (module docstring)."""
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import data as style_data
    from zoo.style_transfer import style_eval_lib
    from zoo.style_transfer.stylizer import Stylizer

    stylizer = Stylizer.load(spec)
    images = style_data.evaluation_images(size=256)
    grid = list(style_config.EVALUATION_GRID)
    style_eval_lib.render_grid(
        stylizer, images[0], grid, 1.0, pathlib.Path(output_dir) / "grid.png"
    )
    weight_sweeps = style_eval_lib.sweeps(grid, grid, content=1.0, strength=1.0)
    rows = style_eval_lib.evaluate_sweeps(stylizer, images, weight_sweeps)
    results = []
    for term in weight_sweeps:
        values = ", ".join(f"{row[term]:.4g}" for row in rows if row["sweep"] == term)
        falls = style_eval_lib.falls_monotonically(rows, term)
        results.append(
            result(
                f"{term} along its own weight {grid} (the others at 1 or 0)",
                values,
                falls,
                command,
            )
        )
    return results


def beta_vae_checks(spec, fixed_models: dict[float, str], command: str) -> list[dict]:
    """The released beta-VAE against fixed-beta runs of as many steps, each at its beta."""
    from zoo.evaluation import evaluate_lib

    task = zoo.get_task("beta_vae")
    for beta, model_dir in fixed_models.items():
        _, config, _ = loading.load_run(model_dir)
        if getattr(config, "fixed_beta", None) != beta:
            trained = getattr(config, "fixed_beta", None)
            raise ValueError(
                f"--fixed_models pairs beta {beta:g} with {model_dir}, which was trained "
                + ("with beta sampled (a YOTO run)" if trained is None else f"at beta {trained:g}")
                + ": pair each beta with the run trained at it (--config=fixed_beta=BETA)."
            )
    images = task.evaluation_images()
    yoto = evaluate_lib.terms_fn_for(spec, task)
    results = []
    for beta, model_dir in sorted(fixed_models.items()):
        fixed = evaluate_lib.terms_fn_for(model_dir, task)
        (ours,) = evaluate_lib.evaluate_grid(yoto, images, [beta], task)
        (theirs,) = evaluate_lib.evaluate_grid(fixed, images, [beta], task)
        ratio = ours["total"] / theirs["total"]
        results.append(
            result(
                f"total loss at beta {beta:g}: YOTO / fixed-beta model "
                f"(aim within {VAE_COMPARISON_TOLERANCE:.0%})",
                f"{ours['total']:.2f} / {theirs['total']:.2f} = {ratio:.4f}",
                abs(ratio - 1) <= VAE_COMPARISON_TOLERANCE,
                command,
            )
        )
    return results


def _require_task(spec, task: str, expected: str) -> None:
    if task != expected:
        raise ValueError(f"{spec} holds a {task} model; these checks are for {expected}.")


def _parse_fixed_models(text: str | None) -> dict[float, str]:
    if not text:
        return {}
    fixed = {}
    for item in text.split(","):
        beta, equals, model_dir = item.partition("=")
        try:
            fixed[float(beta)] = model_dir
        except ValueError:
            equals = ""
        if not equals or not model_dir:
            raise ValueError(f"--fixed_models expects BETA=DIR,..., got {item!r}.")
    return fixed


def _define(flag_values):
    def define(name, help_text, required=False):
        flags.DEFINE_string(name, None, help_text, flag_values=flag_values, required=required)

    define("model", "Snapshot, training dir or pretrained:NAME", required=True)
    define("output_dir", "Where the figures go.", required=True)
    define("float32_model_dir", "compression: the run at the snapshot's step")
    define("fixed_models", "beta_vae: BETA=DIR,... fixed-beta runs")
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
        if task == "compression":
            results = codec_checks(args.model, args.output_dir, command, args.float32_model_dir)
        elif task == "style_transfer":
            results = style_checks(args.model, args.output_dir, command)
        else:
            fixed = _parse_fixed_models(args.fixed_models)
            if not fixed:
                raise ValueError("beta_vae checks need --fixed_models=BETA=DIR,...")
            results = beta_vae_checks(args.model, fixed, command)
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
            folder = releases.publish(args.model, args.publish, card, measured_sha256)
        except (ValueError, FileNotFoundError) as error:
            print(f"release_checks: error: {error}", file=sys.stderr)
            return 2
        print(f"published {folder} ({'every check passed' if passed else 'a check failed'})")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(run())
