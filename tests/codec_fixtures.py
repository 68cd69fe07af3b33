"""A tiny compression model trained for a few steps: the shared start of the codec tests."""

import dataclasses

import tensorflow as tf

from zoo import compression


def trained_runlocal_codec(seed: int = 0, steps: int = 3, epochs: int = 1, **overrides):
    """The runlocal HyperpriorCodec (with Config `overrides`) after `steps * epochs` steps."""
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
