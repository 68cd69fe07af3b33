import sys
import types
from unittest import mock

import numpy as np
import tensorflow as tf

from zoo.compression import config as compression_config
from zoo.compression import data as compression_data
from zoo.data import tfds_images


def _fake_tfds(images, loaded_with):
    """A stand-in for tensorflow_datasets whose `load` serves `images` and records its call."""

    def load(name, **kwargs):
        loaded_with.update(name=name, **kwargs)
        if name != "my_photos":
            raise Exception(f"Dataset {name} not found.")  # As TFDS does.
        return tf.data.Dataset.from_generator(
            lambda: ({"image": image, "label": 0} for image in images),
            output_signature={
                "image": tf.TensorSpec([None, None, None], tf.uint8),
                "label": tf.TensorSpec([], tf.int32),
            },
        )

    return types.SimpleNamespace(load=load, ReadConfig=lambda **kwargs: kwargs)


class TfdsImagesTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        rng = np.random.default_rng(0)
        self.images = [
            rng.integers(0, 256, (80, 90, 3), dtype=np.uint8),
            rng.integers(0, 256, (70, 64, 1), dtype=np.uint8),  # Greyscale.
            rng.integers(0, 256, (40, 200, 3), dtype=np.uint8),  # Smaller than the patch.
        ]
        self.loaded_with = {}
        fake = _fake_tfds(self.images, self.loaded_with)
        self.enterContext(mock.patch.dict(sys.modules, {"tensorflow_datasets": fake}))

    def test_crops_are_rgb_patches_and_nothing_is_downloaded(self):
        batch = next(iter(tfds_images.random_crops("my_photos", "train", 64, 4, seed=0)))
        self.assertEqual(batch.shape, (4, 64, 64, 3))
        self.assertEqual(batch.dtype, tf.uint8)
        self.assertFalse(self.loaded_with["download"])
        self.assertEqual(self.loaded_with["split"], "train")

    def test_crops_are_seeded(self):
        def first(seed):
            return next(iter(tfds_images.random_crops("my_photos", "train", 64, 4, seed=seed)))

        self.assertAllEqual(first(3), first(3))
        self.assertNotAllEqual(first(3), first(4))

    def test_the_compression_task_trains_from_a_tfds_name(self):
        config = compression_config.Config.runlocal()
        config.tfds_name = "my_photos"
        batch = next(iter(compression_data.train_dataset(config, seed=0)))
        self.assertEqual(batch.shape, (config.batch_size, config.patch_size, config.patch_size, 3))

    def test_an_unprepared_dataset_is_refused_with_the_fix(self):
        with self.assertRaisesRegex(ValueError, "'tfds build nope'"):
            tfds_images.random_crops("nope", "train", 64, 4, seed=0)

    def test_a_missing_tensorflow_datasets_is_refused_with_the_fix(self):
        with mock.patch.dict(sys.modules, {"tensorflow_datasets": None}):
            with self.assertRaisesRegex(ValueError, "pip install tensorflow-datasets"):
                tfds_images.random_crops("my_photos", "train", 64, 4, seed=0)
