"""The codec's release checks (zoo/compression/release_checks.py) on a tiny trained codec."""

import pathlib
import tempfile
from unittest import mock

import pytest
import tensorflow as tf

from tests import tiny_runs
from zoo.compression import codec_eval_lib, release_checks
from zoo.data import photos
from zoo.training import train_lib


class CodecReleaseChecksTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = pathlib.Path(tempfile.mkdtemp())
        cls.codec_dir = tiny_runs.run_dir("compression", 2)
        cls.codec_snapshot = tiny_runs.snapshot_dir("compression", 2)
        coffee = photos.load_bundled("coffee")
        # One shape for both: each new shape traces the codec's functions again.
        cls.crops = [coffee[:64, :64], coffee[200:264, 300:364]]

    def test_the_codec_checks_measure_files_exact_decoding_and_bd_rates(self):
        output_dir = self.root / "codec_checks"
        subsets = {"first": self.crops[:1], "second": self.crops[1:]}
        results = release_checks.codec_checks(
            self.codec_snapshot, output_dir, "cmd", images=subsets
        )
        by_what = {line["what"]: line for line in results}
        decoding = [line for what, line in by_what.items() if what.startswith("largest decoded")]
        self.assertEqual(decoding[0]["value"], 0.0)
        self.assertTrue(decoding[0]["passed"])
        bd_lines = [what for what in by_what if what.startswith("BD-rate")]
        # PSNR and MS-SSIM against JPEG, WebP and AVIF, over the whole set.
        self.assertLen(bd_lines, 6)
        self.assertTrue(any("against AVIF" in what for what in bd_lines))
        subset_lines = [what for what in by_what if what.startswith("subset ")]
        self.assertLen(subset_lines, 2)
        self.assertTrue(subset_lines[0].startswith("subset first (1 photographs)"))
        (top,) = [line for what, line in by_what.items() if what.startswith("top PSNR")]
        self.assertEqual(top["passed"], top["value"] >= release_checks.CODEC_TOP_PSNR_AIM)
        for what in bd_lines:
            value = by_what[what]["value"]
            if not isinstance(value, float):  # Not computable: the line says why.
                self.assertRegex(value, r"^none: (?!None$).+", what)
        self.assertFalse([what for what in by_what if "float16" in what])  # Not asked for.
        for name in ("rd.png", "rd_first.png", "rd_second.png"):
            self.assertTrue((output_dir / name).is_file(), name)

    # Slow: the codec's curves again, and every reconstruction of the float32 model besides
    # (minutes on a loaded 2-core machine); the checks' other lines stay fast above.
    @pytest.mark.slow
    def test_the_float16_check_measures_the_largest_psnr_change_of_the_stored_weights(self):
        results = release_checks.codec_checks(
            self.codec_snapshot, self.root / "float16", "cmd", self.codec_dir, images=self.crops
        )
        (float16,) = [line for line in results if "float16" in line["what"]]
        self.assertIsInstance(float16["value"], float)
        self.assertEqual(float16["passed"], float16["value"] < 0.01)

    # A second codec training run for one refusal; the codec checks stay fast above.
    @pytest.mark.slow
    def test_the_float16_check_needs_the_run_at_the_snapshots_step(self):
        later = self.root / "codec_later"
        train_lib.train("compression", later, steps=3, runlocal=True, verbose=0)
        with (
            mock.patch.object(codec_eval_lib, "evaluate_codec") as evaluate,
            self.assertRaisesRegex(ValueError, "must hold the checkpoint of step 2"),
        ):
            release_checks.codec_checks(
                self.codec_snapshot, self.root / "x", "cmd", later, images=self.crops[:1]
            )
        evaluate.assert_not_called()  # Refused before the evaluation, not after it.


if __name__ == "__main__":
    tf.test.main()
