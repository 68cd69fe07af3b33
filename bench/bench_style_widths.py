"""Style-transfer train steps of Johnson et al.'s network and of another shape, side by side.

    .venv/bin/python bench/bench_style_widths.py [--input_stride=2] [--widths=32,48,32,16]
        [--output_kernel=3] [--rounds=7]

Times the train step (the default config's batch and patch size, through VGG16) of
Johnson et al.'s network (input stride 1, widths (32, 64, 128, 64, 32), a 9x9 output
conv) and of the network the flags describe (by default the default config's),
interleaved round by round, and prints the medians and the ratio Johnson / other: how
many more steps the other network trains in the same CPU time.
"""

from __future__ import annotations

import dataclasses

import timing
from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_integer("input_stride", None, "The other network's input stride (default: config's).")
flags.DEFINE_list("widths", None, "The other network's block widths (default: config's).")
flags.DEFINE_integer("output_kernel", None, "The other network's output kernel.")
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
    johnson = dataclasses.replace(default, input_stride=1, widths=None, output_kernel=9)
    changes = {
        "input_stride": FLAGS.input_stride,
        "widths": FLAGS.widths and tuple(int(width) for width in FLAGS.widths),
        "output_kernel": FLAGS.output_kernel,
    }
    other = dataclasses.replace(default, **{k: v for k, v in changes.items() if v is not None})
    batch = next(iter(style_data.train_dataset(default, seed=0)))
    models = timing.compiled_models({"johnson": johnson, "other": other}, style_transfer)
    medians = timing.median_train_steps(
        models, batch, FLAGS.rounds, FLAGS.steps_per_round, warmup=2
    )
    for name, median in medians.items():
        print(f"train step {name:8s} median {1000 * median:8.1f} ms (batch {default.batch_size})")
    print(
        f"other: input stride {other.input_stride}, widths {other.block_widths()}, "
        f"output kernel {other.output_kernel}"
    )
    print(f"train-step ratio johnson / other: {medians['johnson'] / medians['other']:.3f}")


if __name__ == "__main__":
    app.run(main)
