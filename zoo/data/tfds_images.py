"""Random crops from a TensorFlow Datasets image dataset the user has prepared.

`tensorflow-datasets` is optional (not in requirements.lock): a user who trains
on, say, CLIC or COCO installs it and prepares the dataset with `tfds build`.
Nothing is downloaded here: the dataset is read with `download=False`.
"""

from __future__ import annotations

import tensorflow as tf

# Crops per shuffle buffer: enough to mix images, small enough for big photographs.
_SHUFFLE_BUFFER = 256


def _import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise ValueError(
            "Training on a TFDS dataset needs tensorflow-datasets, which is not installed; "
            "run '.venv/bin/pip install tensorflow-datasets' or use an image folder instead."
        ) from error
    return tfds


def load_images(name: str, split: str, seed: int, data_dir: str | None = None) -> tf.data.Dataset:
    """The `image` feature of TFDS dataset `name`, as uint8 RGB `[H, W, 3]`, files shuffled."""
    tfds = _import_tfds()
    try:
        dataset = tfds.load(
            name,
            split=split,
            data_dir=data_dir,
            download=False,
            shuffle_files=True,
            read_config=tfds.ReadConfig(shuffle_seed=seed),
        )
    except Exception as error:  # TFDS raises several types for a missing or unknown dataset.
        raise ValueError(
            f"TFDS dataset {name!r} (split {split!r}) could not be read ({error}); prepare it "
            f"offline first with 'tfds build {name}' and pass its data_dir."
        ) from error
    if not isinstance(dataset.element_spec, dict) or "image" not in dataset.element_spec:
        raise ValueError(f"TFDS dataset {name!r} has no 'image' feature to train on.")

    def to_rgb(example):
        image = tf.convert_to_tensor(example["image"])
        if image.dtype != tf.uint8:
            raise ValueError(f"TFDS dataset {name!r} has {image.dtype.name} images, not uint8.")
        # Greyscale becomes RGB, like image files; other channel counts fail the shape check.
        image = tf.cond(tf.shape(image)[-1] == 1, lambda: tf.tile(image, [1, 1, 3]), lambda: image)
        return tf.ensure_shape(image, [None, None, 3])

    return dataset.map(to_rgb, num_parallel_calls=tf.data.AUTOTUNE)


def random_crops(
    name: str,
    split: str,
    patch_size: int,
    batch_size: int,
    seed: int,
    data_dir: str | None = None,
) -> tf.data.Dataset:
    """Endless seeded batches of uint8 crops `[batch, patch, patch, 3]`, one crop per image.

    Images smaller than the patch on either side are skipped.
    """
    images = load_images(name, split, seed, data_dir)
    images = images.filter(lambda image: tf.reduce_all(tf.shape(image)[:2] >= patch_size))

    def crop(index, image):
        return tf.image.stateless_random_crop(
            image, [patch_size, patch_size, 3], seed=tf.stack([tf.cast(seed, tf.int64), index])
        )

    crops = images.repeat().enumerate().map(crop, num_parallel_calls=tf.data.AUTOTUNE)
    crops = crops.shuffle(_SHUFFLE_BUFFER, seed=seed)
    return crops.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
