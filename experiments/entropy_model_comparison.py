"""Scale-only against mean-scale against mean-scale + context, at equal training (issue 36).

    python experiments/entropy_model_comparison.py --step=1000 \
        --runs=scale:runs/cmp36/scale,mean_scale:runs/cmp36/mean_scale,\
channel_context:runs/cmp36/channel_context --photos=validation

Each run is a fine-tuning from the same starting transforms (the release work area, made
into mean-scale and context codecs by zoo/compression/upgrade_entropy_model.py, whose new
parts start at zero), with the same data, flags and steps. This restores each run's
checkpoint at `--step`, codes every photograph of the chosen set at the eight lambdas of
the evaluation grid with the real range coder (bits: the lengths of the coded strings,
no file header; quality: the decoded reconstruction), and prints each run's mean curve,
BD-rate (PSNR and MS-SSIM) against the first run, per subset and over the set, and
writes the curves as JSON (`--output`).

`--photos`: "validation" (the split of the training sources that choices are made on)
or "evaluation" (the evaluation set's subsets, for the report).
"""

from __future__ import annotations

import json
import os
import pathlib
import sys

from absl import app, flags

_FLAGS = flags.FLAGS
flags.DEFINE_list(
    "runs",
    None,
    "label:model_dir[:checkpoint_folder] (default folder: the run's checkpoints/); the first "
    "run is the anchor.",
)
flags.DEFINE_integer("step", None, "The checkpoint step to restore in every run.")
flags.DEFINE_enum("photos", "validation", ["validation", "evaluation"], "Which photographs.")
flags.DEFINE_integer("max_side", 512, "Photographs are centre-cropped to at most this side.")
flags.DEFINE_string("output", None, "Where the curves go as JSON (optional).")


def restore_at(model_dir, step: int, checkpoint_folder=None):
    """The model of run `model_dir` at its checkpoint of `step` (in `checkpoint_folder`)."""
    import tensorflow as tf

    import zoo
    from zoo import loading

    task_name, config, seed = loading.load_run(model_dir)
    model = zoo.get_task(task_name).build_model(config, seed=seed)
    folder = checkpoint_folder or os.path.join(model_dir, loading.CHECKPOINT_DIR)
    path = os.path.join(folder, f"ckpt-{step}")
    if not tf.io.gfile.exists(path + ".index"):
        raise FileNotFoundError(f"{path} not found: {model_dir} has no checkpoint at step {step}.")
    status = tf.train.Checkpoint(model=model).read(path)
    status.expect_partial().assert_existing_objects_matched()
    model.prepare_for_coding()
    return model


def run_grid(grid, low: float, high: float) -> tuple[float, ...]:
    """The evaluation grid, fitted to a run's lambda range.

    A run trained on a range reaching above the grid's top (issue 35's range arms) is also
    coded at the grid's next points up to its top, and at the top itself, so that its
    curve shows the quality the wider range reaches. A run trained on part of the range
    (issue 35's split arms) is coded only inside it: at its bottom, then at the grid's
    points above. BD-rates compare the common range.
    """
    ratio = grid[1] / grid[0]
    points = [point for point in grid if point >= low * (1 - 1e-6)]
    if not points or points[0] > low * 1.05:
        points.insert(0, low)
    while points[-1] * ratio <= high * (1 + 1e-6):
        points.append(points[-1] * ratio)
    if high > points[-1] * 1.05:
        points.append(high)
    return tuple(points)


def model_curve(model, image, grid) -> list[dict]:
    """Real coded bpp, PSNR and MS-SSIM of `model` on one image at each lambda."""
    import tensorflow as tf

    from zoo.compression import codec_eval_lib

    rows = []
    images = tf.constant(image[None])
    pixels = image.shape[0] * image.shape[1]
    for lmbda in grid:
        lmbdas = tf.constant([lmbda], tf.float32)
        y, z = model.latents(images, lmbdas)
        latent, side = model.compress_latents(y, z, lmbdas)
        coded_bytes = sum(len(s) for s in latent.numpy().ravel()) + len(side.numpy()[0])
        decoded = model.decompress(latent, side, lmbdas, tf.shape(z)[1:-1])[0].numpy()
        row = {"lmbda": float(lmbda), "bpp": 8 * coded_bytes / pixels}
        row.update(codec_eval_lib.image_quality(image, decoded))
        rows.append(row)
    return rows


def main(argv) -> int:
    """Evaluates every run at `--step` and prints the comparison."""
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    from zoo.compression import codec_eval_lib
    from zoo.compression import config as compression_config
    from zoo.data import photo_sets

    runs = [(item.split(":") + [None])[:3] for item in _FLAGS.runs]
    if _FLAGS.photos == "validation":
        subsets = {"validation": photo_sets.validation_photos()}
    else:
        subsets = photo_sets.evaluation_subsets()
    subsets = {
        name: [codec_eval_lib.centre_crop(image, _FLAGS.max_side) for _, image in photos]
        for name, photos in subsets.items()
    }
    evaluators = {}
    for label, model_dir, checkpoint_folder in runs:
        model = restore_at(model_dir, _FLAGS.step, checkpoint_folder)
        grid = run_grid(compression_config.EVALUATION_GRID, *model.lmbda_range)
        evaluators[label] = lambda image, model=model, grid=grid: model_curve(model, image, grid)
    curves = codec_eval_lib.evaluate_set(subsets, evaluators)
    anchor = runs[0][0]
    print(f"# step {_FLAGS.step}, {_FLAGS.photos} photographs, centre crops <= {_FLAGS.max_side}")
    for subset, by_label in curves.items():
        count = len(subsets.get(subset, [])) or sum(len(v) for v in subsets.values())
        print(f"\n## {subset} ({count} photographs)")
        for label, rows in by_label.items():
            points = ", ".join(f"{r['bpp']:.3f}/{r['psnr']:.2f}" for r in rows)
            print(f"{label:>16}: bpp/PSNR {points}")
        for label, _, _ in runs[1:]:
            psnr = codec_eval_lib.bd_rates(
                {anchor: by_label[anchor], label: by_label[label]}, label
            )
            ssim = codec_eval_lib.bd_rates(
                {anchor: by_label[anchor], label: by_label[label]}, label, quality="ms_ssim"
            )
            print(
                f"{label:>16}: BD-rate vs {anchor}: PSNR {psnr.get(anchor, float('nan')):+.2f}%, "
                f"MS-SSIM {ssim.get(anchor, float('nan')):+.2f}%"
            )
    if _FLAGS.output:
        pathlib.Path(_FLAGS.output).write_text(json.dumps(curves, indent=1))
    return 0


if __name__ == "__main__":
    from zoo.flags_util import import_tensorflow_quietly

    import_tensorflow_quietly()
    sys.exit(app.run(main))
