"""Codec train steps at two widths of the analysis and synthesis, side by side.

    TF_NUM_INTRAOP_THREADS=1 .venv/bin/python bench/bench_codec_widths.py \
        [--num_filters=96] [--config=num_latent_filters=192] [--rounds=7]

Times the train step (the config's batch and patch size) of the codec the --config
overrides describe and of the same codec with `--num_filters` hidden filters in its
analysis and synthesis, the hyper transforms kept at the narrow width (what
`zoo.compression.widen_filters` makes of a trained run), interleaved round by round,
and prints the medians and the ratio wide / narrow: what a widened run pays per step.
"""

from __future__ import annotations

import dataclasses

import timing
from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

flags.DEFINE_integer("num_filters", 96, "The wide codec's analysis and synthesis filters.")
flags.DEFINE_multi_string("config", [], "Override field=value of both codecs, repeatable.")
flags.DEFINE_integer("rounds", 7, "Timed rounds (medians are reported).")
flags.DEFINE_integer("steps_per_round", 5, "Train steps per round.")
FLAGS = flags.FLAGS


def main(argv):
    """Prints both median train-step times and their ratio."""
    del argv
    import tensorflow as tf

    from zoo import flags_util
    from zoo.compression import config as compression_config
    from zoo.compression import data as compression_data
    from zoo.compression import model as compression
    from zoo.training import train_lib

    tf.keras.utils.set_random_seed(0)
    overrides = flags_util.parse_overrides(FLAGS.config, compression_config.Config)
    narrow = train_lib.make_config("compression", overrides)
    wide = dataclasses.replace(
        narrow,
        num_filters=FLAGS.num_filters,
        num_latent_filters=narrow.num_latent_filters or narrow.num_filters,
        num_hyper_filters=narrow.num_hyper_filters or narrow.num_filters,
    )
    batch = next(iter(compression_data.train_dataset(narrow, seed=0)))
    models = timing.compiled_models({"narrow": narrow, "wide": wide}, compression)
    medians = timing.median_train_steps(models, batch, FLAGS.rounds, FLAGS.steps_per_round)
    for name, config in (("narrow", narrow), ("wide", wide)):
        print(
            f"train step {name:6s} ({config.num_filters} filters) median "
            f"{1000 * medians[name]:8.1f} ms (batch {narrow.batch_size}, "
            f"{narrow.patch_size}px)"
        )
    print(f"train-step ratio wide / narrow: {medians['wide'] / medians['narrow']:.3f}")


if __name__ == "__main__":
    app.run(main)
