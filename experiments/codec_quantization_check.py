"""Where a trained codec loses quality: in its transforms or in quantization.

    python experiments/codec_quantization_check.py RUN_DIR [RUN_DIR...]

Decodes the held-out photographs and one training photograph at three lambdas from
the latents three ways: unquantized, rounded (what the file holds) and with uniform
noise (what training sees), and prints the PSNR of each. When the unquantized PSNR
is barely above the rounded one, the transforms, not the quantizer, set the ceiling.
"""

import sys

import numpy as np
import tensorflow as tf

from zoo import loading
from zoo.data import photos

PHOTOS = (*photos.HELD_OUT, "astronaut")
LAMBDAS = (0.0018, 0.018, 0.18)


def psnr(original: np.ndarray, decoded: np.ndarray) -> float:
    """PSNR in dB of uint8-range arrays."""
    mse = np.mean((original.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    return 10 * np.log10(255**2 / mse)


def decode_three_ways(model, image: np.ndarray, lmbda: float) -> dict:
    """PSNR of `image` decoded from unquantized, rounded and noisy latents at `lmbda`."""
    height, width = image.shape[0] // 64 * 64, image.shape[1] // 64 * 64
    image = image[:height, :width]
    lmbda = tf.constant([lmbda], tf.float32)
    conditioning = model._condition(tf.stack([tf.ones_like(lmbda), lmbda], -1))  # noqa: SLF001
    latents = model.analyse(tf.constant(image[None], tf.float32), conditioning, lmbda)
    noise = tf.random.stateless_uniform(tf.shape(latents), [1, 2], -0.5, 0.5)
    results = {}
    for label, quantized in (
        ("unquantized", latents),
        ("rounded", tf.round(latents)),
        ("noisy", latents + noise),
    ):
        decoded = model.synthesise(quantized, conditioning, lmbda).numpy()[0]
        results[label] = psnr(image, np.clip(np.round(decoded), 0, 255))
    return results


def main(run_dirs: list[str]) -> None:
    """Prints one line per run, photograph and lambda."""
    for run_dir in run_dirs:
        model, _, _ = loading.restore_model(run_dir)
        for name in PHOTOS:
            for lmbda in LAMBDAS:
                results = decode_three_ways(model, photos.load_bundled(name), lmbda)
                cells = " ".join(f"{label}={value:.2f}" for label, value in results.items())
                print(f"{run_dir} {name:10s} lambda={lmbda:<7} PSNR dB: {cells}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
