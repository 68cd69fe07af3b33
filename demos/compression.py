"""`make demo`: the released models at work, then a minute of training from scratch.

    python -m demos.compression [--output_dir=runs/demo] [--target_bpp=0.5] [--train_seconds=60]

1. Exports the released codec (`pretrained:codec`) for TF Serving, to
   OUTPUT_DIR/serving/compression/1 and its stock-op twin compression_stock/1.
2. Through that SavedModel, compresses the busy pair (coffee, china) to real .yoto files at
   five lambdas and at --target_bpp, decodes them, and prints bits per pixel (from the
   files), PSNR and MS-SSIM beside JPEG's, WebP's and AVIF's at the same bits per pixel;
   writes a side-by-side crop (original, YOTO, and JPEG, WebP and AVIF files no larger
   than YOTO's) for a person to look at. Then the summary on the evaluation set
   (`zoo.compression.data.evaluation_set`, --subsets of it), 8 lambdas, bits from files:
   BD-rate (PSNR and MS-SSIM) against JPEG, WebP and AVIF per subset and over the whole
   set, the top PSNR, whether bits and PSNR rise with lambda; and the set's RD plot.
3. Stylizes a held-out photograph on a weight grid with the released style network.
4. Trains a codec from scratch for --train_seconds, to show that training works (run it
   again to train on from the last checkpoint).
"""

from __future__ import annotations

import functools
import io
import pathlib
import shutil
import time

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_string("codec", "pretrained:codec", "The codec: a release or a training dir.")
flags.DEFINE_string("style", "pretrained:style-transfer", "The style network, likewise.")
flags.DEFINE_float("target_bpp", 0.5, "The bits per pixel of the --target-bpp files.")
flags.DEFINE_float("train_seconds", 60.0, "Time budget of the training from scratch.")
flags.DEFINE_integer("steps", 20000, "Step cap of that training (whichever comes first).")
flags.DEFINE_string("output_dir", "runs/demo", "Where the exports, files and pictures go.")
flags.DEFINE_list(
    "subsets",
    None,
    "The summary's subsets of the evaluation set (default: all; 'busy' alone is quick).",
)
FLAGS = flags.FLAGS

DEMO_LAMBDAS = (0.0018, 0.0058, 0.018, 0.058, 0.18)
# Pillow's whole quality ranges, so the baselines reach every rate YOTO writes.
JPEG_QUALITIES = tuple(range(1, 101))
WEBP_QUALITIES = tuple(range(0, 101))
# Every fifth quality: AVIF encodes take a tenth of a second or more each.
AVIF_QUALITIES = tuple(range(0, 101, 5))
# Each baseline: its label, Pillow format and the qualities searched.
BASELINES = (
    ("JPEG", "JPEG", JPEG_QUALITIES),
    ("WebP", "WEBP", WEBP_QUALITIES),
    ("AVIF", "AVIF", AVIF_QUALITIES),
)
CROP = 256


def pillow_file(image, image_format: str, quality: int) -> bytes:
    """`image` as a Pillow JPEG, WebP or AVIF file at `quality`."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=image_format, quality=quality)
    return buffer.getvalue()


def largest_file_within(image, image_format: str, qualities, budget: int) -> tuple[int, bytes]:
    """The quality, and file, of the largest Pillow file no larger than `budget` bytes.

    The smallest quality's file when even it is larger (a codec cannot go below it).
    """
    best = None
    for quality in qualities:
        data = pillow_file(image, image_format, quality)
        if best is None or len(data) <= budget:
            best = (quality, data)
        if len(data) > budget:
            break
    return best


def at_same_bpp(curve: list[dict], bpp: float, key: str) -> float | None:
    """`key` of a baseline's curve interpolated at `bpp`; None outside its range."""
    import numpy as np

    rows = sorted(curve, key=lambda row: row["bpp"])
    rates = np.array([row["bpp"] for row in rows])
    if not rates[0] <= bpp <= rates[-1]:
        return None
    return float(np.interp(bpp, rates, [row[key] for row in rows]))


def crop_comparison(image, panels: list[tuple[str, object]], path) -> None:
    """Writes the same centre crop of each panel's image side by side, each titled, 1:1."""
    import numpy as np
    from PIL import Image, ImageDraw

    from zoo import atomic

    side = min(CROP, *image.shape[:2])
    top, left = (image.shape[0] - side) // 2, (image.shape[1] - side) // 2
    gap, strip = 8, 34
    canvas = Image.new("RGB", (len(panels) * (side + gap) - gap, side + strip), "white")
    draw = ImageDraw.Draw(canvas)
    for index, (title, picture) in enumerate(panels):
        crop = np.asarray(picture)[top : top + side, left : left + side]
        x = index * (side + gap)
        canvas.paste(Image.fromarray(crop), (x, strip))
        for line, text in enumerate(title.split("\n")[:2]):
            draw.text((x + 2, 2 + 15 * line), text, fill="black")
    atomic.write_png(path, canvas)


def main(argv):
    """Runs the four parts and says where each output is."""
    del argv
    import numpy as np
    from PIL import Image

    from export import export_lib
    from yoto_tf import metrics
    from zoo import releases
    from zoo.compression import codec, codec_eval_lib
    from zoo.compression import config as compression_config
    from zoo.compression import data as compression_data
    from zoo.data import photos
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import data as style_data
    from zoo.style_transfer import style_eval_lib
    from zoo.style_transfer.stylizer import Stylizer
    from zoo.training import train_lib

    output = pathlib.Path(FLAGS.output_dir)
    started = time.monotonic()
    print(f"[1/4] Exporting the released codec {FLAGS.codec} for TF Serving ...")
    serving = output / "serving"
    shutil.rmtree(serving, ignore_errors=True)
    full_dir, stock_dir = export_lib.export_all(FLAGS.codec, serving, "compression", version=1)
    print(f"      wrote {full_dir} and {stock_dir}")
    exported = codec.Codec.from_saved_model(full_dir)

    print("[2/4] The exported codec on the busy pair, bits from the files:")
    names = photos.HELD_OUT
    images = [photos.load_bundled(name) for name in names]
    per_photo = {
        name: {
            label: codec_eval_lib.evaluate_pillow([image], fmt, qualities)
            for label, fmt, qualities in BASELINES
        }
        for name, image in zip(names, images, strict=True)
    }
    header = f"{'photo':>7} {'lambda':>8} {'bpp':>6} {'PSNR':>6} {'MS-SSIM':>7}" + "".join(
        f" | {label + ' PSNR':>9} {'MS-SSIM':>7}" for label, _, _ in BASELINES
    )
    print(header)
    targets = {}
    for lmbda in DEMO_LAMBDAS:
        for name, image in zip(names, images, strict=True):
            _code_file(exported, image, name, lmbda, output, per_photo[name])
    for name, image in zip(names, images, strict=True):
        lmbda = exported.lmbda_for_target_bpp(image, FLAGS.target_bpp, iterations=11)
        targets[name] = _code_file(exported, image, name, lmbda, output, per_photo[name], "target")

    name, image = names[0], images[0]
    target = targets[name]
    decoded = exported.decode(target["data"])
    panels = [
        ("original", image),
        (f"YOTO {len(target['data'])} B\n{target['psnr']:.2f} dB", decoded),
    ]
    for label, image_format, qualities in BASELINES:
        quality, data = largest_file_within(image, image_format, qualities, len(target["data"]))
        picture = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
        panels.append(
            (f"{label} q={quality} {len(data)} B\n{metrics.psnr(image, picture):.2f} dB", picture)
        )
    crops = output / "crops.png"
    crop_comparison(image, panels, crops)

    chosen = compression_data.evaluation_set()
    subsets = {
        subset: list(named.values())
        for subset, named in chosen.items()
        if not FLAGS.subsets or subset in FLAGS.subsets
    }
    if not subsets:
        raise app.UsageError(f"--subsets: none of {FLAGS.subsets} is one of {list(chosen)}.")
    counts = {subset: len(subset_images) for subset, subset_images in subsets.items()}
    counts[codec_eval_lib.ALL] = sum(counts.values())
    print(
        f"      the summary on the evaluation set ({counts[codec_eval_lib.ALL]} photographs: "
        f"{', '.join(f'{k} {v}' for k, v in counts.items() if k != codec_eval_lib.ALL)}), "
        f"{len(compression_config.EVALUATION_GRID)} lambdas, bits from the files ..."
    )
    label = "YOTO (released, exported)"
    evaluators = codec_eval_lib.baseline_evaluators()
    evaluators[label] = functools.partial(
        codec_eval_lib.codec_curve,
        exported,
        grid=compression_config.EVALUATION_GRID,
        estimated=False,
    )
    by_subset = codec_eval_lib.evaluate_set(subsets, evaluators)
    summary = codec_eval_lib.summary_rows(by_subset, [label], counts)
    print(codec_eval_lib.format_summary(summary))
    whole = codec_eval_lib.ALL if codec_eval_lib.ALL in by_subset else next(iter(by_subset))
    for quality in ("psnr", "ms_ssim"):
        rates = codec_eval_lib.bd_rates(by_subset[whole], label, quality=quality)
        shown = ", ".join(f"{anchor} {value:+.1f}%" for anchor, value in rates.items())
        measure = "PSNR" if quality == "psnr" else "MS-SSIM (dB)"
        print(f"BD-rate ({measure}) of YOTO over the evaluation set's mean: {shown}")
    plot = output / "rd.png"
    codec_eval_lib.plot(by_subset[whole], plot)

    print(f"[3/4] Stylizing a held-out photograph with {FLAGS.style} on a weight grid ...")
    stylizer = Stylizer.load(FLAGS.style)
    grid = output / "style_grid.png"
    content = style_data.evaluation_images(limit=1)[0]
    style_eval_lib.render_grid(stylizer, content, list(style_config.EVALUATION_GRID), 1.0, grid)

    print(f"[4/4] Training a codec from scratch for {FLAGS.train_seconds:g} s ...")
    model = train_lib.train(
        "compression",
        output / "from_scratch",
        steps=FLAGS.steps,
        max_seconds=FLAGS.train_seconds,
        log_every=10,
    )
    steps = int(model.optimizer.iterations.numpy())
    card = releases.card(FLAGS.codec) if releases.is_release(FLAGS.codec) else {}
    steps_in_all = card.get("total_steps", card.get("step"))
    trained = f" (the released codec trained {steps_in_all})" if steps_in_all else ""
    print(
        f"\nTrained {steps} steps from scratch{trained}; it resumes from "
        f"{output / 'from_scratch'} when run again.\n"
        f"Outputs ({time.monotonic() - started:.0f} s):\n"
        f"  .yoto files         {output / 'files'}\n"
        f"  RD plot             {plot}\n"
        f"  crop comparison     {crops}\n"
        f"  style grid          {grid}\n"
        f"  SavedModels         {serving}"
    )
    return 0


def _code_file(exported, image, name, lmbda, output, baselines, tag=None) -> dict:
    """Encodes, writes and decodes one file; prints its row beside the baselines."""
    from yoto_tf import metrics
    from zoo import atomic

    lmbda = exported.check_lmbda(lmbda)
    data = exported.encode(image, lmbda)
    stem = f"{name}_target{FLAGS.target_bpp:g}bpp" if tag else f"{name}_lambda{lmbda:.4g}"
    atomic.write_bytes(output / "files" / f"{stem}.yoto", data)
    decoded = exported.decode(data)
    row = {
        "bpp": 8 * len(data) / (image.shape[0] * image.shape[1]),
        "psnr": metrics.psnr(image, decoded),
        "ms_ssim": metrics.ms_ssim(image, decoded),
    }
    cells = []
    for label, _, _ in BASELINES:
        for key, width in (("psnr", 9), ("ms_ssim", 7)):
            value = at_same_bpp(baselines[label], row["bpp"], key)
            cells.append(
                f"{'-':>{width}}"
                if value is None
                else f"{value:{width}.{2 if key == 'psnr' else 4}f}"
            )
    shown = f"{lmbda:8.4g}" if tag is None else f"{'target':>8}"
    print(
        f"{name:>7} {shown} {row['bpp']:6.3f} {row['psnr']:6.2f} {row['ms_ssim']:7.4f}"
        + "".join(f" | {cells[i]} {cells[i + 1]}" for i in range(0, len(cells), 2))
    )
    return {**row, "data": data} if tag else row


if __name__ == "__main__":
    app.run(main)
