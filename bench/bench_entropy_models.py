"""Encode and decode time per megapixel of each entropy model, in process, side by side.

    .venv/bin/python bench/bench_entropy_models.py [--repeats=7]
    .venv/bin/python bench/bench_entropy_models.py \
        --models=scale=releases/work/compression,channel_context=runs/cmp36/start_channel_context

The codec's entropy models (`Config.entropy_model`, issue 36): the scale hyperprior,
mean-scale, and mean-scale with the channel-wise context (`context_slices` slices,
decoded one after another). Each is a `Codec` in this process (`zoo/compression/codec.py`)
on one 768x512 photograph crop; the timed rounds interleave the models, so machine noise
hits them alike. Without --models every model is the release width (96/192/64 filters),
untrained and seeded: transforms and coding cost what they cost trained, but an
untrained analysis writes few bits, so the range coder's share is smaller than a trained
model's. --models names trained ones (training dirs, snapshots or releases: anything
`zoo.loading.restore_model` reads), by entropy model. Prints median seconds per
megapixel of encoding and decoding, bytes, and each model's ratio to the first.
"""

from __future__ import annotations

import dataclasses
import statistics
import sys
import time

from absl import app, flags

from zoo.flags_util import import_tensorflow_quietly

import_tensorflow_quietly()

ENTROPY_MODELS = ("scale", "mean_scale", "channel_context")
flags.DEFINE_list(
    "models",
    None,
    "name=path pairs (trained codecs to time); default: the release width untrained, one "
    "per entropy model.",
)
flags.DEFINE_integer("repeats", 7, "Timed rounds (each model encodes and decodes once a round).")
flags.DEFINE_float("lmbda", 0.01, "Lambda to encode at.")
flags.DEFINE_integer("context_slices", 4, "Slices of the untrained channel_context model.")
FLAGS = flags.FLAGS


def release_width_config(entropy_model: str, context_slices: int = 4):
    """The default config at the released codec's width with `entropy_model`."""
    from zoo.compression import config as compression_config

    return dataclasses.replace(
        compression_config.Config(),
        num_filters=96,
        num_latent_filters=192,
        num_hyper_filters=64,
        entropy_model=entropy_model,
        context_slices=context_slices,
    )


def _models() -> dict:
    import tensorflow as tf

    from zoo import loading
    from zoo.compression import model as compression

    if FLAGS.models:
        models = {}
        for pair in FLAGS.models:
            name, _, path = pair.partition("=")
            if not path:
                raise ValueError(f"--models entries are name=path, got {pair!r}")
            models[name] = loading.restore_model(path)[0]
        return models
    models = {}
    for name in ENTROPY_MODELS:
        tf.keras.utils.set_random_seed(0)
        models[name] = compression.build_model(release_width_config(name, FLAGS.context_slices))
    return models


def main(argv):
    del argv
    import numpy as np

    from zoo.compression import codec
    from zoo.data import photos

    try:
        models = _models()
    except ValueError as error:
        print(f"bench_entropy_models: error: {error}", file=sys.stderr)
        return 2
    image = np.tile(photos.load_bundled("china"), [2, 2, 1])[:512, :768]
    megapixels = image.shape[0] * image.shape[1] / 1e6
    codecs = {name: codec.Codec(model) for name, model in models.items()}
    files = {}
    for name, yoto in codecs.items():
        files[name] = yoto.encode(image, FLAGS.lmbda)  # Also traces.
        if not np.array_equal(yoto.decode(files[name]), yoto.reconstruct(image, FLAGS.lmbda)):
            raise AssertionError(f"{name} decoded other pixels than its reconstruction")
    times = {(name, step): [] for name in codecs for step in ("encode", "decode")}
    for _ in range(FLAGS.repeats):
        for name, yoto in codecs.items():
            start = time.perf_counter()
            yoto.encode(image, FLAGS.lmbda)
            times[name, "encode"].append(time.perf_counter() - start)
            start = time.perf_counter()
            yoto.decode(files[name])
            times[name, "decode"].append(time.perf_counter() - start)
    medians = {key: statistics.median(values) / megapixels for key, values in times.items()}
    first = next(iter(codecs))
    print(
        f"{image.shape[1]}x{image.shape[0]} crop ({megapixels:.3f} MP), lambda {FLAGS.lmbda}, "
        f"median of {FLAGS.repeats} interleaved rounds, seconds per megapixel"
    )
    print(f"{'model':18s} {'architecture':18s} {'bytes':>7s} {'encode s/MP':>11s} "
          f"{'decode s/MP':>11s} {'enc ratio':>9s} {'dec ratio':>9s}")  # fmt: skip
    for name, yoto in codecs.items():
        encode, decode = medians[name, "encode"], medians[name, "decode"]
        print(
            f"{name:18s} {yoto.architecture:18s} {len(files[name]):7d} {encode:11.3f} "
            f"{decode:11.3f} {encode / medians[first, 'encode']:9.2f} "
            f"{decode / medians[first, 'decode']:9.2f}"
        )
    return 0


if __name__ == "__main__":
    app.run(main)
