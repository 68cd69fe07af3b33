"""The style release checks' comparison of a distilled network with its teacher, tiny runs."""

import pathlib
import re
import shutil
import tempfile
import warnings

import tensorflow as tf

from zoo.style_transfer import data as style_data
from zoo.style_transfer import release_checks
from zoo.training import train_lib


class TeacherCheckTest(tf.test.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tf.keras.utils.set_random_seed(0)
        cls.root = pathlib.Path(tempfile.mkdtemp())
        cls.teacher_dir = cls.root / "teacher"
        train_lib.train("style_transfer", cls.teacher_dir, steps=1, runlocal=True, verbose=0)
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
        (line,) = release_checks.teacher_checks(
            str(self.teacher_dir), str(self.teacher_dir), self.images, "cmd"
        )
        self.assertAlmostEqual(self.ratio(line), 1.0, places=3)
        self.assertTrue(line["passed"])
        self.assertIn("50 weight vectors", line["what"])

    def test_a_distilled_network_is_held_to_the_teacher_its_config_names(self):
        (line,) = release_checks.teacher_checks(str(self.student_dir), None, self.images, "cmd")
        self.assertIn(str(self.teacher_dir), line["what"])
        ratio = self.ratio(line)
        self.assertNotAlmostEqual(ratio, 1.0, places=3)  # Two networks, not one scored twice.
        self.assertEqual(line["passed"], ratio <= release_checks.TEACHER_RATIO_LIMIT)

    def test_a_network_trained_without_a_teacher_has_no_teacher_check(self):
        self.assertEqual(
            release_checks.teacher_checks(str(self.teacher_dir), None, self.images, "cmd"), []
        )

    def test_a_distilled_network_whose_teacher_is_gone_asks_for_one(self):
        moved = pathlib.Path(tempfile.mkdtemp()) / "student"
        shutil.copytree(self.student_dir, moved)
        config = (moved / "config.json").read_text()
        (moved / "config.json").write_text(config.replace(str(self.teacher_dir), "/no/teacher"))
        with self.assertRaisesRegex(ValueError, "teacher '/no/teacher'.*pass --teacher=DIR"):
            release_checks.teacher_checks(str(moved), None, self.images, "cmd")


if __name__ == "__main__":
    tf.test.main()
