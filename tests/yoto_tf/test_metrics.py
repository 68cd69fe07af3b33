import functools

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
        for method in metrics.BD_RATE_METHODS:
            with self.subTest(method=method):
                bd_rate = functools.partial(metrics.bd_rate, method=method)
                self.assertAllClose(bd_rate(rate, quality, rate / 2, quality), -50.0, atol=1e-6)
                self.assertAllClose(bd_rate(rate, quality, rate, quality), 0.0, atol=1e-9)
                self.assertAllClose(bd_rate(rate, quality, rate * 1.1, quality), 10.0, atol=1e-6)

    def test_bd_rate_of_a_flattening_curve_that_is_worse_everywhere_is_positive(self):
        # Measured 2026-11-26 (experiments/README.md): a YOTO codec at 2500 steps against
        # four fixed-lambda codecs. At every PSNR both reach, the YOTO curve needs more
        # bits, but both flatten at the top, where one cubic per curve swings wildly.
        fixed_rate, fixed_psnr = (
            [0.1883, 0.55649, 0.89683, 1.0056],
            [23.222, 24.435, 24.614, 24.623],
        )
        yoto_rate, yoto_psnr = (
            [0.44018, 0.64413, 0.76522, 0.87279],
            [23.189, 24.332, 24.505, 24.545],
        )
        pchip = metrics.bd_rate(fixed_rate, fixed_psnr, yoto_rate, yoto_psnr)
        cubic = metrics.bd_rate(fixed_rate, fixed_psnr, yoto_rate, yoto_psnr, method="cubic")
        self.assertBetween(pchip, 50.0, 120.0)
        self.assertLess(cubic, -90.0)  # VCEG-M33's fit gets even the sign wrong here.

    def test_points_that_buy_no_quality_for_their_bits_are_left_out_of_the_curve(self):
        rates, qualities = metrics.rate_distortion_front(
            [0.2, 0.4, 0.5, 0.3, 0.6], [25.0, 26.0, 25.9, 25.5, 26.0]
        )
        self.assertAllEqual(rates, [0.2, 0.3, 0.4])
        self.assertAllEqual(qualities, [25.0, 25.5, 26.0])

    def test_a_curve_whose_extra_bits_buy_no_quality_is_refused(self):
        rate, quality = [0.1, 0.2, 0.4, 0.8], [30.0, 32.0, 34.0, 36.0]
        with self.assertRaisesRegex(ValueError, "test curve has no two points"):
            metrics.bd_rate(rate, quality, rate, [30.0, 30.0, 29.0, 28.0])

    def test_an_unknown_bd_rate_method_is_refused(self):
        with self.assertRaisesRegex(ValueError, "pchip"):
            metrics.bd_rate([1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], method="akima")

    def test_bd_rate_refuses_curves_that_do_not_overlap_or_are_too_short(self):
        quality = np.array([30.0, 32.0, 34.0, 36.0])
        rate = np.array([0.1, 0.2, 0.4, 0.8])
        with self.assertRaisesRegex(ValueError, "do not overlap"):
            metrics.bd_rate(rate, quality, rate, quality + 10)
        with self.assertRaisesRegex(ValueError, "at least 4"):
            metrics.bd_rate(rate[:3], quality[:3], rate, quality)


if __name__ == "__main__":
    tf.test.main()
