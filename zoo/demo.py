"""`make demo`: train one YOTO image codec for a bounded time, export it, and compare with JPEG.

    python -m zoo.demo [--train_seconds=240] [--output_dir=runs/demo]

1. Trains one scale-hyperprior codec on random crops of the bundled photographs,
   with lambda sampled per example from LogUniform[0.0018, 0.18] (at most
   --train_seconds; run it again to train on from the last checkpoint).
2. Exports it for TF Serving to OUTPUT_DIR/serving/compression/<version>.
3. Reloads the SavedModel and compresses a held-out photograph at several
   lambdas to real .yoto files, decodes them, and prints bits per pixel and PSNR
   next to JPEG's PSNR at the same bits per pixel; writes the RD plot.

A few minutes of CPU training gives a codec far from a trained hyperprior (see
experiments/README.md for a 30-minute run); the point is one model, every rate.
"""

from __future__ import annotations

import pathlib

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_float("train_seconds", 240.0, "Training time budget in seconds.")
flags.DEFINE_integer("steps", 20000, "Step cap (training stops at whichever comes first).")
flags.DEFINE_string("photo", "coffee", "Held-out bundled photograph to compress.")
flags.DEFINE_string("output_dir", "runs/demo", "Where the model, export, files and plot go.")
FLAGS = flags.FLAGS

DEMO_LAMBDAS = (0.0018, 0.0058, 0.018, 0.058, 0.18)


def main(argv):
    """Trains, exports, and compresses a held-out photograph with the exported codec."""
    del argv
    import numpy as np

    from export import export_lib
    from yoto_tf import metrics
    from zoo import atomic, codec, codec_eval_lib, photos, train_lib

    if FLAGS.photo not in photos.HELD_OUT:
        print(f"demo: error: --photo must be a held-out photograph, one of {photos.HELD_OUT}.")
        return 2
    output = pathlib.Path(FLAGS.output_dir)
    print(f"[1/3] Training a YOTO image codec on the bundled photos for {FLAGS.train_seconds:g} s")
    model = train_lib.train(
        "compression",
        output / "model",
        steps=FLAGS.steps,
        max_seconds=FLAGS.train_seconds,
        log_every=20,
    )
    print(f"\n[2/3] Exporting for TF Serving (step {int(model.optimizer.iterations.numpy())}) ...")
    version_dir = export_lib.export_model("compression", model, output / "serving", "compression")
    print(f"      wrote {version_dir}")

    image = photos.load_bundled(FLAGS.photo)
    height, width = image.shape[:2]
    print(
        f"[3/3] The exported codec on the held-out photo {FLAGS.photo!r} ({width}x{height}), "
        "one model at every lambda:"
    )
    exported = codec.Codec.from_saved_model(version_dir)
    jpeg = codec_eval_lib.evaluate_pillow([image], "JPEG", range(1, 101))
    jpeg_bpp = np.array([row["bpp"] for row in jpeg])
    jpeg_psnr = np.array([row["psnr"] for row in jpeg])
    order = np.argsort(jpeg_bpp)
    rows = []
    print(f"{'lambda':>8} {'file':>26} {'bpp':>7} {'PSNR dB':>8} {'JPEG PSNR at same bpp':>22}")
    for lmbda in DEMO_LAMBDAS:
        data = exported.encode(image, lmbda)
        path = output / "files" / f"{FLAGS.photo}_lambda{lmbda:g}.yoto"
        atomic.write_bytes(path, data)
        decoded = exported.decode(data)
        bpp = 8 * len(data) / (height * width)
        psnr = metrics.psnr(image, decoded)
        rows.append({"lmbda": lmbda, "bpp": bpp, "psnr": psnr})
        if jpeg_bpp.min() <= bpp <= jpeg_bpp.max():
            matched = f"{np.interp(bpp, jpeg_bpp[order], jpeg_psnr[order]):.2f}"
        else:
            matched = "outside JPEG's range"
        print(f"{lmbda:8.4f} {path.name:>26} {bpp:7.3f} {psnr:8.2f} {matched:>22}")
    plot = output / "rd.png"
    codec_eval_lib.plot({"YOTO (one exported model)": rows, "JPEG (Pillow q=1..100)": jpeg}, plot)
    print(f"\nRD plot: {plot}. Files: {output / 'files'}.")
    bpp_rises = codec_eval_lib.rises_with_lambda(rows, "bpp")
    psnr_rises = codec_eval_lib.rises_with_lambda(rows, "psnr")
    if bpp_rises and psnr_rises:
        print("Bits and PSNR rise together with lambda: one model, every rate.")
    else:
        print(
            f"With this little training, bits {'rise' if bpp_rises else 'do not rise'} and PSNR "
            f"{'rises' if psnr_rises else 'does not rise'} monotonically with lambda yet; "
            "train longer (--train_seconds) to spread the rates."
        )
    return 0


if __name__ == "__main__":
    app.run(main)
