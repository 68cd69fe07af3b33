"""A tiny compression model trained for a few steps: the shared start of the codec tests."""

import dataclasses
import functools

import tensorflow as tf

from zoo.compression import model as compression


def trained_runlocal_codec(seed: int = 0, steps: int = 3, epochs: int = 1, **overrides):
    """The runlocal HyperpriorCodec (with Config `overrides`) after `steps * epochs` steps.

    A new model each call: for tests that change its weights.
    """
    tf.keras.utils.set_random_seed(seed)
    config = dataclasses.replace(compression.Config.runlocal(), **overrides)
    model = compression.build_model(config)
    model.compile(optimizer=compression.optimizer(config))
    history = model.fit(
        compression.train_dataset(config, seed=seed),
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
