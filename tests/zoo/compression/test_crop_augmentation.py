"""Crop augmentation for codec training: scales, flips and rotations, seeded and off by default."""

import numpy as np
import tensorflow as tf

from zoo.compression import config as compression_config
from zoo.compression import data as compression_data
from zoo.data import photos

PATCH = 32


def ramp(size=256):
    """An image whose value grows by one level per column: a crop's slope reads its scale."""
    columns = np.broadcast_to(np.arange(size, dtype=np.uint8)[None, :, None], (size, size, 3))
    return np.ascontiguousarray(columns)


def crops_of(images, count, seed=0, **augmentation):
    dataset = photos.random_crops(images, PATCH, count, seed=seed, **augmentation)
    return next(iter(dataset)).numpy()


def slopes(crops):
    """Mean step in levels per pixel along columns and along rows of each crop (inner part)."""
    inner = crops[:, 4:-4, 4:-4, 0].astype(np.float64)
    return np.diff(inner, axis=2).mean(axis=(1, 2)), np.diff(inner, axis=1).mean(axis=(1, 2))


class CropAugmentationTest(tf.test.TestCase):
    def test_augmented_crops_are_uint8_patches_and_seeded(self):
        images = [photos.load_bundled("astronaut"), photos.load_bundled("chelsea")]
        augmentation = {"scale_range": (0.3, 1.0), "flips": True, "rotations": True}
        first = crops_of(images, 6, seed=5, **augmentation)
        self.assertEqual(first.shape, (6, PATCH, PATCH, 3))
        self.assertEqual(first.dtype, np.uint8)
        self.assertAllEqual(first, crops_of(images, 6, seed=5, **augmentation))
        self.assertNotAllEqual(first, crops_of(images, 6, seed=6, **augmentation))

    def test_without_augmentation_the_crops_are_the_unaugmented_stream(self):
        # Old configs must train on exactly the crops they did: scale 1, no flip, no turn.
        images = [ramp()]
        plain = crops_of(images, 8, seed=3)
        self.assertAllEqual(plain, crops_of(images, 8, seed=3, scale_range=(1.0, 1.0)))
        across, down = slopes(plain)
        self.assertAllClose(across, np.ones(8), atol=1e-12)
        self.assertAllClose(down, np.zeros(8), atol=1e-12)

    def test_scales_are_drawn_over_the_whole_range_and_no_further(self):
        # A crop downscaled by s shows the ramp's slope 1 / s (within resampling's rounding).
        across, down = slopes(crops_of([ramp()], 200, seed=1, scale_range=(0.25, 0.5)))
        self.assertAllClose(down, np.zeros_like(down), atol=1e-12)
        self.assertAllInRange(across, 2.0 - 0.1, 4.0 + 0.1)
        self.assertLess(across.min(), 2.3)
        self.assertGreater(across.max(), 3.6)

    def test_an_image_too_small_for_the_lowest_scale_is_cropped_whole(self):
        # 64 px cannot give a 32 px crop at a scale below 0.5.
        across, _ = slopes(crops_of([ramp(64)], 20, seed=2, scale_range=(0.1, 0.2)))
        self.assertAllClose(across, np.full_like(across, 2.0), atol=0.1)

    def test_flips_and_rotations_turn_crops_every_way(self):
        across, down = slopes(crops_of([ramp()], 64, seed=4, flips=True, rotations=True))
        directions = {
            (round(a), round(d)) for a, d in zip(across.tolist(), down.tolist(), strict=True)
        }
        self.assertEqual(directions, {(1, 0), (-1, 0), (0, 1), (0, -1)})

    def test_a_bad_scale_range_is_refused_with_the_fix(self):
        for scale_range in ((0.0, 1.0), (0.5, 0.25), (0.5, 2.0)):
            with self.subTest(scale_range=scale_range):
                with self.assertRaisesRegex(ValueError, "0 < low <= high <= 1"):
                    photos.random_crops([ramp()], PATCH, 1, seed=0, scale_range=scale_range)
        with self.assertRaisesRegex(ValueError, "crop_scale_low and crop_scale_high"):
            compression_config.Config(crop_scale_low=0.5, crop_scale_high=0.25)

    def test_the_config_turns_augmentation_on_and_off_by_default(self):
        self.assertFalse(compression_data.crop_augmentation(compression_config.Config()))
        config = compression_config.Config.runlocal()
        config.crop_scale_low, config.crop_flips, config.crop_rotations = 0.5, True, True
        self.assertTrue(compression_data.crop_augmentation(config))
        batch = next(iter(compression_data.train_dataset(config, seed=0))).numpy()
        self.assertEqual(batch.shape, (config.batch_size, config.patch_size, config.patch_size, 3))
        config.tfds_name = "some_dataset"
        with self.assertRaisesRegex(ValueError, "applies to photographs"):
            compression_data.train_dataset(config, seed=0)


if __name__ == "__main__":
    tf.test.main()
