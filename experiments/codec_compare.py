"""BD-rate of codecs against the first one, on held-out or training crops, at the release lambdas.

    python experiments/codec_compare.py [--photos=training] BASELINE OTHER [OTHER...]

Each argument is a snapshot, training dir or pretrained:NAME. For each codec: PSNR of the
coded (rounded) reconstruction and the entropy model's bits per pixel on each crop at the
8 lambdas of the release checks: the held-out crops (`zoo.compression.data.loss_term_images`),
or with `--photos=training` the 384x576 centre crops of the training photographs that
have one (`codec_webp_gap.py`'s), for choices about training (a learning-rate schedule)
that should not be tuned on the two held-out photographs;
then each OTHER's BD-rate against BASELINE per crop (`yoto_tf.metrics.bd_rate`) and
their mean. Quicker than the release checks (no files, no JPEG or WebP): for deciding
between training branches. Results: experiments/README.md.
"""

from __future__ import annotations

import argparse

import numpy as np
import tensorflow as tf

# A sibling script (experiments/ is on the path when a script here runs).
from codec_webp_gap import centre_crop, photographs, psnr

from yoto_tf import metrics
from zoo import loading
from zoo.compression import config as compression_config
from zoo.compression import data as compression_data


def curve(spec, images: np.ndarray) -> np.ndarray:
    """`[lambda, crop, (bpp, PSNR)]` of the codec `spec` on `images`."""
    model, _, _ = loading.restore_model(spec)
    pixels = images.shape[1] * images.shape[2]
    rows = []
    for lmbda in compression_config.EVALUATION_GRID:
        row = []
        # One crop at a time: two dozen 384x576 crops at once would need gigabytes.
        for image in images:
            lambdas = tf.constant([lmbda])
            weights = tf.constant([[1.0, lmbda]])
            coded = model.quantized_reconstruction(image[None], lambdas).numpy()[0]
            _, bits = model._forward(tf.cast(image[None], tf.float32), weights, training=False)
            row.append((float(bits[0]) / pixels, psnr(image, coded)))
        rows.append(row)
    return np.array(rows)


def training_crops() -> np.ndarray:
    """The 384x576 centre crops of every training photograph that has one."""
    crops = [centre_crop(image) for kind, _, image in photographs(True) if kind == "training"]
    return np.stack([crop for crop in crops if crop is not None])


def main() -> None:
    """Prints each codec's top point and each OTHER's BD-rates (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="BASELINE OTHER [OTHER...]")
    parser.add_argument(
        "--photos",
        choices=("held-out", "training"),
        default="held-out",
        help="which photographs' crops to code (module docstring)",
    )
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error("give a baseline and at least one codec to compare with it")
    images = training_crops() if args.photos == "training" else compression_data.loss_term_images()
    curves = {spec: curve(spec, images) for spec in args.models}
    for spec, points in curves.items():
        top = ", ".join(f"{bpp:.3f} bpp {value:.2f} dB" for bpp, value in points[-1])
        if len(images) > 4:
            bpp, value = points[-1].mean(axis=0)
            top = f"mean over {len(images)} crops {bpp:.3f} bpp {value:.2f} dB"
        print(f"{spec} at lambda {compression_config.EVALUATION_GRID[-1]:g}: {top}")
    baseline, *others = args.models
    for spec in others:
        rates = [
            metrics.bd_rate(
                curves[baseline][:, crop, 0],
                curves[baseline][:, crop, 1],
                curves[spec][:, crop, 0],
                curves[spec][:, crop, 1],
            )
            for crop in range(len(images))
        ]
        each = ", ".join(f"{rate:+.2f}%" for rate in rates)
        print(
            f"BD-rate of {spec} against {baseline}, each crop: {each}; "
            f"mean {np.mean(rates):+.2f}%, median {np.median(rates):+.2f}%"
        )


if __name__ == "__main__":
    main()
