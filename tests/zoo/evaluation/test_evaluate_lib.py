"""Loss terms along a weight grid (zoo/evaluation/evaluate_lib.py), on tiny and recorded runs.

yoto-evaluate, the binary, runs after yoto-train in tests/zoo/training/test_train_lib.py.
"""

import pathlib

import tensorflow as tf

import zoo
from zoo.evaluation import evaluate_lib
from zoo.training import train_lib

REPO = pathlib.Path(__file__).resolve().parents[3]


class EvaluateLibTest(tf.test.TestCase):
    def test_the_codec_loss_terms_are_evaluated_on_crops_of_the_held_out_photos(self):
        task = zoo.get_task("compression")
        images = task.loss_term_images()
        self.assertEqual(images.shape[0], 2)
        self.assertEqual([side % 64 for side in images.shape[1:3]], [0, 0])
        # A codec run recorded in tests/golden: its terms on those crops at both grid ends.
        run = REPO / "tests" / "golden" / "compression" / "run"
        terms_fn = evaluate_lib.terms_fn_for(run, task)
        rows = evaluate_lib.evaluate_grid(terms_fn, images, [0.0018, 0.18], task)
        self.assertEqual([row["lmbda"] for row in rows], [0.0018, 0.18])
        for row in rows:
            self.assertAllInRange([row["rate"], row["distortion"]], 0.0, 1e5)
            self.assertAlmostEqual(row["total"], row["rate"] + row["lmbda"] * row["distortion"])

    def test_grid_evaluation_of_a_fixed_model_holds_its_terms_constant(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "fixed"
        model = train_lib.train(
            "beta_vae",
            model_dir,
            steps=2,
            runlocal=True,
            config_overrides={"fixed_beta": 4.0},
            verbose=0,
        )
        task = zoo.get_task("beta_vae")
        images = task.evaluation_images(16)
        rows = evaluate_lib.evaluate_grid(
            evaluate_lib.keras_terms_fn(model, "kl"), images, [0.5, 4.0, 32.0], task
        )
        self.assertEqual([r["beta"] for r in rows], [0.5, 4.0, 32.0])
        self.assertAllClose([r["kl"] for r in rows], [rows[0]["kl"]] * 3)
        for row in rows:
            self.assertAllClose(row["total"], row["reconstruction"] + row["beta"] * row["kl"])

    def test_grid_values_outside_a_trained_range_are_refused(self):
        model_dir = pathlib.Path(self.get_temp_dir()) / "ranged"
        model = train_lib.train("beta_vae", model_dir, steps=1, runlocal=True, verbose=0)
        terms_fn = evaluate_lib.keras_terms_fn(model, "kl")
        images = zoo.get_task("beta_vae").evaluation_images(4)
        with self.assertRaisesRegex(ValueError, r"outside the trained range \[0.125, 512\]"):
            terms_fn(images, 1000.0)


if __name__ == "__main__":
    tf.test.main()
