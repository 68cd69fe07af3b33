"""`make demo`'s parts: same-size baselines, the crop comparison, and the whole demo (slow)."""

import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from demos import compression as demo
from zoo import releases
from zoo.data import photos

REPO = pathlib.Path(__file__).resolve().parents[2]


class DemoPartsTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.image = np.asarray(photos.load_bundled("coffee")[:128, :160])

    def test_the_baseline_file_is_the_largest_within_the_budget(self):
        sizes = {q: len(demo.pillow_file(self.image, "JPEG", q)) for q in range(1, 101)}
        budget = sizes[50] + 1
        quality, data = demo.largest_file_within(self.image, "JPEG", range(1, 101), budget)
        self.assertLessEqual(len(data), budget)
        self.assertEqual(len(data), sizes[quality])
        self.assertLess(budget, sizes[quality + 1])

    def test_the_smallest_file_stands_in_when_none_fits(self):
        quality, data = demo.largest_file_within(self.image, "WEBP", range(0, 101), 10)
        self.assertEqual(quality, 0)
        self.assertGreater(len(data), 10)

    def test_the_largest_avif_file_within_the_budget_is_found_like_jpegs(self):
        self.assertIn("AVIF", [label for label, _, _ in demo.BASELINES])
        sizes = {q: len(demo.pillow_file(self.image, "AVIF", q)) for q in (40, 50, 60)}
        quality, data = demo.largest_file_within(self.image, "AVIF", (40, 50, 60), sizes[50])
        self.assertEqual((quality, len(data)), (50, sizes[50]))

    def test_a_baseline_is_read_at_the_same_bpp_inside_its_range_only(self):
        curve = [{"bpp": 0.2, "psnr": 25.0}, {"bpp": 0.6, "psnr": 29.0}]
        self.assertAlmostEqual(demo.at_same_bpp(curve, 0.4, "psnr"), 27.0)
        self.assertIsNone(demo.at_same_bpp(curve, 0.7, "psnr"))
        self.assertIsNone(demo.at_same_bpp(curve, 0.1, "psnr"))

    def test_the_crop_comparison_shows_every_panel_at_full_size(self):
        path = pathlib.Path(self.get_temp_dir()) / "crops.png"
        panels = [("original", self.image), ("dark\n0 dB", np.zeros_like(self.image))]
        demo.crop_comparison(self.image, panels, path)
        with Image.open(path) as written:
            side = min(demo.CROP, *self.image.shape[:2])
            self.assertEqual(written.size[0], 2 * side + 8)
            pixels = np.asarray(written.convert("RGB"))
        top = written.size[1] - side
        left = (self.image.shape[1] - side) // 2  # The centre crop.
        self.assertAllEqual(pixels[top:, :side], self.image[:, left : left + side])
        self.assertAllEqual(pixels[top:, side + 8 :], np.zeros([side, side, 3], np.uint8))


@pytest.mark.slow
class WholeDemoTest(tf.test.TestCase):
    def test_the_demo_runs_the_releases_and_says_where_every_output_is(self):
        if not {"codec", "style-transfer"} <= set(releases.names()):
            self.fail(f"the demo needs the codec and style releases; found {releases.names()}")
        output = pathlib.Path(tempfile.mkdtemp()) / "demo"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "demos.compression",
                f"--output_dir={output}",
                "--train_seconds=5",
                "--subsets=busy",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        for name in ("rd.png", "crops.png", "style_grid.png"):
            self.assertTrue((output / name).is_file(), name)
        self.assertLen(list((output / "files").glob("*.yoto")), 12)
        self.assertIn("BD-rate (PSNR)", result.stdout)
        self.assertIn("AVIF", result.stdout)
        self.assertIn(str(output / "crops.png"), result.stdout)


if __name__ == "__main__":
    tf.test.main()
