"""The checks a model must pass to be released, and publishing it with their results.

    python -m zoo.releases.checks --model=zoo/releases/work/compression \
        --output_dir=runs/release_checks/codec [--float32_model_dir=runs/long/compression] \
        [--publish=codec]

--model is a weights snapshot, a training dir or `pretrained:NAME`. The task's checks
run on held-out data only (the bundled held-out photographs, MNIST's test split), print
one line per result, and write their figures to --output_dir:

- compression: eight lambdas over the trained range, bits from real files; bits and
  PSNR rising strictly with lambda; every file decoding exactly to the reconstruction
  the encoder predicts; BD-rate (PSNR and MS-SSIM) against Pillow's JPEG and WebP;
  with --float32_model_dir (the run's checkpoint at the snapshot's step), the largest
  PSNR change that float16 storage of the weights causes; `rd.png`.
- style_transfer: each of the five conditioned terms falling strictly along its own
  weight; `grid.png` to look at.
- beta_vae: with --fixed_models=BETA=DIR,... (fixed-beta runs of as many steps), the
  total loss of the one YOTO model against each fixed model at its beta.

--publish=NAME makes the snapshot the release NAME (`zoo/releases`) with every result
and this command on its model card, whether or not the checks passed: the card says.
Exit status 0 when every check passed, 1 when one failed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import pathlib
import shlex
import sys

import zoo
from zoo import loading

VAE_COMPARISON_TOLERANCE = 0.03


def result(what: str, value, passed: bool | None, command: str) -> dict:
    """One line of a model card: what was measured, the value, whether it passed, how."""
    return {"what": what, "value": value, "passed": passed, "command": command}


def codec_checks(spec, output_dir, command: str, float32_model_dir=None, images=None) -> list[dict]:
    """The released codec's checks on the held-out photographs (module docstring).

    `images`: other images to measure on (default: the held-out photographs).
    """
    from zoo.compression import codec, codec_eval_lib
    from zoo.compression import config as compression_config
    from zoo.compression import data as compression_data

    model, _, task = loading.restore_model(spec)
    _require_task(spec, task, "compression")
    if float32_model_dir is not None:
        # Before minutes of evaluation, not after (and while the run still holds that step).
        float32_model = _float32_model_of_the_snapshots_step(spec, float32_model_dir)
    images = compression_data.evaluation_images() if images is None else images
    grid = compression_config.EVALUATION_GRID
    rows = codec_eval_lib.evaluate_codec(codec.Codec(model), images, grid, check_decoding=True)
    curves = {
        "JPEG": codec_eval_lib.evaluate_pillow(images, "JPEG", codec_eval_lib.JPEG_QUALITIES),
        "WebP": codec_eval_lib.evaluate_pillow(images, "WEBP", codec_eval_lib.WEBP_QUALITIES),
        "YOTO": rows,
    }
    codec_eval_lib.plot(curves, pathlib.Path(output_dir) / "rd.png")
    points = "; ".join(f"{r['lmbda']:.4g}: {r['bpp']:.3f} bpp {r['psnr']:.2f} dB" for r in rows)
    results = [
        result("lambda: bpp, PSNR (mean of the held-out photos)", points, None, command),
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
    aims = {("psnr", "JPEG"): -25.0, ("psnr", "WebP"): 0.0}
    for quality in ("psnr", "ms_ssim"):
        reasons = {}
        rates = codec_eval_lib.bd_rates(curves, "YOTO", quality=quality, reasons=reasons)
        for anchor in ("JPEG", "WebP"):
            aim = aims.get((quality, anchor))
            value = rates.get(anchor)
            what = f"BD-rate ({quality.upper().replace('_', '-')}) against {anchor}, percent"
            if aim is not None:
                what += f" (aim <= {aim:g})"
            shown = round(value, 1) if value is not None else f"none: {reasons.get(anchor)}"
            passed = None if aim is None else (value is not None and value <= aim)
            results.append(result(what, shown, passed, command))
    if float32_model_dir is not None:
        results.append(_float16_effect(model, float32_model, images, command))
    return results


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


def run(argv=None) -> int:
    """Runs the checks of the model's task, prints them, publishes on request."""
    parser = argparse.ArgumentParser(
        prog="python -m zoo.releases.checks", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", required=True, help="Snapshot, training dir or pretrained:NAME")
    parser.add_argument("--output_dir", required=True, help="Where the figures go.")
    parser.add_argument("--float32_model_dir", help="compression: the run at the snapshot's step")
    parser.add_argument("--fixed_models", help="beta_vae: BETA=DIR,... fixed-beta runs")
    parser.add_argument("--publish", metavar="NAME", help="Publish the snapshot as release NAME.")
    parser.add_argument("--notes", help="What a person saw in the figures, for the model card.")
    args = parser.parse_args(argv)
    # The notes are on the card already; the command is what reproduces the numbers.
    shown = [arg for arg in (argv or sys.argv[1:]) if not arg.startswith("--notes")]
    command = shlex.join(["python", "-m", "zoo.releases.checks", *shown])

    from zoo.flags_util import import_tensorflow_quietly

    import_tensorflow_quietly()
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
