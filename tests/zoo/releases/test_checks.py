"""The release checks (`python -m zoo.releases.checks`) on tiny trained models."""

import json
import pathlib
import tempfile
from unittest import mock

import pytest
import tensorflow as tf

from zoo import releases
from zoo.compression import codec_eval_lib
from zoo.data import photos
from zoo.loading import releases as release_lookup
from zoo.releases import checks as release_checks
from zoo.training import train_lib


class ReleaseChecksTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = pathlib.Path(tempfile.mkdtemp())
        cls.codec_dir = cls.root / "codec"
        train_lib.train("compression", cls.codec_dir, steps=2, runlocal=True, verbose=0)
        cls.codec_snapshot = cls.root / "codec_snapshot"
        train_lib.write_snapshot(cls.codec_dir, cls.codec_snapshot)
        cls.vae_dir = cls.root / "vae"
        train_lib.train("beta_vae", cls.vae_dir, steps=4, runlocal=True, verbose=0)
        cls.vae_snapshot = cls.root / "vae_snapshot"
        train_lib.write_snapshot(cls.vae_dir, cls.vae_snapshot)
        cls.fixed_dir = cls.root / "fixed_4"
        overrides = {"fixed_beta": 4.0}
        train_lib.train(
            "beta_vae", cls.fixed_dir, steps=4, runlocal=True, verbose=0, config_overrides=overrides
        )
        coffee = photos.load_bundled("coffee")
        cls.crops = [coffee[:64, :128], coffee[200:264, 300:396]]

    def test_the_codec_checks_measure_files_exact_decoding_bd_rates_and_float16(self):
        output_dir = self.root / "codec_checks"
        subsets = {"first": self.crops[:1], "second": self.crops[1:]}
        results = release_checks.codec_checks(
            self.codec_snapshot, output_dir, "cmd", self.codec_dir, images=subsets
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
        (float16,) = [line for what, line in by_what.items() if "float16" in what]
        self.assertIsInstance(float16["value"], float)
        self.assertEqual(float16["passed"], float16["value"] < 0.01)
        for name in ("rd.png", "rd_first.png", "rd_second.png"):
            self.assertTrue((output_dir / name).is_file(), name)

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

    def test_the_vae_check_compares_totals_with_each_fixed_model_at_its_beta(self):
        (line,) = release_checks.beta_vae_checks(self.vae_snapshot, {4.0: self.fixed_dir}, "cmd")
        self.assertIn("total loss at beta 4", line["what"])
        ours, theirs_and_ratio = line["value"].split(" / ")
        theirs, ratio = theirs_and_ratio.split(" = ")
        self.assertAllClose(float(ours) / float(theirs), float(ratio), atol=1e-3)
        self.assertEqual(line["passed"], abs(float(ratio) - 1) <= 0.03)

    def test_a_fixed_model_trained_at_another_beta_is_refused_by_name(self):
        with self.assertRaisesRegex(
            ValueError, "beta 0.5 with .*fixed_4, which was trained at beta 4"
        ):
            release_checks.beta_vae_checks(self.vae_snapshot, {0.5: self.fixed_dir}, "cmd")
        with self.assertRaisesRegex(ValueError, "trained with beta sampled"):
            release_checks.beta_vae_checks(self.vae_snapshot, {4.0: self.vae_dir}, "cmd")

    def test_publishing_refuses_weights_other_than_those_the_checks_measured(self):
        releases_dir = self.root / "remeasured"
        releases_dir.mkdir(exist_ok=True)
        card = {"data": "d", "results": []}
        with mock.patch.object(release_lookup, "RELEASES_DIR", releases_dir):
            with self.assertRaisesRegex(ValueError, "not the 000000000000 the checks measured"):
                releases.publish(self.vae_snapshot, "v", card, measured_sha256="0" * 64)
            self.assertEqual(list(releases_dir.iterdir()), [])

    def test_publishing_writes_every_result_and_the_verdict_on_the_card(self):
        releases_dir = self.root / "releases"
        releases_dir.mkdir(exist_ok=True)
        with mock.patch.object(release_lookup, "RELEASES_DIR", releases_dir):
            code = release_checks.run(
                [
                    f"--model={self.vae_snapshot}",
                    f"--output_dir={self.root / 'vae_checks'}",
                    f"--fixed_models=4={self.fixed_dir}",
                    "--publish=tiny-vae",
                    "--notes=looked at nothing",
                ]
            )
            card = releases.card("tiny-vae")
        self.assertIn(code, (0, 1))
        self.assertEqual(card["checks_passed"], code == 0)
        self.assertLen(card["results"], 1)
        self.assertIn("--publish=tiny-vae", card["results"][0]["command"])
        self.assertEqual(card["notes"], "looked at nothing")
        self.assertEqual(card["version"], 1)
        markdown = (releases_dir / "tiny-vae" / "MODEL_CARD.md").read_text()
        self.assertIn("Verdict", markdown)
        self.assertIn("looked at nothing", markdown)

    def test_bad_arguments_exit_with_status_2_and_publish_nothing(self):
        releases_dir = self.root / "empty_releases"
        releases_dir.mkdir(exist_ok=True)
        output_dir = f"--output_dir={self.root / 'bad'}"
        with mock.patch.object(release_lookup, "RELEASES_DIR", releases_dir):
            for argv in (
                [f"--model={self.vae_snapshot}", output_dir],
                [f"--model={self.vae_snapshot}", output_dir, "--fixed_models=four"],
                [f"--model={self.vae_dir}", output_dir, "--fixed_models=4=x", "--publish=v"],
                [f"--model={self.root / 'missing'}", output_dir],
            ):
                with self.subTest(argv=argv):
                    self.assertEqual(release_checks.run(argv), 2)
            self.assertEqual(list(releases_dir.iterdir()), [])

    def test_the_card_records_the_version_of_each_replacement(self):
        releases_dir = self.root / "versioned"
        releases_dir.mkdir(exist_ok=True)
        card = {"data": "d", "results": []}
        with mock.patch.object(release_lookup, "RELEASES_DIR", releases_dir):
            releases.publish(self.vae_snapshot, "v", card)
            releases.publish(self.vae_snapshot, "v", card)
            stored = json.loads((releases_dir / "v" / releases.CARD_FILE).read_text())
        self.assertEqual(stored["version"], 2)


if __name__ == "__main__":
    tf.test.main()
