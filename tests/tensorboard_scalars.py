"""Reads the scalars and images of a TensorBoard log directory, for tests."""

import pathlib

import numpy as np
import tensorflow as tf


def read_scalars(log_dir) -> dict[str, dict[int, float]]:
    """`{tag: {step: value}}` of every scalar summary in `log_dir`'s event files."""
    scalars: dict[str, dict[int, float]] = {}
    for path in sorted(pathlib.Path(log_dir).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.HasField("tensor") and not value.tensor.string_val:
                    number = float(tf.make_ndarray(value.tensor))
                elif value.HasField("simple_value"):
                    number = float(value.simple_value)
                else:
                    continue
                scalars.setdefault(value.tag, {})[event.step] = number
    return scalars


def read_images(log_dir) -> dict[str, dict[int, np.ndarray]]:
    """`{tag: {step: uint8 image [H, W, C]}}` of every image summary in `log_dir`."""
    images: dict[str, dict[int, np.ndarray]] = {}
    for path in sorted(pathlib.Path(log_dir).glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                strings = value.tensor.string_val
                # TF2 image summaries are string tensors [width, height, png, ...].
                if len(strings) >= 3 and strings[2][:4] == b"\x89PNG":
                    images.setdefault(value.tag, {})[event.step] = tf.image.decode_png(
                        strings[2]
                    ).numpy()
    return images
