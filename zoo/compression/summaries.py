"""TensorBoard images of a codec run: reconstructions per lambda and the estimated RD curve."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from zoo import summary_images as summaries
from zoo.compression import data
from zoo.compression.codec_format import STRIDE


def write_images(model, config) -> None:
    """Quantized reconstructions of a held-out crop per lambda, and the estimated RD curve."""
    del config
    image = data.evaluation_images(1)[0]
    size = min(256, *(d // STRIDE * STRIDE for d in image.shape[:2]))
    top, left = (image.shape[0] - size) // 2, (image.shape[1] - size) // 2
    crop = tf.constant(image[None, top : top + size, left : left + size], tf.float32)
    lmbdas = summaries.term_grid(model, "distortion")
    pictures, bpps, psnrs = [crop.numpy()[0]], [], []
    for lmbda in lmbdas:
        weights = model.evaluation_weight_matrix(1, distortion=lmbda)
        terms = model.compute_loss_terms(crop, None, weights, training=False)
        decoded = model(crop, weights, training=False)
        pictures.append(np.clip(np.round(decoded.numpy()[0]), 0, 255))
        bpp = float(terms["rate"][0])
        psnr = 10 * math.log10(255.0**2 / max(float(terms["distortion"][0]), 1e-10))
        bpps.append(bpp)
        psnrs.append(psnr)
        tf.summary.scalar(f"rd/bpp_at_lambda_{lmbda:.3g}", bpp)
        tf.summary.scalar(f"rd/psnr_at_lambda_{lmbda:.3g}", psnr)
    grid = ", ".join(f"{v:.3g}" for v in lmbdas)
    tf.summary.image(
        "images/decoded",
        (summaries.tile([pictures]) / 255.0).astype(np.float32),
        description=f"The held-out crop, then its quantized reconstruction at lambda = {grid}.",
    )
    tf.summary.image(
        "images/rd_curve",
        summaries.plot_png(
            bpps, psnrs, [f"{v:.3g}" for v in lmbdas], "bits per pixel (estimate)", "PSNR (dB)"
        ),
        description="Rate estimate and PSNR of the crop at each lambda of the grid.",
    )
