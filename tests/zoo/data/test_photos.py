import pathlib
from unittest import mock

import numpy as np
import tensorflow as tf

from zoo.compression import config as compression_config
from zoo.data import photos


class PhotosTest(tf.test.TestCase):
    def test_bundled_photographs_are_rgb8_and_held_out_ones_are_not_trained_on(self):
        for name in photos.BUNDLED:
            with self.subTest(name):
                image = photos.load_bundled(name)
                self.assertEqual(image.dtype, np.uint8)
                self.assertEqual(image.shape[-1], 3)
        self.assertEmpty(set(photos.HELD_OUT) & set(photos.TRAINING))

    def test_debian_photographs_are_downscaled_rgb8_or_name_make_photos(self):
        name = "castle"
        package, path = photos.DEBIAN_PHOTOS[name]
        try:
            present = bool(photos.debian_photo_path(name))
        except FileNotFoundError:
            present = False
        if present:
            image = photos.load_debian_photo(name)
            self.assertEqual(image.dtype, np.uint8)
            self.assertEqual(image.shape[2], 3)
            self.assertLessEqual(min(image.shape[:2]), 1.5 * photos.DEBIAN_PHOTO_SHORT_SIDE)
        missing = {"missing": (package, "/nonexistent/photo.jpg")}
        with mock.patch.dict(photos.DEBIAN_PHOTOS, missing):
            with self.assertRaisesRegex(FileNotFoundError, "'sudo make photos'"):
                photos.load_debian_photo("missing")
        self.assertFalse(set(photos.DEBIAN_PHOTOS) & set(photos.HELD_OUT))

    def test_random_crops_are_seeded(self):
        images = [photos.load_bundled("astronaut")]
        first = next(iter(photos.random_crops(images, 32, 2, seed=1)))
        second = next(iter(photos.random_crops(images, 32, 2, seed=1)))
        self.assertEqual(first.shape, (2, 32, 32, 3))
        self.assertAllEqual(first, second)

    def test_crops_come_from_images_by_area_or_equally_often_by_image(self):
        # A dark 32x32 image beside a bright one with 100 times its area.
        images = [np.zeros([32, 32, 3], np.uint8), np.full([320, 320, 3], 255, np.uint8)]
        for weighting, expected_dark_share in (("area", 1 / 101), ("image", 0.5)):
            with self.subTest(weighting=weighting):
                crops = photos.random_crops(images, 32, 100, seed=3, weighting=weighting)
                batches = [batch.numpy() for batch in crops.take(4)]
                dark = np.mean([crop.max() == 0 for batch in batches for crop in batch])
                self.assertAllClose(dark, expected_dark_share, atol=0.07)

    def test_an_unknown_crop_weighting_is_refused(self):
        with self.assertRaisesRegex(ValueError, "weighting must be one of"):
            photos.random_crops([np.zeros([32, 32, 3], np.uint8)], 32, 1, seed=0, weighting="x")
        with self.assertRaisesRegex(ValueError, "crop_weighting must be one of"):
            compression_config.Config(crop_weighting="x")

    def test_unreadable_and_unsupported_files_are_refused_with_their_name(self):
        from PIL import Image

        folder = pathlib.Path(self.get_temp_dir())
        text = folder / "notes.png"
        text.write_text("not an image")
        with self.assertRaisesRegex(ValueError, "notes.png is not a readable image"):
            photos.read_rgb8(text)
        rgba = f"{folder}/rgba.png"
        Image.fromarray(np.zeros([8, 8, 4], np.uint8)).save(rgba)
        with self.assertRaisesRegex(ValueError, "alpha channel"):
            photos.read_rgb8(rgba)
        deep = f"{folder}/deep.png"
        Image.fromarray(np.zeros([8, 8], np.uint16)).save(deep)
        with self.assertRaisesRegex(ValueError, "16-bit"):
            photos.read_rgb8(deep)
        grey = f"{folder}/grey.png"
        Image.fromarray(np.full([8, 8], 7, np.uint8)).save(grey)
        self.assertAllEqual(photos.read_rgb8(grey), np.full([8, 8, 3], 7, np.uint8))
        with self.assertRaisesRegex(FileNotFoundError, "does not exist"):
            photos.read_rgb8(f"{folder}/missing.png")


if __name__ == "__main__":
    tf.test.main()
