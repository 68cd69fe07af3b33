"""How far a codec is from WebP at equal bits, on the held-out AND the training photographs.

    python experiments/codec_webp_gap.py --model=pretrained:codec [--lambdas=0.018,0.18]

For each photograph (a centre crop of 384x576, the release checks' crop size), the codec's
PSNR and bits per pixel (the entropy model's) at each lambda, and WebP's PSNR at the same
bits per pixel (Pillow's WebP at qualities 0, 5, ..., 100, interpolated). If the codec
trailed WebP on the held-out photographs only, the gap would be generalisation (more or
other training data); where it trails on the photographs it trained on too, it is the
model's capacity or its training. Reads no reserved photograph (zoo/data/photos.py).
Results: experiments/README.md.
"""

from __future__ import annotations

import argparse
import io

import numpy as np
import tensorflow as tf
from PIL import Image

from zoo import loading
from zoo.data import photos

CROP = (384, 576)
WEBP_QUALITIES = range(0, 101, 5)


def psnr(original: np.ndarray, reconstruction: np.ndarray) -> float:
    """PSNR in dB of a 0..255 image, the reconstruction rounded and clipped to 8 bits."""
    reconstruction = np.clip(np.round(reconstruction), 0, 255)
    mse = np.mean((original.astype(np.float64) - reconstruction) ** 2)
    return float(10 * np.log10(255.0**2 / mse))


def webp_curve(image: np.ndarray) -> np.ndarray:
    """WebP's (bits per pixel, PSNR) points over its qualities, sorted by bits."""
    points = []
    for quality in WEBP_QUALITIES:
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="WEBP", quality=quality)
        decoded = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        points.append((8 * len(buffer.getvalue()) / image[..., 0].size, psnr(image, decoded)))
    return np.array(sorted(points))


def centre_crop(image: np.ndarray) -> np.ndarray | None:
    """The CROP-sized centre of `image` (RGB), or None if it is smaller."""
    height, width = CROP
    if image.shape[0] < height or image.shape[1] < width:
        return None
    top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    return np.ascontiguousarray(image[top : top + height, left : left + width, :3])


def photographs(debian: bool):
    """(held-out or training, name, pixels) of every photograph this may read."""
    for name in photos.HELD_OUT:
        yield "held-out", name, photos.load_bundled(name)
    for name in photos.TRAINING:
        yield "training", name, photos.load_bundled(name)
    if debian:
        for name in photos.DEBIAN_PHOTOS:
            yield "training", name, photos.load_debian_photo(name)


def main() -> None:
    """Prints one line per photograph (module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", required=True, help="a snapshot, training dir or pretrained:NAME"
    )
    parser.add_argument("--lambdas", default="0.018,0.18", help="comma-separated lambdas")
    parser.add_argument(
        "--no_debian", action="store_true", help="skip the photographs of `make photos`"
    )
    args = parser.parse_args()
    lambdas = [float(value) for value in args.lambdas.split(",")]
    model, _, _ = loading.restore_model(args.model)
    gaps = {"held-out": [], "training": []}
    for kind, name, image in photographs(not args.no_debian):
        crop = centre_crop(image)
        if crop is None:
            continue
        curve = webp_curve(crop)
        cells = []
        for lmbda in lambdas:
            weights = tf.constant([[1.0, lmbda]])
            reconstruction = model.quantized_reconstruction(crop[None], tf.constant([lmbda]))
            _, bits = model._forward(tf.cast(crop[None], tf.float32), weights, training=False)
            bpp = float(bits[0]) / crop[..., 0].size
            ours = psnr(crop, reconstruction.numpy()[0])
            gap = ours - float(np.interp(bpp, curve[:, 0], curve[:, 1]))
            gaps[kind].append((lmbda, gap))
            cells.append(f"lambda {lmbda:g}: {bpp:.3f} bpp {ours:.2f} dB, {gap:+.2f} dB from WebP")
        print(f"{kind:8s} {name:18s} " + " | ".join(cells), flush=True)
    for kind, values in gaps.items():
        for lmbda in lambdas:
            at = [gap for value, gap in values if value == lmbda]
            if at:
                print(
                    f"median gap to WebP, {kind} photographs, lambda {lmbda:g}: "
                    f"{np.median(at):+.2f} dB over {len(at)}"
                )


if __name__ == "__main__":
    main()
