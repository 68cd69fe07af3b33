"""The codec's evaluation binary (`python -m zoo.compression.codec_eval`) on a tiny codec."""

import csv
import pathlib
import subprocess
import sys
import tempfile

import tensorflow as tf
from PIL import Image

from tests import tiny_runs
from zoo.data import photos


def run_codec_eval(*args):
    return subprocess.run(
        [sys.executable, "-m", "zoo.compression.codec_eval", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


class CodecEvalTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = pathlib.Path(tempfile.mkdtemp())
        cls.model_dir = tiny_runs.run_dir("compression", 2)
        cls.images = cls.root / "images"
        cls.images.mkdir()
        coffee = photos.load_bundled("coffee")
        for index, (top, left) in enumerate([(0, 0), (200, 300)]):
            crop = coffee[top : top + 64, left : left + 96]
            Image.fromarray(crop).save(cls.images / f"crop{index}.png")

    def test_it_writes_every_curve_to_csv_and_plot_and_reports_the_checks(self):
        output_dir = self.root / "eval"
        result = run_codec_eval(
            f"--models={self.model_dir}",
            "--labels=tiny",
            "--grid=0.0018,0.18",
            f"--image_folder={self.images}",
            f"--output_dir={output_dir}",
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn("tiny: bpp rises with lambda:", result.stdout)
        self.assertNotIn("nan%", result.stdout)
        with open(output_dir / "rd.csv", newline="") as file:
            rows = list(csv.DictReader(file))
        self.assertEqual({row["model"] for row in rows}, {"JPEG", "WebP", "AVIF", "tiny"})
        self.assertEqual({row["subset"] for row in rows}, {"folder"})
        tiny = [row for row in rows if row["model"] == "tiny"]
        self.assertEqual([float(row["lmbda"]) for row in tiny], [0.0018, 0.18])
        self.assertTrue(all(float(row["bpp"]) > 0 for row in tiny))
        self.assertGreater((output_dir / "rd.png").stat().st_size, 1000)
        with open(output_dir / "bd_rates.csv", newline="") as file:
            (summary,) = list(csv.DictReader(file))
        self.assertEqual(
            (summary["subset"], summary["photos"], summary["model"]), ("folder", "2", "tiny")
        )
        self.assertIn("psnr_vs_AVIF", summary)

    def test_bad_arguments_exit_2_with_the_reason_and_write_nothing(self):
        output_dir = self.root / "not_written"
        cases = {
            "--models is required": [],
            # The two small crops: the Pillow sweeps before the refusal stay short.
            "outside": [
                f"--models={self.model_dir}",
                "--grid=0.5",
                f"--image_folder={self.images}",
            ],
        }
        for message, args in cases.items():
            with self.subTest(message):
                result = run_codec_eval(*args, f"--output_dir={output_dir}")
                self.assertEqual(result.returncode, 2, result.stderr[-3000:])
                self.assertIn(message, result.stderr)
                self.assertFalse(output_dir.exists())


if __name__ == "__main__":
    tf.test.main()
