"""The released codec's checks, on the evaluation set (`python -m zoo.releases.checks`).

Eight lambdas over the trained range, bits from real files; bits and PSNR of the set's
mean rising strictly with lambda; every file decoding exactly to the reconstruction the
encoder predicts; BD-rate (PSNR and MS-SSIM) against Pillow's JPEG, WebP and AVIF and the
top PSNR, over the whole set (with the aims of `CODEC_AIMS`) and per subset; with
--float32_model_dir (the run's checkpoint at the snapshot's step), the largest PSNR change
that float16 storage of the weights causes; `rd.png` (the set's mean) and `rd_SUBSET.png`.
"""

from __future__ import annotations

import pathlib

from zoo import loading
from zoo.loading import releases as release_lookup
from zoo.loading.releases import result

# What a codec release aims at on the whole evaluation set (issue 35): BD-rate (PSNR) in
# percent against each baseline, at most; and the top PSNR over the lambdas, at least.
CODEC_AIMS = {("psnr", "JPEG"): -25.0, ("psnr", "WebP"): -30.0, ("psnr", "AVIF"): 25.0}
CODEC_TOP_PSNR_AIM = 38.0


def run_checks(spec, output_dir, command: str, options: dict) -> list[dict]:
    """The task's release checks (`Task.release_checks`): `codec_checks` with the flags' options.

    `options`: the release checks' flags by name; this task reads `float32_model_dir`.
    """
    return codec_checks(spec, output_dir, command, options.get("float32_model_dir"))


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
    _require_task(spec, task)
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

    from zoo.loading import snapshots

    if release_lookup.is_release(spec):
        spec = release_lookup.directory(spec)
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


def _require_task(spec, task: str) -> None:
    if task != "compression":
        raise ValueError(f"{spec} holds a {task} model; these checks are for compression.")
