import contextlib
import dataclasses
import io
import json
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf

from tests.codec_fixtures import SEED_0, SEED_1_WIDE_LATENTS, shared_runlocal_codec
from zoo.compression import codec, codec_eval_lib, codec_format
from zoo.compression import config as compression_config
from zoo.compression import model as compression
from zoo.data import photos

keras = tf.keras


class HyperpriorCodecTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model, cls.history = shared_runlocal_codec(**SEED_0)
        cls.codec = codec.Codec(cls.model)
        cls.image = photos.load_bundled("coffee")[:70, :100]

    def test_training_tracks_rate_and_distortion(self):
        self.assertEqual(set(self.history.history), {"loss", "rate", "distortion"})
        for values in self.history.history.values():
            self.assertTrue(np.all(np.isfinite(values)))

    def test_training_noise_bits_equal_tfc_entropy_models_on_their_own_noise(self):
        # The codec draws training noise from its own generator and computes the bits with
        # `noisy_bits`; on the noise tfc draws itself, the two must agree exactly.
        latent_model, side_model = self.model._entropy_models(compression=False)
        z = tf.random.stateless_normal([2, 4, 4, self.model.num_filters], seed=[1, 2])
        z_tilde, side_bits = side_model(z, training=True)
        self.assertAllClose(compression.noisy_bits(side_model, z_tilde), side_bits, rtol=1e-6)
        latent_shape = [2, 4, 4, self.model.num_latent_filters]
        y = 3.0 * tf.random.stateless_normal(latent_shape, seed=[3, 4])
        indexes = tf.random.stateless_uniform(y.shape, [5, 6], 0.0, self.model.num_scales - 1.0)
        y_tilde, bits = latent_model(y, indexes, training=True)
        self.assertAllClose(compression.noisy_bits(latent_model, y_tilde, indexes), bits, rtol=1e-6)
        self.assertNotAllClose(y_tilde, y)  # Training really perturbs.

    def test_loss_terms_are_per_image_bits_per_pixel_and_mse(self):
        images = tf.constant(photos.load_bundled("coffee")[None, :64, :128])
        terms = self.model.compute_loss_terms(images, None, tf.constant([[1.0, 0.01]]), False)
        self.assertEqual(terms["rate"].shape, (1,))
        self.assertAllGreater(terms["rate"], 0.0)
        self.assertAllInRange(terms["distortion"], 0.0, 255.0**2)

    def test_decoding_reproduces_the_quantized_reconstruction_exactly(self):
        for lmbda in (0.0018, 0.02, 0.18):
            with self.subTest(lmbda=lmbda):
                data = self.codec.encode(self.image, lmbda)
                decoded = self.codec.decode(data)
                self.assertEqual(decoded.shape, self.image.shape)
                self.assertEqual(decoded.dtype, np.uint8)
                self.assertAllEqual(decoded, self.codec.reconstruct(self.image, lmbda))

    def test_the_rate_estimate_tracks_the_file_size(self):
        # The estimate is computed under the coder's own integer scale indexes. On a
        # trained model they agree within 1% (experiments/README.md); this barely trained
        # one codes a few hundred bits, where the range coder's own rounding shows, so the
        # test allows 15% and catches the 30-50% gaps a mismatched prior gives.
        image = photos.load_bundled("coffee")
        for lmbda in (0.0018, 0.18):
            with self.subTest(lmbda=lmbda):
                actual = 8 * (len(self.codec.encode(image, lmbda)) - self.codec.header_size)
                self.assertAllClose(self.codec.estimated_bits(image, lmbda), actual, rtol=0.15)

    def test_file_header_records_lambda_and_size(self):
        header, side, latent = codec_format.unpack(self.codec.encode(self.image, 0.01))
        # Integer-index codecs code lambda on their grid of levels, 0.45% apart.
        self.assertEqual(header.version, codec_format.INTEGER_INDEX_VERSION)
        self.assertEqual(header.lmbda, codec_format.snap_lmbda(0.01, 0.0018, 0.18))
        self.assertAllClose(header.lmbda, 0.01, rtol=0.003)
        self.assertEqual(header.fingerprint, self.model.coding_fingerprint())
        self.assertEqual((header.height, header.width), (70, 100))
        self.assertEqual(header.latent_shape, (8, 8))  # 70x100 pads to 128x128.
        self.assertEqual(header.side_shape, (2, 2))
        self.assertNotEmpty(side)
        self.assertNotEmpty(latent)

    def test_lambda_outside_the_trained_range_is_refused_with_the_range(self):
        for lmbda in (0.001, 0.5, float("nan"), float("inf"), -0.01):
            with self.subTest(lmbda=lmbda):
                with self.assertRaisesRegex(ValueError, r"\[0.0018, 0.18\]"):
                    self.codec.encode(self.image, lmbda)

    def test_images_of_the_wrong_kind_are_refused(self):
        cases = {
            "greyscale": np.zeros([64, 64], np.uint8),
            "rgba": np.zeros([64, 64, 4], np.uint8),
            "sixteen_bit": np.zeros([64, 64, 3], np.uint16),
            "float": np.zeros([64, 64, 3], np.float32),
            "empty": np.zeros([0, 64, 3], np.uint8),
        }
        for name, image in cases.items():
            with self.subTest(name), self.assertRaises(ValueError):
                self.codec.encode(image, 0.01)

    def test_corrupted_files_give_a_format_error(self):
        data = self.codec.encode(self.image, 0.01)
        rng = np.random.default_rng(0)
        size = self.codec.header_size
        corruptions = [data[:n] for n in (0, 3, 41, 42, size - 1, size, len(data) - 1)]
        corruptions += [b"\x89PNG\r\n\x1a\n" + bytes(100), data + b"\0"]
        for _ in range(300):
            flipped = bytearray(data)
            position = rng.integers(len(flipped))
            flipped[position] ^= 1 << rng.integers(8)
            corruptions.append(bytes(flipped))
        for corrupted in corruptions:
            with self.assertRaises(codec_format.FormatError):
                self.codec.decode(corrupted)

    def test_forged_payloads_with_a_valid_checksum_never_crash_the_range_decoder(self):
        data = self.codec.encode(self.image, 0.01)
        header_size = self.codec.header_size
        crc_offset = header_size - 4
        rng = np.random.default_rng(1)
        for case in range(60):
            forged = bytearray(data)
            if case % 2:
                position = rng.integers(header_size, len(forged))
                forged[position] ^= 1 << rng.integers(8)
            else:
                garbage = rng.integers(0, 256, len(forged) - header_size, dtype=np.uint8)
                forged[header_size:] = garbage.tobytes()
            crc = zlib.crc32(bytes(forged[header_size:]), zlib.crc32(bytes(forged[:crc_offset])))
            forged[crc_offset:header_size] = struct.pack("<I", crc)
            try:
                decoded = self.codec.decode(bytes(forged))
            except codec_format.FormatError:
                continue
            self.assertEqual(decoded.shape, self.image.shape)  # Garbage, but well-formed.

    def test_a_forged_huge_image_is_refused_before_decoding(self):
        data = bytearray(self.codec.encode(self.image, 0.01))
        data[14:22] = np.array([100_000, 100_000], "<u4").tobytes()
        with self.assertRaisesRegex(codec_format.FormatError, "outside 1..16384"):
            self.codec.decode(bytes(data))


class CodecEvaluationTest(tf.test.TestCase):
    def test_pillow_sweeps_trade_bits_for_quality(self):
        images = [photos.load_bundled("coffee")[:192, :192]]
        rows = codec_eval_lib.evaluate_pillow(images, "JPEG", (10, 50, 90))
        self.assertEqual([r["quality"] for r in rows], [10, 50, 90])
        self.assertAllGreater(np.diff([r["bpp"] for r in rows]), 0.0)
        self.assertAllGreater(np.diff([r["psnr"] for r in rows]), 0.0)
        self.assertBetween(rows[-1]["ms_ssim"], 0.9, 1.0)

    def test_codec_rows_take_bits_per_pixel_from_the_file_size(self):
        keras.utils.set_random_seed(0)
        model = compression.build_model(compression_config.Config.runlocal())
        yoto = codec.Codec(model)
        image = photos.load_bundled("coffee")[:64, :96]
        (row,) = codec_eval_lib.evaluate_codec(yoto, [image], [0.01])
        expected_bpp = 8 * len(yoto.encode(image, 0.01)) / (64 * 96)
        self.assertAllClose(row["bpp"], expected_bpp)
        # The estimate counts this codec's header (50 bytes in version 2) like the file.
        estimated = yoto.estimated_bits(image, 0.01) + 8 * yoto.header_size
        self.assertAllClose(row["estimated_bpp"], estimated / (64 * 96))
        self.assertEqual(yoto.header_size, 50)
        self.assertEqual(row["lmbda"], 0.01)
        self.assertTrue(np.isnan(row["ms_ssim"]))  # Too small for five scales.

    def test_bd_rates_compare_one_curve_with_every_other(self):
        curve = [{"bpp": b, "psnr": p} for b, p in ((0.1, 30), (0.2, 32), (0.4, 34), (0.8, 36))]
        cheaper = [{"bpp": r["bpp"] / 2, "psnr": r["psnr"]} for r in curve]
        results = codec_eval_lib.bd_rates({"JPEG": curve, "yoto": cheaper}, "yoto")
        self.assertEqual(set(results), {"JPEG"})
        self.assertAllClose(results["JPEG"], -50.0, atol=1e-6)

    def test_bd_rates_leave_out_an_anchor_whose_psnr_range_does_not_overlap(self):
        curve = [{"bpp": b, "psnr": p} for b, p in ((0.1, 30), (0.2, 32), (0.4, 34), (0.8, 36))]
        far_above = [{"bpp": r["bpp"], "psnr": r["psnr"] + 10} for r in curve]
        cheaper = [{"bpp": r["bpp"] / 2, "psnr": r["psnr"]} for r in curve]
        curves = {"JPEG": curve, "WebP": far_above, "yoto": cheaper}
        with contextlib.redirect_stderr(io.StringIO()) as stderr:
            results = codec_eval_lib.bd_rates(curves, "yoto")
        self.assertEqual(set(results), {"JPEG"})
        self.assertIn("yoto vs WebP", stderr.getvalue())
        self.assertIn("do not overlap", stderr.getvalue())

    # Slow: trains fixed-lambda codecs; the YOTO curve's rows are tested fast above.
    @pytest.mark.slow
    def test_fixed_lambda_codecs_form_one_curve_each_at_its_own_lambda(self):
        keras.utils.set_random_seed(0)
        image = photos.load_bundled("coffee")[:64, :64]
        fixed = [
            codec.Codec(compression.build_model(compression_config.Config.runlocal(), seed=i))
            for i in range(2)
        ]
        for i, lmbda in enumerate((0.05, 0.002)):
            fixed[i].lmbda_range = (lmbda, lmbda)  # As a --config=fixed_lmbda run records it.
        rows = codec_eval_lib.evaluate_fixed_codecs(fixed, [image])
        self.assertEqual([row["lmbda"] for row in rows], [0.002, 0.05])
        yoto = codec.Codec(compression.build_model(compression_config.Config.runlocal()))
        with self.assertRaisesRegex(ValueError, "trained at one lambda"):
            codec_eval_lib.evaluate_fixed_codecs([yoto], [image])

    def test_monotonicity_is_judged_in_lambda_order(self):
        rows = [{"lmbda": 0.1, "bpp": 2.0}, {"lmbda": 0.01, "bpp": 1.0}, {"lmbda": 1.0, "bpp": 3.0}]
        self.assertTrue(codec_eval_lib.rises_with_lambda(rows, "bpp"))
        rows[2]["bpp"] = 2.0
        self.assertFalse(codec_eval_lib.rises_with_lambda(rows, "bpp"))


class _CodecVariant:
    """Mixin: a runlocal codec with the subclass's Config `OVERRIDES` still decodes exactly."""

    OVERRIDES: dict = {}
    SEED = 0
    TRAINING_STEPS = 3

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.model, _ = shared_runlocal_codec(
            seed=cls.SEED, steps=cls.TRAINING_STEPS, **cls.OVERRIDES
        )
        cls.codec = codec.Codec(cls.model)
        cls.image = photos.load_bundled("coffee")[:70, :100]

    def test_decoding_reproduces_the_quantized_reconstruction_exactly(self):
        for lmbda in (0.0018, 0.02, 0.18):
            with self.subTest(lmbda=lmbda):
                decoded = self.codec.decode(self.codec.encode(self.image, lmbda))
                self.assertAllEqual(decoded, self.codec.reconstruct(self.image, lmbda))


# Slow: a codec of its own (legacy float indexes, off since integer indexes became the default).
@pytest.mark.slow
class FloatIndexCodecTest(_CodecVariant, tf.test.TestCase):
    """A codec with the float hyper-synthesis (runs written before integer indexes existed)."""

    OVERRIDES = {"integer_entropy_parameters": False}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integer_model, _ = shared_runlocal_codec(**SEED_0)
        cls.integer_codec = codec.Codec(cls.integer_model)
        cls.float_file = cls.codec.encode(cls.image, 0.01)
        cls.integer_file = cls.integer_codec.encode(cls.image, 0.01)

    def test_it_writes_version_1_files_at_the_lambda_it_is_given(self):
        header, _, _ = codec_format.unpack(self.float_file)
        self.assertEqual(header.version, codec_format.FLOAT_INDEX_VERSION)
        self.assertIsNone(header.fingerprint)
        self.assertEqual(header.lmbda, 0.01)
        self.assertIsNone(self.model.coding_fingerprint())

    def test_each_kind_of_codec_refuses_the_other_kinds_files_saying_which_wrote_them(self):
        with self.assertRaisesRegex(codec_format.FormatError, "written by a codec with a float"):
            self.integer_codec.decode(self.float_file)
        with self.assertRaisesRegex(codec_format.FormatError, "written by a codec with integer"):
            self.codec.decode(self.integer_file)

    def test_a_file_from_another_integer_model_is_refused_by_its_fingerprint(self):
        other, _ = shared_runlocal_codec(**SEED_1_WIDE_LATENTS)
        other_codec = codec.Codec(other)
        self.assertNotEqual(other_codec.fingerprint, self.integer_codec.fingerprint)
        with self.assertRaisesRegex(codec_format.FormatError, "written by another model"):
            other_codec.decode(self.integer_file)

    def test_a_forged_fingerprint_or_off_grid_lambda_with_a_valid_checksum_is_refused(self):
        header, side, latent = codec_format.unpack(self.integer_file)
        forged_fingerprint = codec_format.pack(
            header.lmbda, header.height, header.width, side, latent, fingerprint=bytes(8)
        )
        with self.assertRaisesRegex(codec_format.FormatError, "written by another model"):
            self.integer_codec.decode(forged_fingerprint)
        off_grid = codec_format.pack(
            header.lmbda * 1.001, header.height, header.width, side, latent, header.fingerprint
        )
        with self.assertRaisesRegex(codec_format.FormatError, "not on this model's lambda grid"):
            self.integer_codec.decode(off_grid)


# Slow: a codec of its own for a non-default option (latent_gain_exponent).
@pytest.mark.slow
class LatentGainTest(_CodecVariant, tf.test.TestCase):
    OVERRIDES = {"latent_gain_exponent": 0.5}

    def test_the_latents_scale_with_lambda_over_the_reference_to_the_exponent(self):
        images = tf.constant(photos.load_bundled("coffee")[None, :64, :64], tf.float32)
        conditioning = self.model._condition(tf.constant([[1.0, 0.018]]))
        at_reference = self.model.analyse(images, conditioning, tf.constant([0.018]))
        at_high = self.model.analyse(images, conditioning, tf.constant([0.18]))
        # Same conditioning, so only the gain differs: (0.18 / 0.018) ** 0.5.
        self.assertAllClose(at_high, at_reference * 10**0.5, rtol=1e-5, atol=1e-5)
        self.assertGreater(float(tf.reduce_max(tf.abs(at_reference))), 0.0)

    def test_a_negative_or_non_finite_exponent_is_refused(self):
        for exponent in (-0.5, float("nan"), float("inf")):
            with self.subTest(exponent=exponent):
                with self.assertRaisesRegex(ValueError, "latent_gain_exponent must be"):
                    compression_config.Config(latent_gain_exponent=exponent)


class LatentChannelsTest(_CodecVariant, tf.test.TestCase):
    """A codec whose latents have more channels than its transforms (the paper's M > N)."""

    # The seed-1 codec the export tests read too: one training fewer per session.
    SEED = SEED_1_WIDE_LATENTS["seed"]
    TRAINING_STEPS = SEED_1_WIDE_LATENTS["steps"]
    OVERRIDES = {"num_latent_filters": SEED_1_WIDE_LATENTS["num_latent_filters"]}

    def test_latents_have_num_latent_filters_channels_and_hyper_latents_num_filters(self):
        images = tf.constant(photos.load_bundled("coffee")[None, :128, :64], tf.float32)
        conditioning = self.model._condition(tf.constant([[1.0, 0.01]]))
        y = self.model.analyse(images, conditioning, tf.constant([0.01]))
        z = self.model._hyper_analyse(y, conditioning)
        self.assertEqual(y.shape, (1, 8, 4, 12))
        self.assertEqual(z.shape, (1, 2, 1, 8))
        z_hat = tf.round(z)
        indexes = self.model._scale_indexes(z_hat, conditioning, tf.constant([0.01]))
        self.assertEqual(indexes.shape, y.shape)


class CodecConfigTest(tf.test.TestCase):
    def test_a_codec_rebuilt_from_its_saved_config_has_the_same_config_and_checkpoint_keys(self):
        config = dataclasses.replace(
            compression_config.Config.runlocal(),
            entropy_model="channel_context",
            context_slices=2,
            context_filters=8,
            learning_rate_drops=(3,),
        )
        model = compression.build_model(config, seed=3)
        # Through JSON, as Keras writes it: tuples come back as lists.
        saved = json.loads(json.dumps(model.get_config()))
        rebuilt = compression.HyperpriorCodec.from_config(saved)
        self.assertEqual(rebuilt.config, config)
        self.assertEqual(rebuilt.seed, 3)
        self.assertEqual(rebuilt.num_latent_filters, config.num_filters)
        rebuilt(tf.zeros([1, codec_format.STRIDE, codec_format.STRIDE, 3]))

        def checkpoint_keys(codec, name):
            prefix = tf.train.Checkpoint(model=codec).write(f"{self.get_temp_dir()}/{name}")
            return tf.train.list_variables(prefix)

        self.assertEqual(checkpoint_keys(rebuilt, "rebuilt"), checkpoint_keys(model, "original"))


class LearningRateTest(tf.test.TestCase):
    def test_the_learning_rate_drops_tenfold_after_each_configured_step(self):
        config = compression_config.Config(learning_rate=1e-3, learning_rate_drops=(3, 5))
        optimizer = compression.optimizer(config)
        variable = tf.Variable(1.0)
        updates = []
        for _ in range(7):
            before = variable.numpy()
            optimizer.apply_gradients([(tf.constant(1.0), variable)])
            updates.append(before - variable.numpy())
        # Adam's update for a constant gradient is the learning rate itself.
        self.assertAllClose(updates, [1e-3] * 3 + [1e-4] * 2 + [1e-5] * 2, rtol=1e-3)

    def test_drops_that_are_not_increasing_step_numbers_are_refused(self):
        for drops in [(5, 3), (0,), (2.5,), (4, 4)]:
            with self.subTest(drops=drops):
                with self.assertRaisesRegex(ValueError, "increasing positive step numbers"):
                    compression_config.Config(learning_rate_drops=drops)


if __name__ == "__main__":
    tf.test.main()
