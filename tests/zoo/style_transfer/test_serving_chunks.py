"""`stylize` runs a batch in chunks of pixels; every image comes out as the network makes it."""

from unittest import mock

import tensorflow as tf

from zoo.style_transfer import config as style_config
from zoo.style_transfer import model as style_transfer
from zoo.style_transfer import serving as style_serving


class StylizeInChunksTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.model = style_transfer.build_model(style_config.Config.runlocal())

    def stylize(self, images, weights, chunk_pixels):
        """`stylize`'s output, how many calls it made to the network and the largest batch
        of one call (counted in the graph: the loop's body is traced once, run per chunk)."""
        calls = tf.Variable(0)
        largest = tf.Variable(0)
        network = self.model.call

        def counted(images, *args, **kwargs):
            calls.assign_add(1)
            largest.assign(tf.maximum(largest, tf.shape(images)[0]))
            return network(images, *args, **kwargs)

        with mock.patch.object(style_serving, "CHUNK_PIXELS", chunk_pixels):
            module = style_serving.StyleTransferServing(self.model)
            with mock.patch.object(self.model, "call", counted):
                stylized = module.stylize(images, weights)["stylized"]
        return stylized, int(calls.numpy()), int(largest.numpy())

    def test_a_batch_in_uneven_chunks_matches_the_network_image_by_image(self):
        images = tf.cast(
            tf.random.stateless_uniform([5, 16, 12, 3], [0, 6], 0, 256, tf.int32), tf.uint8
        )
        weights = tf.constant(
            [
                [1.0, 1.0, 0, 0, 0],
                [0.1, 0, 2.0, 0, 0],
                [10.0, 0, 0, 0.5, 0.5],
                [1, 0, 0, 0, 3.0],
                [0.3, 0.25, 0.25, 0.25, 0.25],
            ]
        )
        full = tf.concat([weights, tf.fill([5, 1], self.model.config.tv_weight)], 1)
        expected = self.model(tf.cast(images, tf.float32), full, training=False)
        # Two images a chunk: chunks of 2, 2 and 1.
        chunked, calls, largest = self.stylize(images, weights, chunk_pixels=2 * 16 * 12)
        self.assertEqual((calls, largest), (3, 2))
        self.assertAllEqual(chunked.shape, images.shape)
        # Rounding to uint8 may land a float's last bits either side of .5.
        self.assertAllClose(tf.cast(chunked, tf.float32), tf.round(expected), atol=1.0)
        whole, calls, largest = self.stylize(images, weights, chunk_pixels=1 << 30)
        self.assertEqual((calls, largest), (1, 5))
        self.assertAllClose(tf.cast(chunked, tf.float32), tf.cast(whole, tf.float32), atol=1.0)

    def test_images_larger_than_a_chunk_go_one_at_a_time(self):
        images = tf.fill([3, 16, 16, 3], tf.constant(200, tf.uint8))
        weights = tf.constant([[1.0, 1.0, 0, 0, 0]] * 3)
        one_pixel, calls, largest = self.stylize(images, weights, chunk_pixels=1)
        self.assertEqual((calls, largest), (3, 1))
        self.assertAllEqual(one_pixel.shape, images.shape)
        self.assertAllClose(one_pixel[0], one_pixel[2], atol=0)  # Same image, same weights.


if __name__ == "__main__":
    tf.test.main()
