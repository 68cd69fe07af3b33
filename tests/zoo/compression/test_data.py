from unittest import mock

import numpy as np
import tensorflow as tf

from zoo.compression import config as compression_config
from zoo.compression import data as compression_data
from zoo.data import photo_sets, photos


class TrainingImagesTest(tf.test.TestCase):
    def test_packaged_photos_trains_on_the_photo_sets_training_split_and_old_configs_do_not(self):
        made = [("made", np.full([70, 90, 3], 7, np.uint8))]
        with mock.patch.object(photo_sets, "training_photos", return_value=made) as split:
            images = compression_data.training_images(
                compression_config.Config(packaged_photos=True)
            )
            old = compression_data.training_images(compression_config.Config())
        self.assertLen(images, 1)
        self.assertAllEqual(images[0], made[0][1])
        split.assert_called_once()  # Only by the packaged_photos config.
        self.assertLen(old, len(photos.TRAINING))


if __name__ == "__main__":
    tf.test.main()
