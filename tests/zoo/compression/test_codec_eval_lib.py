"""The codec evaluation's parts: the AVIF baseline, per-subset means and the summary row."""

import numpy as np
import tensorflow as tf

from zoo.compression import codec_eval_lib as lib
from zoo.data import photos


def constant_evaluator(image):
    """A stand-in for a codec: one point whose numbers are the image's constant value."""
    value = float(image[0, 0, 0])
    return [{"lmbda": 0.01, "bpp": value, "psnr": 10 * value, "ms_ssim": 0.5}]


def curve(bpps, psnrs, ssims=None):
    ssims = ssims if ssims is not None else [0.9] * len(bpps)
    return [
        {"lmbda": 0.001 * (i + 1), "bpp": b, "psnr": p, "ms_ssim": s}
        for i, (b, p, s) in enumerate(zip(bpps, psnrs, ssims, strict=True))
    ]


class PillowBaselineTest(tf.test.TestCase):
    def test_avif_gives_a_curve_whose_bits_and_psnr_rise_with_quality(self):
        image = np.array(photos.load_bundled("coffee")[100:164, 200:296])
        rows = lib.pillow_curve(image, "AVIF", (10, 50, 90))
        self.assertEqual([row["quality"] for row in rows], [10, 50, 90])
        bpps = [row["bpp"] for row in rows]
        psnrs = [row["psnr"] for row in rows]
        self.assertEqual(bpps, sorted(bpps))
        self.assertLess(psnrs[0], psnrs[-1])
        self.assertGreater(psnrs[0], 20.0)
        # MS-SSIM needs 161 px; a 64 px image has none rather than a wrong one.
        self.assertTrue(np.isnan(rows[0]["ms_ssim"]))

    def test_every_baseline_is_evaluated_including_avif(self):
        self.assertEqual(set(lib.baseline_evaluators()), {"JPEG", "WebP", "AVIF"})

    def test_a_format_pillow_cannot_write_is_refused_by_name(self):
        with self.assertRaisesRegex(ValueError, "NOSUCH"):
            lib.pillow_curve(np.zeros([8, 8, 3], np.uint8), "NOSUCH", (50,))


class MsSsimTest(tf.test.TestCase):
    def test_it_agrees_with_tensorflows_ms_ssim(self):
        from yoto_tf import metrics

        rng = np.random.default_rng(0)
        # Odd sides: the symmetric padding before each 2x2 averaging matters.
        image = np.array(photos.load_bundled("coffee")[:201, :333])
        for noise in (3.0, 20.0):
            with self.subTest(noise=noise):
                noisy = np.clip(image + rng.normal(0, noise, image.shape), 0, 255)
                decoded = noisy.astype(np.uint8)
                ours = lib.ms_ssim(image, decoded)
                self.assertAllClose(ours, metrics.ms_ssim(image, decoded), atol=1e-4)
        self.assertAllClose(lib.ms_ssim(image, image), 1.0, atol=1e-12)

    def test_images_too_small_for_five_scales_are_refused(self):
        with self.assertRaisesRegex(ValueError, "161x161"):
            lib.ms_ssim(np.zeros([160, 200, 3]), np.zeros([160, 200, 3]))


class EvaluationSetTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.subsets = {
            "small": [np.full([4, 4, 3], 1, np.uint8)],
            "large": [np.full([4, 4, 3], v, np.uint8) for v in (2, 3, 4)],
        }

    def test_each_subset_is_its_own_mean_and_all_weights_every_photo_alike(self):
        result = lib.evaluate_set(self.subsets, {"codec": constant_evaluator})
        self.assertEqual(list(result), ["small", "large", lib.ALL])
        self.assertAllClose(result["small"]["codec"][0]["bpp"], 1.0, atol=1e-12)
        self.assertAllClose(result["large"]["codec"][0]["bpp"], 3.0, atol=1e-12)
        # (1 + 2 + 3 + 4) / 4, not the mean of the subsets' means (2.0).
        self.assertAllClose(result[lib.ALL]["codec"][0]["bpp"], 2.5, atol=1e-12)
        self.assertAllClose(result[lib.ALL]["codec"][0]["psnr"], 25.0, atol=1e-12)

    def test_one_subset_has_no_separate_whole_set_entry(self):
        result = lib.evaluate_set({"folder": self.subsets["large"]}, {"c": constant_evaluator})
        self.assertEqual(list(result), ["folder"])

    def test_an_empty_subset_is_refused_by_name(self):
        with self.assertRaisesRegex(ValueError, "'empty'"):
            lib.evaluate_set({"empty": []}, {"c": constant_evaluator})

    def test_the_decoding_error_of_a_mean_curve_is_the_worst_photos(self):
        rows = lib.mean_curve(
            [
                [{"lmbda": 0.1, "bpp": 1.0, "decode_error": 0.0}],
                [{"lmbda": 0.1, "bpp": 3.0, "decode_error": 2.0}],
            ]
        )
        self.assertEqual(rows, [{"lmbda": 0.1, "bpp": 2.0, "decode_error": 2.0}])


class SummaryRowTest(tf.test.TestCase):
    def test_it_reports_bd_rates_against_each_baseline_the_top_and_rising_curves(self):
        psnrs = [28.0, 30.0, 32.0, 34.0, 36.0]
        bpps = [0.1, 0.2, 0.4, 0.8, 1.6]
        ssims = [0.9, 0.93, 0.95, 0.97, 0.98]
        curves = {
            "JPEG": curve(bpps, psnrs, ssims),
            "WebP": curve([b * 0.5 for b in bpps], psnrs, ssims),
            # Far above the codec: no common quality range, so no BD-rate.
            "AVIF": curve(bpps, [p + 20 for p in psnrs]),
            "codec": curve([b * 0.8 for b in bpps], psnrs, ssims),
        }
        row = lib.summary_row(curves, "codec")
        self.assertAllClose(row["psnr_vs_JPEG"], -20.0, atol=1e-6)
        self.assertAllClose(row["psnr_vs_WebP"], 60.0, atol=1e-6)
        self.assertIsNone(row["psnr_vs_AVIF"])
        self.assertAllClose(row["ms_ssim_vs_JPEG"], -20.0, atol=1e-6)
        self.assertAllClose(row["top_psnr"], 36.0, atol=1e-12)
        self.assertAllClose(row["top_bpp"], 1.28, atol=1e-12)
        self.assertTrue(row["bpp_rises"] and row["psnr_rises"])
        table = lib.format_summary([{"subset": "sporco", "photos": 5, **row}])
        self.assertIn("-20.0%", table)
        self.assertIn("36.00 dB", table)

    def test_a_curve_that_falls_at_the_top_is_reported_as_not_rising(self):
        curves = {"codec": curve([0.1, 0.2, 0.3, 0.4], [30.0, 31.0, 32.0, 31.5])}
        row = lib.summary_row(curves, "codec", anchors=())
        self.assertTrue(row["bpp_rises"])
        self.assertFalse(row["psnr_rises"])
        self.assertAllClose(row["top_psnr"], 32.0, atol=1e-12)


if __name__ == "__main__":
    tf.test.main()
