"""The style release checks' comparison of a distilled network with its teacher, tiny runs."""

import pathlib
import re
import shutil
import tempfile
import warnings
from unittest import mock

import tensorflow as tf

from tests import tiny_runs
from zoo.style_transfer import data as style_data
from zoo.style_transfer import release_checks
from zoo.training import train_lib


class TeacherCheckTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.root = pathlib.Path(tempfile.mkdtemp())
        cls.teacher_dir = tiny_runs.run_dir("style_transfer", 1)
        cls.student_dir = cls.root / "student"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # A training dir as teacher moves.
            train_lib.train(
                "style_transfer",
                cls.student_dir,
                steps=1,
                config_overrides={"teacher": str(cls.teacher_dir)},
                seed=1,
                runlocal=True,
                verbose=0,
            )
        cls.images = style_data.evaluation_images(size=32)

    def ratio(self, line) -> float:
        return float(re.match(r"([0-9.]+) \(better at \d+ of 50\)", line["value"]).group(1))

    def test_a_teacher_held_to_itself_scores_one_and_passes(self):
        held = release_checks.teacher_of(str(self.teacher_dir), str(self.teacher_dir))
        line = release_checks.teacher_check(str(self.teacher_dir), held, self.images, "cmd")
        self.assertAlmostEqual(self.ratio(line), 1.0, places=3)
        self.assertTrue(line["passed"])
        self.assertIn("50 weight vectors", line["what"])
        self.assertIn("latest checkpoint, step 1", line["what"])  # Which teacher, exactly.

    def test_a_distilled_network_is_held_to_the_teacher_its_config_names(self):
        held = release_checks.teacher_of(str(self.student_dir), None)
        self.assertIn(str(self.teacher_dir), held.description)
        line = release_checks.teacher_check(str(self.student_dir), held, self.images, "cmd")
        ratio = self.ratio(line)
        self.assertNotAlmostEqual(ratio, 1.0, places=3)  # Two networks, not one scored twice.
        # The verdict is the limit's: the other side of the ratio gives the other verdict.
        verdict = line["passed"]
        other_limit = ratio * (0.99 if verdict else 1.01)
        with mock.patch.object(release_checks, "TEACHER_RATIO_LIMIT", other_limit):
            line = release_checks.teacher_check(str(self.student_dir), held, self.images, "")
        self.assertEqual(self.ratio(line), ratio)
        self.assertEqual(line["passed"], not verdict)

    def test_a_network_trained_without_a_teacher_has_no_teacher_check(self):
        self.assertIsNone(release_checks.teacher_of(str(self.teacher_dir), None))

    def test_a_distilled_network_whose_teacher_is_gone_asks_for_one(self):
        moved = pathlib.Path(tempfile.mkdtemp()) / "student"
        shutil.copytree(self.student_dir, moved)
        config = (moved / "config.json").read_text()
        (moved / "config.json").write_text(config.replace(str(self.teacher_dir), "/no/teacher"))
        with self.assertRaisesRegex(ValueError, "'/no/teacher' cannot be loaded.*--teacher=DIR"):
            release_checks.teacher_of(str(moved), None)

    def test_a_teacher_of_other_styles_is_refused_before_anything_is_measured(self):
        other = pathlib.Path(tempfile.mkdtemp()) / "other"
        overrides = {"styles": ("retina", "grass", "gravel", "brick")}
        train_lib.train(
            "style_transfer", other, steps=1, config_overrides=overrides, runlocal=True, verbose=0
        )
        with self.assertRaisesRegex(ValueError, "trained with styles=.*--teacher=DIR"):
            release_checks.style_checks(str(self.student_dir), other, "cmd", teacher=str(other))
        self.assertFalse((other / "grid.png").exists())


if __name__ == "__main__":
    tf.test.main()
