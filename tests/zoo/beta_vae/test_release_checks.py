"""The beta-VAE's release checks (zoo/beta_vae/release_checks.py) on tiny trained models."""

import pathlib
import tempfile

import tensorflow as tf

from tests import tiny_runs
from zoo.beta_vae import release_checks


class BetaVAEReleaseChecksTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = pathlib.Path(tempfile.mkdtemp())
        cls.vae_dir = tiny_runs.run_dir("beta_vae", 4)
        cls.vae_snapshot = tiny_runs.snapshot_dir("beta_vae", 4)
        cls.fixed_dir = tiny_runs.run_dir("beta_vae", 4, fixed_beta=4.0)

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

    def test_the_checks_need_fixed_models_and_read_them_from_the_flag(self):
        with self.assertRaisesRegex(ValueError, "need --fixed_models=BETA=DIR"):
            release_checks.run_checks(self.vae_snapshot, self.root / "x", "cmd", {})
        with self.assertRaisesRegex(ValueError, "--fixed_models expects BETA=DIR"):
            release_checks.run_checks(self.vae_snapshot, self.root, "cmd", {"fixed_models": "4"})
        (line,) = release_checks.run_checks(
            self.vae_snapshot, self.root, "cmd", {"fixed_models": f"4={self.fixed_dir}"}
        )
        self.assertIn("total loss at beta 4", line["what"])


if __name__ == "__main__":
    tf.test.main()
