"""BD-rate of codecs against the first one, on the held-out crops, at the release lambdas.

    python experiments/codec_compare.py BASELINE OTHER [OTHER...]

Each argument is a snapshot, training dir or pretrained:NAME. For each codec: PSNR of the
coded (rounded) reconstruction and the entropy model's bits per pixel on each held-out
crop (`zoo.compression.data.loss_term_images`) at the 8 lambdas of the release checks;
then each OTHER's BD-rate against BASELINE per crop (`yoto_tf.metrics.bd_rate`) and
their mean. Quicker than the release checks (no files, no JPEG or WebP): for deciding
between training branches. Results: experiments/README.md.
"""

from __future__ import annotations

import argparse

import numpy as np
import tensorflow as tf

from yoto_tf import metrics
from zoo.compression import config as compression_config
from zoo.compression import data as compression_data
from zoo.training import train_lib


def psnr(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """PSNR in dB of a 0..255 image, the reconstruction rounded and clipped to 8 bits."""
    reconstruction = np.clip(np.round(reconstruction), 0, 255)
    mse = np.mean((original.astype(np.float64) - reconstruction) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def curve(spec, images: np.ndarray) -> np.ndarray:
    """`[lambda, crop, (bpp, PSNR)]` of the codec `spec` on `images`."""
    model, _, _ = train_lib.restore_model(spec)
    pixels = images.shape[1] * images.shape[2]
    rows = []
    for lmbda in compression_config.EVALUATION_GRID:
        lambdas = tf.fill([len(images)], lmbda)
        weights = tf.stack([tf.ones_like(lambdas), lambdas], axis=-1)
        coded = model.quantized_reconstruction(images, lambdas).numpy()
        _, bits = model._forward(tf.cast(images, tf.float32), weights, training=False)
        rows.append(
            [
                (b / pixels, psnr(image, out))
                for image, out, b in zip(images, coded, bits.numpy(), strict=True)
            ]
        )
    return np.array(rows)


def main() -> None:
    """Prints each codec's top point and each OTHER's BD-rates (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="BASELINE OTHER [OTHER...]")
    args = parser.parse_args()
    if len(args.models) < 2:
        parser.error("give a baseline and at least one codec to compare with it")
    images = compression_data.loss_term_images()
    curves = {spec: curve(spec, images) for spec in args.models}
    for spec, points in curves.items():
        top = ", ".join(f"{bpp:.3f} bpp {value:.2f} dB" for bpp, value in points[-1])
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
            f"BD-rate of {spec} against {baseline}, each crop: {each}; mean {np.mean(rates):+.2f}%"
        )


if __name__ == "__main__":
    main()
