"""Rate-distortion evaluation of a YOTO codec against JPEG and WebP, from real bytes.

    python -m zoo.compression.codec_eval --models=runs/codec --output_dir=runs/codec_eval

For each lambda of the grid, every held-out photograph (or --image_folder) is
encoded to a .yoto file: bits per pixel come from the file's length, PSNR and
MS-SSIM from decoding it. JPEG and WebP go through Pillow quality sweeps on the
same images. Prints the curves and the BD-rate (PSNR) of YOTO against each
baseline (`--bd_method`: piecewise cubic by default), and writes rd.csv and rd.png.
`--refine_steps` encodes with latent refinement (every learned codec alike).
"""

from __future__ import annotations

import pathlib
import sys

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

from yoto_tf.metrics import BD_RATE_METHODS  # noqa: E402 (TensorFlow first, quietly)

FLAGS = flags.FLAGS
FIXED_LABEL = "fixed-lambda models"
flags.DEFINE_list("models", None, "Compression training dirs to evaluate.")
flags.DEFINE_list("labels", None, "A label per model (default: the dir names).")
flags.DEFINE_list(
    "fixed_models",
    None,
    "Fixed-lambda compression training dirs (--config=fixed_lmbda=...): together one curve, "
    "each model at its own lambda.",
)
flags.DEFINE_string("grid", None, "Comma-separated lambdas (default: 8 log-spaced in range).")
flags.DEFINE_string("image_folder", None, "Evaluate on these images instead of the held-out ones.")
flags.DEFINE_string("output_dir", None, "Where to write rd.csv and rd.png.")
flags.DEFINE_integer(
    "refine_steps",
    0,
    "Encode every learned codec (YOTO and fixed) with this many latent-refinement steps "
    "per image and lambda (zoo/compression/latent_refinement.py; 0: the encoder's latents "
    "as they are).",
)
flags.DEFINE_enum(
    "bd_method",
    "pchip",
    list(BD_RATE_METHODS),
    "BD-rate interpolation: piecewise monotone cubic (VCEG-AL22, robust on flat curves) or "
    "one cubic polynomial per curve (VCEG-M33, this tool's method before 2026-11-26).",
)


def main(argv):
    """Evaluates the models and the Pillow baselines; prints, writes CSV and plot."""
    del argv
    from zoo import atomic, flags_util, tables
    from zoo.compression import codec, config, data
    from zoo.compression.codec_eval_lib import (
        JPEG_QUALITIES,
        WEBP_QUALITIES,
        bd_rates,
        evaluate_codec,
        evaluate_fixed_codecs,
        evaluate_pillow,
        plot,
        rises_with_lambda,
    )
    from zoo.data import photos

    try:
        if not FLAGS.models:
            raise ValueError("--models is required.")
        labels = FLAGS.labels or [pathlib.Path(m).name for m in FLAGS.models]
        grid = flags_util.parse_grid(FLAGS.grid) if FLAGS.grid else config.EVALUATION_GRID
        images = (
            photos.load_folder(FLAGS.image_folder)
            if FLAGS.image_folder
            else data.evaluation_images()
        )
        curves = {
            "JPEG": evaluate_pillow(images, "JPEG", JPEG_QUALITIES),
            "WebP": evaluate_pillow(images, "WEBP", WEBP_QUALITIES),
        }

        def load_codec(model_dir):
            from zoo import loading

            model, _, task_name = loading.restore_model(model_dir)
            if task_name != "compression":
                raise ValueError(f"{model_dir} holds a {task_name} model, not a codec.")
            return codec.Codec(model, refine_steps=FLAGS.refine_steps)

        for label, model_dir in zip(labels, FLAGS.models, strict=True):
            curves[label] = evaluate_codec(load_codec(model_dir), images, grid)
        if FLAGS.fixed_models:
            fixed = [load_codec(model_dir) for model_dir in FLAGS.fixed_models]
            curves[FIXED_LABEL] = evaluate_fixed_codecs(fixed, images)
    except (ValueError, FileNotFoundError) as error:
        print(f"codec_eval: error: {error}", file=sys.stderr)
        return 2
    for label, rows in curves.items():
        print(tables.format_table(rows, label=label))
    for label in labels:
        rows = curves[label]
        print(
            f"{label}: bpp rises with lambda: {rises_with_lambda(rows, 'bpp')}; "
            f"PSNR rises with lambda: {rises_with_lambda(rows, 'psnr')}"
        )
        for anchor, value in bd_rates(curves, label, FLAGS.bd_method).items():
            print(f"BD-rate (PSNR, {FLAGS.bd_method}) of {label} against {anchor}: {value:+.1f}%")
    if FLAGS.output_dir:
        output_dir = pathlib.Path(FLAGS.output_dir)
        atomic.write_text(output_dir / "rd.csv", tables.rows_to_csv(curves))
        plot(curves, output_dir / "rd.png")
        print(f"wrote {output_dir / 'rd.csv'} and {output_dir / 'rd.png'}")
    return 0


if __name__ == "__main__":
    app.run(main)
