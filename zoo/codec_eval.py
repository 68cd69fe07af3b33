"""Rate-distortion evaluation of a YOTO codec against JPEG and WebP, from real bytes.

    python -m zoo.codec_eval --model=runs/codec --output_dir=runs/codec_eval

For each lambda of the grid, every held-out photograph (or --image_folder) is
encoded to a .yoto file: bits per pixel come from the file's length, PSNR and
MS-SSIM from decoding it. JPEG and WebP go through Pillow quality sweeps on the
same images. Prints the curves and the BD-rate (PSNR) of YOTO against each
baseline, and writes rd.csv and rd.png.
"""

from __future__ import annotations

import io
import pathlib
import sys

import numpy as np
from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

FLAGS = flags.FLAGS
flags.DEFINE_list("models", None, "Compression training dirs to evaluate.")
flags.DEFINE_list("labels", None, "A label per model (default: the dir names).")
flags.DEFINE_string("grid", None, "Comma-separated lambdas (default: 8 log-spaced in range).")
flags.DEFINE_string("image_folder", None, "Evaluate on these images instead of the held-out ones.")
flags.DEFINE_string("output_dir", None, "Where to write rd.csv and rd.png.")

JPEG_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)
WEBP_QUALITIES = (5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95)


def _mean_row(per_image: list[dict]) -> dict:
    return {key: float(np.mean([row[key] for row in per_image])) for key in per_image[0]}


def _quality(images, decoded_images) -> dict:
    from yoto_tf import metrics

    psnrs = [metrics.psnr(a, b) for a, b in zip(images, decoded_images, strict=True)]
    ssims = [
        metrics.ms_ssim(a, b) if min(a.shape[:2]) >= 161 else float("nan")
        for a, b in zip(images, decoded_images, strict=True)
    ]
    return {"psnr": float(np.mean(psnrs)), "ms_ssim": float(np.mean(ssims))}


def evaluate_codec(codec, images, grid) -> list[dict]:
    """Mean actual bpp, estimated bpp, PSNR and MS-SSIM of `codec` at each lambda."""
    import tensorflow as tf

    from zoo import codec_format

    rows = []
    for lmbda in grid:
        per_image, decoded = [], []
        for image in images:
            data = codec.encode(image, lmbda)
            decoded.append(codec.decode(data))
            pixels = image.shape[0] * image.shape[1]
            padded = tf.constant(codec._pad(image)[None])
            weights = tf.constant([[1.0, lmbda]], tf.float32)
            terms = codec.model.compute_loss_terms(padded, None, weights, training=False)
            padded_pixels = padded.shape[1] * padded.shape[2]
            estimated_bits = float(terms["rate"][0]) * padded_pixels
            per_image.append(
                {
                    "bpp": 8 * len(data) / pixels,
                    "estimated_bpp": (estimated_bits + 8 * codec_format.HEADER_SIZE) / pixels,
                }
            )
        rows.append({"lmbda": float(lmbda), **_mean_row(per_image), **_quality(images, decoded)})
    return rows


def evaluate_pillow(images, image_format: str, qualities) -> list[dict]:
    """Mean bpp, PSNR and MS-SSIM of Pillow's `image_format` ("JPEG" or "WEBP") per quality."""
    from PIL import Image

    rows = []
    for quality in qualities:
        bpps, decoded = [], []
        for image in images:
            buffer = io.BytesIO()
            Image.fromarray(image).save(buffer, format=image_format, quality=quality)
            bpps.append(8 * buffer.tell() / (image.shape[0] * image.shape[1]))
            decoded.append(np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")))
        rows.append({"quality": quality, "bpp": float(np.mean(bpps)), **_quality(images, decoded)})
    return rows


def bd_rates(curves: dict[str, list[dict]], test: str) -> dict[str, float]:
    """BD-rate (PSNR) of curve `test` against every other curve, in percent."""
    from yoto_tf import metrics

    results = {}
    for anchor, rows in curves.items():
        if anchor == test:
            continue
        try:
            results[anchor] = metrics.bd_rate(
                [r["bpp"] for r in rows],
                [r["psnr"] for r in rows],
                [r["bpp"] for r in curves[test]],
                [r["psnr"] for r in curves[test]],
            )
        except ValueError as error:
            results[anchor] = float("nan")
            print(f"BD-rate {test} vs {anchor}: {error}", file=sys.stderr)
    return results


def plot(curves: dict[str, list[dict]], path) -> None:
    """Writes a PSNR-against-bpp plot of every curve."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4.2))
    for label, rows in curves.items():
        axis.plot([r["bpp"] for r in rows], [r["psnr"] for r in rows], "o-", ms=3, label=label)
    axis.set_xlabel("bits per pixel (from file sizes)")
    axis.set_ylabel("RGB PSNR (dB)")
    axis.grid(alpha=0.3)
    axis.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".png.tmp")
    temporary.write_bytes(buffer.getvalue())
    temporary.replace(path)


def main(argv):
    """Evaluates the models and the Pillow baselines; prints, writes CSV and plot."""
    del argv
    from zoo import codec, compression, evaluate_lib, flags_util, photos, train_lib

    try:
        if not FLAGS.models:
            raise ValueError("--models is required.")
        labels = FLAGS.labels or [pathlib.Path(m).name for m in FLAGS.models]
        grid = flags_util.parse_grid(FLAGS.grid) if FLAGS.grid else compression.EVALUATION_GRID
        images = (
            photos.load_folder(FLAGS.image_folder)
            if FLAGS.image_folder
            else compression.evaluation_images()
        )
        curves = {
            "JPEG": evaluate_pillow(images, "JPEG", JPEG_QUALITIES),
            "WebP": evaluate_pillow(images, "WEBP", WEBP_QUALITIES),
        }
        for label, model_dir in zip(labels, FLAGS.models, strict=True):
            model, _, task_name = train_lib.restore_model(model_dir)
            if task_name != "compression":
                raise ValueError(f"{model_dir} holds a {task_name} model.")
            curves[label] = evaluate_codec(codec.Codec(model), images, grid)
    except (ValueError, FileNotFoundError) as error:
        print(f"codec_eval: error: {error}", file=sys.stderr)
        return 2
    for label, rows in curves.items():
        print(evaluate_lib.format_table(rows, label=label))
    for label in labels:
        for anchor, value in bd_rates(curves, label).items():
            print(f"BD-rate (PSNR) of {label} against {anchor}: {value:+.1f}%")
    if FLAGS.output_dir:
        output_dir = pathlib.Path(FLAGS.output_dir)
        train_lib.write_text_atomically(output_dir / "rd.csv", evaluate_lib.rows_to_csv(curves))
        plot(curves, output_dir / "rd.png")
        print(f"wrote {output_dir / 'rd.csv'} and {output_dir / 'rd.png'}")
    return 0


if __name__ == "__main__":
    app.run(main)
