"""A tiny compression model trained for a few steps: the shared start of the codec tests.

The codec tests of all files share these per process (pytest runs them in one): the
seed-0 codec trained for two epochs, the seed-1 codec with latents wider than its
transforms, and one export of the former with the range-coding ops.
"""

import dataclasses
import functools
import tempfile

import tensorflow as tf

from export import export_lib
from zoo.compression import config as compression_config
from zoo.compression import data as compression_data
from zoo.compression import model as compression


def trained_runlocal_codec(seed: int = 0, steps: int = 3, epochs: int = 1, **overrides):
    """The runlocal HyperpriorCodec (with Config `overrides`) after `steps * epochs` steps.

    A new model each call: for tests that change its weights. `steps=0` gives the seeded
    initial model and no history: for tests of shapes, formats and exact decoding, which
    a few steps of training would not change, at the cost of a model build instead of a
    traced training loop.
    """
    tf.keras.utils.set_random_seed(seed)
    config = dataclasses.replace(compression_config.Config.runlocal(), **overrides)
    model = compression.build_model(config)
    if steps == 0:
        return model, None
    model.compile(optimizer=compression.optimizer(config))
    history = model.fit(
        compression_data.train_dataset(config, seed=seed),
        steps_per_epoch=steps,
        epochs=epochs,
        verbose=0,
    )
    return model, history


@functools.cache
def shared_runlocal_codec(seed: int = 0, steps: int = 3, epochs: int = 1, **overrides):
    """`trained_runlocal_codec`, trained once per process for each set of arguments.

    Several test classes (and files) read the same tiny codec; training it costs seconds
    each time. The model is shared, so a test must not train it or change its weights.
    """
    return trained_runlocal_codec(seed, steps, epochs, **overrides)


# The codec most tests read; HyperpriorCodecTest checks its two epochs' history.
SEED_0 = {"seed": 0, "epochs": 2}
# Latents wider than the transforms (M > N), for the tests of another integer model and
# of the symbols' shapes: untrained.
SEED_1_WIDE_LATENTS = {"seed": 1, "steps": 0, "num_latent_filters": 12}


@functools.cache
def full_codec_export():
    """The shared seed-0 codec and one export of it with the range-coding ops, per process.

    `(model, base_dir, version_dir)`. An export costs ~40 s on a loaded 2-core machine,
    so the export, codec CLI and other codec tests all read this one; none writes into
    its version directory.
    """
    model, _ = shared_runlocal_codec(**SEED_0)
    base_dir = tempfile.mkdtemp()
    return model, base_dir, export_lib.export_model("compression", model, base_dir, "codec")


# The tiny mean-scale codecs of the version 3 tests: context networks 8 wide.
MEAN_SCALE = {"entropy_model": "mean_scale", "context_filters": 8}
CHANNEL_CONTEXT = {"entropy_model": "channel_context", "context_filters": 8}


@functools.cache
def shared_mean_codec(entropy_model: str):
    """The shared seed-0 codec with a mean-scale or channel-context entropy model.

    Built like `zoo.compression.upgrade_entropy_model` builds one (the trained codec's
    variables, the new parts fresh), without training, so it costs a model build. The
    new heads start at zero (the model would code like the scale hyperprior), so their
    kernels get seeded noise: the files exercise non-zero means and context corrections.
    Shared per process: a test must not change its weights.
    """
    import numpy as np

    from zoo.compression import widening
    from zoo.loading import snapshots

    original, _ = shared_runlocal_codec(**SEED_0)
    overrides = MEAN_SCALE if entropy_model == "mean_scale" else CHANNEL_CONTEXT
    config = dataclasses.replace(compression_config.Config.runlocal(), **overrides)
    model = compression.build_model(config)
    old_values = snapshots.checkpoint_values(original)
    fresh_values = snapshots.checkpoint_values(model)
    values, dtypes = {}, {}
    for key, fresh in fresh_values.items():
        old, fresh = old_values.get(key), np.asarray(fresh)
        if old is None or fresh.dtype.kind in "OS":
            values[key] = fresh
        elif np.asarray(old).shape != fresh.shape:
            # The hyper-analysis's first kernel, which now also reads y: fresh there.
            values[key] = widening.place(np.asarray(old), fresh)
        else:
            values[key] = np.asarray(old)
        dtypes[key] = str(fresh.dtype)
    snapshots.load_values(model, values, dtypes, "the shared seed-0 codec", "compression")
    heads = [model.hyper_synthesis.mean_conv] + [c.convs[-1] for c in model.slice_contexts]
    for index, layer in enumerate(heads):
        layer.kernel.assign(tf.random.stateless_normal(layer.kernel.shape, [0, index]) * 0.05)
    model.prepare_for_coding()
    return model
