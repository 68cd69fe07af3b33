"""Where a codec's PSNR ceiling comes from: its transforms or its quantizer.

    python experiments/codec_ceiling.py --model=pretrained:codec [--pca]

On the held-out crops (`zoo.compression.data.loss_term_images`), per photograph and
lambda: PSNR of the synthesis of the UNROUNDED latents (the transforms alone), PSNR of
the rounded ones (what the files decode to) and the entropy model's bits per pixel.
When the two PSNRs meet and stay flat as lambda rises, the transforms are the ceiling,
not the rate. `--pca` adds the bound of a linear transform fitted to each crop itself:
PSNR keeping the top k principal components of its 16x16x3 blocks (the codec keeps
num_latent_filters numbers per block). Results: experiments/README.md.
"""

from __future__ import annotations

import argparse

import numpy as np
import tensorflow as tf

from zoo import loading
from zoo.compression import data as compression_data

LAMBDAS = (0.0018, 0.0058, 0.018, 0.058, 0.18)
BLOCK = 16


def psnr(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """PSNR in dB of one 0..255 image, the reconstruction rounded and clipped to 8 bits."""
    reconstruction = np.clip(np.round(reconstruction), 0, 255)
    mse = np.mean((original.astype(np.float64) - reconstruction) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def pca_psnr(image: np.ndarray, components: int) -> float:
    """PSNR of `image` rebuilt from the top `components` principal components of its blocks."""
    height, width = (side // BLOCK * BLOCK for side in image.shape[:2])
    blocks = (
        image[:height, :width]
        .astype(np.float64)
        .reshape(height // BLOCK, BLOCK, width // BLOCK, BLOCK, 3)
        .transpose(0, 2, 1, 3, 4)
        .reshape(-1, BLOCK * BLOCK * 3)
    )
    mean = blocks.mean(axis=0)
    _, _, basis = np.linalg.svd(blocks - mean, full_matrices=False)
    kept = basis[:components]
    rebuilt = (blocks - mean) @ kept.T @ kept + mean
    return psnr(blocks, rebuilt)


def main() -> None:
    """Prints the table for --model (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", required=True, help="a snapshot, training dir or pretrained:NAME"
    )
    parser.add_argument("--pca", action="store_true", help="also the per-crop PCA bound")
    args = parser.parse_args()

    model, _, _ = loading.restore_model(args.model)
    images = compression_data.loss_term_images()
    pixels = images.shape[1] * images.shape[2]
    print(f"{args.model}: {len(images)} crops of {images.shape[1]}x{images.shape[2]}")
    print("lambda   PSNR unrounded (each crop)   PSNR rounded (each crop)   bpp (each crop)")
    for lmbda in LAMBDAS:
        lambdas = tf.fill([len(images)], lmbda)
        weights = tf.stack([tf.ones_like(lambdas), lambdas], axis=-1)
        conditioning = model._condition(weights)
        latents = model.analyse(tf.cast(images, tf.float32), conditioning, lambdas)
        unrounded = model.synthesise(latents, conditioning, lambdas).numpy()
        rounded = model.quantized_reconstruction(images, lambdas).numpy()
        _, bits = model._forward(tf.cast(images, tf.float32), weights, training=False)
        row = [
            ", ".join(
                f"{psnr(image, out):.2f}" for image, out in zip(images, unrounded, strict=True)
            ),
            ", ".join(
                f"{psnr(image, out):.2f}" for image, out in zip(images, rounded, strict=True)
            ),
            ", ".join(f"{b / pixels:.3f}" for b in bits.numpy()),
        ]
        print(f"{lmbda:<8} {row[0]:<28} {row[1]:<26} {row[2]}")
    if args.pca:
        for components in (64, 128, 192, 320):
            values = ", ".join(f"{pca_psnr(image, components):.2f}" for image in images)
            print(f"PCA of 16x16x3 blocks, top {components}: {values} dB")


if __name__ == "__main__":
    main()
