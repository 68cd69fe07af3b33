import numpy as np
import tensorflow as tf

from yoto_tf import metrics


class MetricsTest(tf.test.TestCase):
    def test_psnr_of_a_known_error(self):
        original = np.zeros([4, 4, 3], np.uint8)
        noisy = original + np.uint8(1)  # MSE 1 -> 10 log10(255^2) dB
        self.assertAllClose(metrics.psnr(original, noisy), 48.1308036, atol=1e-6)
        self.assertEqual(metrics.psnr(original, original), float("inf"))

    def test_ms_ssim_is_one_for_identical_images_and_lower_for_noisy_ones(self):
        rng = np.random.default_rng(0)
        image = rng.integers(0, 256, [192, 192, 3]).astype(np.uint8)
        noisy = np.clip(image + rng.normal(0, 20, image.shape), 0, 255).astype(np.uint8)
        self.assertAllClose(metrics.ms_ssim(image, image), 1.0, atol=1e-6)
        self.assertLess(metrics.ms_ssim(image, noisy), 0.99)
        with self.assertRaisesRegex(ValueError, "161x161"):
            metrics.ms_ssim(image[:64, :64], image[:64, :64])

    def test_bd_rate_of_half_the_bits_at_every_quality_is_minus_fifty_percent(self):
        quality = np.array([30.0, 32.0, 34.0, 36.0, 38.0])
        rate = np.exp(quality / 4.0) / 100
        self.assertAllClose(metrics.bd_rate(rate, quality, rate / 2, quality), -50.0, atol=1e-6)
        self.assertAllClose(metrics.bd_rate(rate, quality, rate, quality), 0.0, atol=1e-9)
        self.assertAllClose(metrics.bd_rate(rate, quality, rate * 1.1, quality), 10.0, atol=1e-6)

    def test_bd_rate_refuses_curves_that_do_not_overlap_or_are_too_short(self):
        quality = np.array([30.0, 32.0, 34.0, 36.0])
        rate = np.array([0.1, 0.2, 0.4, 0.8])
        with self.assertRaisesRegex(ValueError, "do not overlap"):
            metrics.bd_rate(rate, quality, rate, quality + 10)
        with self.assertRaisesRegex(ValueError, "at least 4"):
            metrics.bd_rate(rate[:3], quality[:3], rate, quality)


if __name__ == "__main__":
    tf.test.main()
