"""`make demo-beta-vae`: train a YOTO beta-VAE for a bounded time, export it, show its trade-off.

    python -m demos.beta_vae [--train_seconds=180] [--output_dir=runs/demo_beta_vae]

1. Trains one beta-VAE on MNIST with beta sampled per example from
   LogUniform[0.125, 512] (at most --train_seconds; resumable).
2. Exports it for TF Serving to OUTPUT_DIR/serving/beta_vae/<version>.
3. Reloads the SavedModel and prints reconstruction, KL and total on held-out
   MNIST test images at several betas, all from that one model, and writes the
   term plot and a picture of reconstructions per beta.
"""

from __future__ import annotations

import pathlib

from absl import app, flags

import zoo
from zoo import figures
from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_float("train_seconds", 180.0, "Training time budget in seconds.")
flags.DEFINE_integer("steps", 4000, "Step cap (training stops at whichever comes first).")
flags.DEFINE_integer("examples", 2000, "Held-out test images to evaluate on.")
flags.DEFINE_string("output_dir", "runs/demo_beta_vae", "Where the model, export and plots go.")
FLAGS = flags.FLAGS

DEMO_BETAS = (0.125, 0.5, 2.0, 8.0, 32.0, 128.0, 512.0)


def _save_reconstructions(loaded, images, path):
    plt = figures.pyplot()
    import tensorflow as tf

    rows = [images]
    for beta in DEMO_BETAS:
        betas = tf.fill([len(images)], beta)
        rows.append(loaded.signatures["reconstruct"](images=images, beta=betas)["reconstructions"])
    figure, axes = plt.subplots(len(rows), len(images), figsize=(len(images), len(rows) * 1.05))
    for r, row in enumerate(rows):
        for c in range(len(images)):
            axes[r, c].imshow(row[c, ..., 0], cmap="gray", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel("input" if r == 0 else f"β={DEMO_BETAS[r - 1]:g}", fontsize=8)
    figure.tight_layout()
    figures.write_png(path, figure, dpi=90)


def main(argv):
    """Trains, exports, and evaluates the exported model at several betas."""
    del argv
    from export import export_lib
    from zoo import tables
    from zoo.evaluation import evaluate_lib
    from zoo.training import train_lib

    output = pathlib.Path(FLAGS.output_dir)
    print(f"[1/3] Training a YOTO beta-VAE on MNIST for up to {FLAGS.train_seconds:g} s ...")
    model = train_lib.train(
        "beta_vae",
        output / "model",
        steps=FLAGS.steps,
        max_seconds=FLAGS.train_seconds,
        log_every=50,
    )
    print(f"\n[2/3] Exporting for TF Serving (step {int(model.optimizer.iterations.numpy())}) ...")
    version_dir = export_lib.export_model("beta_vae", model, output / "serving", "beta_vae")
    print(f"      wrote {version_dir}")

    print(f"[3/3] One exported model, {FLAGS.examples} held-out MNIST test images, many betas:")
    task = zoo.get_task("beta_vae")
    images = task.evaluation_images(FLAGS.examples)
    terms_fn = evaluate_lib.saved_model_terms_fn(version_dir, task)
    rows = evaluate_lib.evaluate_grid(terms_fn, images, DEMO_BETAS, task)
    print(tables.format_table(rows))
    plot = output / "terms.png"
    evaluate_lib.plot_terms({"yoto (exported)": rows}, task.SWEEP_WEIGHT_NAME, plot)
    pictures = output / "reconstructions.png"
    _save_reconstructions(terms_fn.loaded, images[:10], pictures)
    print(f"\nPlots: {plot} (terms against beta), {pictures} (reconstructions per beta).")
    print("Reconstruction error rises and KL falls with beta: one model, every trade-off.")


if __name__ == "__main__":
    app.run(main)
