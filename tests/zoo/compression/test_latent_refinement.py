import numpy as np
import tensorflow as tf

from tests.codec_fixtures import SEED_0, shared_runlocal_codec
from zoo.compression import codec, codec_format, latent_refinement
from zoo.data import photos


class LatentRefinementTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model, _ = shared_runlocal_codec(**SEED_0)
        cls.image = photos.load_bundled("coffee")[:70, :100]
        cls.plain = codec.Codec(cls.model)
        cls.refining = codec.Codec(cls.model, refine_steps=12)

    def _coded_objective(self, images, latents, lmbda):
        terms = self.model.coded_terms(images, *latents, lmbda)
        return terms["rate"] + lmbda * terms["distortion"]

    def test_refinement_lowers_each_images_coded_objective(self):
        images = tf.constant(photos.load_bundled("astronaut")[None, :128, :128].repeat(2, axis=0))
        images = tf.concat([images[:1], images[1:, ::-1]], axis=0)  # Two different images.
        lmbda = tf.constant([0.002, 0.1])
        before = self._coded_objective(images, self.model.latents(images, lmbda), lmbda)
        refined = latent_refinement.refine_latents(
            self.model, images, lmbda, steps=60, check_every=5
        )
        after = self._coded_objective(images, refined, lmbda)
        # By a margin, not a rounding error: 0.1% and 0.6% on this barely trained model.
        self.assertAllLessEqual(after / before, 0.9995)

    def test_refinement_is_repeatable(self):
        images = tf.constant(photos.load_bundled("chelsea")[None, :64, :128])
        lmbda = tf.constant([0.01])
        first = latent_refinement.refine_latents(self.model, images, lmbda, steps=5)
        second = latent_refinement.refine_latents(self.model, images, lmbda, steps=5)
        self.assertAllEqual(first[0], second[0])
        self.assertAllEqual(first[1], second[1])

    def test_zero_steps_keep_the_encoders_latents(self):
        images = tf.constant(photos.load_bundled("chelsea")[None, :64, :64])
        lmbda = tf.constant([0.01])
        refined = latent_refinement.refine_latents(self.model, images, lmbda, steps=0)
        for kept, encoded in zip(refined, self.model.latents(images, lmbda), strict=True):
            self.assertAllEqual(kept, encoded)

    def test_refined_files_decode_to_the_refined_reconstruction_exactly(self):
        for lmbda in (0.0018, 0.18):
            with self.subTest(lmbda=lmbda):
                data = self.refining.encode(self.image, lmbda)
                decoded = self.plain.decode(data)  # Any decoder reads a refined file.
                self.assertAllEqual(decoded, self.refining.reconstruct(self.image, lmbda))

    def test_refinement_changes_what_the_file_holds(self):
        # This barely trained codec codes a few bytes per image; at the top lambda, on a
        # busy crop, twelve steps find better latents than the encoder's.
        image, lmbda = photos.load_bundled("astronaut")[:128, :128], 0.18
        self.assertNotEqual(self.refining.encode(image, lmbda), self.plain.encode(image, lmbda))

    def test_the_rate_estimate_describes_the_refined_file(self):
        # As for the encoder's own latents (tests/zoo/compression/test_model.py): within 15% on this
        # barely trained model, whose files hold a few hundred bits.
        image = photos.load_bundled("coffee")
        data = self.refining.encode(image, 0.18)
        actual = 8 * (len(data) - self.refining.header_size)
        self.assertAllClose(self.refining.estimated_bits(image, 0.18), actual, rtol=0.15)

    def test_negative_or_fractional_steps_are_refused(self):
        for steps in (-1, 2.5, True, "5", float("nan")):
            with self.subTest(steps=steps):
                with self.assertRaisesRegex(ValueError, "refine steps must be a whole number"):
                    codec.Codec(self.model, refine_steps=steps)

    def test_refinement_keeps_the_image_size(self):
        header, _, _ = codec_format.unpack(self.refining.encode(self.image, 0.01))
        self.assertEqual((header.height, header.width), self.image.shape[:2])
        self.assertEqual(
            self.refining.decode(self.refining.encode(self.image, 0.01)).dtype, np.uint8
        )
