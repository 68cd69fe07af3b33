"""BD-rate of codecs against the first one and against JPEG, WebP and AVIF, per subset.

    python experiments/codec_compare.py [--photos=validation] [--subsets=busy] BASELINE OTHER...

Each argument is a snapshot, training dir or pretrained:NAME. For each codec: PSNR and
MS-SSIM of the coded (rounded) reconstruction and the entropy model's bits per pixel (plus
the .yoto header) on each photograph at the 8 lambdas of the release checks, on
`--photos`:

- `evaluation` (default): the evaluation set (`zoo.compression.data.evaluation_set`,
  subsets sporco, held_out, busy), whole photographs: for judging a codec;
- `validation`: the validation split of the training sources, whole photographs: for
  choices about training (schedules, widths, weightings), which must never be made on
  the evaluation set;
- `training`: the 384x576 centre crops of the training photographs that have one
  (`codec_webp_gap.py`'s).

Then per subset and over the whole set (`all`): each OTHER's BD-rate against BASELINE per
photograph (`yoto_tf.metrics.bd_rate`, their mean and median), and each codec's BD-rate
(PSNR and MS-SSIM) against Pillow's JPEG, WebP and AVIF on the mean curves, its top PSNR and
whether its bits and PSNR rise with lambda. Quicker than `zoo.compression.codec_eval` (no
files): for deciding between training branches. Results: experiments/README.md.
"""

from __future__ import annotations

import argparse
import functools

import numpy as np

# A sibling script (experiments/ is on the path when a script here runs).
from codec_webp_gap import centre_crop, photographs

from yoto_tf import metrics
from zoo import loading
from zoo.compression import codec as codec_lib
from zoo.compression import codec_eval_lib as lib
from zoo.compression import config as compression_config
from zoo.compression import data as compression_data


def estimated_curve(codec, image) -> list[dict]:
    """bpp (the entropy model's bits and the header), PSNR and MS-SSIM of one image per lambda."""
    pixels = image.shape[0] * image.shape[1]
    rows = []
    for lmbda in compression_config.EVALUATION_GRID:
        coded = np.clip(np.round(codec.reconstruct(image, lmbda)), 0, 255).astype(np.uint8)
        bits = codec.estimated_bits(image, lmbda) + 8 * codec.header_size
        rows.append({"lmbda": lmbda, "bpp": bits / pixels, **lib.image_quality(image, coded)})
    return rows


def training_crops() -> list[np.ndarray]:
    """The 384x576 centre crops of every training photograph that has one."""
    crops = [centre_crop(image) for kind, _, image in photographs(True) if kind == "training"]
    return [crop for crop in crops if crop is not None]


def chosen_photographs(which: str, subsets) -> dict[str, list[np.ndarray]]:
    """subset -> images of `--photos=which`, only `subsets` of them if given."""
    if which == "training":
        chosen = {"training": training_crops()}
    else:
        named = (
            compression_data.evaluation_set()
            if which == "evaluation"
            else compression_data.validation_set()
        )
        chosen = {subset: list(images.values()) for subset, images in named.items()}
    unknown = set(subsets or ()) - set(chosen)
    if unknown:
        raise SystemExit(f"--subsets: {sorted(unknown)} not among {list(chosen)}")
    return {k: v for k, v in chosen.items() if not subsets or k in subsets}


def main() -> None:
    """Prints each codec's summary per subset and each OTHER's BD-rates (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="BASELINE OTHER [OTHER...]")
    parser.add_argument(
        "--photos",
        choices=("evaluation", "validation", "training"),
        default="evaluation",
        help="which photographs to code (module docstring)",
    )
    parser.add_argument("--subsets", type=lambda text: text.split(","), help="only these")
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error("give a baseline and at least one codec to compare with it")
    subsets = chosen_photographs(args.photos, args.subsets)
    evaluators = lib.baseline_evaluators()
    for spec in args.models:
        model, _, _ = loading.restore_model(spec)
        evaluators[spec] = functools.partial(estimated_curve, codec_lib.Codec(model))
    per_image = lib.per_image_curves(subsets, evaluators)
    if len(per_image) > 1:
        per_image[lib.ALL] = {
            label: [curve for by_label in per_image.values() for curve in by_label[label]]
            for label in evaluators
        }
    means = lib.mean_curves({subset: per_image[subset] for subset in subsets})
    counts = {subset: len(images) for subset, images in subsets.items()}
    print(f"--photos={args.photos}: {', '.join(f'{k} {v}' for k, v in counts.items())}")
    counts[lib.ALL] = sum(counts.values())
    print("Bits: the entropy model's estimate and the header (no files); baselines: files.")
    print(lib.format_summary(lib.summary_rows(means, args.models, counts)))
    baseline, *others = args.models
    for subset, by_label in per_image.items():
        for spec in others:
            rates = []
            for ours, theirs in zip(by_label[baseline], by_label[spec], strict=True):
                try:
                    rates.append(
                        metrics.bd_rate(
                            [r["bpp"] for r in ours],
                            [r["psnr"] for r in ours],
                            [r["bpp"] for r in theirs],
                            [r["psnr"] for r in theirs],
                        )
                    )
                except ValueError:  # Curves with no common PSNR range: shown as nan.
                    rates.append(float("nan"))
            print(
                f"{subset}: BD-rate (PSNR) of {spec} against {baseline} per photograph: "
                f"mean {np.nanmean(rates):+.2f}%, median {np.nanmedian(rates):+.2f}% "
                f"(each: {', '.join(f'{rate:+.1f}' for rate in rates)})"
            )


if __name__ == "__main__":
    main()
