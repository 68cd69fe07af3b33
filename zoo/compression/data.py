"""The compression task's data: random crops to train on, held-out photographs to evaluate."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from zoo.compression.codec_format import STRIDE
from zoo.compression.config import Config
from zoo.data import photo_sets, photos


def training_images(config: Config) -> list[np.ndarray]:
    """The user's image folder if configured, else the bundled training photographs.

    With `debian_photos`, also the Debian-packaged ones (`make photos`); with
    `packaged_photos`, the training split of zoo/data/photo_sets.py (which has both).
    """
    if config.image_folder:
        return photos.load_folder(config.image_folder)
    if config.packaged_photos:
        return [image for _, image in photo_sets.training_photos()]
    images = [photos.load_bundled(name) for name in photos.TRAINING]
    if config.debian_photos:
        images += [photos.load_debian_photo(name) for name in photos.DEBIAN_PHOTOS]
    return images


def train_dataset(config: Config, seed: int) -> tf.data.Dataset:
    """Endless batches of random uint8 crops: of a TFDS dataset if configured, else of photos."""
    if config.tfds_name:
        if config.image_folder:
            raise ValueError("Set image_folder or tfds_name, not both.")
        if crop_augmentation(config):
            raise ValueError(
                "Crop augmentation (crop_scale_low/high, crop_flips, crop_rotations) applies to "
                "photographs and image folders; unset it or tfds_name."
            )
        from zoo.data import tfds_images

        return tfds_images.random_crops(
            config.tfds_name,
            config.tfds_split,
            config.patch_size,
            config.batch_size,
            seed,
            data_dir=config.tfds_data_dir,
        )
    return photos.random_crops(
        training_images(config),
        config.patch_size,
        config.batch_size,
        seed,
        weighting=config.crop_weighting,
        scale_range=(config.crop_scale_low, config.crop_scale_high),
        flips=config.crop_flips,
        rotations=config.crop_rotations,
    )


def crop_augmentation(config: Config) -> bool:
    """Whether `config` turns on any crop augmentation."""
    return (
        (config.crop_scale_low, config.crop_scale_high) != (1.0, 1.0)
        or config.crop_flips
        or config.crop_rotations
    )


def evaluation_images(limit: int | None = None) -> list[np.ndarray]:
    """The held-out photographs (whole images, any size)."""
    images = [photos.load_bundled(name) for name in photos.HELD_OUT]
    return images if limit is None else images[:limit]


def evaluation_set() -> dict[str, dict[str, np.ndarray]]:
    """The codec's evaluation set: subset -> photograph name -> whole uint8 RGB photograph.

    zoo/data/photo_sets.py's EVALUATION: "sporco" (its wheel's lossless test images),
    "held_out" (whole photographs of the new sources, never trained or tuned on) and "busy"
    (coffee and china, the small, heavily downsampled pair that was the project's held-out
    set), each reported on its own and in the set's mean. Needs `make photos`.
    """
    return {subset: dict(named) for subset, named in photo_sets.evaluation_subsets().items()}


def validation_set() -> dict[str, dict[str, np.ndarray]]:
    """The validation split (one subset), for training choices: never the evaluation set."""
    return {"validation": dict(photo_sets.validation_photos())}


def loss_term_images(limit: int | None = None) -> np.ndarray:
    """The batch the loss terms are evaluated on along a weight grid.

    Centre crops of the held-out photographs, all of the largest size that fits every
    one of them with both sides a multiple of `STRIDE` (the model's terms need that;
    the codec itself pads whole images instead, `zoo.compression.codec`).
    """
    images = evaluation_images(limit)
    height = min(image.shape[0] for image in images) // STRIDE * STRIDE
    width = min(image.shape[1] for image in images) // STRIDE * STRIDE
    crops = []
    for image in images:
        top, left = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
        crops.append(image[top : top + height, left : left + width])
    return np.stack(crops)
