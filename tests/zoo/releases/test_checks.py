"""The release checks' binary (`python -m zoo.releases.checks`) on tiny trained models.

Each task's checks are tested beside it: tests/zoo/<task>/test_release_checks.py.
"""

import json
import pathlib
import tempfile
from unittest import mock

import tensorflow as tf

from tests import tiny_runs
from zoo import releases
from zoo.loading import releases as release_lookup
from zoo.releases import checks as release_checks


class ReleaseChecksTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.root = pathlib.Path(tempfile.mkdtemp())
        cls.vae_dir = tiny_runs.run_dir("beta_vae", 4)
        cls.vae_snapshot = tiny_runs.snapshot_dir("beta_vae", 4)
        cls.fixed_dir = tiny_runs.run_dir("beta_vae", 4, fixed_beta=4.0)

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
