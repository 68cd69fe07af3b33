"""Style-transfer speed: stylized images per second of the exported model, and YOTO/fixed steps.

    .venv/bin/python bench/bench_style.py [--model=runs/style] [--rounds=7]

1. Exports the model (a training dir if --model is given, else the default
   config untrained: speed does not depend on training) and times its `stylize`
   signature on batches of 256x256 held-out crops: images per second, median.
2. Times train steps of the YOTO network and of the same network without
   conditioning at fixed weights, interleaved round by round, and prints the
   medians and the ratio YOTO / fixed.
"""

from __future__ import annotations

import dataclasses
import tempfile

import timing
from absl import app, flags

from zoo import loading
from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_string("model", None, "Style-transfer training dir (default: untrained default).")
flags.DEFINE_integer("batch", 4, "Images per stylize call.")
flags.DEFINE_integer("rounds", 7, "Timed rounds (medians are reported).")
flags.DEFINE_integer("steps_per_round", 3, "Train steps per round.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    import numpy as np
    import tensorflow as tf

    from export import export_lib
    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import data as style_data
    from zoo.style_transfer import model as style_transfer

    tf.keras.utils.set_random_seed(0)
    if FLAGS.model:
        model, config, _ = loading.restore_model(FLAGS.model)
    else:
        config = style_config.Config()
        model = style_transfer.build_model(config)
    version_dir = export_lib.export_model("style_transfer", model, tempfile.mkdtemp(), "bench")
    stylize = tf.saved_model.load(str(version_dir)).signatures["stylize"]
    crops = style_data.evaluation_images(size=256)
    images = tf.constant(np.resize(crops, [FLAGS.batch, 256, 256, 3]))
    weights = tf.constant([[1.0, 0.25, 0.25, 0.25, 0.25]] * FLAGS.batch)
    stylize(images=images, loss_weights=weights)  # Warm up.
    seconds = timing.median_seconds(
        lambda: stylize(images=images, loss_weights=weights)["stylized"].numpy(), FLAGS.rounds
    )
    print(
        f"exported stylize, 256x256, batch {FLAGS.batch}: "
        f"{FLAGS.batch / seconds:.2f} images/s (median of {FLAGS.rounds})"
    )

    batch = next(iter(style_data.train_dataset(config, seed=0)))
    fixed_config = dataclasses.replace(
        config, conditioned=False, fixed_weights=(1.0, 1.0, 0.0, 0.0, 0.0)
    )
    models = timing.compiled_models({"yoto": config, "fixed": fixed_config}, style_transfer)
    medians = timing.median_train_steps(
        models, batch, FLAGS.rounds, FLAGS.steps_per_round, warmup=2
    )
    timing.print_yoto_over_fixed(medians, config.batch_size)


if __name__ == "__main__":
    app.run(main)
