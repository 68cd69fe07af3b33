"""Style-transfer train steps of two network widths, side by side.

    .venv/bin/python bench/bench_style_widths.py [--widths=32,32,32,8,4] [--rounds=7]

Times the train step (the default config's batch and patch size, through VGG16) of the
default network (Johnson et al.'s widths) and of the same config with --widths,
interleaved round by round, and prints the medians and the ratio default / lean: how
many more steps the lean network trains in the same CPU time.
"""

from __future__ import annotations

import dataclasses

import timing
from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_list("widths", ["32", "32", "32", "8", "4"], "The lean network's block widths.")
flags.DEFINE_integer("rounds", 7, "Timed rounds (medians are reported).")
flags.DEFINE_integer("steps_per_round", 3, "Train steps per round.")
FLAGS = flags.FLAGS


def main(argv):
    """Prints both median train-step times and their ratio."""
    del argv
    import tensorflow as tf

    from zoo.style_transfer import config as style_config
    from zoo.style_transfer import data as style_data
    from zoo.style_transfer import model as style_transfer

    tf.keras.utils.set_random_seed(0)
    default = style_config.Config()
    lean = dataclasses.replace(default, widths=tuple(int(width) for width in FLAGS.widths))
    batch = next(iter(style_data.train_dataset(default, seed=0)))
    models = timing.compiled_models({"default": default, "lean": lean}, style_transfer)
    medians = timing.median_train_steps(
        models, batch, FLAGS.rounds, FLAGS.steps_per_round, warmup=2
    )
    for name, median in medians.items():
        print(f"train step {name:8s} median {1000 * median:8.1f} ms (batch {default.batch_size})")
    print(f"lean widths {tuple(lean.widths)}")
    print(f"train-step ratio default / lean: {medians['default'] / medians['lean']:.3f}")


if __name__ == "__main__":
    app.run(main)
